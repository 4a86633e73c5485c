//! The machinery every approval gate shares: parse what woke it (SNS approval notifications or the sweep
//! schedule), check each approval is still pending, ask the gate for a `Decision`, make sure a hold does not
//! run into the approval's expiry, and carry the decision out. A gate supplies only `facts → Decision`.
//!
//! No database: the sweep finds pending approvals through `GetPipeline` (approval actions whose
//! `NotificationArn` is the gate's topic) and `GetPipelineState` (their tokens).

mod desk;
mod expiry;
mod gate;
mod request;
mod sweep;
mod trigger;

use chrono::Duration;

pub use desk::{ApprovalDesk, Carried};
pub use expiry::{reject_unswept_hold, settle_before_expiry};
pub use gate::{Gate, GateFunction, Handled, Outcome, Ruling, Settled};
pub use request::{ApprovalRequest, RequestSource, parse_expiry, parse_notification};
pub use trigger::{Trigger, parse_trigger};

use crate::Error;
use crate::settings::Env;

/// Deployment-wide settings of a gate, from the template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateSettings {
    /// The SNS topic the gate's approval actions notify (`GATE_TOPIC_ARN`).
    pub topic_arn: String,
    /// The pipelines the sweep looks into (`GATE_PIPELINES`, comma-separated).
    pub pipelines: Vec<String>,
    /// How often the sweep runs (`SWEEP_INTERVAL_MINUTES`, default 5): a hold that would still stand at
    /// expiry is rejected on the last look before it.
    pub sweep_interval: Duration,
}

impl GateSettings {
    pub fn from_env(env: &Env) -> Result<GateSettings, Error> {
        let topic_arn = env.required(
            "GATE_TOPIC_ARN",
            "set it to the ARN of the SNS topic the approval actions notify",
        )?;
        // Each pipeline once, in the order given: a duplicate would be read (and its approvals decided) twice.
        let mut pipelines: Vec<String> = Vec::new();
        for pipeline in env
            .optional("GATE_PIPELINES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
        {
            if !pipeline.is_empty() && !pipelines.iter().any(|p| p == pipeline) {
                pipelines.push(pipeline.to_owned());
            }
        }
        let minutes = match env.optional("SWEEP_INTERVAL_MINUTES") {
            None => 5,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|m| (1..=1440).contains(m))
                .ok_or_else(|| Error::Setting {
                    name: "SWEEP_INTERVAL_MINUTES".into(),
                    problem: format!("`{text}` is not a whole number of minutes from 1 to 1440"),
                    fix: "set it to the sweep schedule's rate in minutes, e.g. 5".into(),
                })?,
        };
        Ok(GateSettings {
            topic_arn,
            pipelines,
            sweep_interval: Duration::minutes(minutes),
        })
    }

    /// How far ahead the next look may be: one sweep interval plus slack for schedule jitter.
    pub(crate) fn next_look(&self) -> Duration {
        self.sweep_interval + Duration::minutes(2)
    }
}
