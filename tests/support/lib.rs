//! Shared set-up for the end-to-end tests: where the function binaries are, and a started stack.

use std::path::PathBuf;

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

/// A pipeline whose `Bake` stage holds a Manual approval notifying `topic_arn`.
pub fn bake_pipeline(
    name: &str,
    topic_arn: &str,
    custom_data: &str,
    timeout: std::time::Duration,
) -> pipeline_sim::model::Pipeline {
    use pipeline_sim::model::{ActionDecl, ActionType, Pipeline, StageDecl};
    let stage = |stage: &str, action: ActionDecl| StageDecl {
        name: stage.into(),
        actions: vec![action],
    };
    Pipeline::new(
        name,
        vec![
            stage(
                "Source",
                ActionDecl::new("Checkout", ActionType::aws("Source", "CodeStarSourceConnection")),
            ),
            stage(
                "Deploy",
                ActionDecl::new("Canary", ActionType::aws("Deploy", "CodeDeploy")),
            ),
            stage(
                "Bake",
                ActionDecl::new("HealthyForBakeTime", ActionType::manual_approval())
                    .with_config("NotificationArn", topic_arn)
                    .with_config("CustomData", custom_data)
                    .with_timeout(timeout),
            ),
            stage(
                "Production",
                ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy")),
            ),
        ],
    )
}
