//! CloudWatch metrics of each run (each soak round): built as data by a pure function, published at the edge.
//!
//! Namespace `CodePipelineHooks/PostDeployTests` (setting `METRICS_NAMESPACE`), timestamped at the run's start:
//!
//! | metric | dimensions | unit | value |
//! |---|---|---|---|
//! | `Success` | Pipeline, Stage | None | 1 when the run passed, else 0 |
//! | `Passed` | Pipeline, Stage | Count | checks passed |
//! | `Failed` | Pipeline, Stage | Count | checks not passed (failed or cut by the deadline) |
//! | `Latency` | Pipeline, Stage | Milliseconds | the run's p95 latency (absent when nothing answered) |
//! | `Success` | Pipeline, Stage, Check | None | 1 when the check passed, else 0 |
//! | `Latency` | Pipeline, Stage, Check | Milliseconds | the check's last attempt (absent when no answer came) |

pub use checks::metrics::{datums, publish};

pub const DEFAULT_NAMESPACE: &str = "CodePipelineHooks/PostDeployTests";
