use failure_notifier::Notifier;
use failure_notifier::routing::SlackRoutes;
use hooks_common::aws::Deferred;
use hooks_common::notice;
use hooks_common::secrets::WebhookStore;
use hooks_common::slack::{RetryPolicy, SlackClient};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::runtime::serve(async |env| {
        let routes = SlackRoutes::from_env(env)?;
        let sdk = hooks_common::aws::sdk_config(env);
        let notices = notice::Notifier::new(
            WebhookStore::new(Deferred::new(&sdk, aws_sdk_secretsmanager::Client::new), env)?,
            SlackClient::new(RetryPolicy::default())?,
            Deferred::new(&sdk, aws_sdk_sns::Client::new),
        );
        Ok(Notifier::new(aws_sdk_codepipeline::Client::new(&sdk), notices, routes))
    })
    .await
}
