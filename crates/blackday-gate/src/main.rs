use std::time::Duration;

use blackday_gate::Gate;
use blackday_gate::calendars::Calendars;
use blackday_gate::feed::{self, FeedCache};
use blackday_gate::notice::Notices;
use blackday_gate::settings::Settings;
use hooks_common::approval::{ApprovalDesk, GateSettings};
use hooks_common::secrets::WebhookStore;
use hooks_common::settings::Env;
use hooks_common::slack::{RetryPolicy, SlackClient};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::telemetry::init();
    let env = Env::process();
    let (gate_settings, settings) = match GateSettings::from_env(&env).and_then(|g| Ok((g, Settings::from_env(&env)?)))
    {
        Ok(both) => both,
        Err(error) => {
            // Said in full (setting, problem, fix) before Lambda records the failed start-up.
            tracing::error!(%error, "cannot start");
            return Err(error.into());
        }
    };
    let sdk = hooks_common::aws::sdk_config().await;
    let feeds = FeedCache::new(feed::http_client()?, feed::REUSE_FOR);
    let notices = Notices::new(
        WebhookStore::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        SlackClient::new(RetryPolicy::default())?,
        settings.slack_secret_id,
    );
    let gate = Gate::new(
        ApprovalDesk::new(aws_sdk_codepipeline::Client::new(&sdk)),
        gate_settings,
        Calendars::new(settings.calendars, feeds),
        notices,
        settings.max_stale,
    );
    let gate = &gate;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = hooks_common::runtime::deadline(&event.context, Duration::from_secs(60));
        gate.handle(&event.payload, deadline).await
    }))
    .await
}
