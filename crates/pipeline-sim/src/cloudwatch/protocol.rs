//! The RPC v2 CBOR envelope: checking a request's protocol headers, undoing `Content-Encoding: gzip`, decoding
//! the CBOR body; and writing success and error responses with the headers the SDK expects.
//!
//! CloudWatch is an `awsQueryCompatible` service: an error body carries `__type` (the error shape's ID), and the
//! `x-amzn-query-error: <Code>;<Sender|Receiver>` header carries the query-era code (`InvalidParameterValue`,
//! `ResourceNotFound`, ...). The SDK asks for that header with `x-amzn-query-mode: true` and matches modeled
//! errors on the header's code, so without it every error would come back unhandled.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::cbor::Cbor;
use super::error::CloudWatchError;

pub const CONTENT_TYPE: &str = "application/cbor";
pub const PROTOCOL: &str = "rpc-v2-cbor";

/// The request body as CBOR, after checking the protocol headers and undoing `Content-Encoding: gzip` (the SDK
/// compresses `PutMetricData` bodies of 10 KiB and more). An empty body is an empty input structure.
pub(super) fn read_request(headers: &HeaderMap, body: &[u8]) -> Result<Cbor, CloudWatchError> {
    let header_is = |name: &str, expected: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case(expected))
    };
    if !header_is("smithy-protocol", PROTOCOL) {
        return Err(CloudWatchError::serialization(
            "RPC v2 CBOR requests carry the header smithy-protocol: rpc-v2-cbor",
        ));
    }
    let inflated;
    let body = match headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()) {
        None => body,
        Some(encoding) if encoding.eq_ignore_ascii_case("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .map_err(|e| CloudWatchError::serialization(format!("the gzip request body does not inflate: {e}")))?;
            inflated = out;
            &inflated[..]
        }
        Some(other) => {
            return Err(CloudWatchError::serialization(format!(
                "unsupported Content-Encoding {other}"
            )));
        }
    };
    if body.is_empty() {
        return Ok(Cbor::Map(Vec::new()));
    }
    if !header_is(header::CONTENT_TYPE.as_str(), CONTENT_TYPE) {
        return Err(CloudWatchError::serialization(
            "RPC v2 CBOR request bodies are sent with Content-Type: application/cbor",
        ));
    }
    match Cbor::decode(body) {
        Ok(map @ Cbor::Map(_)) => Ok(map),
        Ok(other) => Err(CloudWatchError::serialization(format!(
            "the request body is a {}, not a map",
            other.kind()
        ))),
        Err(e) => Err(CloudWatchError::serialization(format!(
            "the request body is not CBOR: {e}"
        ))),
    }
}

fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("c10dc0de-{:04x}-4000-8000-{n:012x}", n & 0xffff)
}

fn base_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert("smithy-protocol", HeaderValue::from_static(PROTOCOL));
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        headers.insert("x-amzn-requestid", id);
    }
}

/// A success: the output structure as CBOR, or for an operation without output an empty body and no
/// Content-Type (what the protocol's `no_output` test expects).
pub(super) fn ok_response(body: Option<Cbor>) -> Response {
    let mut response = match body {
        Some(body) => {
            let mut response = (StatusCode::OK, body.encode()).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            response
        }
        None => StatusCode::OK.into_response(),
    };
    base_headers(&mut response);
    response
}

/// An error in RPC v2 CBOR: `{"__type": shape, "message": ..}`, plus the query-compatible code header when the
/// caller asked for it with `x-amzn-query-mode: true` (the SDK always does).
pub fn error_response(request_headers: &HeaderMap, error: &CloudWatchError) -> Response {
    let body = Cbor::map([
        ("__type", Cbor::text(error.shape)),
        ("message", Cbor::text(error.message.clone())),
    ]);
    let mut response = (error.status, body.encode()).into_response();
    base_headers(&mut response);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    let query_mode = request_headers
        .get("x-amzn-query-mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    if query_mode && let Ok(value) = HeaderValue::from_str(&format!("{};{}", error.code, error.fault)) {
        headers.insert("x-amzn-query-error", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn gzip_bodies_are_inflated_and_other_encodings_refused() {
        let body = Cbor::map([("Namespace", Cbor::text("App"))]).encode();
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(&body).unwrap();
        let gzipped = gzip.finish().unwrap();
        let cbor = [("smithy-protocol", PROTOCOL), ("content-type", CONTENT_TYPE)];
        let request = read_request(&headers(&[cbor[0], cbor[1], ("content-encoding", "gzip")]), &gzipped).unwrap();
        assert_eq!(request.get("Namespace"), Some(&Cbor::text("App")));

        let err = read_request(&headers(&[cbor[0], cbor[1], ("content-encoding", "br")]), &body).unwrap_err();
        assert_eq!(err.code, "SerializationException");
        let err = read_request(&headers(&[cbor[0], cbor[1], ("content-encoding", "gzip")]), &body).unwrap_err();
        assert!(err.message.contains("gzip"), "{err:?}");
    }

    #[test]
    fn protocol_headers_are_required() {
        let body = Cbor::Map(Vec::new()).encode();
        assert!(read_request(&headers(&[("content-type", CONTENT_TYPE)]), &body).is_err());
        assert!(read_request(&headers(&[("smithy-protocol", PROTOCOL)]), &body).is_err());
        assert_eq!(
            read_request(&headers(&[("smithy-protocol", PROTOCOL)]), &[]),
            Ok(Cbor::Map(Vec::new())),
            "an empty body is an empty input"
        );
        let not_a_map = Cbor::Int(1).encode();
        let both = [("smithy-protocol", PROTOCOL), ("content-type", CONTENT_TYPE)];
        assert!(read_request(&headers(&both), &not_a_map).is_err());
    }
}
