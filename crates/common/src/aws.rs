//! SDK configuration shared by every function: built once in `main`, honouring `AWS_ENDPOINT_URL*`.

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

use crate::Error;

/// Timeouts short enough that a slow AWS API cannot eat a function's whole deadline, and the SDK's
/// standard retries (with a quicker first backoff than the default second) for throttling and 5xx. Its HTTPS
/// client is the SDK's default one (hyper, rustls with aws-lc, the SDK's cipher suites), trusting [`root_certs`].
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
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
        .load()
        .await
}

/// The root certificates every TLS connection of a function trusts, the SDK's and reqwest's alike: Mozilla's root
/// program compiled in (`webpki-root-certs`), so start-up reads no certificate store and trusts the same roots here,
/// in the simulator and in Lambda's image, whatever its store's layout. Reading the system store cost most of a
/// cold start (the SDK and each reqwest client loaded it again: on Debian, the bundle and then every file of
/// `/etc/ssl/certs`, about 880 file operations and 5 ms a load). Where `SSL_CERT_FILE` or `SSL_CERT_DIR` is set,
/// the store they name is trusted instead, as `rustls-native-certs` read it before: the way to trust a private CA.
pub fn root_certs() -> &'static [rustls::pki_types::CertificateDer<'static>] {
    static ROOTS: LazyLock<Vec<rustls::pki_types::CertificateDer<'static>>> = LazyLock::new(|| {
        let named = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
        if !named {
            return webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec();
        }
        let loaded = rustls_native_certs::load_native_certs();
        for error in &loaded.errors {
            tracing::warn!(%error, "reading the certificate store SSL_CERT_FILE/SSL_CERT_DIR name");
        }
        // Only certificates that make trust anchors: the SDK refuses a store with any other.
        let mut check = rustls::RootCertStore::empty();
        loaded
            .certs
            .into_iter()
            .filter(|cert| check.add(cert.clone()).is_ok())
            .collect()
    });
    &ROOTS
}

/// The TLS configuration of every reqwest client (Slack, checks, calendar feeds), built once and shared: reqwest's
/// own choices (aws-lc's default provider, TLS 1.2 and 1.3, SNI, HTTP/1.1 over ALPN, no client certificate), with
/// [`root_certs`] for roots instead of a platform verifier that reads the system store per client.
pub fn reqwest_tls_config() -> rustls::ClientConfig {
    static CONFIG: LazyLock<Result<rustls::ClientConfig, String>> = LazyLock::new(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(root_certs().iter().cloned());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    });
    match &*CONFIG {
        Ok(config) => config.clone(),
        // aws-lc supports TLS 1.2 and 1.3, so this cannot happen; reqwest would report the same at `build`.
        Err(problem) => panic!("no TLS configuration: {problem}"),
    }
}

/// The SDK's default HTTPS client with [`root_certs`] as its trust store, built when the first request needs a
/// connector rather than at start-up (the SDK would also build a throwaway connector per SDK client to load the
/// system store early; with the roots compiled in there is nothing to load early).
fn sdk_http_client() -> SharedHttpClient {
    SharedHttpClient::new(OnFirstRequest(OnceLock::new()))
}

fn build_sdk_http_client() -> SharedHttpClient {
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem(root_certs())))
        .build()
        .unwrap_or_default();
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

/// The SDK's HTTP client, made on the first request.
#[derive(Debug)]
struct OnFirstRequest(OnceLock<SharedHttpClient>);

impl HttpClient for OnFirstRequest {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0
            .get_or_init(build_sdk_http_client)
            .http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        // What the SDK's hyper client says of itself (for the user agent), without building it for that.
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}

/// Certificates as one PEM bundle (the form the SDK's trust store takes).
fn pem(certs: &[rustls::pki_types::CertificateDer<'_>]) -> Vec<u8> {
    let size: usize = certs.iter().map(|c| c.len().div_ceil(3) * 4 * 65 / 64 + 64).sum();
    let mut pem = Vec::with_capacity(size);
    for cert in certs {
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in base64(cert.as_ref()).chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

/// Standard base64 with padding, for PEM.
fn base64(bytes: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]
            } else {
                b'='
            });
        }
    }
    out
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

    #[test]
    fn the_sdk_is_given_exactly_the_roots_reqwest_trusts() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let roots = root_certs();
        assert!(roots.len() > 100, "{} roots", roots.len());
        let pem = pem(roots);
        let read: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>().unwrap();
        assert_eq!(read, roots);
        // Every root makes a trust anchor (the SDK panics on a store with one that does not).
        let mut store = rustls::RootCertStore::empty();
        assert_eq!(store.add_parsable_certificates(roots.iter().cloned()), (roots.len(), 0));
    }

    #[test]
    fn base64_is_the_standard_alphabet_with_padding() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"\xff\xfe\xfd", "//79"),
        ] {
            assert_eq!(base64(bytes), text.as_bytes());
        }
    }

    #[test]
    fn the_deferred_sdk_client_describes_itself_as_the_sdk_client_does() {
        let deferred = sdk_http_client();
        assert_eq!(
            deferred.connector_metadata().map(|m| m.to_string()),
            build_sdk_http_client().connector_metadata().map(|m| m.to_string())
        );
    }

    #[test]
    fn every_reqwest_client_shares_one_configuration() {
        let config = reqwest_tls_config();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(config.enable_sni);
        assert!(
            reqwest::Client::builder()
                .tls_backend_preconfigured(config)
                .build()
                .is_ok()
        );
    }
}
