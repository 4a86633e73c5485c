use std::time::Duration;

use hooks_common::settings::Env;
use job_reaper::{Reaper, Settings};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // The runner's: it keeps raw events (a parked record holds the job's artifact credentials) out of the logs.
    hooks_common::telemetry::init();
    let settings = Settings::from_env(&Env::process()).inspect_err(|error| tracing::error!(%error, "cannot start"))?;
    let sdk = hooks_common::aws::sdk_config().await;
    let reaper = Reaper::new(aws_sdk_codepipeline::Client::new(&sdk), settings);
    let reaper = &reaper;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = hooks_common::runtime::deadline(&event.context, Duration::from_secs(60));
        reaper.handle(event.payload, deadline).await
    }))
    .await
}
