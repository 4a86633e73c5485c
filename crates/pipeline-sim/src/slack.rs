//! A Slack incoming-webhook sink: records what the functions post, answers like Slack (including its errors, by
//! script or by [`crate::Fault`]s on [`Service::Slack`] for a route), and rejects what Slack would reject.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::SimState;
use crate::faults::{FaultKind, Service};

/// A message Slack accepted.
#[derive(Clone, Debug)]
pub struct SlackMessage {
    /// The webhook path after `/slack/`, e.g. `T000/B000/default`: the channel, for tests.
    pub route: String,
    pub body: Value,
    pub at: Instant,
}

/// One request to the webhook, whatever the answer.
#[derive(Clone, Debug)]
pub struct SlackAttempt {
    pub route: String,
    pub status: u16,
    /// Why a payload was rejected, or which scripted reply answered.
    pub detail: Option<String>,
    pub at: Instant,
}

/// A scripted answer for the next request to a route.
#[derive(Clone, Debug, PartialEq)]
pub enum SlackReply {
    /// Handle the request normally (validate, record, answer `ok`).
    Ok,
    /// 429 `rate_limited` with `Retry-After`.
    RateLimited { retry_after_secs: u64 },
    /// 500 `rollup_error`.
    ServerError,
    /// 400 `invalid_payload`, whatever the payload.
    InvalidPayload,
    /// 403 `action_prohibited`.
    Forbidden,
    /// 404 `channel_not_found`.
    ChannelNotFound,
    /// 410 `channel_is_archived`.
    ChannelArchived,
    /// Handle the request normally, after this delay.
    Slow(Duration),
}

#[derive(Default)]
pub struct SlackSink {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    messages: Vec<SlackMessage>,
    attempts: Vec<SlackAttempt>,
    scripts: HashMap<String, VecDeque<SlackReply>>,
}

impl SlackSink {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next requests to `route` get these replies, in order; then the route answers normally again.
    pub fn script(&self, route: &str, replies: impl IntoIterator<Item = SlackReply>) {
        self.inner()
            .scripts
            .entry(route.to_owned())
            .or_default()
            .extend(replies);
    }

    /// Every accepted message, in order.
    pub fn messages(&self) -> Vec<SlackMessage> {
        self.inner().messages.clone()
    }

    pub fn messages_for(&self, route: &str) -> Vec<SlackMessage> {
        self.inner()
            .messages
            .iter()
            .filter(|m| m.route == route)
            .cloned()
            .collect()
    }

    /// How many requests `route` received, rejected or not.
    pub fn attempts(&self, route: &str) -> usize {
        self.inner().attempts.iter().filter(|a| a.route == route).count()
    }

    /// Every request, in order, with its answer: lets tests check back-off between retries.
    pub fn attempt_log(&self) -> Vec<SlackAttempt> {
        self.inner().attempts.clone()
    }

    /// Forgets messages, attempts and scripts.
    pub fn clear(&self) {
        *self.inner() = Inner::default();
    }

    fn record_attempt(&self, route: &str, status: StatusCode, detail: Option<String>) {
        let attempt = SlackAttempt {
            route: route.to_owned(),
            status: status.as_u16(),
            detail,
            at: Instant::now(),
        };
        self.inner().attempts.push(attempt);
    }
}

/// `POST /slack/{*route}`.
pub async fn receive(State(state): State<Arc<SimState>>, Path(route): Path<String>, body: Bytes) -> Response {
    let sink = &state.slack;
    let scripted = sink.inner().scripts.get_mut(&route).and_then(VecDeque::pop_front);
    let reply = match scripted {
        Some(reply) => Some(reply),
        None => state.faults.take(Service::Slack, &route).map(|fault| match fault {
            FaultKind::ServerError => SlackReply::ServerError,
            FaultKind::Throttle => SlackReply::RateLimited { retry_after_secs: 1 },
            FaultKind::Delay(delay) => SlackReply::Slow(delay),
            // Slack's answers are plain text: an unreadable one is a server error to the client.
            FaultKind::Malformed(_) => SlackReply::ServerError,
        }),
    };
    let (status, text) = match &reply {
        None | Some(SlackReply::Ok) => (StatusCode::OK, "ok"),
        Some(SlackReply::Slow(delay)) => {
            tokio::time::sleep(*delay).await;
            (StatusCode::OK, "ok")
        }
        Some(SlackReply::RateLimited { .. }) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        Some(SlackReply::ServerError) => (StatusCode::INTERNAL_SERVER_ERROR, "rollup_error"),
        Some(SlackReply::InvalidPayload) => (StatusCode::BAD_REQUEST, "invalid_payload"),
        Some(SlackReply::Forbidden) => (StatusCode::FORBIDDEN, "action_prohibited"),
        Some(SlackReply::ChannelNotFound) => (StatusCode::NOT_FOUND, "channel_not_found"),
        Some(SlackReply::ChannelArchived) => (StatusCode::GONE, "channel_is_archived"),
    };
    let scripted_detail = reply.as_ref().map(|r| format!("scripted: {r:?}"));
    if status != StatusCode::OK {
        sink.record_attempt(&route, status, scripted_detail);
        let mut response = (status, text).into_response();
        if let Some(SlackReply::RateLimited { retry_after_secs }) = reply {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        return response;
    }
    match validate(&body) {
        Ok(message) => {
            sink.record_attempt(&route, StatusCode::OK, scripted_detail);
            sink.inner().messages.push(SlackMessage {
                route,
                body: message,
                at: Instant::now(),
            });
            (StatusCode::OK, "ok").into_response()
        }
        Err(reason) => {
            sink.record_attempt(&route, StatusCode::BAD_REQUEST, Some(reason));
            (StatusCode::BAD_REQUEST, "invalid_payload").into_response()
        }
    }
}

/// What real Slack rejects with `invalid_payload` (and a `text` fallback, which we require).
fn validate(body: &[u8]) -> Result<Value, String> {
    let message: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let Some(object) = message.as_object() else {
        return Err("body is not a JSON object".into());
    };
    if object
        .get("text")
        .and_then(Value::as_str)
        .is_none_or(|t| t.trim().is_empty())
    {
        return Err("no non-empty `text` fallback".into());
    }
    validate_blocks(object.get("blocks"), "blocks")?;
    if let Some(attachments) = object.get("attachments") {
        let attachments = attachments.as_array().ok_or("`attachments` is not an array")?;
        for (i, attachment) in attachments.iter().enumerate() {
            validate_blocks(attachment.get("blocks"), &format!("attachments[{i}].blocks"))?;
        }
    }
    Ok(message)
}

fn validate_blocks(blocks: Option<&Value>, at: &str) -> Result<(), String> {
    let Some(blocks) = blocks else { return Ok(()) };
    let blocks = blocks.as_array().ok_or_else(|| format!("`{at}` is not an array"))?;
    if blocks.len() > 50 {
        return Err(format!("{} blocks in `{at}`, at most 50", blocks.len()));
    }
    for (i, block) in blocks.iter().enumerate() {
        let at = format!("{at}[{i}]");
        let text_len = |value: Option<&Value>| value.and_then(|t| t.get("text")).and_then(Value::as_str).map(chars);
        check_len(
            block.get("block_id").and_then(Value::as_str).map(chars),
            255,
            &format!("{at}.block_id"),
        )?;
        match block.get("type").and_then(Value::as_str) {
            Some("header") => check_len(text_len(block.get("text")), 150, &format!("{at}.text"))?,
            Some("section") => {
                check_len(text_len(block.get("text")), 3000, &format!("{at}.text"))?;
                if let Some(fields) = block.get("fields") {
                    let fields = fields
                        .as_array()
                        .ok_or_else(|| format!("`{at}.fields` is not an array"))?;
                    if fields.len() > 10 {
                        return Err(format!("{} fields in `{at}`, at most 10", fields.len()));
                    }
                    for (j, field) in fields.iter().enumerate() {
                        check_len(text_len(Some(field)), 2000, &format!("{at}.fields[{j}]"))?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn check_len(len: Option<usize>, max: usize, at: &str) -> Result<(), String> {
    match len {
        Some(len) if len > max => Err(format!("`{at}` is {len} characters, at most {max}")),
        _ => Ok(()),
    }
}
