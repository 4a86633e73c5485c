use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::operation::get_pipeline::GetPipelineOutput;
use aws_sdk_codepipeline::operation::get_pipeline_state::GetPipelineStateOutput;
use aws_sdk_codepipeline::operation::put_approval_result::{PutApprovalResultError, PutApprovalResultOutput};
use aws_sdk_codepipeline::primitives::DateTime as AwsTime;
use aws_sdk_codepipeline::types::error::{InvalidApprovalTokenException, ValidationException};
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionDeclaration, ActionExecution, ActionExecutionStatus, ActionOwner, ActionState, ActionTypeId,
    ApprovalStatus, PipelineDeclaration, StageDeclaration, StageState,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::*;
use std::future::Future;
use std::time::Instant;

use crate::gate::Decision;

/// A gate from a closure, so each test says its decision in one line.
struct FnGate<F>(F);

impl<F, Fut> Gate for FnGate<F>
where
    F: Fn(ApprovalRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Decision> + Send,
{
    type Notice = ();

    async fn decide(&self, request: &ApprovalRequest, _deadline: Instant) -> Ruling<()> {
        (self.0)(request.clone()).await.into()
    }
}

/// One invocation of a gate deciding with `decide`, with a minute to go.
async fn handle<F, Fut>(
    desk: &ApprovalDesk,
    settings: &GateSettings,
    event: &Value,
    decide: F,
) -> Result<Vec<Handled>, Error>
where
    F: Fn(ApprovalRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Decision> + Send,
{
    GateFunction::new(desk.clone(), settings.clone(), FnGate(decide))
        .handle(event, Instant::now() + std::time::Duration::from_secs(60))
        .await
}

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:auto-approver";

fn settings() -> GateSettings {
    GateSettings {
        topic_arn: TOPIC.into(),
        pipelines: vec!["demo-app".into()],
        sweep_interval: Duration::minutes(5),
    }
}

fn sns(token: &str, expires: chrono::DateTime<Utc>) -> Value {
    let message = json!({"region": "us-east-1", "approval": {"pipelineName": "demo-app", "stageName": "Bake",
        "actionName": "Health", "token": token, "expires": expires.format("%Y-%m-%dT%H:%MZ").to_string()}});
    json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:sub",
        "Sns": {"Type": "Notification", "MessageId": "m", "TopicArn": TOPIC, "Subject": "APPROVAL NEEDED",
                "Message": message.to_string(), "Timestamp": "2026-11-22T03:10:00.000Z", "SignatureVersion": "1",
                "Signature": "s", "SigningCertUrl": "https://c", "UnsubscribeUrl": "https://u", "MessageAttributes": {}}}]})
}

fn state_with(pending_token: Option<&'static str>) -> Rule {
    state_of("Health", pending_token)
}

/// `GetPipelineState` showing Bake/`action`'s latest run, pending with the token or succeeded.
fn state_of(action: &'static str, pending_token: Option<&'static str>) -> Rule {
    mock!(Client::get_pipeline_state).then_output(move || {
        let mut execution = ActionExecution::builder()
            .last_status_change(AwsTime::from_secs(Utc::now().timestamp() - 600))
            .status(if pending_token.is_some() {
                ActionExecutionStatus::InProgress
            } else {
                ActionExecutionStatus::Succeeded
            });
        if let Some(token) = pending_token {
            execution = execution.token(token);
        }
        GetPipelineStateOutput::builder()
            .stage_states(
                StageState::builder()
                    .stage_name("Bake")
                    .action_states(
                        ActionState::builder()
                            .action_name(action)
                            .latest_execution(execution.build())
                            .build(),
                    )
                    .build(),
            )
            .build()
    })
}

/// `demo-app` declaring Bake/Health (a Manual approval on the gate's topic, with CustomData and the given
/// timeout) and Bake/Someone-elses (on another topic).
fn declared(timeout_minutes: Option<i32>) -> Rule {
    let action = move |name: &str, topic: &str| {
        ActionDeclaration::builder()
            .name(name)
            .action_type_id(
                ActionTypeId::builder()
                    .category(ActionCategory::Approval)
                    .owner(ActionOwner::Aws)
                    .provider("Manual")
                    .version("1")
                    .build()
                    .unwrap(),
            )
            .configuration("NotificationArn", topic)
            .configuration("CustomData", "{\"bake_minutes\": 30}")
            .set_timeout_in_minutes(timeout_minutes)
            .build()
            .unwrap()
    };
    mock!(Client::get_pipeline).then_output(move || {
        GetPipelineOutput::builder()
            .pipeline(
                PipelineDeclaration::builder()
                    .name("demo-app")
                    .role_arn("arn:role")
                    .stages(
                        StageDeclaration::builder()
                            .name("Bake")
                            .actions(action("Health", TOPIC))
                            .actions(action("Someone-elses", "arn:aws:sns:us-east-1:123456789012:other"))
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    })
}

fn put_ok() -> Rule {
    mock!(Client::put_approval_result).then_output(|| PutApprovalResultOutput::builder().build())
}

fn approve(_: ApprovalRequest) -> std::future::Ready<Decision> {
    std::future::ready(Decision::Approve {
        summary: "all 3 alarms OK for 30 min".into(),
    })
}

#[tokio::test]
async fn a_pending_approval_is_answered_with_the_reason() {
    let state = state_with(Some("tok-1"));
    let put = mock!(Client::put_approval_result)
        .match_requests(|r| {
            r.token() == Some("tok-1")
                && r.result().map(|res| (res.status().clone(), res.summary().to_owned()))
                    == Some((ApprovalStatus::Approved, "all 3 alarms OK for 30 min".to_owned()))
        })
        .then_output(|| PutApprovalResultOutput::builder().build());
    let desk = ApprovalDesk::new(mock_client!(
        aws_sdk_codepipeline,
        RuleMode::MatchAny,
        [&declared(None), &state, &put]
    ));
    let handled = handle(
        &desk,
        &settings(),
        &sns("tok-1", Utc::now() + Duration::days(7)),
        approve,
    )
    .await
    .unwrap();
    assert_eq!(handled[0].outcome, Outcome::Approved);
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn a_duplicate_delivery_or_a_persons_answer_sends_nothing() {
    for pending in [None, Some("a-newer-token")] {
        let state = state_with(pending);
        let put = put_ok();
        let desk = ApprovalDesk::new(mock_client!(
            aws_sdk_codepipeline,
            RuleMode::MatchAny,
            [&declared(None), &state, &put]
        ));
        let handled = handle(
            &desk,
            &settings(),
            &sns("tok-1", Utc::now() + Duration::days(7)),
            approve,
        )
        .await
        .unwrap();
        assert_eq!(handled[0].outcome, Outcome::AlreadyDecided);
        assert_eq!(put.num_calls(), 0);
    }
}

#[tokio::test]
async fn a_race_lost_to_a_person_is_done_not_an_error() {
    let state = state_with(Some("tok-1"));
    let put = mock!(Client::put_approval_result).then_error(|| {
        PutApprovalResultError::InvalidApprovalTokenException(
            InvalidApprovalTokenException::builder().message("used").build(),
        )
    });
    let desk = ApprovalDesk::new(mock_client!(
        aws_sdk_codepipeline,
        RuleMode::MatchAny,
        [&declared(None), &state, &put]
    ));
    let handled = handle(
        &desk,
        &settings(),
        &sns("tok-1", Utc::now() + Duration::days(7)),
        approve,
    )
    .await
    .unwrap();
    assert_eq!(handled[0].outcome, Outcome::AlreadyDecided);
}

#[tokio::test]
async fn other_api_errors_fail_the_invocation() {
    let state = state_with(Some("tok-1"));
    let put = mock!(Client::put_approval_result).then_error(|| {
        PutApprovalResultError::ValidationException(ValidationException::builder().message("bad").build())
    });
    let desk = ApprovalDesk::new(mock_client!(
        aws_sdk_codepipeline,
        RuleMode::MatchAny,
        [&declared(None), &state, &put]
    ));
    let err = handle(
        &desk,
        &settings(),
        &sns("tok-1", Utc::now() + Duration::days(7)),
        approve,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "AwsCallFailed");
    assert!(
        err.to_string().contains("PutApprovalResult for demo-app/Bake/Health"),
        "{err}"
    );
}

#[tokio::test]
async fn hold_sends_nothing_until_the_last_look_before_expiry() {
    let hold = |_: ApprovalRequest| {
        std::future::ready(Decision::Hold {
            reason: "bake 10/30 min".into(),
            recheck_after: Utc::now() + Duration::minutes(20),
        })
    };
    // The approval started waiting 10 minutes ago: the declared timeout decides when it expires (the
    // notification's own `expires` is not trusted).
    for (timeout, expected, puts) in [(None, Outcome::Held, 0), (Some(14), Outcome::Rejected, 1)] {
        let state = state_with(Some("tok-1"));
        let put = mock!(Client::put_approval_result)
            .match_requests(|r| r.result().is_some_and(|res| res.status() == &ApprovalStatus::Rejected))
            .then_output(|| PutApprovalResultOutput::builder().build());
        let desk = ApprovalDesk::new(mock_client!(
            aws_sdk_codepipeline,
            RuleMode::MatchAny,
            [&declared(timeout), &state, &put]
        ));
        let handled = handle(&desk, &settings(), &sns("tok-1", Utc::now() + Duration::days(7)), hold)
            .await
            .unwrap();
        assert_eq!(handled[0].outcome, expected);
        assert_eq!(put.num_calls(), puts);
    }
}

#[tokio::test]
async fn the_sweep_answers_only_the_approvals_on_the_gates_topic() {
    let pipeline = declared(None);
    let state = state_with(Some("tok-9"));
    let put = mock!(Client::put_approval_result)
        .match_requests(|r| r.action_name() == Some("Health") && r.token() == Some("tok-9"))
        .then_output(|| PutApprovalResultOutput::builder().build());
    let desk = ApprovalDesk::new(mock_client!(
        aws_sdk_codepipeline,
        RuleMode::MatchAny,
        [&pipeline, &state, &put]
    ));
    let sweep = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
    let seen = std::sync::Mutex::new(Vec::new());
    let handled = handle(&desk, &settings(), &sweep, |request: ApprovalRequest| {
        seen.lock()
            .unwrap()
            .push((request.custom_data.clone(), request.expires));
        std::future::ready(Decision::Approve { summary: "ok".into() })
    })
    .await
    .unwrap();
    assert_eq!(handled.len(), 1);
    assert_eq!(put.num_calls(), 1);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0.as_deref(), Some("{\"bake_minutes\": 30}"));
    let expected_expiry = Utc::now() - Duration::minutes(10) + Duration::days(7);
    assert!(
        (seen[0].1 - expected_expiry).num_seconds().abs() < 5,
        "expiry = start + default timeout"
    );
}

#[tokio::test]
async fn malformed_events_fail_before_any_call() {
    let state = state_with(Some("tok-1"));
    let put = put_ok();
    let desk = ApprovalDesk::new(mock_client!(
        aws_sdk_codepipeline,
        RuleMode::MatchAny,
        [&declared(None), &state, &put]
    ));
    let err = handle(&desk, &settings(), &json!({"what": "is this"}), approve)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "MalformedEvent");
    assert_eq!(state.num_calls() + put.num_calls(), 0);
}

#[test]
fn settings_from_env() {
    let env = Env::from_pairs(&[
        ("GATE_TOPIC_ARN", TOPIC),
        ("GATE_PIPELINES", "a, b,,c"),
        ("SWEEP_INTERVAL_MINUTES", "10"),
    ]);
    let parsed = GateSettings::from_env(&env).unwrap();
    assert_eq!(parsed.pipelines, ["a", "b", "c"]);
    assert_eq!(parsed.sweep_interval, Duration::minutes(10));
    let bad = Env::from_pairs(&[("GATE_TOPIC_ARN", TOPIC), ("SWEEP_INTERVAL_MINUTES", "0")]);
    assert!(
        GateSettings::from_env(&bad)
            .unwrap_err()
            .to_string()
            .contains("SWEEP_INTERVAL_MINUTES")
    );
    assert!(
        GateSettings::from_env(&Env::from_pairs(&[]))
            .unwrap_err()
            .to_string()
            .contains("GATE_TOPIC_ARN")
    );
}

#[tokio::test]
async fn a_notification_is_decided_on_the_declared_action_not_on_the_message() {
    // The message claims other rules; the gate decides with the declaration's CustomData.
    let state = state_with(Some("tok-1"));
    let put = put_ok();
    let desk = ApprovalDesk::new(mock_client!(
        aws_sdk_codepipeline,
        RuleMode::MatchAny,
        [&declared(None), &state, &put]
    ));
    let mut event = sns("tok-1", Utc::now() + Duration::days(7));
    let mut message: Value = serde_json::from_str(event["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    message["approval"]["customData"] = json!("{\"bake_minutes\": 0}");
    event["Records"][0]["Sns"]["Message"] = json!(message.to_string());
    let seen = std::sync::Mutex::new(None);
    handle(&desk, &settings(), &event, |request: ApprovalRequest| {
        *seen.lock().unwrap() = request.custom_data.clone();
        approve(request)
    })
    .await
    .unwrap();
    assert_eq!(seen.lock().unwrap().as_deref(), Some("{\"bake_minutes\": 30}"));
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn a_notification_for_an_action_on_another_topic_is_not_answered() {
    // A message naming an approval this gate does not own (a forged or misrouted notification) decides nothing.
    let message = json!({"region": "us-east-1", "approval": {"pipelineName": "demo-app", "stageName": "Bake",
        "actionName": "Someone-elses", "token": "tok-1", "expires": "2026-11-29T03:10Z"}});
    let mut event = sns("tok-1", Utc::now() + Duration::days(7));
    event["Records"][0]["Sns"]["Message"] = json!(message.to_string());
    let state = state_of("Someone-elses", Some("tok-1"));
    let put = put_ok();
    let desk = ApprovalDesk::new(mock_client!(
        aws_sdk_codepipeline,
        RuleMode::MatchAny,
        [&declared(None), &state, &put]
    ));
    let decided = std::sync::atomic::AtomicBool::new(false);
    let handled = handle(&desk, &settings(), &event, |request: ApprovalRequest| {
        decided.store(true, std::sync::atomic::Ordering::SeqCst);
        approve(request)
    })
    .await
    .unwrap();
    assert_eq!(handled[0].outcome, Outcome::AlreadyDecided);
    assert!(
        !decided.load(std::sync::atomic::Ordering::SeqCst),
        "the gate was not asked"
    );
    assert_eq!(put.num_calls(), 0);
}

#[tokio::test]
async fn a_hold_outside_the_swept_pipelines_is_rejected_with_the_reason() {
    let hold = |_: ApprovalRequest| {
        std::future::ready(Decision::Hold {
            reason: "bake 10/30 min".into(),
            recheck_after: Utc::now() + Duration::minutes(20),
        })
    };
    let state = state_with(Some("tok-1"));
    let put = mock!(Client::put_approval_result)
        .match_requests(|r| {
            r.result().is_some_and(|res| {
                res.status() == &ApprovalStatus::Rejected
                    && res
                        .summary()
                        .starts_with("the gate's sweep does not look into pipeline `demo-app`")
            })
        })
        .then_output(|| PutApprovalResultOutput::builder().build());
    let desk = ApprovalDesk::new(mock_client!(
        aws_sdk_codepipeline,
        RuleMode::MatchAny,
        [&declared(None), &state, &put]
    ));
    let unswept = GateSettings {
        pipelines: Vec::new(),
        ..settings()
    };
    let handled = handle(&desk, &unswept, &sns("tok-1", Utc::now() + Duration::days(7)), hold)
        .await
        .unwrap();
    assert_eq!(handled[0].outcome, Outcome::Rejected);
    assert_eq!(put.num_calls(), 1);
}
