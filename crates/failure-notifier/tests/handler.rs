//! The handler called directly: SDK calls answered by aws-smithy-mocks, Slack by the simulator's sink.

use std::time::{Duration, Instant};

use aws_sdk_codepipeline::operation::get_pipeline_execution::GetPipelineExecutionOutput;
use aws_sdk_codepipeline::operation::list_action_executions::ListActionExecutionsOutput;
use aws_sdk_codepipeline::types::{ArtifactRevision, PipelineExecution};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use failure_notifier::routing::SlackRoutes;
use failure_notifier::{Notifier, Outcome};
use hooks_common::secrets::WebhookStore;
use hooks_common::settings::Env;
use hooks_common::slack::{RetryPolicy, SlackClient};
use pipeline_sim::Simulator;
use serde_json::{Value, json};

fn event(detail_type: &str) -> Value {
    json!({
        "version": "0", "id": "e-1", "detail-type": detail_type, "source": "aws.codepipeline",
        "account": "123456789012", "time": "2026-11-22T03:31:47Z", "region": "eu-west-1", "resources": [],
        "detail": {"pipeline": "shop", "version": 2.0, "execution-id": "11111111-2222-4333-8444-555555555555",
                   "stage": "Build", "action": "Unit", "state": "FAILED",
                   "type": {"owner": "AWS", "category": "Build", "provider": "CodeBuild", "version": "1"},
                   "execution-result": {"error-code": "JobFailed", "external-execution-summary": "Build failed"}}
    })
}

async fn notifier(sim: &Simulator) -> (Notifier, aws_smithy_mocks::Rule, aws_smithy_mocks::Rule) {
    let url = sim.slack_webhook_url("T1/B1/shop");
    let secret = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .then_output(move || GetSecretValueOutput::builder().secret_string(url.clone()).build());
    let execution = mock!(aws_sdk_codepipeline::Client::get_pipeline_execution).then_output(|| {
        GetPipelineExecutionOutput::builder()
            .pipeline_execution(
                PipelineExecution::builder()
                    .artifact_revisions(
                        ArtifactRevision::builder()
                            .revision_id("c0ffee0c0ffee0c0ffee")
                            .revision_summary("Fix cart")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let runs = mock!(aws_sdk_codepipeline::Client::list_action_executions)
        .then_output(|| ListActionExecutionsOutput::builder().build());
    let publish = mock!(aws_sdk_sns::Client::publish).then_output(|| unreachable!("no route names a topic"));
    let notifier = Notifier::new(
        mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, [&execution, &runs]),
        hooks_common::notice::Notifier::new(
            WebhookStore::new(
                mock_client!(aws_sdk_secretsmanager, [&secret]),
                &Env::from_pairs(&[("SLACK_ALLOW_LOOPBACK_HTTP", "true")]),
            )
            .unwrap(),
            SlackClient::new(RetryPolicy::default()).unwrap(),
            mock_client!(aws_sdk_sns, [&publish]),
        ),
        SlackRoutes::from_env(&Env::from_pairs(&[("SLACK_WEBHOOK_SECRET_ID", "slack/default")])).unwrap(),
    );
    (notifier, secret, execution)
}

#[tokio::test]
async fn notifies_once_and_ignores_the_other_levels() {
    let sim = Simulator::start().await.unwrap();
    let (notifier, secret, execution) = notifier(&sim).await;
    let deadline = Instant::now() + Duration::from_secs(30);

    let outcome = notifier
        .handle(&event("CodePipeline Action Execution State Change"), deadline)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Notified { attempts: 1, .. }), "{outcome:?}");
    for level in [
        "CodePipeline Stage Execution State Change",
        "CodePipeline Pipeline Execution State Change",
    ] {
        assert!(matches!(
            notifier.handle(&event(level), deadline).await.unwrap(),
            Outcome::Ignored { .. }
        ));
    }
    let again = notifier
        .handle(&event("CodePipeline Action Execution State Change"), deadline)
        .await
        .unwrap();
    assert!(matches!(again, Outcome::Duplicate { .. }), "{again:?}");

    let messages = sim.state.slack.messages_for("T1/B1/shop");
    assert_eq!(messages.len(), 1);
    let text = messages[0].body["text"].as_str().unwrap();
    assert!(
        text.contains("shop failed at Build › Unit (JobFailed): Build failed. Revision c0ffee0 \"Fix cart\""),
        "{text}"
    );
    // The duplicate key needs the action execution id that enrichment reads: a duplicate costs those reads
    // (the execution read twice), never a second message or a second secret read.
    assert_eq!((secret.num_calls(), execution.num_calls()), (1, 2));
}

#[tokio::test]
async fn a_passed_deadline_fails_instead_of_hanging() {
    let sim = Simulator::start().await.unwrap();
    let (notifier, _, execution) = notifier(&sim).await;
    let err = notifier
        .handle(&event("CodePipeline Action Execution State Change"), Instant::now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("deadline"), "{err}");
    assert_eq!(execution.num_calls(), 0, "no time was spent on enrichment");
    assert!(sim.state.slack.messages().is_empty());
}
