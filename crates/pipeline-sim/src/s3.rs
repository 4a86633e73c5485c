//! S3 (REST-XML), as far as CodePipeline artifacts go: `GetObject` by path-style URL (`GET /{bucket}/{key}`),
//! objects that tests and releases put in, and S3's XML errors (`NoSuchKey`, `NoSuchBucket`, `AccessDenied`,
//! `InternalError`, `SlowDown`), so the real SDK reads them as it reads S3's.
//!
//! Only a job's artifact credentials may read (the access key id and session token the request is signed with
//! must be a current job's): a function that signed with its own role, as it would without the job's
//! credentials, gets `AccessDenied`, as it would from a real artifact bucket. The SigV4 signature is verified as S3
//! verifies it (recomputed from the request as it arrived, with the job's secret), so a client that signs one
//! thing and sends another (a path encoded twice, a host without its port) is refused here as S3 would refuse it.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::SimState;
use crate::faults::{FaultKind, Service};

/// An object as S3 keeps it.
#[derive(Clone, Debug)]
pub struct StoredObject {
    pub body: Vec<u8>,
    pub last_modified: DateTime<Utc>,
}

/// Buckets and their objects.
#[derive(Default)]
pub struct S3State {
    buckets: BTreeMap<String, BTreeMap<String, StoredObject>>,
}

impl S3State {
    /// Creates the bucket if it does not exist yet.
    pub fn create_bucket(&mut self, bucket: &str) {
        self.buckets.entry(bucket.to_owned()).or_default();
    }

    /// Stores (or replaces) an object, creating its bucket if needed.
    pub fn put_object(&mut self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) {
        let object = StoredObject {
            body: body.into(),
            last_modified: Utc::now(),
        };
        self.buckets
            .entry(bucket.to_owned())
            .or_default()
            .insert(key.to_owned(), object);
    }

    pub fn object(&self, bucket: &str, key: &str) -> Option<&StoredObject> {
        self.buckets.get(bucket)?.get(key)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<&StoredObject, S3Error> {
        let objects = self
            .buckets
            .get(bucket)
            .ok_or_else(|| S3Error::no_such_bucket(bucket))?;
        objects.get(key).ok_or_else(|| S3Error::no_such_key(key))
    }
}

/// An error in S3's shape: `<Error><Code>…</Code><Message>…</Message>…</Error>` with its HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Error {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra members S3 adds for some codes (`Key`, `BucketName`).
    pub extra: Vec<(&'static str, String)>,
}

impl S3Error {
    pub fn no_such_key(key: &str) -> S3Error {
        S3Error {
            status: StatusCode::NOT_FOUND,
            code: "NoSuchKey",
            message: "The specified key does not exist.".into(),
            extra: vec![("Key", key.to_owned())],
        }
    }

    pub fn no_such_bucket(bucket: &str) -> S3Error {
        S3Error {
            status: StatusCode::NOT_FOUND,
            code: "NoSuchBucket",
            message: "The specified bucket does not exist".into(),
            extra: vec![("BucketName", bucket.to_owned())],
        }
    }

    pub fn access_denied() -> S3Error {
        S3Error {
            status: StatusCode::FORBIDDEN,
            code: "AccessDenied",
            message: "Access Denied".into(),
            extra: Vec::new(),
        }
    }

    pub fn internal(message: &str) -> S3Error {
        S3Error {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "InternalError",
            message: message.to_owned(),
            extra: Vec::new(),
        }
    }

    pub fn slow_down(message: &str) -> S3Error {
        S3Error {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "SlowDown",
            message: message.to_owned(),
            extra: Vec::new(),
        }
    }

    fn into_response(self, request_id: &str) -> Response {
        let mut body = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>{}<Error><Code>{}</Code><Message>{}</Message>"#,
            '\n',
            self.code,
            xml_escape(&self.message)
        );
        for (name, value) in &self.extra {
            body.push_str(&format!("<{name}>{}</{name}>", xml_escape(value)));
        }
        body.push_str(&format!(
            "<RequestId>{request_id}</RequestId><HostId>{}</HostId></Error>",
            host_id(request_id)
        ));
        let mut response = (self.status, body).into_response();
        set(&mut response, header::CONTENT_TYPE.as_str(), "application/xml");
        set_request_ids(&mut response, request_id);
        response
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn set(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

fn set_request_ids(response: &mut Response, request_id: &str) {
    set(response, "x-amz-request-id", request_id);
    set(response, "x-amz-id-2", &host_id(request_id));
}

/// S3's request ids are 16 upper-case hex digits.
fn new_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:016X}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A quoted, content-derived entity tag (S3's is the MD5 of the body; any stable digest serves a reader).
fn etag(body: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
}

fn host_id(request_id: &str) -> String {
    format!("sim/{request_id}")
}

/// The access key id a SigV4 `Authorization` header was signed with
/// (`AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/s3/aws4_request, ...`).
fn access_key_id(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    credential.split('/').next().filter(|id| !id.is_empty())
}

/// Whether the request is signed with a current job's artifact credentials (key id and session token), and the
/// signature is the one that job's secret makes of the request as it arrived.
fn signed_by_a_job(state: &SimState, path_and_query: &str, headers: &HeaderMap) -> bool {
    let Some(key_id) = access_key_id(headers) else {
        return false;
    };
    let token = headers.get("x-amz-security-token").and_then(|t| t.to_str().ok());
    let now = Utc::now();
    state.world().jobs.iter().any(|job| {
        let credentials = &job.credentials;
        credentials.access_key_id == key_id
            && token == Some(credentials.session_token.as_str())
            && credentials.expiration > now
            && signature_verifies(path_and_query, headers, credentials)
    })
}

/// SigV4 as S3 checks it: the canonical request rebuilt from the method, the path as sent (S3 neither normalises
/// nor re-encodes it), the headers the signature names, and the payload hash it claims; signed with the secret at
/// the time the request says; compared with the signature it carries.
fn signature_verifies(
    path_and_query: &str,
    headers: &HeaderMap,
    credentials: &crate::model::ArtifactCredentials,
) -> bool {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
        UriPathNormalizationMode, sign,
    };
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(authorization) = text("authorization") else {
        return false;
    };
    let field = |name: &str| {
        authorization
            .split(name)
            .nth(1)
            .map(|rest| rest.split([',', ' ']).next().unwrap_or_default())
    };
    let (Some(scope), Some(signed_headers), Some(signature)) =
        (field("Credential="), field("SignedHeaders="), field("Signature="))
    else {
        return false;
    };
    let Some(region) = scope.split('/').nth(2) else {
        return false;
    };
    let Some(time) = text("x-amz-date")
        .and_then(|date| chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ").ok())
        .map(|date| std::time::SystemTime::from(date.and_utc()))
    else {
        return false;
    };
    let payload = text("x-amz-content-sha256").unwrap_or("UNSIGNED-PAYLOAD");
    // The signer adds these three itself (from the time, the identity and the payload), as the client's did.
    let added = ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];
    let named: Vec<(&str, &str)> = signed_headers
        .split(';')
        .filter(|name| !added.contains(name))
        .map(|name| (name, text(name).unwrap_or_default()))
        .collect();
    let Some(host) = text("host") else { return false };
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        Some(credentials.session_token.clone()),
        None,
        "simulator",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let Ok(params) = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
    else {
        return false;
    };
    let body = if payload == "UNSIGNED-PAYLOAD" {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Precomputed(payload.to_owned())
    };
    let url = format!("http://{host}{path_and_query}");
    let Ok(request) = SignableRequest::new("GET", url, named.into_iter(), body) else {
        return false;
    };
    sign(request, &params.into()).is_ok_and(|output| output.signature() == signature)
}

/// `GET /{bucket}/{key}`: S3's `GetObject` with path-style addressing (the SDK's `force_path_style`, which it
/// uses against an endpoint URL override). Recorded and faulted like the other services.
pub async fn get_object(
    State(state): State<Arc<SimState>>,
    Path((bucket, key)): Path<(String, String)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    state
        .calls
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((Service::S3, "GetObject".to_owned()));
    let request_id = new_request_id();

    if let Some(fault) = state.faults.take(Service::S3, "GetObject") {
        match fault {
            FaultKind::ServerError => {
                return S3Error::internal("injected fault: We encountered an internal error. Please try again.")
                    .into_response(&request_id);
            }
            FaultKind::Throttle => {
                return S3Error::slow_down("injected fault: Please reduce your request rate.")
                    .into_response(&request_id);
            }
            FaultKind::Delay(delay) => tokio::time::sleep(delay).await,
            // GetObject's answer is the object: a malformed one is bytes that are not the artifact.
            FaultKind::Malformed(body) => return (StatusCode::OK, body).into_response(),
        }
    }

    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    if !signed_by_a_job(&state, path_and_query, &headers) {
        return S3Error::access_denied().into_response(&request_id);
    }
    let object = match state.s3().get(&bucket, &key) {
        Ok(object) => object.clone(),
        Err(error) => return error.into_response(&request_id),
    };
    let (length, tag) = (object.body.len(), etag(&object.body));
    let mut response = (StatusCode::OK, object.body).into_response();
    set(&mut response, header::CONTENT_TYPE.as_str(), "application/zip");
    set(&mut response, header::CONTENT_LENGTH.as_str(), &length.to_string());
    set(
        &mut response,
        header::LAST_MODIFIED.as_str(),
        &object.last_modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
    );
    set(&mut response, header::ETAG.as_str(), &tag);
    set(&mut response, header::ACCEPT_RANGES.as_str(), "bytes");
    set_request_ids(&mut response, &request_id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_key_comes_from_the_authorization_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261122/us-east-1/s3/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=abc",
            ),
        );
        assert_eq!(access_key_id(&headers), Some("ASIAEXAMPLE"));
        assert_eq!(access_key_id(&HeaderMap::new()), None);
    }

    #[test]
    fn errors_are_escaped_xml() {
        let response = S3Error::no_such_key("a<b>&c").into_response("req-1");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["x-amz-request-id"], "req-1");
    }
}
