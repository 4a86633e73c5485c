//! The edge: the shared approval machinery asks for a decision per approval; this gathers the calendar, decides,
//! and after the machinery carried the decisions out, tells Slack about holds decided on a notification.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use hooks_common::approval::{ApprovalDesk, ApprovalRequest, GateSettings, Handled, RequestSource, handle};
use hooks_common::gate::Decision;
use serde_json::Value;

use crate::GateError;
use crate::calendars::Calendars;
use crate::decide::{Facts, Rules, Ruling, decide};
use crate::notice::{HoldNotice, Notices};
use crate::settings::GateData;

/// Time kept back from the deadline so the runtime can report the result.
const DEADLINE_MARGIN: Duration = Duration::from_millis(1500);

pub struct Gate {
    desk: ApprovalDesk,
    gate: GateSettings,
    calendars: Calendars,
    notices: Notices,
    max_stale: chrono::Duration,
}

impl Gate {
    pub fn new(
        desk: ApprovalDesk,
        gate: GateSettings,
        calendars: Calendars,
        notices: Notices,
        max_stale: chrono::Duration,
    ) -> Gate {
        Gate {
            desk,
            gate,
            calendars,
            notices,
            max_stale,
        }
    }

    /// Gathers the facts for one approval and decides; never fails (errors become the failure policy's decision).
    pub async fn rule(&self, request: &ApprovalRequest) -> Ruling {
        let data = match request.settings::<GateData>() {
            Ok(data) => data,
            // A broken CustomData will not fix itself on the next sweep: reject, saying which field and how.
            Err(problem) => {
                return Ruling {
                    decision: Decision::Reject {
                        reason: format!("{problem}. See the README's BlackDay gate CustomData"),
                    },
                    held_by: None,
                };
            }
        };
        let calendar = self.calendars.for_approval(&data).await;
        let rules = Rules {
            inside: data.inside.unwrap_or_default(),
            on_error: data.on_error.unwrap_or_default(),
            max_stale: self.max_stale,
            recheck: self.gate.sweep_interval,
        };
        // "Now" is read after the calendar arrived, so a slow feed cannot make the answer refer to the past.
        let facts = Facts {
            calendar,
            now: Utc::now(),
            expires: request.expires,
        };
        decide(&facts, &rules)
    }

    /// One invocation: decide every approval it brings (or the sweep finds), then tell Slack about new holds.
    pub async fn handle(&self, event: &Value, deadline: Instant) -> Result<Vec<Handled>, GateError> {
        let deadline = deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline);
        let holds: Mutex<HashMap<String, HoldNotice>> = Mutex::default();
        let handled = handle(&self.desk, &self.gate, event, |request| {
            let holds = &holds;
            async move {
                let ruling = self.rule(&request).await;
                if let Some(held_by) = ruling.held_by {
                    let notice = HoldNotice {
                        pipeline: request.pipeline.clone(),
                        stage: request.stage.clone(),
                        action: request.action.clone(),
                        token: request.token.clone(),
                        review_link: request.review_link.clone(),
                        held_by,
                        reason: ruling.decision.explanation().to_owned(),
                    };
                    holds
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(request.place(), notice);
                }
                ruling.decision
            }
        })
        .await?;
        let mut holds = holds.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut first_error = None;
        // Only holds that stood (one at its last look before expiry became a reject, whose reason is in the
        // approval's history) and only on the notification: the sweeps that keep holding stay quiet.
        let new_holds = handled
            .iter()
            .filter(|done| done.outcome == "held" && done.source == RequestSource::Notification);
        for done in new_holds {
            let Some(mut notice) = holds.remove(&done.approval) else {
                continue;
            };
            notice.reason.clone_from(&done.reason);
            if let Err(error) = self.notices.tell(&notice, deadline).await {
                tracing::error!(approval = %done.approval, %error,
                    "hold notice not sent; failing the invocation so Lambda retries (the hold itself sent nothing)");
                first_error.get_or_insert(error);
            }
        }
        match first_error {
            Some(error) => Err(error.into()),
            None => Ok(handled),
        }
    }
}
