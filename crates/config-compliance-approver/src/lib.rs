//! The Config compliance approver: a Manual approval in front of production waits until the named AWS Config
//! rules say the release's world is compliant. `settings` reads the pipeline's CustomData, `config` reads Config
//! (every list paged to its end), `decide` is the rule, and this file asks Config for a fresh evaluation when the
//! rule says so (once per approval) and logs every non-compliant resource the summary had no room for.

pub mod config;
pub mod decide;
pub mod facts;
pub mod settings;

use std::time::Instant;

use chrono::Utc;
use hooks_common::approval::{ApprovalRequest, Gate, Ruling};
use hooks_common::gate::Decision;

use crate::decide::{Facts, Terms, Verdict};
use crate::settings::{ComplianceSettings, Defaults};

/// The approver as a gate: its Config client and the deployment's defaults.
pub struct ComplianceApprover {
    pub config: aws_sdk_config::Client,
    pub defaults: Defaults,
}

impl Gate for ComplianceApprover {
    type Notice = ();

    async fn decide(&self, request: &ApprovalRequest, deadline: Instant) -> Ruling<()> {
        decide_approval(&self.config, &self.defaults, request, deadline)
            .await
            .into()
    }
}

/// Reads Config for one approval and decides; never fails (errors become the failure policy's decision).
pub async fn decide_approval(
    config: &aws_sdk_config::Client,
    defaults: &Defaults,
    request: &ApprovalRequest,
    deadline: Instant,
) -> Decision {
    let check = match request.settings::<ComplianceSettings>().and_then(|s| s.check(defaults)) {
        Ok(check) => check,
        // A broken CustomData will not fix itself on the next sweep: reject, saying which field and how.
        Err(problem) => {
            return Decision::Reject {
                reason: format!("{problem}. See the README's compliance approver CustomData"),
            };
        }
    };
    let facts = Facts {
        gathered: config::gather(config, &check, &request.pipeline, deadline).await,
        requested_at: request.requested_at,
        now: Utc::now(),
    };
    let terms = Terms {
        resources: check.resources,
        max_age: check.max_age,
        on_error: check.on_error,
        recheck: check.recheck,
    };
    let Verdict { decision, evaluate } = decide::decide(&facts, &terms);
    log_offenders(request, &facts, &decision);
    if evaluate.is_empty() {
        return decision;
    }
    match config::start_evaluation(config, &evaluate, deadline).await {
        Ok(()) => {
            tracing::info!(approval = %request.place(), rules = %evaluate.join(", "), "asked Config to evaluate");
            decision
        }
        // The hold stands; the rules were not invoked, so the next sweep asks again.
        Err(problem) => match decision {
            Decision::Hold { reason, recheck_after } => Decision::Hold {
                reason: format!("{reason} (but {problem}; the next sweep asks again)"),
                recheck_after,
            },
            other => other,
        },
    }
}

/// Every non-compliant resource of a rejection, one log line each: the summary names only the first few.
fn log_offenders(request: &ApprovalRequest, facts: &Facts, decision: &Decision) {
    let (Decision::Reject { .. }, Ok(gathered)) = (decision, &facts.gathered) else {
        return;
    };
    for rule in &gathered.rules {
        for offender in &rule.offenders {
            tracing::info!(
                approval = %request.place(),
                rule = %rule.name,
                resource_type = %offender.resource_type,
                resource_id = %offender.resource_id,
                annotation = offender.annotation.as_deref().unwrap_or(""),
                "non-compliant resource"
            );
        }
    }
}
