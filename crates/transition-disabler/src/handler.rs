//! The edge: which guards an event concerns, the facts read back for each, the decision carried out, the notice
//! sent, the metric printed. The event itself is only a hint ("look again"): an alarm state change names the
//! alarm, so only its guards are looked at; the schedule looks at every guard (missed events, ended cooldowns).
//! Duplicate and out-of-order events therefore change nothing: each look acts on the current facts, and a change
//! already made is seen as made.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_codepipeline::types::StageTransitionType;
use chrono::Utc;
use hooks_common::Error;
use hooks_common::aws::call;
use hooks_common::notice::{Destination, Notice, Notifier};
use hooks_common::runtime::{Function, Invocation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decide::{Decision, changed_by, decide};
use crate::facts;
use crate::metrics::emf_line;
use crate::notice;
use crate::settings::{Guard, Settings};

/// The `detail-type` of CloudWatch's alarm events and of schedules.
pub const ALARM_STATE_CHANGE: &str = "CloudWatch Alarm State Change";
pub const SCHEDULED_EVENT: &str = "Scheduled Event";

/// Time kept back from the deadline so the runtime can report the result.
const DEADLINE_MARGIN: Duration = Duration::from_millis(1500);
/// The most one guard may take, however much time is left: a slow pipeline cannot starve the others.
const GUARD_BUDGET: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    source: String,
    #[serde(rename = "detail-type", default)]
    detail_type: String,
    #[serde(default)]
    detail: Value,
}

/// Why the function was invoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// An alarm changed state: look at the guards that watch it.
    Alarm(String),
    /// The reconcile schedule: look at every guard.
    Schedule,
}

pub fn trigger(event: &Value) -> Result<Trigger, Error> {
    let envelope: Envelope = serde_json::from_value(event.clone()).map_err(|e| Error::Event {
        field: "(envelope)".into(),
        problem: format!("is not an EventBridge event: {e}"),
    })?;
    match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.cloudwatch", ALARM_STATE_CHANGE) => envelope
            .detail
            .get("alarmName")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .map(|name| Trigger::Alarm(name.to_owned()))
            .ok_or_else(|| Error::Event {
                field: "detail.alarmName".into(),
                problem: "is missing or not a string".into(),
            }),
        ("aws.events", SCHEDULED_EVENT) => Ok(Trigger::Schedule),
        (source, detail_type) => Err(Error::Event {
            field: "detail-type".into(),
            problem: format!(
                "`{detail_type}` from `{source}` is neither a CloudWatch alarm state change nor the schedule"
            ),
        }),
    }
}

/// What happened to one guarded transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Closed,
    Reopened,
    Kept,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GuardOutcome {
    pub pipeline: String,
    pub stage: String,
    pub action: Action,
    pub reason: String,
    /// How the notice went, when a change made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// What an invocation did; returned to Lambda (and shown by the simulator and `make invoke`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub trigger: String,
    pub guards: Vec<GuardOutcome>,
}

pub struct TransitionDisabler {
    pipelines: aws_sdk_codepipeline::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    notifier: Notifier,
    settings: Settings,
    region: String,
    /// Notices for changes already made that could not be sent: tried again first on the next invocation of this
    /// container (Lambda's retry of the failed one, or the next event or schedule), since the change itself will
    /// not happen again to prompt them.
    unsent: Mutex<Vec<(Destination, Notice)>>,
}

impl TransitionDisabler {
    pub fn new(
        pipelines: aws_sdk_codepipeline::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
        notifier: Notifier,
        settings: Settings,
        region: String,
    ) -> TransitionDisabler {
        TransitionDisabler {
            pipelines,
            cloudwatch,
            notifier,
            settings,
            region,
            unsent: Mutex::new(Vec::new()),
        }
    }

    pub async fn handle(&self, event: &Value, deadline: Instant) -> Result<Report, Error> {
        let trigger = trigger(event)?;
        let deadline = deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline);
        let mut first_error = self.send_unsent(deadline).await.err();
        let guards: Vec<&Guard> = match &trigger {
            Trigger::Alarm(name) => self.settings.guards.iter().filter(|g| g.watches(name)).collect(),
            Trigger::Schedule => self.settings.guards.iter().collect(),
        };
        let label = match &trigger {
            Trigger::Alarm(name) => format!("alarm {name} changed state"),
            Trigger::Schedule => "schedule".to_owned(),
        };
        if guards.is_empty() {
            tracing::info!(trigger = %label, "no guard watches this alarm; ignored");
        }
        let mut outcomes = Vec::with_capacity(guards.len());
        for (index, guard) in guards.iter().enumerate() {
            let left = guards.len() - index;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let budget = (remaining / left as u32).min(GUARD_BUDGET);
            let (outcome, error) = self.look(guard, Instant::now() + budget).await;
            tracing::info!(pipeline = %outcome.pipeline, stage = %outcome.stage, action = ?outcome.action,
                reason = %outcome.reason, "transition looked at");
            if let Some(error) = error {
                tracing::error!(pipeline = %guard.pipeline, stage = %guard.stage, %error, "guard not settled");
                first_error.get_or_insert(error);
            }
            outcomes.push(outcome);
        }
        match first_error {
            // Lambda retries; the other guards' changes are already made and are seen as made on the retry.
            Some(error) => Err(error),
            None => Ok(Report {
                trigger: label,
                guards: outcomes,
            }),
        }
    }

    /// Reads the facts of one guard, decides, carries the decision out and tells people; the error, if the
    /// invocation should fail for it.
    async fn look(&self, guard: &Guard, deadline: Instant) -> (GuardOutcome, Option<Error>) {
        let outcome = |action: Action, reason: String| GuardOutcome {
            pipeline: guard.pipeline.clone(),
            stage: guard.stage.clone(),
            action,
            reason,
            notice: None,
        };
        let transition = match facts::transition(&self.pipelines, guard, deadline).await {
            Ok(transition) => transition,
            Err(error) => return (outcome(Action::Failed, error.to_string()), Some(error)),
        };
        let alarms = facts::alarms(&self.cloudwatch, guard, deadline).await;
        let by = changed_by(&transition, &self.settings.function_name);
        let now = Utc::now();
        let decision = decide(guard, &alarms, &transition, &by, now);
        let closed_minutes = |closed: bool| match (closed, transition.last_changed_at) {
            (true, Some(at)) => (now - at).num_seconds().max(0) as f64 / 60.0,
            _ => 0.0,
        };
        let (result, closed_after, minutes) = match decision {
            Decision::Keep { why } => {
                let closed = !transition.enabled;
                (Ok(outcome(Action::Kept, why)), closed, closed_minutes(closed))
            }
            Decision::Close { reason, alarm } => {
                let call_result = call(
                    deadline,
                    "DisableStageTransition",
                    &format!("{} › {}", guard.pipeline, guard.stage),
                    self.pipelines
                        .disable_stage_transition()
                        .pipeline_name(&guard.pipeline)
                        .stage_name(&guard.stage)
                        .transition_type(StageTransitionType::Inbound)
                        .reason(&reason)
                        .send(),
                )
                .await;
                match call_result {
                    Ok(_) => {
                        let notice = notice::closed(guard, &alarm, &self.region);
                        let mut closed = outcome(Action::Closed, reason);
                        let sent = self.tell(guard, notice, deadline).await;
                        closed.notice = Some(sent.as_ref().map_or_else(ToString::to_string, Clone::clone));
                        (sent.map(|_| closed), true, 0.0)
                    }
                    Err(error) => (Err(error), transition.enabled, closed_minutes(!transition.enabled)),
                }
            }
            Decision::Open { ok_since } => {
                let call_result = call(
                    deadline,
                    "EnableStageTransition",
                    &format!("{} › {}", guard.pipeline, guard.stage),
                    self.pipelines
                        .enable_stage_transition()
                        .pipeline_name(&guard.pipeline)
                        .stage_name(&guard.stage)
                        .transition_type(StageTransitionType::Inbound)
                        .send(),
                )
                .await;
                match call_result {
                    Ok(_) => {
                        let notice = notice::reopened(
                            guard,
                            ok_since,
                            transition.last_changed_at,
                            transition.disabled_reason.as_deref(),
                            now,
                            &self.region,
                        );
                        let mut reopened = outcome(
                            Action::Reopened,
                            format!("every guarding alarm OK since {ok_since}, longer than the cooldown"),
                        );
                        let sent = self.tell(guard, notice, deadline).await;
                        reopened.notice = Some(sent.as_ref().map_or_else(ToString::to_string, Clone::clone));
                        (sent.map(|_| reopened), false, 0.0)
                    }
                    Err(error) => (Err(error), true, closed_minutes(true)),
                }
            }
        };
        println!(
            "{}",
            emf_line(
                &self.settings.metrics_namespace,
                &guard.pipeline,
                &guard.stage,
                closed_after,
                minutes,
                now
            )
        );
        match result {
            Ok(outcome) => (outcome, None),
            Err(error) => (outcome(Action::Failed, error.to_string()), Some(error)),
        }
    }

    /// Sends a notice for a change just made; one that cannot be sent is kept for the next invocation.
    async fn tell(&self, guard: &Guard, notice: Notice, deadline: Instant) -> Result<String, Error> {
        match self.notifier.send(&guard.notify, &notice, deadline).await {
            Ok(sent) => Ok(format!("sent to {} in {} attempt(s)", guard.notify, sent.attempts)),
            Err(error) => {
                tracing::error!(destination = %guard.notify, %error, "notice not sent; kept to try again");
                self.unsent
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((guard.notify.clone(), notice));
                Err(error)
            }
        }
    }

    /// Tries again the notices earlier invocations could not send; those that still fail stay kept.
    async fn send_unsent(&self, deadline: Instant) -> Result<(), Error> {
        let unsent = std::mem::take(&mut *self.unsent.lock().unwrap_or_else(|p| p.into_inner()));
        let mut first_error = None;
        for (destination, notice) in unsent {
            match self.notifier.send(&destination, &notice, deadline).await {
                Ok(_) => tracing::info!(%destination, subject = %notice.subject, "earlier notice sent"),
                Err(error) => {
                    self.unsent
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((destination, notice));
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Function for TransitionDisabler {
    type Output = Report;
    type Error = Error;

    async fn invoke(&self, event: Value, invocation: Invocation) -> Result<Report, Error> {
        self.handle(&event, invocation.deadline).await
    }
}
