//! The handler called directly: CodePipeline and CloudWatch answered by aws-smithy-mocks, the checks sent to the
//! simulator's scriptable target service.

use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::operation::put_metric_data::{PutMetricDataError, PutMetricDataOutput};
use aws_sdk_cloudwatch::types::error::InternalServiceFault;
use aws_sdk_codepipeline::operation::get_job_details::{GetJobDetailsError, GetJobDetailsOutput};
use aws_sdk_codepipeline::operation::put_job_failure_result::PutJobFailureResultOutput;
use aws_sdk_codepipeline::operation::put_job_success_result::{PutJobSuccessResultError, PutJobSuccessResultOutput};
use aws_sdk_codepipeline::types::error::{InvalidJobStateException, JobNotFoundException};
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionConfiguration, ActionContext, ActionOwner, ActionTypeId, Artifact, ArtifactLocation,
    ArtifactLocationType, AwsSessionCredentials, JobData, JobDetails, PipelineContext, S3ArtifactLocation,
    StageContext,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use hooks_common::address::AddressPolicy;
use hooks_common::settings::Env;
use pipeline_sim::artifacts::zip_artifact;
use pipeline_sim::codepipeline::artifact_bucket;
use pipeline_sim::model::ArtifactCredentials as SimCredentials;
use pipeline_sim::target::{TargetMode, TargetService};
use pipeline_sim::{Simulator, samples};
use post_deploy_test_runner::artifact::ArtifactStore;
use post_deploy_test_runner::owner::LambdaFunction;
use post_deploy_test_runner::seal::{Scope, Seal, TokenKey};
use post_deploy_test_runner::token::Progress;
use post_deploy_test_runner::{Outcome, Runner, Settings};
use serde_json::{Value, json};

const JOB: &str = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const FUNCTION: &str = "runner";
const KEY: &str = "6b6579206f6620746865207465737473206f66207468652072756e6e65722121";

/// A job event: only its id is the runner's to read. The rest is what a forger might send.
fn event(user_parameters: &str) -> Value {
    json!({"CodePipeline.job": {"id": JOB, "accountId": "123456789012", "data": {
        "actionConfiguration": {"configuration": {"FunctionName": FUNCTION, "UserParameters": user_parameters}},
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

/// The job as `GetJobDetails` tells it.
#[derive(Clone)]
struct Declared {
    function_name: String,
    user_parameters: String,
    token: Option<String>,
    /// (name, bucket, key) of the one input artifact, and the job's credentials.
    artifact: Option<(String, String, String)>,
    credentials: (String, String, String),
}

impl Declared {
    fn job(user_parameters: &str) -> Declared {
        Declared {
            function_name: FUNCTION.into(),
            user_parameters: user_parameters.into(),
            token: None,
            artifact: None,
            credentials: ("ASIAJOBKEY".into(), "job-secret".into(), "job-token".into()),
        }
    }

    fn details(&self) -> JobDetails {
        let type_id = ActionTypeId::builder()
            .category(ActionCategory::Invoke)
            .owner(ActionOwner::Aws)
            .provider("Lambda")
            .version("1")
            .build()
            .unwrap();
        let context = PipelineContext::builder()
            .pipeline_name("storefront")
            .stage(StageContext::builder().name("Test").build())
            .action(ActionContext::builder().name("SmokeTests").build())
            .pipeline_execution_id("exec-1")
            .build();
        let (key_id, secret, session) = &self.credentials;
        let credentials = AwsSessionCredentials::builder()
            .access_key_id(key_id)
            .secret_access_key(secret)
            .session_token(session)
            .build()
            .unwrap();
        let mut data = JobData::builder()
            .action_type_id(type_id)
            .action_configuration(
                ActionConfiguration::builder()
                    .configuration("FunctionName", &self.function_name)
                    .configuration("UserParameters", &self.user_parameters)
                    .build(),
            )
            .pipeline_context(context)
            .artifact_credentials(credentials)
            .set_continuation_token(self.token.clone());
        if let Some((name, bucket, key)) = &self.artifact {
            let s3 = S3ArtifactLocation::builder()
                .bucket_name(bucket)
                .object_key(key)
                .build()
                .unwrap();
            let location = ArtifactLocation::builder()
                .r#type(ArtifactLocationType::S3)
                .s3_location(s3)
                .build();
            data = data.input_artifacts(Artifact::builder().name(name).location(location).build());
        }
        JobDetails::builder()
            .id(JOB)
            .account_id("123456789012")
            .data(data.build())
            .build()
    }

    /// What signs and opens this job's continuation tokens.
    fn seal(&self) -> Seal {
        let scope = Scope {
            pipeline: "storefront",
            stage: "Test",
            action: "SmokeTests",
            execution_id: "exec-1",
            user_parameters: &self.user_parameters,
        };
        Seal::new(&TokenKey::from_hex(KEY).unwrap(), &scope)
    }

    fn rule(self) -> Rule {
        mock!(aws_sdk_codepipeline::Client::get_job_details)
            .match_requests(|r| r.job_id() == Some(JOB))
            .then_output(move || GetJobDetailsOutput::builder().job_details(self.details()).build())
    }
}

struct Mocks {
    details: Rule,
    success: Rule,
    failure: Rule,
    metrics: Rule,
}

/// Artifacts from S3 at `endpoint` (the simulator's), path-style as for any endpoint override.
fn artifact_store(endpoint: &str) -> ArtifactStore {
    ArtifactStore::new(&Env::from_pairs(&[
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1"),
    ]))
    .unwrap()
}

/// Nothing listens there: no test of this shape reads an artifact.
fn no_artifacts() -> ArtifactStore {
    ArtifactStore::new(&Env::from_pairs(&[])).unwrap()
}

fn settings() -> Settings {
    Settings {
        metrics_namespace: "Test/PostDeploy".into(),
        function: LambdaFunction {
            name: FUNCTION.into(),
            region: Some("us-east-1".into()),
        },
        token_key: Some(TokenKey::from_hex(KEY).unwrap()),
        // The target service listens on loopback, which checks may not reach unless allowed.
        target_policy: AddressPolicy::allowing(&["127.0.0.1/32".parse().unwrap()]),
    }
}

fn runner(declared: Declared, success: Rule, failure: Rule, metrics: Rule) -> (Runner, Mocks) {
    runner_with(declared.rule(), success, failure, metrics, no_artifacts(), settings())
}

fn runner_with(
    details: Rule,
    success: Rule,
    failure: Rule,
    metrics: Rule,
    artifacts: ArtifactStore,
    settings: Settings,
) -> (Runner, Mocks) {
    let pipelines = mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, [&details, &success, &failure]);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&metrics]);
    let http = checks::http_client_with(&settings.target_policy).unwrap();
    let runner = Runner::new(pipelines, cloudwatch, artifacts, http, settings);
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
    let parameters = suite(&target, "");
    let (runner, mocks) = runner(Declared::job(&parameters), success, any_failure(), metrics_ok());
    let outcome = runner.handle(event(&parameters), soon(30)).await.unwrap();
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
    let parameters = suite(&target, "");
    let (runner, mocks) = runner(Declared::job(&parameters), any_success(), failure, metrics_ok());
    let outcome = runner.handle(event(&parameters), soon(30)).await.unwrap();
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
    let raw = r#"{"checks": [{"name": "a", "url": "https://example.com/", "expect": {"status": 99}}]}"#;
    let (runner, mocks) = runner(Declared::job(raw), any_success(), failure, metrics_ok());
    let outcome = runner.handle(event(raw), soon(30)).await.unwrap();
    assert!(matches!(outcome, Outcome::Failed { ref failure_type, .. } if failure_type == "ConfigurationError"));
    assert_eq!(mocks.failure.num_calls(), 1);
    assert_eq!(mocks.metrics.num_calls(), 0, "nothing ran, nothing to publish");
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
    let raw = suite(&target, "").replace(r#""timeout_ms": 2000"#, r#""timeout_ms": 30000"#);
    let (runner, mocks) = runner(Declared::job(&raw), any_success(), failure, metrics_ok());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(5);
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
    let parameters = suite(&target, "");
    let (runner, mocks) = runner(Declared::job(&parameters), settled, any_failure(), metrics_ok());
    let outcome = runner.handle(event(&parameters), soon(30)).await.unwrap();
    let Outcome::AlreadySettled { reason, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("InvalidJobStateException"), "{reason}");
    assert_eq!(mocks.metrics.num_calls(), 0, "a duplicate publishes nothing");

    let again = runner.handle(event(&parameters), soon(30)).await.unwrap();
    assert!(matches!(again, Outcome::AlreadySettled { .. }), "{again:?}");
    assert_eq!(target.requests(), 2, "the second delivery ran no checks");
    assert_eq!((mocks.success.num_calls(), mocks.details.num_calls()), (1, 1));
}

#[tokio::test]
async fn failing_to_publish_metrics_changes_nothing() {
    let target = TargetService::start().await.unwrap();
    let broken = mock!(aws_sdk_cloudwatch::Client::put_metric_data).then_error(|| {
        PutMetricDataError::InternalServiceFault(InternalServiceFault::builder().message("down").build())
    });
    let parameters = suite(&target, "");
    let (runner, mocks) = runner(Declared::job(&parameters), any_success(), any_failure(), broken);
    let outcome = runner.handle(event(&parameters), soon(30)).await.unwrap();
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
    let raw = suite(&target, r#""soak": {"every_seconds": 1, "for_minutes": 0.05}, "#);
    let (runner, mocks) = runner(Declared::job(&raw), success, any_failure(), metrics_ok());
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
    let (runner, mocks) = runner(Declared::job("{}"), any_success(), any_failure(), metrics_ok());
    let err = runner
        .handle(json!({"detail-type": "Scheduled Event"}), soon(30))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "MalformedEvent");
    assert_eq!(
        mocks.success.num_calls() + mocks.failure.num_calls() + mocks.details.num_calls(),
        0
    );
}

// ---- Whose job: the event is a hint, GetJobDetails says ----

#[tokio::test]
async fn a_forged_event_for_another_functions_job_gets_no_result() {
    let target = TargetService::start().await.unwrap();
    let parameters = suite(&target, "");
    let other = Declared {
        function_name: "someone-elses-function".into(),
        ..Declared::job(&parameters)
    };
    let (runner, mocks) = runner(other, any_success(), any_failure(), metrics_ok());
    // The forger names this function and a suite that passes: neither is read.
    let outcome = runner.handle(event(&parameters), soon(30)).await.unwrap();
    let Outcome::NotOurs { job, reason } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(job, JOB);
    assert!(
        reason.contains("names the function `someone-elses-function`"),
        "{reason}"
    );
    assert_eq!(mocks.details.num_calls(), 1);
    assert_eq!(
        mocks.success.num_calls() + mocks.failure.num_calls() + mocks.metrics.num_calls(),
        0
    );
    assert_eq!(target.requests(), 0, "nothing ran");
}

#[tokio::test]
async fn get_job_details_failing_reports_nothing_and_fails_the_invocation() {
    let target = TargetService::start().await.unwrap();
    let parameters = suite(&target, "");
    let not_found = mock!(aws_sdk_codepipeline::Client::get_job_details).then_error(|| {
        GetJobDetailsError::JobNotFoundException(JobNotFoundException::builder().message("no such job").build())
    });
    let (runner, mocks) = runner_with(
        not_found,
        any_success(),
        any_failure(),
        metrics_ok(),
        no_artifacts(),
        settings(),
    );
    let err = runner.handle(event(&parameters), soon(30)).await.unwrap_err();
    assert_eq!(err.error_type(), "AwsCallFailed");
    let text = err.to_string();
    assert!(
        text.contains("GetJobDetails") && text.contains("JobNotFoundException"),
        "{text}"
    );
    assert_eq!(mocks.details.num_calls(), 1);
    assert_eq!(mocks.success.num_calls() + mocks.failure.num_calls(), 0);
    assert_eq!(target.requests(), 0);
}

#[tokio::test]
async fn the_jobs_own_user_parameters_run_not_the_events() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/health", TargetMode::Failing);
    let declared = format!(
        r#"{{"base_url": "{}", "checks": [{{"name": "health", "url": "/health"}}]}}"#,
        target.base_url()
    );
    let forged = format!(
        r#"{{"base_url": "{}", "checks": [{{"name": "anything", "url": "/forged"}}]}}"#,
        target.base_url()
    );
    let failure = mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
        .match_requests(|r| {
            r.failure_details()
                .unwrap()
                .message()
                .contains("health: expected status 200, got 500")
        })
        .then_output(|| PutJobFailureResultOutput::builder().build());
    let (runner, mocks) = runner(Declared::job(&declared), any_success(), failure, metrics_ok());
    let outcome = runner.handle(event(&forged), soon(30)).await.unwrap();
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!((mocks.failure.num_calls(), mocks.success.num_calls()), (1, 0));
    assert_eq!((target.requests_to("/health"), target.requests_to("/forged")), (1, 0));
}

// ---- Soak tokens: signed, and read only when the signature holds ----

#[tokio::test]
async fn a_soak_hands_over_a_signed_token() {
    let target = TargetService::start().await.unwrap();
    // A round takes at most 0.5 s; two fit a 4 s invocation, eight do not.
    let raw = suite(&target, r#""soak": {"every_seconds": 1, "for_minutes": 0.2}, "#)
        .replace(r#""timeout_ms": 2000"#, r#""timeout_ms": 500"#);
    let declared = Declared::job(&raw);
    let seal = declared.seal();
    let success = mock!(aws_sdk_codepipeline::Client::put_job_success_result)
        .match_requests(move |r| {
            let progress = r
                .continuation_token()
                .and_then(|t| seal.open(t).ok())
                .and_then(|p| Progress::decode(p).ok());
            progress.is_some_and(|p| p.run_id == JOB && p.rounds >= 1)
        })
        .then_output(|| PutJobSuccessResultOutput::builder().build());
    let (runner, mocks) = runner(declared, success, any_failure(), metrics_ok());
    let outcome = runner.handle(event(&raw), soon(4)).await.unwrap();
    assert!(matches!(outcome, Outcome::Continued { .. }), "{outcome:?}");
    assert_eq!(mocks.success.num_calls(), 1);
}

#[tokio::test]
async fn a_tampered_continuation_token_fails_the_job() {
    let target = TargetService::start().await.unwrap();
    let raw = suite(&target, r#""soak": {"every_seconds": 60, "for_minutes": 10}, "#);
    let mut declared = Declared::job(&raw);
    let mut progress = Progress::start(JOB, chrono::Utc::now() - chrono::Duration::seconds(120));
    progress.rounds = 1;
    progress.failed_rounds = 1;
    progress.last_round_at_ms = Some(progress.started_at_ms);
    let token = declared.seal().sign(&progress.encode());
    // The one failed round rewritten as a pass, the signature kept.
    declared.token = Some(token.replace(r#""fr":1"#, r#""fr":0"#));
    let failure = mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
        .match_requests(|r| {
            let details = r.failure_details().unwrap();
            details.r#type().as_str() == "JobFailed"
                && details
                    .message()
                    .starts_with("the continuation token's signature does not match")
        })
        .then_output(|| PutJobFailureResultOutput::builder().build());
    let (runner, mocks) = runner(declared, any_success(), failure, metrics_ok());
    let outcome = runner.handle(event(&raw), soon(30)).await.unwrap();
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!((mocks.failure.num_calls(), mocks.success.num_calls()), (1, 0));
    assert_eq!(
        target.requests(),
        0,
        "no round runs on a token that is not the runner's"
    );
}

#[tokio::test]
async fn without_a_token_key_a_soak_is_a_configuration_error_naming_the_setting() {
    let target = TargetService::start().await.unwrap();
    let raw = suite(&target, r#""soak": {"every_seconds": 60, "for_minutes": 10}, "#);
    let failure = mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
        .match_requests(|r| {
            let details = r.failure_details().unwrap();
            details.r#type().as_str() == "ConfigurationError" && details.message().contains("CONTINUATION_TOKEN_KEY")
        })
        .then_output(|| PutJobFailureResultOutput::builder().build());
    let keyless = Settings {
        token_key: None,
        ..settings()
    };
    let (runner, mocks) = runner_with(
        Declared::job(&raw).rule(),
        any_success(),
        failure,
        metrics_ok(),
        no_artifacts(),
        keyless,
    );
    let outcome = runner.handle(event(&raw), soon(30)).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Failed { ref failure_type, .. } if failure_type == "ConfigurationError"),
        "{outcome:?}"
    );
    assert_eq!(mocks.failure.num_calls(), 1);
    assert_eq!(target.requests(), 0);
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

/// The job whose one input artifact is `BuildOutput`, with these artifact credentials.
fn artifact_job(user_parameters: &str, credentials: &SimCredentials) -> Declared {
    Declared {
        artifact: Some(("BuildOutput".into(), artifact_bucket(), ARTIFACT_KEY.into())),
        credentials: (
            credentials.access_key_id.clone(),
            credentials.secret_access_key.clone(),
            credentials.session_token.clone(),
        ),
        ..Declared::job(user_parameters)
    }
}

#[tokio::test]
async fn a_suite_in_the_input_artifact_runs() {
    let target = TargetService::start().await.unwrap();
    let (sim, credentials) = artifact_sim(&[("checks/smoke.json", &suite(&target, ""))]).await;
    let success = mock!(aws_sdk_codepipeline::Client::put_job_success_result)
        .match_requests(|r| r.output_variables().and_then(|v| v.get("passed")).map(String::as_str) == Some("2"))
        .then_output(|| PutJobSuccessResultOutput::builder().build());
    let parameters = r#"{"suite_from_artifact": "checks/smoke.json"}"#;
    let (runner, mocks) = runner_with(
        artifact_job(parameters, &credentials).rule(),
        success,
        any_failure(),
        metrics_ok(),
        artifact_store(&sim.endpoint_url()),
        settings(),
    );
    // The event's credentials (the forger's) are never used: the job's come from GetJobDetails.
    let outcome = runner.handle(event(parameters), soon(30)).await.unwrap();
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
    let stranger = SimCredentials {
        access_key_id: "ASIASTRANGER".into(),
        secret_access_key: "not-a-jobs-secret".into(),
        session_token: "not-a-jobs-token".into(),
        expiration: chrono::Utc::now(),
    };
    let parameters = r#"{"suite_from_artifact": "checks/smoke.json"}"#;
    let (runner, mocks) = runner_with(
        artifact_job(parameters, &stranger).rule(),
        any_success(),
        failure,
        metrics_ok(),
        artifact_store(&sim.endpoint_url()),
        settings(),
    );
    let outcome = runner.handle(event(parameters), soon(30)).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Failed { ref failure_type, .. } if failure_type == "ConfigurationError"),
        "{outcome:?}"
    );
    assert_eq!((mocks.failure.num_calls(), mocks.metrics.num_calls()), (1, 0));
}

/// The artifact read straight from the store, with the job's credentials: S3's transient answers are tried again
/// (three attempts in all, as the SDK's standard retries), and what is still failing after them is reported.
#[tokio::test]
async fn the_artifact_read_tries_s3_again_and_then_gives_up() {
    use pipeline_sim::Service;
    use pipeline_sim::faults::{Fault, FaultKind};
    use post_deploy_test_runner::artifact::{ArtifactCredentials, FetchError, S3Location};

    let (sim, credentials) = artifact_sim(&[("checks/smoke.json", "{}")]).await;
    let credentials = ArtifactCredentials::new(
        Some(credentials.access_key_id.clone()),
        Some(credentials.secret_access_key.clone()),
        Some(credentials.session_token.clone()),
    )
    .unwrap();
    let location = S3Location {
        bucket: artifact_bucket(),
        key: ARTIFACT_KEY.into(),
    };
    let store = artifact_store(&sim.endpoint_url());

    // Throttled twice, answered the third time.
    sim.state
        .faults
        .inject(Fault::new(Service::S3, FaultKind::Throttle).on("GetObject").times(2));
    let read = store.download(&location, &credentials, soon(30)).await;
    assert!(read.is_ok(), "{:?}", read.err());
    assert_eq!(sim.state.call_count(Service::S3, "GetObject"), 3);

    // Failing every time: three attempts, then S3 is unavailable (never a configuration error, never a pass).
    sim.state
        .faults
        .inject(Fault::new(Service::S3, FaultKind::ServerError).on("GetObject"));
    let Err(FetchError::Unavailable(problem)) = store.download(&location, &credentials, soon(30)).await else {
        panic!("a failing S3 is unavailable")
    };
    assert!(
        problem.contains("InternalError") && problem.contains("after 3 attempts"),
        "{problem}"
    );
    assert_eq!(sim.state.call_count(Service::S3, "GetObject"), 6);
}
