//! The approval auto-approver: a Manual approval action waits while the deployed segment bakes; this gate
//! approves once every guarding CloudWatch alarm has been OK for the bake time (and the optional check suite
//! passes), and rejects as soon as one fires. `settings` reads the pipeline's CustomData, `alarms` gathers the
//! facts, `decide` is the alarms' rule, `checked` the checks' word on an approval.

pub mod alarms;
pub mod checked;
pub mod decide;
pub mod settings;

use std::time::{Duration, Instant};

use hooks_common::approval::{ApprovalRequest, Gate, Ruling};
use hooks_common::gate::{Decision, FailurePolicy};

/// Time kept back from the invocation's deadline, after the checks ran, for reading the alarms again and
/// answering the approval.
const ANSWER_MARGIN: Duration = Duration::from_secs(5);

/// The clients one approval's facts come from, built once per container.
pub struct Sources {
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// For the CustomData check suite (`checks::http_client_with`: no redirects followed, `policy` applied).
    pub http: reqwest::Client,
    /// The addresses checks may reach.
    pub policy: checks::AddressPolicy,
}

/// The auto-approver as a gate: its clients and the deployment's defaults.
pub struct AutoApprover {
    pub sources: Sources,
    pub defaults: settings::Defaults,
}

impl Gate for AutoApprover {
    type Notice = ();

    async fn decide(&self, request: &ApprovalRequest, deadline: Instant) -> Ruling<()> {
        decide_approval(&self.sources, &self.defaults, request.clone(), deadline)
            .await
            .into()
    }
}

/// Gathers the facts for one approval and decides; never fails (errors become the failure policy's decision).
/// `deadline` is the invocation's: a check suite is cut short of it, leaving time to answer.
pub async fn decide_approval(
    sources: &Sources,
    defaults: &settings::Defaults,
    request: ApprovalRequest,
    deadline: Instant,
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
    let requested_at = request.requested_at;
    match (
        alarms_decision(sources, &watch, policy, requested_at, now).await,
        &watch.checks,
    ) {
        (Decision::Approve { summary }, Some(suite)) => {
            let report = suite
                .run_with(
                    &sources.http,
                    &sources.policy,
                    deadline.checked_sub(ANSWER_MARGIN).unwrap_or(deadline),
                )
                .await;
            tracing::info!(approval = %request.place(), summary = %report.summary(), "checks ran");
            let checked = checked::with_checks(&summary, &report, chrono::Utc::now(), watch.recheck);
            if !matches!(checked, Decision::Approve { .. }) {
                return checked;
            }
            let after = alarms_decision(sources, &watch, policy, requested_at, chrono::Utc::now()).await;
            checked::alarms_after_checks(checked, after)
        }
        (decision, _) => decision,
    }
}

/// The alarms' decision on a fresh reading of them.
async fn alarms_decision(
    sources: &Sources,
    watch: &settings::Watch,
    policy: FailurePolicy,
    requested_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Decision {
    let alarms = alarms::describe(&sources.cloudwatch, &watch.selector).await;
    decide::decide(
        &decide::Facts {
            alarms,
            requested_at,
            now,
        },
        watch,
        policy,
    )
}
