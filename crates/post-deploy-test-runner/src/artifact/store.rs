//! The edge with S3: each job's artifact is read with that job's own artifact credentials (CodePipeline's, not
//! the function's role, which needs no S3 permission), streamed to a scratch file so a large artifact never has
//! to fit in memory, within the work deadline. S3's answers are sorted into "the setup is wrong" and "S3 could not
//! be read now"; the second is tried again, as the SDK would (three attempts, each answer within 5 s).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use hooks_common::settings::Env;
use tokio::io::AsyncWriteExt;

use super::credentials::ArtifactCredentials;
use super::locate::S3Location;
use super::s3::{S3Endpoint, error_code_and_message};

/// Attempts at a `GetObject` S3 could not answer now (5xx, throttling, the network), and the time each may wait
/// for S3's answer to begin: the SDK's standard retries and this project's attempt timeout.
const ATTEMPTS: u32 = 3;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The most of an error answer read for its code and message.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// The largest artifact the runner downloads: half of Lambda's default 512 MB of `/tmp`.
pub const MAX_ARTIFACT_BYTES: u64 = 256 * 1024 * 1024;

/// Why the artifact could not be had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// The setup is wrong (no such object or bucket, access refused, too large): a problem and its fix.
    Misconfigured { problem: String, fix: String },
    /// S3 could not be read now (5xx, throttling, a timeout, the network, the scratch disk).
    Unavailable(String),
}

/// Reads artifacts from S3 for jobs, each request signed with that job's credentials. Built once at start-up.
pub struct ArtifactStore {
    endpoint: S3Endpoint,
    http: reqwest::Client,
    scratch_dir: PathBuf,
}

/// A downloaded artifact in the scratch directory, removed when dropped.
pub struct ScratchFile {
    path: PathBuf,
}

impl ScratchFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        // Nothing to do if it never got written; a leftover would only cost scratch space until the container ends.
        let _ = std::fs::remove_file(&self.path);
    }
}

impl ArtifactStore {
    /// For S3 in the function's region, or the endpoint override the environment names.
    pub fn new(env: &Env) -> Result<ArtifactStore, String> {
        let http = hooks_common::aws::aws_reqwest_client(Some(Duration::from_secs(3)), None).map_err(|e| {
            format!(
                "cannot build the HTTP client for S3: {}",
                hooks_common::aws::cause_chain(&e)
            )
        })?;
        Ok(ArtifactStore {
            endpoint: S3Endpoint::from_env(env),
            http,
            scratch_dir: std::env::temp_dir(),
        })
    }

    /// Downloads the object at `location` into a scratch file, by `deadline`.
    pub async fn download(
        &self,
        location: &S3Location,
        credentials: &ArtifactCredentials,
        deadline: Instant,
    ) -> Result<ScratchFile, FetchError> {
        let url = self.endpoint.object_url(location);
        let mut attempt = 1;
        let mut response = loop {
            match self.get(&url, credentials, deadline).await {
                Ok(response) => break response,
                Err(Attempt::Again(problem)) => {
                    let backoff = FIRST_BACKOFF * 2u32.pow(attempt - 1);
                    if attempt == ATTEMPTS || Instant::now() + backoff + ATTEMPT_TIMEOUT / 5 >= deadline {
                        return Err(FetchError::Unavailable(format!(
                            "{problem} (after {attempt} attempt{})",
                            if attempt == 1 { "" } else { "s" }
                        )));
                    }
                    tracing::info!(attempt, %problem, "GetObject of the artifact failed: trying again");
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                }
                Err(Attempt::Final(error)) => return Err(error),
            }
        };
        let too_large = |size: u64| FetchError::Misconfigured {
            problem: format!(
                "the artifact is {} MiB, more than the {} MiB the runner reads",
                size >> 20,
                MAX_ARTIFACT_BYTES >> 20
            ),
            fix: "give the test action a smaller input artifact that holds the suite (e.g. a second build output \
                  with just the checks)"
                .into(),
        };
        let announced = response.content_length().unwrap_or(0);
        if announced > MAX_ARTIFACT_BYTES {
            return Err(too_large(announced));
        }

        let scratch = ScratchFile {
            path: self.scratch_dir.join(scratch_name()),
        };
        let disk =
            |e: std::io::Error| FetchError::Unavailable(format!("cannot write the artifact to scratch space: {e}"));
        let mut file = tokio::fs::File::create(scratch.path()).await.map_err(disk)?;
        let mut written: u64 = 0;
        loop {
            let chunk = tokio::time::timeout_at(deadline.into(), response.chunk())
                .await
                .map_err(|_| late())?
                .map_err(|e| {
                    FetchError::Unavailable(format!(
                        "the artifact's download broke off: {}",
                        hooks_common::aws::cause_chain(&e.without_url())
                    ))
                })?;
            let Some(chunk) = chunk else { break };
            written += chunk.len() as u64;
            if written > MAX_ARTIFACT_BYTES {
                return Err(too_large(written));
            }
            file.write_all(&chunk).await.map_err(disk)?;
        }
        file.flush().await.map_err(disk)?;
        Ok(scratch)
    }

    /// One signed `GetObject`: the answer when S3 sends the object, else what to do about it.
    async fn get(
        &self,
        url: &str,
        credentials: &ArtifactCredentials,
        deadline: Instant,
    ) -> Result<reqwest::Response, Attempt> {
        let headers = self
            .endpoint
            .sign_get(url, credentials, SystemTime::now())
            .map_err(|problem| Attempt::Final(FetchError::Unavailable(problem)))?;
        let mut request = self.http.get(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let answer_by = deadline.min(Instant::now() + ATTEMPT_TIMEOUT);
        let response = match tokio::time::timeout_at(answer_by.into(), request.send()).await {
            Err(_) if answer_by == deadline => return Err(Attempt::Final(late())),
            Err(_) => {
                let problem = format!("S3 could not be read: GetObject: no answer within {ATTEMPT_TIMEOUT:?}");
                return Err(Attempt::Again(problem));
            }
            Ok(Err(error)) => {
                let kind = if error.is_timeout() {
                    "timed out"
                } else {
                    "network error"
                };
                let cause = hooks_common::aws::cause_chain(&error.without_url());
                return Err(Attempt::Again(format!(
                    "S3 could not be read: GetObject: {kind}: {cause}"
                )));
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(response);
        }
        let body = tokio::time::timeout_at(deadline.into(), error_body(response))
            .await
            .unwrap_or_default();
        let (code, message) = error_code_and_message(&body);
        match classify(status, code.as_deref(), message.as_deref()) {
            FetchError::Unavailable(problem) if retried(status, code.as_deref()) => Err(Attempt::Again(problem)),
            error => Err(Attempt::Final(error)),
        }
    }
}

/// What one `GetObject` came to, when it did not bring the object.
enum Attempt {
    /// S3 could not answer now: worth another attempt while there are attempts and time.
    Again(String),
    Final(FetchError),
}

fn late() -> FetchError {
    FetchError::Unavailable("S3 did not deliver the artifact before the function's deadline".into())
}

/// The start of an error answer, for its code and message (never kept or shown whole).
async fn error_body(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BYTES {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// The answers the SDK's standard retries try again: S3's 5xx and its throttling.
fn retried(status: u16, code: Option<&str>) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
        || matches!(
            code,
            Some("SlowDown" | "InternalError" | "RequestTimeout" | "ServiceUnavailable")
        )
}

/// A scratch file name no other download of this process uses.
fn scratch_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "codepipeline-artifact-{}-{}.zip",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// S3 refusing or not finding the artifact means the setup is wrong; anything else (5xx, throttling, timeouts,
/// the network, an answer this runner does not expect) means S3 could not be read now. Neither passes the job.
fn classify(status: u16, code: Option<&str>, message: Option<&str>) -> FetchError {
    let said = |code: &str| {
        let message = message.unwrap_or("");
        format!(
            "S3 answered {code}{}{message}",
            if message.is_empty() { "" } else { ": " }
        )
    };
    match (code, status) {
        (Some("NoSuchKey"), _) | (None, 404) => FetchError::Misconfigured {
            problem: format!("the artifact is not in the artifact store ({})", said("NoSuchKey")),
            fix: "run the release again from the stage that produces the artifact (a lifecycle rule on the artifact \
                  bucket may have removed it)"
                .into(),
        },
        (Some("NoSuchBucket"), _) => FetchError::Misconfigured {
            problem: format!("the artifact bucket does not exist ({})", said("NoSuchBucket")),
            fix: "check the pipeline's artifact store: its bucket must exist in the pipeline's region".into(),
        },
        (Some(code @ ("AccessDenied" | "AllAccessDisabled" | "AccountProblem")), _) => FetchError::Misconfigured {
            problem: format!("S3 refused the job's artifact credentials ({})", said(code)),
            fix: "let the pipeline's service role read the artifact bucket (s3:GetObject) and, for a KMS-encrypted \
                  artifact store, decrypt with its key (kms:Decrypt): the job's credentials are that role's, scoped \
                  to the artifact store; this function needs no S3 permission of its own"
                .into(),
        },
        (code, 403) => FetchError::Misconfigured {
            problem: format!(
                "S3 refused the job's artifact credentials ({})",
                said(code.unwrap_or("403 Forbidden"))
            ),
            fix: "let the pipeline's service role read the artifact bucket (s3:GetObject and, for a KMS-encrypted \
                  artifact store, kms:Decrypt)"
                .into(),
        },
        (Some(code), status) => FetchError::Unavailable(format!(
            "S3 could not be read: GetObject: {} (HTTP {status})",
            said(code).trim_start_matches("S3 answered ")
        )),
        (None, status) => FetchError::Unavailable(format!("S3 could not be read: GetObject: HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_refusing_or_not_finding_is_the_setup_anything_else_is_s3_now() {
        // (status, code, message, whether it is the setup's fault, whether it is tried again, words it must hold)
        let cases = [
            (
                404,
                Some("NoSuchKey"),
                Some("gone"),
                true,
                false,
                "not in the artifact store (S3 answered NoSuchKey: gone)",
            ),
            (404, None, None, true, false, "not in the artifact store"),
            (
                404,
                Some("NoSuchBucket"),
                Some("no bucket"),
                true,
                false,
                "bucket does not exist",
            ),
            (
                403,
                Some("AccessDenied"),
                Some("Access Denied"),
                true,
                false,
                "S3 answered AccessDenied: Access Denied",
            ),
            (
                403,
                Some("InvalidAccessKeyId"),
                Some("unknown key"),
                true,
                false,
                "S3 answered InvalidAccessKeyId",
            ),
            (403, None, None, true, false, "S3 answered 403 Forbidden"),
            (
                500,
                Some("InternalError"),
                Some("try again"),
                false,
                true,
                "InternalError: try again (HTTP 500)",
            ),
            (503, Some("SlowDown"), Some("reduce your rate"), false, true, "SlowDown"),
            (502, None, None, false, true, "GetObject: HTTP 502"),
            (400, Some("ExpiredToken"), Some("expired"), false, false, "ExpiredToken"),
            (
                301,
                Some("PermanentRedirect"),
                None,
                false,
                false,
                "PermanentRedirect (HTTP 301)",
            ),
        ];
        for (status, code, message, setup, again, words) in cases {
            assert_eq!(retried(status, code), again, "{status} {code:?}");
            match classify(status, code, message) {
                FetchError::Misconfigured { problem, fix } if setup => {
                    assert!(problem.contains(words), "{words:?} not in {problem}");
                    assert!(!fix.is_empty());
                }
                FetchError::Unavailable(reason) if !setup => {
                    assert!(reason.contains(words), "{words:?} not in {reason}")
                }
                other => panic!("{words}: {other:?}"),
            }
        }
    }

    #[test]
    fn scratch_files_are_distinct_and_removed() {
        assert_ne!(scratch_name(), scratch_name());
        let path = std::env::temp_dir().join(scratch_name());
        std::fs::write(&path, b"zip").unwrap();
        drop(ScratchFile { path: path.clone() });
        assert!(!path.exists());
    }
}
