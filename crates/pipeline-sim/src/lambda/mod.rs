//! A Lambda Runtime API host: runs a real function binary as a child process and feeds it invocations through
//! the documented protocol (`/2018-06-01/runtime/invocation/next`, `/response`, `/error`, `/init/error`), with
//! Lambda's semantics for timeouts, crashes (the sandbox is torn down and the next invocation cold-starts a fresh
//! process) and asynchronous invocations (the function's retries, then the dead-letter queue).
//!
//! Besides the function's own output, the captured logs carry the `START`/`END`/`REPORT` lines Lambda writes.
//!
//! This file holds the host itself: the public types, [`FunctionHost`] (invoking, retrying, logs and
//! measurements) and the state it shares with the Runtime API server. The child process's lifecycle is in
//! `sandbox`, the HTTP handlers the function talks to in `runtime_api`.

mod runtime_api;
mod sandbox;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Notify, oneshot, watch};

use sandbox::{Sandbox, peak_rss_kib, random, spawn_sandbox, teardown};

/// How long Lambda lets a new sandbox initialise before the invocation fails.
const INIT_LIMIT: Duration = Duration::from_secs(10);
/// Lambda retries a failed asynchronous invocation twice unless the function's `EventInvokeConfig` says otherwise.
pub const DEFAULT_ASYNC_RETRIES: u32 = 2;

/// What to run and how Lambda would configure it.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    pub name: String,
    pub binary: PathBuf,
    /// Set after the standard Lambda variables, so these may override them.
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    pub memory_mb: u32,
    /// `EventInvokeConfig.MaximumRetryAttempts`: retries of a failed asynchronous invocation (0 to 2).
    pub async_retries: u32,
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

impl Outcome {
    /// The function's answer. Panics, showing the outcome, if it did not answer: for tests and the demo.
    #[track_caller]
    pub fn expect_ok(&self) -> &Value {
        match self {
            Outcome::Ok(answer) => answer,
            other => panic!("expected the function to answer, got {other:?}"),
        }
    }

    /// The error the function reported: its type and message. Panics, showing the outcome, otherwise.
    #[track_caller]
    pub fn expect_error(&self) -> (&str, &str) {
        match self {
            Outcome::Error {
                error_type,
                error_message,
            } => (error_type, error_message),
            other => panic!("expected the function to report an error, got {other:?}"),
        }
    }
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

/// The invocation in progress.
struct Slot {
    request_id: String,
    /// The event as sent: JSON text, or anything else for tests of events that are not JSON.
    payload: String,
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
        let server = runtime_api::serve(listener, shared.clone());
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
        self.invoke_as(new_request_id(), payload.to_string()).await
    }

    /// A synchronous invocation whose event is `body` as it is, JSON or not (Lambda passes any bytes on).
    pub async fn invoke_raw(&self, body: &str) -> Invocation {
        self.invoke_as(new_request_id(), body.to_owned()).await
    }

    /// An asynchronous (`Event`) invocation: an error, timeout or crash is retried `async_retries` times, then
    /// the event is dead-lettered.
    pub async fn invoke_async(&self, payload: Value) -> AsyncDelivery {
        let request_id = new_request_id();
        let mut attempts = Vec::new();
        for attempt in 0..=self.shared.spec.async_retries {
            if attempt > 0 {
                let delay = self.shared.async_retry_delay_ms.load(Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let invocation = self.invoke_as(request_id.clone(), payload.to_string()).await;
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

    async fn invoke_as(&self, request_id: String, payload: String) -> Invocation {
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
