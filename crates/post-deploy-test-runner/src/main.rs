use std::time::Duration;

use hooks_common::settings::Env;
use lambda_runtime::{LambdaEvent, service_fn};
use post_deploy_test_runner::artifact::ArtifactStore;
use post_deploy_test_runner::{Runner, Settings};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Not hooks_common's: this one keeps raw job events (artifact credentials) out of the logs at any level.
    hooks_common::telemetry::init();
    // Said once in plain words (the runtime's own report of the error is its Debug form).
    let env = Env::process();
    let settings = Settings::from_env(&env).inspect_err(|error| tracing::error!(%error, "cannot start"))?;
    let sdk = hooks_common::aws::sdk_config().await;
    let runner = Runner::new(
        aws_sdk_codepipeline::Client::new(&sdk),
        aws_sdk_cloudwatch::Client::new(&sdk),
        ArtifactStore::new(&sdk, &env),
        checks::http_client()?,
        settings,
    );
    let runner = &runner;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = hooks_common::runtime::deadline(&event.context, Duration::from_secs(60));
        runner.handle(event.payload, deadline).await
    }))
    .await
}
