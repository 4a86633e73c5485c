//! An approval left pending past its expiry fails as a timeout, which tells nobody why. A gate that is
//! still holding when the next look would come too late, or would never come, rejects instead, and says so.

use chrono::{DateTime, Duration, Utc};

use crate::gate::Decision;

/// Turns a `Hold` into a `Reject` when `now + next_look` reaches `expires` (this is the last look).
pub fn settle_before_expiry(
    decision: Decision,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
    next_look: Duration,
) -> Decision {
    match decision {
        Decision::Hold { reason, .. } if now + next_look >= expires => Decision::Reject {
            // The verdict first: the reason may be long, and the approval summary is cut at 512 characters.
            reason: format!(
                "the approval expires at {} UTC, before the gate's next check, so it is rejected now rather than \
                 left to time out. Held because: {reason}",
                expires.format("%Y-%m-%d %H:%M")
            ),
        },
        other => other,
    }
}

/// Turns a `Hold` into a `Reject` when the sweep does not look into the approval's pipeline: nothing would
/// decide it again, and it would time out without a reason.
pub fn reject_unswept_hold(decision: Decision, pipeline: &str, swept: &[String]) -> Decision {
    match decision {
        Decision::Hold { reason, .. } if !swept.iter().any(|p| p == pipeline) => Decision::Reject {
            reason: format!(
                "the gate's sweep does not look into pipeline `{pipeline}` (add it to GATE_PIPELINES, the \
                 ApprovalPipelines parameter), so a hold would never be decided again; rejected now. Held because: \
                 {reason}"
            ),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_the_sweep_would_never_revisit_becomes_a_reject() {
        let now = Utc::now();
        let hold = || Decision::Hold {
            reason: "baking".into(),
            recheck_after: now,
        };
        let swept = vec!["shop".to_owned()];
        assert_eq!(reject_unswept_hold(hold(), "shop", &swept), hold());
        let Decision::Reject { reason } = reject_unswept_hold(hold(), "payments", &swept) else {
            panic!("a hold outside the sweep must reject")
        };
        assert!(
            reason.starts_with("the gate's sweep does not look into pipeline `payments`") && reason.ends_with("baking"),
            "{reason}"
        );
        let approve = Decision::Approve { summary: "ok".into() };
        assert_eq!(reject_unswept_hold(approve.clone(), "payments", &swept), approve);
        let reject = Decision::Reject { reason: "alarm".into() };
        assert_eq!(reject_unswept_hold(reject.clone(), "payments", &[]), reject);
    }

    #[test]
    fn only_a_hold_at_its_last_look_becomes_a_reject() {
        let now = Utc::now();
        let look = Duration::minutes(7);
        let hold = || Decision::Hold {
            reason: "bake time: 10 of 30 minutes".into(),
            recheck_after: now + Duration::minutes(20),
        };
        let approve = Decision::Approve { summary: "ok".into() };
        let reject = Decision::Reject { reason: "alarm".into() };
        let cases = [
            (hold(), now + Duration::hours(2), false),
            (hold(), now + Duration::minutes(7), true),
            (hold(), now + Duration::minutes(3), true),
            (hold(), now - Duration::minutes(1), true),
            (approve.clone(), now + Duration::minutes(1), false),
            (reject.clone(), now + Duration::minutes(1), false),
        ];
        for (decision, expires, becomes_reject) in cases {
            let before = decision.clone();
            let after = settle_before_expiry(decision, expires, now, look);
            if becomes_reject {
                let Decision::Reject { reason } = &after else {
                    panic!("{after:?}")
                };
                assert!(
                    reason.starts_with("the approval expires at") && reason.ends_with("bake time: 10 of 30 minutes"),
                    "{reason}"
                );
            } else {
                assert_eq!(after, before);
            }
        }
    }
}
