//! Contract tests for Lambda Invoke jobs and Manual approvals: the real AWS SDK, pointed at the simulator, reads
//! jobs and pending approvals, settles them once, and gets every error as the operation's modeled variant.

use std::time::Duration;

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::error::ProvideErrorMetadata;
use aws_sdk_codepipeline::types::{
    ActionExecutionFilter, ActionExecutionStatus, ApprovalResult, ApprovalStatus as CpApprovalStatus, CurrentRevision,
    ExecutionDetails, FailureDetails, FailureType, StageExecutionStatus,
};
use pipeline_sim::model::{
    ActionDecl, ActionType, ApprovalState, ApprovalStatus, ArtifactRevision, DecidedBy, ExecutionResult, JobState,
    Pipeline, StageDecl, Status,
};
use pipeline_sim::{ACCOUNT, Simulator};

mod support;
use support::sdk_config;

const GATED: &str = "gated-app";
const COMMIT: &str = "5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c";
const COMMIT_MESSAGE: &str = "Smoke-test the checkout flow";
const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:gated-app-approvals";
const CUSTOM_DATA: &str = r#"{"alarms": ["checkout-5xx"], "bakeMinutes": 10}"#;
const UNKNOWN_ID: &str = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee";

async fn start() -> Simulator {
    Simulator::start().await.expect("simulator starts")
}

async fn client(sim: &Simulator) -> Client {
    Client::new(&sdk_config(sim, Duration::from_secs(5)).await)
}

/// What the gated pipeline's execution holds: the Smoke run's job, the BakeTime run's approval token.
struct Gated {
    execution: String,
    job: String,
    token: String,
}

/// Adds `gated-app` (Source → Test: Smoke, a Lambda Invoke action → Bake: BakeTime, a Manual approval with a
/// 30-minute timeout → Deploy) and an execution waiting on both: Smoke's first job and BakeTime's approval.
fn seed_gated(sim: &Simulator) -> Gated {
    let mut world = sim.state.world();
    world.put_pipeline(Pipeline::new(
        GATED,
        vec![
            StageDecl::single(
                "Source",
                ActionDecl::new("Source", ActionType::aws("Source", "CodeCommit")).with_config("RepositoryName", GATED),
            ),
            StageDecl::single(
                "Test",
                ActionDecl::new("Smoke", ActionType::lambda_invoke())
                    .with_config("FunctionName", "post-deploy-tests")
                    .with_config("UserParameters", r#"{"suite": "smoke"}"#),
            ),
            StageDecl::single(
                "Bake",
                ActionDecl::new("BakeTime", ActionType::manual_approval())
                    .with_config("NotificationArn", TOPIC_ARN)
                    .with_config("CustomData", CUSTOM_DATA)
                    .with_timeout(Duration::from_secs(30 * 60)),
            ),
            StageDecl::single(
                "Deploy",
                ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy"))
                    .with_config("ApplicationName", GATED),
            ),
        ],
    ));
    let execution = world
        .start_execution(
            GATED,
            vec![ArtifactRevision {
                name: "SourceArtifact".into(),
                revision_id: COMMIT.into(),
                revision_summary: Some(COMMIT_MESSAGE.into()),
                revision_url: None,
            }],
        )
        .unwrap();
    world.start_action(&execution, "Source", "Source").unwrap();
    world
        .finish_action(
            &execution,
            "Source",
            "Source",
            Status::Succeeded,
            ExecutionResult::default(),
        )
        .unwrap();
    world.start_action(&execution, "Test", "Smoke").unwrap();
    let job = world
        .create_job(&execution, "Test", "Smoke", None, Duration::from_secs(60))
        .unwrap();
    world.start_action(&execution, "Bake", "BakeTime").unwrap();
    let token = world.open_approval(&execution, "Bake", "BakeTime").unwrap();
    Gated { execution, job, token }
}

fn approval(status: CpApprovalStatus, summary: &str) -> ApprovalResult {
    ApprovalResult::builder()
        .status(status)
        .summary(summary)
        .build()
        .unwrap()
}

fn smoke_run(sim: &Simulator, gated: &Gated) -> pipeline_sim::model::ActionExecution {
    let world = sim.state.world();
    let execution = world.execution(&gated.execution).unwrap();
    execution.actions.iter().find(|a| a.action == "Smoke").unwrap().clone()
}

#[tokio::test]
async fn get_pipeline_shows_approval_configuration_and_timeout() {
    let sim = start().await;
    seed_gated(&sim);
    let out = client(&sim)
        .await
        .get_pipeline()
        .name(GATED)
        .send()
        .await
        .expect("parses");
    let stages = out.pipeline().unwrap().stages();
    let bake = &stages[2].actions()[0];
    let type_id = bake.action_type_id().unwrap();
    assert_eq!(
        (
            type_id.category().as_str(),
            type_id.owner().as_str(),
            type_id.provider()
        ),
        ("Approval", "AWS", "Manual")
    );
    let config = bake.configuration().unwrap();
    assert_eq!(config.get("NotificationArn").map(String::as_str), Some(TOPIC_ARN));
    assert_eq!(config.get("CustomData").map(String::as_str), Some(CUSTOM_DATA));
    assert_eq!(bake.timeout_in_minutes(), Some(30));
    assert!(bake.input_artifacts().is_empty(), "approvals take no artifacts");
    let smoke = &stages[1].actions()[0];
    assert_eq!(smoke.action_type_id().unwrap().category().as_str(), "Invoke");
    assert_eq!(
        smoke.configuration().unwrap().get("FunctionName").map(String::as_str),
        Some("post-deploy-tests")
    );
    assert_eq!(
        smoke.timeout_in_minutes(),
        None,
        "only approvals carry timeoutInMinutes"
    );
}

#[tokio::test]
async fn get_pipeline_state_shows_a_pending_approval_with_its_token() {
    let sim = start().await;
    let gated = seed_gated(&sim);
    let client = client(&sim).await;
    let out = client.get_pipeline_state().name(GATED).send().await.expect("parses");
    let bake = &out.stage_states()[2];
    assert_eq!(
        bake.latest_execution().unwrap().status(),
        &StageExecutionStatus::InProgress
    );
    let run = bake.action_states()[0].latest_execution().expect("pending approval");
    assert_eq!(run.status(), Some(&ActionExecutionStatus::InProgress));
    assert_eq!(run.token(), Some(gated.token.as_str()));
    assert!(run.last_status_change().is_some());
    let smoke = out.stage_states()[1].action_states()[0].latest_execution().unwrap();
    assert_eq!(smoke.status(), Some(&ActionExecutionStatus::InProgress));
    assert_eq!(smoke.token(), None, "only approvals have tokens");

    // Once answered, the token is gone from the state.
    client
        .put_approval_result()
        .pipeline_name(GATED)
        .stage_name("Bake")
        .action_name("BakeTime")
        .token(&gated.token)
        .result(approval(CpApprovalStatus::Approved, "bake complete"))
        .send()
        .await
        .unwrap();
    let out = client.get_pipeline_state().name(GATED).send().await.unwrap();
    let run = out.stage_states()[2].action_states()[0].latest_execution().unwrap();
    assert_eq!(run.status(), Some(&ActionExecutionStatus::Succeeded));
    assert_eq!(run.summary(), Some("bake complete"));
    assert_eq!(run.token(), None);
}

#[tokio::test]
async fn get_job_details_answers_the_job_and_where_it_runs() {
    let sim = start().await;
    let gated = seed_gated(&sim);
    let client = client(&sim).await;
    let out = client
        .get_job_details()
        .job_id(&gated.job)
        .send()
        .await
        .expect("GetJobDetails parses");
    let details = out.job_details().expect("jobDetails");
    assert_eq!(details.id(), Some(gated.job.as_str()));
    assert_eq!(details.account_id(), Some(ACCOUNT));
    let data = details.data().expect("data");
    let type_id = data.action_type_id().expect("actionTypeId");
    assert_eq!(
        (
            type_id.category().as_str(),
            type_id.owner().as_str(),
            type_id.provider()
        ),
        ("Invoke", "AWS", "Lambda")
    );
    let configuration = data.action_configuration().and_then(|c| c.configuration()).unwrap();
    assert_eq!(
        configuration.get("FunctionName").map(String::as_str),
        Some("post-deploy-tests")
    );
    // What the runner acts on comes from here, never from the event: UserParameters included.
    assert_eq!(
        configuration.get("UserParameters").map(String::as_str),
        Some(r#"{"suite": "smoke"}"#)
    );
    let context = data.pipeline_context().expect("pipelineContext");
    assert_eq!(context.pipeline_name(), Some(GATED));
    assert_eq!(context.stage().and_then(|s| s.name()), Some("Test"));
    assert_eq!(context.action().and_then(|a| a.name()), Some("Smoke"));
    assert_eq!(
        context.action().and_then(|a| a.action_execution_id()),
        Some(smoke_run(&sim, &gated).action_execution_id.as_str())
    );
    assert_eq!(
        context.pipeline_arn(),
        Some(format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:{GATED}").as_str())
    );
    assert_eq!(context.pipeline_execution_id(), Some(gated.execution.as_str()));

    // The same artifacts and credentials the job's event carries.
    let event = {
        let world = sim.state.world();
        pipeline_sim::codepipeline::jobs::job_event(&world, &gated.job).unwrap()
    };
    let event_data = &event["CodePipeline.job"]["data"];
    let inputs = data.input_artifacts();
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0].name(), Some("SourceArtifact"));
    let location = inputs[0].location().and_then(|l| l.s3_location()).expect("s3Location");
    let event_location = &event_data["inputArtifacts"][0]["location"]["s3Location"];
    assert_eq!(Some(location.bucket_name()), event_location["bucketName"].as_str());
    assert_eq!(Some(location.object_key()), event_location["objectKey"].as_str());
    assert!(data.output_artifacts().is_empty());
    let credentials = data.artifact_credentials().expect("artifactCredentials");
    let expected = sim.state.world().job(&gated.job).unwrap().credentials.clone();
    assert_eq!(credentials.access_key_id(), expected.access_key_id);
    assert_eq!(credentials.secret_access_key(), expected.secret_access_key);
    assert_eq!(credentials.session_token(), expected.session_token);
    assert_eq!(data.continuation_token(), None);

    // A continuation job carries its token.
    let next = sim
        .state
        .world()
        .create_job(
            &gated.execution,
            "Test",
            "Smoke",
            Some("soak:minute-1".into()),
            Duration::from_secs(60),
        )
        .unwrap();
    let out = client.get_job_details().job_id(&next).send().await.expect("parses");
    let data = out.job_details().and_then(|d| d.data()).unwrap();
    assert_eq!(data.continuation_token(), Some("soak:minute-1"));
}

#[tokio::test]
async fn declared_input_artifacts_reach_the_declaration_and_the_job() {
    let sim = start().await;
    let execution = {
        let mut world = sim.state.world();
        world.put_pipeline(Pipeline::new(
            "two-inputs",
            vec![
                StageDecl::single(
                    "Source",
                    ActionDecl::new("Source", ActionType::aws("Source", "CodeCommit")),
                ),
                StageDecl::single("Build", ActionDecl::new("Build", ActionType::aws("Build", "CodeBuild"))),
                StageDecl::single(
                    "Test",
                    ActionDecl::new("Smoke", ActionType::lambda_invoke())
                        .with_config("FunctionName", "post-deploy-tests")
                        .with_input_artifacts(&["BuildArtifact", "SourceArtifact"]),
                ),
            ],
        ));
        let execution = world.start_execution("two-inputs", Vec::new()).unwrap();
        world.start_action(&execution, "Test", "Smoke").unwrap();
        execution
    };
    let client = client(&sim).await;
    let out = client.get_pipeline().name("two-inputs").send().await.expect("parses");
    let smoke = &out.pipeline().unwrap().stages()[2].actions()[0];
    let declared: Vec<&str> = smoke.input_artifacts().iter().map(|a| a.name()).collect();
    assert_eq!(declared, ["BuildArtifact", "SourceArtifact"]);

    let job = sim
        .state
        .world()
        .create_job(&execution, "Test", "Smoke", None, Duration::from_secs(60))
        .unwrap();
    let out = client.get_job_details().job_id(&job).send().await.expect("parses");
    let inputs = out.job_details().and_then(|d| d.data()).unwrap().input_artifacts();
    let names: Vec<Option<&str>> = inputs.iter().map(|a| a.name()).collect();
    assert_eq!(names, [Some("BuildArtifact"), Some("SourceArtifact")]);
    let keys: Vec<&str> = inputs
        .iter()
        .filter_map(|a| a.location()?.s3_location())
        .map(|l| l.object_key())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1], "each artifact has its own object");
}

#[tokio::test]
async fn get_job_details_errors_are_modeled() {
    let sim = start().await;
    seed_gated(&sim);
    let client = client(&sim).await;
    let err = client
        .get_job_details()
        .job_id(UNKNOWN_ID)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_job_not_found_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains(UNKNOWN_ID)), "{err:?}");
    let err = client
        .get_job_details()
        .job_id("job-1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "not a UUID: {err:?}");
}

#[tokio::test]
async fn put_job_success_result_settles_the_job_with_output_variables() {
    let sim = start().await;
    let gated = seed_gated(&sim);
    let client = client(&sim).await;
    client
        .put_job_success_result()
        .job_id(&gated.job)
        .current_revision(
            CurrentRevision::builder()
                .revision(COMMIT)
                .change_identifier("smoke-1")
                .build()
                .unwrap(),
        )
        .execution_details(
            ExecutionDetails::builder()
                .summary("12 checks passed")
                .external_execution_id("smoke-run-7")
                .percent_complete(100)
                .build(),
        )
        .output_variables("passed", "12")
        .output_variables("p95_ms", "84")
        .send()
        .await
        .expect("PutJobSuccessResult parses");

    let run = smoke_run(&sim, &gated);
    assert_eq!(run.status, Status::Succeeded);
    let out = client
        .list_action_executions()
        .pipeline_name(GATED)
        .filter(
            ActionExecutionFilter::builder()
                .pipeline_execution_id(&gated.execution)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let smoke = out
        .action_execution_details()
        .iter()
        .find(|d| d.action_name() == Some("Smoke"))
        .unwrap();
    let output = smoke.output().unwrap();
    let variables = output.output_variables().unwrap();
    assert_eq!(variables.get("passed").map(String::as_str), Some("12"));
    assert_eq!(variables.get("p95_ms").map(String::as_str), Some("84"));
    let result = output.execution_result().unwrap();
    assert_eq!(result.external_execution_summary(), Some("12 checks passed"));
    assert_eq!(result.external_execution_id(), Some("smoke-run-7"));
    let state = client.get_pipeline_state().name(GATED).send().await.unwrap();
    let latest = state.stage_states()[1].action_states()[0].latest_execution().unwrap();
    assert_eq!(latest.percent_complete(), Some(100));

    let world = sim.state.world();
    let reports = &world.job(&gated.job).unwrap().reports;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].error, None);
}

#[tokio::test]
async fn a_continuation_token_keeps_the_action_running() {
    let sim = start().await;
    let gated = seed_gated(&sim);
    client(&sim)
        .await
        .put_job_success_result()
        .job_id(&gated.job)
        .continuation_token("soak:minute-1")
        .execution_details(
            ExecutionDetails::builder()
                .summary("1 of 30 minutes")
                .percent_complete(3)
                .build(),
        )
        .send()
        .await
        .expect("parses");
    let run = smoke_run(&sim, &gated);
    assert_eq!(run.status, Status::InProgress, "the action goes on with a new job");
    assert_eq!(run.percent_complete, Some(3));
    assert_eq!(
        run.result.external_execution_summary.as_deref(),
        Some("1 of 30 minutes")
    );
    let world = sim.state.world();
    assert!(matches!(
        &world.job(&gated.job).unwrap().state,
        JobState::Succeeded(s) if s.continuation_token.as_deref() == Some("soak:minute-1")
    ));
}

#[tokio::test]
async fn put_job_success_result_errors_are_modeled() {
    let sim = start().await;
    let gated = seed_gated(&sim);
    let client = client(&sim).await;
    let success = || client.put_job_success_result().job_id(&gated.job);

    let err = client
        .put_job_success_result()
        .job_id(UNKNOWN_ID)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_job_not_found_exception(), "{err:?}");
    let err = client
        .put_job_success_result()
        .job_id("job-1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "not a UUID: {err:?}");

    let long_token = "t".repeat(2049);
    let err = success()
        .continuation_token(long_token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(
        err.message().is_some_and(|m| m.contains("continuationToken")),
        "{err:?}"
    );
    let err = success()
        .continuation_token("more")
        .output_variables("passed", "1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "variables only without a token: {err:?}");
    let err = success()
        .output_variables("bad key!", "1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    let err = success()
        .execution_details(ExecutionDetails::builder().percent_complete(101).build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    let err = success()
        .output_variables("report", "x".repeat(130_000))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_output_variables_size_exceeded_exception(), "{err:?}");

    // Refused reports change nothing; the first accepted one settles the job; a second is InvalidJobState.
    assert_eq!(smoke_run(&sim, &gated).status, Status::InProgress);
    success().send().await.expect("the first valid report");
    let err = success().send().await.unwrap_err().into_service_error();
    assert!(err.is_invalid_job_state_exception(), "{err:?}");
    let world = sim.state.world();
    let errors: Vec<Option<&str>> = world
        .job(&gated.job)
        .unwrap()
        .reports
        .iter()
        .map(|r| r.error.as_deref())
        .collect();
    assert_eq!(
        errors,
        [
            Some("ValidationException"),
            Some("ValidationException"),
            Some("ValidationException"),
            Some("ValidationException"),
            Some("OutputVariablesSizeExceededException"),
            None,
            Some("InvalidJobStateException"),
        ],
        "every report about the job is recorded"
    );
}

#[tokio::test]
async fn put_job_failure_result_fails_the_action_with_its_details() {
    let sim = start().await;
    let gated = seed_gated(&sim);
    let client = client(&sim).await;
    let failure = |kind: FailureType, message: &str| {
        FailureDetails::builder()
            .r#type(kind)
            .message(message)
            .external_execution_id("smoke-run-9")
            .build()
            .unwrap()
    };
    let err = client
        .put_job_failure_result()
        .job_id(&gated.job)
        .failure_details(failure(FailureType::JobFailed, &"m".repeat(5001)))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "message over 5000 chars: {err:?}");
    let err = client
        .put_job_failure_result()
        .job_id(&gated.job)
        .failure_details(failure(FailureType::from("Oops"), "x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "not a failure type: {err:?}");
    let err = client
        .put_job_failure_result()
        .job_id(UNKNOWN_ID)
        .failure_details(failure(FailureType::JobFailed, "x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_job_not_found_exception(), "{err:?}");

    client
        .put_job_failure_result()
        .job_id(&gated.job)
        .failure_details(failure(
            FailureType::ConfigurationError,
            "UserParameters.suite: unknown suite 'smoke'",
        ))
        .send()
        .await
        .expect("PutJobFailureResult parses");
    let run = smoke_run(&sim, &gated);
    assert_eq!(run.status, Status::Failed);
    assert_eq!(run.result.external_execution_id.as_deref(), Some("smoke-run-9"));
    assert_eq!(
        run.result.error,
        Some((
            "ConfigurationError".into(),
            "UserParameters.suite: unknown suite 'smoke'".into()
        ))
    );
    let err = client
        .put_job_failure_result()
        .job_id(&gated.job)
        .failure_details(failure(FailureType::JobFailed, "again"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_job_state_exception(), "{err:?}");
    let err = client
        .put_job_success_result()
        .job_id(&gated.job)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.is_invalid_job_state_exception(),
        "a failed job cannot succeed: {err:?}"
    );
}

#[tokio::test]
async fn put_approval_result_settles_the_approval_once() {
    let sim = start().await;
    let gated = seed_gated(&sim);
    let client = client(&sim).await;
    let before = chrono::Utc::now().timestamp_millis();
    let send = || {
        client
            .put_approval_result()
            .pipeline_name(GATED)
            .stage_name("Bake")
            .action_name("BakeTime")
            .token(&gated.token)
            .result(approval(CpApprovalStatus::Approved, "bake complete"))
            .send()
    };
    let out = send().await.expect("PutApprovalResult parses");
    let approved_at = out.approved_at().expect("approvedAt").to_millis().unwrap();
    assert!(approved_at >= before - 1, "{approved_at} < {before}");
    {
        let world = sim.state.world();
        let run = world
            .execution(&gated.execution)
            .unwrap()
            .actions
            .last()
            .unwrap()
            .clone();
        assert_eq!((run.action.as_str(), run.status), ("BakeTime", Status::Succeeded));
        assert!(matches!(
            world.approval(&gated.token).unwrap().state,
            ApprovalState::Decided { by: DecidedBy::Api, .. }
        ));
    }
    let err = send().await.unwrap_err().into_service_error();
    assert!(err.is_invalid_approval_token_exception(), "a used token: {err:?}");
    assert_eq!(sim.state.world().approval_answer_counts(), (1, 1));
}

#[tokio::test]
async fn put_approval_result_errors_are_modeled() {
    let sim = start().await;
    let gated = seed_gated(&sim);
    let client = client(&sim).await;
    let call = |pipeline: &str, stage: &str, action: &str, token: &str, result: ApprovalResult| {
        client
            .put_approval_result()
            .pipeline_name(pipeline)
            .stage_name(stage)
            .action_name(action)
            .token(token)
            .result(result)
            .send()
    };
    let ok = || approval(CpApprovalStatus::Approved, "fine");
    let token = gated.token.as_str();

    let err = call("no-such-pipeline", "Bake", "BakeTime", token, ok())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_pipeline_not_found_exception(), "{err:?}");
    let err = call(GATED, "Soak", "BakeTime", token, ok())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_stage_not_found_exception(), "{err:?}");
    let err = call(GATED, "Bake", "Wait", token, ok())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_action_not_found_exception(), "{err:?}");
    let err = call(GATED, "Bake", "BakeTime", UNKNOWN_ID, ok())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_approval_token_exception(), "an unknown token: {err:?}");
    let err = call(GATED, "Test", "Smoke", token, ok())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.is_invalid_approval_token_exception(),
        "another action's token: {err:?}"
    );
    let err = call(GATED, "Bake", "BakeTime", "not-a-token", ok())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    let long = approval(CpApprovalStatus::Approved, &"s".repeat(513));
    let err = call(GATED, "Bake", "BakeTime", token, long)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "summary over 512 chars: {err:?}");
    let odd = approval(CpApprovalStatus::from("Maybe"), "?");
    let err = call(GATED, "Bake", "BakeTime", token, odd)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert_eq!(
        sim.state.world().approval(token).unwrap().state,
        ApprovalState::Pending,
        "refused answers change nothing"
    );

    // A person rejects in the console first: the function's answer is ApprovalAlreadyCompleted.
    sim.approve_as_person(
        GATED,
        "Bake",
        "BakeTime",
        ApprovalStatus::Rejected,
        "not during the sale",
    )
    .expect("the console path");
    let err = call(GATED, "Bake", "BakeTime", token, ok())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_approval_already_completed_exception(), "{err:?}");
    let world = sim.state.world();
    let run = world.execution(&gated.execution).unwrap().actions.last().unwrap();
    assert_eq!(run.status, Status::Failed, "a rejection fails the action");
    assert_eq!(world.execution(&gated.execution).unwrap().status, Status::Failed);
}

#[tokio::test]
async fn an_expired_approval_refuses_its_token() {
    let sim = start().await;
    let gated = seed_gated(&sim);
    // Expire it now rather than waiting 30 minutes.
    sim.state
        .world()
        .approvals
        .iter_mut()
        .find(|a| a.token == gated.token)
        .unwrap()
        .expires = chrono::Utc::now();
    let err = client(&sim)
        .await
        .put_approval_result()
        .pipeline_name(GATED)
        .stage_name("Bake")
        .action_name("BakeTime")
        .token(&gated.token)
        .result(approval(CpApprovalStatus::Approved, "late"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_approval_token_exception(), "{err:?}");
    let world = sim.state.world();
    assert!(matches!(
        world.approval(&gated.token).unwrap().state,
        ApprovalState::Expired { .. }
    ));
    let run = world.execution(&gated.execution).unwrap().actions.last().unwrap();
    assert_eq!(
        run.status,
        Status::Failed,
        "an approval that times out fails its action"
    );
}
