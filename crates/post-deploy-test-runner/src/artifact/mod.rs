//! The suite from the action's input artifact (`{"suite_from_artifact": "checks/smoke.json"}`): find the artifact
//! ([`locate`], pure), download it with the job's artifact credentials ([`store`], the S3 edge), read the file out
//! of the zip ([`archive`]) and parse it as a suite. Every failure becomes the job's result: a wrong setup is a
//! `ConfigurationError` naming the file or field and the fix; S3 not answering is `JobFailed`, never a pass.
//!
//! The artifact is immutable for the job, and a soak's continuation reads it again (its progress is in the token).

mod archive;
mod credentials;
mod locate;
mod store;

use std::fmt::Write as _;
use std::time::Instant;

use checks::{ArtifactFile, Suite, SuiteError};

pub use archive::{FileProblem, MAX_SUITE_FILE_BYTES, read_text};
pub use credentials::ArtifactCredentials;
pub use locate::{InputArtifact, Located, S3Location, locate};
pub use store::{ArtifactStore, FetchError, MAX_ARTIFACT_BYTES, endpoint_overridden};

use crate::decide::JobResult;

/// Why the suite could not be read from the artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArtifactSuiteError {
    /// The setup is wrong: the parameters, the artifact, the file, or access to them.
    Configuration(String),
    /// The artifact could not be read now: the job fails with the reason, so a retry of the stage may pass.
    Unavailable(String),
}

impl ArtifactSuiteError {
    pub fn into_job_result(self) -> JobResult {
        match self {
            ArtifactSuiteError::Configuration(message) => JobResult::configuration_error(message),
            ArtifactSuiteError::Unavailable(message) => JobResult::job_failed(message, None),
        }
    }
}

/// "<path> in input artifact <name>: <problem>. Fix: <fix>", or each problem of an invalid suite in turn.
fn in_file(file: &ArtifactFile, artifact: &str, problems: &[(String, String)]) -> String {
    let mut message = format!("{} in input artifact {artifact}:", file.path);
    for (problem, fix) in problems {
        let _ = write!(message, " {problem}. Fix: {fix}");
        if !fix.ends_with('.') {
            message.push('.');
        }
    }
    message
}

fn suite_problems(error: &SuiteError) -> Vec<(String, String)> {
    error
        .errors
        .iter()
        .map(|e| (format!("`{}` {}", e.field, e.problem), e.fix.clone()))
        .collect()
}

/// Reads and parses the suite `file` from the job's input `artifacts`, by `deadline`.
pub async fn suite(
    store: &ArtifactStore,
    artifacts: &[InputArtifact],
    credentials: Option<&ArtifactCredentials>,
    file: &ArtifactFile,
    deadline: Instant,
) -> Result<Suite, ArtifactSuiteError> {
    let located =
        locate(artifacts, file).map_err(|e| ArtifactSuiteError::Configuration(format!("UserParameters: {e}")))?;
    let name = located.name;
    let credentials = credentials.ok_or_else(|| {
        // CodePipeline gives every job credentials: an event without them was not made by CodePipeline.
        ArtifactSuiteError::Unavailable(format!(
            "the job event carries no artifact credentials to read input artifact {name} with"
        ))
    })?;
    let scratch = store
        .download(located.location, credentials, deadline)
        .await
        .map_err(|e| match e {
            FetchError::Misconfigured { problem, fix } => ArtifactSuiteError::Configuration(format!(
                "input artifact {name} ({}): {problem}. Fix: {fix}",
                located.location
            )),
            FetchError::Unavailable(reason) => ArtifactSuiteError::Unavailable(format!(
                "The suite could not be read from input artifact {name} ({}): {reason}",
                located.location
            )),
        })?;
    // Reading a zip is blocking file I/O: off the runtime's threads.
    let path = file.path.clone();
    let text = tokio::task::spawn_blocking(move || {
        let archive = std::fs::File::open(scratch.path()).map_err(|e| FileProblem {
            problem: format!("the downloaded artifact cannot be opened ({e})"),
            fix: "run the release again".into(),
        })?;
        read_text(std::io::BufReader::new(archive), &path)
    })
    .await
    .map_err(|e| ArtifactSuiteError::Unavailable(format!("reading input artifact {name} stopped: {e}")))?
    .map_err(|p| ArtifactSuiteError::Configuration(in_file(file, name, &[(p.problem, p.fix)])))?;
    Suite::parse(&text).map_err(|e| ArtifactSuiteError::Configuration(in_file(file, name, &suite_problems(&e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_problems_name_the_file_the_field_and_the_fix() {
        let file = ArtifactFile {
            artifact: None,
            path: "checks/smoke.json".into(),
        };
        let error = Suite::parse(r#"{"checks": [{"name": "health", "url": "/health"}]}"#).unwrap_err();
        let message = in_file(&file, "BuildOutput", &suite_problems(&error));
        assert!(
            message.starts_with("checks/smoke.json in input artifact BuildOutput: `checks[0].url` is a path"),
            "{message}"
        );
        assert!(message.contains(". Fix: set the suite's `base_url`"), "{message}");
        assert!(message.ends_with('.'), "{message}");

        let config = ArtifactSuiteError::Configuration(message).into_job_result();
        assert!(matches!(
            config,
            JobResult::Failure {
                kind: crate::decide::FailureKind::ConfigurationError,
                ..
            }
        ));
        let failed = ArtifactSuiteError::Unavailable("S3 could not be read".into()).into_job_result();
        assert!(matches!(
            failed,
            JobResult::Failure {
                kind: crate::decide::FailureKind::JobFailed,
                ..
            }
        ));
    }
}
