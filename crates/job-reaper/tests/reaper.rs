//! The reaper called directly with SQS batches of parked records, CodePipeline answered by aws-smithy-mocks.

use std::time::{Duration, Instant};

use aws_sdk_codepipeline::error::ErrorMetadata;
use aws_sdk_codepipeline::operation::get_job_details::{GetJobDetailsError, GetJobDetailsOutput};
use aws_sdk_codepipeline::operation::put_job_failure_result::{PutJobFailureResultError, PutJobFailureResultOutput};
use aws_sdk_codepipeline::types::error::{InvalidJobStateException, JobNotFoundException};
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionConfiguration, ActionOwner, ActionTypeId, JobData, JobDetails,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use hooks_common::settings::Env;
use job_reaper::{Reaper, Settings};
use post_deploy_test_runner::owner::LambdaFunction;
use serde_json::{Value, json};

const JOB: &str = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const OTHER_JOB: &str = "11111111-2222-4333-8444-555555555555";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";

/// A parked record of the runner's failed invocation for `job`.
fn record(job: &str) -> String {
    json!({
        "version": "1.0",
        "timestamp": "2026-11-18T11:06:40.000Z",
        "requestContext": {"requestId": "5b8f6c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b",
                           "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:runner:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"CodePipeline.job": {"id": job, "accountId": "123456789012", "data": {
            "artifactCredentials": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": SECRET, "sessionToken": "t"}}}},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "Runtime.ExitError", "errorMessage": "signal: killed"}
    })
    .to_string()
}

/// An SQS batch of (message id, body).
fn batch(messages: &[(&str, &str)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({"messageId": id, "receiptHandle": format!("handle-{id}"), "body": body, "attributes": {},
                   "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:runner-failed", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

fn details(function_name: &'static str) -> Rule {
    mock!(aws_sdk_codepipeline::Client::get_job_details).then_output(move || {
        let type_id = ActionTypeId::builder()
            .category(ActionCategory::Invoke)
            .owner(ActionOwner::Aws)
            .provider("Lambda")
            .version("1")
            .build()
            .unwrap();
        let configuration = ActionConfiguration::builder()
            .configuration("FunctionName", function_name)
            .build();
        let data = JobData::builder()
            .action_type_id(type_id)
            .action_configuration(configuration)
            .build();
        GetJobDetailsOutput::builder()
            .job_details(
                JobDetails::builder()
                    .id(JOB)
                    .account_id("123456789012")
                    .data(data)
                    .build(),
            )
            .build()
    })
}

fn reported() -> Rule {
    mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
        .match_requests(|r| {
            let details = r.failure_details().unwrap();
            r.job_id() == Some(JOB)
                && details.r#type().as_str() == "JobFailed"
                && details.message().starts_with(
                    "The post-deploy test runner's invocation failed after 3 attempt(s) (RetriesExhausted; \
                     Unhandled: Runtime.ExitError)",
                )
                && !details.message().contains(SECRET)
        })
        .then_output(|| PutJobFailureResultOutput::builder().build())
}

fn reaper_with(rules: &[&Rule]) -> Reaper {
    let client = mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, rules);
    let settings = Settings {
        runner: LambdaFunction {
            name: "runner".into(),
            region: Some("us-east-1".into()),
        },
    };
    Reaper::new(client, settings)
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

/// The message ids SQS is to deliver again.
async fn retried(reaper: &Reaper, event: Value, deadline: Instant) -> Vec<String> {
    let response = reaper.handle(event, deadline).await.unwrap();
    let answer = serde_json::to_value(&response).unwrap();
    answer["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_parked_job_of_the_runner_is_failed_saying_why() {
    let (details, reported) = (details("runner"), reported());
    let reaper = reaper_with(&[&details, &reported]);
    let failed = retried(&reaper, batch(&[("m1", &record(JOB))]), soon()).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!((details.num_calls(), reported.num_calls()), (1, 1));
}

#[tokio::test]
async fn any_form_of_the_runners_name_is_the_runner() {
    let (details, reported) = (
        details("arn:aws:lambda:us-east-1:123456789012:function:runner:live"),
        reported(),
    );
    let reaper = reaper_with(&[&details, &reported]);
    assert!(
        retried(&reaper, batch(&[("m1", &record(JOB))]), soon())
            .await
            .is_empty()
    );
    assert_eq!(reported.num_calls(), 1);
}

#[tokio::test]
async fn jobs_that_are_settled_gone_or_not_the_runners_are_done_without_a_report() {
    let settled = mock!(aws_sdk_codepipeline::Client::put_job_failure_result).then_error(|| {
        PutJobFailureResultError::InvalidJobStateException(
            InvalidJobStateException::builder()
                .message("Job is in state Succeeded")
                .build(),
        )
    });
    let gone = mock!(aws_sdk_codepipeline::Client::get_job_details).then_error(|| {
        GetJobDetailsError::JobNotFoundException(JobNotFoundException::builder().message("no such job").build())
    });
    let (runners, others) = (details("runner"), details("someone-else"));
    // (rules, reports CodePipeline took)
    let cases: [(Vec<&Rule>, usize); 3] = [
        (vec![&runners, &settled], 1),
        (vec![&gone, &settled], 0),
        (vec![&others, &settled], 0),
    ];
    for (rules, reports) in cases {
        let reaper = reaper_with(&rules);
        let before = settled.num_calls();
        let failed = retried(&reaper, batch(&[("m1", &record(JOB))]), soon()).await;
        assert!(failed.is_empty(), "done, not retried: {failed:?}");
        assert_eq!(settled.num_calls() - before, reports);
    }
}

#[tokio::test]
async fn codepipeline_failing_retries_only_that_record() {
    let throttled = mock!(aws_sdk_codepipeline::Client::get_job_details)
        .match_requests(|r| r.job_id() == Some(OTHER_JOB))
        .then_error(|| {
            GetJobDetailsError::generic(
                ErrorMetadata::builder()
                    .code("ServiceUnavailable")
                    .message("down")
                    .build(),
            )
        });
    let (details, reported) = (details("runner"), reported());
    let reaper = reaper_with(&[&throttled, &details, &reported]);
    let event = batch(&[("m1", &record(OTHER_JOB)), ("m2", &record(JOB))]);
    assert_eq!(retried(&reaper, event, soon()).await, ["m1"]);
    assert_eq!(reported.num_calls(), 1, "the other record was done");

    let refused = mock!(aws_sdk_codepipeline::Client::put_job_failure_result).then_error(|| {
        PutJobFailureResultError::generic(ErrorMetadata::builder().code("InternalError").message("oops").build())
    });
    let reaper = reaper_with(&[&details, &refused]);
    assert_eq!(retried(&reaper, batch(&[("m3", &record(JOB))]), soon()).await, ["m3"]);
}

#[tokio::test]
async fn unreadable_records_are_dropped_and_late_ones_go_back() {
    let (details, reported) = (details("runner"), reported());
    let reaper = reaper_with(&[&details, &reported]);
    let event = batch(&[("m1", "not a record"), ("m2", r#"{"requestContext": {}}"#)]);
    assert!(retried(&reaper, event, soon()).await.is_empty());
    assert_eq!(details.num_calls() + reported.num_calls(), 0);

    // Too little time left to start a record: back to the queue, nothing asked.
    let event = batch(&[("m1", &record(JOB)), ("m2", &record(JOB))]);
    let late = Instant::now() + Duration::from_millis(900);
    assert_eq!(retried(&reaper, event, late).await, ["m1", "m2"]);
    assert_eq!(details.num_calls(), 0);
}

#[tokio::test]
async fn an_event_that_is_not_an_sqs_batch_fails_the_invocation() {
    let reaper = reaper_with(&[]);
    let err = reaper
        .handle(json!({"CodePipeline.job": {"id": JOB}}), soon())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "MalformedEvent");
}

#[test]
fn the_runners_name_is_a_setting() {
    let env = Env::from_pairs(&[
        ("RUNNER_FUNCTION_NAME", "hooks-Runner-1A2B"),
        ("AWS_REGION", "us-east-1"),
    ]);
    assert_eq!(Settings::from_env(&env).unwrap().runner.name, "hooks-Runner-1A2B");
    let err = Settings::from_env(&Env::from_pairs(&[])).unwrap_err().to_string();
    assert!(err.starts_with("setting RUNNER_FUNCTION_NAME: is not set"), "{err}");
}
