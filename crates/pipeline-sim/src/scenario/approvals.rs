//! Playing a Manual approval action: open the request, publish the notification to the topic's subscribers
//! (asynchronously), and wait until someone answers, it expires, or the player's wait bound runs out.

use std::time::Instant;

use super::{ActionRun, InFlight, POLL, Player, invoke_in_background};
use crate::codepipeline::approvals::{approval_notification, format_expires};
use crate::model::{Approval, ApprovalState, ApprovalStatus, DecidedBy, Status};

impl Player<'_> {
    /// Opens the approval, notifies, and waits for its end; the action's status (InProgress if the player
    /// stopped waiting).
    pub(super) async fn run_approval(&mut self, run: &ActionRun<'_>) -> Option<Status> {
        let approval = {
            let mut world = self.sim.state.world();
            let token = world.open_approval(run.execution_id, &run.stage.name, &run.action.name)?;
            world.approval(&token)?.clone()
        };
        let in_flight = self.notify(run, &approval);
        // What the subscribers made of the notification (held, or answered at once) reads best before the answer.
        self.settle_deliveries(in_flight, true).await;
        let state = self.await_answer(&approval.token).await?;
        Some(self.note_answer(run, &approval, &state))
    }

    /// Publishes the approval's notification and starts delivering it; notes who it went to.
    fn notify(&mut self, run: &ActionRun<'_>, approval: &Approval) -> InFlight {
        let pending = format!(
            "approval {} pending (expires {})",
            run.label(),
            format_expires(approval.expires)
        );
        let Some(topic) = approval.notification_arn.as_deref() else {
            self.note(format!("{pending}: no NotificationArn, waiting for a person"));
            return Vec::new();
        };
        let (subject, message) = approval_notification(approval);
        let published = self.wiring.topics.publish_for_delivery(topic, Some(&subject), &message);
        let (notification, targets) = match published {
            Ok(published) => published,
            Err(problem) => {
                self.note(format!("{pending}: SNS refused the notification: {problem}"));
                return Vec::new();
            }
        };
        let subscribers: Vec<&str> = notification.events.iter().map(|(name, _)| name.as_str()).collect();
        if subscribers.is_empty() {
            self.note(format!(
                "{pending}: SNS {topic} has no subscribers, waiting for a person"
            ));
        } else {
            self.note(format!("{pending}: SNS → {}", subscribers.join(", ")));
        }
        let in_flight = targets
            .into_iter()
            .map(|(host, event)| invoke_in_background(host, event))
            .collect();
        self.notifications.push(notification);
        in_flight
    }

    /// Waits until the approval is answered or expires (expiring it then), or the wait bound runs out (then it is
    /// still pending).
    async fn await_answer(&self, token: &str) -> Option<ApprovalState> {
        let give_up = Instant::now() + self.wiring.settings().wait_bound;
        loop {
            {
                let mut world = self.sim.state.world();
                world.expire_if_overdue(token);
                let state = &world.approval(token)?.state;
                if *state != ApprovalState::Pending || Instant::now() >= give_up {
                    return Some(state.clone());
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Notes how the approval ended; the action's status.
    fn note_answer(&self, run: &ActionRun<'_>, approval: &Approval, state: &ApprovalState) -> Status {
        match state {
            ApprovalState::Decided {
                status, summary, by, ..
            } => {
                let who = self.decider(approval, by);
                let verb = match status {
                    ApprovalStatus::Approved => "approved",
                    ApprovalStatus::Rejected => "rejected",
                };
                self.note(format!("{verb} by {who}: {summary}"));
                match status {
                    ApprovalStatus::Approved => Status::Succeeded,
                    ApprovalStatus::Rejected => Status::Failed,
                }
            }
            ApprovalState::Expired { .. } => {
                self.note(format!(
                    "approval {} expired at {}: nobody approved or rejected it",
                    run.label(),
                    format_expires(approval.expires)
                ));
                Status::Failed
            }
            ApprovalState::Pending => {
                let waited = self.wiring.settings().wait_bound;
                self.note(format!(
                    "approval {} still pending after {}s: the player stops waiting (the execution stays InProgress)",
                    run.label(),
                    waited.as_secs()
                ));
                Status::InProgress
            }
        }
    }

    /// Who answered: a person in the console, or (through `PutApprovalResult`) the functions subscribed to the
    /// approval's topic.
    fn decider(&self, approval: &Approval, by: &DecidedBy) -> String {
        match by {
            DecidedBy::Person(user) => format!("{user} (console)"),
            DecidedBy::Api => {
                let names: Vec<String> = approval
                    .notification_arn
                    .as_deref()
                    .map(|topic| self.wiring.topics.subscriptions(topic))
                    .unwrap_or_default()
                    .iter()
                    .map(|s| s.endpoint.name().to_owned())
                    .collect();
                if names.is_empty() {
                    "a PutApprovalResult caller".to_owned()
                } else {
                    names.join(" / ")
                }
            }
        }
    }
}
