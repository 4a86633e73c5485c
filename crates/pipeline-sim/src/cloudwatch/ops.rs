//! The operations, their validation, and the RPC v2 CBOR envelope (headers, errors, gzip'd requests).
//!
//! CloudWatch is an `awsQueryCompatible` service: an error body carries `__type` (the error shape's ID), and the
//! `x-amzn-query-error: <Code>;<Sender|Receiver>` header carries the query-era code (`InvalidParameterValue`,
//! `ResourceNotFound`, ...). The SDK asks for that header with `x-amzn-query-mode: true` and matches modeled
//! errors on the header's code, so without it every error would come back unhandled.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};

use super::cbor::Cbor;
use super::{AlarmState, CloudWatchState, Datum, Dimension, MetricValue, Statistic, StatisticSet, now};
use crate::SimState;

pub const CONTENT_TYPE: &str = "application/cbor";
pub const PROTOCOL: &str = "rpc-v2-cbor";

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
    fn serialization(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazon.coral.service#SerializationException",
            "SerializationException",
            message,
        )
    }
}

type Answer = Result<Option<Cbor>, CloudWatchError>;

/// Answers one RPC v2 CBOR call to CloudWatch. Recording the call and injecting faults is the router's job.
pub fn serve(state: &SimState, operation: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let answer = read_request(headers, body).and_then(|request| {
        let mut cloudwatch = state.cloudwatch();
        match operation {
            "PutMetricData" => put_metric_data(&mut cloudwatch, &request),
            "DescribeAlarms" => describe_alarms(&cloudwatch, &request),
            "SetAlarmState" => set_alarm_state(&mut cloudwatch, &request),
            "GetMetricData" => get_metric_data(&cloudwatch, &request),
            other => Err(CloudWatchError::invalid_value(format!(
                "the simulator does not implement CloudWatch.{other}"
            ))),
        }
    });
    match answer {
        Ok(body) => ok_response(body),
        Err(error) => error_response(headers, &error),
    }
}

/// The request body as CBOR, after checking the protocol headers and undoing `Content-Encoding: gzip` (the SDK
/// compresses `PutMetricData` bodies of 10 KiB and more). An empty body is an empty input structure.
fn read_request(headers: &HeaderMap, body: &[u8]) -> Result<Cbor, CloudWatchError> {
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
fn ok_response(body: Option<Cbor>) -> Response {
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

// ---- Reading members ----

fn text<'a>(value: &'a Cbor, path: &str) -> Result<&'a str, CloudWatchError> {
    match value {
        Cbor::Text(s) => Ok(s),
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be a text string, not a {}",
            other.kind()
        ))),
    }
}

fn number(value: &Cbor, path: &str) -> Result<f64, CloudWatchError> {
    match value {
        Cbor::Float(x) => Ok(*x),
        Cbor::Int(n) => Ok(*n as f64),
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be a number, not a {}",
            other.kind()
        ))),
    }
}

fn integer(value: &Cbor, path: &str) -> Result<i64, CloudWatchError> {
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

fn boolean(value: &Cbor, path: &str) -> Result<bool, CloudWatchError> {
    match value {
        Cbor::Bool(b) => Ok(*b),
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be a boolean, not a {}",
            other.kind()
        ))),
    }
}

fn list<'a>(value: &'a Cbor, path: &str) -> Result<&'a [Cbor], CloudWatchError> {
    match value {
        Cbor::Array(items) => Ok(items),
        other => Err(CloudWatchError::serialization(format!(
            "{path} must be a list, not a {}",
            other.kind()
        ))),
    }
}

fn timestamp(value: &Cbor, path: &str) -> Result<DateTime<Utc>, CloudWatchError> {
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

fn required<'a>(request: &'a Cbor, path: &str, member: &str) -> Result<&'a Cbor, CloudWatchError> {
    request
        .get(member)
        .ok_or_else(|| CloudWatchError::missing(&join(path, member)))
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_owned()
    } else {
        format!("{path}.{member}")
    }
}

fn check_length(value: &str, path: &str, min: usize, max: usize) -> Result<(), CloudWatchError> {
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
fn check_length_validation(value: &str, path: &str, min: usize, max: usize) -> Result<(), CloudWatchError> {
    check_length(value, path, min, max).map_err(|e| CloudWatchError::validation(e.message))
}

// ---- PutMetricData ----

const STANDARD_UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// CloudWatch accepts values of magnitude up to 2^360 and no NaN or infinities.
fn check_value(value: f64, path: &str) -> Result<f64, CloudWatchError> {
    if value.is_finite() && value.abs() <= 2f64.powi(360) {
        Ok(value)
    } else {
        Err(CloudWatchError::invalid_value(format!(
            "The value {value} for parameter {path} is invalid."
        )))
    }
}

fn put_metric_data(cloudwatch: &mut CloudWatchState, request: &Cbor) -> Answer {
    let namespace = text(required(request, "", "Namespace")?, "Namespace")?;
    check_length(namespace, "Namespace", 1, 255)?;
    if namespace.starts_with("AWS/") || namespace.starts_with(':') {
        return Err(CloudWatchError::invalid_value(format!(
            "The value {namespace} for parameter Namespace is invalid: namespaces starting with \"AWS/\" are \
             reserved for AWS services."
        )));
    }
    // `MetricData`, then the datums of every `EntityMetricData` entry (the entity itself is not kept).
    let mut data: Vec<(String, &Cbor)> = Vec::new();
    if let Some(items) = request.get("MetricData") {
        for (i, item) in list(items, "MetricData")?.iter().enumerate() {
            data.push((format!("MetricData.member.{}", i + 1), item));
        }
    }
    if let Some(entities) = request.get("EntityMetricData") {
        for (e, entity) in list(entities, "EntityMetricData")?.iter().enumerate() {
            let path = format!("EntityMetricData.member.{}.MetricData", e + 1);
            if let Some(items) = entity.get("MetricData") {
                for (i, item) in list(items, &path)?.iter().enumerate() {
                    data.push((format!("{path}.member.{}", i + 1), item));
                }
            }
        }
    }
    if data.is_empty() {
        return Err(CloudWatchError::missing("MetricData"));
    }
    if data.len() > 1000 {
        return Err(CloudWatchError::invalid_value(
            "The collection MetricData must not have a size greater than 1000.",
        ));
    }
    let received = now();
    let datums = data
        .iter()
        .map(|(path, item)| read_datum(namespace, item, path, received))
        .collect::<Result<Vec<Datum>, CloudWatchError>>()?;
    cloudwatch.put_metric_data(datums);
    Ok(None)
}

fn read_datum(namespace: &str, item: &Cbor, path: &str, received: DateTime<Utc>) -> Result<Datum, CloudWatchError> {
    if !matches!(item, Cbor::Map(_)) {
        return Err(CloudWatchError::serialization(format!("{path} must be a structure")));
    }
    let metric_name = text(required(item, path, "MetricName")?, &join(path, "MetricName"))?;
    check_length(metric_name, &join(path, "MetricName"), 1, 255)?;
    let dimensions = read_dimensions(item.get("Dimensions"), &join(path, "Dimensions"))?;

    let timestamp = match item.get("Timestamp") {
        None => received,
        Some(value) => {
            let member = join(path, "Timestamp");
            let at = timestamp(value, &member)?;
            if at < received - Duration::days(14) {
                return Err(CloudWatchError::invalid_value(format!(
                    "The parameter {member} must specify a time no more than two weeks in the past."
                )));
            }
            if at > received + Duration::hours(2) {
                return Err(CloudWatchError::invalid_value(format!(
                    "The parameter {member} must specify a time no more than two hours in the future."
                )));
            }
            at
        }
    };

    let given: Vec<&str> = ["Value", "Values", "StatisticValues"]
        .into_iter()
        .filter(|m| item.get(m).is_some())
        .collect();
    if let [first, second, ..] = given[..] {
        return Err(CloudWatchError::combination(format!(
            "The parameters {path}.{first} and {path}.{second} are mutually exclusive and you have specified both."
        )));
    }
    if item.get("Counts").is_some() && item.get("Values").is_none() {
        return Err(CloudWatchError::combination(format!(
            "The parameter {path}.Counts may only be specified together with {path}.Values."
        )));
    }
    let value = match given.first().copied() {
        Some("Value") => {
            let member = join(path, "Value");
            MetricValue::Value(check_value(number(required(item, path, "Value")?, &member)?, &member)?)
        }
        Some("Values") => read_values(item, path)?,
        Some(_) => MetricValue::StatisticSet(read_statistic_set(item, path)?),
        None => return Err(CloudWatchError::missing(&join(path, "Value"))),
    };

    let unit = match item.get("Unit") {
        None => None,
        Some(unit) => {
            let member = join(path, "Unit");
            let unit = text(unit, &member)?;
            if !STANDARD_UNITS.contains(&unit) {
                return Err(CloudWatchError::invalid_value(format!(
                    "The value {unit} for parameter {member} is invalid."
                )));
            }
            Some(unit.to_owned())
        }
    };
    let storage_resolution = match item.get("StorageResolution") {
        None => 60,
        Some(value) => match integer(value, &join(path, "StorageResolution"))? {
            n @ (1 | 60) => n as i32,
            n => {
                return Err(CloudWatchError::invalid_value(format!(
                    "The value {n} for parameter {path}.StorageResolution is invalid: it must be 1 or 60."
                )));
            }
        },
    };
    Ok(Datum {
        namespace: namespace.to_owned(),
        metric_name: metric_name.to_owned(),
        dimensions,
        timestamp,
        value,
        unit,
        storage_resolution,
    })
}

fn read_dimensions(value: Option<&Cbor>, path: &str) -> Result<Vec<Dimension>, CloudWatchError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let items = list(value, path)?;
    if items.len() > 30 {
        return Err(CloudWatchError::invalid_value(format!(
            "The collection {path} must not have a size greater than 30."
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let member = format!("{path}.member.{}", i + 1);
            let name = text(required(item, &member, "Name")?, &join(&member, "Name"))?;
            check_length(name, &join(&member, "Name"), 1, 255)?;
            let value = text(required(item, &member, "Value")?, &join(&member, "Value"))?;
            check_length(value, &join(&member, "Value"), 1, 1024)?;
            Ok(Dimension::new(name, value))
        })
        .collect()
}

fn read_values(item: &Cbor, path: &str) -> Result<MetricValue, CloudWatchError> {
    let member = join(path, "Values");
    let values = list(required(item, path, "Values")?, &member)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let at = format!("{member}.member.{}", i + 1);
            check_value(number(v, &at)?, &at)
        })
        .collect::<Result<Vec<f64>, CloudWatchError>>()?;
    if values.len() > 150 {
        return Err(CloudWatchError::invalid_value(format!(
            "The collection {member} must not have a size greater than 150."
        )));
    }
    let counts = match item.get("Counts") {
        None => vec![1.0; values.len()],
        Some(counts) => {
            let counts_path = join(path, "Counts");
            let counts = list(counts, &counts_path)?
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let at = format!("{counts_path}.member.{}", i + 1);
                    let count = number(c, &at)?;
                    if count.is_finite() && count >= 0.0 {
                        Ok(count)
                    } else {
                        Err(CloudWatchError::invalid_value(format!(
                            "The value {count} for parameter {at} is invalid."
                        )))
                    }
                })
                .collect::<Result<Vec<f64>, CloudWatchError>>()?;
            if counts.len() != values.len() {
                return Err(CloudWatchError::invalid_value(format!(
                    "The parameters {member} and {counts_path} must be of the same size."
                )));
            }
            counts
        }
    };
    Ok(MetricValue::Values { values, counts })
}

fn read_statistic_set(item: &Cbor, path: &str) -> Result<StatisticSet, CloudWatchError> {
    let set_path = join(path, "StatisticValues");
    let set = required(item, path, "StatisticValues")?;
    let member = |name: &str| -> Result<f64, CloudWatchError> {
        let at = join(&set_path, name);
        check_value(number(required(set, &set_path, name)?, &at)?, &at)
    };
    let set = StatisticSet {
        sample_count: member("SampleCount")?,
        sum: member("Sum")?,
        minimum: member("Minimum")?,
        maximum: member("Maximum")?,
    };
    if set.sample_count <= 0.0 {
        return Err(CloudWatchError::invalid_value(format!(
            "The value {} for parameter {set_path}.SampleCount is invalid: it must be greater than 0.",
            set.sample_count
        )));
    }
    if set.minimum > set.maximum {
        return Err(CloudWatchError::invalid_value(format!(
            "The parameter {set_path}.Maximum must be greater than or equal to {set_path}.Minimum."
        )));
    }
    Ok(set)
}

// ---- DescribeAlarms ----

const DEFAULT_MAX_RECORDS: i64 = 50;

fn describe_alarms(cloudwatch: &CloudWatchState, request: &Cbor) -> Answer {
    let names: Option<Vec<&str>> = match request.get("AlarmNames") {
        None => None,
        Some(value) => {
            let items = list(value, "AlarmNames")?;
            if items.len() > 100 {
                return Err(CloudWatchError::validation(
                    "The collection AlarmNames must not have a size greater than 100.",
                ));
            }
            let names = items
                .iter()
                .map(|n| {
                    let name = text(n, "AlarmNames.member")?;
                    check_length_validation(name, "AlarmNames.member", 1, 255)?;
                    Ok(name)
                })
                .collect::<Result<Vec<&str>, CloudWatchError>>()?;
            Some(names)
        }
    };
    let prefix = match request.get("AlarmNamePrefix") {
        None => None,
        Some(value) => {
            let prefix = text(value, "AlarmNamePrefix")?;
            check_length_validation(prefix, "AlarmNamePrefix", 1, 255)?;
            Some(prefix)
        }
    };
    if names.as_ref().is_some_and(|n| !n.is_empty()) && prefix.is_some() {
        return Err(CloudWatchError::combination(
            "The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.",
        ));
    }
    let (metric_alarms, composite_alarms) = match request.get("AlarmTypes") {
        None => (true, false),
        Some(value) => {
            let mut types = (false, false);
            for t in list(value, "AlarmTypes")? {
                match text(t, "AlarmTypes.member")? {
                    "MetricAlarm" => types.0 = true,
                    "CompositeAlarm" => types.1 = true,
                    other => {
                        return Err(CloudWatchError::validation(format!(
                            "1 validation error detected: Value '{other}' at 'alarmTypes' failed to satisfy \
                             constraint: Member must satisfy enum value set: [CompositeAlarm, MetricAlarm]"
                        )));
                    }
                }
            }
            if types == (false, false) { (true, false) } else { types }
        }
    };
    let state = match request.get("StateValue") {
        None => None,
        Some(value) => {
            let name = text(value, "StateValue")?;
            Some(AlarmState::parse(name).ok_or_else(|| {
                CloudWatchError::validation(format!(
                    "1 validation error detected: Value '{name}' at 'stateValue' failed to satisfy constraint: \
                     Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
                ))
            })?)
        }
    };
    let action_prefix = match request.get("ActionPrefix") {
        None => None,
        Some(value) => {
            let prefix = text(value, "ActionPrefix")?;
            check_length_validation(prefix, "ActionPrefix", 1, 1024)?;
            Some(prefix)
        }
    };
    // Children and parents relate composite alarms, which the simulator does not keep: such a query
    // matches no metric alarm.
    let related_only = request.get("ChildrenOfAlarmName").is_some() || request.get("ParentsOfAlarmName").is_some();
    let max_records = match request.get("MaxRecords") {
        None => DEFAULT_MAX_RECORDS,
        Some(value) => match integer(value, "MaxRecords")? {
            n @ 1..=100 => n,
            n => {
                return Err(CloudWatchError::validation(format!(
                    "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: \
                     Member must have value between 1 and 100"
                )));
            }
        },
    } as usize;

    // The token names the query it belongs to and the last alarm handed out, so a page stays put while
    // alarms are added or removed elsewhere in the list.
    let scope = format!(
        "DescribeAlarms|{names:?}|{prefix:?}|{metric_alarms}|{composite_alarms}|{state:?}|{action_prefix:?}|{related_only}"
    );
    let after = match request.get("NextToken") {
        None => None,
        Some(value) => {
            let token = text(value, "NextToken")?;
            Some(decode_token(token, &scope).ok_or_else(CloudWatchError::invalid_next_token)?)
        }
    };

    let matching: Vec<&super::Alarm> = if metric_alarms && !related_only {
        cloudwatch
            .alarms()
            .filter(|a| {
                names
                    .as_ref()
                    .is_none_or(|n| n.is_empty() || n.contains(&a.name.as_str()))
            })
            .filter(|a| prefix.is_none_or(|p| a.name.starts_with(p)))
            .filter(|a| state.is_none_or(|s| a.state == s))
            .filter(|a| {
                action_prefix.is_none_or(|p| {
                    a.alarm_actions
                        .iter()
                        .chain(&a.ok_actions)
                        .chain(&a.insufficient_data_actions)
                        .any(|action| action.starts_with(p))
                })
            })
            .filter(|a| after.as_deref().is_none_or(|last| a.name.as_str() > last))
            .collect()
    } else {
        Vec::new()
    };
    let next_token = (matching.len() > max_records).then(|| encode_token(&scope, &matching[max_records - 1].name));
    let page = &matching[..matching.len().min(max_records)];

    Ok(Some(Cbor::map([
        (
            "MetricAlarms",
            if metric_alarms {
                Cbor::list(page.iter().copied(), metric_alarm)
            } else {
                Cbor::Null
            },
        ),
        (
            "CompositeAlarms",
            if composite_alarms {
                Cbor::Array(Vec::new())
            } else {
                Cbor::Null
            },
        ),
        ("NextToken", Cbor::opt_text(next_token.as_deref())),
    ])))
}

fn metric_alarm(alarm: &super::Alarm) -> Cbor {
    let strings = |items: &[String]| Cbor::list(items.iter(), |s| Cbor::text(s.clone()));
    Cbor::map([
        ("AlarmName", Cbor::text(alarm.name.clone())),
        ("AlarmArn", Cbor::text(alarm.arn.clone())),
        ("AlarmDescription", Cbor::opt_text(alarm.description.as_deref())),
        (
            "AlarmConfigurationUpdatedTimestamp",
            Cbor::timestamp(alarm.configuration_updated),
        ),
        ("ActionsEnabled", Cbor::Bool(alarm.actions_enabled)),
        ("OKActions", strings(&alarm.ok_actions)),
        ("AlarmActions", strings(&alarm.alarm_actions)),
        ("InsufficientDataActions", strings(&alarm.insufficient_data_actions)),
        ("StateValue", Cbor::text(alarm.state.as_str())),
        ("StateReason", Cbor::text(alarm.state_reason.clone())),
        ("StateReasonData", Cbor::opt_text(alarm.state_reason_data.as_deref())),
        ("StateUpdatedTimestamp", Cbor::timestamp(alarm.state_updated)),
        ("MetricName", Cbor::text(alarm.metric_name.clone())),
        ("Namespace", Cbor::text(alarm.namespace.clone())),
        ("Statistic", Cbor::text(alarm.statistic.as_str())),
        ("Dimensions", Cbor::list(&alarm.dimensions, dimension)),
        ("Period", Cbor::Int(i128::from(alarm.period))),
        ("Unit", Cbor::opt_text(alarm.unit.as_deref())),
        ("EvaluationPeriods", Cbor::Int(i128::from(alarm.evaluation_periods))),
        (
            "DatapointsToAlarm",
            alarm
                .datapoints_to_alarm
                .map_or(Cbor::Null, |n| Cbor::Int(i128::from(n))),
        ),
        ("Threshold", Cbor::Float(alarm.threshold)),
        ("ComparisonOperator", Cbor::text(alarm.comparison.as_str())),
        ("TreatMissingData", Cbor::text(alarm.treat_missing_data.as_str())),
        ("StateTransitionedTimestamp", Cbor::timestamp(alarm.state_transitioned)),
    ])
}

fn dimension(dimension: &Dimension) -> Cbor {
    Cbor::map([
        ("Name", Cbor::text(dimension.name.clone())),
        ("Value", Cbor::text(dimension.value.clone())),
    ])
}

// ---- SetAlarmState ----

fn set_alarm_state(cloudwatch: &mut CloudWatchState, request: &Cbor) -> Answer {
    let name = text(required(request, "", "AlarmName")?, "AlarmName")?;
    check_length_validation(name, "AlarmName", 1, 255)?;
    let state_name = text(required(request, "", "StateValue")?, "StateValue")?;
    let state = AlarmState::parse(state_name).ok_or_else(|| {
        CloudWatchError::validation(format!(
            "1 validation error detected: Value '{state_name}' at 'stateValue' failed to satisfy constraint: \
             Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
        ))
    })?;
    let reason = text(required(request, "", "StateReason")?, "StateReason")?;
    check_length_validation(reason, "StateReason", 0, 1023)?;
    let reason_data = match request.get("StateReasonData") {
        None => None,
        Some(value) => {
            let data = text(value, "StateReasonData")?;
            check_length_validation(data, "StateReasonData", 0, 4000)?;
            if let Err(e) = serde_json::from_str::<serde_json::Value>(data) {
                return Err(CloudWatchError::invalid_format(format!(
                    "StateReasonData is not valid JSON: {e}"
                )));
            }
            Some(data.to_owned())
        }
    };
    // AWS: the reason and update time always change; the transition time only with the state value.
    cloudwatch
        .change_state(name, state, reason, reason_data, now(), false)
        .ok_or_else(|| CloudWatchError::not_found(format!("Alarm {name} not found")))?;
    Ok(None)
}

// ---- GetMetricData ----

const DEFAULT_MAX_DATAPOINTS: i64 = 100_800;

/// One query's answer before paging: (timestamp, value) in the order asked for, or why there are none.
struct QueryResult {
    id: String,
    label: String,
    points: Vec<(DateTime<Utc>, f64)>,
    unsupported: Option<String>,
}

fn get_metric_data(cloudwatch: &CloudWatchState, request: &Cbor) -> Answer {
    let queries = list(required(request, "", "MetricDataQueries")?, "MetricDataQueries")?;
    if queries.is_empty() || queries.len() > 500 {
        return Err(CloudWatchError::validation(
            "The collection MetricDataQueries must have between 1 and 500 members.",
        ));
    }
    let start = timestamp(required(request, "", "StartTime")?, "StartTime")?;
    let end = timestamp(required(request, "", "EndTime")?, "EndTime")?;
    if start >= end {
        return Err(CloudWatchError::validation(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let ascending = match request.get("ScanBy") {
        None => false,
        Some(value) => match text(value, "ScanBy")? {
            "TimestampDescending" => false,
            "TimestampAscending" => true,
            other => {
                return Err(CloudWatchError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'scanBy' failed to satisfy constraint: \
                     Member must satisfy enum value set: [TimestampDescending, TimestampAscending]"
                )));
            }
        },
    };
    let max_datapoints = match request.get("MaxDatapoints") {
        None => DEFAULT_MAX_DATAPOINTS,
        Some(value) => match integer(value, "MaxDatapoints")? {
            n if n >= 1 => n,
            n => {
                return Err(CloudWatchError::validation(format!(
                    "The value {n} for parameter MaxDatapoints is invalid: it must be at least 1."
                )));
            }
        },
    } as usize;

    let mut results = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for (i, query) in queries.iter().enumerate() {
        let path = format!("MetricDataQueries.member.{}", i + 1);
        let id = text(required(query, &path, "Id")?, &join(&path, "Id"))?;
        let valid_id = id.len() <= 255
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_id {
            return Err(CloudWatchError::validation(format!(
                "The value {id} for parameter {path}.Id is invalid: it must start with a lowercase letter and \
                 contain only letters, numbers and underscores."
            )));
        }
        if ids.contains(&id) {
            return Err(CloudWatchError::validation(format!(
                "The values of MetricDataQueries Id must be unique; {id} is used more than once."
            )));
        }
        ids.push(id);
        let return_data = match query.get("ReturnData") {
            None => true,
            Some(value) => boolean(value, &join(&path, "ReturnData"))?,
        };
        let label = match query.get("Label") {
            None => None,
            Some(value) => Some(text(value, &join(&path, "Label"))?.to_owned()),
        };
        let result = match (query.get("MetricStat"), query.get("Expression")) {
            (Some(stat), None) => metric_stat(cloudwatch, stat, &join(&path, "MetricStat"), id, label, start, end)?,
            (None, Some(expression)) => QueryResult {
                id: id.to_owned(),
                label: label.unwrap_or_else(|| id.to_owned()),
                points: Vec::new(),
                unsupported: Some(format!(
                    "the simulator does not evaluate metric math expressions ({})",
                    text(expression, &join(&path, "Expression"))?
                )),
            },
            _ => {
                return Err(CloudWatchError::validation(format!(
                    "Exactly one of {path}.MetricStat and {path}.Expression must be specified."
                )));
            }
        };
        if return_data {
            results.push(result);
        }
    }
    for result in &mut results {
        if ascending {
            result.points.sort_by_key(|(at, _)| *at);
        } else {
            result.points.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        }
    }

    // Pages of at most MaxDatapoints points across the results; the token holds the query and the offset.
    let query_members = match request {
        Cbor::Map(members) => members
            .iter()
            .filter(|(key, _)| key != "NextToken" && key != "MaxDatapoints")
            .collect(),
        _ => Vec::new(),
    };
    let scope = format!("GetMetricData|{query_members:?}");
    let offset = match request.get("NextToken") {
        None => 0,
        Some(value) => decode_token(text(value, "NextToken")?, &scope)
            .and_then(|cursor| cursor.parse::<usize>().ok())
            .ok_or_else(CloudWatchError::invalid_next_token)?,
    };
    let total: usize = results.iter().map(|r| r.points.len()).sum();
    if offset > total {
        return Err(CloudWatchError::invalid_next_token());
    }
    let page_end = (offset + max_datapoints).min(total);
    let mut seen = 0;
    let answers: Vec<Cbor> = results
        .iter()
        .map(|result| {
            let from = offset.saturating_sub(seen).min(result.points.len());
            let to = page_end.saturating_sub(seen).min(result.points.len());
            seen += result.points.len();
            let points = &result.points[from..to];
            let status = match (&result.unsupported, to < result.points.len()) {
                (Some(_), _) => "InternalError",
                (None, true) => "PartialData",
                (None, false) => "Complete",
            };
            Cbor::map([
                ("Id", Cbor::text(result.id.clone())),
                ("Label", Cbor::text(result.label.clone())),
                ("Timestamps", Cbor::list(points, |(at, _)| Cbor::timestamp(*at))),
                ("Values", Cbor::list(points, |(_, v)| Cbor::Float(*v))),
                ("StatusCode", Cbor::text(status)),
                (
                    "Messages",
                    match &result.unsupported {
                        Some(message) => Cbor::Array(vec![Cbor::map([
                            ("Code", Cbor::text("Unsupported")),
                            ("Value", Cbor::text(message.clone())),
                        ])]),
                        None => Cbor::Null,
                    },
                ),
            ])
        })
        .collect();
    let next_token = (page_end < total).then(|| encode_token(&scope, &page_end.to_string()));
    Ok(Some(Cbor::map([
        ("MetricDataResults", Cbor::Array(answers)),
        ("NextToken", Cbor::opt_text(next_token.as_deref())),
        ("Messages", Cbor::Array(Vec::new())),
    ])))
}

fn metric_stat(
    cloudwatch: &CloudWatchState,
    stat: &Cbor,
    path: &str,
    id: &str,
    label: Option<String>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<QueryResult, CloudWatchError> {
    let metric_path = join(path, "Metric");
    let metric = required(stat, path, "Metric")?;
    let namespace = text(
        required(metric, &metric_path, "Namespace")?,
        &join(&metric_path, "Namespace"),
    )?;
    let metric_name = text(
        required(metric, &metric_path, "MetricName")?,
        &join(&metric_path, "MetricName"),
    )?;
    let dimensions = read_dimensions(metric.get("Dimensions"), &join(&metric_path, "Dimensions"))
        .map_err(|e| CloudWatchError::validation(e.message))?;
    let period = integer(required(stat, path, "Period")?, &join(path, "Period"))?;
    if !(matches!(period, 1 | 5 | 10 | 30) || (period >= 60 && period % 60 == 0)) {
        return Err(CloudWatchError::validation(format!(
            "The value {period} for parameter {path}.Period is invalid: it must be 1, 5, 10, 30 or a multiple of 60."
        )));
    }
    let stat_name = text(required(stat, path, "Stat")?, &join(path, "Stat"))?;
    let unit = match stat.get("Unit") {
        None => None,
        Some(value) => Some(text(value, &join(path, "Unit"))?),
    };
    let label = label.unwrap_or_else(|| metric_name.to_owned());
    let Some(statistic) = Statistic::parse(stat_name) else {
        return Ok(QueryResult {
            id: id.to_owned(),
            label,
            points: Vec::new(),
            unsupported: Some(format!("the simulator does not compute the statistic {stat_name}")),
        });
    };
    // Periods aligned to the epoch, as CloudWatch aligns them.
    let mut buckets: std::collections::BTreeMap<i64, StatisticSet> = std::collections::BTreeMap::new();
    for datum in cloudwatch.datums() {
        let in_range = datum.timestamp >= start && datum.timestamp < end;
        let unit_matches = unit.is_none_or(|u| datum.unit.as_deref().unwrap_or("None") == u);
        if in_range && unit_matches && datum.is_metric(namespace, metric_name, &dimensions) {
            let Some(set) = datum.value.summary() else { continue };
            let bucket = datum.timestamp.timestamp().div_euclid(period) * period;
            buckets
                .entry(bucket)
                .and_modify(|total| *total = total.merge(set))
                .or_insert(set);
        }
    }
    let points = buckets
        .into_iter()
        .filter_map(|(bucket, set)| Some((DateTime::from_timestamp(bucket, 0)?, statistic.of(&set))))
        .collect();
    Ok(QueryResult {
        id: id.to_owned(),
        label,
        points,
        unsupported: None,
    })
}

// ---- Tokens ----

/// An opaque token: the query it belongs to and a cursor, hex-encoded.
fn encode_token(scope: &str, cursor: &str) -> String {
    format!("{scope}\n{cursor}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_token(token: &str, scope: &str) -> Option<String> {
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (token_scope, cursor) = text.rsplit_once('\n')?;
    (token_scope == scope).then(|| cursor.to_owned())
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

    #[test]
    fn tokens_belong_to_their_query() {
        let token = encode_token("scope-a", "alarm-3");
        assert_eq!(decode_token(&token, "scope-a").as_deref(), Some("alarm-3"));
        assert_eq!(decode_token(&token, "scope-b"), None);
        assert_eq!(decode_token("zz", "scope-a"), None);
    }
}
