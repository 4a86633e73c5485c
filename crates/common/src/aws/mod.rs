//! SDK configuration shared by every function: built once in `main`, honouring `AWS_ENDPOINT_URL*`; and the one
//! way an AWS call is bounded by the invocation's deadline and its failure told.

mod deferred;
mod http_client;

use std::future::Future;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_types::sdk_config::SharedCredentialsProvider;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

use crate::settings::Env;

pub use deferred::Deferred;
pub use http_client::{aws_reqwest_client, sdk_http_client};

use crate::Error;

/// The SDK configuration of every function, read from the environment Lambda gives a function, and nothing else:
/// the region (`AWS_REGION`), the execution role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`), endpoints (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`: the simulator, a VPC
/// endpoint) and `AWS_USE_FIPS_ENDPOINT` / `AWS_USE_DUALSTACK_ENDPOINT`. Not `aws_config`'s default chains, which
/// would also look for profiles, web identity, ECS and IMDS credentials and link an STS client for them: about
/// 0.5 MB of every binary that Lambda never uses (run a function elsewhere with credentials exported:
/// `eval "$(aws configure export-credentials --format env)"`).
///
/// Timeouts short enough that a slow AWS API cannot eat a function's whole deadline, and the SDK's standard
/// retries (with a quicker first backoff than the default second) for throttling and 5xx. Its HTTP client is
/// [`sdk_http_client`]: reqwest, as for Slack, checks and feeds, with [`crate::tls`]'s configuration.
pub fn sdk_config(env: &Env) -> SdkConfig {
    let flag = |name: &str| env.optional(name).map(|v| v.trim().eq_ignore_ascii_case("true"));
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(
            env.optional("AWS_REGION")
                .or_else(|| env.optional("AWS_DEFAULT_REGION"))
                .map(Region::new),
        )
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .identity_cache(IdentityCache::lazy().build())
        .http_client(sdk_http_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(12))
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(200)),
        )
        .service_config(ServiceEndpoints(env.clone()));
    config.set_endpoint_url(env.optional("AWS_ENDPOINT_URL"));
    config.set_use_fips(flag("AWS_USE_FIPS_ENDPOINT"));
    config.set_use_dual_stack(flag("AWS_USE_DUALSTACK_ENDPOINT"));
    config.build()
}

/// What an SDK client asks of the environment for its service: `AWS_ENDPOINT_URL_<SERVICE>`, which wins over
/// `AWS_ENDPOINT_URL` as it does in `aws_config`.
struct ServiceEndpoints(Env);

impl std::fmt::Debug for ServiceEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceEndpoints(AWS_ENDPOINT_URL_<SERVICE>)")
    }
}

impl LoadServiceConfig for ServiceEndpoints {
    /// The key names the general variable (`AWS_ENDPOINT_URL`) and the service (`Config Service`); the
    /// service's own variable (`AWS_ENDPOINT_URL_CONFIG_SERVICE`) comes first, as `aws_config` reads them.
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        let service = key.service_id().to_ascii_uppercase().replace([' ', '-'], "_");
        self.0
            .optional(&format!("{}_{service}", key.env()))
            .or_else(|| self.0.optional(key.env()))
    }
}

/// The one way an AWS call's failure is told, in logs, errors, approval summaries and messages: the operation,
/// the error's code and message, the HTTP status, and for a request that never got an answer, the cause chain
/// (`connection refused`). Never a response body and never the SDK error's `Debug` (both can carry a secret: an
/// answer the SDK could not parse is kept whole in the error, a Secrets Manager answer with the webhook URL in it).
pub fn render_sdk_error<E>(operation: &str, error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    format!("{operation}: {}", sdk_problem(error))
}

/// [`render_sdk_error`] without the operation, for errors that name it already.
pub fn sdk_problem<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let err = service.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message} (HTTP {status})"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                // A success the SDK could not parse arrives as an error without a code: say that, not "unhandled".
                (None, _) if (200..300).contains(&status) => {
                    format!("the answer (HTTP {status}) could not be read as the API's response")
                }
                // A modeled error's own `Display` is its type name and message (never the body).
                (None, _) => format!("{err} (HTTP {status})"),
            }
        }
        SdkError::ResponseError(response) => format!(
            "the answer (HTTP {}) could not be read as the API's response",
            response.raw().status().as_u16()
        ),
        SdkError::TimeoutError(_) => "no answer within the SDK's timeout".to_owned(),
        SdkError::DispatchFailure(failure) => {
            let kind = if failure.is_timeout() {
                "timed out"
            } else if failure.is_io() {
                "network error"
            } else {
                "could not send the request"
            };
            format!("{kind}: {}", source_chain(error))
        }
        SdkError::ConstructionFailure(_) => {
            format!("the request could not be built: {}", source_chain(error))
        }
        _ => "failed".to_owned(),
    }
}

/// The chain below an SDK error (the connector's error and what caused it), never the SDK error's own `Debug`.
fn source_chain<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    std::error::Error::source(error).map_or_else(|| "no cause given".to_owned(), cause_chain)
}

/// The `Display` of an error and its sources, joined with ": ", each message once (hyper repeats its causes).
pub fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let text = current.to_string();
        if !text.is_empty() && !parts.iter().any(|seen| seen.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}

/// An SDK call bounded by the invocation's deadline as well as the SDK's own timeouts, its failure rendered the one
/// way. For calls whose modeled errors mean something (an approval already answered), use [`by_deadline`] and
/// match on the error.
pub async fn call<T, E, F>(deadline: Instant, operation: &'static str, target: &str, call: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match by_deadline(deadline, call).await {
        Some(Ok(output)) => Ok(output),
        Some(Err(error)) => Err(Error::Aws {
            operation,
            target: target.to_owned(),
            problem: sdk_problem(&error),
        }),
        None => Err(Error::Aws {
            operation,
            target: target.to_owned(),
            problem: NO_ANSWER_IN_TIME.to_owned(),
        }),
    }
}

/// How a call cut by the invocation's deadline is told.
pub const NO_ANSWER_IN_TIME: &str = "no answer before the invocation's deadline";

/// `future`'s output, or `None` when `deadline` comes first.
pub async fn by_deadline<F: Future>(deadline: Instant, future: F) -> Option<F::Output> {
    tokio::time::timeout_at(deadline.into(), future).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body.to_owned()))
    }

    const SECRET: &str = "https://hooks.slack.com/services/T000/B000/SECRETSECRET";

    #[test]
    fn an_answer_that_cannot_be_read_is_told_without_its_body() {
        let body = format!("{{\"SecretString\": \"{SECRET}\", broken");
        let error: SdkError<aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError, _> =
            SdkError::response_error(format!("parse error near {SECRET}"), response(200, &body));
        let told = render_sdk_error("GetSecretValue", &error);
        assert_eq!(
            told,
            "GetSecretValue: the answer (HTTP 200) could not be read as the API's response"
        );
        assert!(!told.contains("SECRET"));
    }

    #[test]
    fn a_service_error_is_its_code_message_and_status() {
        use aws_sdk_codepipeline::operation::get_pipeline::GetPipelineError;
        use aws_sdk_codepipeline::types::error::PipelineNotFoundException;
        let err = GetPipelineError::PipelineNotFoundException(
            PipelineNotFoundException::builder().message("no pipeline shop").build(),
        );
        let error = SdkError::service_error(err, response(400, SECRET));
        let told = render_sdk_error("GetPipeline", &error);
        assert!(told.starts_with("GetPipeline: "), "{told}");
        assert!(told.contains("no pipeline shop") && told.contains("HTTP 400"), "{told}");
        assert!(!told.contains("SECRET"), "{told}");
    }

    #[tokio::test]
    async fn the_configuration_is_the_environments_and_a_service_endpoint_wins() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let codepipeline = format!("http://{}", listener.local_addr().unwrap());
        let served = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut read = vec![0; 64 * 1024];
            let size = socket.read(&mut read).await.unwrap();
            let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 2\r\n\r\n{}";
            socket.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&read[..size]).into_owned()
        });
        let env = Env::from_pairs(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_ENDPOINT_URL_CODEPIPELINE", &codepipeline),
        ]);
        let config = sdk_config(&env);
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:9"));
        // FIPS endpoints are AWS's own (the SDK refuses them with an endpoint override).
        let fips = sdk_config(&Env::from_pairs(&[
            ("AWS_USE_FIPS_ENDPOINT", "TRUE"),
            ("AWS_REGION", "us-gov-west-1"),
        ]));
        assert_eq!((fips.use_fips(), fips.use_dual_stack()), (Some(true), None));
        // The role's credentials come from the process environment; the test's keys stand in for them.
        let client = aws_sdk_codepipeline::Client::from_conf(
            aws_sdk_codepipeline::config::Builder::from(&config)
                .credentials_provider(aws_sdk_codepipeline::config::Credentials::for_tests())
                .build(),
        );
        client
            .list_pipelines()
            .send()
            .await
            .expect("the service's own endpoint answers");
        let request = served.await.unwrap();
        assert!(
            request.contains("x-amz-target: CodePipeline_20150709.ListPipelines"),
            "{request}"
        );
        assert!(request.contains("/eu-west-1/codepipeline/aws4_request"), "{request}");
    }

    #[test]
    fn a_network_failure_keeps_its_cause() {
        let refused = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let error: SdkError<aws_sdk_codepipeline::operation::get_pipeline::GetPipelineError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(refused)));
        let told = render_sdk_error("GetPipeline", &error);
        assert!(
            told.contains("network error") && told.contains("Connection refused"),
            "{told}"
        );
        assert!(!told.contains("ConnectorError"), "no Debug: {told}");
    }
}
