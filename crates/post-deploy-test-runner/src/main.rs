use post_deploy_test_runner::artifact::ArtifactStore;
use post_deploy_test_runner::{Runner, Settings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::runtime::serve(async |env| {
        let settings = Settings::from_env(env)?;
        let sdk = hooks_common::aws::sdk_config(env);
        let http =
            checks::http_client().map_err(|e| hooks_common::Error::Startup(hooks_common::aws::cause_chain(&e)))?;
        Ok(Runner::new(
            aws_sdk_codepipeline::Client::new(&sdk),
            aws_sdk_cloudwatch::Client::new(&sdk),
            ArtifactStore::new(env).map_err(hooks_common::Error::Startup)?,
            http,
            settings,
        ))
    })
    .await
}
