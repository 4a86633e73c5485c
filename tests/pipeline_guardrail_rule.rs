//! The pipeline-guardrail-rule binary as AWS Config runs it in the simulator: a pipeline declaration change
//! invokes it with the configuration item (or an oversized notice it reads back), the periodic trigger makes it
//! judge every pipeline, and what it puts becomes the rule's results.

use std::sync::Arc;

use aws_sdk_config::Client;
use pipeline_sim::config::{self, ConfigRule};
use pipeline_sim::faults::Service;
use pipeline_sim::lambda::FunctionHost;
use pipeline_sim::model::{ActionDecl, ActionType, Pipeline, StageDecl};
use pipeline_sim::stack::Stack;
use serde_json::json;

const RULE: &str = "pipeline-release-practices";
const PARAMETERS: &str = r#"{"ProductionStagePattern": "Production", "TestFunctionNames": "post-deploy-test-runner"}"#;

async fn rule_stack(change_triggered: bool) -> (Stack, Arc<FunctionHost>) {
    let stack = e2e_tests::stack().await;
    let host = stack
        .function("pipeline-guardrail-rule", &[("RUST_LOG", "info")])
        .await
        .unwrap();
    let mut rule = ConfigRule::custom(RULE, host.clone(), PARAMETERS);
    rule.change_triggered = change_triggered;
    stack.sim.state.config().put_rule(rule);
    (stack, host)
}

/// Source → Deploy (canary) → [Test: the post-deploy test runner] → Gate → Production.
fn shop(name: &str, with_tests: bool) -> Pipeline {
    let mut stages = vec![
        StageDecl::single(
            "Source",
            ActionDecl::new("Checkout", ActionType::aws("Source", "CodeStarSourceConnection")),
        ),
        StageDecl::single(
            "Deploy",
            ActionDecl::new("Canary", ActionType::aws("Deploy", "CodeDeploy")),
        ),
    ];
    if with_tests {
        stages.push(StageDecl::single(
            "Test",
            ActionDecl::new("SmokeTests", ActionType::lambda_invoke())
                .with_config("FunctionName", "post-deploy-test-runner"),
        ));
    }
    stages.push(StageDecl::single(
        "Gate",
        ActionDecl::new("Compliance", ActionType::manual_approval())
            .with_config("NotificationArn", "arn:aws:sns:us-east-1:123456789012:gate"),
    ));
    stages.push(StageDecl::single(
        "Production",
        ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy")),
    ));
    Pipeline::new(name, stages)
}

fn result_of(stack: &Stack, pipeline: &str) -> (String, String) {
    let state = stack.sim.state.config();
    let r = state
        .result(RULE, pipeline)
        .expect("the rule put a result for the pipeline");
    (r.compliance.clone(), r.annotation.clone().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_edit_that_drops_the_tests_becomes_non_compliant_saying_what_to_fix() {
    let (stack, host) = rule_stack(true).await;
    config::pipeline_changed(&stack.sim.state, shop("shop", true));
    config::settle(&stack.sim.state).await;
    assert_eq!(result_of(&stack, "shop").0, "COMPLIANT");

    config::pipeline_changed(&stack.sim.state, shop("shop", false));
    let deliveries = config::settle(&stack.sim.state).await;
    assert!(
        deliveries.iter().all(|d| d.attempts.len() == 1 && !d.dead_lettered),
        "{deliveries:?}"
    );
    let (compliance, annotation) = result_of(&stack, "shop");
    assert_eq!(compliance, "NON_COMPLIANT");
    assert!(
        annotation.contains("Deploy › Canary is not followed by a test before Production")
            && annotation.contains("post-deploy-test-runner"),
        "{annotation}"
    );
    assert!(annotation.chars().count() <= 256);

    // Deleted: not applicable any more.
    config::pipeline_deleted(&stack.sim.state, "shop");
    config::settle(&stack.sim.state).await;
    assert_eq!(
        result_of(&stack, "shop"),
        ("NOT_APPLICABLE".into(), "the pipeline was deleted".into())
    );
    assert_eq!(host.invocation_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_item_is_read_back_from_the_configuration_history() {
    let (stack, _host) = rule_stack(true).await;
    stack.sim.state.config().oversized_item_bytes = 100;
    config::pipeline_changed(&stack.sim.state, shop("cart", false));
    config::settle(&stack.sim.state).await;
    assert_eq!(
        stack.sim.state.call_count(Service::Config, "GetResourceConfigHistory"),
        1
    );
    assert_eq!(result_of(&stack, "cart").0, "NON_COMPLIANT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_path_pages_120_pipelines_and_puts_every_evaluation() {
    let (stack, host) = rule_stack(false).await;
    {
        let mut world = stack.sim.state.world();
        world.pipelines.clear();
        for i in 0..120 {
            world.put_pipeline(shop(&format!("app-{i:03}"), i % 3 != 0));
        }
    }
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(hooks_common::aws::sdk_http_client())
        .endpoint_url(stack.sim.endpoint_url())
        .region(aws_config::Region::new(pipeline_sim::REGION))
        .test_credentials()
        .load()
        .await;
    Client::new(&sdk)
        .start_config_rules_evaluation()
        .config_rule_names(RULE)
        .send()
        .await
        .unwrap();
    let deliveries = config::settle(&stack.sim.state).await;
    let answer = deliveries[0].attempts.last().unwrap().outcome.expect_ok().clone();
    assert_eq!(
        answer,
        json!({"evaluated": 120, "compliant": 80, "non_compliant": 40, "not_applicable": 0, "test_mode": false})
    );
    assert_eq!(
        stack.sim.state.call_count(Service::CodePipeline, "ListPipelines"),
        2,
        "pages of 100"
    );
    assert_eq!(stack.sim.state.call_count(Service::CodePipeline, "GetPipeline"), 120);
    assert_eq!(
        stack.sim.state.call_count(Service::Config, "PutEvaluations"),
        2,
        "100 + 20"
    );
    assert_eq!(stack.sim.state.config().results.len(), 120);
    assert_eq!(result_of(&stack, "app-000").0, "NON_COMPLIANT");
    assert_eq!(result_of(&stack, "app-001").0, "COMPLIANT");
    assert_eq!(host.invocation_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testmode_evaluates_and_stores_nothing() {
    let (stack, host) = rule_stack(true).await;
    let invoking = json!({"messageType": "ConfigurationItemChangeNotification", "notificationCreationTime": "2026-12-02T10:00:00.000Z",
        "configurationItem": {"resourceType": "AWS::CodePipeline::Pipeline", "resourceId": "shop", "configurationItemStatus": "OK",
            "configurationItemCaptureTime": "2026-12-02T10:00:00.000Z",
            "configuration": {"pipeline": {"name": "shop", "stages": [
                {"name": "Production", "actions": [{"name": "Deploy", "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CodeDeploy", "version": "1"}}]}]}}}});
    let event = json!({"version": "1.0", "invokingEvent": invoking.to_string(), "ruleParameters": PARAMETERS,
        "resultToken": "TESTMODE", "eventLeftScope": false, "configRuleName": RULE, "accountId": "123456789012"});
    let invoked = host.invoke(event).await;
    let answer = invoked.outcome.expect_ok();
    assert_eq!(answer["test_mode"], true);
    assert_eq!(answer["non_compliant"], 1);
    assert!(stack.sim.state.config().results.is_empty());
    assert_eq!(stack.sim.state.config().puts.len(), 1);
}
