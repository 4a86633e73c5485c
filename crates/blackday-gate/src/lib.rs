//! The BlackDay gate: a Manual approval action waits while the calendar says releases must not go. Outside every
//! BlackDay the gate approves (naming the next one); inside one it holds (the sweep approves when it ends) or,
//! if the pipeline asks, rejects; a calendar that cannot be read holds (never approves). People are told once,
//! in Slack, when a release is held.
//!
//! `settings` reads the deployment's calendars and the pipeline's CustomData, `calendars` and `feed` gather the
//! calendar (an inline document or an iCalendar feed with a last good copy), `decide` is the rule, `notice` the
//! Slack message, `handler` the edge that wires them to the shared approval machinery, and `cli` the `blackday`
//! command line that checks a calendar with the same code.

pub mod calendars;
pub mod cli;
pub mod decide;
pub mod display;
pub mod feed;
pub mod handler;
pub mod notice;
pub mod settings;

pub use handler::BlackDayGate;
