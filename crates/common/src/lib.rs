//! What every hook shares: settings, SDK configuration, logging, pipeline events, the gate model,
//! secrets and the Slack client. Functions wire these together in their `main.rs`; decisions stay in
//! each function's library, as pure functions over the types defined here.

pub mod address;
pub mod approval;
pub mod aws;
pub mod console;
mod error;
pub mod gate;
pub mod notice;
pub mod runtime;
pub mod secrets;
pub mod settings;
pub mod slack;
pub mod telemetry;
pub mod text;
pub mod tls;

pub use error::Error;
