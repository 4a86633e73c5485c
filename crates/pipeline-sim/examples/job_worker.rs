//! A tiny CodePipeline job worker for the simulator's tests. It parses its event with aws_lambda_events'
//! `CodePipelineJobEvent` (so a wrongly shaped event fails the invocation) and reports through
//! aws-sdk-codepipeline, which `AWS_ENDPOINT_URL` points at the simulator. What it does comes from the
//! action's `UserParameters` (JSON):
//!
//! - `{"report": "success", "summary"?, "outputVariables"?: {..}}`
//! - `{"report": "failure", "type": "JobFailed", "message": "..", "externalExecutionId"?}`
//! - `{"report": "continue", "rounds": N}`: continuation tokens `round-1` … `round-<N-1>`, then success with
//!   `outputVariables: {"rounds": "N"}`
//! - `{"report": "twice"}`: success, then the same report again
//! - `{"report": "none"}`: never reports
//!
//! It answers `{"job", "continuationToken", "answers": ["ok" | "<error code>", ..]}` and never logs the event
//! (it carries artifact credentials).

use std::collections::HashMap;

use aws_config::BehaviorVersion;
use aws_lambda_events::event::codepipeline_job::CodePipelineJobEvent;
use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::error::ProvideErrorMetadata;
use aws_sdk_codepipeline::types::{ExecutionDetails, FailureDetails, FailureType};
use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Parameters {
    report: String,
    summary: Option<String>,
    #[serde(default)]
    output_variables: HashMap<String, String>,
    #[serde(rename = "type")]
    failure_type: Option<String>,
    message: Option<String>,
    external_execution_id: Option<String>,
    rounds: Option<u32>,
}

fn diagnostic(error_type: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        error_type: error_type.into(),
        error_message: message.into(),
    }
}

/// "ok", or the error code the call got.
fn answer<T, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, aws_sdk_codepipeline::error::SdkError<E>>,
) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.code().map_or_else(|| format!("{e:?}"), str::to_owned),
    }
}

async fn succeed(
    client: &Client,
    job_id: &str,
    summary: Option<String>,
    continuation: Option<String>,
    variables: &HashMap<String, String>,
) -> String {
    let details = summary.map(|s| ExecutionDetails::builder().summary(s).percent_complete(50).build());
    let mut call = client
        .put_job_success_result()
        .job_id(job_id)
        .set_execution_details(details)
        .set_continuation_token(continuation);
    for (key, value) in variables {
        call = call.output_variables(key, value);
    }
    answer(call.send().await)
}

async fn handle(client: &Client, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let job: CodePipelineJobEvent = serde_json::from_value(event.payload)
        .map_err(|e| diagnostic("InvalidEvent", format!("not a CodePipeline job event: {e}")))?;
    let job = job.code_pipeline_job;
    let job_id = job
        .id
        .clone()
        .ok_or_else(|| diagnostic("InvalidEvent", "the job has no id"))?;
    let continuation = job.data.continuation_token.clone();
    println!(
        "job_worker: job {job_id} (continuation token: {})",
        continuation.as_deref().unwrap_or("none")
    );
    let parameters: Parameters = job
        .data
        .action_configuration
        .configuration
        .user_parameters
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| diagnostic("InvalidUserParameters", e.to_string()))?
        .unwrap_or_default();
    let mut answers = Vec::new();
    match parameters.report.as_str() {
        "success" => {
            let summary = parameters.summary.clone();
            answers.push(succeed(client, &job_id, summary, None, &parameters.output_variables).await);
        }
        "twice" => {
            for _ in 0..2 {
                answers.push(succeed(client, &job_id, Some("done".into()), None, &HashMap::new()).await);
            }
        }
        "continue" => {
            let rounds = parameters.rounds.unwrap_or(3);
            let done: u32 = continuation
                .as_deref()
                .and_then(|t| t.strip_prefix("round-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if done + 1 < rounds {
                let summary = format!("round {} of {rounds}", done + 1);
                let token = format!("round-{}", done + 1);
                answers.push(succeed(client, &job_id, Some(summary), Some(token), &HashMap::new()).await);
            } else {
                let variables = HashMap::from([("rounds".to_owned(), rounds.to_string())]);
                let summary = format!("all {rounds} rounds passed");
                answers.push(succeed(client, &job_id, Some(summary), None, &variables).await);
            }
        }
        "failure" => {
            let details = FailureDetails::builder()
                .r#type(FailureType::from(
                    parameters.failure_type.as_deref().unwrap_or("JobFailed"),
                ))
                .message(parameters.message.clone().unwrap_or_else(|| "failed".into()))
                .set_external_execution_id(parameters.external_execution_id.clone())
                .build()
                .map_err(|e| diagnostic("InvalidUserParameters", e.to_string()))?;
            let result = client
                .put_job_failure_result()
                .job_id(&job_id)
                .failure_details(details)
                .send()
                .await;
            answers.push(answer(result));
        }
        "none" => {}
        other => return Err(diagnostic("InvalidUserParameters", format!("unknown report {other:?}"))),
    }
    println!("job_worker: job {job_id} answers {answers:?}");
    Ok(json!({ "job": job_id, "continuationToken": continuation, "answers": answers }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let client = Client::new(
        &aws_config::defaults(BehaviorVersion::latest())
            .http_client(hooks_common::aws::sdk_http_client())
            .load()
            .await,
    );
    let client = &client;
    run(service_fn(move |event| async move { handle(client, event).await })).await
}
