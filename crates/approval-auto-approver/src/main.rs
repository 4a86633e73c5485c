use std::time::Duration;

use approval_auto_approver::settings::Defaults;
use approval_auto_approver::{ApproverError, Sources, decide_approval};
use hooks_common::approval::{ApprovalDesk, GateSettings, handle};
use hooks_common::settings::Env;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::telemetry::init();
    let env = Env::process();
    let gate = GateSettings::from_env(&env)?;
    let defaults = Defaults::from_env(&env, gate.sweep_interval)?;
    let sdk = hooks_common::aws::sdk_config().await;
    let desk = ApprovalDesk::new(aws_sdk_codepipeline::Client::new(&sdk));
    let sources = Sources {
        cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
        http: checks::http_client()?,
    };
    let (desk, gate, defaults, sources) = (&desk, &gate, &defaults, &sources);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = hooks_common::runtime::deadline(&event.context, Duration::from_secs(60));
        handle(desk, gate, &event.payload, |request| {
            decide_approval(sources, defaults, request, deadline)
        })
        .await
        .map_err(ApproverError::from)
    }))
    .await
}
