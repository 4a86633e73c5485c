//! Where decisions meet CodePipeline: find the approvals a gate owns, check one is still pending, and
//! answer it. "Someone already decided" (a person in the console, or an earlier delivery) is an outcome,
//! not an error.

use std::time::Instant;

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::operation::put_approval_result::PutApprovalResultError;
use aws_sdk_codepipeline::types::{ActionExecutionStatus, ApprovalResult, ApprovalStatus};
use chrono::{DateTime, Duration, Utc};

use super::request::{ApprovalRequest, RequestSource};
use crate::Error;
use crate::aws::{NO_ANSWER_IN_TIME, by_deadline, call, sdk_problem};
use crate::gate::Decision;
use crate::text::truncate;

/// CodePipeline's default approval timeout, used when the action declares none.
const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::days(7);
const SUMMARY_LIMIT: usize = 512;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Carried {
    Approved,
    Rejected,
    /// Nothing sent; the approval stays pending for the sweep.
    Held,
    /// The approval was no longer pending: a person or an earlier delivery answered it.
    AlreadyDecided(String),
}

#[derive(Clone)]
pub struct ApprovalDesk {
    client: Client,
}

fn to_utc(time: &aws_sdk_codepipeline::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}

impl ApprovalDesk {
    pub fn new(client: Client) -> ApprovalDesk {
        ApprovalDesk { client }
    }

    /// The pending Manual approvals of `pipeline` that notify `topic_arn`, with their tokens.
    pub async fn pending_approvals(
        &self,
        pipeline: &str,
        topic_arn: &str,
        deadline: Instant,
    ) -> Result<Vec<ApprovalRequest>, Error> {
        let declared = call(
            deadline,
            "GetPipeline",
            pipeline,
            self.client.get_pipeline().name(pipeline).send(),
        )
        .await?;
        let owned: Vec<(String, String, Option<String>, Duration)> = declared
            .pipeline()
            .map(|p| p.stages())
            .unwrap_or_default()
            .iter()
            .flat_map(|stage| stage.actions().iter().map(move |action| (stage, action)))
            .filter(|(_, action)| {
                let kind = action.action_type_id();
                kind.is_some_and(|k| k.category().as_str() == "Approval" && k.provider() == "Manual")
                    && action
                        .configuration()
                        .and_then(|c| c.get("NotificationArn"))
                        .map(String::as_str)
                        == Some(topic_arn)
            })
            .map(|(stage, action)| {
                let timeout = action
                    .timeout_in_minutes()
                    .map(|m| Duration::minutes(m.into()))
                    .unwrap_or(DEFAULT_APPROVAL_TIMEOUT);
                let custom_data = action.configuration().and_then(|c| c.get("CustomData")).cloned();
                (stage.name().to_owned(), action.name().to_owned(), custom_data, timeout)
            })
            .collect();
        if owned.is_empty() {
            return Ok(Vec::new());
        }
        let state = call(
            deadline,
            "GetPipelineState",
            pipeline,
            self.client.get_pipeline_state().name(pipeline).send(),
        )
        .await?;
        let mut pending = Vec::new();
        for (stage, action, custom_data, timeout) in owned {
            let latest = state
                .stage_states()
                .iter()
                .filter(|s| s.stage_name() == Some(stage.as_str()))
                .flat_map(|s| s.action_states())
                .find(|a| a.action_name() == Some(action.as_str()))
                .and_then(|a| a.latest_execution());
            let Some(latest) = latest.filter(|l| l.status() == Some(&ActionExecutionStatus::InProgress)) else {
                continue;
            };
            let (Some(token), Some(started)) = (latest.token(), latest.last_status_change().and_then(to_utc)) else {
                continue;
            };
            pending.push(ApprovalRequest {
                pipeline: pipeline.to_owned(),
                stage,
                action,
                token: token.to_owned(),
                expires: started + timeout,
                requested_at: started,
                source: RequestSource::Sweep,
                custom_data,
            });
        }
        Ok(pending)
    }

    /// The approval a notification names, as CodePipeline declares it: `None` unless the action notifies
    /// `topic_arn` and is pending with the notification's token. Rules (`CustomData`) and timing come from the
    /// declaration; nothing is taken from the notification but where to look.
    pub async fn as_declared(
        &self,
        notified: &ApprovalRequest,
        topic_arn: &str,
        deadline: Instant,
    ) -> Result<Option<ApprovalRequest>, Error> {
        let pending = self.pending_approvals(&notified.pipeline, topic_arn, deadline).await?;
        Ok(pending
            .into_iter()
            .find(|p| p.stage == notified.stage && p.action == notified.action && p.token == notified.token)
            .map(|declared| ApprovalRequest {
                source: notified.source,
                ..declared
            }))
    }

    /// Whether `request` is still the pending approval (same token, in progress). A duplicate SNS delivery
    /// or a person's answer shows up here, before any decision is made or sent.
    pub async fn still_pending(&self, request: &ApprovalRequest, deadline: Instant) -> Result<bool, Error> {
        let state = call(
            deadline,
            "GetPipelineState",
            &request.pipeline,
            self.client.get_pipeline_state().name(&request.pipeline).send(),
        )
        .await?;
        let latest = state
            .stage_states()
            .iter()
            .filter(|s| s.stage_name() == Some(request.stage.as_str()))
            .flat_map(|s| s.action_states())
            .find(|a| a.action_name() == Some(request.action.as_str()))
            .and_then(|a| a.latest_execution());
        Ok(latest.is_some_and(|l| {
            l.status() == Some(&ActionExecutionStatus::InProgress) && l.token() == Some(request.token.as_str())
        }))
    }

    /// Sends Approve/Reject with the decision's explanation as the summary; Hold sends nothing.
    pub async fn carry_out(
        &self,
        request: &ApprovalRequest,
        decision: &Decision,
        deadline: Instant,
    ) -> Result<Carried, Error> {
        let (status, carried) = match decision {
            Decision::Hold { .. } => return Ok(Carried::Held),
            Decision::Approve { .. } => (ApprovalStatus::Approved, Carried::Approved),
            Decision::Reject { .. } => (ApprovalStatus::Rejected, Carried::Rejected),
        };
        let result = ApprovalResult::builder()
            .status(status)
            .summary(truncate(decision.explanation(), SUMMARY_LIMIT))
            .build()
            .map_err(|e| Error::Aws {
                operation: "PutApprovalResult",
                target: request.place(),
                problem: e.to_string(),
            })?;
        let send = self
            .client
            .put_approval_result()
            .pipeline_name(&request.pipeline)
            .stage_name(&request.stage)
            .action_name(&request.action)
            .token(&request.token)
            .result(result)
            .send();
        let Some(sent) = by_deadline(deadline, send).await else {
            return Err(Error::Aws {
                operation: "PutApprovalResult",
                target: request.place(),
                problem: NO_ANSWER_IN_TIME.into(),
            });
        };
        match sent {
            Ok(_) => Ok(carried),
            Err(error) => match error.as_service_error() {
                Some(PutApprovalResultError::InvalidApprovalTokenException(e)) => Ok(Carried::AlreadyDecided(format!(
                    "token no longer valid: {}",
                    e.message().unwrap_or("answered or expired")
                ))),
                Some(PutApprovalResultError::ApprovalAlreadyCompletedException(e)) => Ok(Carried::AlreadyDecided(
                    format!("approval already completed: {}", e.message().unwrap_or_default()),
                )),
                _ => Err(Error::Aws {
                    operation: "PutApprovalResult",
                    target: request.place(),
                    problem: sdk_problem(&error),
                }),
            },
        }
    }
}
