//! The edge: parse, triage, enrich, render, send. Errors that deserve a retry are returned, so Lambda's
//! retries and the dead-letter queue keep the event; nothing is dropped silently.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::events;
use hooks_common::notice;
use serde::Serialize;
use serde_json::Value;

use hooks_common::Error;
use hooks_common::runtime::{Function, Invocation};

use crate::enrich::{self, Enrichment};
use crate::routing::SlackRoutes;
use crate::triage::{Triage, triage};
use crate::{message, plain};

/// What an invocation did; returned to Lambda (and visible in the simulator and `make invoke`).
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Notified { route: String, attempts: u32 },
    Duplicate { key: String },
    Ignored { reason: String },
}

/// Time kept back from the deadline so the runtime can report the result.
const DEADLINE_MARGIN: Duration = Duration::from_millis(1500);
/// The most enrichment may take: details help, but the message matters more.
const ENRICHMENT_BUDGET: Duration = Duration::from_secs(6);

/// Failures notified recently by this container, so a re-delivered event does not post twice.
/// Bounded in size and age; duplicates that reach another container are not caught (no database).
struct RecentFailures {
    entries: VecDeque<(String, Instant)>,
}

impl RecentFailures {
    const CAPACITY: usize = 512;
    const REMEMBER_FOR: Duration = Duration::from_secs(15 * 60);

    /// Whether `key` was notified. A key without the action execution id (enrichment failed, this time or the
    /// first time) matches any notified run of the same failure: a re-delivery must not post twice because
    /// CodePipeline was slow.
    fn contains(&mut self, key: &str, complete: bool) -> bool {
        self.entries.retain(|(_, at)| at.elapsed() < Self::REMEMBER_FOR);
        let extends = |long: &str, short: &str| long.strip_prefix(short).is_some_and(|rest| rest.starts_with('/'));
        self.entries
            .iter()
            .any(|(k, _)| k == key || extends(key, k) || (!complete && extends(k, key)))
    }

    fn insert(&mut self, key: String) {
        if self.entries.len() == Self::CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back((key, Instant::now()));
    }
}

pub struct Notifier {
    pipelines: aws_sdk_codepipeline::Client,
    /// Sends to the route's Slack webhook or SNS topic.
    notices: notice::Notifier,
    routes: SlackRoutes,
    recent: Mutex<RecentFailures>,
}

impl Notifier {
    pub fn new(pipelines: aws_sdk_codepipeline::Client, notices: notice::Notifier, routes: SlackRoutes) -> Notifier {
        Notifier {
            pipelines,
            notices,
            routes,
            recent: Mutex::new(RecentFailures {
                entries: VecDeque::new(),
            }),
        }
    }

    pub async fn handle(&self, event: &Value, deadline: Instant) -> Result<Outcome, Error> {
        let failure = match triage(events::parse(event)?)? {
            Triage::Ignore(reason) => {
                tracing::info!(%reason, "event ignored");
                return Ok(Outcome::Ignored { reason });
            }
            Triage::Notify(failure) => failure,
        };
        tracing::info!(pipeline = %failure.pipeline, execution_id = %failure.execution_id, stage = %failure.stage,
            action = %failure.action, "action failed; notifying");

        let deadline = deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline);
        // Enrichment gets at most a third of the time left, so the message always has time to be sent.
        let remaining = deadline.saturating_duration_since(Instant::now());
        let budget = ENRICHMENT_BUDGET.min(remaining / 3);
        let enrichment = if budget < Duration::from_millis(200) {
            Enrichment::unavailable("no time left to ask CodePipeline")
        } else {
            enrich::gather(&self.pipelines, &failure, budget).await
        };
        for problem in [
            enrichment.revisions.as_ref().err(),
            enrichment.action_run.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        {
            tracing::warn!(%problem, "sending without some details");
        }
        // The key needs the action execution id that enrichment read; a duplicate costs those reads, not a message.
        let run_id = enrichment
            .action_run
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .and_then(|r| r.action_execution_id.as_deref());
        let key = failure.key(run_id);
        if self
            .recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key, run_id.is_some())
        {
            tracing::info!(%key, "failure already notified by this container; duplicate delivery skipped");
            return Ok(Outcome::Duplicate { key });
        }
        let message = plain::notice(&failure, &enrichment, message::render(&failure, &enrichment));

        let destination = self.routes.destination(&failure.pipeline);
        match self
            .notices
            .send_routed(&destination.label, &destination.to, &message, deadline)
            .await
        {
            Ok(sent) => {
                self.recent.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
                tracing::info!(route = %destination.label, attempts = sent.attempts, "failure notice delivered");
                Ok(Outcome::Notified {
                    route: destination.label,
                    attempts: sent.attempts,
                })
            }
            Err(error) => {
                tracing::error!(route = %destination.label, error = %error, "failure notice not delivered; failing the invocation so it is retried");
                Err(error)
            }
        }
    }
}

impl Function for Notifier {
    type Output = Outcome;
    type Error = Error;

    async fn invoke(&self, event: Value, invocation: Invocation) -> Result<Outcome, Error> {
        self.handle(&event, invocation.deadline).await
    }
}
