//! One invocation: parse what Config sent, find the pipeline(s) to judge (from the event, from
//! `GetResourceConfigHistory` for an oversized item, or every pipeline for the periodic trigger), judge each, and
//! put the evaluations, 100 a call, retrying the ones Config hands back as failed.

use std::time::{Duration, Instant};

use aws_sdk_config::primitives::DateTime as AwsTime;
use aws_sdk_config::types::{ComplianceType, Evaluation, ResourceType};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use hooks_common::aws::{NO_ANSWER_IN_TIME, by_deadline, call, render_sdk_error};
use hooks_common::runtime::{Function, Invocation as LambdaInvocation};
use serde::Serialize;
use serde_json::Value;

use crate::error::RuleError;
use crate::event::{self, ConfigurationItem, Invocation, ItemSummary, Message, PIPELINE_RESOURCE_TYPE};
use crate::params::Practices;
use crate::pipeline::PipelineShape;
use crate::practices::{Verdict, judge};

/// `PutEvaluations` takes at most 100 evaluations.
pub const EVALUATIONS_PER_CALL: usize = 100;
/// Attempts at getting every evaluation recorded (the first included).
const PUT_ATTEMPTS: u32 = 3;
/// Pipelines read at once on the periodic path: quick, without tripping CodePipeline's read throttling.
const CONCURRENT_READS: usize = 4;
/// Kept back from the deadline for putting the evaluations.
const PUT_MARGIN: Duration = Duration::from_secs(4);
/// Kept back from the deadline for answering the invocation.
const ANSWER_MARGIN: Duration = Duration::from_millis(500);

/// The rule as a Lambda function: its two clients.
pub struct GuardrailRule {
    pub config: aws_sdk_config::Client,
    pub codepipeline: aws_sdk_codepipeline::Client,
}

/// What one invocation put (or, in test mode, would have put).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub evaluated: usize,
    pub compliant: usize,
    pub non_compliant: usize,
    pub not_applicable: usize,
    pub test_mode: bool,
}

/// One pipeline's verdict, ready to put.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged {
    /// `AWS::CodePipeline::Pipeline`, or what Config sent when it was something else (judged not applicable).
    pub resource_type: String,
    pub pipeline: String,
    pub verdict: Verdict,
    /// The configuration item's capture time, or the periodic notification's time.
    pub at: DateTime<Utc>,
}

impl Function for GuardrailRule {
    type Output = Summary;
    type Error = RuleError;

    async fn invoke(&self, event: Value, invocation: LambdaInvocation) -> Result<Summary, RuleError> {
        self.handle(event, invocation.deadline).await
    }
}

impl GuardrailRule {
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<Summary, RuleError> {
        let invocation = event::parse(event)?;
        let practices = Practices::from_rule_parameters(invocation.rule_parameters.as_deref())?;
        let read_by = deadline.checked_sub(PUT_MARGIN).unwrap_or(deadline);
        let (judged, incomplete) = match &invocation.message {
            Message::Change(item) => (vec![judge_item(item, invocation.event_left_scope, &practices)?], None),
            Message::Oversized(summary) => {
                let judged = match self.recorded_item(summary, read_by).await? {
                    Some(item) => judge_item(&item, invocation.event_left_scope, &practices)?,
                    None => gone(&summary.resource_id, summary.configuration_item_capture_time),
                };
                (vec![judged], None)
            }
            Message::Scheduled { at } => self.judge_every_pipeline(*at, &practices, read_by).await?,
        };
        for j in &judged {
            tracing::info!(rule = %invocation.rule_name, pipeline = %j.pipeline, verdict = ?j.verdict, "judged");
        }
        // Answered before Lambda's own deadline, so a put cut short still fails the invocation with its reason.
        let put_by = deadline.checked_sub(ANSWER_MARGIN).unwrap_or(deadline);
        let summary = put(&self.config, &invocation, &judged, put_by).await?;
        match incomplete {
            Some(error) => Err(error),
            None => Ok(summary),
        }
    }

    /// The full configuration item behind an oversized notification; `None` when Config no longer has the pipeline.
    async fn recorded_item(
        &self,
        summary: &ItemSummary,
        deadline: Instant,
    ) -> Result<Option<ConfigurationItem>, RuleError> {
        if summary.resource_type != PIPELINE_RESOURCE_TYPE {
            return Ok(Some(ConfigurationItem {
                resource_type: summary.resource_type.clone(),
                resource_id: summary.resource_id.clone(),
                configuration_item_status: summary.configuration_item_status.clone(),
                configuration_item_capture_time: summary.configuration_item_capture_time,
                configuration: Value::Null,
            }));
        }
        let request = self
            .config
            .get_resource_config_history()
            .resource_type(ResourceType::from(PIPELINE_RESOURCE_TYPE))
            .resource_id(&summary.resource_id)
            .limit(1)
            .send();
        let history = match by_deadline(deadline, request).await {
            None => {
                return Err(aws_failure(
                    "GetResourceConfigHistory",
                    &summary.resource_id,
                    NO_ANSWER_IN_TIME.into(),
                ));
            }
            Some(Err(e))
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_discovered_exception()) =>
            {
                return Ok(None);
            }
            Some(Err(e)) => {
                let problem = hooks_common::aws::sdk_problem(&e);
                return Err(aws_failure("GetResourceConfigHistory", &summary.resource_id, problem));
            }
            Some(Ok(history)) => history,
        };
        let Some(item) = history.configuration_items().first() else {
            return Ok(None);
        };
        let configuration = match item.configuration() {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                RuleError::Common(hooks_common::Error::Event {
                    field: "GetResourceConfigHistory configurationItems[0].configuration".into(),
                    problem: format!("is not JSON: {e}"),
                })
            })?,
            None => Value::Null,
        };
        Ok(Some(ConfigurationItem {
            resource_type: summary.resource_type.clone(),
            resource_id: summary.resource_id.clone(),
            configuration_item_status: item
                .configuration_item_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| summary.configuration_item_status.clone()),
            configuration_item_capture_time: summary.configuration_item_capture_time,
            configuration,
        }))
    }

    /// The periodic path: every pipeline (`ListPipelines`, paged), each read with `GetPipeline` a few at a time.
    /// Pipelines that cannot be read in time are left out and make the invocation fail after the rest are put.
    async fn judge_every_pipeline(
        &self,
        at: DateTime<Utc>,
        practices: &Practices,
        deadline: Instant,
    ) -> Result<(Vec<Judged>, Option<RuleError>), RuleError> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = call(
                deadline,
                "ListPipelines",
                "this account and region",
                self.codepipeline.list_pipelines().set_next_token(token.clone()).send(),
            )
            .await?;
            names.extend(page.pipelines().iter().filter_map(|p| p.name().map(str::to_owned)));
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(next) if Some(next) != token.as_deref() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        let total = names.len();
        let reads = futures_util::stream::iter(names)
            .map(|name| async move {
                let request = self.codepipeline.get_pipeline().name(&name).send();
                let answer = match by_deadline(deadline, request).await {
                    None => Err(format!("GetPipeline {name}: {NO_ANSWER_IN_TIME}")),
                    Some(Ok(output)) => Ok(output.pipeline().map(PipelineShape::from_sdk)),
                    Some(Err(e))
                        if e.as_service_error()
                            .is_some_and(|s| s.is_pipeline_not_found_exception()) =>
                    {
                        Ok(None)
                    }
                    Some(Err(e)) => Err(format!("{name}: {}", render_sdk_error("GetPipeline", &e))),
                };
                (name, answer)
            })
            .buffer_unordered(CONCURRENT_READS)
            .collect::<Vec<_>>()
            .await;
        let mut judged = Vec::new();
        let mut problems = Vec::new();
        for (name, answer) in reads {
            match answer {
                Ok(Some(shape)) => judged.push(Judged {
                    resource_type: PIPELINE_RESOURCE_TYPE.to_owned(),
                    pipeline: name,
                    verdict: judge(&shape, practices),
                    at,
                }),
                Ok(None) => judged.push(gone(&name, at)),
                Err(problem) => problems.push(problem),
            }
        }
        judged.sort_by(|a, b| a.pipeline.cmp(&b.pipeline));
        let incomplete = (!problems.is_empty()).then(|| RuleError::Incomplete {
            missed: problems.len(),
            total,
            first_problem: problems[0].clone(),
        });
        Ok((judged, incomplete))
    }
}

fn aws_failure(operation: &'static str, target: &str, problem: String) -> RuleError {
    RuleError::Common(hooks_common::Error::Aws {
        operation,
        target: target.to_owned(),
        problem,
    })
}

fn gone(pipeline: &str, at: DateTime<Utc>) -> Judged {
    Judged {
        resource_type: PIPELINE_RESOURCE_TYPE.to_owned(),
        pipeline: pipeline.to_owned(),
        verdict: Verdict::NotApplicable("the pipeline was deleted".into()),
        at,
    }
}

/// The verdict on one recorded change: out of scope or deleted pipelines do not apply.
pub fn judge_item(item: &ConfigurationItem, left_scope: bool, practices: &Practices) -> Result<Judged, RuleError> {
    let at = item.configuration_item_capture_time;
    let not_applicable = |why: &str| Judged {
        resource_type: item.resource_type.clone(),
        pipeline: item.resource_id.clone(),
        verdict: Verdict::NotApplicable(why.to_owned()),
        at,
    };
    if left_scope {
        return Ok(not_applicable("the pipeline left the rule's scope"));
    }
    if item.resource_type != PIPELINE_RESOURCE_TYPE {
        return Ok(not_applicable("this rule judges AWS::CodePipeline::Pipeline only"));
    }
    if item.deleted() {
        return Ok(gone(&item.resource_id, at));
    }
    let shape = PipelineShape::from_configuration(&item.configuration).map_err(|problem| {
        RuleError::Common(hooks_common::Error::Event {
            field: "invokingEvent.configurationItem.configuration".into(),
            problem,
        })
    })?;
    Ok(Judged {
        resource_type: item.resource_type.clone(),
        pipeline: item.resource_id.clone(),
        verdict: judge(&shape, practices),
        at,
    })
}

fn evaluation(judged: &Judged) -> Result<Evaluation, RuleError> {
    let (kind, annotation) = match &judged.verdict {
        Verdict::Compliant(a) => (ComplianceType::Compliant, a),
        Verdict::NonCompliant(a) => (ComplianceType::NonCompliant, a),
        Verdict::NotApplicable(a) => (ComplianceType::NotApplicable, a),
    };
    Evaluation::builder()
        .compliance_resource_type(&judged.resource_type)
        .compliance_resource_id(&judged.pipeline)
        .compliance_type(kind)
        .annotation(annotation)
        .ordering_timestamp(AwsTime::from_millis(judged.at.timestamp_millis()))
        .build()
        .map_err(|e| {
            RuleError::Common(hooks_common::Error::Event {
                field: format!("evaluation of {}", judged.pipeline),
                problem: hooks_common::aws::cause_chain(&e),
            })
        })
}

/// Puts the evaluations, 100 a call; the ones Config hands back as failed are put again (up to three attempts in
/// all, backing off); `TESTMODE` puts them in test mode (validated, not stored).
pub async fn put(
    client: &aws_sdk_config::Client,
    invocation: &Invocation,
    judged: &[Judged],
    deadline: Instant,
) -> Result<Summary, RuleError> {
    let test_mode = invocation.test_mode();
    let mut summary = Summary {
        test_mode,
        ..Summary::default()
    };
    for j in judged {
        summary.evaluated += 1;
        match j.verdict {
            Verdict::Compliant(_) => summary.compliant += 1,
            Verdict::NonCompliant(_) => summary.non_compliant += 1,
            Verdict::NotApplicable(_) => summary.not_applicable += 1,
        }
    }
    let all: Vec<Evaluation> = judged.iter().map(evaluation).collect::<Result<_, _>>()?;
    for batch in all.chunks(EVALUATIONS_PER_CALL) {
        let mut pending: Vec<Evaluation> = batch.to_vec();
        let mut backoff = Duration::from_millis(200);
        for attempt in 1..=PUT_ATTEMPTS {
            let output = call(
                deadline,
                "PutEvaluations",
                &invocation.rule_name,
                client
                    .put_evaluations()
                    .result_token(&invocation.result_token)
                    .set_evaluations(Some(pending.clone()))
                    .test_mode(test_mode)
                    .send(),
            )
            .await?;
            pending = output.failed_evaluations().to_vec();
            if pending.is_empty() {
                break;
            }
            tracing::warn!(
                count = pending.len(),
                attempt,
                "PutEvaluations handed evaluations back as failed"
            );
            if attempt == PUT_ATTEMPTS || by_deadline(deadline, tokio::time::sleep(backoff)).await.is_none() {
                return Err(RuleError::NotRecorded {
                    count: pending.len(),
                    attempts: attempt,
                    first: pending[0].compliance_resource_id().to_owned(),
                });
            }
            backoff *= 2;
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests;
