//! CodePipeline (AWS JSON 1.1, `X-Amz-Target: CodePipeline_20150709.<Op>`), served from the [`World`] model.
//!
//! One function per operation: it reads and validates the request, looks the model up, and answers with the
//! shapes in [`shapes`]. Every error is one the operation models, so the real SDK returns a typed variant.
//! Jobs (Lambda Invoke actions) live in [`jobs`], Manual approvals in [`approvals`].

pub mod approvals;
pub mod jobs;
mod listing;
mod shapes;
pub mod transitions;

/// Where jobs' artifacts live: tests put artifact objects there.
pub use shapes::{artifact_bucket, artifact_object_key};
/// The declaration and metadata as `GetPipeline` answers them: what AWS Config records for a pipeline.
pub use shapes::{drop_nulls, pipeline_declaration, pipeline_metadata};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::aws::{AwsError, required_str};
use crate::model::{Execution, Pipeline, World};
use crate::paging::{decode_token, encode_token};
use crate::{ACCOUNT, SimState};

pub fn handle(state: &SimState, operation: &str, request: &Value) -> Result<Value, AwsError> {
    let mut world = state.world();
    let answer = match operation {
        "GetPipeline" => get_pipeline(&world, request),
        "GetPipelineState" => get_pipeline_state(&world, request),
        "GetPipelineExecution" => get_pipeline_execution(&world, request),
        "ListActionExecutions" => list_action_executions(&world, request),
        "ListPipelineExecutions" => list_pipeline_executions(&world, request),
        "GetJobDetails" => jobs::get_job_details(&world, request),
        "PutJobSuccessResult" => jobs::put_job_success_result(&mut world, request),
        "PutJobFailureResult" => jobs::put_job_failure_result(&mut world, request),
        "PutApprovalResult" => approvals::put_approval_result(&mut world, request),
        "ListPipelines" => listing::list_pipelines(&world, request),
        other => Err(AwsError::validation(format!(
            "the simulator does not implement CodePipeline.{other}"
        ))),
    };
    answer.map(shapes::drop_nulls)
}

// ---- Operations ----

fn get_pipeline(world: &World, request: &Value) -> Result<Value, AwsError> {
    let name = name_member(request, "name")?;
    let version = match request.get("version") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 1 => Some(n),
            _ => {
                return Err(constraint(
                    v,
                    "version",
                    "Member must have value greater than or equal to 1",
                ));
            }
        },
    };
    let pipeline = find_pipeline(world, name)?;
    if version.is_some_and(|v| v != i64::from(pipeline.version)) {
        return Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "PipelineVersionNotFoundException",
            format!(
                "Pipeline '{name}' does not have version {}",
                version.unwrap_or_default()
            ),
        ));
    }
    Ok(json!({
        "pipeline": shapes::pipeline_declaration(pipeline),
        "metadata": shapes::pipeline_metadata(pipeline),
    }))
}

fn get_pipeline_state(world: &World, request: &Value) -> Result<Value, AwsError> {
    let name = name_member(request, "name")?;
    let pipeline = find_pipeline(world, name)?;
    let newest_first: Vec<&Execution> = world.executions_of(name).rev().collect();
    let mut answer = shapes::pipeline_state(pipeline, &newest_first);
    transitions::show(world, name, &mut answer);
    Ok(answer)
}

fn get_pipeline_execution(world: &World, request: &Value) -> Result<Value, AwsError> {
    let name = name_member(request, "pipelineName")?;
    let execution_id = uuid_member(request, "pipelineExecutionId")?;
    let pipeline = find_pipeline(world, name)?;
    let execution = find_execution(world, pipeline, execution_id)?;
    Ok(json!({ "pipelineExecution": shapes::pipeline_execution(pipeline, execution) }))
}

fn list_action_executions(world: &World, request: &Value) -> Result<Value, AwsError> {
    let name = name_member(request, "pipelineName")?;
    let filter = match request.get("filter") {
        None | Some(Value::Null) => None,
        Some(filter @ Value::Object(_)) => optional_execution_id(filter, "filter.pipelineExecutionId")?,
        Some(other) => return Err(constraint(other, "filter", "Member must be a structure")),
    };
    let pipeline = find_pipeline(world, name)?;
    let executions: Vec<&Execution> = match filter {
        Some(id) => vec![find_execution(world, pipeline, id)?],
        None => world.executions_of(name).collect(),
    };
    // Newest first: runs in reverse order of recording, then (stably) by start time.
    let mut runs: Vec<_> = executions
        .iter()
        .rev()
        .flat_map(|e| e.actions.iter().rev().map(move |run| (*e, run)))
        .collect();
    runs.sort_by_key(|(_, run)| std::cmp::Reverse(run.started));
    let scope = format!("ListActionExecutions/{name}/{}", filter.unwrap_or("*"));
    let (page, next_token) = paginate(runs, |(_, run)| run.action_execution_id.as_str(), &scope, request)?;
    let details: Vec<Value> = page
        .iter()
        .map(|(execution, run)| shapes::action_execution_detail(pipeline, execution, run))
        .collect();
    Ok(json!({ "actionExecutionDetails": details, "nextToken": next_token }))
}

fn list_pipeline_executions(world: &World, request: &Value) -> Result<Value, AwsError> {
    let name = name_member(request, "pipelineName")?;
    let pipeline = find_pipeline(world, name)?;
    let newest_first: Vec<&Execution> = world.executions_of(name).rev().collect();
    let scope = format!("ListPipelineExecutions/{name}");
    let (page, next_token) = paginate(newest_first, |e| e.id.as_str(), &scope, request)?;
    let summaries: Vec<Value> = page
        .iter()
        .map(|e| shapes::pipeline_execution_summary(pipeline, e))
        .collect();
    Ok(json!({ "pipelineExecutionSummaries": summaries, "nextToken": next_token }))
}

// ---- Lookups and their modeled errors ----

fn find_pipeline<'w>(world: &'w World, name: &str) -> Result<&'w Pipeline, AwsError> {
    world.pipeline(name).ok_or_else(|| {
        AwsError::new(
            StatusCode::BAD_REQUEST,
            "PipelineNotFoundException",
            format!("Account '{ACCOUNT}' does not have a pipeline with name '{name}'"),
        )
    })
}

fn find_execution<'w>(world: &'w World, pipeline: &Pipeline, id: &str) -> Result<&'w Execution, AwsError> {
    world
        .execution(id)
        .filter(|e| e.pipeline == pipeline.name)
        .ok_or_else(|| {
            AwsError::new(
                StatusCode::BAD_REQUEST,
                "PipelineExecutionNotFoundException",
                format!(
                    "Pipeline execution with id '{id}' for pipeline '{}' not found",
                    pipeline.name
                ),
            )
        })
}

// ---- Request members ----

/// `ValidationException` in AWS's words for a member that breaks a constraint.
fn constraint(value: &Value, member: &str, rule: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value '{}' at '{member}' failed to satisfy constraint: {rule}",
        value.as_str().map_or_else(|| value.to_string(), str::to_owned)
    ))
}

/// A pipeline, stage or action name: 1 to 100 of `[A-Za-z0-9.@\-_]`.
fn name_member<'a>(request: &'a Value, member: &str) -> Result<&'a str, AwsError> {
    let name = required_str(request, member)?;
    let valid = name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || ".@-_".contains(c));
    if valid {
        Ok(name)
    } else {
        Err(constraint(
            &request[member],
            member,
            r"Member must satisfy regular expression pattern: [A-Za-z0-9.@\-_]+",
        ))
    }
}

/// A member CodePipeline requires to be a lowercase UUID: execution ids, job ids, approval tokens.
fn uuid_member<'a>(request: &'a Value, member: &str) -> Result<&'a str, AwsError> {
    let id = required_str(request, member)?;
    let groups: Vec<&str> = id.split('-').collect();
    let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
    if lengths_ok
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
    {
        Ok(id)
    } else {
        let rule = "Member must satisfy regular expression pattern: \
                    [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
        Err(constraint(&request[member], member, rule))
    }
}

/// An optional execution id inside a structure; `path` names it in errors (`filter.pipelineExecutionId`).
fn optional_execution_id<'a>(structure: &'a Value, path: &str) -> Result<Option<&'a str>, AwsError> {
    let member = path.rsplit('.').next().unwrap_or(path);
    match structure.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => uuid_member(structure, member)
            .map(Some)
            .map_err(|e| AwsError::validation(e.message.replace(&format!("'{member}'"), &format!("'{path}'")))),
    }
}

// ---- Pagination ----

const DEFAULT_MAX_RESULTS: usize = 100;

/// One page of `items` after the request's `nextToken`, and the token of the next page if there is one.
///
/// A token names the first item of the next page (so pages stay stable while newer items arrive at the front)
/// and the query it belongs to (`scope`); a token of another query, or one not issued at all, is
/// `InvalidNextTokenException`.
fn paginate<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &str,
    scope: &str,
    request: &Value,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let max_results = match request.get("maxResults") {
        None | Some(Value::Null) => DEFAULT_MAX_RESULTS,
        Some(v) => match v.as_u64() {
            Some(n @ 1..=100) => n as usize,
            _ => return Err(constraint(v, "maxResults", "Member must have value between 1 and 100")),
        },
    };
    let start = match request.get("nextToken") {
        None | Some(Value::Null) => 0,
        Some(Value::String(token)) if token.is_empty() => 0,
        Some(Value::String(token)) => {
            let cursor = decode_token(token, scope).ok_or_else(invalid_next_token)?;
            items
                .iter()
                .position(|item| key(item) == cursor)
                .ok_or_else(invalid_next_token)?
        }
        Some(other) => return Err(constraint(other, "nextToken", "Member must be a string")),
    };
    let mut page: Vec<T> = items.into_iter().skip(start).collect();
    let next_token = page
        .get(max_results)
        .map(|first_of_next| encode_token(scope, key(first_of_next)));
    page.truncate(max_results);
    Ok((page, next_token))
}

fn invalid_next_token() -> AwsError {
    AwsError::new(
        StatusCode::BAD_REQUEST,
        "InvalidNextTokenException",
        "The next token was specified in an invalid format.",
    )
}
