//! SNS `Publish` over the wire (AWS Query protocol: a form-encoded `POST /` with `Action=Publish`, an XML answer),
//! for functions that send notices to a topic. Topics exist once created here ([`SnsTopics::create_topic`]), carry
//! subscriptions (email, Chatbot, ...: recorded, not delivered), and keep every message published to them, as a
//! person subscribed would read it: subject, text and message attributes.
//!
//! Checked as SNS checks them: a `TopicArn` of an existing topic (`NotFound` otherwise); a `Message` of 1 byte to
//! 256 KiB; a `Subject` of 1 to 99 ASCII characters without line breaks or control characters; at most 10
//! message attributes, each with a `DataType` of String, Number or Binary and a value (`InvalidParameter`
//! otherwise, worded like SNS's "Invalid parameter: Subject"). Throttling is the `Throttling` code SNS answers
//! under load (what the SDK's retry classifier treats as throttling; `Publish` models no throttling error).
//!
//! The in-process [`crate::sns::Topics`] is a different thing: the topics approval actions publish to, fanned out
//! to subscribed functions.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::faults::{FaultKind, Service};
use crate::{ACCOUNT, REGION, SimState};

/// SNS's limits.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
pub const MAX_SUBJECT_CHARS: usize = 99;
pub const MAX_ATTRIBUTES: usize = 10;

/// One message as it was published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub topic_arn: String,
    pub message_id: String,
    pub subject: Option<String>,
    pub message: String,
    /// Name → (data type, value).
    pub attributes: BTreeMap<String, (String, String)>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default)]
struct Topic {
    subscriptions: Vec<String>,
}

#[derive(Default)]
pub struct SnsTopics {
    topics: BTreeMap<String, Topic>,
    published: Vec<Published>,
    counter: u64,
}

impl SnsTopics {
    /// Creates a topic named `name` (if new) and returns its ARN.
    pub fn create_topic(&mut self, name: &str) -> String {
        let arn = format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}");
        self.topics.entry(arn.clone()).or_default();
        arn
    }

    /// Subscribes an endpoint (`email:ops@example.com`, `https://chatbot...`) to a topic; `false` if none.
    pub fn subscribe(&mut self, topic_arn: &str, endpoint: &str) -> bool {
        match self.topics.get_mut(topic_arn) {
            Some(topic) => {
                topic.subscriptions.push(endpoint.to_owned());
                true
            }
            None => false,
        }
    }

    pub fn subscriptions(&self, topic_arn: &str) -> Vec<String> {
        self.topics
            .get(topic_arn)
            .map(|t| t.subscriptions.clone())
            .unwrap_or_default()
    }

    /// Every message published to `topic_arn`, oldest first.
    pub fn published(&self, topic_arn: &str) -> Vec<Published> {
        self.published
            .iter()
            .filter(|p| p.topic_arn == topic_arn)
            .cloned()
            .collect()
    }

    fn new_message_id(&mut self) -> String {
        self.counter += 1;
        let n = self.counter;
        format!("{n:08x}-5a5a-4{:03x}-8{:03x}-{n:012x}", n & 0xfff, (n >> 12) & 0xfff)
    }
}

/// An SNS error: its code (what the SDK matches on), whose fault, the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl SnsError {
    fn invalid(message: impl Into<String>) -> SnsError {
        SnsError {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidParameter",
            message: message.into(),
        }
    }
}

/// Whether a request is an AWS Query one (form-encoded): how the router tells SNS from the JSON services.
pub fn is_query_request(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}

pub fn error_response(error: &SnsError) -> Response {
    let fault = if error.status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    xml(
        error.status,
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message></Error>\
             <RequestId>5e5e5e5e-0000-4000-8000-000000000000</RequestId></ErrorResponse>",
            error.code,
            escape(&error.message)
        ),
    )
}

/// Serves one Query request: records the call, applies faults, answers.
pub async fn serve(state: &SimState, body: &[u8]) -> Response {
    let form: BTreeMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let action = form.get("Action").cloned().unwrap_or_default();
    state
        .calls
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((Service::Sns, action.clone()));
    if let Some(fault) = state.faults.take_for(Service::Sns, &action, body) {
        match fault {
            FaultKind::ServerError => {
                return error_response(&SnsError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "InternalError",
                    message: "injected fault: internal error".into(),
                });
            }
            FaultKind::Throttle => {
                return error_response(&SnsError {
                    status: StatusCode::BAD_REQUEST,
                    code: "Throttling",
                    message: "injected fault: Rate exceeded".into(),
                });
            }
            FaultKind::Delay(delay) => tokio::time::sleep(delay).await,
            FaultKind::Malformed(body) => return xml(StatusCode::OK, body),
        }
    }
    let answer = match action.as_str() {
        "Publish" => publish(&mut state.sns_topics(), &form),
        other => Err(SnsError::invalid(format!(
            "the simulator does not implement SNS.{other}"
        ))),
    };
    match answer {
        Ok(body) => xml(StatusCode::OK, body),
        Err(error) => error_response(&error),
    }
}

fn publish(topics: &mut SnsTopics, form: &BTreeMap<String, String>) -> Result<String, SnsError> {
    if form.contains_key("TargetArn") || form.contains_key("PhoneNumber") {
        return Err(SnsError::invalid(
            "Invalid parameter: the simulator publishes to topics only (TopicArn)",
        ));
    }
    let topic_arn = form.get("TopicArn").filter(|v| !v.is_empty()).ok_or_else(|| {
        SnsError::invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
    })?;
    let message = form.get("Message").cloned().unwrap_or_default();
    if message.is_empty() {
        return Err(SnsError::invalid("Invalid parameter: Empty message"));
    }
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(SnsError::invalid("Invalid parameter: Message too long"));
    }
    let subject = form.get("Subject").cloned();
    if let Some(subject) = &subject {
        let printable = subject.chars().all(|c| c.is_ascii() && !c.is_ascii_control());
        if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS || !printable {
            return Err(SnsError::invalid("Invalid parameter: Subject"));
        }
    }
    let mut attributes = BTreeMap::new();
    for n in 1.. {
        let key = |part: &str| format!("MessageAttributes.entry.{n}.{part}");
        let Some(name) = form.get(&key("Name")) else { break };
        let data_type = form.get(&key("Value.DataType")).cloned().unwrap_or_default();
        let value = form
            .get(&key("Value.StringValue"))
            .or_else(|| form.get(&key("Value.BinaryValue")))
            .cloned()
            .unwrap_or_default();
        let known_type = ["String", "Number", "Binary"]
            .iter()
            .any(|t| data_type == *t || data_type.starts_with(&format!("{t}.")));
        if !known_type || value.is_empty() {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: MessageAttributes Reason: Message attribute '{name}' must have a DataType and a value"
            )));
        }
        attributes.insert(name.clone(), (data_type, value));
    }
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(SnsError::invalid(
            "Invalid parameter: MessageAttributes Reason: Number of message attributes [11] exceeds the allowed maximum [10].",
        ));
    }
    if !topics.topics.contains_key(topic_arn) {
        return Err(SnsError {
            status: StatusCode::NOT_FOUND,
            code: "NotFound",
            message: "Topic does not exist".into(),
        });
    }
    let message_id = topics.new_message_id();
    topics.published.push(Published {
        topic_arn: topic_arn.clone(),
        message_id: message_id.clone(),
        subject,
        message,
        attributes,
        at: Utc::now(),
    });
    Ok(format!(
        "<PublishResponse xmlns=\"{NAMESPACE}\"><PublishResult><MessageId>{message_id}</MessageId></PublishResult>\
         <ResponseMetadata><RequestId>5e5e5e5e-0000-4000-8000-{:012x}</RequestId></ResponseMetadata></PublishResponse>",
        topics.counter
    ))
}
