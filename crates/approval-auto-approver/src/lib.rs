//! The approval auto-approver: a Manual approval action waits while the deployed segment bakes; this gate
//! approves once every guarding CloudWatch alarm has been OK for the bake time, and rejects as soon as one
//! fires. `settings` reads the pipeline's CustomData, `alarms` gathers the facts, `decide` is the rule.

pub mod alarms;
pub mod decide;
mod error;
pub mod settings;

pub use error::ApproverError;

use hooks_common::approval::ApprovalRequest;
use hooks_common::gate::{Decision, FailurePolicy};

/// Gathers the facts for one approval and decides; never fails (errors become the failure policy's decision).
pub async fn decide_approval(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    defaults: &settings::Defaults,
    request: ApprovalRequest,
) -> Decision {
    let now = chrono::Utc::now();
    let settings = match request.settings::<settings::ApproverSettings>() {
        Ok(settings) => settings,
        // A broken CustomData will not fix itself on the next sweep: reject, saying which field and how.
        Err(problem) => {
            return Decision::Reject {
                reason: format!("{problem}. See the README's auto-approver CustomData"),
            };
        }
    };
    let watch = match settings.watch(defaults) {
        Ok(watch) => watch,
        Err(problem) => return Decision::Reject { reason: problem },
    };
    let policy: FailurePolicy = settings.on_error.unwrap_or_default();
    let alarms = alarms::describe(cloudwatch, &watch.selector).await;
    decide::decide(
        &decide::Facts {
            alarms,
            requested_at: request.requested_at,
            now,
        },
        &watch,
        policy,
    )
}
