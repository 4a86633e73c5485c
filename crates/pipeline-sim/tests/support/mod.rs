//! What the simulator's integration tests share: the real SDK's configuration pointed at the simulator, the
//! example function binaries, and how a parsed timestamp is compared.

// Each test crate uses the part it needs.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_codepipeline::primitives::DateTime;
use pipeline_sim::Simulator;

/// An SDK configuration loader for the simulator: its endpoint and region, no credentials yet, and 3 attempts
/// with millisecond backoff so retry tests stay quick.
pub fn sdk_loader(sim: &Simulator) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(hooks_common::aws::sdk_http_client())
        .empty_test_environment()
        .endpoint_url(sim.endpoint_url())
        .region(Region::new(pipeline_sim::REGION))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
}

/// [`sdk_loader`] with the SDK's test credentials and an operation timeout.
pub async fn sdk_config(sim: &Simulator, operation_timeout: Duration) -> SdkConfig {
    sdk_loader(sim)
        .test_credentials()
        .timeout_config(TimeoutConfig::builder().operation_timeout(operation_timeout).build())
        .load()
        .await
}

/// The directory of the example function binaries (`examples/`), built once per test run: `cargo test --test X`
/// does not build examples itself.
pub fn examples_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "pipeline-sim", "--examples"])
            .output()
            .expect("run cargo build");
        assert!(
            output.status.success(),
            "building the example functions failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>/deps");
        profile_dir.join("examples")
    })
    .clone()
}

/// A timestamp the SDK parsed equals the model's (epoch milliseconds). The wire carries epoch seconds with a
/// millisecond fraction that the SDK reads through an `f64`, so it may land a hair under the millisecond, as it
/// does with AWS.
pub fn assert_time(time: Option<&DateTime>, expected_millis: i64) {
    let millis = time
        .expect("timestamp present")
        .to_millis()
        .expect("timestamp in range");
    assert!(
        (millis - expected_millis).abs() <= 1,
        "{millis} is not {expected_millis} (ms since the epoch)"
    );
}
