//! The post-deploy test runner: a CodePipeline Lambda Invoke action that runs a check suite (the `checks` crate)
//! against the segment just deployed and answers the job, exactly once, before its deadline.
//!
//! A job event is only a hint: `owner` decides from `GetJobDetails` whether the job is this function's (the job
//! reaper asks it too). `params` reads the action's `UserParameters` (a suite, or where it is in the input artifact,
//! optionally with soak settings), `soak` paces soak runs, `token` carries their progress between invocations and
//! `seal` signs it, `decide` turns results into the job's result (all pure); `artifact` reads a suite from the
//! job's input artifact (S3, with the job's credentials), `job` talks to CodePipeline, `metrics` to CloudWatch,
//! `work` does a job's work in a task of its own (so a panic still reports), and `handler` carries an invocation
//! out. `hooks_common::telemetry` keeps raw job events (they carry artifact credentials) out of the logs at every
//! level.

pub mod artifact;
pub mod decide;
mod error;
pub mod handler;
pub mod job;
pub mod metrics;
pub mod owner;
pub mod params;
pub mod seal;
pub mod soak;
pub mod token;
mod work;

pub use error::RunnerError;
pub use handler::{Outcome, Runner, Settings};
