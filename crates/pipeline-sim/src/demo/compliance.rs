//! The demo's compliance scenario: a `storefront` pipeline gated by the Config compliance approver, judged by the
//! pipeline guardrail rule (an AWS Config custom rule) every time its declaration changes.
//!
//! Someone edits the pipeline to drop its post-deploy tests: Config runs the guardrail, which marks the pipeline
//! NON_COMPLIANT and says what to fix; the next release is rejected at the promotion, naming the rule and the fix.
//! The tests are put back: the guardrail marks it COMPLIANT, and the next release is approved into production.

use std::sync::Arc;
use std::time::Duration;

use super::Demo;
use crate::config::{self, ConfigRule};
use crate::lambda::FunctionHost;
use crate::model::{ActionDecl, ActionType, Pipeline, StageDecl};
use crate::samples::{RUNNER_FUNCTION, revision};
use crate::scenario::Release;
use crate::sns::topic_arn;

const PIPELINE: &str = "storefront";
const RULE: &str = "pipeline-release-practices";

fn approver_topic() -> String {
    topic_arn("config-compliance-approver")
}

/// Source → Build → Deploy (canary) → [Test: the post-deploy test runner] → Promote (compliance approver) →
/// Production.
fn storefront(target: &str, with_tests: bool) -> Pipeline {
    let checks = format!(r#"{{"base_url": "{target}", "checks": [{{"name": "health", "url": "/health"}}]}}"#);
    let custom_data = format!(r#"{{"rules": ["{RULE}"], "resources": "this_pipeline", "max_age_minutes": 60}}"#);
    let mut stages = vec![
        StageDecl::single(
            "Source",
            ActionDecl::new("Checkout", ActionType::aws("Source", "CodeStarSourceConnection")),
        ),
        StageDecl::single(
            "Build",
            ActionDecl::new("Compile", ActionType::aws("Build", "CodeBuild")),
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
                .with_config("FunctionName", RUNNER_FUNCTION)
                .with_config("UserParameters", &checks),
        ));
    }
    stages.push(StageDecl::single(
        "Promote",
        ActionDecl::new("CompliantToRelease", ActionType::manual_approval())
            .with_config("NotificationArn", &approver_topic())
            .with_config("CustomData", &custom_data)
            .with_timeout(Duration::from_secs(3600)),
    ));
    stages.push(StageDecl::single(
        "Production",
        ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy")),
    ));
    Pipeline::new(PIPELINE, stages)
}

/// The guardrail's parameters: production is `Production`, the gate must be the approver's topic, and only the
/// post-deploy test runner counts as a test.
fn rule_parameters() -> String {
    serde_json::json!({
        "ProductionStagePattern": "Production",
        "ApprovalBeforeProduction": "gate",
        "GateTopicArns": approver_topic(),
        "TestFunctionNames": RUNNER_FUNCTION,
    })
    .to_string()
}

/// Records a declaration change as Config would, waits for the guardrail's evaluation, and notes the result.
async fn change(demo: &Demo, what: &str, pipeline: Pipeline) {
    demo.timeline.note(format!("✎ {what}"));
    config::pipeline_changed(&demo.stack.sim.state, pipeline);
    config::settle(&demo.stack.sim.state).await;
    let state = demo.stack.sim.state.config();
    match state.result(RULE, PIPELINE) {
        Some(result) => demo.timeline.note(format!(
            "AWS Config: {RULE} → {PIPELINE} is {}: {}",
            result.compliance,
            result.annotation.as_deref().unwrap_or("")
        )),
        None => demo
            .timeline
            .note(format!("AWS Config: {RULE} put no result for {PIPELINE}")),
    }
}

async fn release(demo: &Demo, title: &str, commit: &str, message: &str) -> Result<(), String> {
    println!();
    demo.timeline.note(format!("▶ {title}"));
    let played = demo
        .stack
        .play(&Release::new(PIPELINE, revision(commit, message)), &demo.timeline)
        .await
        .ok_or("the release did not play")?;
    demo.timeline.note(format!("■ {title}: {:?}", played.status));
    Ok(())
}

/// Plays the scenario on the demo's stack and prints what its two functions cost.
pub(super) async fn run(demo: &Demo) -> Result<(), String> {
    let stack = &demo.stack;
    let target = demo.target.base_url();
    let topic = approver_topic();
    let approver = stack
        .function(
            "config-compliance-approver",
            &[
                ("GATE_TOPIC_ARN", topic.as_str()),
                ("GATE_PIPELINES", PIPELINE),
                ("RUST_LOG", "warn"),
            ],
        )
        .await
        .map_err(|e| e.to_string())?;
    stack.subscribe_topic(&topic, approver.clone());
    let guardrail = stack
        .function("pipeline-guardrail-rule", &[("RUST_LOG", "warn")])
        .await
        .map_err(|e| e.to_string())?;
    stack
        .sim
        .state
        .config()
        .put_rule(ConfigRule::custom(RULE, guardrail.clone(), &rule_parameters()));

    println!();
    println!(
        "Pipeline {PIPELINE}: Source → Build → Deploy (canary) → Test → Promote (Config compliance approver) → Production"
    );
    println!("AWS Config rule {RULE}: the pipeline guardrail rule, run by Config on every change of a pipeline");
    change(demo, "storefront is created", storefront(&target, true)).await;
    change(
        demo,
        "someone edits storefront and drops its post-deploy tests",
        storefront(&target, false),
    )
    .await;
    release(
        demo,
        "storefront release 1: winter banner (the pipeline no longer tests its canary)",
        "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f",
        "Add the winter banner",
    )
    .await?;
    change(demo, "the post-deploy tests are put back", storefront(&target, true)).await;
    release(
        demo,
        "storefront release 2: winter banner, again (tests back)",
        "6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a",
        "Add the winter banner",
    )
    .await?;
    let answers: Vec<_> = stack
        .sim
        .state
        .world()
        .approvals
        .iter()
        .filter(|a| a.pipeline == PIPELINE)
        .map(|a| a.state.clone())
        .collect();
    let rejected_then_approved = matches!(
        answers.as_slice(),
        [
            crate::model::ApprovalState::Decided {
                status: crate::model::ApprovalStatus::Rejected,
                ..
            },
            crate::model::ApprovalState::Decided {
                status: crate::model::ApprovalStatus::Approved,
                ..
            },
        ]
    );
    if !rejected_then_approved {
        return Err(format!(
            "expected the compliance approver to reject storefront release 1 and approve release 2, got {answers:?}"
        ));
    }
    print_costs(&[approver, guardrail]);
    Ok(())
}

fn print_costs(functions: &[Arc<FunctionHost>]) {
    println!();
    for function in functions {
        println!(
            "{}: {} invocation(s), exec → first Runtime API poll {:?}, peak RSS {} KiB",
            function.name(),
            function.invocation_count(),
            function.startup_time().unwrap_or_default(),
            function.peak_rss_kib().unwrap_or_default()
        );
    }
}
