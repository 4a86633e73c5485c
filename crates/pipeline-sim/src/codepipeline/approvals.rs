//! Manual approval actions: opening an approval request (a single-use token that expires), the SNS
//! notification CodePipeline publishes for it, `PutApprovalResult`, and the console path a person takes.
//!
//! Which error a late answer gets: AWS models both `InvalidApprovalTokenException` ("already received a
//! response or has expired") and `ApprovalAlreadyCompletedException` ("already approved or rejected") without
//! saying which race gets which. The simulator answers a token that is unknown, expired, or already used by a
//! `PutApprovalResult` call with `InvalidApprovalTokenException`, and a token whose request a person already
//! decided in the console with `ApprovalAlreadyCompletedException`, so callers meet both and must treat both
//! as "someone already decided".

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::shapes::epoch;
use super::{constraint, find_pipeline, name_member, uuid_member};
use crate::aws::AwsError;
use crate::model::{
    Approval, ApprovalAnswer, ApprovalState, ApprovalStatus, DEFAULT_APPROVAL_TIMEOUT, DecidedBy, ExecutionResult,
    Status, World,
};
use crate::{ACCOUNT, REGION, Simulator};

/// `ApprovalResult.summary` limit.
pub const SUMMARY_MAX_CHARS: usize = 512;
/// `CustomData` limit.
pub const CUSTOM_DATA_MAX_CHARS: usize = 500;
/// The console user a person's decision is recorded under.
pub const CONSOLE_USER: &str = "release-manager";

// ---- Model transitions ----

impl World {
    /// Opens the approval request of the latest run of `stage`/`action` (a Manual approval action) and returns
    /// its token; `None` if the execution, action or run is unknown.
    pub fn open_approval(&mut self, execution_id: &str, stage: &str, action: &str) -> Option<String> {
        let pipeline = self.execution(execution_id)?.pipeline.clone();
        let declaration = self.pipeline(&pipeline)?.action(stage, action)?.clone();
        let token = self.new_id();
        let created = Utc::now();
        let timeout = declaration.timeout.unwrap_or(DEFAULT_APPROVAL_TIMEOUT);
        let run = self.execution_mut(execution_id)?.latest_run_mut(stage, action)?;
        run.token = Some(token.clone());
        let action_execution_id = run.action_execution_id.clone();
        let config = |key: &str| declaration.configuration.get(key).cloned();
        self.approvals.push(Approval {
            token: token.clone(),
            execution_id: execution_id.into(),
            pipeline,
            stage: stage.into(),
            action: action.into(),
            action_execution_id,
            notification_arn: config("NotificationArn"),
            custom_data: config("CustomData"),
            external_entity_link: config("ExternalEntityLink"),
            created,
            expires: created + chrono::Duration::from_std(timeout).unwrap_or(chrono::TimeDelta::MAX),
            state: ApprovalState::Pending,
        });
        Some(token)
    }

    pub fn approval(&self, token: &str) -> Option<&Approval> {
        self.approvals.iter().find(|a| a.token == token)
    }

    /// The approval request of an action that still waits for an answer.
    pub fn pending_approval(&self, pipeline: &str, stage: &str, action: &str) -> Option<&Approval> {
        self.approvals.iter().rev().find(|a| {
            a.pipeline == pipeline && a.stage == stage && a.action == action && a.state == ApprovalState::Pending
        })
    }

    /// Expires the approval if it is pending and past its expiry (failing its action); true if it expired now.
    pub fn expire_if_overdue(&mut self, token: &str) -> bool {
        let now = Utc::now();
        let Some(approval) = self.approvals.iter_mut().find(|a| a.token == token) else {
            return false;
        };
        if approval.state != ApprovalState::Pending || now < approval.expires {
            return false;
        }
        approval.state = ApprovalState::Expired { at: now };
        let message = format!(
            "approval expired: nobody approved or rejected before {}",
            format_expires(approval.expires)
        );
        let (execution_id, stage, action) = (
            approval.execution_id.clone(),
            approval.stage.clone(),
            approval.action.clone(),
        );
        let result = ExecutionResult {
            error: Some(("TimedOut".into(), message)),
            ..ExecutionResult::default()
        };
        self.finish_action(&execution_id, &stage, &action, Status::Failed, result);
        true
    }

    /// Settles a pending approval (approved → the action succeeds; rejected → it fails) and returns when.
    pub fn decide_approval(
        &mut self,
        token: &str,
        status: ApprovalStatus,
        summary: &str,
        by: DecidedBy,
    ) -> Result<DateTime<Utc>, AwsError> {
        self.expire_if_overdue(token);
        let approval = self
            .approvals
            .iter_mut()
            .find(|a| a.token == token)
            .ok_or_else(|| invalid_token("The approval token is not valid for this action"))?;
        match &approval.state {
            ApprovalState::Pending => {}
            ApprovalState::Expired { .. } => {
                return Err(invalid_token("The approval request has expired"));
            }
            ApprovalState::Decided { by: DecidedBy::Api, .. } => {
                return Err(invalid_token("The approval request already received a response"));
            }
            ApprovalState::Decided {
                by: DecidedBy::Person(_),
                status,
                ..
            } => {
                return Err(AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "ApprovalAlreadyCompletedException",
                    format!(
                        "The approval action has already been {}",
                        status.api_name().to_lowercase()
                    ),
                ));
            }
        }
        let at = Utc::now();
        approval.state = ApprovalState::Decided {
            status,
            summary: summary.into(),
            by: by.clone(),
            at,
        };
        let (execution_id, stage, action) = (
            approval.execution_id.clone(),
            approval.stage.clone(),
            approval.action.clone(),
        );
        let (outcome, error) = match status {
            ApprovalStatus::Approved => (Status::Succeeded, None),
            ApprovalStatus::Rejected => (
                Status::Failed,
                Some(("Rejected".into(), format!("Rejected: {summary}"))),
            ),
        };
        let result = ExecutionResult {
            external_execution_summary: Some(summary.into()),
            error,
            ..ExecutionResult::default()
        };
        self.finish_action(&execution_id, &stage, &action, outcome, result);
        if let DecidedBy::Person(user) = by {
            let run = self
                .execution_mut(&execution_id)
                .and_then(|e| e.latest_run_mut(&stage, &action));
            if let Some(run) = run {
                run.last_updated_by = Some(format!("arn:aws:iam::{ACCOUNT}:user/{user}"));
            }
        }
        Ok(at)
    }

    /// (`PutApprovalResult` calls that settled an approval, calls that were refused).
    pub fn approval_answer_counts(&self) -> (usize, usize) {
        let settled = self.approval_answers.iter().filter(|a| a.error.is_none()).count();
        (settled, self.approval_answers.len() - settled)
    }
}

fn invalid_token(message: &str) -> AwsError {
    AwsError::new(StatusCode::BAD_REQUEST, "InvalidApprovalTokenException", message)
}

impl Simulator {
    /// A person approves or rejects in the console: settles the action's pending approval, recorded as decided by
    /// [`CONSOLE_USER`]. `InvalidApprovalTokenException` if nothing is pending (never opened, already decided,
    /// or expired).
    pub fn approve_as_person(
        &self,
        pipeline: &str,
        stage: &str,
        action: &str,
        status: ApprovalStatus,
        summary: &str,
    ) -> Result<DateTime<Utc>, AwsError> {
        let mut world = self.state.world();
        let token = world
            .pending_approval(pipeline, stage, action)
            .map(|a| a.token.clone())
            .ok_or_else(|| invalid_token("No approval request of this action waits for an answer"))?;
        world.decide_approval(&token, status, summary, DecidedBy::Person(CONSOLE_USER.into()))
    }
}

// ---- The SNS notification ----

/// `expires` as the notification writes it: `2016-07-07T20:22Z` (minutes, no seconds).
pub fn format_expires(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%MZ").to_string()
}

pub fn console_link(pipeline: &str) -> String {
    format!("https://console.aws.amazon.com/codepipeline/home?region={REGION}#/view/{pipeline}")
}

/// (subject, message) of the notification CodePipeline publishes to the approval's topic; the message is the
/// JSON document SNS carries as a string.
pub fn approval_notification(approval: &Approval) -> (String, String) {
    let subject = format!(
        "APPROVAL NEEDED: AWS CodePipeline {} for action {}",
        approval.pipeline, approval.action
    );
    let mut details = Map::new();
    let mut put = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            details.insert(key.into(), json!(value));
        }
    };
    put("pipelineName", Some(&approval.pipeline));
    put("stageName", Some(&approval.stage));
    put("actionName", Some(&approval.action));
    put("token", Some(&approval.token));
    put("expires", Some(&format_expires(approval.expires)));
    put("externalEntityLink", approval.external_entity_link.as_ref());
    let review = format!(
        "{}/{}/{}/approve/{}",
        console_link(&approval.pipeline),
        approval.stage,
        approval.action,
        approval.token
    );
    put("approvalReviewLink", Some(&review));
    put("customData", approval.custom_data.as_ref());
    let message = json!({
        "region": REGION,
        "consoleLink": console_link(&approval.pipeline),
        "approval": details,
    });
    (subject, message.to_string())
}

// ---- PutApprovalResult ----

pub(super) fn put_approval_result(world: &mut World, request: &Value) -> Result<Value, AwsError> {
    let (pipeline, stage, action) = (
        name_member(request, "pipelineName")?,
        name_member(request, "stageName")?,
        name_member(request, "actionName")?,
    );
    let token = uuid_member(request, "token")?;
    let status_name = request
        .pointer("/result/status")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let outcome = answer(world, request, (pipeline, stage, action), token);
    world.approval_answers.push(ApprovalAnswer {
        pipeline: pipeline.into(),
        stage: stage.into(),
        action: action.into(),
        token: token.into(),
        status: status_name,
        at: Utc::now(),
        error: outcome.as_ref().err().map(|e| e.code.to_owned()),
    });
    outcome.map(|at| json!({ "approvedAt": epoch(at) }))
}

fn answer(
    world: &mut World,
    request: &Value,
    (pipeline, stage, action): (&str, &str, &str),
    token: &str,
) -> Result<DateTime<Utc>, AwsError> {
    let (status, summary) = approval_result(request)?;
    let declared = find_pipeline(world, pipeline)?;
    let stage_decl = declared.stages.iter().find(|s| s.name == stage).ok_or_else(|| {
        AwsError::new(
            StatusCode::BAD_REQUEST,
            "StageNotFoundException",
            format!("Stage '{stage}' was not found in pipeline '{pipeline}'"),
        )
    })?;
    if !stage_decl.actions.iter().any(|a| a.name == action) {
        return Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "ActionNotFoundException",
            format!("Action '{action}' was not found in stage '{stage}' of pipeline '{pipeline}'"),
        ));
    }
    let names_this_action = world
        .approval(token)
        .is_some_and(|a| a.pipeline == pipeline && a.stage == stage && a.action == action);
    if !names_this_action {
        return Err(invalid_token("The approval token is not valid for this action"));
    }
    world.decide_approval(token, status, &summary, DecidedBy::Api)
}

/// `result`: `{status: Approved|Rejected, summary: ≤ 512 chars}`.
fn approval_result(request: &Value) -> Result<(ApprovalStatus, String), AwsError> {
    let result = match request.get("result") {
        Some(result @ Value::Object(_)) => result,
        None | Some(Value::Null) => {
            return Err(AwsError::validation(
                "1 validation error detected: Value at 'result' failed to satisfy constraint: Member must not be null",
            ));
        }
        Some(other) => return Err(constraint(other, "result", "Member must be a structure")),
    };
    let status = match result.get("status").and_then(Value::as_str) {
        Some("Approved") => ApprovalStatus::Approved,
        Some("Rejected") => ApprovalStatus::Rejected,
        _ => {
            return Err(constraint(
                result.get("status").unwrap_or(&Value::Null),
                "result.status",
                "Member must satisfy enum value set: [Approved, Rejected]",
            ));
        }
    };
    let summary = match result.get("summary") {
        Some(Value::String(summary)) if summary.chars().count() <= SUMMARY_MAX_CHARS => summary.clone(),
        Some(Value::String(_)) => {
            return Err(constraint(
                &result["summary"],
                "result.summary",
                &format!("Member must have length less than or equal to {SUMMARY_MAX_CHARS}"),
            ));
        }
        _ => {
            return Err(AwsError::validation(
                "1 validation error detected: Value at 'result.summary' failed to satisfy constraint: Member must not be null",
            ));
        }
    };
    Ok((status, summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn expires_has_minutes_and_no_seconds() {
        let time = Utc.with_ymd_and_hms(2016, 7, 7, 20, 22, 59).unwrap();
        assert_eq!(format_expires(time), "2016-07-07T20:22Z");
    }
}
