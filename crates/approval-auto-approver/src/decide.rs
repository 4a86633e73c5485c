//! The rule, as a pure function: any alarm in ALARM rejects; missing data or a bake not yet complete
//! holds; every alarm OK for the whole bake approves. Errors follow the failure policy, never approve.

use chrono::{DateTime, Utc};
use hooks_common::gate::{Decision, FailurePolicy};

use crate::alarms::{AlarmReport, AlarmState};
use crate::settings::Watch;

pub struct Facts {
    pub alarms: Result<AlarmReport, String>,
    /// When the approval started waiting: the bake counts from here at the earliest.
    pub requested_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// Minutes for people: whole minutes, or seconds when the bake is shorter than that.
fn minutes(d: chrono::Duration) -> String {
    if d.num_minutes() >= 1 || d.is_zero() {
        format!("{} min", d.num_minutes())
    } else {
        format!("{} s", d.num_seconds())
    }
}

pub fn decide(facts: &Facts, watch: &Watch, policy: FailurePolicy) -> Decision {
    let now = facts.now;
    let report = match &facts.alarms {
        Ok(report) => report,
        Err(problem) => return policy.on_error(problem, now, watch.recheck),
    };
    if !report.missing.is_empty() {
        return Decision::Reject {
            reason: format!(
                "alarm(s) not found: {}. Check the names in CustomData `alarms` (they must match CloudWatch exactly)",
                report.missing.join(", ")
            ),
        };
    }
    if let Some(prefix) = &report.empty_prefix {
        return Decision::Reject {
            reason: format!("no CloudWatch alarm name starts with `{prefix}`: check `alarm_prefix`"),
        };
    }
    if let Some(firing) = report.alarms.iter().find(|a| a.state == AlarmState::Alarm) {
        return Decision::Reject {
            reason: format!(
                "alarm {} is in ALARM since {} UTC: {}",
                firing.name,
                firing.since.format("%H:%M"),
                firing.reason
            ),
        };
    }
    if let Some(silent) = report.alarms.iter().find(|a| a.state == AlarmState::InsufficientData) {
        return Decision::Hold {
            reason: format!(
                "alarm {} has INSUFFICIENT_DATA (no current data to judge the release): waiting",
                silent.name
            ),
            recheck_after: now + watch.recheck,
        };
    }
    // The bake starts when the approval started waiting, or later if an alarm only became OK since.
    let bake_start = report
        .alarms
        .iter()
        .map(|a| a.since)
        .fold(facts.requested_at, DateTime::max);
    let baked = now - bake_start;
    if baked < watch.bake {
        let youngest = report
            .alarms
            .iter()
            .max_by_key(|a| a.since)
            .filter(|a| a.since > facts.requested_at);
        let counted_from = match youngest {
            Some(alarm) => format!("since alarm {} became OK", alarm.name),
            None => "since the approval started".to_owned(),
        };
        return Decision::Hold {
            reason: format!(
                "baking: all {} alarm(s) OK for {} of {} {counted_from}",
                report.alarms.len(),
                minutes(baked.max(chrono::Duration::zero())),
                minutes(watch.bake)
            ),
            recheck_after: bake_start + watch.bake,
        };
    }
    let names: Vec<&str> = report.alarms.iter().map(|a| a.name.as_str()).collect();
    Decision::Approve {
        summary: format!(
            "auto-approved: {} alarm(s) OK for {} (bake {}): {}",
            names.len(),
            minutes(baked),
            minutes(watch.bake),
            names.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::AlarmFact;
    use crate::settings::AlarmSelector;
    use chrono::Duration;

    fn watch() -> Watch {
        Watch {
            selector: AlarmSelector {
                names: vec![],
                prefix: Some("app-".into()),
            },
            bake: Duration::minutes(30),
            recheck: Duration::minutes(5),
            checks: None,
        }
    }

    fn alarm(name: &str, state: AlarmState, minutes_ago: i64, now: DateTime<Utc>) -> AlarmFact {
        AlarmFact {
            name: name.into(),
            state,
            reason: "Threshold Crossed: 3 datapoints".into(),
            since: now - Duration::minutes(minutes_ago),
        }
    }

    fn report(alarms: Vec<AlarmFact>) -> Result<AlarmReport, String> {
        Ok(AlarmReport {
            alarms,
            ..Default::default()
        })
    }

    #[test]
    fn the_table() {
        use AlarmState::*;
        let now = Utc::now();
        let started = |minutes_ago| now - Duration::minutes(minutes_ago);
        // (alarms, approval waiting since (min ago), expected kind, text the explanation must carry)
        let cases: Vec<(Result<AlarmReport, String>, i64, &str, &str)> = vec![
            (
                report(vec![alarm("app-5xx", Ok, 600, now), alarm("app-p99", Ok, 600, now)]),
                45,
                "approve",
                "2 alarm(s) OK for 45 min",
            ),
            (
                report(vec![alarm("app-5xx", Ok, 600, now), alarm("app-p99", Alarm, 3, now)]),
                45,
                "reject",
                "alarm app-p99 is in ALARM",
            ),
            (
                report(vec![
                    alarm("app-5xx", Ok, 600, now),
                    alarm("app-p99", InsufficientData, 3, now),
                ]),
                45,
                "hold",
                "INSUFFICIENT_DATA",
            ),
            (
                report(vec![alarm("app-5xx", Ok, 600, now)]),
                10,
                "hold",
                "OK for 10 min of 30 min since the approval started",
            ),
            (
                report(vec![alarm("app-5xx", Ok, 12, now)]),
                45,
                "hold",
                "OK for 12 min of 30 min since alarm app-5xx became OK",
            ),
            (
                report(vec![alarm("app-5xx", Ok, 30, now)]),
                30,
                "approve",
                "OK for 30 min",
            ),
            (
                report(vec![
                    alarm("app-5xx", Alarm, 600, now),
                    alarm("app-p99", InsufficientData, 1, now),
                ]),
                45,
                "reject",
                "app-5xx",
            ),
            (
                Err("DescribeAlarms failed: throttled".into()),
                45,
                "hold",
                "DescribeAlarms failed: throttled",
            ),
            (
                Result::Ok(AlarmReport {
                    missing: vec!["app-gone".into()],
                    ..Default::default()
                }),
                45,
                "reject",
                "not found: app-gone",
            ),
            (
                Result::Ok(AlarmReport {
                    empty_prefix: Some("app-".into()),
                    ..Default::default()
                }),
                45,
                "reject",
                "starts with `app-`",
            ),
        ];
        for (alarms, waiting, expected, text) in cases {
            let facts = Facts {
                alarms,
                requested_at: started(waiting),
                now,
            };
            let decision = decide(&facts, &watch(), FailurePolicy::Hold);
            assert_eq!(decision.kind(), expected, "{decision:?}");
            assert!(decision.explanation().contains(text), "{text:?} not in {decision:?}");
        }
    }

    #[test]
    fn a_hold_rechecks_when_the_bake_completes() {
        let now = Utc::now();
        let facts = Facts {
            alarms: report(vec![alarm("app-5xx", AlarmState::Ok, 12, now)]),
            requested_at: now - Duration::hours(1),
            now,
        };
        let Decision::Hold { recheck_after, .. } = decide(&facts, &watch(), FailurePolicy::Hold) else {
            panic!()
        };
        assert_eq!(recheck_after, now - Duration::minutes(12) + Duration::minutes(30));
    }

    #[test]
    fn errors_follow_the_policy_and_never_approve() {
        let now = Utc::now();
        for (policy, expected) in [(FailurePolicy::Hold, "hold"), (FailurePolicy::Reject, "reject")] {
            let facts = Facts {
                alarms: Err("timeout".into()),
                requested_at: now - Duration::days(1),
                now,
            };
            let decision = decide(&facts, &watch(), policy);
            assert!(!decision.is_approve());
            assert_eq!(matches!(decision, Decision::Hold { .. }), expected == "hold");
        }
    }
}
