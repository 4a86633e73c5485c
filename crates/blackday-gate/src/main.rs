use blackday_gate::BlackDayGate;
use blackday_gate::calendars::Calendars;
use blackday_gate::feed::{self, FeedCache};
use blackday_gate::notice::Notices;
use blackday_gate::settings::Settings;
use hooks_common::approval::{ApprovalDesk, GateFunction, GateSettings};
use hooks_common::aws::Deferred;
use hooks_common::secrets::WebhookStore;
use hooks_common::slack::{RetryPolicy, SlackClient};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::runtime::serve(async |env| {
        let gate_settings = GateSettings::from_env(env)?;
        let settings = Settings::from_env(env)?;
        let sdk = hooks_common::aws::sdk_config(env);
        let policy = hooks_common::address::AddressPolicy::from_env(env)?;
        let feeds = FeedCache::new(
            feed::http_client(&policy).map_err(hooks_common::Error::Startup)?,
            feed::REUSE_FOR,
        );
        let notices = Notices::new(
            hooks_common::notice::Notifier::new(
                WebhookStore::new(Deferred::new(&sdk, aws_sdk_secretsmanager::Client::new), env)?,
                SlackClient::new(RetryPolicy::default())?,
                Deferred::new(&sdk, aws_sdk_sns::Client::new),
            ),
            blackday_gate::notice::destination(env, settings.slack_secret_id)?,
        );
        let region = env.optional("AWS_REGION").unwrap_or_else(|| "us-east-1".to_owned());
        let gate = BlackDayGate::new(
            Calendars::new(settings.calendars, feeds),
            notices,
            settings.max_stale,
            gate_settings.sweep_interval,
            region,
        );
        let desk = ApprovalDesk::new(aws_sdk_codepipeline::Client::new(&sdk));
        Ok(GateFunction::new(desk, gate_settings, gate))
    })
    .await
}
