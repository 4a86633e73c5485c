//! The checks' word on a release the alarms would approve, as a pure function: the suite runs only once the
//! bake is complete (checking earlier would prove nothing about the baked release and add load), and it can
//! only take an approval away, never give one.

use checks::SuiteReport;
use chrono::{DateTime, Duration, Utc};
use hooks_common::gate::Decision;

/// Room left for the failing checks in a 512-character approval summary.
const FAILURE_ROOM_CHARS: usize = 400;

/// `alarms_summary` is the approval the alarms gave; `report` is the suite's run.
/// Passing → Approve with both summaries; a failing check → Reject naming it, expected versus got;
/// a run the deadline cut → Hold (unfinished checks prove nothing), to run again at the next sweep.
pub fn with_checks(alarms_summary: &str, report: &SuiteReport, now: DateTime<Utc>, recheck: Duration) -> Decision {
    if report.passed() {
        return Decision::Approve {
            summary: format!("{alarms_summary}; checks {}", report.summary()),
        };
    }
    if report.failed == 0 && report.not_run > 0 {
        return Decision::Hold {
            reason: format!(
                "alarms baked, but {} check(s) did not finish before the function's deadline: running them again \
                 at the next sweep (raise the function's timeout or lower the suite's timeout_ms)",
                report.not_run
            ),
            recheck_after: now + recheck,
        };
    }
    Decision::Reject {
        reason: format!(
            "alarms baked, but the checks failed. {}",
            report.failure_message_within(FAILURE_ROOM_CHARS)
        ),
    }
}

/// The alarms have the last word on an approval the checks gave: the checks take time and may be what upset the
/// segment, so the alarms are read again after them. `after_checks` is the alarms' decision on that reading.
pub fn alarms_after_checks(checked: Decision, after_checks: Decision) -> Decision {
    match (checked, after_checks) {
        (approve @ Decision::Approve { .. }, Decision::Approve { .. }) => approve,
        (Decision::Approve { .. }, Decision::Reject { reason }) => Decision::Reject {
            reason: format!("the checks passed, but then {reason}"),
        },
        (Decision::Approve { .. }, Decision::Hold { reason, recheck_after }) => Decision::Hold {
            reason: format!("the checks passed, but then {reason}"),
            recheck_after,
        },
        (other, _) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checks::{CheckResult, Failure, Outcome, PassCriterion};

    fn result(name: &str, outcome: Outcome) -> CheckResult {
        CheckResult {
            name: name.into(),
            outcome,
            attempts: 1,
            latency_ms: Some(12),
        }
    }

    fn failed(status: u16) -> Outcome {
        Outcome::Failed {
            failure: Failure::Unexpected {
                status,
                mismatches: vec![],
                body_excerpt: "upstream unavailable".into(),
            },
        }
    }

    fn report(results: Vec<CheckResult>, pass: PassCriterion) -> SuiteReport {
        SuiteReport::new(results, pass, std::time::Duration::from_millis(40))
    }

    #[test]
    fn the_table() {
        let now = Utc::now();
        let not_run = Outcome::NotRun { last_failure: None };
        // (results, pass criterion, expected kind, text the explanation must carry)
        let cases = vec![
            (
                vec![result("health", Outcome::Passed), result("checkout", Outcome::Passed)],
                PassCriterion::All,
                "approve",
                "checks PASS: 2/2 checks passed",
            ),
            (
                vec![result("health", Outcome::Passed), result("checkout", failed(503))],
                PassCriterion::All,
                "reject",
                "checkout",
            ),
            (
                vec![result("health", Outcome::Passed), result("checkout", failed(503))],
                PassCriterion::MinPassedPercent(50),
                "approve",
                "1/2 checks passed, 1 failed",
            ),
            (
                vec![result("health", Outcome::Passed), result("checkout", not_run.clone())],
                PassCriterion::All,
                "hold",
                "1 check(s) did not finish",
            ),
            // A failure decides even when the deadline also cut a check: the release is already known bad.
            (
                vec![result("health", failed(500)), result("checkout", not_run)],
                PassCriterion::All,
                "reject",
                "health",
            ),
        ];
        for (results, pass, expected, text) in cases {
            let decision = with_checks(
                "auto-approved: 2 alarm(s) OK",
                &report(results, pass),
                now,
                Duration::minutes(5),
            );
            let kind = decision.kind();
            assert_eq!(kind, expected, "{decision:?}");
            assert!(decision.explanation().contains(text), "{text:?} not in {decision:?}");
            if kind == "approve" {
                assert!(
                    decision
                        .explanation()
                        .starts_with("auto-approved: 2 alarm(s) OK; checks")
                );
            }
        }
    }

    #[test]
    fn a_rejection_fits_the_approval_summary() {
        let many: Vec<CheckResult> = (0..50).map(|i| result(&format!("check-{i}"), failed(500))).collect();
        let decision = with_checks(
            "alarms ok",
            &report(many, PassCriterion::All),
            Utc::now(),
            Duration::minutes(5),
        );
        assert!(matches!(decision, Decision::Reject { .. }));
        assert!(
            decision.explanation().chars().count() <= 512,
            "{}",
            decision.explanation()
        );
        assert!(decision.explanation().contains("more"), "{}", decision.explanation());
    }

    #[test]
    fn the_alarms_read_after_the_checks_can_only_take_an_approval_away() {
        let now = Utc::now();
        let approve = |summary: &str| Decision::Approve {
            summary: summary.into(),
        };
        let reject = |reason: &str| Decision::Reject { reason: reason.into() };
        let hold = |reason: &str| Decision::Hold {
            reason: reason.into(),
            recheck_after: now,
        };
        // (what the checks gave, the alarms' decision read after them, expected kind, text it must carry)
        let cases = [
            (
                approve("alarms OK; checks PASS"),
                approve("alarms OK"),
                "approve",
                "alarms OK; checks PASS",
            ),
            (
                approve("alarms OK; checks PASS"),
                reject("alarm app-5xx is in ALARM"),
                "reject",
                "the checks passed, but then alarm app-5xx is in ALARM",
            ),
            (
                approve("alarms OK; checks PASS"),
                hold("alarm app-p99 is INSUFFICIENT_DATA"),
                "hold",
                "the checks passed, but then alarm app-p99",
            ),
            (
                reject("checkout failed"),
                approve("alarms OK"),
                "reject",
                "checkout failed",
            ),
            (
                hold("2 check(s) did not finish"),
                approve("alarms OK"),
                "hold",
                "did not finish",
            ),
        ];
        for (checked, after, expected, text) in cases {
            let decision = alarms_after_checks(checked, after);
            assert_eq!(decision.kind(), expected, "{decision:?}");
            assert!(decision.explanation().contains(text), "{text:?} not in {decision:?}");
        }
    }
}
