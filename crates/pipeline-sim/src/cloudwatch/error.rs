//! [`CloudWatchError`]: every error the simulated CloudWatch answers, as the error shape its body names
//! (`__type`) and the query-era code the SDK matches on (see `protocol` for how both go on the wire).

use axum::http::StatusCode;

/// A CloudWatch error: the shape the body names and the query code the SDK matches on.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudWatchError {
    pub status: StatusCode,
    /// The `__type`: the error shape's Smithy ID.
    pub shape: &'static str,
    /// The `awsQueryError` code: what `ProvideErrorMetadata::code()` returns in the SDK.
    pub code: &'static str,
    /// `Sender` (the caller's fault) or `Receiver` (the service's).
    pub fault: &'static str,
    pub message: String,
}

impl CloudWatchError {
    fn new(status: StatusCode, shape: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        let fault = if status.is_server_error() { "Receiver" } else { "Sender" };
        CloudWatchError {
            status,
            shape,
            code,
            fault,
            message: message.into(),
        }
    }
    pub fn invalid_value(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazonaws.cloudwatch#InvalidParameterValueException",
            "InvalidParameterValue",
            message,
        )
    }
    pub fn missing(member: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazonaws.cloudwatch#MissingRequiredParameterException",
            "MissingParameter",
            format!("The parameter {member} is required."),
        )
    }
    pub fn combination(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazonaws.cloudwatch#InvalidParameterCombinationException",
            "InvalidParameterCombination",
            message,
        )
    }
    pub fn invalid_next_token() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazonaws.cloudwatch#InvalidNextToken",
            "InvalidNextToken",
            "The value of the NextToken parameter is invalid.",
        )
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "com.amazonaws.cloudwatch#ResourceNotFound",
            "ResourceNotFound",
            message,
        )
    }
    pub fn invalid_format(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazonaws.cloudwatch#InvalidFormatFault",
            "InvalidFormat",
            message,
        )
    }
    /// A constraint of the model (length, range, enum) that the operation does not model an error for.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazon.coral.validate#ValidationException",
            "ValidationError",
            message,
        )
    }
    /// What an injected server fault answers: 500, retried by the SDK as transient.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "com.amazonaws.cloudwatch#InternalServiceFault",
            "InternalServiceError",
            message,
        )
    }
    /// What an injected throttle answers: 400 `Throttling`, a code the SDK retries as throttling.
    pub fn throttling(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazon.coral.availability#ThrottlingException",
            "Throttling",
            message,
        )
    }
    pub(super) fn serialization(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazon.coral.service#SerializationException",
            "SerializationException",
            message,
        )
    }
}
