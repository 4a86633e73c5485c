//! The engine over real HTTP, against the simulator's scriptable target service.

use std::time::{Duration, Instant};

use checks::{AddressPolicy, Failure, Mismatch, Outcome, Suite, SuiteReport, Verdict, http_client, http_client_with};
use pipeline_sim::target::{TargetMode, TargetService};
use serde_json::{Value, json};

fn suite(target: &TargetService, settings: Value, checks: Value) -> Suite {
    let mut raw = settings;
    raw["base_url"] = json!(target.base_url());
    raw["checks"] = checks;
    Suite::parse(&raw.to_string()).unwrap()
}

/// The target service listens on 127.0.0.1, which checks may reach only when allow-listed.
fn loopback_allowed() -> AddressPolicy {
    AddressPolicy::allowing(&["127.0.0.1/32".parse().unwrap()])
}

async fn run(suite: &Suite, within: Duration) -> SuiteReport {
    let policy = loopback_allowed();
    let client = http_client_with(&policy).unwrap();
    suite.run_with(&client, &policy, Instant::now() + within).await
}

fn failure(report: &SuiteReport, name: &str) -> Failure {
    match &report.results.iter().find(|r| r.name == name).unwrap().outcome {
        Outcome::Failed { failure } => failure.clone(),
        other => panic!("{name}: expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_healthy_target_passes_every_expectation() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/echo", TargetMode::Echo);
    let suite = suite(
        &target,
        json!({}),
        json!([
            {"name": "health", "url": "/health", "expect": {
                "json": [{"pointer": "/status", "equals": "ok"}], "headers_present": ["X-Version"],
                "body_contains": ["\"ok\""], "max_latency_ms": 2000}},
            {"name": "absolute", "url": target.url("/home")},
            {"name": "post", "method": "post", "url": "/echo?x=1", "headers": {"x-token": "abc"},
             "body": {"order": 7}, "expect": {"json": [
                {"pointer": "/method", "equals": "POST"},
                {"pointer": "/headers/x-token", "equals": "abc"},
                {"pointer": "/headers/content-type", "equals": "application/json"},
                {"pointer": "/body", "equals": "{\"order\":7}"}]}},
            {"name": "text", "method": "PUT", "url": "/echo", "headers": {"content-type": "text/plain"}, "body": "hi",
             "expect": {"json": [{"pointer": "/body", "equals": "hi"}, {"pointer": "/headers/content-type", "equals": "text/plain"}]}},
            {"name": "head", "method": "HEAD", "url": "/health", "expect": {"headers_present": ["x-version"]}}
        ]),
    );
    let report = run(&suite, Duration::from_secs(10)).await;
    assert_eq!(
        report.verdict,
        Verdict::Pass,
        "{}\n{report:#?}",
        report.failure_message()
    );
    assert_eq!((report.passed, report.failed, report.not_run), (5, 0, 0));
    assert!(report.results.iter().all(|r| r.attempts == 1 && r.latency_ms.is_some()));
    assert!(report.latency.p95_ms.is_some());
    assert_eq!(target.requests(), 5);
    assert!(
        report.summary().starts_with("PASS: 5/5 checks passed"),
        "{}",
        report.summary()
    );
}

#[tokio::test]
async fn a_failing_check_says_what_was_expected_and_what_came_back() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/checkout", TargetMode::Failing);
    let suite = suite(
        &target,
        json!({}),
        json!([
            {"name": "health", "url": "/health"},
            {"name": "checkout", "url": "/checkout"},
            {"name": "version", "url": "/health", "expect": {"headers_present": ["x-build"],
                "json": [{"pointer": "/version", "equals": "2.0.0"}]}}
        ]),
    );
    let report = run(&suite, Duration::from_secs(10)).await;
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!((report.passed, report.failed), (1, 2));
    match failure(&report, "checkout") {
        Failure::Unexpected {
            status,
            mismatches,
            body_excerpt,
        } => {
            assert_eq!(status, 500);
            assert_eq!(
                mismatches,
                [Mismatch::Status {
                    expected: vec![200],
                    got: 500
                }]
            );
            assert!(body_excerpt.contains("injected failure"), "{body_excerpt}");
        }
        other => panic!("{other:?}"),
    }
    let message = report.failure_message();
    assert!(
        message.contains("- checkout: expected status 200, got 500; body"),
        "{message}"
    );
    assert!(
        message.contains("- version: expected /version = \"2.0.0\", got \"1.0.0\"; expected header x-build, got none"),
        "{message}"
    );
    assert!(!message.contains("- health"), "{message}");
    assert_eq!(report.output_variables()["failed"], "2");
}

#[tokio::test]
async fn a_hung_target_times_out_within_the_check_timeout_and_before_the_deadline() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/hung", TargetMode::Slow(Duration::from_secs(3600)));
    let suite = suite(
        &target,
        json!({"timeout_ms": 300}),
        json!([{"name": "hung", "url": "/hung"}, {"name": "health", "url": "/health"}]),
    );
    let started = Instant::now();
    let report = run(&suite, Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(2000),
        "{took:?}"
    );
    assert_eq!(failure(&report, "hung"), Failure::Timeout { timeout_ms: 300 });
    assert!(report.results[0].latency_ms.unwrap() >= 300);
    assert!(report.results[1].passed());
    assert!(
        report.failure_message().contains("hung: timed out"),
        "{}",
        report.failure_message()
    );
}

#[tokio::test]
async fn the_deadline_cuts_what_has_not_finished() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/hung", TargetMode::Slow(Duration::from_secs(3600)));
    target.set_path_mode("/flaky", TargetMode::Failing);
    let suite = suite(
        &target,
        json!({"concurrency": 2, "timeout_ms": 60000, "consecutive_failures_to_fail": 5, "retry_delay_ms": 60000}),
        json!([
            {"name": "hung", "url": "/hung"},
            {"name": "retrying", "url": "/flaky"},
            {"name": "queued", "url": "/health"}
        ]),
    );
    let started = Instant::now();
    let report = run(&suite, Duration::from_millis(500)).await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(800), "{took:?}");
    assert_eq!((report.passed, report.failed, report.not_run), (0, 0, 3));
    assert_eq!(report.verdict, Verdict::Fail);
    let by_name = |name: &str| report.results.iter().find(|r| r.name == name).unwrap().clone();
    assert_eq!(by_name("hung").attempts, 1);
    assert_eq!(by_name("hung").outcome, Outcome::NotRun { last_failure: None });
    let retrying = by_name("retrying");
    assert_eq!(retrying.attempts, 1);
    assert!(
        matches!(
            &retrying.outcome,
            Outcome::NotRun {
                last_failure: Some(Failure::Unexpected { status: 500, .. })
            }
        ),
        "{retrying:?}"
    );
    assert_eq!(by_name("queued").attempts, 0);
    let message = report.failure_message();
    assert!(message.contains("- queued: not run: deadline"), "{message}");
    assert!(
        message
            .contains("- retrying: not run: deadline before it finished; last attempt: expected status 200, got 500"),
        "{message}"
    );
    assert_eq!(target.requests_to("/health"), 0);
}

#[tokio::test]
async fn a_deadline_already_past_runs_nothing() {
    let target = TargetService::start().await.unwrap();
    let suite = suite(&target, json!({}), json!([{"name": "health", "url": "/health"}]));
    let report = suite.run(&http_client().unwrap(), Instant::now()).await;
    assert_eq!(report.not_run, 1);
    assert_eq!(target.requests(), 0);
}

#[tokio::test]
async fn a_flaky_target_passes_with_retries() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/flaky", TargetMode::FailFirst(2));
    let suite = suite(
        &target,
        json!({"consecutive_failures_to_fail": 3, "retry_delay_ms": 20}),
        json!([{"name": "flaky", "url": "/flaky"}]),
    );
    let report = run(&suite, Duration::from_secs(10)).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.failure_message());
    assert_eq!(report.results[0].attempts, 3);
    assert_eq!(target.requests_to("/flaky"), 3);
}

#[tokio::test]
async fn a_flapping_target_passes_when_retried_and_fails_without_retries() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/flap", TargetMode::Flapping { fail_every: 2 });
    let checks = json!([
        {"name": "a", "url": "/flap"}, {"name": "b", "url": "/flap"},
        {"name": "c", "url": "/flap"}, {"name": "d", "url": "/flap"}
    ]);
    let retried = suite(
        &target,
        json!({"concurrency": 1, "consecutive_failures_to_fail": 2, "retry_delay_ms": 0}),
        checks.clone(),
    );
    let report = run(&retried, Duration::from_secs(10)).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.failure_message());
    let attempts: Vec<u32> = report.results.iter().map(|r| r.attempts).collect();
    assert_eq!(attempts, [1, 2, 2, 2]);

    target.set_path_mode("/flap", TargetMode::Flapping { fail_every: 2 });
    let strict = suite(&target, json!({"concurrency": 1}), checks);
    let report = run(&strict, Duration::from_secs(10)).await;
    assert_eq!((report.passed, report.failed), (2, 2));
    let lenient = Suite {
        pass: checks::PassCriterion::MinPassedPercent(50),
        ..strict
    };
    target.set_path_mode("/flap", TargetMode::Flapping { fail_every: 2 });
    assert_eq!(run(&lenient, Duration::from_secs(10)).await.verdict, Verdict::Pass);
}

#[tokio::test]
async fn too_many_consecutive_failures_fail_the_check() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/flaky", TargetMode::FailFirst(3));
    let suite = suite(
        &target,
        json!({"consecutive_failures_to_fail": 3, "retry_delay_ms": 20}),
        json!([{"name": "flaky", "url": "/flaky"}]),
    );
    let report = run(&suite, Duration::from_secs(10)).await;
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.results[0].attempts, 3);
    assert!(matches!(
        failure(&report, "flaky"),
        Failure::Unexpected { status: 500, .. }
    ));
    assert!(
        report
            .failure_message()
            .contains("- flaky (3 attempts): expected status 200, got 500")
    );
    assert_eq!(target.requests_to("/flaky"), 3);
}

#[tokio::test]
async fn a_down_target_is_a_transport_failure() {
    let target = TargetService::start().await.unwrap();
    let suite = suite(
        &target,
        json!({"consecutive_failures_to_fail": 2, "retry_delay_ms": 10}),
        json!([{"name": "health", "url": "/health"}]),
    );
    target.set_mode(TargetMode::Down);
    let report = run(&suite, Duration::from_secs(10)).await;
    let result = &report.results[0];
    assert_eq!(result.attempts, 2);
    assert_eq!(result.latency_ms, None);
    match failure(&report, "health") {
        Failure::Transport { error } => {
            assert!(error.starts_with("connect: "), "{error}");
            assert!(error.to_lowercase().contains("refused"), "{error}");
            assert!(
                !error.contains("127.0.0.1"),
                "the URL stays out of the message: {error}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report.output_variables()["p95_ms"], "n/a");
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let target = TargetService::start().await.unwrap();
    target.set_mode(TargetMode::Slow(Duration::from_millis(150)));
    let checks: Vec<Value> = (0..20)
        .map(|i| json!({"name": format!("c{i}"), "url": format!("/p{i}")}))
        .collect();
    let suite = suite(&target, json!({"concurrency": 4}), json!(checks));
    let started = Instant::now();
    let report = run(&suite, Duration::from_secs(20)).await;
    assert_eq!(report.passed, 20, "{}", report.failure_message());
    assert_eq!(target.max_in_flight(), 4);
    // 20 checks of 150 ms, 4 at a time: at least 5 rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(750),
        "{:?}",
        started.elapsed()
    );
    let names: Vec<&str> = report.results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names[..3], ["c0", "c1", "c2"], "results keep the suite's order");
}

#[tokio::test]
async fn an_unvalidated_suite_fails_its_bad_checks_without_panicking() {
    let target = TargetService::start().await.unwrap();
    let mut suite = suite(
        &target,
        json!({}),
        json!([{"name": "ok", "url": "/health"}, {"name": "bad", "url": "/x"}]),
    );
    suite.checks[1].method = "BAD METHOD".into();
    suite.concurrency = 0;
    suite.consecutive_failures_to_fail = 0;
    let report = run(&suite, Duration::from_secs(10)).await;
    assert!(report.results[0].passed());
    assert!(matches!(failure(&report, "bad"), Failure::Invalid { .. }));
}
