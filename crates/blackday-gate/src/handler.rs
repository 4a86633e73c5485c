//! The edge: the shared approval machinery asks this gate for a ruling per approval; it gathers the calendar and
//! decides, and after the machinery carried the decisions out, tells people about holds decided on a notification.

use std::time::Instant;

use chrono::Utc;
use hooks_common::Error;
use hooks_common::approval::{ApprovalRequest, Gate, Outcome, RequestSource, Ruling, Settled};
use hooks_common::gate::Decision;

use crate::calendars::Calendars;
use crate::decide::{Facts, Rules, decide};
use crate::notice::{HoldNotice, Notices};
use crate::settings::GateData;

pub struct BlackDayGate {
    calendars: Calendars,
    notices: Notices,
    max_stale: chrono::Duration,
    sweep_interval: chrono::Duration,
    /// The region the console links point into (the function's own: a gate serves its own region's pipelines).
    region: String,
}

impl BlackDayGate {
    pub fn new(
        calendars: Calendars,
        notices: Notices,
        max_stale: chrono::Duration,
        sweep_interval: chrono::Duration,
        region: String,
    ) -> BlackDayGate {
        BlackDayGate {
            calendars,
            notices,
            max_stale,
            sweep_interval,
            region,
        }
    }
}

impl Gate for BlackDayGate {
    type Notice = HoldNotice;

    /// Gathers the calendar for one approval and decides; never fails (errors become the failure policy's
    /// decision). A hold carries the notice people would be told.
    async fn decide(&self, request: &ApprovalRequest, _deadline: Instant) -> Ruling<HoldNotice> {
        let data = match request.settings::<GateData>() {
            Ok(data) => data,
            // A broken CustomData will not fix itself on the next sweep: reject, saying which field and how.
            Err(problem) => {
                return Ruling::from(Decision::Reject {
                    reason: format!("{problem}. See the README's BlackDay gate CustomData"),
                });
            }
        };
        let calendar = self.calendars.for_approval(&data).await;
        let rules = Rules {
            inside: data.inside.unwrap_or_default(),
            on_error: data.on_error.unwrap_or_default(),
            max_stale: self.max_stale,
            recheck: self.sweep_interval,
        };
        // "Now" is read after the calendar arrived, so a slow feed cannot make the answer refer to the past.
        let facts = Facts {
            calendar,
            now: Utc::now(),
            expires: request.expires,
        };
        let ruling = decide(&facts, &rules);
        let notice = ruling.held_by.map(|held_by| HoldNotice {
            pipeline: request.pipeline.clone(),
            stage: request.stage.clone(),
            action: request.action.clone(),
            token: request.token.clone(),
            // Built, never copied from the notification: whoever can publish to the topic could choose it.
            review_link: Some(hooks_common::console::pipeline_url(&self.region, &request.pipeline)),
            held_by,
            reason: ruling.decision.explanation().to_owned(),
        });
        Ruling {
            decision: ruling.decision,
            notice,
        }
    }

    /// Tells people about holds that stood (one at its last look before expiry became a reject, whose reason is in
    /// the approval's history), and only those decided on the notification: the sweeps that keep holding stay quiet.
    async fn after_batch(&self, settled: Vec<Settled<HoldNotice>>, deadline: Instant) -> Result<(), Error> {
        let mut first_error = None;
        let new_holds = settled
            .into_iter()
            .filter(|s| s.handled.outcome == Outcome::Held && s.handled.source == RequestSource::Notification);
        for Settled { handled, mut notice } in new_holds {
            notice.reason.clone_from(&handled.reason);
            if let Err(error) = self.notices.tell(&notice, deadline).await {
                tracing::error!(approval = %handled.approval, %error,
                    "hold notice not sent; failing the invocation so Lambda retries (the hold itself sent nothing)");
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
