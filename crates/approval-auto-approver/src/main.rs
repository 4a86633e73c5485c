use approval_auto_approver::settings::Defaults;
use approval_auto_approver::{ApproverError, decide_approval};
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
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let (desk, gate, defaults, cloudwatch) = (&desk, &gate, &defaults, &cloudwatch);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(desk, gate, &event.payload, |request| {
            decide_approval(cloudwatch, defaults, request)
        })
        .await
        .map_err(ApproverError::from)
    }))
    .await
}
