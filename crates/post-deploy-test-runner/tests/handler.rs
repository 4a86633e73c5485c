//! The handler called directly: CodePipeline and CloudWatch answered by aws-smithy-mocks, the checks sent to the
//! simulator's scriptable target service.

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudwatch::operation::put_metric_data::{PutMetricDataError, PutMetricDataOutput};
use aws_sdk_cloudwatch::types::error::InternalServiceFault;
use aws_sdk_codepipeline::operation::get_job_details::GetJobDetailsOutput;
use aws_sdk_codepipeline::operation::put_job_failure_result::PutJobFailureResultOutput;
use aws_sdk_codepipeline::operation::put_job_success_result::{PutJobSuccessResultError, PutJobSuccessResultOutput};
use aws_sdk_codepipeline::types::error::InvalidJobStateException;
use aws_sdk_codepipeline::types::{JobData, JobDetails, PipelineContext, StageContext};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use hooks_common::settings::Env;
use pipeline_sim::artifacts::zip_artifact;
use pipeline_sim::codepipeline::artifact_bucket;
use pipeline_sim::model::ArtifactCredentials as SimCredentials;
use pipeline_sim::target::{TargetMode, TargetService};
use pipeline_sim::{Simulator, samples};
use post_deploy_test_runner::artifact::ArtifactStore;
use post_deploy_test_runner::{Outcome, Runner, Settings};
use serde_json::{Value, json};

const JOB: &str = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

fn event(user_parameters: &str) -> Value {
    json!({"CodePipeline.job": {"id": JOB, "accountId": "123456789012", "data": {
        "actionConfiguration": {"configuration": {"FunctionName": "runner", "UserParameters": user_parameters}},
        "inputArtifacts": [], "outputArtifacts": [],
        "artifactCredentials": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "secret", "sessionToken": "token",
                                "expirationTime": 1795000000000_i64}
    }}})
}

fn suite(target: &TargetService, extra: &str) -> String {
    format!(
        r#"{{"base_url": "{}", "timeout_ms": 2000, {extra}"checks": [{{"name": "health", "url": "/health"}},
            {{"name": "checkout", "url": "/checkout"}}]}}"#,
        target.base_url()
    )
}

fn job_details() -> Rule {
    mock!(aws_sdk_codepipeline::Client::get_job_details).then_output(|| {
        let context = PipelineContext::builder()
            .pipeline_name("storefront")
            .stage(StageContext::builder().name("Test").build())
            .build();
        GetJobDetailsOutput::builder()
            .job_details(
                JobDetails::builder()
                    .id(JOB)
                    .data(JobData::builder().pipeline_context(context).build())
                    .build(),
            )
            .build()
    })
}

struct Mocks {
    details: Rule,
    success: Rule,
    failure: Rule,
    metrics: Rule,
}

/// Artifacts from S3 at `endpoint` (the simulator's), path-style as for any endpoint override.
async fn artifact_store(endpoint: &str) -> ArtifactStore {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .test_credentials()
        .load()
        .await;
    ArtifactStore::new(&sdk, &Env::from_pairs(&[("AWS_ENDPOINT_URL", endpoint)]))
}

fn runner(success: Rule, failure: Rule, metrics: Rule) -> (Runner, Mocks) {
    // Nothing listens there: no test of this shape reads an artifact.
    runner_with(
        success,
        failure,
        metrics,
        ArtifactStore::new(&SdkConfig::builder().build(), &Env::from_pairs(&[])),
    )
}

fn runner_with(success: Rule, failure: Rule, metrics: Rule, artifacts: ArtifactStore) -> (Runner, Mocks) {
    let details = job_details();
    let pipelines = mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, [&details, &success, &failure]);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&metrics]);
    let settings = Settings {
        metrics_namespace: "Test/PostDeploy".into(),
    };
    let runner = Runner::new(
        pipelines,
        cloudwatch,
        artifacts,
        checks::http_client().unwrap(),
        settings,
    );
    (
        runner,
        Mocks {
            details,
            success,
            failure,
            metrics,
        },
    )
}

fn any_success() -> Rule {
    mock!(aws_sdk_codepipeline::Client::put_job_success_result)
        .then_output(|| PutJobSuccessResultOutput::builder().build())
}

fn any_failure() -> Rule {
    mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
        .then_output(|| PutJobFailureResultOutput::builder().build())
}

fn metrics_ok() -> Rule {
    mock!(aws_sdk_cloudwatch::Client::put_metric_data)
        .match_requests(|r| {
            let dims = |d: &aws_sdk_cloudwatch::types::MetricDatum| {
                d.dimensions()
                    .iter()
                    .map(|d| format!("{}={}", d.name().unwrap_or(""), d.value().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            r.namespace() == Some("Test/PostDeploy")
                && r.metric_data()
                    .iter()
                    .any(|d| d.metric_name() == Some("Success") && dims(d) == "Pipeline=storefront,Stage=Test")
        })
        .then_output(|| PutMetricDataOutput::builder().build())
}

fn soon(seconds: u64) -> Instant {
    Instant::now() + Duration::from_secs(seconds)
}

#[tokio::test]
async fn a_passing_suite_succeeds_with_output_variables_then_publishes() {
    let target = TargetService::start().await.unwrap();
    let success = mock!(aws_sdk_codepipeline::Client::put_job_success_result)
        .match_requests(|r| {
            let variables = r.output_variables().cloned().unwrap_or_default();
            r.job_id() == Some(JOB)
                && r.continuation_token().is_none()
                && variables.get("passed").map(String::as_str) == Some("2")
                && variables.get("failed").map(String::as_str) == Some("0")
                && variables.contains_key("p95_ms")
                && r.execution_details()
                    .and_then(|d| d.summary())
                    .is_some_and(|s| s.starts_with("PASS: 2/2"))
                && r.execution_details().and_then(|d| d.external_execution_id()) == Some(JOB)
        })
        .then_output(|| PutJobSuccessResultOutput::builder().build());
    let (runner, mocks) = runner(success, any_failure(), metrics_ok());
    let outcome = runner.handle(event(&suite(&target, "")), soon(30)).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Succeeded { ref summary, .. } if summary.starts_with("PASS")),
        "{outcome:?}"
    );
    assert_eq!((mocks.success.num_calls(), mocks.failure.num_calls()), (1, 0));
    assert_eq!((mocks.details.num_calls(), mocks.metrics.num_calls()), (1, 1));
    assert_eq!(target.requests(), 2);
}

#[tokio::test]
async fn failing_checks_fail_the_job_naming_them() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/checkout", TargetMode::Failing);
    let failure = mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
        .match_requests(|r| {
            let details = r.failure_details().unwrap();
            details.r#type().as_str() == "JobFailed"
                && details.message().contains("checkout: expected status 200, got 500")
                && !details.message().contains("- health")
                && details.external_execution_id() == Some(JOB)
        })
        .then_output(|| PutJobFailureResultOutput::builder().build());
    let (runner, mocks) = runner(any_success(), failure, metrics_ok());
    let outcome = runner.handle(event(&suite(&target, "")), soon(30)).await.unwrap();
    let Outcome::Failed {
        failure_type, summary, ..
    } = &outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(failure_type, "JobFailed");
    assert!(summary.starts_with("Checks failed: 1/2 checks passed"), "{summary}");
    assert_eq!((mocks.failure.num_calls(), mocks.metrics.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_bad_suite_is_a_configuration_error_and_runs_nothing() {
    let failure = mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
        .match_requests(|r| {
            let details = r.failure_details().unwrap();
            details.r#type().as_str() == "ConfigurationError" && details.message().contains("`checks[0].expect.status`")
        })
        .then_output(|| PutJobFailureResultOutput::builder().build());
    let (runner, mocks) = runner(any_success(), failure, metrics_ok());
    let raw = r#"{"checks": [{"name": "a", "url": "https://example.com/", "expect": {"status": 99}}]}"#;
    let outcome = runner.handle(event(raw), soon(30)).await.unwrap();
    assert!(matches!(outcome, Outcome::Failed { ref failure_type, .. } if failure_type == "ConfigurationError"));
    assert_eq!(mocks.failure.num_calls(), 1);
    assert_eq!(
        (mocks.details.num_calls(), mocks.metrics.num_calls()),
        (0, 0),
        "nothing ran, nothing to publish"
    );
}

#[tokio::test]
async fn a_hung_target_is_reported_before_the_deadline() {
    let target = TargetService::start().await.unwrap();
    target.set_mode(TargetMode::Slow(Duration::from_secs(60)));
    let failure = mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
        .match_requests(|r| {
            r.failure_details()
                .unwrap()
                .message()
                .starts_with("The function's deadline came")
        })
        .then_output(|| PutJobFailureResultOutput::builder().build());
    let (runner, mocks) = runner(any_success(), failure, metrics_ok());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(5);
    let raw = suite(&target, "").replace(r#""timeout_ms": 2000"#, r#""timeout_ms": 30000"#);
    let outcome = runner.handle(event(&raw), deadline).await.unwrap();
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!(mocks.failure.num_calls(), 1);
    assert!(
        Instant::now() < deadline,
        "reported {:?} after the start",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_settled_job_is_reported_once_and_duplicates_run_nothing() {
    let target = TargetService::start().await.unwrap();
    let settled = mock!(aws_sdk_codepipeline::Client::put_job_success_result).then_error(|| {
        PutJobSuccessResultError::InvalidJobStateException(
            InvalidJobStateException::builder()
                .message("Job is in state Succeeded")
                .build(),
        )
    });
    let (runner, mocks) = runner(settled, any_failure(), metrics_ok());
    let outcome = runner.handle(event(&suite(&target, "")), soon(30)).await.unwrap();
    let Outcome::AlreadySettled { reason, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("InvalidJobStateException"), "{reason}");
    assert_eq!(mocks.metrics.num_calls(), 0, "a duplicate publishes nothing");

    let again = runner.handle(event(&suite(&target, "")), soon(30)).await.unwrap();
    assert!(matches!(again, Outcome::AlreadySettled { .. }), "{again:?}");
    assert_eq!(target.requests(), 2, "the second delivery ran no checks");
    assert_eq!(mocks.success.num_calls(), 1);
}

#[tokio::test]
async fn failing_to_publish_metrics_changes_nothing() {
    let target = TargetService::start().await.unwrap();
    let broken = mock!(aws_sdk_cloudwatch::Client::put_metric_data).then_error(|| {
        PutMetricDataError::InternalServiceFault(InternalServiceFault::builder().message("down").build())
    });
    let (runner, mocks) = runner(any_success(), any_failure(), broken);
    let outcome = runner.handle(event(&suite(&target, "")), soon(30)).await.unwrap();
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome:?}");
    assert_eq!((mocks.success.num_calls(), mocks.metrics.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_short_soak_finishes_in_one_invocation_with_one_verdict() {
    let target = TargetService::start().await.unwrap();
    let success = mock!(aws_sdk_codepipeline::Client::put_job_success_result)
        .match_requests(|r| {
            let variables = r.output_variables().cloned().unwrap_or_default();
            r.continuation_token().is_none() && variables.get("rounds").map(String::as_str) == Some("3")
        })
        .then_output(|| PutJobSuccessResultOutput::builder().build());
    let (runner, mocks) = runner(success, any_failure(), metrics_ok());
    let raw = suite(&target, r#""soak": {"every_seconds": 1, "for_minutes": 0.05}, "#);
    let started = Instant::now();
    let outcome = runner.handle(event(&raw), soon(30)).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Succeeded { ref summary, .. } if summary.starts_with("Soak passed: 3 round(s)")),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "rounds are paced a second apart"
    );
    assert_eq!((mocks.success.num_calls(), target.requests()), (1, 6));
}

#[tokio::test]
async fn events_that_are_not_jobs_fail_the_invocation() {
    let (runner, mocks) = runner(any_success(), any_failure(), metrics_ok());
    let err = runner
        .handle(json!({"detail-type": "Scheduled Event"}), soon(30))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "MalformedEvent");
    assert_eq!(mocks.success.num_calls() + mocks.failure.num_calls(), 0);
}

// ---- Suites from the input artifact, read from the simulator's S3 ----

const ARTIFACT_KEY: &str = "storefront/BuildOutput/a1b2c3d";

/// A simulator holding a job (whose credentials its S3 accepts) and a `BuildOutput` artifact holding `files`.
async fn artifact_sim(files: &[(&str, &str)]) -> (Simulator, SimCredentials) {
    let sim = Simulator::start().await.unwrap();
    let credentials = {
        let mut world = sim.state.world();
        world.put_pipeline(samples::tested_pipeline("storefront", "{}", Duration::from_secs(60)));
        let execution = world.start_execution("storefront", Vec::new()).unwrap();
        world
            .start_action(&execution, samples::TEST_STAGE, samples::TEST_ACTION)
            .unwrap();
        let job = world
            .create_job(
                &execution,
                samples::TEST_STAGE,
                samples::TEST_ACTION,
                None,
                Duration::from_secs(60),
            )
            .unwrap();
        world.job(&job).unwrap().credentials.clone()
    };
    sim.state
        .s3()
        .put_object(&artifact_bucket(), ARTIFACT_KEY, zip_artifact(files.iter().copied()));
    (sim, credentials)
}

/// A job event whose one input artifact is `BuildOutput`, with these artifact credentials.
fn artifact_event(user_parameters: &str, credentials: &SimCredentials) -> Value {
    let mut event = event(user_parameters);
    let data = &mut event["CodePipeline.job"]["data"];
    data["inputArtifacts"] = json!([{"name": "BuildOutput", "revision": null, "location": {"type": "S3",
        "s3Location": {"bucketName": artifact_bucket(), "objectKey": ARTIFACT_KEY}}}]);
    data["artifactCredentials"] = json!({"accessKeyId": credentials.access_key_id,
        "secretAccessKey": credentials.secret_access_key, "sessionToken": credentials.session_token});
    event
}

#[tokio::test]
async fn a_suite_in_the_input_artifact_runs() {
    let target = TargetService::start().await.unwrap();
    let (sim, credentials) = artifact_sim(&[("checks/smoke.json", &suite(&target, ""))]).await;
    let success = mock!(aws_sdk_codepipeline::Client::put_job_success_result)
        .match_requests(|r| r.output_variables().and_then(|v| v.get("passed")).map(String::as_str) == Some("2"))
        .then_output(|| PutJobSuccessResultOutput::builder().build());
    let (runner, mocks) = runner_with(
        success,
        any_failure(),
        metrics_ok(),
        artifact_store(&sim.endpoint_url()).await,
    );
    let event = artifact_event(r#"{"suite_from_artifact": "checks/smoke.json"}"#, &credentials);
    let outcome = runner.handle(event, soon(30)).await.unwrap();
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome:?}");
    assert_eq!((mocks.success.num_calls(), target.requests()), (1, 2));
    assert_eq!(sim.state.call_count(pipeline_sim::Service::S3, "GetObject"), 1);
}

#[tokio::test]
async fn credentials_s3_refuses_are_a_configuration_error() {
    let (sim, _) = artifact_sim(&[("checks/smoke.json", "{}")]).await;
    let failure = mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
        .match_requests(|r| {
            let details = r.failure_details().unwrap();
            details.r#type().as_str() == "ConfigurationError"
                && details.message().starts_with("input artifact BuildOutput (s3://")
                && details.message().contains("AccessDenied")
                && details.message().contains("this function needs no S3 permission")
        })
        .then_output(|| PutJobFailureResultOutput::builder().build());
    let (runner, mocks) = runner_with(
        any_success(),
        failure,
        metrics_ok(),
        artifact_store(&sim.endpoint_url()).await,
    );
    let stranger = SimCredentials {
        access_key_id: "ASIASTRANGER".into(),
        secret_access_key: "not-a-jobs-secret".into(),
        session_token: "not-a-jobs-token".into(),
        expiration: chrono::Utc::now(),
    };
    let event = artifact_event(r#"{"suite_from_artifact": "checks/smoke.json"}"#, &stranger);
    let outcome = runner.handle(event, soon(30)).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Failed { ref failure_type, .. } if failure_type == "ConfigurationError"),
        "{outcome:?}"
    );
    assert_eq!((mocks.failure.num_calls(), mocks.metrics.num_calls()), (1, 0));
}
