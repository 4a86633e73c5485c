//! A scriptable HTTP service for checks to test: healthy, failing, slow, flapping or down, for the whole service
//! or per path, switchable while it runs. It counts requests and the most it served at once.
//!
//! `Down` for the whole service really stops listening (new connections are refused, open ones are closed, as
//! when the process dies) and the same port listens again when another mode is set. `Down` for one path closes
//! the connection without an answer, as a proxy whose upstream died would.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;

/// How the service (or one path) answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetMode {
    /// 200 `{"status":"ok","version":…,"path":…}` with header `x-version`.
    Healthy,
    /// 500 `{"status":"error",…}`.
    Failing,
    /// This final status with `{"status":<code>}` (no body for 204 and 304); codes outside 200 to 599 answer 500.
    Status(u16),
    /// Healthy, after this delay; a long delay is a hung target.
    Slow(Duration),
    /// Every `fail_every`-th request (the n-th, 2n-th, … since the mode was set) fails with 500; the others are
    /// healthy. 0 never fails.
    Flapping { fail_every: u32 },
    /// The first n requests since the mode was set fail with 500, then healthy.
    FailFirst(u32),
    /// 200 with the request as JSON: `{"method","path","query","headers":{name: value},"body"}`.
    Echo,
    /// No answer: see the module documentation.
    Down,
}

/// A running target service on 127.0.0.1 and a free port. Dropping it stops it.
pub struct TargetService {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl TargetService {
    /// Starts a healthy service; it must be started inside a Tokio runtime.
    pub async fn start() -> io::Result<TargetService> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let shared = Arc::new(Shared {
            addr: listener.local_addr()?,
            runtime: tokio::runtime::Handle::current(),
            listener: Mutex::new(ListenerSlot {
                listener: Some(listener),
                waker: None,
            }),
            down: Arc::new(Notify::new()),
            modes: Mutex::new(Modes::default()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let acceptor = Acceptor(shared.clone());
        let server = tokio::spawn(async move {
            // Runs until the service is dropped; accept errors are retried inside the acceptor.
            let _ = axum::serve(acceptor, app.into_make_service_with_connect_info::<ConnHandle>()).await;
        });
        Ok(TargetService { shared, server })
    }

    /// `http://127.0.0.1:<port><path>`; a missing leading `/` is added.
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("{}{slash}{path}", self.base_url())
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// Sets how every path without a mode of its own answers. `Down` stops listening; any other mode listens
    /// again on the same port.
    ///
    /// # Panics
    /// When the port cannot be bound again after `Down` (another process took it): the test cannot go on.
    pub fn set_mode(&self, mode: TargetMode) {
        let down = mode == TargetMode::Down;
        self.shared.modes().default = Slot::new(mode);
        if down {
            self.shared.stop_listening();
        } else if let Err(e) = self.shared.listen() {
            panic!("target service: cannot listen on {} again: {e}", self.shared.addr);
        }
    }

    /// Sets how one path (exact match, without the query) answers, while the service is up.
    pub fn set_path_mode(&self, path: &str, mode: TargetMode) {
        self.shared.modes().paths.insert(path.to_owned(), Slot::new(mode));
    }

    /// Forgets every path's mode: all paths answer as the service's mode says.
    pub fn clear_path_modes(&self) {
        self.shared.modes().paths.clear();
    }

    /// The `x-version` header and `version` field of healthy answers (default `1.0.0`).
    pub fn set_version(&self, version: &str) {
        self.shared.modes().version = version.to_owned();
    }

    /// Requests received (including those answered by closing the connection).
    pub fn requests(&self) -> usize {
        self.shared.modes().requests.values().sum()
    }

    pub fn requests_to(&self, path: &str) -> usize {
        self.shared.modes().requests.get(path).copied().unwrap_or(0)
    }

    /// Requests being answered right now.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// The most requests answered at the same time since start or [`Self::reset_counters`].
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn reset_counters(&self) {
        self.shared.modes().requests.clear();
        self.shared.max_in_flight.store(self.in_flight(), Ordering::SeqCst);
    }
}

impl Drop for TargetService {
    fn drop(&mut self) {
        self.shared.stop_listening();
        self.server.abort();
    }
}

struct Shared {
    addr: SocketAddr,
    runtime: tokio::runtime::Handle,
    listener: Mutex<ListenerSlot>,
    /// Wakes every open connection when the service goes down, so they close.
    down: Arc<Notify>,
    modes: Mutex<Modes>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

struct ListenerSlot {
    listener: Option<TcpListener>,
    /// The acceptor waiting for the service to listen again.
    waker: Option<Waker>,
}

struct Modes {
    default: Slot,
    paths: HashMap<String, Slot>,
    version: String,
    requests: HashMap<String, usize>,
}

impl Default for Modes {
    fn default() -> Modes {
        Modes {
            default: Slot::new(TargetMode::Healthy),
            paths: HashMap::new(),
            version: "1.0.0".to_owned(),
            requests: HashMap::new(),
        }
    }
}

/// A mode and how many requests it answered since it was set (for `Flapping` and `FailFirst`).
struct Slot {
    mode: TargetMode,
    served: u64,
}

impl Slot {
    fn new(mode: TargetMode) -> Slot {
        Slot { mode, served: 0 }
    }
}

impl Shared {
    fn modes(&self) -> MutexGuard<'_, Modes> {
        self.modes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn slot(&self) -> MutexGuard<'_, ListenerSlot> {
        self.listener.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stop_listening(&self) {
        // Dropping the listener closes its socket at once: new connections are refused from here on.
        self.slot().listener = None;
        self.down.notify_waiters();
    }

    fn listen(&self) -> io::Result<()> {
        let mut slot = self.slot();
        if slot.listener.is_none() {
            let std_listener = std::net::TcpListener::bind(self.addr)?;
            std_listener.set_nonblocking(true)?;
            let _runtime = self.runtime.enter();
            slot.listener = Some(TcpListener::from_std(std_listener)?);
        }
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
        Ok(())
    }

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let mut slot = self.slot();
        slot.waker = Some(cx.waker().clone());
        match &slot.listener {
            Some(listener) => listener.poll_accept(cx),
            None => Poll::Pending,
        }
    }

    /// Counts the request and picks its mode: the service's `Down` wins, then the path's mode, then the service's.
    fn next(&self, path: &str) -> (TargetMode, u64, String) {
        let mut modes = self.modes();
        *modes.requests.entry(path.to_owned()).or_default() += 1;
        let version = modes.version.clone();
        if modes.default.mode == TargetMode::Down {
            return (TargetMode::Down, 0, version);
        }
        let Modes { default, paths, .. } = &mut *modes;
        let slot = paths.get_mut(path).unwrap_or(default);
        slot.served += 1;
        (slot.mode.clone(), slot.served, version)
    }
}

struct Acceptor(Arc<Shared>);

impl Listener for Acceptor {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            match poll_fn(|cx| self.0.poll_accept(cx)).await {
                Ok((stream, addr)) => return (Conn::new(stream, &self.0), addr),
                // Out of file descriptors and the like: wait and try again, as axum's own listener does.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.0.addr)
    }
}

/// An accepted connection that can be killed: by the service going down, or by its own request's path being
/// down. Once killed, every read and write fails, so the server drops it without answering.
struct Conn {
    stream: TcpStream,
    kill: Arc<AtomicBool>,
    service_down: Pin<Box<OwnedNotified>>,
}

impl Conn {
    fn new(stream: TcpStream, shared: &Arc<Shared>) -> Conn {
        Conn {
            stream,
            kill: Arc::new(AtomicBool::new(false)),
            service_down: Box::pin(shared.down.clone().notified_owned()),
        }
    }

    fn check_alive(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.kill.load(Ordering::SeqCst) && self.service_down.as_mut().poll(cx).is_ready() {
            self.kill.store(true, Ordering::SeqCst);
        }
        if self.kill.load(Ordering::SeqCst) {
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "target is down"))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check_alive(cx)?;
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check_alive(cx)?;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check_alive(cx)?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Lets a request's handler kill its own connection.
#[derive(Clone)]
struct ConnHandle(Arc<AtomicBool>);

impl Connected<IncomingStream<'_, Acceptor>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, Acceptor>) -> ConnHandle {
        ConnHandle(stream.io().kill.clone())
    }
}

/// Counts a request as in flight until dropped (also when the client goes away mid-answer).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> InFlight<'a> {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let _in_flight = InFlight::enter(&shared);
    let (mode, served, version) = shared.next(&path);
    let healthy = || {
        reply(
            StatusCode::OK,
            json!({ "status": "ok", "version": version, "path": path }),
            &version,
        )
    };
    let failing = || {
        reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "status": "error", "message": "injected failure" }),
            &version,
        )
    };
    match mode {
        TargetMode::Healthy => healthy(),
        TargetMode::Failing => failing(),
        TargetMode::Status(code) => {
            let status = StatusCode::from_u16(code)
                .ok()
                .filter(|_| (200..=599).contains(&code))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if matches!(code, 204 | 304) {
                (status, [("x-version", version.as_str())]).into_response()
            } else {
                reply(status, json!({ "status": code }), &version)
            }
        }
        TargetMode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            healthy()
        }
        TargetMode::Flapping { fail_every } if fail_every > 0 && served % u64::from(fail_every) == 0 => failing(),
        TargetMode::Flapping { .. } => healthy(),
        TargetMode::FailFirst(n) if served <= u64::from(n) => failing(),
        TargetMode::FailFirst(_) => healthy(),
        TargetMode::Echo => {
            let headers: Map<String, Value> = headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                    )
                })
                .collect();
            let echo = json!({
                "method": method.as_str(),
                "path": path,
                "query": uri.query(),
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            });
            reply(StatusCode::OK, echo, &version)
        }
        TargetMode::Down => {
            // The answer below is never written: the killed connection fails the write and is dropped.
            conn.0.store(true, Ordering::SeqCst);
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn reply(status: StatusCode, body: Value, version: &str) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(version) {
        response.headers_mut().insert("x-version", value);
    }
    response
}
