use job_reaper::{Reaper, Settings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::runtime::serve(async |env| {
        let settings = Settings::from_env(env)?;
        let sdk = hooks_common::aws::sdk_config(env);
        Ok(Reaper::new(aws_sdk_codepipeline::Client::new(&sdk), settings))
    })
    .await
}
