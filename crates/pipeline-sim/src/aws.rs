//! What AWS's JSON 1.1 protocol answers look like, so the real SDK parses them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A modeled AWS error: the `__type` must be an error shape of the operation, so the SDK returns a typed variant.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AwsError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AwsError {
        AwsError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn validation(message: impl Into<String>) -> AwsError {
        AwsError::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }
}

/// An AWS JSON 1.1 success body.
pub fn json_ok(body: Value) -> Response {
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

/// An AWS JSON 1.1 error body.
pub fn json_error(error: &AwsError) -> Response {
    let body = json!({ "__type": error.code, "message": error.message });
    let mut response = (error.status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(error.code));
    response
}

/// Reads a required string member of a request body, or answers `ValidationException` naming it.
pub fn required_str<'a>(body: &'a Value, member: &str) -> Result<&'a str, AwsError> {
    body.get(member)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            AwsError::validation(format!(
                "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must not be null"
            ))
        })
}
