//! The transition disabler: closes the inbound transition of a guarded stage (production) while one of its
//! guarding CloudWatch alarms fires, and reopens it once they all stayed OK for the cooldown — only a transition it
//! closed itself, never one a person closed, and never against a person who opened it during the alarm.
//!
//! `settings` reads the guards, `facts` reads alarms and the transition back from CloudWatch and CodePipeline,
//! `decide` is the pure decision, `reason` writes what CodePipeline accepts, `notice` and `metrics` tell people
//! and dashboards, `handler` carries it out; only `facts` and `handler` do I/O.

pub mod decide;
pub mod facts;
pub mod handler;
pub mod metrics;
pub mod notice;
pub mod reason;
pub mod settings;

pub use handler::{Report, TransitionDisabler};
