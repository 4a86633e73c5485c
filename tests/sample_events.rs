//! Every sample in events/ parses the way its function parses it, so `make invoke` and the README's
//! examples stay true to the code.

use std::path::Path;

use failure_notifier::events::parse;
use failure_notifier::triage::{Triage, triage};
use hooks_common::approval::{Trigger, parse_trigger};
use serde_json::Value;

fn sample(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn failure_notifier_samples() {
    let cases = [
        ("failure-notifier.action-failed.json", true),
        ("failure-notifier.stage-failed.json", false),
        ("failure-notifier.pipeline-failed.json", false),
        ("failure-notifier.action-succeeded.json", false),
    ];
    for (name, notifies) in cases {
        let verdict = triage(parse(&sample(name)).unwrap_or_else(|e| panic!("{name}: {e}"))).unwrap();
        assert_eq!(matches!(verdict, Triage::Notify(_)), notifies, "{name}: {verdict:?}");
    }
}

#[test]
fn approval_gate_samples() {
    let Trigger::Approvals(requests) = parse_trigger(&sample("approval-auto-approver.sns-approval.json")).unwrap()
    else {
        panic!("the SNS sample is an approval")
    };
    assert_eq!(requests[0].place(), "checkout/Bake/HealthyForBakeTime");
    assert!(requests[0].custom_data.as_deref().unwrap().contains("bake_minutes"));
    assert_eq!(
        parse_trigger(&sample("approval-auto-approver.scheduled-sweep.json")).unwrap(),
        Trigger::Sweep
    );
}

#[test]
fn blackday_gate_samples() {
    use blackday_calendar::BlackDayCalendar;
    use blackday_gate::calendars::merge;
    use blackday_gate::settings::{GateData, Inside};

    let Trigger::Approvals(requests) = parse_trigger(&sample("blackday-gate.sns-approval.json")).unwrap() else {
        panic!("the SNS sample is an approval")
    };
    let request = &requests[0];
    assert_eq!(request.place(), "storefront/Release/BlackDayGate");
    assert!(
        request.custom_data.as_deref().unwrap().chars().count() <= 500,
        "CustomData's limit"
    );
    let data: GateData = request.settings().unwrap();
    assert_eq!((data.calendar_name(), data.inside), ("retail", Some(Inside::Hold)));
    // Its periods merge into a calendar the way the gate merges them.
    let retail = BlackDayCalendar::from_json(r#"{"timezone": "Europe/Berlin", "blackouts": []}"#).unwrap();
    let merged = merge(retail, &data).unwrap();
    assert_eq!(merged.blackouts()[0].name(), "Checkout migration");
    assert_eq!(
        parse_trigger(&sample("blackday-gate.scheduled-sweep.json")).unwrap(),
        Trigger::Sweep
    );
}

#[test]
fn transition_disabler_samples() {
    use transition_disabler::handler::{Trigger, trigger};
    assert_eq!(
        trigger(&sample("transition-disabler.alarm-state-change.json")).unwrap(),
        Trigger::Alarm("codepipeline-hooks-canary-production".into())
    );
    assert_eq!(
        trigger(&sample("transition-disabler.scheduled-reconcile.json")).unwrap(),
        Trigger::Schedule
    );
}
