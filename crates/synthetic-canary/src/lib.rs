//! The synthetic canary: on a schedule, runs a check suite (the `checks` crate) against production and publishes
//! what it found as CloudWatch metrics, which an alarm watches. A failing target is data (`Success` 0), never a
//! function error; a failure to publish the metrics is one, since the alarm would otherwise go blind.
//!
//! `settings` reads the suite and names from the environment, `metrics` turns a run into datums (pure),
//! `handler` runs and publishes.

mod error;
pub mod handler;
pub mod metrics;
pub mod settings;

pub use error::CanaryError;
pub use handler::{Canary, Outcome};
pub use settings::CanarySettings;
