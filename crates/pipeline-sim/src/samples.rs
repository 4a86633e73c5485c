//! The sample pipeline and releases the demo plays and the end-to-end tests reuse.

use crate::model::{ActionDecl, ActionType, ArtifactRevision, ExecutionResult, Pipeline, StageDecl};
use crate::scenario::Release;

pub const PIPELINE: &str = "demo-app";
pub const SLACK_SECRET: &str = "codepipeline-hooks/slack/default";

/// Source (CodeStar connection to GitHub) → Build (CodeBuild) → Deploy (CodeDeploy).
pub fn pipeline() -> Pipeline {
    Pipeline::new(
        PIPELINE,
        vec![
            StageDecl::single(
                "Source",
                ActionDecl::new("Checkout", ActionType::aws("Source", "CodeStarSourceConnection"))
                    .with_config("FullRepositoryId", "acme/demo-app")
                    .with_config("BranchName", "main"),
            ),
            StageDecl::single(
                "Build",
                ActionDecl::new("Compile", ActionType::aws("Build", "CodeBuild"))
                    .with_config("ProjectName", "demo-app-build"),
            ),
            StageDecl::single(
                "Deploy",
                ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy"))
                    .with_config("ApplicationName", "demo-app"),
            ),
        ],
    )
}

/// A GitHub revision as a CodeStar connection reports it (the summary is a JSON document).
pub fn revision(commit: &str, message: &str) -> ArtifactRevision {
    ArtifactRevision {
        name: "SourceArtifact".into(),
        revision_id: commit.into(),
        revision_summary: Some(serde_json::json!({"ProviderType": "GitHub", "CommitMessage": message}).to_string()),
        revision_url: Some(format!("https://github.com/acme/demo-app/commit/{commit}")),
    }
}

pub fn good_release() -> Release {
    Release::new(
        PIPELINE,
        revision("9b2e4c1d0a7f3e5b6c8d9e0f1a2b3c4d5e6f7a8b", "Add order history page"),
    )
}

/// A release whose CodeBuild build fails its unit tests.
pub fn failing_build_release() -> Release {
    let build_id = "demo-app-build:6a1f0c2e-4b8d-4e6a-9c3f-1d2e3f4a5b6c";
    Release::new(PIPELINE, revision("4f9c2a1b7d3e5f60718293a4b5c6d7e8f9012345", "Speed up checkout by caching prices"))
        .failing(
            "Build",
            "Compile",
            ExecutionResult {
                external_execution_id: Some(build_id.into()),
                external_execution_summary: Some("Build terminated with state: FAILED".into()),
                external_execution_url: Some(format!(
                    "https://console.aws.amazon.com/codesuite/codebuild/projects/demo-app-build/build/{build_id}/?region=us-east-1"
                )),
                error: Some((
                    "JobFailed".into(),
                    "Error while executing command: cargo test --locked. Reason: exit status 101 (3 tests failed in checkout::pricing)".into(),
                )),
            },
        )
}

/// The function name Lambda Invoke actions of the tested pipelines call: the post-deploy test runner.
pub const RUNNER_FUNCTION: &str = "post-deploy-test-runner";
/// The stage and action that test the deployed segment in [`tested_pipeline`].
pub const TEST_STAGE: &str = "Test";
pub const TEST_ACTION: &str = "SmokeTests";

/// Source → Deploy (the canary segment) → Test (a Lambda Invoke action calling the post-deploy test runner with
/// `user_parameters`) → Production. The Invoke action times out after `job_timeout` if never reported.
pub fn tested_pipeline(name: &str, user_parameters: &str, job_timeout: std::time::Duration) -> Pipeline {
    Pipeline::new(
        name,
        vec![
            StageDecl::single(
                "Source",
                ActionDecl::new("Checkout", ActionType::aws("Source", "CodeStarSourceConnection"))
                    .with_config("FullRepositoryId", &format!("acme/{name}"))
                    .with_config("BranchName", "main"),
            ),
            StageDecl::single(
                "Deploy",
                ActionDecl::new("Canary", ActionType::aws("Deploy", "CodeDeploy")).with_config("ApplicationName", name),
            ),
            StageDecl::single(
                TEST_STAGE,
                ActionDecl::new(TEST_ACTION, ActionType::lambda_invoke())
                    .with_config("FunctionName", RUNNER_FUNCTION)
                    .with_config("UserParameters", user_parameters)
                    .with_timeout(job_timeout),
            ),
            StageDecl::single(
                "Production",
                ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy")).with_config("ApplicationName", name),
            ),
        ],
    )
}

/// A release of a [`tested_pipeline`].
pub fn tested_release(pipeline: &str) -> Release {
    Release::new(
        pipeline,
        revision(
            "7e3f1a2b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f",
            "Show delivery dates at checkout",
        ),
    )
}
