use pipeline_guardrail_rule::GuardrailRule;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooks_common::runtime::serve(async |env| {
        let sdk = hooks_common::aws::sdk_config(env);
        Ok(GuardrailRule {
            config: aws_sdk_config::Client::new(&sdk),
            codepipeline: aws_sdk_codepipeline::Client::new(&sdk),
        })
    })
    .await
}
