use synthetic_canary::{Canary, CanarySettings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::runtime::serve(async |env| {
        let settings = CanarySettings::from_env(env)?;
        let sdk = hooks_common::aws::sdk_config(env);
        let policy = checks::AddressPolicy::from_env(env)?;
        let http = checks::http_client_with(&policy)?;
        Ok(Canary::new(
            aws_sdk_cloudwatch::Client::new(&sdk),
            http,
            policy,
            settings,
        ))
    })
    .await
}
