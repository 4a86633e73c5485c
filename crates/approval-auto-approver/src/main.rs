use approval_auto_approver::settings::Defaults;
use approval_auto_approver::{AutoApprover, Sources};
use hooks_common::approval::{ApprovalDesk, GateFunction, GateSettings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::runtime::serve(async |env| {
        let gate = GateSettings::from_env(env)?;
        let defaults = Defaults::from_env(env, gate.sweep_interval)?;
        let sdk = hooks_common::aws::sdk_config(env);
        let policy = checks::AddressPolicy::from_env(env)?;
        let sources = Sources {
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            http: checks::http_client_with(&policy)?,
            policy,
        };
        let desk = ApprovalDesk::new(aws_sdk_codepipeline::Client::new(&sdk));
        Ok(GateFunction::new(desk, gate, AutoApprover { sources, defaults }))
    })
    .await
}
