//! The synthetic canary (and, as its cells land, the post-deploy test runner): a target that misbehaves is a
//! finding, reported as metrics; CloudWatch refusing the metrics is the function's failure (the alarm would go
//! blind), said loudly.

use std::time::Duration;

use e2e_tests::stack;
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::lambda::Outcome;
use pipeline_sim::stack::{scheduled_event, sweep_rule_name};
use pipeline_sim::target::{TargetMode, TargetService};

use crate::cell::{Cell, Check, answered, cell, ensure, failed_with};

const C: &str = "synthetic canary";

fn suite(base_url: &str) -> String {
    format!(
        r#"{{"base_url": "{base_url}", "timeout_ms": 1000, "checks": [
            {{"name": "home", "url": "/", "expect": {{"json": [{{"pointer": "/status", "equals": "ok"}}]}}}}]}}"#
    )
}

/// One canary run against a target in `mode` (or `base_url`), with `faults`, within a Lambda timeout of `timeout`;
/// `passed` is what the run must find (`None`: the function must fail with `error_type`).
async fn canary_run(
    target: Option<TargetMode>,
    base_url: Option<String>,
    faults: Vec<Fault>,
    timeout: Duration,
    expect: Result<bool, &'static str>,
) -> Result<(), String> {
    let service = TargetService::start().await.unwrap();
    if let Some(mode) = target {
        service.set_mode(mode);
    }
    let base_url = base_url.unwrap_or_else(|| service.base_url());
    let stack = stack().await;
    let settings = [
        ("CANARY_NAME", "production"),
        ("CANARY_SUITE", suite(&base_url).leak() as &str),
        ("METRICS_NAMESPACE", "CodePipelineHooks/Canary"),
        ("RUST_LOG", "info"),
    ];
    let host = stack
        .function_with_timeout("synthetic-canary", &settings, timeout)
        .await
        .unwrap();
    for fault in faults {
        stack.sim.state.faults.inject(fault);
    }
    let invocation = host
        .invoke(scheduled_event(&sweep_rule_name("synthetic-canary"), "run-1"))
        .await;
    match expect {
        Ok(passed) => {
            let outcome = answered(&invocation)?;
            ensure(outcome["passed"] == passed, || outcome.to_string())?;
            let published = stack.sim.state.cloudwatch().metrics("CodePipelineHooks/Canary").len();
            ensure(published > 0, || "no metrics published".into())
        }
        Err(error_type) => failed_with(&invocation, error_type).map(|_| ()),
    }
}

fn run(target: TargetMode, passed: bool) -> Check {
    Box::pin(canary_run(
        Some(target),
        None,
        vec![],
        Duration::from_secs(20),
        Ok(passed),
    ))
}

fn cloudwatch(kind: FaultKind) -> Check {
    let fault = Fault::new(Service::CloudWatch, kind).on("PutMetricData");
    Box::pin(canary_run(
        None,
        None,
        vec![fault],
        Duration::from_secs(20),
        Err("MetricsUnpublished"),
    ))
}

/// Serves a JSON body of `bytes` on 127.0.0.1; returns its base URL.
async fn huge(bytes: usize) -> String {
    use axum::routing::get;
    let body = format!("{{\"status\": \"ok\", \"padding\": \"{}\"}}", "x".repeat(bytes));
    let app = axum::Router::new().route("/", get(move || std::future::ready(body.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

pub fn cells() -> Vec<Cell> {
    vec![
        cell(C, "none", "passed; metrics published", || {
            run(TargetMode::Healthy, true)
        }),
        cell(C, "target down", "failed run; metrics published", || {
            run(TargetMode::Down, false)
        }),
        cell(C, "target failing (500)", "failed run; metrics published", || {
            run(TargetMode::Failing, false)
        }),
        cell(
            C,
            "target slow past the check timeout",
            "failed run; metrics published",
            || run(TargetMode::Slow(Duration::from_secs(30)), false),
        ),
        cell(
            C,
            "target flapping",
            "a run whose retries see through it; metrics published",
            || run(TargetMode::Flapping { fail_every: 2 }, true),
        ),
        cell(
            C,
            "target body of 8 MiB",
            "an answer within memory; metrics published",
            || {
                Box::pin(async {
                    let url = huge(8 * 1024 * 1024).await;
                    // Over the size the engine reads: the JSON expectation cannot be met, and the run says so.
                    canary_run(None, Some(url), vec![], Duration::from_secs(20), Ok(false)).await
                })
            },
        ),
        cell(C, "CloudWatch 5xx", "MetricsUnpublished", || {
            cloudwatch(FaultKind::ServerError)
        }),
        cell(C, "CloudWatch throttling", "MetricsUnpublished", || {
            cloudwatch(FaultKind::Throttle)
        }),
        cell(C, "CloudWatch hangs", "MetricsUnpublished before the deadline", || {
            cloudwatch(FaultKind::Delay(Duration::from_secs(60)))
        }),
        cell(
            C,
            "deadline near (3 s timeout, target slow)",
            "an answer before the timeout",
            || {
                Box::pin(async {
                    let outcome = canary_run(
                        Some(TargetMode::Slow(Duration::from_secs(30))),
                        None,
                        vec![],
                        Duration::from_secs(3),
                        Ok(false),
                    )
                    .await;
                    outcome.map_err(|problem| format!("{problem} (a Timeout here means the deadline was not held)"))
                })
            },
        ),
        cell(C, "event not JSON", "MalformedEvent", || {
            Box::pin(async {
                let stack = stack().await;
                let host = stack
                    .synthetic_canary("production", &suite("http://127.0.0.1:9"), &[])
                    .await
                    .unwrap();
                let invocation = host.invoke_raw("{{{").await;
                ensure(
                    !matches!(invocation.outcome, Outcome::Timeout | Outcome::Crashed),
                    || format!("{:?}", invocation.outcome),
                )?;
                failed_with(&invocation, "MalformedEvent").map(|_| ())
            })
        }),
    ]
}
