//! CodePipeline jobs for Lambda Invoke actions: creating a job (with fresh artifact credentials), the event
//! Lambda receives for it, `GetJobDetails`, and `PutJobSuccessResult` / `PutJobFailureResult`, which settle a job
//! once.
//!
//! A success without a continuation token settles the action (with its output variables); a success with one
//! leaves the action running so the scenario can create the next job; a failure fails the action. A job
//! nobody reports before its deadline times out and fails the action.

use std::collections::BTreeMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::shapes;
use super::{constraint, uuid_member};
use crate::aws::AwsError;
use crate::model::{
    ArtifactCredentials, ExecutionResult, Job, JobFailure, JobReport, JobState, JobSuccess, Status, World,
};
use crate::{ACCOUNT, REGION};

/// The failure types `FailureDetails.type` allows.
pub const FAILURE_TYPES: [&str; 6] = [
    "JobFailed",
    "ConfigurationError",
    "PermissionError",
    "RevisionOutOfSync",
    "RevisionUnavailable",
    "SystemUnavailable",
];
/// Total size of a report's output variables (keys and values, bytes).
pub const OUTPUT_VARIABLES_MAX_BYTES: usize = 122_880;
/// How long a job's artifact credentials stay valid.
const CREDENTIALS_LIFETIME: Duration = Duration::from_secs(60 * 60);

// ---- Model transitions ----

impl World {
    /// Creates the next job of the latest run of `stage`/`action` in `execution_id`, for the function its
    /// `FunctionName` names; `None` if the execution, action or run is unknown.
    pub fn create_job(
        &mut self,
        execution_id: &str,
        stage: &str,
        action: &str,
        continuation_token: Option<String>,
        timeout: Duration,
    ) -> Option<String> {
        let execution = self.execution(execution_id)?;
        let pipeline = execution.pipeline.clone();
        let run = execution.latest_run(stage, action)?;
        let action_execution_id = run.action_execution_id.clone();
        let function_name = self
            .pipeline(&pipeline)?
            .action(stage, action)?
            .configuration
            .get("FunctionName")
            .cloned()
            .unwrap_or_default();
        let sequence = 1 + self
            .jobs
            .iter()
            .filter(|j| j.action_execution_id == action_execution_id)
            .count();
        let id = self.new_id();
        let created = Utc::now();
        self.jobs.push(Job {
            id: id.clone(),
            execution_id: execution_id.into(),
            pipeline,
            stage: stage.into(),
            action: action.into(),
            action_execution_id,
            sequence,
            function_name,
            continuation_token,
            credentials: fresh_credentials(created),
            created,
            deadline: created + chrono::Duration::from_std(timeout).unwrap_or(chrono::TimeDelta::MAX),
            state: JobState::InProgress,
            reports: Vec::new(),
        });
        Some(id)
    }

    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    fn job_mut(&mut self, id: &str) -> Option<&mut Job> {
        self.jobs.iter_mut().find(|j| j.id == id)
    }

    /// The jobs of one execution, in the order they were created.
    pub fn jobs_of_execution<'a>(&'a self, execution_id: &'a str) -> impl Iterator<Item = &'a Job> + 'a {
        self.jobs.iter().filter(move |j| j.execution_id == execution_id)
    }

    /// Times the job out if it is still unreported (failing its action), and returns its final state.
    pub fn time_out_job(&mut self, id: &str) -> Option<JobState> {
        let job = self.job_mut(id)?;
        if job.state != JobState::InProgress {
            return Some(job.state.clone());
        }
        job.state = JobState::TimedOut;
        let waited = (job.deadline - job.created).to_std().unwrap_or_default();
        let (execution_id, stage, action) = (job.execution_id.clone(), job.stage.clone(), job.action.clone());
        let message = format!(
            "job timed out: the function never reported (no PutJobSuccessResult or PutJobFailureResult within {})",
            human(waited)
        );
        let result = ExecutionResult {
            error: Some(("JobFailed".into(), message)),
            ..ExecutionResult::default()
        };
        self.finish_action(&execution_id, &stage, &action, Status::Failed, result);
        Some(JobState::TimedOut)
    }

    /// The job, if it may still be reported; `InvalidJobStateException` once settled (a job past its deadline
    /// is timed out first).
    fn open_job(&mut self, id: &str) -> Result<&mut Job, AwsError> {
        let overdue = match self.job(id) {
            None => return Err(job_not_found(id)),
            Some(job) => job.state == JobState::InProgress && Utc::now() >= job.deadline,
        };
        if overdue {
            self.time_out_job(id);
        }
        let job = self.job_mut(id).ok_or_else(|| job_not_found(id))?;
        match &job.state {
            JobState::InProgress => Ok(job),
            settled => Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "InvalidJobStateException",
                format!(
                    "Job {id} is in state {}: it cannot be reported again",
                    state_name(settled)
                ),
            )),
        }
    }

    fn succeed_job(&mut self, id: &str, success: JobSuccess) -> Result<(), AwsError> {
        let job = self.open_job(id)?;
        job.state = JobState::Succeeded(success.clone());
        let (execution_id, stage, action) = (job.execution_id.clone(), job.stage.clone(), job.action.clone());
        let result = ExecutionResult {
            external_execution_id: success.external_execution_id.clone(),
            external_execution_summary: success.summary.clone(),
            ..ExecutionResult::default()
        };
        if success.continuation_token.is_none() {
            self.finish_action(&execution_id, &stage, &action, Status::Succeeded, result.clone());
        }
        let run = self
            .execution_mut(&execution_id)
            .and_then(|e| e.latest_run_mut(&stage, &action));
        if let Some(run) = run {
            if success.continuation_token.is_some() {
                // Still running: the report is progress.
                run.result = result;
                run.updated = Utc::now();
            }
            run.percent_complete = success.percent_complete.or(run.percent_complete);
            run.output_variables = success.output_variables;
        }
        Ok(())
    }

    fn fail_job(&mut self, id: &str, failure: JobFailure) -> Result<(), AwsError> {
        let job = self.open_job(id)?;
        job.state = JobState::Failed(failure.clone());
        let (execution_id, stage, action) = (job.execution_id.clone(), job.stage.clone(), job.action.clone());
        let result = ExecutionResult {
            external_execution_id: failure.external_execution_id,
            error: Some((failure.failure_type, failure.message)),
            ..ExecutionResult::default()
        };
        self.finish_action(&execution_id, &stage, &action, Status::Failed, result);
        Ok(())
    }

    fn record_job_report(&mut self, id: &str, operation: &str, outcome: &Result<(), AwsError>) {
        if let Some(job) = self.job_mut(id) {
            job.reports.push(JobReport {
                operation: operation.into(),
                at: Utc::now(),
                error: outcome.as_ref().err().map(|e| e.code.to_owned()),
            });
        }
    }
}

fn state_name(state: &JobState) -> &'static str {
    match state {
        JobState::InProgress => "InProgress",
        JobState::Succeeded(_) => "Succeeded",
        JobState::Failed(_) => "Failed",
        JobState::TimedOut => "TimedOut",
    }
}

fn job_not_found(id: &str) -> AwsError {
    AwsError::new(
        StatusCode::BAD_REQUEST,
        "JobNotFoundException",
        format!("Job with id {id} was not found"),
    )
}

/// `30s`, `2m`, `1h30m`: how long a timeout was, for messages.
pub fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0 => format!("{}ms", duration.as_millis()),
        1..60 => format!("{secs}s"),
        60..3600 if secs.is_multiple_of(60) => format!("{}m", secs / 60),
        60..3600 => format!("{}m{}s", secs / 60, secs % 60),
        _ if secs.is_multiple_of(3600) => format!("{}h", secs / 3600),
        _ => format!("{}h{}m", secs / 3600, (secs % 3600) / 60),
    }
}

// ---- Credentials ----

fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one((COUNTER.fetch_add(1, Ordering::Relaxed), std::time::SystemTime::now()))
}

fn random_text(alphabet: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut bits = random();
        for _ in 0..8 {
            if out.len() == len {
                break;
            }
            out.push(alphabet[(bits % alphabet.len() as u64) as usize] as char);
            bits /= alphabet.len() as u64;
        }
    }
    out
}

/// Keys shaped like STS session credentials (`ASIA…`), different for every job.
fn fresh_credentials(now: DateTime<Utc>) -> ArtifactCredentials {
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ArtifactCredentials {
        access_key_id: format!("ASIA{}", random_text(UPPER, 16)),
        secret_access_key: random_text(BASE64, 40),
        session_token: format!("IQoJb3JpZ2luX2VjE{}", random_text(BASE64, 300)),
        expiration: now + chrono::Duration::from_std(CREDENTIALS_LIFETIME).unwrap_or_default(),
    }
}

// ---- The job's data: the event Lambda receives, and GetJobDetails ----

/// The job's `data` as its worker sees it: the action's configuration, its artifacts with their S3 locations,
/// the job's artifact credentials, and the continuation token it carries. The Lambda event and `GetJobDetails`
/// share it; `GetJobDetails` adds where the job runs.
fn job_data(world: &World, job: &Job) -> Option<Map<String, Value>> {
    let pipeline = world.pipeline(&job.pipeline)?;
    let execution = world.execution(&job.execution_id)?;
    let declaration = pipeline.action(&job.stage, &job.action)?;
    let (inputs, outputs) = shapes::artifacts(pipeline, &job.stage, &job.action);
    let artifact = |name: &String, revision: Option<String>| {
        json!({
            "name": name,
            "revision": revision,
            "location": {
                "type": "S3",
                "s3Location": {
                    "bucketName": shapes::artifact_bucket(),
                    "objectKey": shapes::artifact_object_key(pipeline, execution, name),
                },
            },
        })
    };
    let credentials = &job.credentials;
    let mut data = Map::new();
    data.insert(
        "actionConfiguration".into(),
        json!({ "configuration": declaration.configuration }),
    );
    data.insert(
        "inputArtifacts".into(),
        inputs
            .iter()
            .map(|name| artifact(name, shapes::artifact_revision_id(pipeline, execution, name)))
            .collect(),
    );
    data.insert(
        "outputArtifacts".into(),
        outputs.iter().map(|name| artifact(name, None)).collect(),
    );
    data.insert(
        "artifactCredentials".into(),
        json!({
            "accessKeyId": credentials.access_key_id,
            "secretAccessKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
        }),
    );
    if let Some(token) = &job.continuation_token {
        data.insert("continuationToken".into(), json!(token));
    }
    Some(data)
}

/// `{"CodePipeline.job": {...}}` for a job, as CodePipeline invokes the function with it.
pub fn job_event(world: &World, job_id: &str) -> Option<Value> {
    let job = world.job(job_id)?;
    let mut data = job_data(world, job)?;
    // The event (unlike GetJobDetails' AWSSessionCredentials) says when the credentials expire.
    if let Some(Value::Object(credentials)) = data.get_mut("artifactCredentials") {
        credentials.insert(
            "expirationTime".into(),
            json!(job.credentials.expiration.timestamp_millis()),
        );
    }
    Some(json!({
        "CodePipeline.job": { "id": job.id, "accountId": ACCOUNT, "data": data },
    }))
}

/// The function a `FunctionName` configuration names: a name, or a function ARN (optionally qualified).
pub fn function_name_of(configured: &str) -> &str {
    let prefix = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:");
    match configured.strip_prefix(prefix.as_str()) {
        Some(rest) => rest.split(':').next().unwrap_or(rest),
        None => configured,
    }
}

// ---- Operations ----

/// `GetJobDetails`: the job's data plus its action type and pipeline context. Any job the simulator created
/// answers, settled or not; an id it never issued is `JobNotFoundException`.
pub(super) fn get_job_details(world: &World, request: &Value) -> Result<Value, AwsError> {
    let job_id = uuid_member(request, "jobId")?;
    let job = world.job(job_id).ok_or_else(|| job_not_found(job_id))?;
    let mut data = job_data(world, job).ok_or_else(|| job_not_found(job_id))?;
    let pipeline = world.pipeline(&job.pipeline).ok_or_else(|| job_not_found(job_id))?;
    if let Some(declaration) = pipeline.action(&job.stage, &job.action) {
        data.insert("actionTypeId".into(), shapes::action_type_id(&declaration.action_type));
    }
    data.insert(
        "pipelineContext".into(),
        json!({
            "pipelineName": job.pipeline,
            "stage": { "name": job.stage },
            "action": { "name": job.action, "actionExecutionId": job.action_execution_id },
            "pipelineArn": pipeline.arn(),
            "pipelineExecutionId": job.execution_id,
        }),
    );
    Ok(json!({
        "jobDetails": { "id": job.id, "accountId": ACCOUNT, "data": data },
    }))
}

pub(super) fn put_job_success_result(world: &mut World, request: &Value) -> Result<Value, AwsError> {
    let job_id = uuid_member(request, "jobId")?;
    let outcome = success_of(request).and_then(|success| world.succeed_job(job_id, success));
    world.record_job_report(job_id, "PutJobSuccessResult", &outcome);
    outcome.map(|()| json!({}))
}

pub(super) fn put_job_failure_result(world: &mut World, request: &Value) -> Result<Value, AwsError> {
    let job_id = uuid_member(request, "jobId")?;
    let outcome = failure_of(request).and_then(|failure| world.fail_job(job_id, failure));
    world.record_job_report(job_id, "PutJobFailureResult", &outcome);
    outcome.map(|()| json!({}))
}

// ---- Request members ----

/// An optional string member of `structure` of `min..=max` characters; `path` names it in errors.
fn optional_text(structure: &Value, member: &str, path: &str, max: usize) -> Result<Option<String>, AwsError> {
    match structure.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !text.is_empty() && text.chars().count() <= max => Ok(Some(text.clone())),
        Some(other) => Err(constraint(
            other,
            path,
            &format!("Member must have length between 1 and {max}"),
        )),
    }
}

/// A required string member of 1..=`max` characters.
fn required_text(structure: &Value, member: &str, path: &str, max: usize) -> Result<String, AwsError> {
    optional_text(structure, member, path, max)?.ok_or_else(|| {
        AwsError::validation(format!(
            "1 validation error detected: Value at '{path}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn optional_structure<'a>(request: &'a Value, member: &str) -> Result<Option<&'a Value>, AwsError> {
    match request.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(structure @ Value::Object(_)) => Ok(Some(structure)),
        Some(other) => Err(constraint(other, member, "Member must be a structure")),
    }
}

fn success_of(request: &Value) -> Result<JobSuccess, AwsError> {
    let continuation_token = optional_text(request, "continuationToken", "continuationToken", 2048)?;
    let mut success = JobSuccess {
        continuation_token,
        ..JobSuccess::default()
    };
    if let Some(details) = optional_structure(request, "executionDetails")? {
        success.summary = optional_text(details, "summary", "executionDetails.summary", 2048)?;
        success.external_execution_id = optional_text(
            details,
            "externalExecutionId",
            "executionDetails.externalExecutionId",
            1500,
        )?;
        success.percent_complete = match details.get("percentComplete") {
            None | Some(Value::Null) => None,
            Some(value) => match value.as_i64() {
                Some(n @ 0..=100) => Some(n as i32),
                _ => {
                    return Err(constraint(
                        value,
                        "executionDetails.percentComplete",
                        "Member must have value between 0 and 100",
                    ));
                }
            },
        };
    }
    if let Some(revision) = optional_structure(request, "currentRevision")? {
        success.current_revision = Some(required_text(revision, "revision", "currentRevision.revision", 1500)?);
        required_text(revision, "changeIdentifier", "currentRevision.changeIdentifier", 100)?;
        optional_text(revision, "revisionSummary", "currentRevision.revisionSummary", 2048)?;
    }
    success.output_variables = output_variables(request)?;
    if success.continuation_token.is_some() && !success.output_variables.is_empty() {
        return Err(AwsError::validation(
            "outputVariables can be included only when there is no continuation token on the request",
        ));
    }
    Ok(success)
}

fn output_variables(request: &Value) -> Result<BTreeMap<String, String>, AwsError> {
    let variables = match request.get("outputVariables") {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(variables)) => variables,
        Some(other) => return Err(constraint(other, "outputVariables", "Member must be a map")),
    };
    let mut out = BTreeMap::new();
    for (key, value) in variables {
        let key_ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "@-_".contains(c));
        if !key_ok {
            return Err(constraint(
                &json!(key),
                "outputVariables",
                r"Map keys must satisfy regular expression pattern: [A-Za-z0-9@\-_]+",
            ));
        }
        let Some(value) = value.as_str() else {
            return Err(constraint(
                value,
                &format!("outputVariables.{key}"),
                "Member must be a string",
            ));
        };
        out.insert(key.clone(), value.to_owned());
    }
    let size: usize = out.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > OUTPUT_VARIABLES_MAX_BYTES {
        return Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "OutputVariablesSizeExceededException",
            format!("The output variables total {size} bytes, more than the limit of {OUTPUT_VARIABLES_MAX_BYTES}"),
        ));
    }
    Ok(out)
}

fn failure_of(request: &Value) -> Result<JobFailure, AwsError> {
    let Some(details) = optional_structure(request, "failureDetails")? else {
        return Err(AwsError::validation(
            "1 validation error detected: Value at 'failureDetails' failed to satisfy constraint: Member must not be null",
        ));
    };
    let failure_type = required_text(details, "type", "failureDetails.type", 64)?;
    if !FAILURE_TYPES.contains(&failure_type.as_str()) {
        return Err(constraint(
            &details["type"],
            "failureDetails.type",
            &format!("Member must satisfy enum value set: [{}]", FAILURE_TYPES.join(", ")),
        ));
    }
    Ok(JobFailure {
        failure_type,
        message: required_text(details, "message", "failureDetails.message", 5000)?,
        external_execution_id: optional_text(
            details,
            "externalExecutionId",
            "failureDetails.externalExecutionId",
            1500,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(human(Duration::from_millis(300)), "300ms");
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_secs(120)), "2m");
        assert_eq!(human(Duration::from_secs(90)), "1m30s");
        assert_eq!(human(Duration::from_secs(7 * 24 * 3600)), "168h");
    }

    #[test]
    fn credentials_are_fresh_and_sts_shaped() {
        let now = Utc::now();
        let (a, b) = (fresh_credentials(now), fresh_credentials(now));
        assert_ne!(a.access_key_id, b.access_key_id);
        assert_ne!(a.secret_access_key, b.secret_access_key);
        assert!(a.access_key_id.starts_with("ASIA") && a.access_key_id.len() == 20);
        assert_eq!(a.secret_access_key.len(), 40);
    }

    #[test]
    fn function_names_come_from_names_or_arns() {
        assert_eq!(function_name_of("runner"), "runner");
        let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:runner:live");
        assert_eq!(function_name_of(&arn), "runner");
    }
}
