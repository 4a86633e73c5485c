//! `make demo`: a sample pipeline played through the simulator and the real function binaries, so a
//! newcomer sees every function work in a minute without an AWS account.
//!
//! The `shop` pipeline: Source → Build → Deploy (canary) → Test (post-deploy test runner) → Bake (auto-approver)
//! → Release window (BlackDay gate) → Production. Five releases: one goes all the way; one fails its build; one
//! fails its post-deploy checks; one is rejected at the bake because an alarm fires; one arrives during a
//! BlackDay, is held (Slack is told once) and approved by the sweep when it ends. The notifier posts each failure.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

mod compliance;
mod transitions;

use crate::cloudwatch::{Alarm, AlarmState};
use crate::lambda::FunctionHost;
use crate::model::{ActionDecl, ActionType, Pipeline, StageDecl};
use crate::samples::{self, RUNNER_FUNCTION, revision};
use crate::scenario::{Release, Timeline};
use crate::sns::topic_arn;
use crate::stack::Stack;
use crate::target::{TargetMode, TargetService};
use crate::terminal;

pub const PIPELINE: &str = "shop";
const BAKE_STAGE: &str = "Bake";
const BAKE_ACTION: &str = "HealthyForBakeTime";
const ALARMS: [&str; 2] = ["shop-canary-5xx", "shop-canary-p99-latency"];
const GATE_STAGE: &str = "ReleaseWindow";
const GATE_ACTION: &str = "NoBlackDay";
/// The deployment's calendar: one upcoming sale, a month ahead whatever day the demo runs (a fixed weekly or
/// yearly freeze would make the demo depend on the calendar date).
fn calendars() -> String {
    let sale = (Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d");
    format!(
        r#"{{"default": {{"inline": {{"timezone": "Europe/Berlin", "blackouts": [{{"name": "Winter sale", "reason": "Peak traffic: no changes", "dates": ["{sale}"]}}]}}}}}}"#
    )
}

/// The gate action's CustomData; `blackday_until` adds a one-off BlackDay running from an hour ago until then.
fn gate_custom_data(blackday_until: Option<chrono::DateTime<Utc>>) -> String {
    match blackday_until {
        None => r#"{"inside": "hold"}"#.to_owned(),
        Some(until) => format!(
            r#"{{"timezone": "UTC", "blackouts": [{{"name": "Launch-day freeze", "once": {{"from": "{}", "to": "{}"}}}}]}}"#,
            (until - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S"),
            until.format("%Y-%m-%dT%H:%M:%S")
        ),
    }
}

fn pipeline(
    auto_approver_topic: &str,
    gate_topic: &str,
    target: &str,
    blackday_until: Option<chrono::DateTime<Utc>>,
) -> Pipeline {
    let checks = format!(
        r#"{{"base_url": "{target}", "timeout_ms": 2000, "checks": [{{"name": "health", "url": "/health", "expect": {{"json": [{{"pointer": "/status", "equals": "ok"}}]}}}}, {{"name": "checkout", "url": "/checkout"}}]}}"#
    );
    let custom_data = format!(
        r#"{{"alarms": ["{}", "{}"], "bake_minutes": 0.05, "checks": {{"base_url": "{target}", "checks": [{{"name": "health", "url": "/health"}}]}}}}"#,
        ALARMS[0], ALARMS[1]
    );
    Pipeline::new(
        PIPELINE,
        vec![
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
            StageDecl::single(
                samples::TEST_STAGE,
                ActionDecl::new(samples::TEST_ACTION, ActionType::lambda_invoke())
                    .with_config("FunctionName", RUNNER_FUNCTION)
                    .with_config("UserParameters", &checks),
            ),
            StageDecl::single(
                BAKE_STAGE,
                ActionDecl::new(BAKE_ACTION, ActionType::manual_approval())
                    .with_config("NotificationArn", auto_approver_topic)
                    .with_config("CustomData", &custom_data)
                    .with_timeout(Duration::from_secs(3600)),
            ),
            StageDecl::single(
                GATE_STAGE,
                ActionDecl::new(GATE_ACTION, ActionType::manual_approval())
                    .with_config("NotificationArn", gate_topic)
                    .with_config("CustomData", &gate_custom_data(blackday_until))
                    .with_timeout(Duration::from_secs(3600)),
            ),
            StageDecl::single(
                "Production",
                ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy")),
            ),
        ],
    )
}

fn release(commit: &str, message: &str) -> Release {
    Release::new(PIPELINE, revision(commit, message))
}

struct Demo {
    stack: Stack,
    target: TargetService,
    timeline: Timeline,
    /// notifier, auto-approver, BlackDay gate, test runner
    functions: Vec<Arc<FunctionHost>>,
}

impl Demo {
    async fn start(bin_dir: &std::path::Path) -> Result<Demo, String> {
        let stack = Stack::start(bin_dir).await.map_err(|e| e.to_string())?;
        let topic = topic_arn("auto-approver");
        let gate_topic = topic_arn("blackday-gate");
        let target = TargetService::start().await.map_err(|e| e.to_string())?;
        stack
            .sim
            .state
            .world()
            .put_pipeline(pipeline(&topic, &gate_topic, &target.base_url(), None));
        {
            let mut cloudwatch = stack.sim.state.cloudwatch();
            for alarm in ALARMS {
                cloudwatch.put_alarm(Alarm::new(alarm, "Shop/Canary", alarm));
                let long_ago = Utc::now() - chrono::Duration::hours(6);
                cloudwatch.set_alarm_state_at(alarm, AlarmState::Ok, "Threshold Crossed: healthy", long_ago);
            }
        }
        let notifier = stack.failure_notifier(&[]).await.map_err(|e| e.to_string())?;
        let approver = stack
            .function(
                "approval-auto-approver",
                &[
                    ("GATE_TOPIC_ARN", topic.as_str()),
                    ("GATE_PIPELINES", PIPELINE),
                    ("RUST_LOG", "warn"),
                ],
            )
            .await
            .map_err(|e| e.to_string())?;
        stack.subscribe_topic(&topic, approver.clone());
        let calendars = calendars();
        let gate = stack
            .function(
                "blackday-gate",
                &[
                    ("GATE_TOPIC_ARN", gate_topic.as_str()),
                    ("GATE_PIPELINES", PIPELINE),
                    ("BLACKDAY_CALENDARS", calendars.as_str()),
                    ("SLACK_WEBHOOK_SECRET_ID", samples::SLACK_SECRET),
                    ("RUST_LOG", "warn"),
                ],
            )
            .await
            .map_err(|e| e.to_string())?;
        stack.subscribe_topic(&gate_topic, gate.clone());
        let runner = stack
            .post_deploy_test_runner(&[("RUST_LOG", "warn")], Duration::from_secs(30))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Demo {
            stack,
            target,
            timeline: Timeline::new(true),
            functions: vec![notifier, approver, gate, runner],
        })
    }

    /// Declares a BlackDay on the gate's action lasting until `until` (or none), as a pipeline owner would.
    fn set_blackday(&self, until: Option<chrono::DateTime<Utc>>) {
        let target = self.target.base_url();
        let declared = pipeline(&topic_arn("auto-approver"), &topic_arn("blackday-gate"), &target, until);
        self.stack.sim.state.world().put_pipeline(declared);
    }

    async fn play(&self, title: &str, release: &Release) -> Result<(), String> {
        println!();
        self.timeline.note(format!("▶ {title}"));
        let gates = &self.functions[1..3];
        let sweeps: Vec<_> = gates
            .iter()
            .map(|g| self.stack.start_sweeps(g.clone(), Duration::from_secs(1)))
            .collect();
        let played = self
            .stack
            .play(release, &self.timeline)
            .await
            .ok_or("the release did not play")?;
        drop(sweeps);
        self.timeline.note(format!("■ {title}: {:?}", played.status));
        Ok(())
    }

    /// Fires an alarm shortly after the release reaches the bake, as a regression in the canary would.
    fn fire_alarm_during_bake(&self) {
        let sim = self.stack.sim.clone();
        tokio::spawn(async move {
            while sim
                .state
                .world()
                .pending_approval(PIPELINE, BAKE_STAGE, BAKE_ACTION)
                .is_none()
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let reason = "Threshold Crossed: 3 datapoints [2.41, 2.87, 3.02] were greater than the threshold (1.0)";
            sim.state
                .cloudwatch()
                .set_alarm_state(ALARMS[1], AlarmState::Alarm, reason);
        });
    }
}

pub async fn run(bin_dir: &std::path::Path) -> Result<(), String> {
    let demo = Demo::start(bin_dir).await?;
    println!("Local pipeline simulator on {}", demo.stack.sim.endpoint_url());
    println!("  CodePipeline, CloudWatch, Secrets Manager, SNS, EventBridge and a Slack sink, all local");
    println!(
        "Pipeline {PIPELINE}: Source → Build → Deploy (canary) → Test (post-deploy test runner) → Bake (auto-approver)"
    );
    println!("                → ReleaseWindow (BlackDay gate) → Production");
    println!("Functions: failure-notifier (EventBridge rule: action FAILED), post-deploy-test-runner (Invoke action),");
    println!("           approval-auto-approver and blackday-gate (SNS, and a sweep every 1 s)");
    println!(
        "Bake: alarms {} must stay OK for 3 s (bake_minutes 0.05), then the canary's /health check must pass",
        ALARMS.join(", ")
    );

    demo.play(
        "Release 1: add order history (healthy canary)",
        &release("9b2e4c1d0a7f3e5b6c8d9e0f1a2b3c4d5e6f7a8b", "Add order history page"),
    )
    .await?;
    let mut failing = samples::failing_build_release();
    failing.pipeline = PIPELINE.into();
    demo.play("Release 2: speed up checkout (unit tests fail)", &failing)
        .await?;
    demo.target.set_path_mode("/checkout", TargetMode::Failing);
    demo.play(
        "Release 3: new cart API (checkout answers 500 on the canary)",
        &release(
            "7e1d2c3b4a5f60718293a4b5c6d7e8f901234567",
            "Move the cart to the new API",
        ),
    )
    .await?;
    demo.target.clear_path_modes();
    demo.fire_alarm_during_bake();
    demo.play(
        "Release 4: new pricing engine (latency regresses in the canary)",
        &release(
            "c3a9f1e27b4d5c6a8e9f0a1b2c3d4e5f6a7b8c9d",
            "Switch to the new pricing engine",
        ),
    )
    .await?;
    {
        let mut cloudwatch = demo.stack.sim.state.cloudwatch();
        let long_ago = Utc::now() - chrono::Duration::hours(1);
        cloudwatch.set_alarm_state_at(ALARMS[1], AlarmState::Ok, "Threshold Crossed: healthy again", long_ago);
    }
    // The BlackDay ends shortly after the release reaches the gate (bake included): the sweep approves then.
    demo.set_blackday(Some(Utc::now() + chrono::Duration::seconds(7)));
    demo.play(
        "Release 5: gift cards, on launch day (a BlackDay until a few seconds from now)",
        &release("0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3", "Add gift cards"),
    )
    .await?;
    demo.set_blackday(None);
    compliance::run(&demo).await?;
    transitions::run(&demo).await?;

    let messages = demo.stack.sim.state.slack.messages();
    println!("\nSlack received {} message(s):", messages.len());
    for message in &messages {
        println!("\n── #{} ──────────────────────────────────────────", message.route);
        println!("{}", terminal::render_slack(&message.body));
    }
    println!();
    for function in &demo.functions {
        println!(
            "{}: {} invocation(s), exec → first Runtime API poll {:?}, peak RSS {} KiB",
            function.name(),
            function.invocation_count(),
            function.startup_time().unwrap_or_default(),
            function.peak_rss_kib().unwrap_or_default()
        );
    }
    if messages.len() != 5 {
        return Err(format!(
            "expected five Slack messages (build failure, failed checks, bake rejection, BlackDay hold, compliance \
             rejection), got {}",
            messages.len()
        ));
    }
    Ok(())
}
