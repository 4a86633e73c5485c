//! `make demo`: a sample pipeline played through the simulator and the real function binaries, so a
//! newcomer sees every function work in a minute without an AWS account.
//!
//! The `shop` pipeline: Source → Build → Deploy (canary) → Bake (auto-approver) → Production. Three releases:
//! one goes all the way (the sweep approves once the bake completes), one fails its build (the notifier posts
//! it), one is rejected at the bake because an alarm fires (the notifier posts that too).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::cloudwatch::{Alarm, AlarmState};
use crate::lambda::FunctionHost;
use crate::model::{ActionDecl, ActionType, Pipeline, StageDecl};
use crate::samples::{self, revision};
use crate::scenario::{Release, Timeline};
use crate::sns::topic_arn;
use crate::stack::Stack;
use crate::terminal;

pub const PIPELINE: &str = "shop";
const BAKE_STAGE: &str = "Bake";
const BAKE_ACTION: &str = "HealthyForBakeTime";
const ALARMS: [&str; 2] = ["shop-canary-5xx", "shop-canary-p99-latency"];

fn pipeline(auto_approver_topic: &str) -> Pipeline {
    let stage = |name: &str, action: ActionDecl| StageDecl {
        name: name.into(),
        actions: vec![action],
    };
    let custom_data = format!(
        r#"{{"alarms": ["{}", "{}"], "bake_minutes": 0.05}}"#,
        ALARMS[0], ALARMS[1]
    );
    Pipeline::new(
        PIPELINE,
        vec![
            stage(
                "Source",
                ActionDecl::new("Checkout", ActionType::aws("Source", "CodeStarSourceConnection")),
            ),
            stage(
                "Build",
                ActionDecl::new("Compile", ActionType::aws("Build", "CodeBuild")),
            ),
            stage(
                "Deploy",
                ActionDecl::new("Canary", ActionType::aws("Deploy", "CodeDeploy")),
            ),
            stage(
                BAKE_STAGE,
                ActionDecl::new(BAKE_ACTION, ActionType::manual_approval())
                    .with_config("NotificationArn", auto_approver_topic)
                    .with_config("CustomData", &custom_data)
                    .with_timeout(Duration::from_secs(3600)),
            ),
            stage(
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
    timeline: Timeline,
    functions: Vec<Arc<FunctionHost>>,
}

impl Demo {
    async fn start(bin_dir: &std::path::Path) -> Result<Demo, String> {
        let stack = Stack::start(bin_dir).await.map_err(|e| e.to_string())?;
        let topic = topic_arn("auto-approver");
        stack.sim.state.world().put_pipeline(pipeline(&topic));
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
        Ok(Demo {
            stack,
            timeline: Timeline::new(true),
            functions: vec![notifier, approver],
        })
    }

    fn approver(&self) -> Arc<FunctionHost> {
        self.functions[1].clone()
    }

    async fn play(&self, title: &str, release: &Release) -> Result<(), String> {
        println!();
        self.timeline.note(format!("▶ {title}"));
        let sweeps = self.stack.start_sweeps(self.approver(), Duration::from_secs(1));
        let played = self
            .stack
            .play(release, &self.timeline)
            .await
            .ok_or("the release did not play")?;
        sweeps.stop();
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
    println!("Pipeline {PIPELINE}: Source → Build → Deploy (canary) → Bake (auto-approver) → Production");
    println!(
        "Functions: failure-notifier (EventBridge rule: action FAILED), approval-auto-approver (SNS + sweep every 1 s)"
    );
    println!(
        "Bake: alarms {} must stay OK for 3 s (bake_minutes 0.05)",
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
    demo.fire_alarm_during_bake();
    demo.play(
        "Release 3: new pricing engine (latency regresses in the canary)",
        &release(
            "c3a9f1e27b4d5c6a8e9f0a1b2c3d4e5f6a7b8c9d",
            "Switch to the new pricing engine",
        ),
    )
    .await?;

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
    if messages.len() != 2 {
        return Err(format!(
            "expected two Slack messages (build failure, bake rejection), got {}",
            messages.len()
        ));
    }
    Ok(())
}
