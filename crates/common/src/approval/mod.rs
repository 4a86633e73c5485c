//! The machinery every approval gate shares: parse what woke it (SNS approval notifications or the sweep
//! schedule), check each approval is still pending, ask the gate for a `Decision`, make sure a hold does not
//! run into the approval's expiry, and carry the decision out. A gate supplies only `facts → Decision`.
//!
//! No database: the sweep finds pending approvals through `GetPipeline` (approval actions whose
//! `NotificationArn` is the gate's topic) and `GetPipelineState` (their tokens).

mod desk;
mod expiry;
mod request;
mod trigger;

use std::future::Future;

use chrono::{Duration, Utc};
use serde::Serialize;
use serde_json::Value;

pub use desk::{ApprovalDesk, Carried};
pub use expiry::{reject_unswept_hold, settle_before_expiry};
pub use request::{ApprovalRequest, RequestSource, parse_expiry, parse_notification};
pub use trigger::{Trigger, parse_trigger};

use crate::Error;
use crate::gate::Decision;
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
        let pipelines: Vec<String> = env
            .optional("GATE_PIPELINES")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
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
    fn next_look(&self) -> Duration {
        self.sweep_interval + Duration::minutes(2)
    }
}

/// What the gate did with one approval; returned from the invocation and logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub approval: String,
    pub source: RequestSource,
    pub outcome: &'static str,
    pub reason: String,
}

/// Runs one invocation of a gate: `decide` turns an approval into a decision (gathering its facts).
/// Errors from AWS are returned after every approval had its turn, so one broken pipeline does not starve
/// the others and Lambda's retry still sees the failure.
pub async fn handle<F, Fut>(
    desk: &ApprovalDesk,
    settings: &GateSettings,
    event: &Value,
    decide: F,
) -> Result<Vec<Handled>, Error>
where
    F: Fn(ApprovalRequest) -> Fut,
    Fut: Future<Output = Decision>,
{
    let mut errors = Vec::new();
    let requests = match parse_trigger(event)? {
        Trigger::Approvals(requests) => requests,
        Trigger::Sweep => {
            let mut found = Vec::new();
            for pipeline in &settings.pipelines {
                match desk.pending_approvals(pipeline, &settings.topic_arn).await {
                    Ok(pending) => found.extend(pending),
                    Err(error) => {
                        tracing::error!(%pipeline, %error, "sweep could not read the pipeline");
                        errors.push(error);
                    }
                }
            }
            tracing::info!(pending = found.len(), pipelines = settings.pipelines.len(), "sweep");
            found
        }
    };
    let mut handled = Vec::new();
    for request in requests {
        match handle_one(desk, settings, request, &decide).await {
            Ok(done) => handled.push(done),
            Err(error) => {
                tracing::error!(%error, "approval not answered; it stays pending and the invocation fails");
                errors.push(error);
            }
        }
    }
    match errors.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(handled),
    }
}

async fn handle_one<F, Fut>(
    desk: &ApprovalDesk,
    settings: &GateSettings,
    request: ApprovalRequest,
    decide: &F,
) -> Result<Handled, Error>
where
    F: Fn(ApprovalRequest) -> Fut,
    Fut: Future<Output = Decision>,
{
    let (approval, source) = (request.place(), request.source);
    // A notification is only a hint: what the gate decides on (the action is this gate's, its token is the
    // pending one, its CustomData) is read from CodePipeline, so a forged or stale message cannot choose the rules.
    let pending = match source {
        RequestSource::Notification => desk.as_declared(&request, &settings.topic_arn).await?,
        RequestSource::Sweep => desk.still_pending(&request).await?.then_some(request),
    };
    let Some(request) = pending else {
        tracing::info!(
            %approval,
            "already decided (by a person or an earlier delivery), or not an approval on this gate's topic: nothing \
             to do"
        );
        return Ok(Handled {
            approval,
            source,
            outcome: "already_decided",
            reason: "no longer pending".into(),
        });
    };
    let expires = request.expires;
    let decision = settle_before_expiry(decide(request.clone()).await, expires, Utc::now(), settings.next_look());
    let decision = reject_unswept_hold(decision, &request.pipeline, &settings.pipelines);
    let reason = decision.explanation().to_owned();
    let carried = desk.carry_out(&request, &decision).await?;
    let outcome = match &carried {
        Carried::Approved => "approved",
        Carried::Rejected => "rejected",
        Carried::Held => "held",
        Carried::AlreadyDecided(_) => "already_decided",
    };
    match &carried {
        Carried::AlreadyDecided(why) => tracing::info!(%approval, %why, "already decided: nothing to do"),
        _ => tracing::info!(%approval, outcome, %reason, "approval decided"),
    }
    Ok(Handled {
        approval,
        source,
        outcome,
        reason,
    })
}

#[cfg(test)]
mod tests;
