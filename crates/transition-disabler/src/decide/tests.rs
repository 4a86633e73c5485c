//! The decision as a table: facts in, decision out.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hooks_common::notice::Destination;

use super::*;

const US: &str = "arn:aws:sts::123456789012:assumed-role/hooks-TransitionDisablerRole-1/transition-disabler";
const PERSON: &str = "arn:aws:iam::123456789012:user/ops-alice";

fn now() -> DateTime<Utc> {
    "2026-12-02T12:00:00Z".parse().unwrap()
}

fn ago(minutes: i64) -> DateTime<Utc> {
    now() - TimeDelta::minutes(minutes)
}

fn guard(insufficient_data: InsufficientData) -> Guard {
    Guard {
        pipeline: "shop".into(),
        stage: "Production".into(),
        alarms: vec!["canary".into(), "latency".into()],
        alarm_prefix: None,
        cooldown: Duration::from_secs(10 * 60),
        insufficient_data,
        notify: Destination::Sns {
            topic_arn: "arn:aws:sns:us-east-1:123456789012:t".into(),
        },
    }
}

fn alarm(name: &str, state: AlarmState, since: DateTime<Utc>) -> AlarmFact {
    AlarmFact {
        name: name.into(),
        state,
        reason: "Threshold Crossed".into(),
        since,
    }
}

fn report(alarms: Vec<AlarmFact>) -> Result<AlarmReport, String> {
    Ok(AlarmReport {
        alarms,
        ..AlarmReport::default()
    })
}

fn open_since(by: Option<&str>, at: Option<DateTime<Utc>>) -> TransitionFact {
    TransitionFact {
        enabled: true,
        last_changed_by: by.map(str::to_owned),
        last_changed_at: at,
        disabled_reason: None,
    }
}

fn closed_by(by: &str, reason: &str, at: DateTime<Utc>) -> TransitionFact {
    TransitionFact {
        enabled: false,
        last_changed_by: Some(by.into()),
        last_changed_at: Some(at),
        disabled_reason: Some(reason.into()),
    }
}

fn our_reason() -> String {
    reason::closing("canary", "ALARM", ago(30), Duration::from_secs(600))
}

/// What the decision should be, loosely: the variant and a word of its reason.
enum Expect {
    Close(&'static str),
    Open,
    Keep(&'static str),
}

use AlarmState::{Alarm, InsufficientData as Insufficient, Ok as Fine};

/// (what the case is, the guard's INSUFFICIENT_DATA rule, the alarms read, the transition, the decision expected)
type Case = (
    &'static str,
    InsufficientData,
    Result<AlarmReport, String>,
    TransitionFact,
    Expect,
);

#[test]
fn decisions() {
    let keep = InsufficientData::Keep;
    let close = InsufficientData::Close;
    let ours = closed_by(US, &our_reason(), ago(30));
    let cases: Vec<Case> = vec![
        (
            "untouched transition, alarm fires → close, naming it",
            keep,
            report(vec![alarm("canary", Alarm, ago(1)), alarm("latency", Fine, ago(90))]),
            open_since(None, None),
            Expect::Close("alarm canary"),
        ),
        (
            "open, all OK → keep",
            keep,
            report(vec![alarm("canary", Fine, ago(1)), alarm("latency", Fine, ago(90))]),
            open_since(None, None),
            Expect::Keep("no guarding alarm fires"),
        ),
        (
            "INSUFFICIENT_DATA with keep → keep open",
            keep,
            report(vec![
                alarm("canary", Insufficient, ago(1)),
                alarm("latency", Fine, ago(90)),
            ]),
            open_since(None, None),
            Expect::Keep("no guarding alarm fires"),
        ),
        (
            "INSUFFICIENT_DATA with close → close",
            close,
            report(vec![
                alarm("canary", Insufficient, ago(1)),
                alarm("latency", Fine, ago(90)),
            ]),
            open_since(None, None),
            Expect::Close("is INSUFFICIENT-DATA"),
        ),
        (
            "closed by us, still ALARM → keep",
            keep,
            report(vec![alarm("canary", Alarm, ago(30)), alarm("latency", Fine, ago(90))]),
            ours.clone(),
            Expect::Keep("still closed"),
        ),
        (
            "closed by us, OK for 11 min, cooldown 10 → open",
            keep,
            report(vec![alarm("canary", Fine, ago(11)), alarm("latency", Fine, ago(90))]),
            ours.clone(),
            Expect::Open,
        ),
        (
            "closed by us, OK for 5 min → keep until the cooldown ends",
            keep,
            report(vec![alarm("canary", Fine, ago(5)), alarm("latency", Fine, ago(90))]),
            ours.clone(),
            Expect::Keep("less than the 10 min cooldown"),
        ),
        (
            "cooldown counts from the alarm that became OK last",
            keep,
            report(vec![alarm("canary", Fine, ago(60)), alarm("latency", Fine, ago(2))]),
            ours.clone(),
            Expect::Keep("cooldown"),
        ),
        (
            "closed by us, one alarm INSUFFICIENT_DATA (keep) → keep",
            keep,
            report(vec![
                alarm("canary", Fine, ago(60)),
                alarm("latency", Insufficient, ago(60)),
            ]),
            ours.clone(),
            Expect::Keep("latency is INSUFFICIENT_DATA"),
        ),
        (
            "closed by us, alarms unreadable → keep",
            keep,
            Err("DescribeAlarms: ThrottlingException".into()),
            ours.clone(),
            Expect::Keep("could not be read"),
        ),
        (
            "open, alarms unreadable → keep",
            keep,
            Err("DescribeAlarms: no answer".into()),
            open_since(None, None),
            Expect::Keep("could not be read"),
        ),
        (
            "closed by us, a named alarm is gone → keep",
            keep,
            Ok(AlarmReport {
                alarms: vec![alarm("canary", Fine, ago(60))],
                missing: vec!["latency".into()],
                empty_prefix: None,
            }),
            ours.clone(),
            Expect::Keep("latency not found"),
        ),
        (
            "closed by us, the prefix matches nothing → keep",
            keep,
            Ok(AlarmReport {
                alarms: vec![],
                missing: vec![],
                empty_prefix: Some("shop-".into()),
            }),
            ours.clone(),
            Expect::Keep("prefix `shop-`"),
        ),
        (
            "closed by a person, all OK for hours → never opened",
            keep,
            report(vec![alarm("canary", Fine, ago(600)), alarm("latency", Fine, ago(600))]),
            closed_by(PERSON, "Freeze for the audit", ago(30)),
            Expect::Keep("disabled by arn:aws:iam::123456789012:user/ops-alice"),
        ),
        (
            "closed by a person, alarm fires → left as it is",
            keep,
            report(vec![alarm("canary", Alarm, ago(1))]),
            closed_by(PERSON, "Freeze", ago(30)),
            Expect::Keep("not by this function"),
        ),
        (
            "a person copying our reason is still a person",
            keep,
            report(vec![alarm("canary", Fine, ago(600)), alarm("latency", Fine, ago(600))]),
            closed_by(PERSON, &our_reason(), ago(30)),
            Expect::Keep("not by this function"),
        ),
        (
            "our identity without our marker: not ours",
            keep,
            report(vec![alarm("canary", Fine, ago(600)), alarm("latency", Fine, ago(600))]),
            closed_by(US, "Closed by hand with the function's role", ago(30)),
            Expect::Keep("not by this function"),
        ),
        (
            "a person enabled it after the alarm fired → stands",
            keep,
            report(vec![alarm("canary", Alarm, ago(20)), alarm("latency", Fine, ago(90))]),
            open_since(Some(PERSON), Some(ago(5))),
            Expect::Keep("stands until an alarm changes state"),
        ),
        (
            "the alarm changed again after the person's enable → close",
            keep,
            report(vec![alarm("canary", Alarm, ago(2)), alarm("latency", Fine, ago(90))]),
            open_since(Some(PERSON), Some(ago(5))),
            Expect::Close("alarm canary"),
        ),
        (
            "another alarm fires after the person's enable → close",
            keep,
            report(vec![alarm("canary", Alarm, ago(20)), alarm("latency", Alarm, ago(1))]),
            open_since(Some(PERSON), Some(ago(5))),
            Expect::Close("alarm canary"),
        ),
        (
            "a person enabled it before the alarm fired → close",
            keep,
            report(vec![alarm("canary", Alarm, ago(1))]),
            open_since(Some(PERSON), Some(ago(300))),
            Expect::Close("alarm canary"),
        ),
        (
            "we reopened it, the alarm fires again → close",
            keep,
            report(vec![alarm("canary", Alarm, ago(1))]),
            open_since(Some(US), Some(ago(5))),
            Expect::Close("alarm canary"),
        ),
    ];
    for (name, insufficient, alarms, transition, expected) in cases {
        let guard = guard(insufficient);
        let by = changed_by(&transition, "transition-disabler");
        let decision = decide(&guard, &alarms, &transition, &by, now());
        match (&decision, expected) {
            (Decision::Close { reason, alarm }, Expect::Close(word)) => {
                assert!(reason.contains(word), "{name}: {reason}");
                assert!(reason.starts_with(reason::MARKER), "{name}: {reason}");
                assert!(reason.contains(&alarm.name), "{name}: {reason}");
            }
            (Decision::Open { ok_since }, Expect::Open) => {
                assert!(*ok_since <= now() - TimeDelta::minutes(10), "{name}")
            }
            (Decision::Keep { why }, Expect::Keep(word)) => assert!(why.contains(word), "{name}: {why}"),
            (decision, _) => panic!("{name}: unexpected {decision:?}"),
        }
    }
}

#[test]
fn who_changed_it() {
    let cases = [
        (open_since(None, None), ChangedBy::Nobody),
        (open_since(Some(US), Some(ago(1))), ChangedBy::ThisFunction),
        (closed_by(US, &our_reason(), ago(1)), ChangedBy::ThisFunction),
        (closed_by(US, "by hand", ago(1)), ChangedBy::Someone(US.into())),
        (
            closed_by(PERSON, &our_reason(), ago(1)),
            ChangedBy::Someone(PERSON.into()),
        ),
        // Another function with a longer name that ends like ours is someone else.
        (
            open_since(
                Some("arn:aws:sts::1:assumed-role/r/my-transition-disabler"),
                Some(ago(1)),
            ),
            ChangedBy::Someone("arn:aws:sts::1:assumed-role/r/my-transition-disabler".into()),
        ),
        (
            open_since(Some("transition-disabler"), Some(ago(1))),
            ChangedBy::Someone("transition-disabler".into()),
        ),
    ];
    for (transition, expected) in cases {
        assert_eq!(
            changed_by(&transition, "transition-disabler"),
            expected,
            "{transition:?}"
        );
    }
}
