//! The Lambda Runtime API a function's process talks to (`AWS_LAMBDA_RUNTIME_API`): the HTTP handlers for
//! `GET /runtime/invocation/next`, `POST /runtime/invocation/{id}/response`, `/error` and `/runtime/init/error`,
//! with the headers and error answers of the real service.
//!
//! The handlers only hand events out and outcomes back through the host's shared state; waiting, timing and
//! retrying are the host's job (see the parent module).

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::sandbox::{random, teardown};
use super::{FunctionSpec, Outcome, Shared};
use crate::{ACCOUNT, REGION};

/// Lambda's limit on a synchronous response payload (6 MB).
const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// Serves the Runtime API on `listener` until the returned task is aborted.
pub(super) fn serve(listener: TcpListener, shared: Arc<Shared>) -> JoinHandle<()> {
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .fallback(unknown_route)
        .layer(DefaultBodyLimit::disable())
        .with_state(shared);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// A Runtime API error answer, logged so a misbehaving function shows in the captured logs.
fn reject(shared: &Shared, status: StatusCode, error_type: &str, message: String) -> Response {
    shared.log(format!("[sim] runtime API answered {status}: {error_type}: {message}"));
    (
        status,
        axum::Json(json!({ "errorType": error_type, "errorMessage": message })),
    )
        .into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({ "status": "OK" }))).into_response()
}

/// `GET /runtime/invocation/next`: long-polls until an invocation is queued for this sandbox.
async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let generation = {
        let mut state = shared.state();
        let generation = state.generation;
        // A request from a process already torn down (the sandbox slot is empty until the next cold start).
        let Some(sandbox) = state.sandbox.as_mut() else {
            return (StatusCode::GONE, "no sandbox is running").into_response();
        };
        if sandbox.init_duration.is_none() {
            let init = sandbox.spawned_at.elapsed();
            sandbox.init_duration = Some(init);
            if generation == 0 {
                state.startup_time = Some(init);
            }
        }
        generation
    };
    loop {
        let notified = shared.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut state = shared.state();
            if state.generation != generation {
                return (StatusCode::GONE, "sandbox torn down").into_response();
            }
            if let Some(slot) = state.slot.as_mut()
                && let Some(delivered) = slot.delivered.take()
            {
                let _ = delivered.send(Instant::now());
                let response = event_response(&shared.spec, &slot.request_id, &slot.payload);
                let request_id = slot.request_id.clone();
                drop(state);
                shared.log(format!("START RequestId: {request_id} Version: $LATEST"));
                return response;
            }
        }
        notified.await;
    }
}

fn event_response(spec: &FunctionSpec, request_id: &str, payload: &str) -> Response {
    let deadline = SystemTime::now() + spec.timeout;
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let epoch_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let trace = format!(
        "Root=1-{epoch_secs:08x}-{:024x};Parent={:016x};Sampled=0",
        random() >> 32,
        random()
    );
    let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{}", spec.name);
    let mut response = (StatusCode::OK, payload.to_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("lambda-runtime-aws-request-id", header_value(request_id));
    headers.insert("lambda-runtime-deadline-ms", header_value(&deadline_ms.to_string()));
    headers.insert("lambda-runtime-invoked-function-arn", header_value(&arn));
    headers.insert("lambda-runtime-trace-id", header_value(&trace));
    response
}

/// Hands the outcome to the waiting invocation; false if `request_id` is not the one awaiting an answer.
fn settle(shared: &Shared, request_id: &str, outcome: Outcome) -> bool {
    let answer = match shared.state().slot.as_mut() {
        Some(slot) if slot.request_id == request_id && slot.delivered.is_none() => slot.answer.take(),
        _ => None,
    };
    answer.is_some_and(|answer| {
        let _ = answer.send(outcome);
        true
    })
}

/// Settles the invocation, then answers the function: 202, or the complaint about what it sent.
fn answer(
    shared: &Shared,
    request_id: &str,
    outcome: Outcome,
    complaint: Option<(StatusCode, &str, String)>,
) -> Response {
    if !settle(shared, request_id, outcome) {
        let message = format!("no invocation {request_id} awaits an answer");
        return reject(shared, StatusCode::BAD_REQUEST, "InvalidRequestID", message);
    }
    match complaint {
        Some((status, error_type, message)) => reject(shared, status, error_type, message),
        None => accepted(),
    }
}

fn error(error_type: &str, error_message: &str) -> Outcome {
    Outcome::Error {
        error_type: error_type.to_owned(),
        error_message: error_message.to_owned(),
    }
}

/// `POST /runtime/invocation/{id}/response`.
async fn respond(State(shared): State<Arc<Shared>>, Path(request_id): Path<String>, body: Bytes) -> Response {
    if body.len() > MAX_RESPONSE_BYTES {
        let message = format!(
            "Response payload size ({} bytes) exceeded maximum allowed payload size",
            body.len()
        );
        let outcome = error("Function.ResponseSizeTooLarge", &message);
        let complaint = (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge", message);
        return answer(&shared, &request_id, outcome, Some(complaint));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(value) => answer(&shared, &request_id, Outcome::Ok(value), None),
        Err(e) => {
            let message = format!("response is not JSON: {e}");
            let outcome = error("Runtime.InvalidResponsePayload", &message);
            let complaint = (StatusCode::BAD_REQUEST, "InvalidResponsePayload", message);
            answer(&shared, &request_id, outcome, Some(complaint))
        }
    }
}

/// `{"errorType", "errorMessage"}` as lambda_runtime's `Diagnostic` serialises it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Diagnostic {
    #[serde(default)]
    error_type: String,
    #[serde(default)]
    error_message: String,
}

fn diagnostic(headers: &HeaderMap, body: &[u8]) -> Result<Diagnostic, String> {
    let mut diagnostic: Diagnostic =
        serde_json::from_slice(body).map_err(|e| format!("error body is not {{errorType, errorMessage}}: {e}"))?;
    if diagnostic.error_type.is_empty() {
        let from_header = headers
            .get("lambda-runtime-function-error-type")
            .and_then(|v| v.to_str().ok());
        diagnostic.error_type = from_header.unwrap_or("Unhandled").to_owned();
    }
    Ok(diagnostic)
}

/// `POST /runtime/invocation/{id}/error`.
async fn fail(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match diagnostic(&headers, &body) {
        Ok(d) => answer(&shared, &request_id, error(&d.error_type, &d.error_message), None),
        Err(message) => {
            let outcome = error("Unhandled", &String::from_utf8_lossy(&body));
            answer(
                &shared,
                &request_id,
                outcome,
                Some((StatusCode::BAD_REQUEST, "InvalidErrorPayload", message)),
            )
        }
    }
}

/// `POST /runtime/init/error`: the invocation waiting on this sandbox fails with the error, and the sandbox goes.
async fn init_error(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let d = diagnostic(&headers, &body).unwrap_or_else(|message| Diagnostic {
        error_type: "Runtime.InitError".into(),
        error_message: message,
    });
    shared.log(format!(
        "INIT_REPORT Status: error\tError Type: {}: {}",
        d.error_type, d.error_message
    ));
    let answer = shared.state().slot.as_mut().and_then(|slot| slot.answer.take());
    if let Some(answer) = answer {
        let _ = answer.send(error(&d.error_type, &d.error_message));
    }
    teardown(&shared);
    accepted()
}

async fn unknown_route(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    reject(
        &shared,
        StatusCode::NOT_FOUND,
        "UnknownRoute",
        format!("the Runtime API has no {uri}"),
    )
}
