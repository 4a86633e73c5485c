//! Details the event lacks: the source revision (commit id and message) from `GetPipelineExecution`, and
//! the action's error message from `ListActionExecutions`. Each part may fail on its own; the message is
//! sent either way, saying which details were unavailable.

use std::time::Duration;

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::types::ActionExecutionFilter;
use hooks_common::aws::render_sdk_error;

use crate::triage::ActionFailure;

/// A source revision as the pipeline execution recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    pub artifact: String,
    pub revision_id: String,
    pub message: Option<String>,
    pub url: Option<String>,
}

/// What `ListActionExecutions` says about the failed run of the action.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionRun {
    /// This run's id: a retried action without an external run is told apart by it.
    pub action_execution_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub external_url: Option<String>,
    pub external_summary: Option<String>,
}

/// Each part is either what CodePipeline said, or why it could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrichment {
    pub revisions: Result<Vec<Revision>, String>,
    pub action_run: Result<Option<ActionRun>, String>,
}

impl Enrichment {
    /// What to send when there was no time or no way to ask.
    pub fn unavailable(reason: &str) -> Enrichment {
        Enrichment {
            revisions: Err(reason.to_owned()),
            action_run: Err(reason.to_owned()),
        }
    }
}

/// Reads both parts concurrently, each bounded by `budget` so a slow API cannot hold the message back.
pub async fn gather(client: &Client, failure: &ActionFailure, budget: Duration) -> Enrichment {
    let bounded = |what: &'static str| move |_| format!("{what} did not answer within {budget:?}");
    let (revisions, action_run) = tokio::join!(
        tokio::time::timeout(budget, revisions(client, failure)),
        tokio::time::timeout(budget, action_run(client, failure)),
    );
    Enrichment {
        revisions: revisions.map_err(bounded("GetPipelineExecution")).and_then(|r| r),
        action_run: action_run.map_err(bounded("ListActionExecutions")).and_then(|r| r),
    }
}

async fn revisions(client: &Client, failure: &ActionFailure) -> Result<Vec<Revision>, String> {
    let output = client
        .get_pipeline_execution()
        .pipeline_name(&failure.pipeline)
        .pipeline_execution_id(&failure.execution_id)
        .send()
        .await
        .map_err(|e| render_sdk_error("GetPipelineExecution", &e))?;
    let revisions = output
        .pipeline_execution()
        .map(|execution| execution.artifact_revisions())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            Some(Revision {
                artifact: r.name().unwrap_or("source").to_owned(),
                revision_id: r.revision_id()?.to_owned(),
                message: r.revision_summary().and_then(commit_message),
                url: r.revision_url().map(str::to_owned),
            })
        })
        .collect();
    Ok(revisions)
}

/// CodeCommit puts the commit message in `revisionSummary`; CodeStar connections (GitHub, GitLab,
/// Bitbucket) put a JSON document there with a `CommitMessage` member.
pub fn commit_message(summary: &str) -> Option<String> {
    let summary = summary.trim();
    if summary.starts_with('{')
        && let Ok(document) = serde_json::from_str::<serde_json::Value>(summary)
    {
        return document
            .get("CommitMessage")
            .and_then(|m| m.as_str())
            .map(|m| m.trim().to_owned());
    }
    (!summary.is_empty()).then(|| summary.to_owned())
}

/// Pages through the execution's action runs (newest first) for the latest run of the failed action.
async fn action_run(client: &Client, failure: &ActionFailure) -> Result<Option<ActionRun>, String> {
    const MAX_PAGES: usize = 5;
    let filter = ActionExecutionFilter::builder()
        .pipeline_execution_id(&failure.execution_id)
        .build();
    let mut next_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let output = client
            .list_action_executions()
            .pipeline_name(&failure.pipeline)
            .filter(filter.clone())
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| render_sdk_error("ListActionExecutions", &e))?;
        let run = output.action_execution_details().iter().find(|d| {
            d.stage_name() == Some(failure.stage.as_str()) && d.action_name() == Some(failure.action.as_str())
        });
        if let Some(run) = run {
            let result = run.output().and_then(|o| o.execution_result());
            let error = result.and_then(|r| r.error_details());
            return Ok(Some(ActionRun {
                action_execution_id: run.action_execution_id().map(str::to_owned),
                error_code: error.and_then(|e| e.code()).map(str::to_owned),
                error_message: error.and_then(|e| e.message()).map(str::to_owned),
                external_url: result.and_then(|r| r.external_execution_url()).map(str::to_owned),
                external_summary: result.and_then(|r| r.external_execution_summary()).map(str::to_owned),
            }));
        }
        match output.next_token() {
            Some(token) => next_token = Some(token.to_owned()),
            None => return Ok(None),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_codepipeline::operation::get_pipeline_execution::{
        GetPipelineExecutionError, GetPipelineExecutionOutput,
    };
    use aws_sdk_codepipeline::operation::list_action_executions::ListActionExecutionsOutput;
    use aws_sdk_codepipeline::types::error::PipelineExecutionNotFoundException;
    use aws_sdk_codepipeline::types::{
        ActionExecutionDetail, ActionExecutionOutput, ActionExecutionResult, ArtifactRevision, ErrorDetails,
        PipelineExecution,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn failure() -> ActionFailure {
        ActionFailure {
            pipeline: "demo-app".into(),
            execution_id: "exec-1".into(),
            stage: "Build".into(),
            action: "Compile".into(),
            region: "us-east-1".into(),
            provider: Some("CodeBuild".into()),
            category: None,
            error_code: None,
            summary: None,
            external_url: None,
            external_id: None,
        }
    }

    fn run(stage: &str, action: &str, message: &str) -> ActionExecutionDetail {
        ActionExecutionDetail::builder()
            .stage_name(stage)
            .action_name(action)
            .output(
                ActionExecutionOutput::builder()
                    .execution_result(
                        ActionExecutionResult::builder()
                            .external_execution_url("https://cb/run/1")
                            .error_details(ErrorDetails::builder().code("JobFailed").message(message).build())
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    #[test]
    fn commit_messages_from_codecommit_and_codestar() {
        let cases = [
            ("Fix the build", Some("Fix the build")),
            (
                r#"{"ProviderType":"GitHub","CommitMessage":"Add checkout\n\nlong body"}"#,
                Some("Add checkout\n\nlong body"),
            ),
            (r#"{"ProviderType":"GitHub"}"#, None),
            ("   ", None),
        ];
        for (summary, expected) in cases {
            assert_eq!(commit_message(summary).as_deref(), expected, "{summary}");
        }
    }

    #[tokio::test]
    async fn finds_the_failed_run_on_a_later_page_and_the_revision() {
        let execution = mock!(Client::get_pipeline_execution)
            .match_requests(|r| r.pipeline_name() == Some("demo-app") && r.pipeline_execution_id() == Some("exec-1"))
            .then_output(|| {
                GetPipelineExecutionOutput::builder()
                    .pipeline_execution(
                        PipelineExecution::builder()
                            .artifact_revisions(
                                ArtifactRevision::builder()
                                    .name("SourceArtifact")
                                    .revision_id("0123456789abcdef")
                                    .revision_summary(r#"{"ProviderType":"GitHub","CommitMessage":"Bump deps"}"#)
                                    .revision_url("https://github.com/o/r/commit/0123456789abcdef")
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let first_page = mock!(Client::list_action_executions)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                ListActionExecutionsOutput::builder()
                    .action_execution_details(run("Source", "Checkout", "n/a"))
                    .next_token("page-2")
                    .build()
            });
        let second_page = mock!(Client::list_action_executions)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                ListActionExecutionsOutput::builder()
                    .action_execution_details(run("Build", "Compile", "3 tests failed"))
                    .build()
            });
        let client = mock_client!(
            aws_sdk_codepipeline,
            RuleMode::MatchAny,
            [&execution, &first_page, &second_page]
        );
        let enrichment = gather(&client, &failure(), Duration::from_secs(5)).await;
        let revisions = enrichment.revisions.unwrap();
        assert_eq!(revisions[0].revision_id, "0123456789abcdef");
        assert_eq!(revisions[0].message.as_deref(), Some("Bump deps"));
        let run = enrichment.action_run.unwrap().unwrap();
        assert_eq!(run.error_message.as_deref(), Some("3 tests failed"));
        assert_eq!(run.external_url.as_deref(), Some("https://cb/run/1"));
        assert_eq!((first_page.num_calls(), second_page.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn one_part_failing_keeps_the_other() {
        let execution = mock!(Client::get_pipeline_execution).then_error(|| {
            GetPipelineExecutionError::PipelineExecutionNotFoundException(
                PipelineExecutionNotFoundException::builder().message("gone").build(),
            )
        });
        let runs = mock!(Client::list_action_executions).then_output(|| {
            ListActionExecutionsOutput::builder()
                .action_execution_details(run("Build", "Compile", "boom"))
                .build()
        });
        let client = mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, [&execution, &runs]);
        let enrichment = gather(&client, &failure(), Duration::from_secs(5)).await;
        let err = enrichment.revisions.unwrap_err();
        assert!(err.contains("PipelineExecutionNotFoundException"), "{err}");
        assert_eq!(
            enrichment.action_run.unwrap().unwrap().error_message.as_deref(),
            Some("boom")
        );
    }
}
