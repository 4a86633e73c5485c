//! The synthetic canary binary through the simulator: invoked as its EventBridge schedule does, it checks the
//! scriptable target service ("production") and publishes to the simulated CloudWatch, where an alarm shaped like
//! the template's watches `Success`.

use std::sync::Arc;
use std::time::Duration;

use e2e_tests::stack;
use pipeline_sim::cloudwatch::{Alarm, AlarmState, ComparisonOperator, Statistic, TreatMissingData};
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::lambda::{AsyncDelivery, FunctionHost, Outcome};
use pipeline_sim::stack::Stack;
use pipeline_sim::target::{TargetMode, TargetService};
use serde_json::Value;

const NAMESPACE: &str = "CodePipelineHooks/Canary";
const CANARY: &str = "production";

fn suite(target: &TargetService) -> String {
    format!(
        r#"{{"base_url": "{}", "timeout_ms": 1000, "checks": [
            {{"name": "home", "url": "/", "expect": {{"json": [{{"pointer": "/status", "equals": "ok"}}]}}}},
            {{"name": "search", "url": "/search?q=socks"}}]}}"#,
        target.base_url()
    )
}

async fn canary(target: &TargetService) -> (Stack, Arc<FunctionHost>) {
    let stack = stack().await;
    let host = stack
        .synthetic_canary(CANARY, &suite(target), &[])
        .await
        .expect("the canary starts");
    (stack, host)
}

/// The one attempt's answer: a canary run that found a failing target still succeeds as a function.
fn answer(delivery: &AsyncDelivery) -> &Value {
    assert_eq!(delivery.attempts.len(), 1, "no retry: {delivery:?}");
    match &delivery.attempts[0].outcome {
        Outcome::Ok(value) => value,
        other => panic!("the canary run failed as a function: {other:?}"),
    }
}

/// `Name[Dim=value,...] value` for the datums of the namespace, from the `from`-th on.
fn metrics(stack: &Stack, from: usize) -> Vec<String> {
    stack.sim.state.cloudwatch().metrics(NAMESPACE)[from..]
        .iter()
        .map(|d| {
            let dims: Vec<String> = d.dimensions.iter().map(|d| format!("{}={}", d.name, d.value)).collect();
            format!(
                "{}[{}] {}",
                d.metric_name,
                dims.join(","),
                d.value.summary().map_or(f64::NAN, |s| s.sum)
            )
        })
        .collect()
}

fn assert_has(shown: &[String], expected: &[&str]) {
    for e in expected {
        assert!(shown.iter().any(|m| m == e), "{e} not among {shown:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_production_publishes_success_and_latency() {
    let target = TargetService::start().await.unwrap();
    let (stack, host) = canary(&target).await;
    let delivery = stack.sweep(&host).await;
    let answer = answer(&delivery);
    assert_eq!(answer["passed"], true, "{answer}");
    assert_eq!(answer["canary"], CANARY);

    let shown = metrics(&stack, 0);
    assert_has(
        &shown,
        &[
            "Success[Canary=production] 1",
            "Passed[Canary=production] 2",
            "Failed[Canary=production] 0",
            "Success[Canary=production,Check=home] 1",
            "Success[Canary=production,Check=search] 1",
        ],
    );
    for prefix in ["Latency[Canary=production] ", "Latency[Canary=production,Check=home] "] {
        assert!(
            shown.iter().any(|m| m.starts_with(prefix)),
            "{prefix} not among {shown:#?}"
        );
    }
    assert_eq!(target.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_production_is_data_not_a_function_error() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/search", TargetMode::Failing);
    target.set_path_mode("/", TargetMode::Status(503));
    let (stack, host) = canary(&target).await;
    let delivery = stack.sweep(&host).await;
    let answer = answer(&delivery);
    assert_eq!(answer["passed"], false, "{answer}");
    assert_eq!(answer["checks_failed"], 2);
    assert_has(
        &metrics(&stack, 0),
        &[
            "Success[Canary=production] 0",
            "Failed[Canary=production] 2",
            "Success[Canary=production,Check=home] 0",
            "Success[Canary=production,Check=search] 0",
        ],
    );
    let logs = host.logs().join("\n");
    assert!(
        logs.contains("canary failed") && logs.contains("search: expected status 200, got 500"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alarm_fires_when_production_fails_and_clears_when_it_recovers() {
    let target = TargetService::start().await.unwrap();
    let (stack, host) = canary(&target).await;
    // The template's alarm (Minimum of Success < 1, missing data breaching) over one 10 s period, so the test
    // sees a clean period after 10 s instead of the template's minutes.
    let alarm = Alarm::new("storefront-canary-production", NAMESPACE, "Success")
        .with_dimension("Canary", CANARY)
        .with_statistic(Statistic::Minimum)
        .with_threshold(ComparisonOperator::LessThanThreshold, 1.0)
        .with_evaluation(10, 1, 1)
        .with_treat_missing_data(TreatMissingData::Breaching);
    stack.sim.state.cloudwatch().put_alarm(alarm);
    let state = || {
        stack
            .sim
            .state
            .cloudwatch()
            .alarm("storefront-canary-production")
            .unwrap()
            .state
    };

    answer(&stack.sweep(&host).await);
    assert_eq!(state(), AlarmState::Ok, "a passing run");

    target.set_mode(TargetMode::Failing);
    answer(&stack.sweep(&host).await);
    assert_eq!(state(), AlarmState::Alarm, "a failed run fires the alarm at once");
    let reason = stack
        .sim
        .state
        .cloudwatch()
        .alarm("storefront-canary-production")
        .unwrap()
        .state_reason
        .clone();
    assert!(reason.contains("was less than the threshold (1.0)"), "{reason}");

    target.set_mode(TargetMode::Healthy);
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    answer(&stack.sweep(&host).await);
    assert_eq!(state(), AlarmState::Ok, "a period holding only passes clears it");

    let states: Vec<AlarmState> = stack
        .sim
        .state
        .cloudwatch()
        .transitions()
        .iter()
        .map(|t| t.state)
        .collect();
    assert_eq!(states, [AlarmState::Ok, AlarmState::Alarm, AlarmState::Ok]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_to_publish_metrics_is_a_function_error() {
    let target = TargetService::start().await.unwrap();
    let (stack, host) = canary(&target).await;
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::CloudWatch, FaultKind::ServerError).on("PutMetricData"));
    let delivery = stack.sweep(&host).await;
    // The simulator retries asynchronous invocations twice, as Lambda does by default (the template sets no
    // retries for the canary: the next scheduled run is the retry); each attempt fails the same way.
    assert!(delivery.dead_lettered, "{delivery:?}");
    for attempt in &delivery.attempts {
        let (error_type, error_message) = attempt.outcome.expect_error();
        assert_eq!(error_type, "MetricsUnpublished");
        assert!(
            error_message.contains("canary `production`") && error_message.contains(NAMESPACE),
            "{error_message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_suite_stops_the_canary_at_start_naming_the_field() {
    let stack = stack().await;
    let host = stack
        .synthetic_canary(CANARY, r#"{"checks": [{"name": "home", "url": "/"}]}"#, &[])
        .await
        .unwrap();
    let invocation = host.invoke(serde_json::json!({})).await;
    assert!(
        !matches!(invocation.outcome, Outcome::Ok(_)),
        "{:?}",
        invocation.outcome
    );
    let logs = host.logs().join("\n");
    assert!(
        logs.contains("setting CANARY_SUITE") && logs.contains("`checks[0].url`"),
        "{logs}"
    );
}
