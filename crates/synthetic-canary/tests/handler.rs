//! The canary's handler called directly: CloudWatch answered by aws-smithy-mocks, the checks sent to the
//! simulator's scriptable target service.

use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::operation::put_metric_data::{PutMetricDataError, PutMetricDataInput, PutMetricDataOutput};
use aws_sdk_cloudwatch::types::error::InternalServiceFault;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use hooks_common::settings::Env;
use pipeline_sim::target::{TargetMode, TargetService};
use serde_json::json;
use synthetic_canary::{Canary, CanarySettings};

fn canary(target: &TargetService, rule: &Rule) -> Canary {
    let suite = format!(
        r#"{{"base_url": "{}", "timeout_ms": 1000, "checks": [{{"name": "home", "url": "/"}}, {{"name": "cart", "url": "/cart"}}]}}"#,
        target.base_url()
    );
    let settings = CanarySettings::from_env(&Env::from_pairs(&[
        ("CANARY_NAME", "production"),
        ("CANARY_SUITE", &suite),
    ]))
    .unwrap();
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [rule]);
    // The tests' targets listen on 127.0.0.1, which the default address policy refuses.
    let policy = checks::AddressPolicy::allowing(&["127.0.0.1/32".parse().unwrap()]);
    Canary::new(cloudwatch, checks::http_client_with(&policy).unwrap(), policy, settings)
}

/// The value of `Success` for the whole canary in a request.
fn success(request: &PutMetricDataInput) -> Option<f64> {
    request
        .metric_data()
        .iter()
        .find(|d| d.metric_name() == Some("Success") && d.dimensions().len() == 1)
        .and_then(|d| d.value())
}

fn scheduled() -> serde_json::Value {
    json!({"detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-22T03:15:00Z", "detail": {}})
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

#[tokio::test]
async fn a_healthy_target_publishes_success() {
    let target = TargetService::start().await.unwrap();
    let put = mock!(aws_sdk_cloudwatch::Client::put_metric_data)
        .match_requests(|r| r.namespace() == Some("CodePipelineHooks/Canary") && success(r) == Some(1.0))
        .then_output(|| PutMetricDataOutput::builder().build());
    let outcome = canary(&target, &put).handle(&scheduled(), soon()).await.unwrap();
    assert!(outcome.passed, "{outcome:?}");
    assert_eq!((outcome.checks_passed, outcome.checks_failed), (2, 0));
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn a_failing_target_is_data_not_an_error() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/cart", TargetMode::Failing);
    let put = mock!(aws_sdk_cloudwatch::Client::put_metric_data)
        .match_requests(|r| success(r) == Some(0.0))
        .then_output(|| PutMetricDataOutput::builder().build());
    let outcome = canary(&target, &put).handle(&scheduled(), soon()).await.unwrap();
    assert!(!outcome.passed);
    assert_eq!(outcome.checks_failed, 1);
    assert!(
        outcome.summary.starts_with("FAIL: 1/2 checks passed"),
        "{}",
        outcome.summary
    );
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn failing_to_publish_is_a_function_error() {
    let target = TargetService::start().await.unwrap();
    let put = mock!(aws_sdk_cloudwatch::Client::put_metric_data).then_error(|| {
        PutMetricDataError::InternalServiceFault(InternalServiceFault::builder().message("down").build())
    });
    let err = canary(&target, &put).handle(&scheduled(), soon()).await.unwrap_err();
    assert_eq!(err.error_type(), "MetricsUnpublished");
    let message = err.to_string();
    assert!(
        message.contains("canary `production`") && message.contains("CodePipelineHooks/Canary"),
        "{message}"
    );
}
