//! The transition-disabler binary through the simulator: CloudWatch alarm state changes delivered by the bus (and
//! the reconcile schedule) invoke it; it reads alarms with the real SDK from the simulated CloudWatch, the transition
//! from the simulated CodePipeline, disables and enables it there, and publishes notices to the simulated SNS.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use e2e_tests::stack;
use pipeline_sim::cloudwatch::{Alarm, AlarmState};
use pipeline_sim::codepipeline::transitions::reason_char;
use pipeline_sim::eventbridge::Delivered;
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::guarding::{function_identity, notice_topic_arn};
use pipeline_sim::lambda::{AsyncDelivery, FunctionHost, Outcome};
use pipeline_sim::sns_query::Published;
use pipeline_sim::stack::Stack;
use pipeline_sim::{ACCOUNT, samples};
use serde_json::Value;

const PIPELINE: &str = samples::PIPELINE;
const STAGE: &str = "Deploy";
const ALARM: &str = "prod-canary-success";

fn guards(alarm: &str) -> String {
    format!(r#"[{{"pipeline": "{PIPELINE}", "stage": "{STAGE}", "alarms": ["{alarm}"], "cooldown_minutes": 1}}]"#)
}

/// A stack with the guarding alarm OK for an hour, and the transition disabler subscribed to `prod-` alarms.
async fn guarded(alarm: &str) -> (Stack, Arc<FunctionHost>) {
    let stack = stack().await;
    {
        let mut cloudwatch = stack.sim.state.cloudwatch();
        cloudwatch.put_alarm(Alarm::new(alarm, "CodePipelineHooks/Canary", "Success"));
        cloudwatch.set_alarm_state_at(
            alarm,
            AlarmState::Ok,
            "Threshold Crossed: 1 datapoint [1.0] was not less than the threshold (1.0).",
            Utc::now() - TimeDelta::hours(1),
        );
    }
    let host = stack
        .transition_disabler(&guards(alarm), &["prod-"], &[])
        .await
        .unwrap();
    // The alarm's first state change (INSUFFICIENT_DATA → OK) reaches the function: nothing to do.
    let first = stack.deliver_alarm_events().await;
    assert_eq!(report(&first[0].deliveries[0].1)["guards"][0]["action"], "kept");
    (stack, host)
}

fn set_alarm(stack: &Stack, alarm: &str, state: AlarmState, minutes_ago: i64) {
    let reason = match state {
        AlarmState::Alarm => {
            "Threshold Crossed: 1 out of the last 1 datapoints [0.0] was less than the threshold (1.0)."
        }
        _ => "Threshold Crossed: 1 out of the last 1 datapoints [1.0] was not less than the threshold (1.0).",
    };
    stack
        .sim
        .state
        .cloudwatch()
        .set_alarm_state_at(alarm, state, reason, Utc::now() - TimeDelta::minutes(minutes_ago))
        .unwrap();
}

/// What the function returned for one delivery (panics on an error, naming it).
fn report(delivery: &AsyncDelivery) -> Value {
    match &delivery.attempts.last().expect("invoked").outcome {
        Outcome::Ok(value) => value.clone(),
        other => panic!("the invocation did not succeed: {other:?}"),
    }
}

fn one_delivery(delivered: &[Delivered]) -> &AsyncDelivery {
    assert_eq!(delivered.len(), 1, "one alarm change, one event");
    assert_eq!(delivered[0].deliveries.len(), 1, "the rule delivers it to the function");
    assert_eq!(delivered[0].deliveries[0].1.attempts.len(), 1, "within one invocation");
    &delivered[0].deliveries[0].1
}

fn notices(stack: &Stack) -> Vec<Published> {
    stack.sim.state.sns_topics().published(&notice_topic_arn())
}

fn changes(stack: &Stack) -> Vec<pipeline_sim::codepipeline::transitions::TransitionChange> {
    stack.sim.state.world().transitions.changes_of(PIPELINE, STAGE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_closes_at_once_and_the_transition_reopens_only_after_the_cooldown() {
    let (stack, host) = guarded(ALARM).await;

    set_alarm(&stack, ALARM, AlarmState::Alarm, 0);
    let delivered = stack.deliver_alarm_events().await;
    assert_eq!(report(one_delivery(&delivered))["guards"][0]["action"], "closed");
    let transition = stack.sim.transition(PIPELINE, STAGE);
    assert!(!transition.enabled, "closed within the one invocation");
    assert_eq!(
        transition.last_changed_by.as_deref(),
        Some(function_identity().as_str())
    );
    let reason = transition.disabled_reason.unwrap();
    assert!(reason.contains(&format!("(alarm {ALARM}) is ALARM since")), "{reason}");
    let sent = notices(&stack);
    assert_eq!(sent.len(), 1, "one notice for the close");
    assert_eq!(
        sent[0].subject.as_deref(),
        Some(format!("Transition into {STAGE} closed: {PIPELINE} (alarm {ALARM})").as_str())
    );
    for expected in [
        format!("The transition into {STAGE} of pipeline {PIPELINE} is closed"),
        format!("Alarm: {ALARM} is ALARM since"),
        "Reason: Threshold Crossed: 1 out of the last 1 datapoints [0.0]".to_owned(),
        format!(
            "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/{PIPELINE}/view?region=us-east-1"
        ),
    ] {
        assert!(
            sent[0].message.contains(&expected),
            "{expected:?} not in {}",
            sent[0].message
        );
    }
    assert_eq!(sent[0].attributes["kind"].1, "transition-closed");

    // OK again, but for less than the cooldown: stays closed, on the event and on the schedule.
    set_alarm(&stack, ALARM, AlarmState::Ok, 0);
    let delivered = stack.deliver_alarm_events().await;
    let kept = report(one_delivery(&delivered));
    assert_eq!(kept["guards"][0]["action"], "kept");
    assert!(
        kept["guards"][0]["reason"].as_str().unwrap().contains("cooldown"),
        "{kept}"
    );
    assert_eq!(report(&stack.sweep(&host).await)["guards"][0]["action"], "kept");
    assert!(!stack.sim.transition(PIPELINE, STAGE).enabled);
    assert_eq!(notices(&stack).len(), 1);

    // OK for longer than the cooldown: the schedule reopens it, with one notice.
    set_alarm(&stack, ALARM, AlarmState::Ok, 2);
    assert_eq!(report(&stack.sweep(&host).await)["guards"][0]["action"], "reopened");
    let transition = stack.sim.transition(PIPELINE, STAGE);
    assert!(transition.enabled);
    let sent = notices(&stack);
    assert_eq!(sent.len(), 2, "one notice for the reopening");
    assert_eq!(
        sent[1].subject.as_deref(),
        Some(format!("Transition into {STAGE} reopened: {PIPELINE}").as_str())
    );
    assert!(
        sent[1].message.contains("is open again") && sent[1].message.contains("closed since"),
        "{}",
        sent[1].message
    );
    assert_eq!(report(&stack.sweep(&host).await)["guards"][0]["action"], "kept");
    assert_eq!(changes(&stack).len(), 2, "one close, one reopen");
    assert_eq!(notices(&stack).len(), 2);
    // Metrics: one EMF line per look, closed while closed.
    let logs = host.logs().join("\n");
    assert!(
        logs.contains(r#""TransitionClosed":1"#) && logs.contains(r#""TransitionClosed":0"#),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transition_a_person_disabled_is_never_enabled() {
    let (stack, host) = guarded(ALARM).await;
    stack
        .sim
        .disable_transition_as_person(PIPELINE, STAGE, "Freeze for the audit")
        .unwrap();
    for _ in 0..2 {
        assert_eq!(report(&stack.sweep(&host).await)["guards"][0]["action"], "kept");
    }
    set_alarm(&stack, ALARM, AlarmState::Alarm, 0);
    stack.deliver_alarm_events().await;
    set_alarm(&stack, ALARM, AlarmState::Ok, 10);
    stack.deliver_alarm_events().await;
    assert_eq!(report(&stack.sweep(&host).await)["guards"][0]["action"], "kept");
    let transition = stack.sim.transition(PIPELINE, STAGE);
    assert!(!transition.enabled);
    assert_eq!(transition.disabled_reason.as_deref(), Some("Freeze for the audit"));
    assert_eq!(
        transition.last_changed_by,
        Some(format!("arn:aws:iam::{ACCOUNT}:user/release-manager"))
    );
    assert_eq!(changes(&stack).len(), 1, "only the person's change");
    assert!(notices(&stack).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_reenable_during_the_alarm_stands_until_the_alarm_changes_again() {
    let (stack, host) = guarded(ALARM).await;
    set_alarm(&stack, ALARM, AlarmState::Alarm, 0);
    let delivered = stack.deliver_alarm_events().await;
    assert_eq!(report(one_delivery(&delivered))["guards"][0]["action"], "closed");

    // A person opens it while the alarm still fires; redelivered events and the schedule leave it open.
    tokio::time::sleep(Duration::from_millis(5)).await;
    stack.sim.enable_transition_as_person(PIPELINE, STAGE).unwrap();
    let event = delivered[0].event.clone();
    let redelivered = stack.bus.put(event).await;
    let kept = report(&redelivered.deliveries[0].1);
    assert_eq!(kept["guards"][0]["action"], "kept");
    assert!(
        kept["guards"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("stands until an alarm changes state"),
        "{kept}"
    );
    assert_eq!(report(&stack.sweep(&host).await)["guards"][0]["action"], "kept");
    assert!(stack.sim.transition(PIPELINE, STAGE).enabled);

    // The alarm recovers, then fires again: that is a change, and it closes again.
    set_alarm(&stack, ALARM, AlarmState::Ok, 0);
    stack.deliver_alarm_events().await;
    assert!(stack.sim.transition(PIPELINE, STAGE).enabled);
    tokio::time::sleep(Duration::from_millis(5)).await;
    set_alarm(&stack, ALARM, AlarmState::Alarm, 0);
    let delivered = stack.deliver_alarm_events().await;
    assert_eq!(report(one_delivery(&delivered))["guards"][0]["action"], "closed");
    let closes: Vec<_> = changes(&stack).into_iter().filter(|c| !c.enabled).collect();
    assert_eq!(closes.len(), 2);
    assert_eq!(notices(&stack).len(), 2, "a notice per close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_out_of_order_events_make_one_change() {
    let (stack, _host) = guarded(ALARM).await;
    set_alarm(&stack, ALARM, AlarmState::Alarm, 0);
    let closed = stack.deliver_alarm_events().await;
    let alarm_event = closed[0].event.clone();
    // The same event twice more, then the older OK event arriving late.
    set_alarm(&stack, ALARM, AlarmState::Ok, 0);
    set_alarm(&stack, ALARM, AlarmState::Alarm, 0);
    let later = stack.sim.state.cloudwatch().transitions().len();
    *stack.sim.state.alarm_events_sent.lock().unwrap() = later;
    for event in [alarm_event.clone(), alarm_event] {
        let delivered = stack.bus.put(event).await;
        assert_eq!(report(&delivered.deliveries[0].1)["guards"][0]["action"], "kept");
    }
    assert_eq!(changes(&stack).len(), 1, "one change");
    assert_eq!(notices(&stack).len(), 1, "one notice");
    // An OK event that is stale (the alarm fires again since): the function reads ALARM and keeps it closed.
    let mut stale_ok = closed[0].event.clone();
    stale_ok["detail"]["state"]["value"] = "OK".into();
    stale_ok["detail"]["previousState"]["value"] = "ALARM".into();
    let delivered = stack.bus.put(stale_ok).await;
    assert_eq!(report(&delivered.deliveries[0].1)["guards"][0]["action"], "kept");
    assert!(!stack.sim.transition(PIPELINE, STAGE).enabled);
    assert_eq!(changes(&stack).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_errors_never_reopen() {
    let (stack, host) = guarded(ALARM).await;
    set_alarm(&stack, ALARM, AlarmState::Alarm, 0);
    stack.deliver_alarm_events().await;
    set_alarm(&stack, ALARM, AlarmState::Ok, 30);
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::CloudWatch, FaultKind::ServerError).on("DescribeAlarms"));
    let kept = report(&stack.sweep(&host).await);
    assert_eq!(kept["guards"][0]["action"], "kept");
    assert!(
        kept["guards"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{kept}"
    );
    stack.sim.state.faults.clear();
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::CloudWatch, FaultKind::Malformed("not cbor".into())).on("DescribeAlarms"));
    assert_eq!(report(&stack.sweep(&host).await)["guards"][0]["action"], "kept");
    assert!(!stack.sim.transition(PIPELINE, STAGE).enabled, "no error opened it");
    stack.sim.state.faults.clear();
    assert_eq!(report(&stack.sweep(&host).await)["guards"][0]["action"], "reopened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reason_built_from_a_hostile_alarm_name_is_accepted() {
    let hostile = "prod-canary:checkout/5xx_rate, #1 über <b>&amp; \"quoted\" 'and' {braces} [brackets] ~tilde | pipe";
    let stack = stack().await;
    {
        let mut cloudwatch = stack.sim.state.cloudwatch();
        cloudwatch.put_alarm(Alarm::new(hostile, "CodePipelineHooks/Canary", "Success"));
        cloudwatch
            .set_alarm_state(hostile, AlarmState::Alarm, "Threshold Crossed")
            .unwrap();
    }
    let guards =
        serde_json::json!([{"pipeline": PIPELINE, "stage": STAGE, "alarm_prefix": "prod-canary:"}]).to_string();
    stack.transition_disabler(&guards, &["prod-"], &[]).await.unwrap();
    let delivered = stack.deliver_alarm_events().await;
    assert_eq!(report(one_delivery(&delivered))["guards"][0]["action"], "closed");
    let reason = stack.sim.transition(PIPELINE, STAGE).disabled_reason.unwrap();
    assert!(
        reason.chars().all(reason_char) && reason.chars().count() <= 300,
        "{reason}"
    );
    assert!(
        reason.contains(
            "(alarm prod-canary-checkout-5xx-rate- -1 -ber -b-amp- -quoted- -and- -braces- -brackets- -tilde - pipe)"
        ),
        "{reason}"
    );
    assert_eq!(
        notices(&stack)[0].attributes["alarm"].1,
        hostile,
        "the notice names the alarm as it is"
    );
}
