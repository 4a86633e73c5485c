use config_compliance_approver::ComplianceApprover;
use config_compliance_approver::settings::Defaults;
use hooks_common::approval::{ApprovalDesk, GateFunction, GateSettings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::runtime::serve(async |env| {
        let gate = GateSettings::from_env(env)?;
        let defaults = Defaults::from_env(env, gate.sweep_interval)?;
        let sdk = hooks_common::aws::sdk_config(env);
        let approver = ComplianceApprover {
            config: aws_sdk_config::Client::new(&sdk),
            defaults,
        };
        let desk = ApprovalDesk::new(aws_sdk_codepipeline::Client::new(&sdk));
        Ok(GateFunction::new(desk, gate, approver))
    })
    .await
}
