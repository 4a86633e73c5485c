//! The demo's transition scenario: production is watched by the synthetic canary, and the transition disabler
//! closes the door into Production while the canary's alarm fires.
//!
//! The canary sees production fail → its alarm goes to ALARM → the alarm's state change reaches the transition
//! disabler through EventBridge, which closes the transition into Production (one notice) → the next release goes
//! through every gate and stops before Production → production recovers → the alarm is OK → after the cooldown the
//! disabler's schedule reopens the transition (one notice) → the waiting release goes on to Production.

use std::time::Duration;

use super::{Demo, PIPELINE, release};
use crate::cloudwatch::{Alarm, AlarmState, ComparisonOperator, Statistic, TreatMissingData};
use crate::guarding::notice_topic_arn;
use crate::target::TargetMode;

const CANARY: &str = "shop-production";
const ALARM: &str = "shop-canary-production";
const PRODUCTION_PATH: &str = "/production/checkout";
const STAGE: &str = "Production";

fn say(demo: &Demo, text: impl AsRef<str>) {
    demo.timeline.note(text);
}

fn alarm_state(demo: &Demo) -> AlarmState {
    demo.stack
        .sim
        .state
        .cloudwatch()
        .alarm(ALARM)
        .map_or(AlarmState::InsufficientData, |a| a.state)
}

/// Puts CloudWatch's alarm state changes on the bus as they happen (EventBridge's part), until dropped.
async fn forward_alarm_events(demo: &Demo) {
    loop {
        for delivered in demo.stack.deliver_alarm_events().await {
            let detail = &delivered.event["detail"];
            say(
                demo,
                format!(
                    "CloudWatch: alarm {} {} → {} (EventBridge → {} function(s))",
                    detail["alarmName"].as_str().unwrap_or("?"),
                    detail["previousState"]["value"].as_str().unwrap_or("?"),
                    detail["state"]["value"].as_str().unwrap_or("?"),
                    delivered.deliveries.len()
                ),
            );
            for (rule, delivery) in &delivered.deliveries {
                if let Some(crate::lambda::Outcome::Ok(report)) = delivery.attempts.last().map(|a| &a.outcome) {
                    for guard in report["guards"].as_array().into_iter().flatten() {
                        say(
                            demo,
                            format!(
                                "    ↳ {rule}: {} › {}: {}: {}",
                                guard["pipeline"].as_str().unwrap_or("?"),
                                guard["stage"].as_str().unwrap_or("?"),
                                guard["action"].as_str().unwrap_or("?"),
                                guard["reason"].as_str().unwrap_or("")
                            ),
                        );
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let give_up = tokio::time::Instant::now() + timeout;
    while !ready() {
        if tokio::time::Instant::now() > give_up {
            return Err(format!("{what} did not happen within {}s", timeout.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

pub(super) async fn run(demo: &Demo) -> Result<(), String> {
    println!();
    say(
        demo,
        "▶ Production watch: the synthetic canary, its alarm, and the transition disabler",
    );
    let suite = format!(
        r#"{{"base_url": "{}", "timeout_ms": 1000, "checks": [{{"name": "checkout", "url": "{PRODUCTION_PATH}"}}]}}"#,
        demo.target.base_url()
    );
    let canary = demo
        .stack
        .synthetic_canary(CANARY, &suite, &[("RUST_LOG", "warn")])
        .await
        .map_err(|e| e.to_string())?;
    // The template's canary alarm, over one 10 s period instead of minutes.
    demo.stack.sim.state.cloudwatch().put_alarm(
        Alarm::new(ALARM, "CodePipelineHooks/Canary", "Success")
            .with_dimension("Canary", CANARY)
            .with_statistic(Statistic::Minimum)
            .with_threshold(ComparisonOperator::LessThanThreshold, 1.0)
            .with_evaluation(10, 1, 1)
            .with_treat_missing_data(TreatMissingData::Breaching),
    );
    let guards = format!(
        r#"[{{"pipeline": "{PIPELINE}", "stage": "{STAGE}", "alarms": ["{ALARM}"], "cooldown_minutes": 0.1}}]"#
    );
    let disabler = demo
        .stack
        .transition_disabler(&guards, &["shop-canary-"], &[("RUST_LOG", "warn")])
        .await
        .map_err(|e| e.to_string())?;
    say(
        demo,
        format!(
            "Guard: {PIPELINE} › {STAGE} closes while {ALARM} is ALARM, reopens after 6 s of OK (cooldown_minutes 0.1); \
             canary every 1 s, disabler's schedule every 2 s"
        ),
    );
    // Earlier scenarios' alarm changes are history: EventBridge starts delivering from here.
    let history = demo.stack.sim.state.cloudwatch().transitions().len();
    *demo
        .stack
        .sim
        .state
        .alarm_events_sent
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = history;
    let canary_runs = demo.stack.start_sweeps(canary.clone(), Duration::from_secs(1));
    let reconcile = demo.stack.start_sweeps(disabler.clone(), Duration::from_secs(2));

    // Production healthy: the alarm settles at OK and nothing is closed.
    let settled = async {
        wait_for("the canary's alarm to be OK", Duration::from_secs(20), || {
            alarm_state(demo) == AlarmState::Ok
        })
        .await
    };
    tokio::select! {
        result = settled => result?,
        _ = forward_alarm_events(demo) => {}
    }

    // Production breaks: the canary fails, the alarm fires, the disabler closes the transition.
    say(
        demo,
        format!("Production starts failing: {PRODUCTION_PATH} answers 500"),
    );
    demo.target.set_path_mode(PRODUCTION_PATH, TargetMode::Failing);
    let closed = wait_for("the transition to close", Duration::from_secs(20), || {
        !demo.stack.sim.transition(PIPELINE, STAGE).enabled
    });
    tokio::select! {
        result = closed => result?,
        _ = forward_alarm_events(demo) => {}
    }
    let transition = demo.stack.sim.transition(PIPELINE, STAGE);
    say(
        demo,
        format!(
            "CodePipeline: transition into {STAGE} DISABLED by {}: {}",
            transition.last_changed_by.unwrap_or_default(),
            transition.disabled_reason.unwrap_or_default()
        ),
    );

    // The next release goes through every gate and waits before Production; production recovers meanwhile.
    let recover = async {
        wait_for(
            "the release to reach the closed transition",
            Duration::from_secs(60),
            || !demo.stack.sim.state.world().transitions.waiting.is_empty(),
        )
        .await?;
        say(
            demo,
            format!("Production recovers: {PRODUCTION_PATH} answers 200 again"),
        );
        demo.target.clear_path_modes();
        Ok::<(), String>(())
    };
    let release_7 = release("5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e", "Cache product images");
    let play = demo.stack.play(&release_7, &demo.timeline);
    say(demo, "▶ Release 7: cache product images, while production is failing");
    // The gates decide by their sweeps too, as in `Demo::play`.
    let gate_sweeps: Vec<_> = demo.functions[1..3]
        .iter()
        .map(|gate| demo.stack.start_sweeps(gate.clone(), Duration::from_secs(1)))
        .collect();
    let (played, recovered) = tokio::select! {
        both = async { tokio::join!(play, recover) } => both,
        _ = forward_alarm_events(demo) => unreachable!("forwards until the release ends"),
    };
    recovered?;
    let played = played.ok_or("release 7 did not play")?;
    say(demo, format!("■ Release 7: {:?}", played.status));
    drop(gate_sweeps);
    drop(canary_runs);
    drop(reconcile);

    let notices = demo.stack.sim.state.sns_topics().published(&notice_topic_arn());
    println!(
        "\nSNS topic {} received {} notice(s):",
        notice_topic_arn(),
        notices.len()
    );
    for notice in &notices {
        println!(
            "\n── {} ──────────────────────────────────────────",
            notice.subject.as_deref().unwrap_or("")
        );
        println!("{}", notice.message.trim_end());
    }
    if played.status != crate::model::Status::Succeeded {
        return Err(format!(
            "release 7 should reach production once the transition reopened, it ended {:?}",
            played.status
        ));
    }
    if notices.len() != 2 {
        return Err(format!(
            "expected two transition notices (closed, reopened), got {}",
            notices.len()
        ));
    }
    Ok(())
}
