use hooks_common::aws::Deferred;
use hooks_common::notice::Notifier;
use hooks_common::secrets::WebhookStore;
use hooks_common::slack::{RetryPolicy, SlackClient};
use transition_disabler::TransitionDisabler;
use transition_disabler::settings::Settings;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::runtime::serve(async |env| {
        let settings = Settings::from_env(env)?;
        let sdk = hooks_common::aws::sdk_config(env);
        let notifier = Notifier::new(
            WebhookStore::new(Deferred::new(&sdk, aws_sdk_secretsmanager::Client::new), env)?,
            SlackClient::new(RetryPolicy::default())?,
            Deferred::new(&sdk, aws_sdk_sns::Client::new),
        );
        let region = env.optional("AWS_REGION").unwrap_or_else(|| "us-east-1".to_owned());
        Ok(TransitionDisabler::new(
            aws_sdk_codepipeline::Client::new(&sdk),
            aws_sdk_cloudwatch::Client::new(&sdk),
            notifier,
            settings,
            region,
        ))
    })
    .await
}
