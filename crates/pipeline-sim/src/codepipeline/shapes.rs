//! CodePipeline's JSON shapes for the model's types: the one place that knows member names and wire forms.
//!
//! Members are camelCase as in the API reference; timestamps are epoch seconds as JSON numbers (the AWS JSON 1.1
//! default); optional members may be built as `null` and are dropped by [`drop_nulls`] before the answer leaves.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::model::{
    ActionDecl, ActionExecution, ActionType, ArtifactRevision, Execution, ExecutionResult, Pipeline, Status,
};
use crate::{ACCOUNT, REGION};

/// Every simulated pipeline runs in the default V2 mode: a newer execution supersedes an older one.
pub const EXECUTION_MODE: &str = "SUPERSEDED";

/// An AWS JSON 1.1 timestamp: epoch seconds as a JSON number, with milliseconds.
pub fn epoch(time: DateTime<Utc>) -> Value {
    json!(time.timestamp_millis() as f64 / 1000.0)
}

/// Removes `null` members at every depth: AWS omits optional members that have no value.
pub fn drop_nulls(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, drop_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(drop_nulls).collect()),
        other => other,
    }
}

/// A pipeline execution's status: CodePipeline calls an abandoned execution `Superseded` in this mode.
pub fn execution_status(status: Status) -> &'static str {
    match status {
        Status::Abandoned => "Superseded",
        other => other.api_name(),
    }
}

pub fn artifact_bucket() -> String {
    format!("codepipeline-{REGION}-{ACCOUNT}")
}

pub fn action_type_id(action_type: &ActionType) -> Value {
    json!({
        "category": action_type.category,
        "owner": action_type.owner,
        "provider": action_type.provider,
        "version": action_type.version,
    })
}

// ---- GetPipeline ----

pub fn pipeline_declaration(pipeline: &Pipeline) -> Value {
    let stages: Vec<Value> = pipeline
        .stages
        .iter()
        .map(|stage| {
            let actions: Vec<Value> = stage
                .actions
                .iter()
                .map(|action| {
                    let (inputs, outputs) = artifacts(pipeline, &stage.name, &action.name);
                    json!({
                        "name": action.name,
                        "actionTypeId": action_type_id(&action.action_type),
                        "runOrder": action.run_order,
                        "configuration": action.configuration,
                        "inputArtifacts": inputs.iter().map(|name| json!({ "name": name })).collect::<Vec<_>>(),
                        "outputArtifacts": outputs.iter().map(|name| json!({ "name": name })).collect::<Vec<_>>(),
                        "timeoutInMinutes": timeout_in_minutes(action),
                    })
                })
                .collect();
            json!({ "name": stage.name, "actions": actions })
        })
        .collect();
    json!({
        "name": pipeline.name,
        "roleArn": pipeline.role_arn,
        "artifactStore": { "type": "S3", "location": artifact_bucket() },
        "stages": stages,
        "version": pipeline.version,
        "executionMode": EXECUTION_MODE,
        "pipelineType": "V2",
    })
}

/// `timeoutInMinutes`, which only Manual approval actions carry (whole minutes, at least one).
fn timeout_in_minutes(action: &ActionDecl) -> Option<u64> {
    let timeout = action.timeout.filter(|_| action.action_type.is_manual_approval())?;
    Some(timeout.as_secs().div_ceil(60).max(1))
}

pub fn pipeline_metadata(pipeline: &Pipeline) -> Value {
    json!({
        "pipelineArn": pipeline.arn(),
        "created": epoch(pipeline.created),
        "updated": epoch(pipeline.created),
    })
}

// ---- GetPipelineState ----

/// `executions` newest first. Each stage shows the newest execution that ran an action in it, and each of its
/// actions that execution's latest run of it, as CodePipeline shows stages of different executions side by side.
pub fn pipeline_state(pipeline: &Pipeline, executions: &[&Execution]) -> Value {
    let stage_states: Vec<Value> = pipeline
        .stages
        .iter()
        .enumerate()
        .map(|(index, stage)| {
            let latest = executions
                .iter()
                .find(|e| e.actions.iter().any(|a| a.stage == stage.name));
            let action_states: Vec<Value> = stage
                .actions
                .iter()
                .map(|action| {
                    let run = latest.and_then(|e| e.latest_run(&stage.name, &action.name));
                    json!({ "actionName": action.name, "latestExecution": run.map(action_state_execution) })
                })
                .collect();
            json!({
                "stageName": stage.name,
                // The first stage has no inbound transition.
                "inboundTransitionState": (index > 0).then(|| json!({ "enabled": true })),
                "actionStates": action_states,
                "latestExecution": latest.map(|e| json!({
                    "pipelineExecutionId": e.id,
                    "status": stage_status(pipeline, &stage.name, e),
                })),
            })
        })
        .collect();
    json!({
        "pipelineName": pipeline.name,
        "pipelineVersion": pipeline.version,
        "stageStates": stage_states,
        "created": epoch(pipeline.created),
        "updated": epoch(pipeline.created),
    })
}

fn action_state_execution(run: &ActionExecution) -> Value {
    // An approval's token is there while it waits for an answer.
    let token = run.token.as_ref().filter(|_| run.status == Status::InProgress);
    json!({
        "actionExecutionId": run.action_execution_id,
        "status": run.status.api_name(),
        "summary": run.result.external_execution_summary,
        "lastStatusChange": epoch(run.updated),
        "token": token,
        "lastUpdatedBy": run.last_updated_by,
        "externalExecutionId": run.result.external_execution_id,
        "externalExecutionUrl": run.result.external_execution_url,
        "percentComplete": run.percent_complete,
        "errorDetails": error_details(&run.result),
    })
}

/// A stage execution's status, from the runs of its actions in that execution.
fn stage_status(pipeline: &Pipeline, stage: &str, execution: &Execution) -> &'static str {
    let runs: Vec<&ActionExecution> = execution.actions.iter().filter(|a| a.stage == stage).collect();
    let any = |status: Status| runs.iter().any(|r| r.status == status);
    let declared = pipeline
        .stages
        .iter()
        .find(|s| s.name == stage)
        .map(|s| s.actions.as_slice())
        .unwrap_or(&[]);
    let all_succeeded = declared.iter().all(|decl| {
        runs.iter()
            .any(|r| r.action == decl.name && r.status == Status::Succeeded)
    });
    if any(Status::Failed) {
        "Failed"
    } else if any(Status::InProgress) {
        "InProgress"
    } else if any(Status::Abandoned) {
        "Cancelled"
    } else if all_succeeded {
        "Succeeded"
    } else {
        match execution.status {
            Status::Abandoned => "Cancelled",
            other => other.api_name(),
        }
    }
}

// ---- GetPipelineExecution, ListPipelineExecutions ----

pub fn pipeline_execution(pipeline: &Pipeline, execution: &Execution) -> Value {
    let revisions: Vec<Value> = execution
        .revisions
        .iter()
        .map(|r| artifact_revision(r, execution.started))
        .collect();
    json!({
        "pipelineName": execution.pipeline,
        "pipelineVersion": execution.pipeline_version,
        "pipelineExecutionId": execution.id,
        "status": execution_status(execution.status),
        "statusSummary": execution.status_summary,
        "artifactRevisions": revisions,
        "trigger": trigger(pipeline),
        "executionMode": EXECUTION_MODE,
        "executionType": "STANDARD",
    })
}

fn artifact_revision(revision: &ArtifactRevision, created: DateTime<Utc>) -> Value {
    json!({
        "name": revision.name,
        "revisionId": revision.revision_id,
        "revisionSummary": revision.revision_summary,
        "revisionUrl": revision.revision_url,
        "created": epoch(created),
    })
}

pub fn pipeline_execution_summary(pipeline: &Pipeline, execution: &Execution) -> Value {
    let source_revisions: Vec<Value> = execution
        .revisions
        .iter()
        .map(|r| {
            json!({
                "actionName": source_action_of(pipeline, &r.name),
                "revisionId": r.revision_id,
                "revisionSummary": r.revision_summary,
                "revisionUrl": r.revision_url,
            })
        })
        .collect();
    json!({
        "pipelineExecutionId": execution.id,
        "status": execution_status(execution.status),
        "statusSummary": execution.status_summary,
        "startTime": epoch(execution.started),
        "lastUpdateTime": epoch(execution.updated),
        "sourceRevisions": source_revisions,
        "trigger": trigger(pipeline),
        "executionMode": EXECUTION_MODE,
        "executionType": "STANDARD",
    })
}

/// What started executions, from the pipeline's first source action: change detection the way AWS sets it up.
fn trigger(pipeline: &Pipeline) -> Value {
    let source = pipeline
        .stages
        .iter()
        .flat_map(|s| &s.actions)
        .find(|a| a.action_type.category == "Source");
    let rule = format!(
        "arn:aws:events:{REGION}:{ACCOUNT}:rule/codepipeline-{}-source-rule",
        pipeline.name
    );
    let (trigger_type, detail) = match source.map(|a| (a.action_type.provider.as_str(), a)) {
        Some(("CodeCommit" | "S3" | "ECR", _)) => ("CloudWatchEvent", rule),
        Some(("CodeStarSourceConnection", action)) => (
            "WebhookV2",
            action
                .configuration
                .get("ConnectionArn")
                .cloned()
                .unwrap_or_else(|| pipeline.arn()),
        ),
        _ => (
            "StartPipelineExecution",
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/simulator"),
        ),
    };
    json!({ "triggerType": trigger_type, "triggerDetail": detail })
}

// ---- ListActionExecutions ----

pub fn action_execution_detail(pipeline: &Pipeline, execution: &Execution, run: &ActionExecution) -> Value {
    let configuration = pipeline.action(&run.stage, &run.action).map(|a| &a.configuration);
    let (inputs, outputs) = artifacts(pipeline, &run.stage, &run.action);
    let detail = |name: &String| artifact_detail(pipeline, execution, name);
    // Output artifacts exist once the action succeeded.
    let output_artifacts: Vec<Value> = if run.status == Status::Succeeded {
        outputs.iter().map(detail).collect()
    } else {
        Vec::new()
    };
    json!({
        "pipelineExecutionId": execution.id,
        "actionExecutionId": run.action_execution_id,
        "pipelineVersion": execution.pipeline_version,
        "stageName": run.stage,
        "actionName": run.action,
        "startTime": epoch(run.started),
        "lastUpdateTime": epoch(run.updated),
        "status": run.status.api_name(),
        "input": {
            "actionTypeId": action_type_id(&run.action_type),
            "configuration": configuration,
            "resolvedConfiguration": configuration,
            "roleArn": pipeline.role_arn,
            "region": REGION,
            "inputArtifacts": inputs.iter().map(detail).collect::<Vec<_>>(),
        },
        "output": {
            "outputArtifacts": output_artifacts,
            "executionResult": execution_result(&run.result),
            "outputVariables": run.output_variables,
        },
    })
}

fn execution_result(result: &ExecutionResult) -> Option<Value> {
    let empty = result.external_execution_id.is_none()
        && result.external_execution_summary.is_none()
        && result.external_execution_url.is_none()
        && result.error.is_none();
    (!empty).then(|| {
        json!({
            "externalExecutionId": result.external_execution_id,
            "externalExecutionSummary": result.external_execution_summary,
            "externalExecutionUrl": result.external_execution_url,
            "errorDetails": error_details(result),
        })
    })
}

fn error_details(result: &ExecutionResult) -> Option<Value> {
    result
        .error
        .as_ref()
        .map(|(code, message)| json!({ "code": code, "message": message }))
}

fn artifact_detail(pipeline: &Pipeline, execution: &Execution, name: &str) -> Value {
    json!({
        "name": name,
        "s3location": {
            "bucket": artifact_bucket(),
            "key": artifact_object_key(pipeline, execution, name),
        },
    })
}

/// Where an execution's artifact lives in the artifact bucket: `<pipeline, 20 chars>/<artifact, 20 chars>/<7 chars>`,
/// the last part unique per execution (the simulator's ids differ in their last digits).
pub fn artifact_object_key(pipeline: &Pipeline, execution: &Execution, name: &str) -> String {
    let short = |s: &str| s.chars().take(20).collect::<String>();
    let hex: Vec<char> = execution.id.chars().filter(char::is_ascii_hexdigit).collect();
    let unique: String = hex[hex.len().saturating_sub(7)..].iter().collect();
    format!("{}/{}/{unique}", short(&pipeline.name), short(name))
}

/// The revision an execution's artifact carries: the source revision of that name, or the (first) source
/// revision for the artifact a source action produced; `None` for other artifacts.
pub fn artifact_revision_id(pipeline: &Pipeline, execution: &Execution, name: &str) -> Option<String> {
    let by_name = execution.revisions.iter().find(|r| r.name == name);
    let from_source = || {
        pipeline
            .stages
            .iter()
            .flat_map(|s| &s.actions)
            .any(|a| a.action_type.category == "Source" && output_artifact(&a.name) == name)
            .then(|| execution.revisions.first())
            .flatten()
    };
    by_name.or_else(from_source).map(|r| r.revision_id.clone())
}

// ---- Artifacts ----
//
// Artifacts follow the console's defaults unless an action declares its inputs: a Source or Build action `X`
// outputs `XArtifact`; every other non-approval action reads the artifact produced last before it (in an earlier
// stage, or at a lower runOrder of its own stage).

fn produces(action_type: &ActionType) -> bool {
    matches!(action_type.category.as_str(), "Source" | "Build")
}

fn consumes(action_type: &ActionType) -> bool {
    !matches!(action_type.category.as_str(), "Source" | "Approval")
}

fn output_artifact(action: &str) -> String {
    format!("{action}Artifact")
}

/// (input artifact names, output artifact names) of one declared action.
pub fn artifacts(pipeline: &Pipeline, stage_name: &str, action_name: &str) -> (Vec<String>, Vec<String>) {
    let mut latest: Option<String> = None;
    for stage in &pipeline.stages {
        let mut run_orders: Vec<i32> = stage.actions.iter().map(|a| a.run_order).collect();
        run_orders.sort_unstable();
        run_orders.dedup();
        for run_order in run_orders {
            let mut produced = None;
            for action in stage.actions.iter().filter(|a| a.run_order == run_order) {
                let input = latest.clone().filter(|_| consumes(&action.action_type));
                let output = produces(&action.action_type).then(|| output_artifact(&action.name));
                if stage.name == stage_name && action.name == action_name {
                    let inputs = if action.input_artifacts.is_empty() {
                        input.into_iter().collect()
                    } else {
                        action.input_artifacts.clone()
                    };
                    return (inputs, output.into_iter().collect());
                }
                produced = output.or(produced);
            }
            latest = produced.or(latest);
        }
    }
    (Vec::new(), Vec::new())
}

/// The source action that produced a revision's artifact: the one whose output it is, else the only source
/// action, else the artifact's own name.
fn source_action_of<'a>(pipeline: &'a Pipeline, artifact: &'a str) -> &'a str {
    let sources: Vec<&str> = pipeline
        .stages
        .iter()
        .flat_map(|s| &s.actions)
        .filter(|a| a.action_type.category == "Source")
        .map(|a| a.name.as_str())
        .collect();
    match sources.iter().find(|name| output_artifact(name) == artifact) {
        Some(name) => name,
        None if sources.len() == 1 => sources[0],
        None => artifact,
    }
}
