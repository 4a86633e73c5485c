//! The checks engine shared by the post-deploy test runner and the synthetic canary.
//!
//! A [`Suite`] is one documented JSON shape (see [`suite`]), parsed with errors that name the JSON path and the
//! fix ([`SuiteError`]). [`Suite::run`] sends its HTTP checks with bounded concurrency, a timeout per attempt,
//! retries for flaky checks and a hard deadline, and returns a typed [`SuiteReport`] whose renderers feed
//! CodePipeline's job results and the metrics. Validation, evaluation ([`expect::evaluate`]), percentiles and
//! rendering are pure functions.

pub mod expect;
pub mod metrics;
pub mod report;
mod run;
pub mod suite;
mod validate;

pub use expect::{Mismatch, Observed};
pub use report::{CheckResult, Failure, LatencyStats, Outcome, SuiteReport, Verdict};
pub use run::{MAX_BODY_BYTES, http_client};
pub use suite::{ArtifactFile, Body, Check, Expect, JsonEquals, PassCriterion, StatusSet, Suite, SuiteSource};
pub use validate::{FieldError, SuiteError};
