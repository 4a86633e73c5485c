//! A tiny Lambda function for the Runtime API host's tests: answers `{"echo": payload, "pid", "count", "env"}`
//! (count: events this process has served; env: a few variables it sees), fails on `"fail": true`, sleeps
//! `"sleep_ms"` first, exits with the code in `"exit"`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

static SERVED: AtomicU64 = AtomicU64::new(0);

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    let count = SERVED.fetch_add(1, Ordering::Relaxed) + 1;
    println!(
        "echo_function: request {} (#{count} in pid {})",
        context.request_id,
        std::process::id()
    );
    if let Some(millis) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
    if let Some(code) = payload.get("exit").and_then(Value::as_i64) {
        eprintln!("echo_function: exiting with {code}");
        std::process::exit(code as i32);
    }
    if payload.get("fail").and_then(Value::as_bool) == Some(true) {
        let error_message = format!("asked to fail (pid {})", std::process::id());
        return Err(Diagnostic {
            error_type: "EchoFailure".into(),
            error_message,
        });
    }
    let env: serde_json::Map<String, Value> = ["AWS_REGION", "AWS_ENDPOINT_URL", "ECHO_NOTE", "HOME"]
        .into_iter()
        .map(|name| (name.to_owned(), std::env::var(name).map_or(Value::Null, Value::String)))
        .collect();
    Ok(json!({ "echo": payload, "pid": std::process::id(), "count": count, "env": env }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handle)).await
}
