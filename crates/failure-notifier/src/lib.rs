//! The failure notifier: one Slack message per failed CodePipeline action, with the details that make it
//! useful (error, revision, links), routed to the team's channel.
//!
//! `triage` decides whether an event deserves a message, `enrich` gathers details from CodePipeline,
//! `message` renders them, `handler` carries it out; only `handler` does I/O.

pub mod enrich;
pub mod events;
pub mod handler;
pub mod message;
pub mod plain;
pub mod routing;
pub mod triage;

pub use handler::{Notifier, Outcome};
