use std::time::Duration;

use hooks_common::settings::Env;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use synthetic_canary::{Canary, CanarySettings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::telemetry::init();
    // Said once in plain words (the runtime's own report of the error is its Debug form).
    let settings =
        CanarySettings::from_env(&Env::process()).inspect_err(|error| tracing::error!(%error, "cannot start"))?;
    let sdk = hooks_common::aws::sdk_config().await;
    let canary = Canary::new(aws_sdk_cloudwatch::Client::new(&sdk), checks::http_client()?, settings);
    let canary = &canary;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = hooks_common::runtime::deadline(&event.context, Duration::from_secs(60));
        canary.handle(&event.payload, deadline).await
    }))
    .await
}
