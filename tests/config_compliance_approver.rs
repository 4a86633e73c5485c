//! The config-compliance-approver binary through the simulator: a Manual approval publishes to SNS, the function
//! reads compliance from the simulated AWS Config (and, where it asks for an evaluation, the real guardrail rule
//! binary evaluates the pipeline) and answers through the simulated CodePipeline.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use pipeline_sim::config::{self, ConfigRule, PIPELINE_RESOURCE_TYPE};
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::lambda::{FunctionHost, Outcome};
use pipeline_sim::model::{
    ActionDecl, ActionType, ApprovalState, ApprovalStatus, DecidedBy, Pipeline, StageDecl, Status,
};
use pipeline_sim::samples::revision;
use pipeline_sim::scenario::{Played, Release, Timeline};
use pipeline_sim::sns::topic_arn;
use pipeline_sim::stack::Stack;

const PIPELINE: &str = "shop";
const STAGE: &str = "Promote";
const ACTION: &str = "CompliantToRelease";
const RULE: &str = "pipeline-release-practices";

fn topic() -> String {
    topic_arn("config-compliance-approver")
}

/// Source → Deploy (canary) → Test (a Test action) → Promote (the approval on the approver's topic) → Production:
/// a pipeline the guardrail rule finds compliant.
fn pipeline(custom_data: &str) -> Pipeline {
    Pipeline::new(
        PIPELINE,
        vec![
            StageDecl::single(
                "Source",
                ActionDecl::new("Checkout", ActionType::aws("Source", "CodeStarSourceConnection")),
            ),
            StageDecl::single(
                "Deploy",
                ActionDecl::new("Canary", ActionType::aws("Deploy", "CodeDeploy")),
            ),
            StageDecl::single(
                "Test",
                ActionDecl::new("Integration", ActionType::aws("Test", "CodeBuild")),
            ),
            StageDecl::single(
                STAGE,
                ActionDecl::new(ACTION, ActionType::manual_approval())
                    .with_config("NotificationArn", &topic())
                    .with_config("CustomData", custom_data)
                    .with_timeout(Duration::from_secs(3600)),
            ),
            StageDecl::single(
                "Production",
                ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy")),
            ),
        ],
    )
}

/// A stack with the pipeline and the approver subscribed to its topic.
async fn approver_stack(custom_data: &str) -> (Stack, Arc<FunctionHost>) {
    let stack = e2e_tests::stack().await;
    stack.sim.state.world().put_pipeline(pipeline(custom_data));
    let topic = topic();
    let host = stack
        .function(
            "config-compliance-approver",
            &[
                ("GATE_TOPIC_ARN", topic.as_str()),
                ("GATE_PIPELINES", PIPELINE),
                ("RUST_LOG", "info"),
            ],
        )
        .await
        .unwrap();
    stack.subscribe_topic(&topic, host.clone());
    (stack, host)
}

/// The real guardrail rule as the custom rule `RULE`, change-triggered over pipelines.
async fn guardrail(stack: &Stack) -> Arc<FunctionHost> {
    let host = stack
        .function("pipeline-guardrail-rule", &[("RUST_LOG", "info")])
        .await
        .unwrap();
    stack.sim.state.config().put_rule(ConfigRule::custom(
        RULE,
        host.clone(),
        r#"{"ProductionStagePattern": "Production"}"#,
    ));
    host
}

fn managed(stack: &Stack, name: &str) {
    stack.sim.state.config().put_rule(ConfigRule::managed(
        name,
        "CODEPIPELINE_CHECK",
        &[PIPELINE_RESOURCE_TYPE],
    ));
}

fn result(stack: &Stack, rule: &str, compliance: &str, annotation: Option<&str>, minutes_ago: i64) {
    stack.sim.state.config().set_result(
        rule,
        PIPELINE_RESOURCE_TYPE,
        PIPELINE,
        compliance,
        annotation,
        Utc::now() - chrono::Duration::minutes(minutes_ago),
    );
}

fn release() -> Release {
    Release::new(
        PIPELINE,
        revision("ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12", "Show delivery dates"),
    )
}

fn decided(played: &Played) -> (ApprovalStatus, String, DecidedBy) {
    match &played.approvals[0].state {
        ApprovalState::Decided {
            status, summary, by, ..
        } => (*status, summary.clone(), by.clone()),
        other => panic!("approval not decided: {other:?}"),
    }
}

fn answers(stack: &Stack) -> (usize, usize) {
    stack.sim.state.world().approval_answer_counts()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliant_and_fresh_approves_listing_the_rules() {
    let (stack, _host) = approver_stack(r#"{"rules": ["practices", "restricted-ssh"], "max_age_minutes": 60}"#).await;
    managed(&stack, "practices");
    managed(&stack, "restricted-ssh");
    result(&stack, "practices", "COMPLIANT", None, 5);
    result(&stack, "restricted-ssh", "COMPLIANT", None, 20);
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    assert_eq!(played.status, Status::Succeeded);
    let (status, summary, by) = decided(&played);
    assert_eq!((status, by), (ApprovalStatus::Approved, DecidedBy::Api));
    assert!(
        summary.contains("compliant: 2 Config rule(s)") && summary.contains("practices (evaluated"),
        "{summary}"
    );
    assert!(summary.contains("restricted-ssh (evaluated"), "{summary}");
    assert_eq!(stack.sim.state.config().starts.len(), 0, "nothing to evaluate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_compliant_rejects_naming_rule_resource_and_annotation() {
    let (stack, host) = approver_stack(r#"{"rules": ["practices"]}"#).await;
    managed(&stack, "practices");
    result(&stack, "practices", "COMPLIANT", None, 5);
    stack.sim.state.config().set_result(
        "practices",
        PIPELINE_RESOURCE_TYPE,
        "cart",
        "NON_COMPLIANT",
        Some("Deploy › Canary is not followed by a test before Production: add a post-deploy test action after it"),
        Utc::now(),
    );
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    assert_eq!(played.status, Status::Failed);
    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(
        summary.contains("Config rule practices is NON_COMPLIANT (1 resource(s))"),
        "{summary}"
    );
    assert!(
        summary.contains("pipeline cart: Deploy › Canary is not followed by a test"),
        "{summary}"
    );
    assert!(host.logs().join("\n").contains("non-compliant resource"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_data_evaluates_once_holds_then_the_sweep_approves() {
    let (stack, host) =
        approver_stack(r#"{"rules": ["pipeline-release-practices"], "resources": "this_pipeline"}"#).await;
    let rule = guardrail(&stack).await;
    // Config knows the pipeline (recorded at creation) but the rule never evaluated it: no result.
    config::pipeline_changed(
        &stack.sim.state,
        pipeline(r#"{"rules": ["pipeline-release-practices"], "resources": "this_pipeline"}"#),
    );
    config::settle(&stack.sim.state).await;
    stack.sim.state.config().results.clear();
    stack.sim.state.config().rules.get_mut(RULE).unwrap().status = Default::default();

    let sweeps = stack.start_sweeps(host.clone(), Duration::from_millis(800));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    sweeps.stop();
    config::settle(&stack.sim.state).await;

    assert_eq!(played.status, Status::Succeeded, "{:?}", played.approvals[0].state);
    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Approved);
    assert!(summary.contains("pipeline-release-practices (evaluated"), "{summary}");
    let logs = host.logs().join("\n");
    assert!(
        logs.contains("no result for this pipeline yet; evaluation requested"),
        "{logs}"
    );
    assert_eq!(
        stack.sim.state.config().starts.len(),
        1,
        "one StartConfigRulesEvaluation for the approval"
    );
    assert!(rule.invocation_count() >= 1);
    assert_eq!(answers(&stack), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_result_is_evaluated_again_and_held() {
    let custom_data =
        r#"{"rules": ["pipeline-release-practices"], "resources": "this_pipeline", "max_age_minutes": 60}"#;
    let (stack, host) = approver_stack(custom_data).await;
    guardrail(&stack).await;
    config::pipeline_changed(&stack.sim.state, pipeline(custom_data));
    config::settle(&stack.sim.state).await;
    // The rule's result is two hours old, and so is its last run.
    result(&stack, RULE, "COMPLIANT", Some("release practices followed"), 120);
    {
        let mut state = stack.sim.state.config();
        let status = &mut state.rules.get_mut(RULE).unwrap().status;
        status.last_successful_invocation = Some(Utc::now() - chrono::Duration::minutes(120));
        status.last_successful_evaluation = Some(Utc::now() - chrono::Duration::minutes(120));
    }
    stack.wiring.set_wait_bound(Duration::from_secs(3));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    assert_eq!(played.status, Status::InProgress, "held on the SNS delivery");
    assert_eq!(answers(&stack), (0, 0));
    let logs = host.logs().join("\n");
    assert!(
        logs.contains("stale (evaluated 2 h ago, older than 60 min); evaluation requested"),
        "{logs}"
    );
    assert_eq!(stack.sim.state.config().starts, vec![vec![RULE.to_owned()]]);
    // The evaluation lands; the next sweep approves.
    config::settle(&stack.sim.state).await;
    let swept = stack.sweep(&host).await;
    let handled = swept.attempts.last().unwrap().outcome.expect_ok().clone();
    assert_eq!(handled[0]["outcome"], "approved", "{handled}");
    assert_eq!(stack.sim.state.config().starts.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_rule_rejects_naming_it() {
    let (stack, _host) = approver_stack(r#"{"rules": ["practices", "relase-practices"]}"#).await;
    managed(&stack, "practices");
    result(&stack, "practices", "COMPLIANT", None, 1);
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(
        summary.contains("Config rule(s) not found: relase-practices"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_throttling_or_failing_never_approves() {
    for fault in [FaultKind::Throttle, FaultKind::ServerError] {
        let (stack, host) = approver_stack(r#"{"rules": ["practices"]}"#).await;
        managed(&stack, "practices");
        result(&stack, "practices", "COMPLIANT", None, 1);
        stack
            .sim
            .state
            .faults
            .inject(Fault::new(Service::Config, fault.clone()).on("DescribeComplianceByConfigRule"));
        stack.wiring.set_wait_bound(Duration::from_secs(3));
        let sweeps = stack.start_sweeps(host.clone(), Duration::from_millis(700));
        let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
        sweeps.stop();
        assert!(
            matches!(played.approvals[0].state, ApprovalState::Pending),
            "{fault:?}: {:?}",
            played.approvals[0].state
        );
        assert_eq!(answers(&stack), (0, 0), "{fault:?}");
        let logs = host.logs().join("\n");
        assert!(
            logs.contains("could not check: Config DescribeComplianceByConfigRule for shop failed"),
            "{fault:?}: {logs}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_rules_with_the_non_compliant_one_on_the_second_page_rejects() {
    let names: Vec<String> = (1..=30).map(|i| format!("r{i:02}")).collect();
    let custom_data = serde_json::json!({ "rules": names }).to_string();
    let (stack, _host) = approver_stack(&custom_data).await;
    for name in &names {
        managed(&stack, name);
        let compliance = if name == "r29" { "NON_COMPLIANT" } else { "COMPLIANT" };
        let annotation = (name == "r29").then_some("no approval before Production: add a Manual approval");
        result(&stack, name, compliance, annotation, 3);
    }
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(summary.contains("Config rule r29 is NON_COMPLIANT"), "{summary}");
    assert!(
        summary.contains("pipeline shop: no approval before Production"),
        "{summary}"
    );
    // 25 + 5 names; the first chunk pages (10 a page), so the rule was found by paging, not on a first page.
    assert!(
        stack
            .sim
            .state
            .call_count(Service::Config, "DescribeComplianceByConfigRule")
            >= 4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_notification_answers_once_and_a_person_first_is_done() {
    let (stack, host) = approver_stack(r#"{"rules": ["practices"]}"#).await;
    managed(&stack, "practices");
    result(&stack, "practices", "COMPLIANT", None, 1);
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    assert_eq!(decided(&played).0, ApprovalStatus::Approved);
    let notification = played.notifications[0].events[0].1.clone();
    let again = host.invoke(notification).await;
    assert!(
        matches!(&again.outcome, Outcome::Ok(v) if v[0]["outcome"] == "already_decided"),
        "{:?}",
        again.outcome
    );
    assert_eq!(answers(&stack), (1, 0), "one PutApprovalResult");

    // A person decides before the gate can: nothing more is sent.
    let (stack, host) = approver_stack(r#"{"rules": ["practices"]}"#).await;
    managed(&stack, "practices");
    result(&stack, "practices", "INSUFFICIENT_DATA", None, 1);
    stack.wiring.set_wait_bound(Duration::from_secs(3));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    assert!(matches!(played.approvals[0].state, ApprovalState::Pending));
    stack
        .sim
        .approve_as_person(PIPELINE, STAGE, ACTION, ApprovalStatus::Approved, "checked by hand")
        .unwrap();
    let swept = stack.sweep(&host).await;
    let handled = swept.attempts.last().unwrap().outcome.expect_ok().clone();
    assert_eq!(handled, serde_json::json!([]), "the sweep finds nothing pending");
    let redelivered = host.invoke(played.notifications[0].events[0].1.clone()).await;
    assert_eq!(redelivered.outcome.expect_ok()[0]["outcome"], "already_decided");
    assert_eq!(answers(&stack), (0, 0));
}
