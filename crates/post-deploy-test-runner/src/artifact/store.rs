//! The edge with S3: each job's artifact is read with that job's own artifact credentials (CodePipeline's, not
//! the function's role, which needs no S3 permission), streamed to a scratch file so a large artifact never has
//! to fit in memory, within the work deadline. S3's answers are sorted into "the setup is wrong" and "S3 could not
//! be read now".

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use aws_config::SdkConfig;
use aws_sdk_s3::config::IdentityCache;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use hooks_common::settings::Env;
use tokio::io::AsyncWriteExt;

use super::credentials::ArtifactCredentials;
use super::locate::S3Location;

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

/// Reads artifacts from S3 for jobs. Built once from the shared SDK configuration; every job gets its own
/// client, signed with that job's credentials.
pub struct ArtifactStore {
    sdk: SdkConfig,
    path_style: bool,
    scratch_dir: PathBuf,
}

/// Whether S3's endpoint is overridden (`AWS_ENDPOINT_URL_S3`, or `AWS_ENDPOINT_URL` for every service), as for
/// a local S3 stand-in. Against AWS, buckets are addressed virtual-hosted style (`bucket.s3.<region>...`);
/// against an endpoint override (`http://127.0.0.1:4566`) there is no per-bucket host name, so the bucket goes
/// in the path, and only then.
pub fn endpoint_overridden(env: &Env) -> bool {
    env.optional("AWS_ENDPOINT_URL_S3")
        .or_else(|| env.optional("AWS_ENDPOINT_URL"))
        .is_some()
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
    pub fn new(sdk: &SdkConfig, env: &Env) -> ArtifactStore {
        ArtifactStore {
            sdk: sdk.clone(),
            path_style: endpoint_overridden(env),
            scratch_dir: std::env::temp_dir(),
        }
    }

    fn client(&self, credentials: &ArtifactCredentials) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk)
            .credentials_provider(credentials.to_sdk())
            // Static keys need no cache, and a shared cache would keep a partition for every job's keys.
            .identity_cache(IdentityCache::no_cache())
            .force_path_style(self.path_style)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Downloads the object at `location` into a scratch file, by `deadline`.
    pub async fn download(
        &self,
        location: &S3Location,
        credentials: &ArtifactCredentials,
        deadline: Instant,
    ) -> Result<ScratchFile, FetchError> {
        let late = || FetchError::Unavailable("S3 did not deliver the artifact before the function's deadline".into());
        let request = self
            .client(credentials)
            .get_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .send();
        let output = tokio::time::timeout_at(deadline.into(), request)
            .await
            .map_err(|_| late())?
            .map_err(classify)?;
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
        let announced = output.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        if announced > MAX_ARTIFACT_BYTES {
            return Err(too_large(announced));
        }

        let scratch = ScratchFile {
            path: self.scratch_dir.join(scratch_name()),
        };
        let disk =
            |e: std::io::Error| FetchError::Unavailable(format!("cannot write the artifact to scratch space: {e}"));
        let mut file = tokio::fs::File::create(scratch.path()).await.map_err(disk)?;
        let mut body = output.body;
        let mut written: u64 = 0;
        loop {
            let chunk = tokio::time::timeout_at(deadline.into(), body.try_next())
                .await
                .map_err(|_| late())?
                .map_err(|e| FetchError::Unavailable(format!("the artifact's download broke off: {e}")))?;
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
fn classify(error: SdkError<GetObjectError, aws_sdk_s3::config::http::HttpResponse>) -> FetchError {
    let status = error.raw_response().map(|r| r.status().as_u16());
    let code = error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .map(str::to_owned);
    let said = |code: &str| {
        let message = error
            .as_service_error()
            .and_then(ProvideErrorMetadata::message)
            .unwrap_or("");
        format!(
            "S3 answered {code}{}{message}",
            if message.is_empty() { "" } else { ": " }
        )
    };
    match (code.as_deref(), status) {
        (Some("NoSuchKey"), _) | (None, Some(404)) => FetchError::Misconfigured {
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
        (code, Some(403)) => FetchError::Misconfigured {
            problem: format!(
                "S3 refused the job's artifact credentials ({})",
                said(code.unwrap_or("403 Forbidden"))
            ),
            fix: "let the pipeline's service role read the artifact bucket (s3:GetObject and, for a KMS-encrypted \
                  artifact store, kms:Decrypt)"
                .into(),
        },
        _ => FetchError::Unavailable(format!(
            "S3 could not be read: {}",
            hooks_common::aws::render_sdk_error("GetObject", &error)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_only_with_an_endpoint_override() {
        let cases = [
            (vec![], false),
            (vec![("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")], true),
            (vec![("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566")], true),
            (vec![("AWS_ENDPOINT_URL_S3", " ")], false),
            (vec![("AWS_ENDPOINT_URL_CODEPIPELINE", "http://127.0.0.1:4566")], false),
        ];
        for (pairs, expected) in cases {
            assert_eq!(endpoint_overridden(&Env::from_pairs(&pairs)), expected, "{pairs:?}");
        }
    }

    #[test]
    fn s3_refusing_or_not_finding_is_the_setup_anything_else_is_s3_now() {
        use aws_sdk_s3::config::http::HttpResponse;
        use aws_sdk_s3::error::ErrorMetadata;
        use aws_sdk_s3::primitives::SdkBody;
        use aws_sdk_s3::types::error::NoSuchKey;

        let answer = |status: u16, error: GetObjectError| {
            let status = status.try_into().expect("a status code");
            SdkError::service_error(error, HttpResponse::new(status, SdkBody::empty()))
        };
        let coded = |code: &str, message: &str| {
            GetObjectError::generic(ErrorMetadata::builder().code(code).message(message).build())
        };
        // (the error, whether it is the setup's fault, words the problem must hold)
        let cases = [
            (
                answer(
                    404,
                    GetObjectError::NoSuchKey(
                        NoSuchKey::builder()
                            .meta(ErrorMetadata::builder().code("NoSuchKey").message("gone").build())
                            .build(),
                    ),
                ),
                true,
                "not in the artifact store (S3 answered NoSuchKey: gone)",
            ),
            (
                answer(404, coded("NoSuchBucket", "no bucket")),
                true,
                "bucket does not exist",
            ),
            (
                answer(403, coded("AccessDenied", "Access Denied")),
                true,
                "S3 answered AccessDenied: Access Denied",
            ),
            (
                answer(403, coded("InvalidAccessKeyId", "unknown key")),
                true,
                "S3 answered InvalidAccessKeyId",
            ),
            (answer(500, coded("InternalError", "try again")), false, "InternalError"),
            (answer(503, coded("SlowDown", "reduce your rate")), false, "SlowDown"),
            (answer(400, coded("ExpiredToken", "expired")), false, "ExpiredToken"),
            (
                SdkError::timeout_error("attempt timeout"),
                false,
                "S3 could not be read",
            ),
        ];
        for (error, setup, words) in cases {
            match classify(error) {
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
