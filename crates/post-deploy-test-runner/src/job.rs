//! The edge with CodePipeline: reading the job event (its artifact credentials go straight into a redacted type,
//! used only to read the suite from an input artifact), asking which pipeline and stage the job belongs to
//! (`GetJobDetails`), and reporting its one result (`PutJobSuccessResult` / `PutJobFailureResult`), where
//! "already settled" is an answer, not an error.

use std::time::Duration;

use aws_lambda_events::event::codepipeline_job::{CodePipelineInputArtifact, CodePipelineJobEvent};
use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_codepipeline::operation::put_job_failure_result::PutJobFailureResultError;
use aws_sdk_codepipeline::operation::put_job_success_result::PutJobSuccessResultError;
use aws_sdk_codepipeline::types::{ExecutionDetails, FailureDetails, FailureType};
use hooks_common::Error;
use serde_json::Value;

use crate::artifact::{ArtifactCredentials, InputArtifact, S3Location};
use crate::decide::{FailureKind, JobResult};

/// What the runner needs from a job event, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub user_parameters: Option<String>,
    pub continuation_token: Option<String>,
    /// Where a suite named by `suite_from_artifact` may be.
    pub input_artifacts: Vec<InputArtifact>,
    /// To read the input artifacts; `None` if the event has no complete set. Its `Debug` shows nothing of them.
    pub artifact_credentials: Option<ArtifactCredentials>,
}

#[derive(Debug)]
pub enum EventError {
    /// The event names a job but is otherwise not CodePipeline's shape: the job can still be failed.
    Malformed { job_id: String, problem: String },
    /// Not a job event at all: there is no job to report to.
    NotAJob(Error),
}

impl Job {
    /// Parses the event with `aws_lambda_events`' `CodePipelineJobEvent`. Errors name the JSON path only: a serde
    /// message could quote a value, and the event carries credentials.
    pub fn from_event(event: Value) -> Result<Job, EventError> {
        let job_id = event
            .pointer("/CodePipeline.job/id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        let parsed: Result<CodePipelineJobEvent, _> = serde_path_to_error::deserialize(event);
        match (parsed, job_id) {
            (Ok(parsed), Some(id)) => {
                let data = parsed.code_pipeline_job.data;
                let credentials = data.artifact_credentials;
                Ok(Job {
                    id,
                    user_parameters: data.action_configuration.configuration.user_parameters,
                    continuation_token: data.continuation_token.filter(|t| !t.is_empty()),
                    input_artifacts: data.input_artifacts.into_iter().map(input_artifact).collect(),
                    artifact_credentials: ArtifactCredentials::new(
                        credentials.access_key_id,
                        credentials.secret_access_key,
                        credentials.session_token,
                    ),
                })
            }
            (Err(e), Some(job_id)) => Err(EventError::Malformed {
                job_id,
                problem: format!("the job event does not have CodePipeline's job shape at `{}`", e.path()),
            }),
            (_, None) => Err(EventError::NotAJob(Error::Event {
                field: "CodePipeline.job.id".into(),
                problem: "missing: this function is a CodePipeline Lambda Invoke action and takes job events".into(),
            })),
        }
    }
}

fn input_artifact(artifact: CodePipelineInputArtifact) -> InputArtifact {
    let s3 = artifact.location.s3_location;
    let present = |part: Option<String>| part.filter(|p| !p.is_empty());
    let location = match (present(s3.bucket_name), present(s3.object_key)) {
        (Some(bucket), Some(key)) => Some(S3Location { bucket, key }),
        _ => None,
    };
    InputArtifact {
        name: artifact.name.unwrap_or_default(),
        location,
    }
}

/// Where the job runs, for metric dimensions and logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobContext {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    pub execution_id: Option<String>,
}

/// The label of whatever `GetJobDetails` could not tell.
pub const UNKNOWN: &str = "unknown";

impl JobContext {
    pub fn unknown() -> JobContext {
        JobContext {
            pipeline: UNKNOWN.into(),
            stage: UNKNOWN.into(),
            action: UNKNOWN.into(),
            execution_id: None,
        }
    }
}

/// `GetJobDetails` → the job's pipeline, stage and action, within `budget`. The answer also carries artifact
/// credentials: only the pipeline context is read from it.
pub async fn context(client: &Client, job_id: &str, budget: Duration) -> Result<JobContext, String> {
    let call = client.get_job_details().job_id(job_id).send();
    let output = tokio::time::timeout(budget, call)
        .await
        .map_err(|_| format!("GetJobDetails did not answer within {budget:?}"))?
        .map_err(|e| format!("GetJobDetails failed: {}", DisplayErrorContext(&e)))?;
    let context = output
        .job_details()
        .and_then(|details| details.data())
        .and_then(|data| data.pipeline_context())
        .ok_or("GetJobDetails answered without a pipeline context")?;
    let known = |value: Option<&str>| value.filter(|v| !v.is_empty()).unwrap_or(UNKNOWN).to_owned();
    Ok(JobContext {
        pipeline: known(context.pipeline_name()),
        stage: known(context.stage().and_then(|s| s.name())),
        action: known(context.action().and_then(|a| a.name())),
        execution_id: context.pipeline_execution_id().map(str::to_owned),
    })
}

/// How CodePipeline took a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reported {
    Accepted,
    /// Another invocation (a Lambda retry, a duplicate delivery) already reported this job, or it timed out.
    AlreadySettled {
        reason: String,
    },
}

/// Reports `result` for `job_id`. `InvalidJobStateException` and `JobNotFoundException` mean the job is already
/// settled; any other error fails the invocation, so Lambda retries it.
pub async fn report(client: &Client, job_id: &str, result: &JobResult) -> Result<Reported, Error> {
    match result {
        JobResult::Success {
            summary,
            output_variables,
            external_execution_id,
        } => {
            let details = ExecutionDetails::builder()
                .summary(summary)
                .external_execution_id(external_execution_id)
                .percent_complete(100)
                .build();
            let outcome = client
                .put_job_success_result()
                .job_id(job_id)
                .execution_details(details)
                .set_output_variables(Some(output_variables.clone().into_iter().collect()))
                .send()
                .await;
            settled(outcome, "PutJobSuccessResult", job_id)
        }
        JobResult::Continue {
            summary,
            token,
            percent_complete,
            external_execution_id,
        } => {
            let details = ExecutionDetails::builder()
                .summary(summary)
                .external_execution_id(external_execution_id)
                .percent_complete(*percent_complete)
                .build();
            let outcome = client
                .put_job_success_result()
                .job_id(job_id)
                .execution_details(details)
                .continuation_token(token)
                .send()
                .await;
            settled(outcome, "PutJobSuccessResult", job_id)
        }
        JobResult::Failure {
            kind,
            message,
            external_execution_id,
        } => {
            let failure_type = match kind {
                FailureKind::JobFailed => FailureType::JobFailed,
                FailureKind::ConfigurationError => FailureType::ConfigurationError,
            };
            let details = FailureDetails::builder()
                .r#type(failure_type)
                .message(message)
                .set_external_execution_id(external_execution_id.clone())
                .build()
                .map_err(|e| Error::Aws {
                    operation: "PutJobFailureResult",
                    target: format!("job {job_id}"),
                    problem: e.to_string(),
                })?;
            let outcome = client
                .put_job_failure_result()
                .job_id(job_id)
                .failure_details(details)
                .send()
                .await;
            settled(outcome, "PutJobFailureResult", job_id)
        }
    }
}

/// The two report operations' errors, as far as "already settled" goes: `InvalidJobStateException` (reported
/// before, or timed out) and `JobNotFoundException`.
trait SettledError: ProvideErrorMetadata + std::error::Error + 'static {
    fn is_settled(&self) -> bool;
}

impl SettledError for PutJobSuccessResultError {
    fn is_settled(&self) -> bool {
        self.is_invalid_job_state_exception() || self.is_job_not_found_exception()
    }
}

impl SettledError for PutJobFailureResultError {
    fn is_settled(&self) -> bool {
        self.is_invalid_job_state_exception() || self.is_job_not_found_exception()
    }
}

fn settled<T, E: SettledError>(
    outcome: Result<T, aws_sdk_codepipeline::error::SdkError<E>>,
    operation: &'static str,
    job_id: &str,
) -> Result<Reported, Error> {
    let error = match outcome {
        Ok(_) => return Ok(Reported::Accepted),
        Err(error) => error,
    };
    // The typed error's text is "<code>: <message>".
    match error.as_service_error().filter(|e| e.is_settled()) {
        Some(e) => Ok(Reported::AlreadySettled {
            reason: format!("{operation} answered {e}"),
        }),
        None => Err(Error::Aws {
            operation,
            target: format!("job {job_id}"),
            problem: DisplayErrorContext(&error).to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_codepipeline::operation::get_job_details::GetJobDetailsOutput;
    use aws_sdk_codepipeline::operation::put_job_failure_result::PutJobFailureResultOutput;
    use aws_sdk_codepipeline::operation::put_job_success_result::PutJobSuccessResultOutput;
    use aws_sdk_codepipeline::types::error::{InvalidJobStateException, JobNotFoundException, ValidationException};
    use aws_sdk_codepipeline::types::{
        ActionContext, AwsSessionCredentials, JobData, JobDetails, PipelineContext, StageContext,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn event() -> Value {
        json!({"CodePipeline.job": {"id": "job-1", "accountId": "123456789012", "data": {
            "actionConfiguration": {"configuration": {"FunctionName": "runner", "UserParameters": "{\"checks\": []}"}},
            "inputArtifacts": [
                {"name": "BuildOutput", "revision": null, "location": {"type": "S3", "s3Location": {
                    "bucketName": "codepipeline-us-east-1-123456789012", "objectKey": "storefront/BuildOutpu/Xk3Lm9Q"}}},
                {"name": "Elsewhere", "location": {"type": "S3", "s3Location": {"bucketName": ""}}}
            ],
            "outputArtifacts": [],
            "artifactCredentials": {"accessKeyId": "ASIAXXXX", "secretAccessKey": "s3cr3t", "sessionToken": "t0k3n",
                                    "expirationTime": 1795000000000_i64},
            "continuationToken": "{\"v\":1}"
        }}})
    }

    #[test]
    fn events_keep_only_what_the_runner_needs() {
        let job = Job::from_event(event()).unwrap();
        assert_eq!(
            job,
            Job {
                id: "job-1".into(),
                user_parameters: Some("{\"checks\": []}".into()),
                continuation_token: Some("{\"v\":1}".into()),
                input_artifacts: vec![
                    InputArtifact {
                        name: "BuildOutput".into(),
                        location: Some(S3Location {
                            bucket: "codepipeline-us-east-1-123456789012".into(),
                            key: "storefront/BuildOutpu/Xk3Lm9Q".into(),
                        }),
                    },
                    InputArtifact {
                        name: "Elsewhere".into(),
                        location: None,
                    },
                ],
                artifact_credentials: ArtifactCredentials::new(
                    Some("ASIAXXXX".into()),
                    Some("s3cr3t".into()),
                    Some("t0k3n".into())
                ),
            }
        );
        assert!(job.artifact_credentials.is_some());
        let shown = format!("{job:?}");
        for secret in ["ASIAXXXX", "s3cr3t", "t0k3n"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn malformed_events_name_the_path_and_never_a_value() {
        let mut broken = event();
        broken["CodePipeline.job"]["data"]["artifactCredentials"]["secretAccessKey"] = json!(["s3cr3t"]);
        let Err(EventError::Malformed { job_id, problem }) = Job::from_event(broken) else {
            panic!("a malformed job")
        };
        assert_eq!(job_id, "job-1");
        assert!(
            problem.contains("CodePipeline.job.data.artifactCredentials.secretAccessKey"),
            "{problem}"
        );
        assert!(!problem.contains("s3cr3t"), "{problem}");

        for other in [
            json!({"detail-type": "Scheduled Event"}),
            json!({"CodePipeline.job": {"id": ""}}),
        ] {
            let Err(EventError::NotAJob(e)) = Job::from_event(other) else {
                panic!("not a job")
            };
            assert_eq!(e.error_type(), "MalformedEvent");
        }
    }

    #[tokio::test]
    async fn context_reads_only_the_pipeline_context() {
        let details = mock!(Client::get_job_details).then_output(|| {
            GetJobDetailsOutput::builder()
                .job_details(
                    JobDetails::builder()
                        .id("job-1")
                        .data(
                            JobData::builder()
                                .pipeline_context(
                                    PipelineContext::builder()
                                        .pipeline_name("storefront")
                                        .stage(StageContext::builder().name("Test").build())
                                        .action(ActionContext::builder().name("SmokeTests").build())
                                        .pipeline_execution_id("exec-1")
                                        .build(),
                                )
                                .artifact_credentials(
                                    AwsSessionCredentials::builder()
                                        .access_key_id("ASIA")
                                        .secret_access_key("s")
                                        .session_token("t")
                                        .build()
                                        .unwrap(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_codepipeline, [&details]);
        let context = context(&client, "job-1", Duration::from_secs(2)).await.unwrap();
        assert_eq!(
            context,
            JobContext {
                pipeline: "storefront".into(),
                stage: "Test".into(),
                action: "SmokeTests".into(),
                execution_id: Some("exec-1".into()),
            }
        );
    }

    fn success() -> JobResult {
        JobResult::Success {
            summary: "PASS".into(),
            output_variables: BTreeMap::from([("passed".into(), "1".into())]),
            external_execution_id: "job-1".into(),
        }
    }

    #[tokio::test]
    async fn a_settled_job_is_an_answer_not_an_error() {
        let invalid_state = mock!(Client::put_job_success_result).then_error(|| {
            PutJobSuccessResultError::InvalidJobStateException(
                InvalidJobStateException::builder().message("job is Succeeded").build(),
            )
        });
        let not_found = mock!(Client::put_job_failure_result).then_error(|| {
            PutJobFailureResultError::JobNotFoundException(JobNotFoundException::builder().message("gone").build())
        });
        let client = mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, [&invalid_state, &not_found]);
        let reported = report(&client, "job-1", &success()).await.unwrap();
        assert_eq!(
            reported,
            Reported::AlreadySettled {
                reason: "PutJobSuccessResult answered InvalidJobStateException: job is Succeeded".into()
            }
        );
        let failure = JobResult::job_failed("2 checks failed", Some("job-1".into()));
        let reported = report(&client, "job-1", &failure).await.unwrap();
        assert!(matches!(reported, Reported::AlreadySettled { ref reason } if reason.contains("JobNotFoundException")));
    }

    #[tokio::test]
    async fn reports_carry_the_result_and_other_errors_fail_the_invocation() {
        let accepted = mock!(Client::put_job_success_result)
            .match_requests(|r| {
                r.continuation_token() == Some("{\"v\":1}")
                    && r.execution_details().and_then(|d| d.percent_complete()) == Some(40)
                    && r.output_variables().is_none()
            })
            .then_output(|| PutJobSuccessResultOutput::builder().build());
        let configuration = mock!(Client::put_job_failure_result)
            .match_requests(|r| {
                r.failure_details().map(|d| (d.r#type().as_str(), d.message()))
                    == Some(("ConfigurationError", "UserParameters: bad"))
            })
            .then_output(|| PutJobFailureResultOutput::builder().build());
        let client = mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, [&accepted, &configuration]);
        let next = JobResult::Continue {
            summary: "Soak running".into(),
            token: "{\"v\":1}".into(),
            percent_complete: 40,
            external_execution_id: "job-1".into(),
        };
        assert_eq!(report(&client, "job-1", &next).await.unwrap(), Reported::Accepted);
        let bad = JobResult::configuration_error("UserParameters: bad");
        assert_eq!(report(&client, "job-1", &bad).await.unwrap(), Reported::Accepted);
        assert_eq!((accepted.num_calls(), configuration.num_calls()), (1, 1));

        let invalid = mock!(Client::put_job_success_result).then_error(|| {
            PutJobSuccessResultError::ValidationException(ValidationException::builder().message("too long").build())
        });
        let client = mock_client!(aws_sdk_codepipeline, [&invalid]);
        let err = report(&client, "job-1", &success()).await.unwrap_err();
        assert_eq!(err.error_type(), "AwsCallFailed");
        assert!(
            err.to_string().contains("PutJobSuccessResult for job job-1 failed"),
            "{err}"
        );
    }
}
