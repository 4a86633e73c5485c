//! The approval-auto-approver binary through the simulator: a Manual approval publishes to SNS, the function
//! reads alarms from the simulated CloudWatch and answers through the simulated CodePipeline.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use e2e_tests::{ApprovalAction, stack, start_gate};
use pipeline_sim::cloudwatch::{Alarm, AlarmState};
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::lambda::{FunctionHost, Outcome};
use pipeline_sim::model::{ApprovalState, ApprovalStatus, DecidedBy, Status};
use pipeline_sim::samples::revision;
use pipeline_sim::scenario::{Played, Release, Timeline};
use pipeline_sim::sns::topic_arn;
use pipeline_sim::stack::Stack;
use pipeline_sim::target::{TargetMode, TargetService};
use serde_json::json;

const PIPELINE: &str = "checkout";
const STAGE: &str = "Bake";
const ACTION: &str = "HealthyForBakeTime";

/// A stack with the bake pipeline, two OK alarms, and the auto-approver subscribed to its topic.
async fn approver_stack(custom_data: &str, timeout: Duration, env: &[(&str, &str)]) -> (Stack, Arc<FunctionHost>) {
    let stack = stack().await;
    {
        let mut cloudwatch = stack.sim.state.cloudwatch();
        for name in ["checkout-5xx", "checkout-p99"] {
            cloudwatch.put_alarm(Alarm::new(name, "Checkout", name));
            cloudwatch.set_alarm_state_at(
                name,
                AlarmState::Ok,
                "Threshold Crossed: no datapoints above",
                Utc::now() - chrono::Duration::hours(3),
            );
        }
    }
    let approval = ApprovalAction {
        stage: STAGE,
        action: ACTION,
        topic_arn: &topic_arn("auto-approver"),
        custom_data,
        timeout,
    };
    let host = start_gate(&stack, "approval-auto-approver", PIPELINE, &approval, env).await;
    (stack, host)
}

fn release() -> Release {
    Release::new(
        PIPELINE,
        revision("5d1c0ffee5d1c0ffee5d1c0ffee5d1c0ffee5d1c", "Tune the checkout cache"),
    )
}

fn decided(played: &Played) -> (ApprovalStatus, String, DecidedBy) {
    match &played.approvals[0].state {
        ApprovalState::Decided {
            status, summary, by, ..
        } => (*status, summary.clone(), by.clone()),
        other => panic!("approval not decided: {other:?}"),
    }
}

fn settled_and_refused(stack: &Stack) -> (usize, usize) {
    stack.sim.state.world().approval_answer_counts()
}

const ALARMS: &str = r#"{"alarms": ["checkout-5xx", "checkout-p99"], "bake_minutes": 0.05}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_through_the_bake_then_the_sweep_approves() {
    let (stack, host) = approver_stack(ALARMS, Duration::from_secs(3600), &[]).await;
    let sweeps = stack.start_sweeps(host.clone(), Duration::from_millis(700));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    sweeps.stop();

    assert_eq!(played.status, Status::Succeeded, "the release went on to production");
    let (status, summary, by) = decided(&played);
    assert_eq!((status, by), (ApprovalStatus::Approved, DecidedBy::Api));
    assert!(
        summary.contains("2 alarm(s) OK for") && summary.contains("checkout-5xx, checkout-p99"),
        "{summary}"
    );
    assert_eq!(settled_and_refused(&stack), (1, 0));
    let logs = host.logs().join("\n");
    assert!(
        logs.contains("baking: all 2 alarm(s) OK"),
        "the SNS delivery held first: {logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_in_alarm_rejects_naming_it() {
    let (stack, _host) = approver_stack(ALARMS, Duration::from_secs(3600), &[]).await;
    stack.sim.state.cloudwatch().set_alarm_state(
        "checkout-p99",
        AlarmState::Alarm,
        "Threshold Crossed: p99 2.4 s > 1 s",
    );
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    assert_eq!(played.status, Status::Failed);
    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(
        summary.contains("alarm checkout-p99 is in ALARM") && summary.contains("p99 2.4 s > 1 s"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_data_holds_until_a_person_decides() {
    let (stack, host) = approver_stack(ALARMS, Duration::from_secs(3600), &[]).await;
    stack
        .sim
        .state
        .cloudwatch()
        .set_alarm_state("checkout-5xx", AlarmState::InsufficientData, "no datapoints");
    stack.wiring.set_wait_bound(Duration::from_secs(4));
    let sweeps = stack.start_sweeps(host.clone(), Duration::from_millis(500));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    sweeps.stop();

    assert_eq!(played.status, Status::InProgress, "still waiting at the approval");
    assert!(matches!(played.approvals[0].state, ApprovalState::Pending));
    assert_eq!(settled_and_refused(&stack), (0, 0), "a hold sends nothing");
    assert!(host.logs().join("\n").contains("INSUFFICIENT_DATA"));

    // A person decides in the console; the next look finds nothing to do and succeeds.
    stack
        .sim
        .approve_as_person(PIPELINE, STAGE, ACTION, ApprovalStatus::Approved, "looked fine to me")
        .unwrap();
    let notification = played.notifications[0].events[0].1.clone();
    let redelivered = host.invoke(notification).await;
    let result = redelivered.outcome.expect_ok();
    assert_eq!(result[0]["outcome"], "already_decided", "{result}");
    assert!(host.logs().join("\n").contains("already decided"));
    assert_eq!(
        settled_and_refused(&stack),
        (0, 0),
        "the gate did not answer a decided approval"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_notification_twice_answers_once() {
    let (stack, host) = approver_stack(
        r#"{"alarms": ["checkout-5xx"], "bake_minutes": 0}"#,
        Duration::from_secs(3600),
        &[],
    )
    .await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    assert_eq!(decided(&played).0, ApprovalStatus::Approved);
    let notification = played.notifications[0].events[0].1.clone();
    let again = host.invoke(notification).await;
    assert!(
        matches!(&again.outcome, Outcome::Ok(v) if v[0]["outcome"] == "already_decided"),
        "{:?}",
        again.outcome
    );
    assert_eq!(
        settled_and_refused(&stack),
        (1, 0),
        "one PutApprovalResult, none refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_failing_never_approves() {
    let (stack, host) = approver_stack(ALARMS, Duration::from_secs(3600), &[]).await;
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::CloudWatch, FaultKind::ServerError));
    stack.wiring.set_wait_bound(Duration::from_secs(3));
    let sweeps = stack.start_sweeps(host.clone(), Duration::from_millis(500));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    sweeps.stop();

    assert!(
        matches!(played.approvals[0].state, ApprovalState::Pending),
        "{:?}",
        played.approvals[0].state
    );
    assert_eq!(settled_and_refused(&stack), (0, 0));
    let logs = host.logs().join("\n");
    assert!(logs.contains("could not check: CloudWatch DescribeAlarms: "), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_near_expiry_rejects_with_the_reason() {
    // Expires in 3 minutes; sweeps every minute (+2 min slack): this look is the last one before expiry.
    let (stack, _host) = approver_stack(ALARMS, Duration::from_secs(180), &[("SWEEP_INTERVAL_MINUTES", "1")]).await;
    stack
        .sim
        .state
        .cloudwatch()
        .set_alarm_state("checkout-5xx", AlarmState::InsufficientData, "no datapoints");
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(
        summary.contains("INSUFFICIENT_DATA") && summary.contains("expires"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_notifications_are_clear_errors_and_call_nothing() {
    let (stack, host) = approver_stack(ALARMS, Duration::from_secs(3600), &[]).await;
    let cases = [
        (
            json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:s",
            "Sns": {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:t", "Subject": "x",
                    "Message": "{\"approval\": {\"pipelineName\": \"checkout\"}}", "Timestamp": "2026-11-22T03:10:00.000Z",
                    "SignatureVersion": "1", "Signature": "s", "SigningCertUrl": "https://c", "UnsubscribeUrl": "https://u",
                    "MessageAttributes": {}}}]}),
            "missing field `stageName`",
        ),
        (json!({"detail-type": "Something"}), "expected an SNS notification"),
    ];
    for (event, expected) in cases {
        let invocation = host.invoke(event).await;
        let (error_type, error_message) = invocation.outcome.expect_error();
        assert_eq!(error_type, "MalformedEvent");
        assert!(error_message.contains(expected), "{error_message}");
    }
    for operation in ["GetPipelineState", "PutApprovalResult"] {
        assert_eq!(
            stack.sim.state.call_count(Service::CodePipeline, operation),
            0,
            "{operation}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_data_that_watches_nothing_rejects_instead_of_approving_blind() {
    let (stack, _host) = approver_stack(r#"{"bake_minutes": 0}"#, Duration::from_secs(3600), &[]).await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(summary.contains("names no alarms"), "{summary}");
}

/// CustomData watching one baked alarm (no bake wait) plus a check suite against `target`.
fn with_checks(target: &TargetService) -> String {
    format!(
        r#"{{"alarms": ["checkout-5xx"], "bake_minutes": 0, "checks": {{"base_url": "{}", "timeout_ms": 2000,
        "checks": [{{"name": "health", "url": "/health"}}, {{"name": "checkout", "url": "/checkout"}}]}}}}"#,
        target.base_url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baked_alarms_and_passing_checks_approve_saying_both() {
    let target = TargetService::start().await.unwrap();
    let (stack, _host) = approver_stack(&with_checks(&target), Duration::from_secs(3600), &[]).await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Approved, "{summary}");
    assert!(
        summary.contains("1 alarm(s) OK") && summary.contains("checks PASS: 2/2 checks passed"),
        "{summary}"
    );
    assert_eq!(target.requests(), 2, "each check ran once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_that_fires_while_the_checks_run_rejects() {
    let target = Arc::new(TargetService::start().await.unwrap());
    target.set_mode(TargetMode::Slow(Duration::from_millis(1500)));
    let (stack, _host) = approver_stack(&with_checks(&target), Duration::from_secs(3600), &[]).await;
    // The checks' load upsets the segment: the alarm fires once they have started.
    let sim = stack.sim.clone();
    let watcher = target.clone();
    let fire = tokio::spawn(async move {
        while watcher.requests() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sim.state
            .cloudwatch()
            .set_alarm_state("checkout-5xx", AlarmState::Alarm, "5xx rate 12% > 1%");
    });
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    fire.await.unwrap();

    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected, "{summary}");
    assert!(
        summary.starts_with("the checks passed, but then alarm checkout-5xx is in ALARM") && summary.contains("12%"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_check_rejects_naming_it_even_with_healthy_alarms() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/checkout", TargetMode::Status(503));
    let (stack, _host) = approver_stack(&with_checks(&target), Duration::from_secs(3600), &[]).await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    assert_eq!(played.status, Status::Failed);
    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(
        summary.contains("checks failed") && summary.contains("checkout") && summary.contains("503"),
        "{summary}"
    );
    assert_eq!(settled_and_refused(&stack), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_wait_for_the_bake_and_a_firing_alarm_skips_them() {
    let target = TargetService::start().await.unwrap();
    let baking = with_checks(&target).replace(r#""bake_minutes": 0"#, r#""bake_minutes": 60"#);
    let (stack, host) = approver_stack(&baking, Duration::from_secs(3600), &[]).await;
    stack.wiring.set_wait_bound(Duration::from_secs(2));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    assert!(matches!(played.approvals[0].state, ApprovalState::Pending));
    assert!(host.logs().join("\n").contains("baking"));
    assert_eq!(target.requests(), 0, "no checks while the release bakes");

    let (stack, _host) = approver_stack(&with_checks(&target), Duration::from_secs(3600), &[]).await;
    stack
        .sim
        .state
        .cloudwatch()
        .set_alarm_state("checkout-5xx", AlarmState::Alarm, "Threshold Crossed: 5xx > 1%");
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    assert_eq!(decided(&played).0, ApprovalStatus::Rejected);
    assert_eq!(target.requests(), 0, "an alarm decides before any check runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_check_suite_rejects_naming_the_field_and_runs_nothing() {
    let target = TargetService::start().await.unwrap();
    let broken = r#"{"alarms": ["checkout-5xx"], "bake_minutes": 0, "checks": {"checks": [{"name": "health"}]}}"#;
    let (stack, _host) = approver_stack(broken, Duration::from_secs(3600), &[]).await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    let (status, summary, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(
        summary.contains("`checks.checks[0].url`") && summary.contains("Fix: "),
        "{summary}"
    );
    assert_eq!(target.requests(), 0);
}
