//! The suite from the action's input artifact (`{"suite_from_artifact": "checks/smoke.json"}`): find the artifact
//! ([`locate`], pure), download it with the job's artifact credentials ([`store`], the S3 edge), read the file out
//! of the zip ([`archive`]) and parse it as a suite. Every failure becomes the job's result: a wrong setup is a
//! `ConfigurationError` naming the file or field and the fix; S3 not answering is `JobFailed`, never a pass.
//!
//! The artifact is immutable for the job, and a soak's continuation reads it again (its progress is in the token).

mod archive;
mod credentials;
mod locate;
mod s3;
mod store;

use std::fmt::Write as _;
use std::time::Instant;

use checks::{ArtifactFile, Suite, SuiteError};

pub use archive::{FileProblem, MAX_ARCHIVE_ENTRIES, MAX_SUITE_FILE_BYTES, read_text};
pub use credentials::ArtifactCredentials;
pub use locate::{InputArtifact, Located, S3Location, locate};
pub use s3::S3Endpoint;
pub use store::{ArtifactStore, FetchError, MAX_ARTIFACT_BYTES};

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
        // CodePipeline gives every job with input artifacts credentials to read them.
        ArtifactSuiteError::Unavailable(format!(
            "GetJobDetails gave no artifact credentials to read input artifact {name} with"
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
    // Reading a zip is blocking file I/O: off the runtime's threads, and waited for only until the deadline.
    let path = file.path.clone();
    let text = by_deadline(deadline, move || {
        let archive = std::fs::File::open(scratch.path()).map_err(|e| FileProblem {
            problem: format!("the downloaded artifact cannot be opened ({e})"),
            fix: "run the release again".into(),
        })?;
        read_text(std::io::BufReader::new(archive), &path)
    })
    .await
    .map_err(|stopped| stopped.reading(name))?
    .map_err(|p| ArtifactSuiteError::Configuration(in_file(file, name, &[(p.problem, p.fix)])))?;
    Suite::parse(&text).map_err(|e| ArtifactSuiteError::Configuration(in_file(file, name, &suite_problems(&e))))
}

/// Why blocking work gave no answer.
#[derive(Debug)]
enum Stopped {
    /// The deadline came first (the work goes on in the background; its answer is dropped).
    Late,
    /// The work panicked or was cancelled.
    Failed(tokio::task::JoinError),
}

impl Stopped {
    /// The job's result when reading input artifact `name` stopped so: it fails (a retry may pass), never passes.
    fn reading(self, name: &str) -> ArtifactSuiteError {
        ArtifactSuiteError::Unavailable(match self {
            Stopped::Late => format!(
                "input artifact {name} could not be read before the function's deadline (is it a zip with a huge \
                 number of entries?)"
            ),
            Stopped::Failed(e) => format!("reading input artifact {name} stopped: {e}"),
        })
    }
}

/// Runs blocking `work` off the runtime's threads, waiting for it until `deadline` at most.
async fn by_deadline<T: Send + 'static>(
    deadline: Instant,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stopped> {
    let task = tokio::task::spawn_blocking(work);
    match tokio::time::timeout_at(deadline.into(), task).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(Stopped::Failed(e)),
        Err(_) => Err(Stopped::Late),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn blocking_reads_are_waited_for_until_the_deadline_only() {
        let soon = Instant::now() + Duration::from_secs(5);
        assert_eq!(by_deadline(soon, || 7).await.unwrap(), 7);

        let started = Instant::now();
        let deadline = started + Duration::from_millis(50);
        // (The test's runtime waits for the sleeper when it ends; a function's runtime never ends.)
        let late = by_deadline(deadline, || std::thread::sleep(Duration::from_millis(1500))).await;
        assert!(matches!(late, Err(Stopped::Late)), "{late:?}");
        assert!(
            started.elapsed() < Duration::from_millis(1000),
            "{:?}",
            started.elapsed()
        );

        let result = Stopped::Late.reading("BuildOutput").into_job_result();
        let JobResult::Failure {
            kind: crate::decide::FailureKind::JobFailed,
            message,
            ..
        } = result
        else {
            panic!("{result:?}")
        };
        assert!(
            message.starts_with("input artifact BuildOutput could not be read before the function's deadline"),
            "{message}"
        );
    }

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
