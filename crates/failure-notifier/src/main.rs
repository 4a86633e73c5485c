use std::time::Duration;

use failure_notifier::Notifier;
use failure_notifier::routing::SlackRoutes;
use hooks_common::secrets::WebhookStore;
use hooks_common::settings::Env;
use hooks_common::slack::{RetryPolicy, SlackClient};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::telemetry::init();
    let routes = SlackRoutes::from_env(&Env::process())?;
    let sdk = hooks_common::aws::sdk_config().await;
    let notifier = Notifier::new(
        aws_sdk_codepipeline::Client::new(&sdk),
        WebhookStore::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        SlackClient::new(RetryPolicy::default())?,
        routes,
    );
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = hooks_common::runtime::deadline(&event.context, Duration::from_secs(60));
        notifier.handle(&event.payload, deadline).await
    }))
    .await
}
