//! The edge with CodePipeline. A job event is only a hint: from it the runner takes the job's id and nothing else
//! (anyone allowed to invoke the function can send one). What the job is comes from `GetJobDetails`: whether it is
//! this function's ([`crate::owner`]), its `UserParameters`, continuation token, input artifacts and their
//! credentials (straight into a redacted type, used only to read the suite), and where it runs. Then its one
//! result is reported (`PutJobSuccessResult` / `PutJobFailureResult`), where "already settled" is an answer, not
//! an error.

use std::time::Instant;

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::error::ProvideErrorMetadata;
use aws_sdk_codepipeline::operation::put_job_failure_result::PutJobFailureResultError;
use aws_sdk_codepipeline::operation::put_job_success_result::PutJobSuccessResultError;
use aws_sdk_codepipeline::types::{Artifact, ExecutionDetails, FailureDetails, FailureType, JobDetails};
use hooks_common::Error;
use hooks_common::aws::render_sdk_error;
use serde_json::Value;

use crate::artifact::{ArtifactCredentials, InputArtifact, S3Location};
use crate::decide::{FailureKind, JobResult};
use crate::owner::{self, ActionFacts, LambdaFunction};
use crate::seal::Scope;

/// The id of the job an event names; the rest of the event is not read.
pub fn job_id(event: &Value) -> Result<String, Error> {
    event
        .pointer("/CodePipeline.job/id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::Event {
            field: "CodePipeline.job.id".into(),
            problem: "missing: this function is a CodePipeline Lambda Invoke action and takes job events".into(),
        })
}

/// `GetJobDetails`, by `deadline`. Any failure is an error: without the job's own account of itself, nothing may be
/// reported for it (the invocation fails, and Lambda's retry asks again).
pub async fn details(client: &Client, job_id: &str, deadline: Instant) -> Result<JobDetails, Error> {
    const OPERATION: &str = "GetJobDetails";
    let target = format!("job {job_id}");
    let call = client.get_job_details().job_id(job_id).send();
    let output = match tokio::time::timeout_at(deadline.into(), call).await {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => {
            return Err(Error::Aws {
                operation: OPERATION,
                target,
                problem: render_sdk_error(OPERATION, &error),
            });
        }
        Err(_) => {
            return Err(Error::Aws {
                operation: OPERATION,
                target,
                problem: "no answer within the time this invocation gives it".into(),
            });
        }
    };
    output.job_details.ok_or_else(|| Error::Aws {
        operation: OPERATION,
        target: format!("job {job_id}"),
        problem: "CodePipeline answered without jobDetails".into(),
    })
}

/// What `GetJobDetails` says about the action the job belongs to, for [`owner::check`].
pub fn action_facts(details: &JobDetails) -> ActionFacts<'_> {
    let data = details.data();
    let type_id = data.and_then(|d| d.action_type_id());
    ActionFacts {
        category: type_id.map(|t| t.category().as_str()),
        owner: type_id.map(|t| t.owner().as_str()),
        provider: type_id.map(|t| t.provider()),
        function_name: configuration(details, "FunctionName"),
        account_id: details.account_id(),
    }
}

fn configuration<'a>(details: &'a JobDetails, key: &str) -> Option<&'a str> {
    details
        .data()
        .and_then(|d| d.action_configuration())
        .and_then(|c| c.configuration())
        .and_then(|c| c.get(key))
        .map(String::as_str)
}

/// A job of this function, as CodePipeline tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub user_parameters: Option<String>,
    pub continuation_token: Option<String>,
    /// Where a suite named by `suite_from_artifact` may be.
    pub input_artifacts: Vec<InputArtifact>,
    /// To read the input artifacts; `None` without a complete set. Its `Debug` shows nothing of them.
    pub artifact_credentials: Option<ArtifactCredentials>,
    pub context: JobContext,
}

impl Job {
    /// The job `job_id` from `GetJobDetails`' answer, if it is `function`'s; otherwise why not.
    pub fn from_details(job_id: &str, details: &JobDetails, function: &LambdaFunction) -> Result<Job, String> {
        if details.id().is_some_and(|id| id != job_id) {
            return Err("GetJobDetails answered about another job".to_owned());
        }
        owner::check(&action_facts(details), function)?;
        let data = details.data();
        let credentials = data.and_then(|d| d.artifact_credentials());
        Ok(Job {
            id: job_id.to_owned(),
            user_parameters: configuration(details, "UserParameters").map(str::to_owned),
            continuation_token: data
                .and_then(|d| d.continuation_token())
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            input_artifacts: data
                .map_or(&[][..], |d| d.input_artifacts())
                .iter()
                .map(input_artifact)
                .collect(),
            artifact_credentials: credentials.and_then(|c| {
                ArtifactCredentials::new(
                    Some(c.access_key_id().to_owned()),
                    Some(c.secret_access_key().to_owned()),
                    Some(c.session_token().to_owned()),
                )
            }),
            context: JobContext::of(details),
        })
    }

    /// The soak this job is part of, which its continuation token must be signed for.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            pipeline: &self.context.pipeline,
            stage: &self.context.stage,
            action: &self.context.action,
            execution_id: self.context.execution_id.as_deref().unwrap_or_default(),
            user_parameters: self.user_parameters.as_deref().unwrap_or_default(),
        }
    }
}

fn input_artifact(artifact: &Artifact) -> InputArtifact {
    let s3 = artifact.location().and_then(|l| l.s3_location());
    let present = |part: &str| Some(part.to_owned()).filter(|p| !p.is_empty());
    let location = s3.and_then(|s3| {
        Some(S3Location {
            bucket: present(s3.bucket_name())?,
            key: present(s3.object_key())?,
        })
    });
    InputArtifact {
        name: artifact.name().unwrap_or_default().to_owned(),
        location,
    }
}

/// Where the job runs, for metric dimensions, logs and the soak's scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobContext {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    pub execution_id: Option<String>,
}

/// The label of whatever `GetJobDetails` did not tell.
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

    fn of(details: &JobDetails) -> JobContext {
        let Some(context) = details.data().and_then(|d| d.pipeline_context()) else {
            return JobContext::unknown();
        };
        let known = |value: Option<&str>| value.filter(|v| !v.is_empty()).unwrap_or(UNKNOWN).to_owned();
        JobContext {
            pipeline: known(context.pipeline_name()),
            stage: known(context.stage().and_then(|s| s.name())),
            action: known(context.action().and_then(|a| a.name())),
            execution_id: context.pipeline_execution_id().map(str::to_owned),
        }
    }
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
            problem: render_sdk_error(operation, &error),
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aws_sdk_codepipeline::operation::get_job_details::{GetJobDetailsError, GetJobDetailsOutput};
    use aws_sdk_codepipeline::operation::put_job_failure_result::PutJobFailureResultOutput;
    use aws_sdk_codepipeline::operation::put_job_success_result::PutJobSuccessResultOutput;
    use aws_sdk_codepipeline::types::error::{InvalidJobStateException, JobNotFoundException, ValidationException};
    use aws_sdk_codepipeline::types::{
        ActionCategory, ActionConfiguration, ActionContext, ActionOwner, ActionTypeId, ArtifactLocation,
        ArtifactLocationType, AwsSessionCredentials, JobData, PipelineContext, S3ArtifactLocation, StageContext,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn runner() -> LambdaFunction {
        LambdaFunction {
            name: "runner".into(),
            region: Some("us-east-1".into()),
        }
    }

    fn artifact(name: &str, bucket: &str, key: &str) -> Artifact {
        let s3 = S3ArtifactLocation::builder()
            .bucket_name(bucket)
            .object_key(key)
            .build()
            .unwrap();
        Artifact::builder()
            .name(name)
            .location(
                ArtifactLocation::builder()
                    .r#type(ArtifactLocationType::S3)
                    .s3_location(s3)
                    .build(),
            )
            .build()
    }

    /// `GetJobDetails`' answer about `job-1`, of a Lambda Invoke action naming `function_name`.
    pub(crate) fn answer(function_name: &str) -> JobDetails {
        let type_id = ActionTypeId::builder()
            .category(ActionCategory::Invoke)
            .owner(ActionOwner::Aws)
            .provider("Lambda")
            .version("1")
            .build()
            .unwrap();
        let configuration = ActionConfiguration::builder()
            .configuration("FunctionName", function_name)
            .configuration("UserParameters", r#"{"checks": []}"#)
            .build();
        let context = PipelineContext::builder()
            .pipeline_name("storefront")
            .stage(StageContext::builder().name("Test").build())
            .action(ActionContext::builder().name("SmokeTests").build())
            .pipeline_execution_id("exec-1")
            .build();
        let credentials = AwsSessionCredentials::builder()
            .access_key_id("ASIAXXXX")
            .secret_access_key("s3cr3t")
            .session_token("t0k3n")
            .build()
            .unwrap();
        let data = JobData::builder()
            .action_type_id(type_id)
            .action_configuration(configuration)
            .pipeline_context(context)
            .input_artifacts(artifact(
                "BuildOutput",
                "codepipeline-us-east-1-123456789012",
                "storefront/BuildOutpu/Xk3Lm9Q",
            ))
            .input_artifacts(artifact("Elsewhere", "", ""))
            .artifact_credentials(credentials)
            .continuation_token("abc.{}")
            .build();
        JobDetails::builder()
            .id("job-1")
            .account_id("123456789012")
            .data(data)
            .build()
    }

    #[test]
    fn the_event_gives_the_job_id_only() {
        let event = json!({"CodePipeline.job": {"id": "job-1", "data": "anything at all"}});
        assert_eq!(job_id(&event).unwrap(), "job-1");
        for other in [
            json!({"detail-type": "Scheduled Event"}),
            json!({"CodePipeline.job": {"id": ""}}),
            json!({"CodePipeline.job": {"id": 7}}),
        ] {
            assert_eq!(job_id(&other).unwrap_err().error_type(), "MalformedEvent");
        }
    }

    #[test]
    fn a_job_of_this_function_is_read_from_get_job_details() {
        let job = Job::from_details("job-1", &answer("runner"), &runner()).unwrap();
        assert_eq!(
            job,
            Job {
                id: "job-1".into(),
                user_parameters: Some(r#"{"checks": []}"#.into()),
                continuation_token: Some("abc.{}".into()),
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
                context: JobContext {
                    pipeline: "storefront".into(),
                    stage: "Test".into(),
                    action: "SmokeTests".into(),
                    execution_id: Some("exec-1".into()),
                },
            }
        );
        assert!(job.artifact_credentials.is_some());
        let shown = format!("{job:?}");
        for secret in ["ASIAXXXX", "s3cr3t", "t0k3n"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let scope = job.scope();
        assert_eq!(
            (scope.pipeline, scope.stage, scope.action, scope.execution_id),
            ("storefront", "Test", "SmokeTests", "exec-1")
        );
    }

    #[test]
    fn a_job_of_another_function_or_another_job_is_not_ours() {
        let why = Job::from_details("job-1", &answer("someone-else"), &runner()).unwrap_err();
        assert!(why.contains("names the function `someone-else`"), "{why}");
        let why = Job::from_details("job-2", &answer("runner"), &runner()).unwrap_err();
        assert!(why.contains("another job"), "{why}");
        let bare = JobDetails::builder().id("job-1").build();
        let why = Job::from_details("job-1", &bare, &runner()).unwrap_err();
        assert!(why.contains("not a Lambda Invoke action"), "{why}");
    }

    #[tokio::test]
    async fn get_job_details_failing_or_hanging_is_an_error() {
        let answer = mock!(Client::get_job_details)
            .then_output(|| GetJobDetailsOutput::builder().job_details(answer("runner")).build());
        let client = mock_client!(aws_sdk_codepipeline, [&answer]);
        let soon = Instant::now() + Duration::from_secs(5);
        assert_eq!(details(&client, "job-1", soon).await.unwrap().id(), Some("job-1"));

        let not_found = mock!(Client::get_job_details).then_error(|| {
            GetJobDetailsError::JobNotFoundException(JobNotFoundException::builder().message("no job-9").build())
        });
        let client = mock_client!(aws_sdk_codepipeline, [&not_found]);
        let err = details(&client, "job-9", soon).await.unwrap_err();
        assert_eq!(err.error_type(), "AwsCallFailed");
        let text = err.to_string();
        assert!(
            text.contains("GetJobDetails for job job-9 failed: GetJobDetails: JobNotFoundException: no job-9"),
            "{text}"
        );

        let empty = mock!(Client::get_job_details).then_output(|| GetJobDetailsOutput::builder().build());
        let client = mock_client!(aws_sdk_codepipeline, [&empty]);
        let err = details(&client, "job-1", soon).await.unwrap_err();
        assert!(err.to_string().contains("without jobDetails"), "{err}");
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
            err.to_string().contains(
                "PutJobSuccessResult for job job-1 failed: PutJobSuccessResult: ValidationException: too long"
            ),
            "{err}"
        );
    }
}
