//! Contract tests: the real AWS SDK, pointed at the simulator, parses every answer and returns every error as the
//! operation's modeled variant. If these pass, code that works against the simulator speaks AWS's wire format.

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codepipeline::primitives::DateTime;
use aws_sdk_codepipeline::types::{
    ActionExecutionFilter, ActionExecutionStatus, ApprovalResult, ApprovalStatus as CpApprovalStatus, CurrentRevision,
    ExecutionDetails, ExecutionMode, FailureDetails, FailureType, PipelineExecutionStatus, PipelineType,
    StageExecutionStatus, TriggerType,
};
use pipeline_sim::model::{
    ActionDecl, ActionType, ApprovalState, ApprovalStatus, ArtifactRevision, DecidedBy, ExecutionResult, JobState,
    Pipeline, StageDecl, Status,
};
use pipeline_sim::{ACCOUNT, Fault, FaultKind, Service, Simulator};

const PIPELINE: &str = "demo-app";
const COMMIT: &str = "8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a";
const COMMIT_MESSAGE: &str = "Add health check endpoint";
const BUILD_URL: &str =
    "https://console.aws.amazon.com/codebuild/home?region=us-east-1#/builds/demo-app-build:42/view/new";
const BUILD_SUMMARY: &str = "Build terminated with state: FAILED";
const BUILD_ERROR: &str = "Build failed: 3 tests failed in HealthCheckTest";
const UNKNOWN_EXECUTION: &str = "ffffffff-ffff-4fff-8fff-ffffffffffff";

/// What the seeded world holds, to compare answers against.
struct Seeded {
    /// An older execution that went through every stage.
    passed: String,
    /// The latest execution: Source succeeded, Build failed.
    failed: String,
    failed_source_run: String,
    failed_build_run: String,
}

/// Starts a simulator holding `demo-app` (Source: CodeCommit, Build: CodeBuild, Deploy: CodeDeploy) and two
/// executions of it: one that passed, then one whose Build failed.
async fn start() -> (Simulator, Seeded) {
    let sim = Simulator::start().await.expect("simulator starts");
    let seeded = {
        let mut world = sim.state.world();
        world.put_pipeline(Pipeline::new(
            PIPELINE,
            vec![
                StageDecl::single(
                    "Source",
                    ActionDecl::new("Source", ActionType::aws("Source", "CodeCommit"))
                        .with_config("RepositoryName", "demo-app")
                        .with_config("BranchName", "main"),
                ),
                StageDecl::single(
                    "Build",
                    ActionDecl::new("Build", ActionType::aws("Build", "CodeBuild"))
                        .with_config("ProjectName", "demo-app-build"),
                ),
                StageDecl::single(
                    "Deploy",
                    ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy"))
                        .with_config("ApplicationName", "demo-app")
                        .with_config("DeploymentGroupName", "production"),
                ),
            ],
        ));

        let passed = world
            .start_execution(PIPELINE, vec![revision("0123456789abcdef", "Initial commit")])
            .unwrap();
        for (stage, action) in [("Source", "Source"), ("Build", "Build"), ("Deploy", "Deploy")] {
            world.start_action(&passed, stage, action).unwrap();
            world
                .finish_action(&passed, stage, action, Status::Succeeded, ExecutionResult::default())
                .unwrap();
        }
        world.finish_execution(&passed, Status::Succeeded).unwrap();

        let failed = world
            .start_execution(PIPELINE, vec![revision(COMMIT, COMMIT_MESSAGE)])
            .unwrap();
        let failed_source_run = world.start_action(&failed, "Source", "Source").unwrap();
        let source_result = ExecutionResult {
            external_execution_id: Some(COMMIT.into()),
            external_execution_summary: Some(COMMIT_MESSAGE.into()),
            ..ExecutionResult::default()
        };
        world
            .finish_action(&failed, "Source", "Source", Status::Succeeded, source_result)
            .unwrap();
        let failed_build_run = world.start_action(&failed, "Build", "Build").unwrap();
        let build_result = ExecutionResult {
            external_execution_id: Some("demo-app-build:42".into()),
            external_execution_summary: Some(BUILD_SUMMARY.into()),
            external_execution_url: Some(BUILD_URL.into()),
            error: Some(("JobFailed".into(), BUILD_ERROR.into())),
        };
        world
            .finish_action(&failed, "Build", "Build", Status::Failed, build_result)
            .unwrap();
        Seeded {
            passed,
            failed,
            failed_source_run,
            failed_build_run,
        }
    };
    (sim, seeded)
}

fn revision(id: &str, message: &str) -> ArtifactRevision {
    ArtifactRevision {
        name: "SourceArtifact".into(),
        revision_id: id.into(),
        revision_summary: Some(message.into()),
        revision_url: Some(format!(
            "https://us-east-1.console.aws.amazon.com/codesuite/codecommit/repositories/demo-app/commit/{id}"
        )),
    }
}

/// SDK configuration for the simulator: test credentials, 3 attempts with millisecond backoff, a 5 s budget.
async fn sdk_config(sim: &Simulator, operation_timeout: Duration) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .endpoint_url(sim.endpoint_url())
        .region(Region::new("us-east-1"))
        .test_credentials()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .timeout_config(TimeoutConfig::builder().operation_timeout(operation_timeout).build())
        .load()
        .await
}

async fn client(sim: &Simulator) -> Client {
    Client::new(&sdk_config(sim, Duration::from_secs(5)).await)
}

/// A timestamp the SDK parsed equals the model's (epoch milliseconds). The wire carries milliseconds as a decimal
/// fraction that the SDK reads through an `f64`, so it may land a hair under the millisecond, as it does with AWS.
fn assert_time(time: Option<&DateTime>, expected_millis: i64) {
    let millis = time
        .expect("timestamp present")
        .to_millis()
        .expect("timestamp in range");
    assert!(
        (millis - expected_millis).abs() <= 1,
        "{millis} is not {expected_millis} (ms since the epoch)"
    );
}

// ---- Success shapes ----

#[tokio::test]
async fn get_pipeline_returns_the_declaration() {
    let (sim, _) = start().await;
    let pipeline_created = sim.state.world().pipeline(PIPELINE).unwrap().created.timestamp_millis();
    let out = client(&sim)
        .await
        .get_pipeline()
        .name(PIPELINE)
        .send()
        .await
        .expect("GetPipeline parses");

    let pipeline = out.pipeline().expect("pipeline");
    assert_eq!(pipeline.name(), PIPELINE);
    assert_eq!(
        pipeline.role_arn(),
        format!("arn:aws:iam::{ACCOUNT}:role/demo-app-role")
    );
    assert_eq!(pipeline.version(), Some(1));
    assert_eq!(pipeline.execution_mode(), Some(&ExecutionMode::Superseded));
    assert_eq!(pipeline.pipeline_type(), Some(&PipelineType::V2));
    let store = pipeline.artifact_store().expect("artifact store");
    assert_eq!(store.r#type().as_str(), "S3");
    assert_eq!(store.location(), format!("codepipeline-us-east-1-{ACCOUNT}"));

    let stages: Vec<&str> = pipeline.stages().iter().map(|s| s.name()).collect();
    assert_eq!(stages, ["Source", "Build", "Deploy"]);
    let source = &pipeline.stages()[0].actions()[0];
    assert_eq!(source.name(), "Source");
    let type_id = source.action_type_id().expect("action type");
    assert_eq!(
        (
            type_id.category().as_str(),
            type_id.owner().as_str(),
            type_id.provider(),
            type_id.version()
        ),
        ("Source", "AWS", "CodeCommit", "1")
    );
    assert_eq!(source.run_order(), Some(1));
    let config = source.configuration().expect("configuration");
    assert_eq!(config.get("RepositoryName").map(String::as_str), Some("demo-app"));
    assert_eq!(config.get("BranchName").map(String::as_str), Some("main"));
    assert!(source.input_artifacts().is_empty());
    assert_eq!(source.output_artifacts()[0].name(), "SourceArtifact");
    let build = &pipeline.stages()[1].actions()[0];
    assert_eq!(build.input_artifacts()[0].name(), "SourceArtifact");
    assert_eq!(build.output_artifacts()[0].name(), "BuildArtifact");
    let deploy = &pipeline.stages()[2].actions()[0];
    assert_eq!(deploy.input_artifacts()[0].name(), "BuildArtifact");
    assert!(deploy.output_artifacts().is_empty());

    let metadata = out.metadata().expect("metadata");
    assert_eq!(
        metadata.pipeline_arn(),
        Some(format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:demo-app").as_str())
    );
    assert_time(metadata.created(), pipeline_created);
    assert_time(metadata.updated(), pipeline_created);

    // Asking for the current version by number answers the same pipeline.
    let versioned = client(&sim)
        .await
        .get_pipeline()
        .name(PIPELINE)
        .version(1)
        .send()
        .await
        .expect("version 1");
    assert_eq!(versioned.pipeline().and_then(|p| p.version()), Some(1));
}

#[tokio::test]
async fn get_pipeline_state_shows_the_latest_execution_per_stage() {
    let (sim, seeded) = start().await;
    let out = client(&sim)
        .await
        .get_pipeline_state()
        .name(PIPELINE)
        .send()
        .await
        .expect("GetPipelineState parses");

    assert_eq!(out.pipeline_name(), Some(PIPELINE));
    assert_eq!(out.pipeline_version(), Some(1));
    assert!(out.created().is_some() && out.updated().is_some());
    let stages = out.stage_states();
    assert_eq!(
        stages.iter().map(|s| s.stage_name().unwrap()).collect::<Vec<_>>(),
        ["Source", "Build", "Deploy"]
    );
    assert!(
        stages[0].inbound_transition_state().is_none(),
        "the first stage has no inbound transition"
    );
    assert!(stages[1].inbound_transition_state().expect("transition").enabled());

    let source = &stages[0];
    let latest = source.latest_execution().expect("stage execution");
    assert_eq!(latest.pipeline_execution_id(), seeded.failed);
    assert_eq!(latest.status(), &StageExecutionStatus::Succeeded);

    let build = &stages[1];
    let latest = build.latest_execution().expect("stage execution");
    assert_eq!(latest.pipeline_execution_id(), seeded.failed);
    assert_eq!(latest.status(), &StageExecutionStatus::Failed);
    let action = &build.action_states()[0];
    assert_eq!(action.action_name(), Some("Build"));
    let run = action.latest_execution().expect("action execution");
    let model_updated = sim.state.world().execution(&seeded.failed).unwrap().actions[1]
        .updated
        .timestamp_millis();
    assert_eq!(run.action_execution_id(), Some(seeded.failed_build_run.as_str()));
    assert_eq!(run.status(), Some(&ActionExecutionStatus::Failed));
    assert_eq!(run.summary(), Some(BUILD_SUMMARY));
    assert_eq!(run.external_execution_id(), Some("demo-app-build:42"));
    assert_eq!(run.external_execution_url(), Some(BUILD_URL));
    assert_time(run.last_status_change(), model_updated);
    let error = run.error_details().expect("error details");
    assert_eq!((error.code(), error.message()), (Some("JobFailed"), Some(BUILD_ERROR)));

    // Deploy never ran in the failed execution: it still shows the execution that passed.
    let deploy = &stages[2];
    let latest = deploy.latest_execution().expect("stage execution");
    assert_eq!(latest.pipeline_execution_id(), seeded.passed);
    assert_eq!(latest.status(), &StageExecutionStatus::Succeeded);
    let run = deploy.action_states()[0].latest_execution().expect("action execution");
    assert_eq!(run.status(), Some(&ActionExecutionStatus::Succeeded));
    assert!(run.error_details().is_none() && run.external_execution_url().is_none());
}

#[tokio::test]
async fn get_pipeline_execution_returns_revisions_and_status() {
    let (sim, seeded) = start().await;
    let started = sim
        .state
        .world()
        .execution(&seeded.failed)
        .unwrap()
        .started
        .timestamp_millis();
    let out = client(&sim)
        .await
        .get_pipeline_execution()
        .pipeline_name(PIPELINE)
        .pipeline_execution_id(&seeded.failed)
        .send()
        .await
        .expect("GetPipelineExecution parses");

    let execution = out.pipeline_execution().expect("execution");
    assert_eq!(execution.pipeline_name(), Some(PIPELINE));
    assert_eq!(execution.pipeline_version(), Some(1));
    assert_eq!(execution.pipeline_execution_id(), Some(seeded.failed.as_str()));
    assert_eq!(execution.status(), Some(&PipelineExecutionStatus::Failed));
    assert_eq!(execution.status_summary(), Some(BUILD_ERROR));
    assert_eq!(execution.execution_mode(), Some(&ExecutionMode::Superseded));
    let trigger = execution.trigger().expect("trigger");
    assert_eq!(trigger.trigger_type(), Some(&TriggerType::CloudWatchEvent));
    assert!(
        trigger
            .trigger_detail()
            .is_some_and(|d| d.starts_with("arn:aws:events:us-east-1:"))
    );

    let [revision] = execution.artifact_revisions() else {
        panic!("one artifact revision expected")
    };
    assert_eq!(revision.name(), Some("SourceArtifact"));
    assert_eq!(revision.revision_id(), Some(COMMIT));
    assert_eq!(revision.revision_summary(), Some(COMMIT_MESSAGE));
    assert!(revision.revision_url().is_some_and(|u| u.ends_with(COMMIT)));
    assert_time(revision.created(), started);
}

#[tokio::test]
async fn list_action_executions_of_one_execution_newest_first() {
    let (sim, seeded) = start().await;
    let out = client(&sim)
        .await
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .filter(
            ActionExecutionFilter::builder()
                .pipeline_execution_id(&seeded.failed)
                .build(),
        )
        .send()
        .await
        .expect("ListActionExecutions parses");

    assert!(out.next_token().is_none());
    let details = out.action_execution_details();
    let ids: Vec<&str> = details.iter().map(|d| d.action_execution_id().unwrap()).collect();
    assert_eq!(
        ids,
        [seeded.failed_build_run.as_str(), seeded.failed_source_run.as_str()]
    );

    let build = &details[0];
    let model = sim.state.world().execution(&seeded.failed).unwrap().actions[1].clone();
    assert_eq!(build.pipeline_execution_id(), Some(seeded.failed.as_str()));
    assert_eq!(build.pipeline_version(), Some(1));
    assert_eq!(
        (build.stage_name(), build.action_name()),
        (Some("Build"), Some("Build"))
    );
    assert_eq!(build.status(), Some(&ActionExecutionStatus::Failed));
    assert_time(build.start_time(), model.started.timestamp_millis());
    assert_time(build.last_update_time(), model.updated.timestamp_millis());

    let input = build.input().expect("input");
    assert_eq!(input.action_type_id().map(|t| t.provider()), Some("CodeBuild"));
    let config = input.configuration().expect("configuration");
    assert_eq!(config.get("ProjectName").map(String::as_str), Some("demo-app-build"));
    assert_eq!(input.resolved_configuration(), Some(config));
    assert_eq!(
        input.role_arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:role/demo-app-role").as_str())
    );
    assert_eq!(input.region(), Some("us-east-1"));
    assert_eq!(input.input_artifacts()[0].name(), Some("SourceArtifact"));
    let location = input.input_artifacts()[0].s3_location().expect("s3 location");
    assert!(
        location
            .bucket()
            .is_some_and(|b| b.starts_with("codepipeline-us-east-1-"))
    );

    let output = build.output().expect("output");
    assert!(
        output.output_artifacts().is_empty(),
        "a failed build produced no artifact"
    );
    let result = output.execution_result().expect("execution result");
    assert_eq!(result.external_execution_id(), Some("demo-app-build:42"));
    assert_eq!(result.external_execution_summary(), Some(BUILD_SUMMARY));
    assert_eq!(result.external_execution_url(), Some(BUILD_URL));
    let error = result.error_details().expect("error details");
    assert_eq!((error.code(), error.message()), (Some("JobFailed"), Some(BUILD_ERROR)));

    let source = &details[1];
    assert_eq!(source.status(), Some(&ActionExecutionStatus::Succeeded));
    let output = source.output().expect("output");
    assert_eq!(output.output_artifacts()[0].name(), Some("SourceArtifact"));
    let result = output.execution_result().expect("execution result");
    assert_eq!(result.external_execution_summary(), Some(COMMIT_MESSAGE));
    assert!(result.error_details().is_none() && result.external_execution_url().is_none());
}

#[tokio::test]
async fn list_action_executions_pages_through_every_run() {
    let (sim, seeded) = start().await;
    let client = client(&sim).await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_action_executions()
            .pipeline_name(PIPELINE)
            .max_results(1)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("a page parses");
        assert_eq!(
            out.action_execution_details().len(),
            1,
            "maxResults 1 gives one item a page"
        );
        seen.extend(
            out.action_execution_details()
                .iter()
                .map(|d| d.action_execution_id().unwrap().to_owned()),
        );
        match out.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    // All five runs, newest first: the failed execution's Build and Source, then the passed one's in reverse.
    let mut expected: Vec<String> = {
        let world = sim.state.world();
        let runs = |id: &String| {
            world
                .execution(id)
                .unwrap()
                .actions
                .iter()
                .rev()
                .map(|a| a.action_execution_id.clone())
        };
        runs(&seeded.failed).chain(runs(&seeded.passed)).collect()
    };
    assert_eq!(seen, expected);

    // The SDK's own paginator walks the same pages.
    let items: Vec<_> = client
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginator");
    let paged: Vec<String> = items
        .iter()
        .map(|d| d.action_execution_id().unwrap().to_owned())
        .collect();
    assert_eq!(paged, expected);

    // A newer run does not shift a page already handed out: the token points at an item, not an offset.
    let first = client
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .max_results(2)
        .send()
        .await
        .unwrap();
    let next = first.next_token().expect("more pages").to_owned();
    sim.state
        .world()
        .start_action(&seeded.failed, "Build", "Build")
        .unwrap();
    let second = client
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .max_results(2)
        .next_token(next)
        .send()
        .await
        .unwrap();
    expected.drain(..2);
    let ids: Vec<String> = second
        .action_execution_details()
        .iter()
        .map(|d| d.action_execution_id().unwrap().to_owned())
        .collect();
    assert_eq!(ids, expected[..2]);
}

#[tokio::test]
async fn list_pipeline_executions_newest_first_with_pages() {
    let (sim, seeded) = start().await;
    let client = client(&sim).await;
    let out = client
        .list_pipeline_executions()
        .pipeline_name(PIPELINE)
        .send()
        .await
        .expect("parses");
    assert!(out.next_token().is_none());
    let summaries = out.pipeline_execution_summaries();
    let ids: Vec<&str> = summaries.iter().map(|s| s.pipeline_execution_id().unwrap()).collect();
    assert_eq!(ids, [seeded.failed.as_str(), seeded.passed.as_str()]);

    let latest = &summaries[0];
    let model = sim.state.world().execution(&seeded.failed).unwrap().clone();
    assert_eq!(latest.status(), Some(&PipelineExecutionStatus::Failed));
    assert_eq!(latest.status_summary(), Some(BUILD_ERROR));
    assert_time(latest.start_time(), model.started.timestamp_millis());
    assert_time(latest.last_update_time(), model.updated.timestamp_millis());
    let [revision] = latest.source_revisions() else {
        panic!("one source revision expected")
    };
    assert_eq!(revision.action_name(), "Source");
    assert_eq!(revision.revision_id(), Some(COMMIT));
    assert_eq!(revision.revision_summary(), Some(COMMIT_MESSAGE));
    assert!(revision.revision_url().is_some_and(|u| u.ends_with(COMMIT)));
    assert_eq!(summaries[1].status(), Some(&PipelineExecutionStatus::Succeeded));
    assert!(summaries[1].status_summary().is_none());

    let first = client
        .list_pipeline_executions()
        .pipeline_name(PIPELINE)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        first.pipeline_execution_summaries()[0].pipeline_execution_id(),
        Some(seeded.failed.as_str())
    );
    let token = first.next_token().expect("a second page");
    let second = client
        .list_pipeline_executions()
        .pipeline_name(PIPELINE)
        .max_results(1)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        second.pipeline_execution_summaries()[0].pipeline_execution_id(),
        Some(seeded.passed.as_str())
    );
    assert!(second.next_token().is_none());
}

// ---- Modeled errors ----

#[tokio::test]
async fn get_pipeline_errors_are_modeled() {
    let (sim, _) = start().await;
    let client = client(&sim).await;
    let err = client
        .get_pipeline()
        .name("no-such-pipeline")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_pipeline_not_found_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("no-such-pipeline")));
    let err = client
        .get_pipeline()
        .name(PIPELINE)
        .version(7)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_pipeline_version_not_found_exception(), "{err:?}");
    let err = client
        .get_pipeline()
        .name("bad name!")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    let err = client.get_pipeline().send().await.unwrap_err().into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(
        err.message().is_some_and(|m| m.contains("'name'")),
        "names the missing member: {err:?}"
    );
}

#[tokio::test]
async fn get_pipeline_state_errors_are_modeled() {
    let (sim, _) = start().await;
    let client = client(&sim).await;
    let err = client
        .get_pipeline_state()
        .name("no-such-pipeline")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_pipeline_not_found_exception(), "{err:?}");
    let err = client
        .get_pipeline_state()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
}

#[tokio::test]
async fn get_pipeline_execution_errors_are_modeled() {
    let (sim, seeded) = start().await;
    let client = client(&sim).await;
    let call = |pipeline: &str, id: &str| {
        client
            .get_pipeline_execution()
            .pipeline_name(pipeline)
            .pipeline_execution_id(id)
            .send()
    };
    let err = call("no-such-pipeline", &seeded.failed)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_pipeline_not_found_exception(), "{err:?}");
    let err = call(PIPELINE, UNKNOWN_EXECUTION)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_pipeline_execution_not_found_exception(), "{err:?}");
    let err = call(PIPELINE, "exec-1").await.unwrap_err().into_service_error();
    assert!(err.is_validation_exception(), "not a UUID: {err:?}");
    let err = client
        .get_pipeline_execution()
        .pipeline_name(PIPELINE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(
        err.message().is_some_and(|m| m.contains("'pipelineExecutionId'")),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_action_executions_errors_are_modeled() {
    let (sim, seeded) = start().await;
    let client = client(&sim).await;
    let filter = |id: &str| ActionExecutionFilter::builder().pipeline_execution_id(id).build();
    let err = client
        .list_action_executions()
        .pipeline_name("no-such-pipeline")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_pipeline_not_found_exception(), "{err:?}");
    let err = client
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .filter(filter(UNKNOWN_EXECUTION))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_pipeline_execution_not_found_exception(), "{err:?}");
    let err = client
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_next_token_exception(), "{err:?}");

    // A token issued for another query is not valid for this one.
    let other = client
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .filter(filter(&seeded.failed))
        .max_results(1)
        .send()
        .await
        .unwrap();
    let err = client
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .next_token(other.next_token().expect("a second page"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_next_token_exception(), "{err:?}");

    let err = client
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .max_results(0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    let err = client
        .list_action_executions()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
}

#[tokio::test]
async fn list_pipeline_executions_errors_are_modeled() {
    let (sim, _) = start().await;
    let client = client(&sim).await;
    let err = client
        .list_pipeline_executions()
        .pipeline_name("no-such-pipeline")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_pipeline_not_found_exception(), "{err:?}");
    let err = client
        .list_pipeline_executions()
        .pipeline_name(PIPELINE)
        .next_token("00")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_next_token_exception(), "{err:?}");
    let err = client
        .list_pipeline_executions()
        .pipeline_name(PIPELINE)
        .max_results(101)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
}

#[tokio::test]
async fn unimplemented_operations_answer_validation_exception() {
    let (sim, _) = start().await;
    let err = client(&sim)
        .await
        .list_pipelines()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("ListPipelines")), "{err:?}");
}

// ---- Secrets Manager ----

#[tokio::test]
async fn secrets_manager_get_secret_value() {
    let (sim, _) = start().await;
    let arn = sim
        .state
        .world()
        .put_secret("hooks/slack-webhook", "https://hooks.slack.com/services/T0/B0/x");
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config(&sim, Duration::from_secs(5)).await);

    let out = client
        .get_secret_value()
        .secret_id("hooks/slack-webhook")
        .send()
        .await
        .expect("parses");
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some("hooks/slack-webhook"));
    assert_eq!(out.secret_string(), Some("https://hooks.slack.com/services/T0/B0/x"));
    assert_eq!(out.version_stages(), ["AWSCURRENT"]);
    let by_arn = client.get_secret_value().secret_id(&arn).send().await.expect("by ARN");
    assert_eq!(by_arn.name(), Some("hooks/slack-webhook"));

    let err = client
        .get_secret_value()
        .secret_id("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

// ---- Faults ----

#[tokio::test]
async fn throttling_is_retried_by_the_sdk() {
    let (sim, seeded) = start().await;
    sim.state.faults.inject(
        Fault::new(Service::CodePipeline, FaultKind::Throttle)
            .on("GetPipelineExecution")
            .times(1),
    );
    let out = client(&sim)
        .await
        .get_pipeline_execution()
        .pipeline_name(PIPELINE)
        .pipeline_execution_id(&seeded.failed)
        .send()
        .await
        .expect("the retry succeeds");
    assert_eq!(
        out.pipeline_execution().and_then(|e| e.pipeline_execution_id()),
        Some(seeded.failed.as_str())
    );
    assert_eq!(sim.state.call_count(Service::CodePipeline, "GetPipelineExecution"), 2);
}

#[tokio::test]
async fn server_errors_beyond_max_attempts_fail_the_call() {
    let (sim, _) = start().await;
    sim.state.faults.inject(
        Fault::new(Service::CodePipeline, FaultKind::ServerError)
            .on("GetPipeline")
            .times(10),
    );
    let err = client(&sim)
        .await
        .get_pipeline()
        .name(PIPELINE)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::ServiceError(_)), "{err:?}");
    assert_eq!(err.code(), Some("InternalFailure"));
    assert_eq!(
        sim.state.call_count(Service::CodePipeline, "GetPipeline"),
        3,
        "max attempts, then give up"
    );
    // Other operations are untouched by a fault aimed at one.
    let state = client(&sim).await.get_pipeline_state().name(PIPELINE).send().await;
    assert!(state.is_ok(), "{state:?}");
}

#[tokio::test]
async fn slow_answers_hit_the_operation_timeout() {
    let (sim, _) = start().await;
    sim.state.faults.inject(
        Fault::new(Service::CodePipeline, FaultKind::Delay(Duration::from_secs(3)))
            .on("GetPipelineState")
            .times(1),
    );
    let client = Client::new(&sdk_config(&sim, Duration::from_millis(300)).await);
    let started = Instant::now();
    let err = client.get_pipeline_state().name(PIPELINE).send().await.unwrap_err();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up at the timeout, not after the delay"
    );
}

// ---- Jobs and approvals ----

const GATED: &str = "gated-app";
const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:gated-app-approvals";
const CUSTOM_DATA: &str = r#"{"alarms": ["checkout-5xx"], "bakeMinutes": 10}"#;
const UNKNOWN_ID: &str = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee";

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
        .start_execution(GATED, vec![revision(COMMIT, COMMIT_MESSAGE)])
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
    let (sim, _) = start().await;
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
