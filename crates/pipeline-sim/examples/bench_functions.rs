//! Benchmark (not a test) behind `make bench`: cold starts and invocations of function binaries through the
//! simulator's Lambda Runtime API host, interleaved so a noisy machine slows every binary alike.
//!
//! ```sh
//! bench_functions --spec spec.json [--rounds 15]
//! ```
//!
//! `spec.json` (written by `scripts/bench.py`) is a list of `{"name", "binary", "env": {..}, "event", "warm_event"}`;
//! `event` and `warm_event` may be `null` (a scheduled event is sent) and `"{target}"` anywhere in `env` or the
//! events is replaced by a local target service's base URL. Each round starts every binary once, in an order that
//! rotates from round to round: exec → first `/next` (the host's start-up time), the first invocation of `event`,
//! then a warm one of `warm_event`, and the process's peak RSS (`VmHWM`) after both. Prints one JSON object a
//! start, on stdout.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pipeline_sim::lambda::{FunctionHost, FunctionSpec, Outcome};
use pipeline_sim::stack::{Stack, scheduled_event};
use pipeline_sim::target::TargetService;
use serde_json::{Value, json};

struct Entry {
    name: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    event: Option<Value>,
    warm_event: Option<Value>,
}

fn args() -> Result<(PathBuf, usize), String> {
    let mut spec = None;
    let mut rounds = 15;
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--spec" => spec = Some(PathBuf::from(value)),
            "--rounds" => rounds = value.parse().map_err(|e| format!("--rounds: {e}"))?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok((spec.ok_or("--spec is required")?, rounds))
}

fn entries(spec: &Value, target: &str) -> Result<Vec<Entry>, String> {
    let fill = |v: &Value| -> Value {
        serde_json::from_str(&v.to_string().replace("{target}", target)).unwrap_or(Value::Null)
    };
    let list = spec.as_array().ok_or("the spec is a JSON array")?;
    list.iter()
        .map(|item| {
            let text = |key: &str| item[key].as_str().map(str::to_owned).ok_or(format!("{key} missing"));
            let env = item["env"]
                .as_object()
                .map(|env| {
                    env.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().replace("{target}", target)))
                        .collect()
                })
                .unwrap_or_default();
            let event = Some(fill(&item["event"])).filter(|e| !e.is_null());
            let warm_event = Some(fill(&item["warm_event"])).filter(|e| !e.is_null());
            Ok(Entry {
                name: text("name")?,
                binary: PathBuf::from(text("binary")?),
                env,
                event,
                warm_event,
            })
        })
        .collect()
}

fn outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Ok(_) => "ok".to_owned(),
        Outcome::Error { error_type, .. } => format!("error {error_type}"),
        Outcome::Timeout => "timeout".to_owned(),
        Outcome::Crashed => "crashed".to_owned(),
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn one_start(stack: &Stack, entry: &Entry, round: usize) -> Result<Value, String> {
    let spec = FunctionSpec {
        name: entry.name.clone(),
        binary: entry.binary.clone(),
        env: entry.env.clone(),
        timeout: Duration::from_secs(60),
        memory_mb: 128,
        async_retries: 0,
    };
    let host = Arc::new(
        FunctionHost::start(spec, &stack.sim.endpoint_url())
            .await
            .map_err(|e| format!("{}: {e}", entry.binary.display()))?,
    );
    let waited = Instant::now();
    while host.startup_time().is_none() && waited.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let startup = host.startup_time();
    let rss_after_init = host.peak_rss_kib();
    let id = stack.sim.state.world().new_id();
    let scheduled = scheduled_event(&format!("{}-sweep", entry.name), &id);
    let first = host
        .invoke(entry.event.clone().unwrap_or_else(|| scheduled.clone()))
        .await;
    let warm_id = stack.sim.state.world().new_id();
    let warm_scheduled = scheduled_event(&format!("{}-sweep", entry.name), &warm_id);
    let warm = host
        .invoke(
            entry
                .warm_event
                .clone()
                .or_else(|| entry.event.clone())
                .unwrap_or(warm_scheduled),
        )
        .await;
    let peak = host.peak_rss_kib();
    let logs = host.logs();
    if let Ok(host) = Arc::try_unwrap(host) {
        host.stop().await;
    }
    Ok(json!({
        "name": entry.name,
        "round": round,
        "startup_ms": startup.map(millis),
        "first_ms": millis(first.duration),
        "first_outcome": outcome(&first.outcome),
        "warm_ms": millis(warm.duration),
        "warm_outcome": outcome(&warm.outcome),
        "rss_init_kib": rss_after_init,
        "rss_peak_kib": peak,
        "log_tail": if matches!(first.outcome, Outcome::Crashed | Outcome::Timeout) || startup.is_none() {
            logs.iter().rev().take(6).rev().cloned().collect::<Vec<_>>()
        } else {
            Vec::new()
        },
    }))
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let (spec_path, rounds) = args()?;
    let text = std::fs::read_to_string(&spec_path).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let spec: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let target = TargetService::start().await.map_err(|e| e.to_string())?;
    let entries = entries(&spec, &target.base_url())?;
    let bin_dir = entries
        .first()
        .and_then(|e| e.binary.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let stack = Stack::start(&bin_dir).await.map_err(|e| e.to_string())?;
    for round in 0..rounds {
        for i in 0..entries.len() {
            let entry = &entries[(i + round) % entries.len()];
            let result = one_start(&stack, entry, round).await?;
            println!("{result}");
        }
    }
    Ok(())
}
