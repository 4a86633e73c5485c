//! A function's sandbox: the child process running its binary, started with the environment Lambda gives a
//! function, its stdout and stderr captured line by line into the host's logs, and torn down (killed) after a
//! timeout, a crash or an init error so that the next invocation cold-starts a fresh one.
//!
//! Kept apart from the host so the process plumbing (spawn, kill, `/proc` readings) reads on its own.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{oneshot, watch};

use super::Shared;
use crate::REGION;

/// One running (or just exited) process of the function.
pub(super) struct Sandbox {
    pub(super) pid: Option<u32>,
    pub(super) spawned_at: Instant,
    pub(super) init_duration: Option<Duration>,
    pub(super) init_reported: bool,
    /// Sending (or dropping) kills the process.
    kill: Option<oneshot::Sender<()>>,
    pub(super) exited: watch::Receiver<bool>,
}

/// Tears the current sandbox down (kills its process); the next invocation starts a fresh one.
pub(super) fn teardown(shared: &Shared) {
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
pub(super) fn spawn_sandbox(shared: &Arc<Shared>) -> std::io::Result<Sandbox> {
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
        // Said for S3 too: a function reading its job's artifacts sees an S3 endpoint override, and so
        // addresses buckets path-style (`/{bucket}/{key}`), as the simulator serves them.
        .env("AWS_ENDPOINT_URL_S3", &shared.aws_endpoint_url)
        .env("TZ", ":UTC")
        // The simulator's Slack sink is plain http on loopback; deployed functions only ever post over https.
        .env("SLACK_ALLOW_LOOPBACK_HTTP", "true")
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

pub(super) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let value = status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?;
    value.trim().strip_suffix("kB")?.trim().parse().ok()
}

pub(super) fn random() -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now())
}
