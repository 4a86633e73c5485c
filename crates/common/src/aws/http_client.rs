//! The SDK's HTTP client is reqwest, the client every function already links for Slack, checks and calendar feeds,
//! so a binary carries one HTTP stack (hyper 1, HTTP/1.1) and one TLS stack ([`crate::tls`]: rustls with ring).
//! The SDK's own client would add a second connection pool, HTTP/2 and aws-lc beside it: about 1.9 MB of every
//! binary (README, "What it costs"). AWS's JSON, Query and CBOR APIs answer HTTP/1.1 as they always have.
//!
//! What the SDK's client did and this one keeps: the connect timeout (and read timeout, when one is set) the SDK
//! hands over, no proxy (the SDK's default client ignores `HTTPS_PROXY` too), connections pooled and reused, and
//! failures sorted the way its retry policy reads them: a timeout, an I/O failure (refused, reset, closed before
//! the answer: retried), a request that could not be built (not retried), anything else (not retried).

use std::borrow::Cow;
use std::error::Error as StdError;
use std::sync::Mutex;
use std::time::Duration;

use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;

/// The HTTP client to give `aws_config`'s loader (as [`super::sdk_config`] does) or an SDK client's config.
/// Nothing is built until the first request: start-up pays for none of it.
pub fn sdk_http_client() -> SharedHttpClient {
    SharedHttpClient::new(ReqwestClients::default())
}

/// One reqwest client per pair of timeouts the SDK asks for; every SDK client of a function asks with the same
/// pair, so in practice there is one, and one connection pool.
#[derive(Debug, Default)]
struct ReqwestClients {
    built: Mutex<Vec<(Timeouts, reqwest::Client)>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Timeouts {
    connect: Option<Duration>,
    read: Option<Duration>,
}

impl ReqwestClients {
    fn client(&self, timeouts: Timeouts) -> Result<reqwest::Client, reqwest::Error> {
        // A poisoned lock only means another request panicked while building: the list itself is whole.
        let mut built = self.built.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, client)) = built.iter().find(|(t, _)| *t == timeouts) {
            return Ok(client.clone());
        }
        let client = aws_reqwest_client(timeouts.connect, timeouts.read)?;
        built.push((timeouts, client.clone()));
        Ok(client)
    }
}

/// A reqwest client for AWS's APIs, as the SDK's is built: [`crate::tls`]'s configuration, no proxy, no
/// redirects followed (a caller sees S3's 301 for a bucket in another region rather than a re-sent request), and
/// the given connect and read timeouts. For the rare request made without an SDK client (the runner's artifact
/// `GetObject`).
pub fn aws_reqwest_client(
    connect: Option<Duration>,
    read: Option<Duration>,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(crate::tls::client_config())
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none());
    if let Some(connect) = connect {
        builder = builder.connect_timeout(connect);
    }
    if let Some(read) = read {
        builder = builder.read_timeout(read);
    }
    builder.build()
}

impl HttpClient for ReqwestClients {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        let timeouts = Timeouts {
            connect: settings.connect_timeout(),
            read: settings.read_timeout(),
        };
        SharedHttpConnector::new(Connector(self.client(timeouts).map_err(|e| e.to_string())))
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("reqwest", Some(Cow::Borrowed("0.13"))))
    }
}

/// A connector sending through one reqwest client, or the reason that client could not be built (which every
/// request then fails with, as a request that cannot be sent).
#[derive(Debug)]
struct Connector(Result<reqwest::Client, String>);

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = match &self.0 {
            Ok(client) => client.clone(),
            Err(problem) => {
                let problem = format!("cannot build the HTTP client: {problem}");
                return HttpConnectorFuture::ready(Err(ConnectorError::user(problem.into())));
            }
        };
        let request = match request
            .try_into_http1x()
            .map_err(|e| -> Box<dyn StdError + Send + Sync> { Box::new(e) })
            .and_then(|request| Ok(reqwest::Request::try_from(request.map(reqwest::Body::wrap))?))
        {
            Ok(request) => request,
            Err(error) => return HttpConnectorFuture::ready(Err(ConnectorError::user(error))),
        };
        HttpConnectorFuture::new(async move {
            let response = client.execute(request).await.map_err(connector_error)?;
            let response = http::Response::from(response).map(SdkBody::from_body_1_x);
            HttpResponse::try_from(response).map_err(|e| ConnectorError::other(Box::new(e), None))
        })
    }
}

/// How the SDK's retry policy should read a request that got no answer, as the SDK's own client sorts hyper's
/// errors: timeouts and I/O failures are retried (with the SDK's backoff and attempt limit), an answer cut off
/// mid-way is transient, a request that could not be built or sent as given is the caller's.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        return ConnectorError::timeout(error.into());
    }
    if error.is_builder() {
        return ConnectorError::user(error.into());
    }
    if error.is_connect() || source::<std::io::Error>(&error).is_some() {
        return ConnectorError::io(error.into());
    }
    if let Some(hyper) = source::<hyper::Error>(&error) {
        if hyper.is_closed() || hyper.is_canceled() {
            return ConnectorError::io(error.into());
        }
        if hyper.is_incomplete_message() {
            return ConnectorError::other(error.into(), Some(ErrorKind::TransientError));
        }
        if hyper.is_user() {
            return ConnectorError::user(error.into());
        }
    }
    ConnectorError::other(error.into(), None)
}

/// The first error of type `E` in `error`'s source chain (the error itself included).
fn source<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<E>() {
            return Some(found);
        }
        next = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_codepipeline::Client;
    use aws_smithy_runtime_api::client::result::SdkError;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A CodePipeline client of the SDK whose every request goes through [`sdk_http_client`] to `endpoint`,
    /// with three attempts and no backoff to speak of.
    async fn codepipeline(endpoint: &str) -> Client {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(sdk_http_client())
            .endpoint_url(endpoint)
            .region(Region::new("eu-west-1"))
            .test_credentials()
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .read_timeout(Duration::from_millis(300))
                    .build(),
            )
            .load()
            .await;
        Client::new(&config)
    }

    /// `GetPipeline` of "shop" through [`codepipeline`]'s client, its dispatch failure checked by `kind`.
    async fn a_dispatch_failure(endpoint: &str, kind: fn(&ConnectorError) -> bool) {
        let error = codepipeline(endpoint)
            .await
            .get_pipeline()
            .name("shop")
            .send()
            .await
            .unwrap_err();
        let SdkError::DispatchFailure(failure) = &error else {
            panic!("not a dispatch failure: {}", crate::aws::sdk_problem(&error))
        };
        let connector = failure.as_connector_error().expect("a connector error");
        assert!(kind(connector), "{}", crate::aws::sdk_problem(&error));
    }

    /// A loopback server that answers each connection with `answer(n)` (n counts connections from 0) and keeps the
    /// request it read; `None` closes the connection without a word.
    async fn server(
        answer: impl Fn(usize) -> Option<String> + Send + Sync + 'static,
    ) -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (connections.clone(), requests.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let n = count.fetch_add(1, Ordering::SeqCst);
                let mut read = vec![0; 64 * 1024];
                let size = socket.read(&mut read).await.unwrap_or(0);
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&read[..size]).into_owned());
                match answer(n) {
                    Some(text) => socket.write_all(text.as_bytes()).await.unwrap(),
                    None => drop(socket),
                }
            }
        });
        (endpoint, connections, requests)
    }

    fn json(status: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn a_request_goes_out_signed_and_its_answer_is_parsed() {
        let (endpoint, _, requests) = server(|_| {
            Some(json(
                "200 OK",
                r#"{"pipeline": {"name": "shop", "version": 7, "roleArn": "arn:aws:iam::1:role/r", "stages": []}}"#,
            ))
        })
        .await;
        let pipeline = codepipeline(&endpoint)
            .await
            .get_pipeline()
            .name("shop")
            .send()
            .await
            .unwrap();
        assert_eq!(pipeline.pipeline().and_then(|p| p.version()), Some(7));
        let request = requests.lock().unwrap()[0].clone();
        assert!(request.starts_with("POST / HTTP/1.1\r\n"), "{request}");
        assert!(
            request.contains("x-amz-target: CodePipeline_20150709.GetPipeline"),
            "{request}"
        );
        assert!(request.contains("authorization: AWS4-HMAC-SHA256"), "{request}");
        assert!(request.ends_with(r#"{"name":"shop"}"#), "{request}");
    }

    #[tokio::test]
    async fn a_modeled_error_arrives_as_its_variant() {
        let (endpoint, _, _) = server(|_| {
            Some(json(
                "400 Bad Request",
                r#"{"__type": "PipelineNotFoundException", "message": "no pipeline shop"}"#,
            ))
        })
        .await;
        let error = codepipeline(&endpoint)
            .await
            .get_pipeline()
            .name("shop")
            .send()
            .await
            .unwrap_err();
        let error = error.into_service_error();
        assert!(error.is_pipeline_not_found_exception(), "{error}");
    }

    #[tokio::test]
    async fn a_connection_closed_without_an_answer_is_retried_as_io() {
        let (endpoint, connections, _) = server(|n| {
            (n == 2).then(|| {
                json(
                    "200 OK",
                    r#"{"pipeline": {"name": "shop", "roleArn": "r", "stages": []}}"#,
                )
            })
        })
        .await;
        let answered = codepipeline(&endpoint).await.get_pipeline().name("shop").send().await;
        assert!(answered.is_ok(), "the third attempt is answered");
        assert_eq!(connections.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_failure_after_every_attempt() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        a_dispatch_failure(&endpoint, ConnectorError::is_io).await;
    }

    #[tokio::test]
    async fn an_answer_that_never_comes_is_a_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        // Accepts, reads, and says nothing.
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        a_dispatch_failure(&endpoint, ConnectorError::is_timeout).await;
        silent.abort();
    }

    #[test]
    fn the_client_says_what_it_is() {
        let metadata = sdk_http_client().connector_metadata().unwrap();
        assert_eq!(metadata.to_string(), "http#reqwest-0.13");
    }
}
