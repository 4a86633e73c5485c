//! The one model every gate decides in: facts in, a `Decision` out, carried out at the edge.
//!
//! A gate never approves on an error: when gathering a fact fails, its `FailurePolicy` turns the error
//! into a Hold or a Reject that says what failed.

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Promote the release; the summary says what was checked.
    Approve { summary: String },
    /// Stop the release; the reason says why.
    Reject { reason: String },
    /// Leave the approval pending; the scheduled sweep decides again after `recheck_after`.
    Hold {
        reason: String,
        recheck_after: DateTime<Utc>,
    },
}

impl Decision {
    /// What a person reading the approval history or the logs is told.
    pub fn explanation(&self) -> &str {
        match self {
            Decision::Approve { summary } => summary,
            Decision::Reject { reason } | Decision::Hold { reason, .. } => reason,
        }
    }

    pub fn is_approve(&self) -> bool {
        matches!(self, Decision::Approve { .. })
    }

    /// `approve`, `reject` or `hold`: the decision without its words, for logs and decision tables.
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Approve { .. } => "approve",
            Decision::Reject { .. } => "reject",
            Decision::Hold { .. } => "hold",
        }
    }
}

/// What a gate does when it cannot gather its facts. There is deliberately no "approve" policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailurePolicy {
    /// Keep the approval pending and try again at the next sweep.
    #[default]
    Hold,
    /// End the release now.
    Reject,
}

impl FailurePolicy {
    /// The decision for a fact that could not be gathered; the reason names what failed and the policy.
    pub fn on_error(self, what_failed: &str, now: DateTime<Utc>, recheck_after: chrono::Duration) -> Decision {
        match self {
            FailurePolicy::Hold => Decision::Hold {
                reason: format!("could not check: {what_failed} (failure policy: hold and retry)"),
                recheck_after: now + recheck_after,
            },
            FailurePolicy::Reject => Decision::Reject {
                reason: format!("could not check: {what_failed} (failure policy: reject)"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_approve_and_say_what_failed() {
        let now = Utc::now();
        for policy in [FailurePolicy::Hold, FailurePolicy::Reject] {
            let decision = policy.on_error("DescribeAlarms timed out", now, chrono::Duration::minutes(5));
            assert!(!decision.is_approve());
            assert!(
                decision.explanation().contains("DescribeAlarms timed out"),
                "{decision:?}"
            );
        }
        assert_eq!(
            FailurePolicy::Hold.on_error("x", now, chrono::Duration::minutes(5)),
            Decision::Hold {
                reason: "could not check: x (failure policy: hold and retry)".into(),
                recheck_after: now + chrono::Duration::minutes(5)
            }
        );
    }

    #[test]
    fn policy_defaults_to_hold_and_parses_lowercase() {
        assert_eq!(FailurePolicy::default(), FailurePolicy::Hold);
        let parsed: FailurePolicy = serde_json::from_str("\"reject\"").unwrap();
        assert_eq!(parsed, FailurePolicy::Reject);
        assert!(serde_json::from_str::<FailurePolicy>("\"approve\"").is_err());
    }
}
