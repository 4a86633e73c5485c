//! The handler called directly, every SDK call answered by aws-smithy-mocks.

use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
use aws_sdk_codepipeline::operation::disable_stage_transition::DisableStageTransitionOutput;
use aws_sdk_codepipeline::operation::enable_stage_transition::EnableStageTransitionOutput;
use aws_sdk_codepipeline::operation::get_pipeline_state::GetPipelineStateOutput;
use aws_sdk_codepipeline::types::{StageState, StageTransitionType, TransitionState};
use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use hooks_common::notice::Notifier;
use hooks_common::secrets::WebhookStore;
use hooks_common::settings::Env;
use hooks_common::slack::{RetryPolicy, SlackClient};
use serde_json::{Value, json};
use transition_disabler::TransitionDisabler;
use transition_disabler::handler::Action;
use transition_disabler::settings::Settings;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:transitions";
const US: &str = "arn:aws:sts::123456789012:assumed-role/TransitionDisablerRole/transition-disabler";

fn alarm_event(name: &str) -> Value {
    json!({
        "version": "0", "id": "e-1", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
        "account": "123456789012", "time": "2026-12-02T06:25:17Z", "region": "us-east-1",
        "resources": [format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")],
        "detail": {"alarmName": name, "state": {"value": "ALARM", "reason": "r", "timestamp": "2026-12-02T06:25:17.000+0000"},
                   "previousState": {"value": "OK", "reason": "r", "timestamp": "2026-12-01T06:25:17.000+0000"}}
    })
}

fn schedule() -> Value {
    json!({"version": "0", "id": "s-1", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "123456789012", "time": "2026-12-02T06:25:17Z", "region": "us-east-1", "resources": [], "detail": {}})
}

fn state(transition: TransitionState) -> GetPipelineStateOutput {
    GetPipelineStateOutput::builder()
        .pipeline_name("shop")
        .stage_states(StageState::builder().stage_name("Source").build())
        .stage_states(
            StageState::builder()
                .stage_name("Production")
                .inbound_transition_state(transition)
                .build(),
        )
        .build()
}

fn alarms(state: StateValue, minutes_ago: i64) -> DescribeAlarmsOutput {
    let since = chrono::Utc::now().timestamp() - minutes_ago * 60;
    DescribeAlarmsOutput::builder()
        .metric_alarms(
            MetricAlarm::builder()
                .alarm_name("shop-canary-production")
                .state_value(state)
                .state_reason("Threshold Crossed")
                .state_transitioned_timestamp(AwsTime::from_secs(since))
                .build(),
        )
        .build()
}

fn disabler(pipelines: &[&Rule], cloudwatch: &[&Rule], sns: &[&Rule]) -> TransitionDisabler {
    let env = Env::from_pairs(&[
        (
            "GUARDS",
            r#"[{"pipeline": "shop", "stage": "Production", "alarms": ["shop-canary-production"], "cooldown_minutes": 10}]"#,
        ),
        ("NOTICE_SNS_TOPIC_ARN", TOPIC),
        ("AWS_LAMBDA_FUNCTION_NAME", "transition-disabler"),
    ]);
    let secrets = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_output(|| unreachable!());
    TransitionDisabler::new(
        mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, pipelines),
        mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, cloudwatch),
        Notifier::new(
            WebhookStore::new(mock_client!(aws_sdk_secretsmanager, [&secrets]), &env).unwrap(),
            SlackClient::new(RetryPolicy::default()).unwrap(),
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, sns),
        ),
        Settings::from_env(&env).unwrap(),
        "us-east-1".into(),
    )
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

fn enabled() -> TransitionState {
    TransitionState::builder().enabled(true).build()
}

fn closed_by_us(minutes_ago: i64) -> TransitionState {
    TransitionState::builder()
        .enabled(false)
        .last_changed_by(US)
        .last_changed_at(AwsTime::from_secs(chrono::Utc::now().timestamp() - minutes_ago * 60))
        .disabled_reason(transition_disabler::reason::closing(
            "shop-canary-production",
            "ALARM",
            chrono::Utc::now(),
            Duration::from_secs(600),
        ))
        .build()
}

#[tokio::test]
async fn an_alarm_closes_the_transition_with_one_notice() {
    let get = mock!(aws_sdk_codepipeline::Client::get_pipeline_state).then_output(|| state(enabled()));
    let disable = mock!(aws_sdk_codepipeline::Client::disable_stage_transition)
        .match_requests(|r| {
            r.pipeline_name() == Some("shop")
                && r.stage_name() == Some("Production")
                && r.transition_type() == Some(&StageTransitionType::Inbound)
                && r.reason()
                    .is_some_and(|reason| reason.contains("alarm shop-canary-production"))
        })
        .then_output(|| DisableStageTransitionOutput::builder().build());
    let describe = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|r| r.alarm_names() == ["shop-canary-production".to_owned()])
        .then_output(|| alarms(StateValue::Alarm, 1));
    let publish = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| r.topic_arn() == Some(TOPIC) && r.subject().is_some_and(|s| s.contains("closed")))
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let disabler = disabler(&[&get, &disable], &[&describe], &[&publish]);

    let report = disabler
        .handle(&alarm_event("shop-canary-production"), soon())
        .await
        .unwrap();
    assert_eq!(report.guards.len(), 1);
    assert_eq!(report.guards[0].action, Action::Closed, "{report:?}");
    assert_eq!((disable.num_calls(), publish.num_calls()), (1, 1));
}

#[tokio::test]
async fn an_alarm_no_guard_watches_reads_nothing() {
    let get = mock!(aws_sdk_codepipeline::Client::get_pipeline_state).then_output(|| state(enabled()));
    let describe = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(|| alarms(StateValue::Alarm, 1));
    let disabler = disabler(&[&get], &[&describe], &[]);
    let report = disabler.handle(&alarm_event("other-alarm"), soon()).await.unwrap();
    assert!(report.guards.is_empty());
    assert_eq!((get.num_calls(), describe.num_calls()), (0, 0));
}

#[tokio::test]
async fn the_schedule_reopens_after_the_cooldown() {
    let get = mock!(aws_sdk_codepipeline::Client::get_pipeline_state).then_output(|| state(closed_by_us(30)));
    let enable = mock!(aws_sdk_codepipeline::Client::enable_stage_transition)
        .then_output(|| EnableStageTransitionOutput::builder().build());
    let describe = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(|| alarms(StateValue::Ok, 11));
    let publish = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| r.subject().is_some_and(|s| s.contains("reopened")))
        .then_output(|| PublishOutput::builder().message_id("m").build());
    let disabler = disabler(&[&get, &enable], &[&describe], &[&publish]);
    let report = disabler.handle(&schedule(), soon()).await.unwrap();
    assert_eq!(report.guards[0].action, Action::Reopened, "{report:?}");
    assert_eq!((enable.num_calls(), publish.num_calls()), (1, 1));
}

#[tokio::test]
async fn cloudwatch_errors_never_open() {
    let get = mock!(aws_sdk_codepipeline::Client::get_pipeline_state).then_output(|| state(closed_by_us(30)));
    let enable = mock!(aws_sdk_codepipeline::Client::enable_stage_transition)
        .then_output(|| EnableStageTransitionOutput::builder().build());
    let describe = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_error(|| {
        aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsError::InvalidNextToken(
            aws_sdk_cloudwatch::types::error::InvalidNextToken::builder()
                .message("bad token")
                .build(),
        )
    });
    let disabler = disabler(&[&get, &enable], &[&describe], &[]);
    let report = disabler.handle(&schedule(), soon()).await.unwrap();
    assert_eq!(report.guards[0].action, Action::Kept);
    assert!(report.guards[0].reason.contains("could not be read"), "{report:?}");
    assert_eq!(enable.num_calls(), 0);
}

#[tokio::test]
async fn a_notice_that_cannot_be_sent_fails_the_invocation_and_is_sent_on_the_next() {
    let get = mock!(aws_sdk_codepipeline::Client::get_pipeline_state)
        .sequence()
        .output(|| state(enabled()))
        .output(|| state(closed_by_us(0)))
        .build();
    let disable = mock!(aws_sdk_codepipeline::Client::disable_stage_transition)
        .then_output(|| DisableStageTransitionOutput::builder().build());
    let describe = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .sequence()
        .output(|| alarms(StateValue::Alarm, 1))
        .times(2)
        .build();
    let publish = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .error(|| {
            aws_sdk_sns::operation::publish::PublishError::NotFoundException(
                aws_sdk_sns::types::error::NotFoundException::builder()
                    .message("Topic does not exist")
                    .build(),
            )
        })
        .output(|| PublishOutput::builder().message_id("m").build())
        .build();
    let disabler = disabler(&[&get, &disable], &[&describe], &[&publish]);
    let err = disabler
        .handle(&alarm_event("shop-canary-production"), soon())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Publish"), "{err}");
    // The retry: the transition is closed already (no second change), and the notice goes out now.
    let report = disabler
        .handle(&alarm_event("shop-canary-production"), soon())
        .await
        .unwrap();
    assert_eq!(report.guards[0].action, Action::Kept, "{report:?}");
    assert_eq!((disable.num_calls(), publish.num_calls()), (1, 2));
}

#[tokio::test]
async fn events_of_other_kinds_are_malformed() {
    let disabler = disabler(&[], &[], &[]);
    let err = disabler
        .handle(
            &json!({"source": "aws.codepipeline", "detail-type": "CodePipeline Action Execution State Change"}),
            soon(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "MalformedEvent");
    let err = disabler
        .handle(
            &json!({"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change", "detail": {}}),
            soon(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("detail.alarmName"), "{err}");
}
