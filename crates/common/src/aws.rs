//! SDK configuration shared by every function: built once in `main`, honouring `AWS_ENDPOINT_URL*`.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

/// Timeouts short enough that a slow AWS API cannot eat a function's whole deadline, and the SDK's
/// standard retries (with a quicker first backoff than the default second) for throttling and 5xx.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(12))
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(200)),
        )
        .load()
        .await
}
