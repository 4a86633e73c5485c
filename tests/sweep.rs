//! The gates' sweep under a deadline, through the simulator with the real auto-approver binary: pipelines that
//! hang do not stop the others from being decided, and when every call is slow, successive sweeps reach every
//! pipeline in turn, so each approval gets its reject-before-expiry instead of a silent timeout.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use e2e_tests::{ApprovalAction, approval_pipeline, stack};
use pipeline_sim::cloudwatch::{Alarm, AlarmState};
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::lambda::{FunctionHost, Outcome};
use pipeline_sim::model::{ApprovalState, ApprovalStatus};
use pipeline_sim::samples::revision;
use pipeline_sim::sns::topic_arn;
use pipeline_sim::stack::Stack;

const STAGE: &str = "Bake";
const ACTION: &str = "Healthy";

fn name(index: usize) -> String {
    format!("shop-{index:02}")
}

/// `count` pipelines, each with a release waiting at the auto-approver's approval, and the auto-approver serving
/// them all with a Lambda timeout of `timeout`.
async fn waiting_pipelines(
    count: usize,
    custom_data: &str,
    approval_timeout: Duration,
    timeout: Duration,
) -> (Stack, Arc<FunctionHost>) {
    let stack = stack().await;
    {
        let mut cloudwatch = stack.sim.state.cloudwatch();
        cloudwatch.put_alarm(Alarm::new("shop-5xx", "Shop", "5xx"));
        cloudwatch.set_alarm_state_at(
            "shop-5xx",
            AlarmState::Ok,
            "fine",
            Utc::now() - chrono::Duration::hours(2),
        );
    }
    let topic = topic_arn("auto-approver");
    let approval = ApprovalAction {
        stage: STAGE,
        action: ACTION,
        topic_arn: &topic,
        custom_data,
        timeout: approval_timeout,
    };
    let names: Vec<String> = (0..count).map(name).collect();
    {
        let mut world = stack.sim.state.world();
        for pipeline in &names {
            world.put_pipeline(approval_pipeline(pipeline, &approval));
            let execution = world
                .start_execution(
                    pipeline,
                    vec![revision("0123456789abcdef0123456789abcdef01234567", "Tune")],
                )
                .unwrap();
            world.start_action(&execution, STAGE, ACTION).unwrap();
            world.open_approval(&execution, STAGE, ACTION).unwrap();
        }
    }
    let pipelines = names.join(",");
    let env = [
        ("GATE_TOPIC_ARN", topic.as_str()),
        ("GATE_PIPELINES", pipelines.as_str()),
        ("RUST_LOG", "info"),
    ];
    let host = stack
        .function_with_timeout("approval-auto-approver", &env, timeout)
        .await
        .unwrap();
    (stack, host)
}

/// Each pipeline's approval: `None` while pending, else its status and summary.
fn decisions(stack: &Stack, count: usize) -> Vec<Option<(ApprovalStatus, String)>> {
    let world = stack.sim.state.world();
    (0..count)
        .map(|i| {
            let pipeline = name(i);
            let approval = world.approvals.iter().find(|a| a.pipeline == pipeline)?;
            match &approval.state {
                ApprovalState::Decided { status, summary, .. } => Some((*status, summary.clone())),
                _ => None,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hanging_pipelines_do_not_stop_the_other_twenty_four_from_being_decided() {
    let (stack, host) = waiting_pipelines(
        30,
        r#"{"alarms": ["shop-5xx"], "bake_minutes": 0}"#,
        Duration::from_secs(3 * 24 * 3600),
        Duration::from_secs(30),
    )
    .await;
    let hanging = [3, 9, 14, 15, 22, 29];
    for index in hanging {
        // Every read of these pipelines hangs past the Lambda timeout.
        let fault = Fault::new(Service::CodePipeline, FaultKind::Delay(Duration::from_secs(120)))
            .when_body_contains(&format!("\"{}\"", name(index)));
        stack.sim.state.faults.inject(fault);
    }

    let delivery = stack.sweep(&host).await;

    let first = &delivery.attempts[0];
    assert!(
        matches!(first.outcome, Outcome::Ok(_)),
        "the sweep answered: {:?}",
        first.outcome
    );
    assert!(
        first.duration < Duration::from_secs(30),
        "before the deadline: {:?}",
        first.duration
    );
    assert_eq!(delivery.attempts.len(), 1, "a sweep is never retried by Lambda");
    for (index, decision) in decisions(&stack, 30).into_iter().enumerate() {
        if hanging.contains(&index) {
            assert_eq!(decision, None, "{} hangs: still pending", name(index));
        } else {
            let (status, summary) = decision.unwrap_or_else(|| panic!("{} was not decided", name(index)));
            assert_eq!(status, ApprovalStatus::Approved, "{}: {summary}", name(index));
        }
    }
    let logs = host.logs().join("\n");
    assert!(
        logs.contains("sweep could not read the pipeline"),
        "the hanging reads are told:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_call_is_slow_successive_sweeps_reach_every_pipeline_and_reject_before_expiry() {
    // A bake far longer than the approval's 5-minute timeout: every look holds, and every hold would outlive the
    // approval, so the last look before expiry (the first, here) rejects it, saying why.
    let count = 8;
    let (stack, host) = waiting_pipelines(
        count,
        r#"{"alarms": ["shop-5xx"], "bake_minutes": 600}"#,
        Duration::from_secs(5 * 60),
        Duration::from_secs(8),
    )
    .await;
    stack.sim.state.faults.inject(Fault::new(
        Service::CodePipeline,
        FaultKind::Delay(Duration::from_millis(700)),
    ));

    let mut sweeps = 0;
    while decisions(&stack, count).iter().any(Option::is_none) && sweeps < 10 {
        let delivery = stack.sweep(&host).await;
        sweeps += 1;
        let attempt = &delivery.attempts[0];
        assert!(
            matches!(attempt.outcome, Outcome::Ok(_)),
            "sweep {sweeps}: {:?}",
            attempt.outcome
        );
    }
    let decided = decisions(&stack, count);
    assert!(
        sweeps > 1,
        "one slow sweep could not have reached all {count}; it took {sweeps}"
    );
    for (index, decision) in decided.into_iter().enumerate() {
        let (status, summary) = decision.unwrap_or_else(|| panic!("{} never reached in {sweeps} sweeps", name(index)));
        assert_eq!(status, ApprovalStatus::Rejected, "{summary}");
        assert!(summary.contains("expires"), "the reject says why: {summary}");
    }
}
