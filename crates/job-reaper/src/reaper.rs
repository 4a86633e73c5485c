//! The edge: a batch of parked records from the runner's on-failure queue. For each, in turn: the job id from the
//! record, `GetJobDetails` (is it the runner's job? the same rule the runner applies), then `PutJobFailureResult`
//! saying why. A record that cannot be done now (CodePipeline not answering, too little time left) is reported in
//! `batchItemFailures`, so SQS delivers only it again; everything else is done, answered or not.

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_sdk_codepipeline::Client;
use hooks_common::Error;
use hooks_common::aws::render_sdk_error;
use hooks_common::settings::Env;
use post_deploy_test_runner::decide::JobResult;
use post_deploy_test_runner::job::{self, Reported};
use post_deploy_test_runner::owner::{self, LambdaFunction};
use serde_json::Value;

use crate::record::{self, Parked};

/// The runner's function name, as its Invoke actions' `FunctionName` names it (the template's `!Ref` of it).
pub const RUNNER_VAR: &str = "RUNNER_FUNCTION_NAME";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The function whose jobs this reaper fails.
    pub runner: LambdaFunction,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Settings, Error> {
        let fix = "set it to the post-deploy test runner's function name (the template's !Ref of the function)";
        Ok(Settings {
            runner: LambdaFunction::from_env(env, RUNNER_VAR, fix)?,
        })
    }
}

/// How one record ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// The job's failure was reported.
    Reported { job: String },
    /// Nothing to report, for good: the job is settled or gone, not the runner's, or the record unreadable.
    Nothing(String),
}

/// Time kept back to answer Lambda with the batch's result.
const MARGIN: Duration = Duration::from_millis(500);
/// A record is not started with less than this left: it goes back to the queue instead.
const LEAST_PER_RECORD: Duration = Duration::from_secs(1);

pub struct Reaper {
    pipelines: Client,
    settings: Settings,
}

impl Reaper {
    pub fn new(pipelines: Client, settings: Settings) -> Reaper {
        Reaper { pipelines, settings }
    }

    /// Handles one SQS batch. Neither the event nor a record is ever logged: a record holds the job's artifact
    /// credentials.
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<SqsBatchResponse, Error> {
        let event: SqsEvent = serde_path_to_error::deserialize(event).map_err(|e| Error::Event {
            field: e.path().to_string(),
            problem: "not an SQS event: this function reads the post-deploy test runner's on-failure queue".into(),
        })?;
        let mut response = SqsBatchResponse::default();
        let count = event.records.len();
        for (index, message) in event.records.into_iter().enumerate() {
            let id = message.message_id.unwrap_or_default();
            // An equal share of what is left for each record still to go.
            let left = deadline
                .saturating_duration_since(Instant::now())
                .saturating_sub(MARGIN);
            let share = left / u32::try_from(count - index).unwrap_or(u32::MAX);
            let outcome = if share < LEAST_PER_RECORD {
                Err(format!("only {left:?} left in this invocation: back to the queue"))
            } else {
                self.reap(message.body.as_deref().unwrap_or_default(), Instant::now() + share)
                    .await
            };
            match outcome {
                Ok(Done::Reported { job }) => tracing::info!(message = %id, %job, "the job's failure was reported"),
                Ok(Done::Nothing(reason)) => tracing::info!(message = %id, %reason, "nothing to report"),
                Err(problem) => {
                    tracing::warn!(message = %id, %problem, "not done: SQS delivers the record again");
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    response.batch_item_failures.push(failure);
                }
            }
        }
        Ok(response)
    }

    /// One record, by `deadline`: done, or why it must be tried again.
    async fn reap(&self, body: &str, deadline: Instant) -> Result<Done, String> {
        let parked = match record::parse(body) {
            Ok(parked) => parked,
            // It will never read better: retrying would only park it again.
            Err(problem) => {
                tracing::error!(%problem, "an unreadable record in the runner's on-failure queue is dropped");
                return Ok(Done::Nothing(problem));
            }
        };
        let Parked { job_id, .. } = &parked;
        tracing::info!(job = %job_id, attempts = parked.attempts, condition = %parked.condition,
            function = parked.function_arn.as_deref().unwrap_or("unknown"), "a parked job");
        let details = tokio::time::timeout_at(deadline.into(), self.pipelines.get_job_details().job_id(job_id).send())
            .await
            .map_err(|_| format!("GetJobDetails for job {job_id}: no answer in time"))?;
        let details = match details {
            Ok(output) => output.job_details,
            Err(error) => {
                let gone = error
                    .as_service_error()
                    .is_some_and(|e| e.is_job_not_found_exception() || e.is_validation_exception());
                let told = render_sdk_error("GetJobDetails", &error);
                return if gone {
                    Ok(Done::Nothing(format!("job {job_id}: {told}: nothing left to answer")))
                } else {
                    Err(format!("job {job_id}: {told}"))
                };
            }
        };
        let Some(details) = details else {
            return Err(format!("GetJobDetails for job {job_id} answered without jobDetails"));
        };
        if let Err(why) = owner::check(&job::action_facts(&details), &self.settings.runner) {
            tracing::warn!(job = %job_id, %why, "not a job of the runner: nothing reported for it");
            return Ok(Done::Nothing(why));
        }
        let failure = JobResult::job_failed(parked.message(), None);
        let reported = tokio::time::timeout_at(deadline.into(), job::report(&self.pipelines, job_id, &failure))
            .await
            .map_err(|_| format!("PutJobFailureResult for job {job_id}: no answer in time"))?
            .map_err(|e| e.to_string())?;
        match reported {
            Reported::Accepted => Ok(Done::Reported { job: job_id.clone() }),
            Reported::AlreadySettled { reason } => Ok(Done::Nothing(format!("job {job_id} is settled: {reason}"))),
        }
    }
}

impl hooks_common::runtime::Function for Reaper {
    type Output = SqsBatchResponse;
    type Error = Error;

    async fn invoke(
        &self,
        event: Value,
        invocation: hooks_common::runtime::Invocation,
    ) -> Result<SqsBatchResponse, Error> {
        self.handle(event, invocation.deadline).await
    }
}
