//! Shared set-up for the end-to-end tests: where the function binaries are, and a started stack.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pipeline_sim::lambda::FunctionHost;
use pipeline_sim::model::{ActionDecl, ActionType, Pipeline, StageDecl};
use pipeline_sim::stack::Stack;

/// The directory holding the function binaries built with the `e2e` profile (release semantics, no LTO):
/// `make test` builds them first with `cargo build --workspace --bins --profile e2e`. `E2E_BIN_DIR` points the
/// tests at other builds, e.g. the size-tuned release binaries (`E2E_BIN_DIR=target/release`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("E2E_BIN_DIR") {
        return PathBuf::from(dir);
    }
    // target/<test profile>/deps/<test-binary> → target → target/e2e
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    exe.ancestors()
        .nth(3)
        .expect("test binaries live in target/<profile>/deps")
        .join("e2e")
}

/// A simulator with the sample pipeline and webhook secret; fails with the fix when binaries are missing.
pub async fn stack() -> Stack {
    let dir = bin_dir();
    assert!(
        dir.join("failure-notifier").exists(),
        "{}/failure-notifier is missing: run `make test` (or `cargo build --workspace --bins --profile e2e` first)",
        dir.display()
    );
    Stack::start(&dir).await.expect("the simulator starts on 127.0.0.1")
}

/// Where a test pipeline waits for a gate: the approval stage and action, and what the action says.
pub struct ApprovalAction<'a> {
    pub stage: &'a str,
    pub action: &'a str,
    /// The SNS topic the action notifies (the gate's `GATE_TOPIC_ARN`).
    pub topic_arn: &'a str,
    pub custom_data: &'a str,
    pub timeout: Duration,
}

/// Source → Deploy (canary) → the Manual approval `approval` → Production.
pub fn approval_pipeline(name: &str, approval: &ApprovalAction<'_>) -> Pipeline {
    Pipeline::new(
        name,
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
                approval.stage,
                ActionDecl::new(approval.action, ActionType::manual_approval())
                    .with_config("NotificationArn", approval.topic_arn)
                    .with_config("CustomData", approval.custom_data)
                    .with_timeout(approval.timeout),
            ),
            StageDecl::single(
                "Production",
                ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy")),
            ),
        ],
    )
}

/// Puts `approval`'s pipeline into the simulator, starts the gate `function` serving it (the gate settings
/// plus `env`), and subscribes the function to the action's topic, as the template does.
pub async fn start_gate(
    stack: &Stack,
    function: &str,
    pipeline: &str,
    approval: &ApprovalAction<'_>,
    env: &[(&str, &str)],
) -> Arc<FunctionHost> {
    stack
        .sim
        .state
        .world()
        .put_pipeline(approval_pipeline(pipeline, approval));
    let mut settings = vec![
        ("GATE_TOPIC_ARN", approval.topic_arn),
        ("GATE_PIPELINES", pipeline),
        ("RUST_LOG", "info"),
    ];
    settings.extend_from_slice(env);
    let host = stack.function(function, &settings).await.unwrap();
    stack.subscribe_topic(approval.topic_arn, host.clone());
    host
}
