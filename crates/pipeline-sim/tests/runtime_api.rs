//! The Lambda Runtime API host against a real lambda_runtime function (`examples/echo_function.rs`).

use std::time::{Duration, Instant};

use pipeline_sim::lambda::{FunctionHost, FunctionSpec, Outcome};
use serde_json::{Value, json};

mod support;

async fn start(timeout: Duration) -> FunctionHost {
    let spec = FunctionSpec {
        name: "echo".into(),
        binary: support::examples_dir().join("echo_function"),
        env: vec![("ECHO_NOTE".into(), "from spec".into())],
        timeout,
        memory_mb: 128,
        async_retries: pipeline_sim::lambda::DEFAULT_ASYNC_RETRIES,
    };
    FunctionHost::start(spec, "http://127.0.0.1:9")
        .await
        .expect("start echo_function")
}

#[tokio::test]
async fn invoke_returns_the_echo_with_lambda_environment() {
    let host = start(Duration::from_secs(5)).await;
    let payload = json!({ "hello": "world", "n": [1, 2, 3] });
    let invocation = host.invoke(payload.clone()).await;
    let answer = invocation.outcome.expect_ok();
    assert_eq!(answer["echo"], payload);
    assert_eq!(answer["env"]["AWS_REGION"], pipeline_sim::REGION);
    assert_eq!(answer["env"]["AWS_ENDPOINT_URL"], "http://127.0.0.1:9");
    assert_eq!(answer["env"]["ECHO_NOTE"], "from spec");
    assert_eq!(answer["env"]["HOME"], Value::Null, "the environment is cleared");
    assert_eq!(invocation.request_id.len(), 36);
    assert_eq!(host.invocation_count(), 1);

    let second = host.invoke(json!({})).await;
    assert_eq!(
        second.outcome.expect_ok()["count"],
        2,
        "a warm sandbox serves the next invocation"
    );
    assert_ne!(second.request_id, invocation.request_id);
    host.stop().await;
}

#[tokio::test]
async fn an_error_arrives_as_outcome_error_and_keeps_the_sandbox() {
    let host = start(Duration::from_secs(5)).await;
    let first = host.invoke(json!({})).await;
    let invocation = host.invoke(json!({ "fail": true })).await;
    let (error_type, error_message) = invocation.outcome.expect_error();
    assert_eq!(error_type, "EchoFailure");
    assert!(error_message.starts_with("asked to fail"), "{error_message}");
    let after = host.invoke(json!({})).await;
    assert_eq!(after.outcome.expect_ok()["pid"], first.outcome.expect_ok()["pid"]);
    host.stop().await;
}

#[tokio::test]
async fn a_timeout_tears_the_sandbox_down_and_the_next_invocation_cold_starts() {
    let host = start(Duration::from_secs(1)).await;
    let first = host.invoke(json!({})).await;
    let first_pid = first.outcome.expect_ok()["pid"].clone();

    let started = Instant::now();
    let timed_out = host.invoke(json!({ "sleep_ms": 10_000 })).await;
    assert_eq!(timed_out.outcome, Outcome::Timeout);
    assert!(timed_out.duration >= Duration::from_secs(1), "{:?}", timed_out.duration);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    let next = host.invoke(json!({ "again": true })).await;
    let answer = next.outcome.expect_ok();
    assert_eq!(answer["count"], 1, "a fresh process");
    assert_ne!(answer["pid"], first_pid);
    assert!(
        host.logs()
            .iter()
            .any(|l| l.contains("Task timed out after 1.00 seconds"))
    );
    host.stop().await;
}

#[tokio::test]
async fn a_crash_is_reported_and_the_next_invocation_cold_starts() {
    let host = start(Duration::from_secs(5)).await;
    let crashed = host.invoke(json!({ "exit": 3 })).await;
    assert_eq!(crashed.outcome, Outcome::Crashed);
    let next = host.invoke(json!({})).await;
    assert_eq!(next.outcome.expect_ok()["count"], 1);
    assert!(
        host.logs().iter().any(|l| l.contains("exit status: 3")),
        "{:#?}",
        host.logs()
    );
    host.stop().await;
}

#[tokio::test]
async fn invoke_async_retries_twice_then_dead_letters() {
    let host = start(Duration::from_secs(5)).await;
    host.set_async_retry_delay(Duration::from_millis(50));
    let payload = json!({ "fail": true, "id": 7 });
    let started = Instant::now();
    let delivery = host.invoke_async(payload.clone()).await;
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(delivery.attempts.len(), 3);
    assert!(delivery.dead_lettered);
    for attempt in &delivery.attempts {
        assert!(
            matches!(attempt.outcome, Outcome::Error { .. }),
            "{:?}",
            attempt.outcome
        );
        assert_eq!(
            attempt.request_id, delivery.attempts[0].request_id,
            "retries keep the request id"
        );
    }
    assert_eq!(host.dead_letters(), vec![payload]);
    assert_eq!(host.invocation_count(), 3);

    let delivered = host.invoke_async(json!({ "fine": true })).await;
    assert_eq!(delivered.attempts.len(), 1);
    assert!(!delivered.dead_lettered);
    assert_eq!(host.dead_letters().len(), 1);
    host.stop().await;
}

#[tokio::test]
async fn logs_and_measurements_are_captured() {
    let host = start(Duration::from_secs(5)).await;
    let invocation = host.invoke(json!({})).await;
    invocation.outcome.expect_ok();
    let wanted = format!("echo_function: request {}", invocation.request_id);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !host.logs().iter().any(|l| l.contains(&wanted)) {
        assert!(
            Instant::now() < deadline,
            "no log line {wanted:?} in {:#?}",
            host.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let logs = host.logs();
    assert!(
        logs.iter()
            .any(|l| l.starts_with(&format!("START RequestId: {}", invocation.request_id)))
    );
    let report = logs
        .iter()
        .find(|l| l.starts_with("REPORT RequestId:"))
        .expect("a REPORT line");
    assert!(
        report.contains("Memory Size: 128 MB") && report.contains("Init Duration:"),
        "{report}"
    );

    let startup = host.startup_time().expect("startup time");
    assert!(
        startup > Duration::ZERO && startup < Duration::from_secs(10),
        "{startup:?}"
    );
    let rss = host.peak_rss_kib().expect("peak RSS");
    assert!((500..1_000_000).contains(&rss), "{rss} KiB");
    host.stop().await;
}

#[tokio::test]
async fn misbehaving_runtime_requests_get_4xx_and_change_nothing() {
    let host = start(Duration::from_secs(5)).await;
    let base = format!("http://{}/2018-06-01/runtime", host.runtime_api_addr());
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    let unknown = client
        .post(format!("{base}/invocation/no-such-id/response"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let bad_error = client
        .post(format!("{base}/invocation/no-such-id/error"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_error.status(), 400);
    let nowhere = client.get(format!("{base}/nowhere")).send().await.unwrap();
    assert_eq!(nowhere.status(), 404);
    assert!(host.logs().iter().any(|l| l.contains("InvalidRequestID")));

    let invocation = host.invoke(json!({ "still": "fine" })).await;
    assert_eq!(invocation.outcome.expect_ok()["echo"]["still"], "fine");

    // An init error tears the sandbox down like Lambda does: the next invocation cold-starts.
    let diagnostic = json!({ "errorType": "Runtime.InitError", "errorMessage": "no config" });
    let init_error = client
        .post(format!("{base}/init/error"))
        .json(&diagnostic)
        .send()
        .await
        .unwrap();
    assert_eq!(init_error.status(), 202);
    assert!(host.logs().iter().any(|l| l.starts_with("INIT_REPORT Status: error")));
    let after = host.invoke(json!({})).await;
    assert_eq!(after.outcome.expect_ok()["count"], 1);
    assert_ne!(after.outcome.expect_ok()["pid"], invocation.outcome.expect_ok()["pid"]);
    host.stop().await;
}
