//! Contract tests: the real AWS SDK, pointed at the simulator, parses every answer and returns every error as the
//! operation's modeled variant. If these pass, code that works against the simulator speaks AWS's wire format.

use std::time::{Duration, Instant};

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codepipeline::types::{
    ActionExecutionFilter, ActionExecutionStatus, ExecutionMode, PipelineExecutionStatus, PipelineType,
    StageExecutionStatus, TriggerType,
};
use pipeline_sim::model::{ActionDecl, ActionType, ArtifactRevision, ExecutionResult, Pipeline, StageDecl, Status};
use pipeline_sim::{ACCOUNT, Fault, FaultKind, Service, Simulator};

mod support;
use support::{assert_time, sdk_config};

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

async fn client(sim: &Simulator) -> Client {
    Client::new(&sdk_config(sim, Duration::from_secs(5)).await)
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
        .list_webhooks()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("ListWebhooks")), "{err:?}");
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
