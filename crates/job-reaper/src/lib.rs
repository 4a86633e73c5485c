//! The job reaper: reads the post-deploy test runner's on-failure queue, where Lambda parks an invocation that
//! failed for good (the runner ran out of memory or time, or CodePipeline would not take its report), and fails the
//! job it was for with `PutJobFailureResult`, saying why, so the pipeline does not hang until the action times out.
//!
//! `record` reads a parked record (pure); `reaper` asks CodePipeline whether the job is the runner's (the
//! runner's own rule, `post_deploy_test_runner::owner`) and reports it. A record holds the job's artifact
//! credentials: neither it nor the event is ever logged (`hooks_common::telemetry` keeps raw events out).

pub mod reaper;
pub mod record;

pub use reaper::{Done, Reaper, Settings};
