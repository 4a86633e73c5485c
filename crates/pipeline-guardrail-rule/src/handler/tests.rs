//! The handler through the real SDKs with mocked answers: what gets put for a change, an oversized item, a pipeline
//! that left the scope, the periodic path over 120 pipelines, `TESTMODE`, and evaluations handed back as failed.

use std::sync::{Arc, Mutex};

use aws_sdk_codepipeline::operation::get_pipeline::{GetPipelineError, GetPipelineOutput};
use aws_sdk_codepipeline::operation::list_pipelines::ListPipelinesOutput;
use aws_sdk_codepipeline::types::error::PipelineNotFoundException;
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionDeclaration, ActionOwner, ActionTypeId, PipelineDeclaration, PipelineSummary,
    StageDeclaration,
};
use aws_sdk_config::operation::get_resource_config_history::GetResourceConfigHistoryOutput;
use aws_sdk_config::operation::put_evaluations::PutEvaluationsOutput;
use aws_sdk_config::types::ConfigurationItem as AwsItem;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use serde_json::json;

use super::*;

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

fn declaration(name: &str, with_tests: bool) -> serde_json::Value {
    let kind = |category: &str, provider: &str| json!({"category": category, "owner": "AWS", "provider": provider, "version": "1"});
    let mut stages = vec![
        json!({"name": "Source", "actions": [{"name": "Checkout", "actionTypeId": kind("Source", "CodeStarSourceConnection")}]}),
        json!({"name": "Deploy", "actions": [{"name": "Canary", "actionTypeId": kind("Deploy", "CodeDeploy")}]}),
    ];
    if with_tests {
        stages.push(json!({"name": "Test", "actions": [{"name": "Smoke", "actionTypeId": kind("Invoke", "Lambda"), "configuration": {"FunctionName": "runner"}}]}));
    }
    stages
        .push(json!({"name": "Gate", "actions": [{"name": "Compliance", "actionTypeId": kind("Approval", "Manual")}]}));
    stages.push(
        json!({"name": "Production", "actions": [{"name": "Deploy", "actionTypeId": kind("Deploy", "CodeDeploy")}]}),
    );
    json!({"pipeline": {"name": name, "version": 2, "pipelineType": "V2", "stages": stages}})
}

fn config_event(invoking: serde_json::Value, token: &str, left_scope: bool) -> serde_json::Value {
    json!({"version": "1.0", "invokingEvent": invoking.to_string(), "ruleParameters": "{\"ProductionStagePattern\": \"Production\"}",
           "resultToken": token, "eventLeftScope": left_scope, "configRuleName": "pipeline-release-practices",
           "configRuleArn": "arn:aws:config:us-east-1:123456789012:config-rule/config-rule-abc", "accountId": "123456789012"})
}

fn change(name: &str, status: &str, configuration: serde_json::Value) -> serde_json::Value {
    json!({"messageType": "ConfigurationItemChangeNotification", "notificationCreationTime": "2026-12-02T10:00:01Z",
           "configurationItem": {"resourceType": PIPELINE_RESOURCE_TYPE, "resourceId": name, "configurationItemStatus": status,
               "configurationItemCaptureTime": "2026-12-02T10:00:00Z", "configuration": configuration}})
}

type Seen = Arc<Mutex<Vec<(String, String, Option<String>, bool)>>>;

/// A PutEvaluations mock recording (resource, compliance, annotation, test mode) of every evaluation it was sent.
fn recording_put(seen: &Seen) -> aws_smithy_mocks::Rule {
    let seen = seen.clone();
    mock!(aws_sdk_config::Client::put_evaluations)
        .match_requests(move |r| {
            let mut seen = seen.lock().unwrap();
            for e in r.evaluations() {
                seen.push((
                    e.compliance_resource_id().to_owned(),
                    e.compliance_type().as_str().to_owned(),
                    e.annotation().map(str::to_owned),
                    r.test_mode() == Some(true),
                ));
            }
            r.evaluations().len() <= EVALUATIONS_PER_CALL
        })
        .then_output(|| PutEvaluationsOutput::builder().build())
}

fn no_codepipeline() -> aws_sdk_codepipeline::Client {
    let none =
        mock!(aws_sdk_codepipeline::Client::list_pipelines).then_output(|| ListPipelinesOutput::builder().build());
    mock_client!(aws_sdk_codepipeline, [&none])
}

#[tokio::test]
async fn a_change_that_drops_the_tests_is_put_non_compliant_with_what_to_fix() {
    let seen: Seen = Arc::default();
    let put = recording_put(&seen);
    let rule = GuardrailRule {
        config: mock_client!(aws_sdk_config, [&put]),
        codepipeline: no_codepipeline(),
    };
    let event = config_event(change("shop", "OK", declaration("shop", false)), "token-1", false);
    let summary = rule.handle(event, deadline()).await.unwrap();
    assert_eq!(
        (summary.evaluated, summary.non_compliant, summary.test_mode),
        (1, 1, false)
    );
    let seen = seen.lock().unwrap();
    assert_eq!((seen[0].0.as_str(), seen[0].1.as_str()), ("shop", "NON_COMPLIANT"));
    let annotation = seen[0].2.as_deref().unwrap();
    assert!(
        annotation.contains("Deploy › Canary is not followed by a test before Production"),
        "{annotation}"
    );
}

#[tokio::test]
async fn left_scope_and_deleted_pipelines_do_not_apply_and_testmode_stores_nothing() {
    let seen: Seen = Arc::default();
    let put = recording_put(&seen);
    let rule = GuardrailRule {
        config: mock_client!(aws_sdk_config, RuleMode::MatchAny, [&put]),
        codepipeline: no_codepipeline(),
    };
    let left = config_event(change("shop", "OK", declaration("shop", false)), "t", true);
    rule.handle(left, deadline()).await.unwrap();
    let deleted = config_event(change("cart", "ResourceDeleted", serde_json::Value::Null), "t", false);
    rule.handle(deleted, deadline()).await.unwrap();
    let test = config_event(
        change("shop", "OK", declaration("shop", true)),
        TEST_MODE_TOKEN_FOR_TESTS,
        false,
    );
    let summary = rule.handle(test, deadline()).await.unwrap();
    assert!(summary.test_mode);
    let seen = seen.lock().unwrap();
    let got: Vec<(&str, &str, bool)> = seen.iter().map(|s| (s.0.as_str(), s.1.as_str(), s.3)).collect();
    assert_eq!(
        got,
        [
            ("shop", "NOT_APPLICABLE", false),
            ("cart", "NOT_APPLICABLE", false),
            ("shop", "COMPLIANT", true)
        ]
    );
    assert_eq!(seen[1].2.as_deref(), Some("the pipeline was deleted"));
}

const TEST_MODE_TOKEN_FOR_TESTS: &str = crate::event::TEST_MODE_TOKEN;

#[tokio::test]
async fn an_oversized_item_is_read_from_the_configuration_history() {
    let history = mock!(aws_sdk_config::Client::get_resource_config_history)
        .match_requests(|r| {
            r.resource_id() == Some("shop") && r.resource_type().map(|t| t.as_str()) == Some(PIPELINE_RESOURCE_TYPE)
        })
        .then_output(|| {
            GetResourceConfigHistoryOutput::builder()
                .configuration_items(
                    AwsItem::builder()
                        .configuration(declaration("shop", true).to_string())
                        .build(),
                )
                .build()
        });
    let seen: Seen = Arc::default();
    let put = recording_put(&seen);
    let rule = GuardrailRule {
        config: mock_client!(aws_sdk_config, RuleMode::MatchAny, [&history, &put]),
        codepipeline: no_codepipeline(),
    };
    let oversized = json!({"messageType": "OversizedConfigurationItemChangeNotification",
        "configurationItemSummary": {"resourceType": PIPELINE_RESOURCE_TYPE, "resourceId": "shop", "configurationItemStatus": "OK",
            "configurationItemCaptureTime": "2026-12-02T10:00:00Z"}});
    rule.handle(config_event(oversized, "t", false), deadline())
        .await
        .unwrap();
    assert_eq!(history.num_calls(), 1);
    assert_eq!(seen.lock().unwrap()[0].1, "COMPLIANT");
}

fn sdk_pipeline(name: &str) -> PipelineDeclaration {
    let action = |n: &str, category: ActionCategory, provider: &str| {
        ActionDeclaration::builder()
            .name(n)
            .action_type_id(
                ActionTypeId::builder()
                    .category(category)
                    .owner(ActionOwner::Aws)
                    .provider(provider)
                    .version("1")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    let stage = |n: &str, a: ActionDeclaration| StageDeclaration::builder().name(n).actions(a).build().unwrap();
    PipelineDeclaration::builder()
        .name(name)
        .role_arn("arn:aws:iam::123456789012:role/r")
        .stages(stage("Source", action("S", ActionCategory::Source, "S3")))
        .stages(stage("Production", action("D", ActionCategory::Deploy, "CodeDeploy")))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_periodic_path_pages_every_pipeline_and_puts_them_in_hundreds() {
    let names: Vec<String> = (0..120).map(|i| format!("app-{i:03}")).collect();
    let first = {
        let names = names.clone();
        mock!(aws_sdk_codepipeline::Client::list_pipelines)
            .match_requests(|r| r.next_token().is_none())
            .then_output(move || {
                let mut out = ListPipelinesOutput::builder().next_token("page-2");
                for n in &names[..100] {
                    out = out.pipelines(PipelineSummary::builder().name(n).build());
                }
                out.build()
            })
    };
    let second = {
        let names = names.clone();
        mock!(aws_sdk_codepipeline::Client::list_pipelines)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(move || {
                let mut out = ListPipelinesOutput::builder();
                for n in &names[100..] {
                    out = out.pipelines(PipelineSummary::builder().name(n).build());
                }
                out.build()
            })
    };
    let deleted = mock!(aws_sdk_codepipeline::Client::get_pipeline)
        .match_requests(|r| r.name() == Some("app-007"))
        .then_error(|| GetPipelineError::PipelineNotFoundException(PipelineNotFoundException::builder().build()));
    let get = mock!(aws_sdk_codepipeline::Client::get_pipeline)
        .then_output(|| GetPipelineOutput::builder().pipeline(sdk_pipeline("whatever")).build());
    let seen: Seen = Arc::default();
    let put = recording_put(&seen);
    let rule = GuardrailRule {
        config: mock_client!(aws_sdk_config, RuleMode::MatchAny, [&put]),
        codepipeline: mock_client!(
            aws_sdk_codepipeline,
            RuleMode::MatchAny,
            [&first, &second, &deleted, &get]
        ),
    };
    let scheduled = json!({"messageType": "ScheduledNotification", "notificationCreationTime": "2026-12-02T10:00:00Z", "awsAccountId": "123456789012"});
    let summary = rule
        .handle(config_event(scheduled, "t", false), deadline())
        .await
        .unwrap();
    assert_eq!(
        (summary.evaluated, summary.non_compliant, summary.not_applicable),
        (120, 119, 1)
    );
    assert_eq!(put.num_calls(), 2, "100 + 20");
    assert_eq!(get.num_calls() + deleted.num_calls(), 120);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 120);
    assert!(seen.iter().any(|s| s.0 == "app-007" && s.1 == "NOT_APPLICABLE"));
}

#[tokio::test]
async fn evaluations_handed_back_as_failed_are_put_again_then_the_invocation_fails() {
    let failing_once = mock!(aws_sdk_config::Client::put_evaluations)
        .sequence()
        .output(|| {
            PutEvaluationsOutput::builder()
                .failed_evaluations(
                    Evaluation::builder()
                        .compliance_resource_type(PIPELINE_RESOURCE_TYPE)
                        .compliance_resource_id("shop")
                        .compliance_type(ComplianceType::Compliant)
                        .ordering_timestamp(AwsTime::from_secs(0))
                        .build()
                        .unwrap(),
                )
                .build()
        })
        .output(|| PutEvaluationsOutput::builder().build())
        .build();
    let rule = GuardrailRule {
        config: mock_client!(aws_sdk_config, RuleMode::Sequential, [&failing_once]),
        codepipeline: no_codepipeline(),
    };
    let event = config_event(change("shop", "OK", declaration("shop", true)), "t", false);
    rule.handle(event.clone(), deadline()).await.unwrap();
    assert_eq!(failing_once.num_calls(), 2);

    let always_failing = mock!(aws_sdk_config::Client::put_evaluations).then_output(|| {
        PutEvaluationsOutput::builder()
            .failed_evaluations(
                Evaluation::builder()
                    .compliance_resource_type(PIPELINE_RESOURCE_TYPE)
                    .compliance_resource_id("shop")
                    .compliance_type(ComplianceType::Compliant)
                    .ordering_timestamp(AwsTime::from_secs(0))
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let rule = GuardrailRule {
        config: mock_client!(aws_sdk_config, RuleMode::MatchAny, [&always_failing]),
        codepipeline: no_codepipeline(),
    };
    let err = rule.handle(event, deadline()).await.unwrap_err();
    assert_eq!(err.error_type(), "EvaluationsNotRecorded");
    assert!(err.to_string().contains("after 3 attempt(s)"), "{err}");
    assert_eq!(always_failing.num_calls(), 3);
}

#[tokio::test]
async fn bad_rule_parameters_fail_naming_the_parameter() {
    let rule = GuardrailRule {
        config: mock_client!(aws_sdk_config, [&recording_put(&Seen::default())]),
        codepipeline: no_codepipeline(),
    };
    let mut event = config_event(change("shop", "OK", declaration("shop", true)), "t", false);
    event["ruleParameters"] = json!("{\"MaxParallelDeploys\": \"many\"}");
    let err = rule.handle(event, deadline()).await.unwrap_err();
    assert_eq!(err.error_type(), "RuleParameterError");
    assert!(err.to_string().contains("`MaxParallelDeploys`"), "{err}");
}

fn sample(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn the_sample_events_are_what_config_sends() {
    // events/pipeline-guardrail-rule.*.json (what `make invoke` plays): TESTMODE, so nothing is stored.
    let seen: Seen = Arc::default();
    let put = recording_put(&seen);
    let rule = GuardrailRule {
        config: mock_client!(aws_sdk_config, RuleMode::MatchAny, [&put]),
        codepipeline: no_codepipeline(),
    };
    let summary = rule
        .handle(sample("pipeline-guardrail-rule.change.json"), deadline())
        .await
        .unwrap();
    assert!(summary.test_mode);
    let seen = seen.lock().unwrap();
    assert_eq!(
        (seen[0].0.as_str(), seen[0].1.as_str(), seen[0].3),
        ("storefront", "NON_COMPLIANT", true)
    );
    assert!(
        seen[0]
            .2
            .as_deref()
            .unwrap()
            .starts_with("Deploy › Canary is not followed by a test before Production")
    );
    let scheduled = event::parse(sample("pipeline-guardrail-rule.scheduled.json")).unwrap();
    assert!(matches!(scheduled.message, Message::Scheduled { .. }) && scheduled.test_mode());
}

#[tokio::test]
async fn an_item_of_another_type_is_put_not_applicable_under_its_own_type() {
    let put = mock!(aws_sdk_config::Client::put_evaluations)
        .match_requests(|r| r.evaluations()[0].compliance_resource_type() == "AWS::EC2::SecurityGroup")
        .then_output(|| PutEvaluationsOutput::builder().build());
    let rule = GuardrailRule {
        config: mock_client!(aws_sdk_config, [&put]),
        codepipeline: no_codepipeline(),
    };
    let mut invoking = change("sg-1", "OK", json!({}));
    invoking["configurationItem"]["resourceType"] = json!("AWS::EC2::SecurityGroup");
    let summary = rule
        .handle(config_event(invoking, "t", false), deadline())
        .await
        .unwrap();
    assert_eq!(summary.not_applicable, 1);
    assert_eq!(put.num_calls(), 1);
}
