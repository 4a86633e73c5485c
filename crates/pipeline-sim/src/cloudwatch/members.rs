//! Reading request members out of a decoded CBOR request, each checked as the model says (type, length),
//! with errors naming the member by its query-style path (`MetricData.member.1.Value`). Shared by every
//! operation.

use chrono::{DateTime, Utc};

use super::cbor::Cbor;
use super::error::CloudWatchError;

pub(super) fn text<'a>(value: &'a Cbor, path: &str) -> Result<&'a str, CloudWatchError> {
    match value {
        Cbor::Text(s) => Ok(s),
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be a text string, not a {}",
            other.kind()
        ))),
    }
}

pub(super) fn number(value: &Cbor, path: &str) -> Result<f64, CloudWatchError> {
    match value {
        Cbor::Float(x) => Ok(*x),
        Cbor::Int(n) => Ok(*n as f64),
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be a number, not a {}",
            other.kind()
        ))),
    }
}

pub(super) fn integer(value: &Cbor, path: &str) -> Result<i64, CloudWatchError> {
    match value {
        Cbor::Int(n) => {
            i64::try_from(*n).map_err(|_| CloudWatchError::invalid_value(format!("{path} is out of range")))
        }
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be an integer, not a {}",
            other.kind()
        ))),
    }
}

pub(super) fn boolean(value: &Cbor, path: &str) -> Result<bool, CloudWatchError> {
    match value {
        Cbor::Bool(b) => Ok(*b),
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be a boolean, not a {}",
            other.kind()
        ))),
    }
}

pub(super) fn list<'a>(value: &'a Cbor, path: &str) -> Result<&'a [Cbor], CloudWatchError> {
    match value {
        Cbor::Array(items) => Ok(items),
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be a list, not a {}",
            other.kind()
        ))),
    }
}

pub(super) fn timestamp(value: &Cbor, path: &str) -> Result<DateTime<Utc>, CloudWatchError> {
    match value {
        Cbor::Timestamp(seconds) if seconds.is_finite() => {
            DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64).ok_or_else(|| {
                CloudWatchError::invalid_value(format!("The value for parameter {path} is out of range."))
            })
        }
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be a tag 1 timestamp, not a {}",
            other.kind()
        ))),
    }
}

pub(super) fn required<'a>(request: &'a Cbor, path: &str, member: &str) -> Result<&'a Cbor, CloudWatchError> {
    request
        .get(member)
        .ok_or_else(|| CloudWatchError::missing(&join(path, member)))
}

pub(super) fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_owned()
    } else {
        format!("{path}.{member}")
    }
}

pub(super) fn check_length(value: &str, path: &str, min: usize, max: usize) -> Result<(), CloudWatchError> {
    let length = value.chars().count();
    if (min..=max).contains(&length) {
        Ok(())
    } else {
        Err(CloudWatchError::invalid_value(format!(
            "The parameter {path} must be between {min} and {max} characters long."
        )))
    }
}

/// Like [`check_length`] for operations that model no `InvalidParameterValue`: AWS answers `ValidationError`.
pub(super) fn check_length_validation(value: &str, path: &str, min: usize, max: usize) -> Result<(), CloudWatchError> {
    check_length(value, path, min, max).map_err(|e| CloudWatchError::validation(e.message))
}
