//! A Lambda Runtime API host: runs a real function binary as a child process and feeds it invocations through
//! the documented protocol (`/2018-06-01/runtime/invocation/next`, `/response`, `/error`, `/init/error`), with
//! Lambda's semantics for timeouts, crashes (the sandbox is torn down and the next invocation cold-starts a fresh
//! process) and asynchronous invocations (two retries, then the dead-letter queue).
//!
//! Besides the function's own output, the captured logs carry the `START`/`END`/`REPORT` lines Lambda writes.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{Notify, oneshot, watch};

use crate::{ACCOUNT, REGION};

/// How long Lambda lets a new sandbox initialise before the invocation fails.
const INIT_LIMIT: Duration = Duration::from_secs(10);
/// Lambda's limit on a synchronous response payload (6 MB).
const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
/// Lambda retries a failed asynchronous invocation twice.
const ASYNC_RETRIES: usize = 2;

/// What to run and how Lambda would configure it.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    pub name: String,
    pub binary: PathBuf,
    /// Set after the standard Lambda variables, so these may override them.
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    pub memory_mb: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Ok(Value),
    Error {
        error_type: String,
        error_message: String,
    },
    /// The function did not answer within its timeout; its sandbox was torn down.
    Timeout,
    /// The process exited before answering; its sandbox was torn down.
    Crashed,
}

#[derive(Clone, Debug)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// From the function taking the event (its `/next` answered) to the outcome; from queueing it if never taken.
    pub duration: Duration,
}

#[derive(Clone, Debug)]
pub struct AsyncDelivery {
    /// Every attempt, in order; retries keep the request id, as Lambda's do.
    pub attempts: Vec<Invocation>,
    pub dead_lettered: bool,
}

/// One function: its Runtime API server and its current sandbox (child process).
pub struct FunctionHost {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
    /// Invocations run one at a time, as with a reserved concurrency of 1.
    serial: tokio::sync::Mutex<()>,
}

struct Shared {
    spec: FunctionSpec,
    runtime_api: SocketAddr,
    aws_endpoint_url: String,
    echo_logs: bool,
    state: Mutex<HostState>,
    /// Wakes long-polling `/next` requests: an event was queued or a sandbox was torn down.
    wake: Notify,
    logs: Mutex<Vec<String>>,
    invocations: AtomicUsize,
    async_retry_delay_ms: AtomicU64,
    dead_letters: Mutex<Vec<Value>>,
}

#[derive(Default)]
struct HostState {
    /// Bumped when a sandbox is torn down, so `/next` requests from a dead process never take an event.
    generation: u64,
    sandbox: Option<Sandbox>,
    slot: Option<Slot>,
    startup_time: Option<Duration>,
}

struct Sandbox {
    pid: Option<u32>,
    spawned_at: Instant,
    init_duration: Option<Duration>,
    init_reported: bool,
    /// Sending (or dropping) kills the process.
    kill: Option<oneshot::Sender<()>>,
    exited: watch::Receiver<bool>,
}

/// The invocation in progress.
struct Slot {
    request_id: String,
    payload: Value,
    delivered: Option<oneshot::Sender<Instant>>,
    answer: Option<oneshot::Sender<Outcome>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, HostState> {
        lock(&self.state)
    }

    fn log(&self, line: String) {
        if self.echo_logs {
            eprintln!("[{}] {line}", self.spec.name);
        }
        lock(&self.logs).push(line);
    }
}

impl FunctionHost {
    /// Serves a Runtime API on 127.0.0.1 and starts the function's first sandbox, with the real SDK inside pointed
    /// at `aws_endpoint_url`.
    pub async fn start(spec: FunctionSpec, aws_endpoint_url: &str) -> std::io::Result<FunctionHost> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let shared = Arc::new(Shared {
            spec,
            runtime_api: listener.local_addr()?,
            aws_endpoint_url: aws_endpoint_url.to_owned(),
            echo_logs: std::env::var("SIM_ECHO_LOGS").is_ok_and(|v| v == "1"),
            state: Mutex::default(),
            wake: Notify::new(),
            logs: Mutex::default(),
            invocations: AtomicUsize::new(0),
            async_retry_delay_ms: AtomicU64::new(0),
            dead_letters: Mutex::default(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .fallback(unknown_route)
            .layer(DefaultBodyLimit::disable())
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let sandbox = match spawn_sandbox(&shared) {
            Ok(sandbox) => sandbox,
            Err(e) => {
                server.abort();
                return Err(e);
            }
        };
        shared.state().sandbox = Some(sandbox);
        Ok(FunctionHost {
            shared,
            server,
            serial: tokio::sync::Mutex::new(()),
        })
    }

    /// The function's name, as Lambda knows it.
    pub fn name(&self) -> &str {
        &self.shared.spec.name
    }

    /// The `host:port` the function's `AWS_LAMBDA_RUNTIME_API` names.
    pub fn runtime_api_addr(&self) -> SocketAddr {
        self.shared.runtime_api
    }

    /// A synchronous (`RequestResponse`) invocation.
    pub async fn invoke(&self, payload: Value) -> Invocation {
        self.invoke_as(new_request_id(), payload).await
    }

    /// An asynchronous (`Event`) invocation: an error, timeout or crash is retried twice, then the event is
    /// dead-lettered.
    pub async fn invoke_async(&self, payload: Value) -> AsyncDelivery {
        let request_id = new_request_id();
        let mut attempts = Vec::new();
        for attempt in 0..=ASYNC_RETRIES {
            if attempt > 0 {
                let delay = self.shared.async_retry_delay_ms.load(Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let invocation = self.invoke_as(request_id.clone(), payload.clone()).await;
            let succeeded = matches!(invocation.outcome, Outcome::Ok(_));
            attempts.push(invocation);
            if succeeded {
                return AsyncDelivery {
                    attempts,
                    dead_lettered: false,
                };
            }
        }
        lock(&self.shared.dead_letters).push(payload);
        AsyncDelivery {
            attempts,
            dead_lettered: true,
        }
    }

    /// Delay before each asynchronous retry (Lambda waits about 1 and 2 minutes; the simulator 0 by default).
    pub fn set_async_retry_delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.async_retry_delay_ms.store(millis, Ordering::Relaxed);
    }

    /// Events that exhausted their asynchronous retries, in order.
    pub fn dead_letters(&self) -> Vec<Value> {
        lock(&self.shared.dead_letters).clone()
    }

    /// Every line captured so far, from every sandbox, with Lambda's own `START`/`END`/`REPORT` lines.
    pub fn logs(&self) -> Vec<String> {
        lock(&self.shared.logs).clone()
    }

    /// The first sandbox's cold start: from spawning the process to its first `/next` request.
    pub fn startup_time(&self) -> Option<Duration> {
        self.shared.state().startup_time
    }

    /// Peak resident memory of the current process (`VmHWM`), while it runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.shared.state().sandbox.as_ref()?.pid?;
        peak_rss_kib(pid)
    }

    /// Invocation attempts so far, asynchronous retries included.
    pub fn invocation_count(&self) -> usize {
        self.shared.invocations.load(Ordering::Relaxed)
    }

    /// Kills the function's process and stops serving its Runtime API.
    pub async fn stop(self) {
        let exited = self.shared.state().sandbox.as_ref().map(|s| s.exited.clone());
        teardown(&self.shared);
        if let Some(mut exited) = exited {
            let _ = exited.wait_for(|gone| *gone).await;
        }
    }

    async fn invoke_as(&self, request_id: String, payload: Value) -> Invocation {
        let _serial = self.serial.lock().await;
        let shared = &self.shared;
        shared.invocations.fetch_add(1, Ordering::Relaxed);
        let queued_at = Instant::now();
        let (delivered_tx, mut delivered_rx) = oneshot::channel();
        let (answer_tx, mut answer_rx) = oneshot::channel();
        let slot = Slot {
            request_id: request_id.clone(),
            payload,
            delivered: Some(delivered_tx),
            answer: Some(answer_tx),
        };
        let Some(mut exited) = self.ready_sandbox(slot) else {
            let outcome = Outcome::Error {
                error_type: "Runtime.InvalidEntrypoint".into(),
                error_message: format!("could not start {}", shared.spec.binary.display()),
            };
            shared.state().slot = None;
            return Invocation {
                request_id,
                outcome,
                duration: queued_at.elapsed(),
            };
        };
        shared.wake.notify_waiters();

        let deadline = tokio::time::sleep_until((queued_at + INIT_LIMIT).into());
        tokio::pin!(deadline);
        let mut delivered_at = None;
        let outcome = loop {
            tokio::select! {
                biased;
                answer = &mut answer_rx => break answer.unwrap_or(Outcome::Crashed),
                at = &mut delivered_rx, if delivered_at.is_none() => {
                    let at = at.unwrap_or_else(|_| Instant::now());
                    delivered_at = Some(at);
                    deadline.as_mut().reset((at + shared.spec.timeout).into());
                }
                _ = exited.wait_for(|gone| *gone) => break Outcome::Crashed,
                _ = &mut deadline => break Outcome::Timeout,
            }
        };
        let duration = delivered_at.unwrap_or(queued_at).elapsed();
        self.report(&request_id, &outcome, duration);
        shared.state().slot = None;
        if matches!(outcome, Outcome::Timeout | Outcome::Crashed) {
            teardown(shared);
        }
        if shared.state().sandbox.is_none() {
            // Torn down (here or by an init error): let the process go before the next cold start.
            let _ = exited.wait_for(|gone| *gone).await;
        }
        Invocation {
            request_id,
            outcome,
            duration,
        }
    }

    /// Queues the invocation, cold-starting a sandbox if the last one is gone; `None` if the binary cannot start.
    fn ready_sandbox(&self, slot: Slot) -> Option<watch::Receiver<bool>> {
        let mut state = self.shared.state();
        state.slot = Some(slot);
        if let Some(sandbox) = &state.sandbox
            && !*sandbox.exited.borrow()
        {
            return Some(sandbox.exited.clone());
        }
        state.sandbox = None;
        match spawn_sandbox(&self.shared) {
            Ok(sandbox) => {
                let exited = sandbox.exited.clone();
                state.sandbox = Some(sandbox);
                Some(exited)
            }
            Err(e) => {
                drop(state);
                self.shared
                    .log(format!("[sim] cannot start {}: {e}", self.shared.spec.binary.display()));
                None
            }
        }
    }

    /// Lambda's `END` and `REPORT` lines (and its timeout or crash message).
    fn report(&self, request_id: &str, outcome: &Outcome, duration: Duration) {
        let spec = &self.shared.spec;
        let (pid, init) = {
            let mut state = self.shared.state();
            match state.sandbox.as_mut() {
                Some(sandbox) => {
                    let init = if sandbox.init_reported {
                        None
                    } else {
                        sandbox.init_duration
                    };
                    sandbox.init_reported = true;
                    (sandbox.pid, init)
                }
                None => (None, None),
            }
        };
        match outcome {
            Outcome::Timeout => self.shared.log(format!(
                "{request_id} Task timed out after {:.2} seconds",
                spec.timeout.as_secs_f64()
            )),
            Outcome::Crashed => self.shared.log(format!(
                "RequestId: {request_id} Error: Runtime exited with error (Runtime.ExitError)"
            )),
            _ => {}
        }
        let millis = duration.as_secs_f64() * 1000.0;
        let used_mb = pid.and_then(peak_rss_kib).map_or(0, |kib| kib.div_ceil(1024));
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {millis:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {used_mb} MB",
            millis.ceil(),
            spec.memory_mb
        );
        if let Some(init) = init {
            report.push_str(&format!("\tInit Duration: {:.2} ms", init.as_secs_f64() * 1000.0));
        }
        self.shared.log(format!("END RequestId: {request_id}"));
        self.shared.log(report);
    }
}

impl Drop for FunctionHost {
    fn drop(&mut self) {
        teardown(&self.shared);
        self.server.abort();
    }
}

/// Tears the current sandbox down (kills its process); the next invocation starts a fresh one.
fn teardown(shared: &Shared) {
    let mut state = shared.state();
    if let Some(mut sandbox) = state.sandbox.take()
        && let Some(kill) = sandbox.kill.take()
    {
        let _ = kill.send(());
    }
    state.generation += 1;
    drop(state);
    shared.wake.notify_waiters();
}

/// Starts the function's process with Lambda's environment, capturing its output line by line.
fn spawn_sandbox(shared: &Arc<Shared>) -> std::io::Result<Sandbox> {
    let spec = &shared.spec;
    let stream = format!(
        "{}/[$LATEST]{:016x}{:016x}",
        chrono::Utc::now().format("%Y/%m/%d"),
        random(),
        random()
    );
    let mut command = tokio::process::Command::new(&spec.binary);
    command.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
        .env("AWS_LAMBDA_RUNTIME_API", shared.runtime_api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", spec.memory_mb.to_string())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", spec.name))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", stream)
        .env("AWS_REGION", REGION)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "AKIDSIMULATOR")
        .env("AWS_SECRET_ACCESS_KEY", "simulator-secret-key")
        .env("AWS_SESSION_TOKEN", "simulator-session-token")
        .env("AWS_ENDPOINT_URL", &shared.aws_endpoint_url)
        .env("TZ", ":UTC")
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let spawned_at = Instant::now();
    let mut child = command.spawn()?;
    let pid = child.id();
    if let Some(stdout) = child.stdout.take() {
        capture(shared.clone(), stdout);
    }
    if let Some(stderr) = child.stderr.take() {
        capture(shared.clone(), stderr);
    }
    let (kill_tx, kill_rx) = oneshot::channel::<()>();
    let (exited_tx, exited_rx) = watch::channel(false);
    let watcher = shared.clone();
    tokio::spawn(async move {
        tokio::select! {
            status = child.wait() => {
                let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                watcher.log(format!("[sim] process {} exited: {status}", pid.unwrap_or(0)));
            }
            // A kill order, or the host going away.
            _ = kill_rx => { let _ = child.kill().await; }
        }
        let _ = exited_tx.send(true);
    });
    Ok(Sandbox {
        pid,
        spawned_at,
        init_duration: None,
        init_reported: false,
        kill: Some(kill_tx),
        exited: exited_rx,
    })
}

fn capture(shared: Arc<Shared>, stream: impl AsyncRead + Unpin + Send + 'static) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).await.is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line);
            shared.log(text.trim_end_matches(['\n', '\r']).to_owned());
            line.clear();
        }
    });
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let value = status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?;
    value.trim().strip_suffix("kB")?.trim().parse().ok()
}

fn random() -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// A UUID-shaped request id, like Lambda's.
fn new_request_id() -> String {
    let (a, b) = (random(), random());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
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

fn event_response(spec: &FunctionSpec, request_id: &str, payload: &Value) -> Response {
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
    let mut response = (StatusCode::OK, payload.to_string()).into_response();
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
