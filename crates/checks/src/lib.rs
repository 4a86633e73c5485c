//! The checks engine shared by the post-deploy test runner and the synthetic canary.
//!
//! A [`Suite`] is one documented JSON shape (see [`suite`]), parsed with errors that name the JSON path and the
//! fix ([`SuiteError`]). [`Suite::run`] sends its HTTP checks with bounded concurrency, a timeout per attempt,
//! retries for flaky checks and a hard deadline, and returns a typed [`SuiteReport`] whose renderers feed
//! CodePipeline's job results and the metrics. Validation, evaluation ([`expect::evaluate`]), percentiles and
//! rendering are pure functions.
//!
//! Where checks may go is an [`AddressPolicy`] (`hooks_common::address`): loopback, link-local and instance
//! metadata addresses are refused unless allow-listed, by name (after DNS) and by IP address alike. Bodies are
//! read within one byte budget shared by all checks ([`BODY_BUDGET_BYTES`]), and JSON expectations never build
//! the whole document, so 64 checks reading 1 MiB each fit a 128 MB function.

mod body;
mod client;
pub mod expect;
pub mod metrics;
mod pointer;
pub mod report;
mod run;
pub mod suite;
mod validate;

pub use body::{BODY_BUDGET_BYTES, MAX_BODY_BYTES};
pub use client::{ClientError, http_client, http_client_with};
pub use expect::{Mismatch, Observed};
pub use hooks_common::address::{AddressPolicy, Cidr};
pub use report::{CheckResult, Failure, LatencyStats, Outcome, SuiteReport, Verdict};
pub use suite::{ArtifactFile, Body, Check, Expect, JsonEquals, PassCriterion, StatusSet, Suite, SuiteSource};
pub use validate::{FieldError, SuiteError};
