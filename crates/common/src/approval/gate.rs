//! The gate trait and the function every gate is served as. A gate decides one approval from its facts
//! ([`Gate::decide`]); the machinery here finds the approvals (SNS or the sweep), reads each back from CodePipeline,
//! applies the expiry rules, carries the decision out, and then hands the gate what it asked to be told about
//! ([`Gate::after_batch`]: a hold notice, say).

use std::future::Future;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use super::desk::{ApprovalDesk, Carried};
use super::expiry::{reject_unswept_hold, settle_before_expiry};
use super::request::{ApprovalRequest, RequestSource};
use super::trigger::{Trigger, parse_trigger};
use super::{GateSettings, sweep};
use crate::Error;
use crate::aws::by_deadline;
use crate::gate::Decision;
use crate::runtime::{Function, Invocation};

/// Time kept back from the invocation's deadline so the result (and any notice) can still be sent.
pub(super) const DEADLINE_MARGIN: Duration = Duration::from_millis(1500);

/// One gate: facts in, a decision out. Implementations gather their facts by `deadline` (a share of the
/// invocation's time) and never approve on an error.
pub trait Gate: Send + Sync {
    /// What the gate wants to act on after the batch, per approval (e.g. a hold to tell people about).
    type Notice: Send;

    fn decide(&self, request: &ApprovalRequest, deadline: Instant)
    -> impl Future<Output = Ruling<Self::Notice>> + Send;

    /// Acts on the notices of the approvals this invocation settled, after every approval had its turn. An error
    /// fails the invocation (Lambda retries it; the decisions already sent are not sent again).
    fn after_batch(
        &self,
        settled: Vec<Settled<Self::Notice>>,
        deadline: Instant,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (settled, deadline);
        async { Ok(()) }
    }
}

/// A gate's decision on one approval, with what it wants to be told about afterwards.
pub struct Ruling<N> {
    pub decision: Decision,
    pub notice: Option<N>,
}

impl<N> From<Decision> for Ruling<N> {
    fn from(decision: Decision) -> Ruling<N> {
        Ruling { decision, notice: None }
    }
}

/// An approval the invocation settled, and the notice its ruling carried.
pub struct Settled<N> {
    pub handled: Handled,
    pub notice: N,
}

/// What was done with one approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Rejected,
    /// Nothing sent; the approval stays pending for the sweep.
    Held,
    /// No longer pending: a person or an earlier delivery answered it, before or while the gate decided.
    AlreadyDecided,
}

/// What the gate did with one approval; returned from the invocation and logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub approval: String,
    pub source: RequestSource,
    pub outcome: Outcome,
    pub reason: String,
}

/// A gate served as a Lambda function: the desk that talks to CodePipeline, the deployment's gate settings, and
/// where the next sweep starts (so a sweep cut by its deadline does not starve the pipelines after it).
pub struct GateFunction<G> {
    pub(super) desk: ApprovalDesk,
    pub(super) settings: GateSettings,
    pub(super) gate: G,
    pub(super) cursor: AtomicUsize,
}

impl<G: Gate> GateFunction<G> {
    pub fn new(desk: ApprovalDesk, settings: GateSettings, gate: G) -> GateFunction<G> {
        let cursor = AtomicUsize::new(sweep::first_start(settings.pipelines.len(), settings.sweep_interval));
        GateFunction {
            desk,
            settings,
            gate,
            cursor,
        }
    }

    pub fn gate(&self) -> &G {
        &self.gate
    }

    /// One invocation. Approvals from SNS fail the invocation on an AWS error (Lambda retries, the on-failure
    /// queue keeps the event); a sweep never does: its errors are logged, and the next sweep is its retry.
    pub async fn handle(&self, event: &Value, deadline: Instant) -> Result<Vec<Handled>, Error> {
        let deadline = deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline);
        let mut settled = Vec::new();
        let handled = match parse_trigger(event)? {
            Trigger::Approvals(requests) => {
                let mut handled = Vec::new();
                let mut first_error = None;
                let count = requests.len();
                for (index, request) in requests.into_iter().enumerate() {
                    let share = sweep::share(deadline, count - index);
                    match self.handle_one(request, share, &mut settled).await {
                        Ok(done) => handled.push(done),
                        Err(error) => {
                            tracing::error!(%error, "approval not answered; it stays pending and the invocation fails");
                            first_error.get_or_insert(error);
                        }
                    }
                }
                if let Some(error) = first_error {
                    self.gate.after_batch(settled, deadline).await?;
                    return Err(error);
                }
                handled
            }
            Trigger::Sweep => sweep::run(self, deadline, &mut settled).await,
        };
        self.gate.after_batch(settled, deadline).await?;
        Ok(handled)
    }

    /// Reads one approval back from CodePipeline, decides it within `deadline`, and carries the decision out.
    pub(super) async fn handle_one(
        &self,
        request: ApprovalRequest,
        deadline: Instant,
        settled: &mut Vec<Settled<G::Notice>>,
    ) -> Result<Handled, Error> {
        let (approval, source) = (request.place(), request.source);
        // A notification is only a hint: what the gate decides on (the action is this gate's, its token is the
        // pending one, its CustomData) is read from CodePipeline, so a forged or stale message cannot choose the
        // rules.
        let pending = match source {
            RequestSource::Notification => {
                self.desk
                    .as_declared(&request, &self.settings.topic_arn, deadline)
                    .await?
            }
            RequestSource::Sweep => self.desk.still_pending(&request, deadline).await?.then_some(request),
        };
        let Some(request) = pending else {
            tracing::info!(
                %approval,
                "already decided (by a person or an earlier delivery), or not an approval on this gate's topic: \
                 nothing to do"
            );
            return Ok(Handled {
                approval,
                source,
                outcome: Outcome::AlreadyDecided,
                reason: "no longer pending".into(),
            });
        };
        // The answer must still be sent after the decision: the gate gets the time up to a margin before that.
        let decide_by = deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline);
        let ruling = match by_deadline(decide_by, self.gate.decide(&request, decide_by)).await {
            Some(ruling) => ruling,
            None => Ruling::from(Decision::Hold {
                reason: "the gate could not gather its facts within its share of the invocation's time; the next \
                         sweep decides again"
                    .into(),
                recheck_after: Utc::now() + self.settings.sweep_interval,
            }),
        };
        let now = Utc::now();
        let decision = settle_before_expiry(ruling.decision, request.expires, now, self.settings.next_look());
        let decision = reject_unswept_hold(decision, &request.pipeline, &self.settings.pipelines);
        let carried = self.desk.carry_out(&request, &decision, deadline).await?;
        let (outcome, reason) = match carried {
            Carried::Approved => (Outcome::Approved, decision.explanation().to_owned()),
            Carried::Rejected => (Outcome::Rejected, decision.explanation().to_owned()),
            Carried::Held => (Outcome::Held, decision.explanation().to_owned()),
            // What CodePipeline said, not the decision that could not be sent.
            Carried::AlreadyDecided(why) => (Outcome::AlreadyDecided, why),
        };
        match outcome {
            Outcome::AlreadyDecided => tracing::info!(%approval, why = %reason, "already decided: nothing to do"),
            _ => tracing::info!(%approval, ?outcome, %reason, "approval decided"),
        }
        let handled = Handled {
            approval,
            source,
            outcome,
            reason,
        };
        if let Some(notice) = ruling.notice {
            settled.push(Settled {
                handled: handled.clone(),
                notice,
            });
        }
        Ok(handled)
    }
}

impl<G: Gate> Function for GateFunction<G> {
    type Output = Vec<Handled>;
    type Error = Error;

    async fn invoke(&self, event: Value, invocation: Invocation) -> Result<Vec<Handled>, Error> {
        self.handle(&event, invocation.deadline).await
    }
}
