//! `ListPipelines`: every pipeline's summary, by name, paged (`maxResults` 1 to 1000, 100 by default).

use serde_json::{Value, json};

use super::shapes;
use crate::aws::AwsError;
use crate::model::World;
use crate::paging::{decode_token, encode_token};

const DEFAULT_PAGE: usize = 100;

pub(super) fn list_pipelines(world: &World, request: &Value) -> Result<Value, AwsError> {
    let page_size = match request.get("maxResults") {
        None | Some(Value::Null) => DEFAULT_PAGE,
        Some(v) => match v.as_u64() {
            Some(n @ 1..=1000) => n as usize,
            _ => {
                return Err(AwsError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member \
                     must have value between 1 and 1000"
                )));
            }
        },
    };
    let names: Vec<&String> = world.pipelines.keys().collect();
    // The cursor is the first name of the next page, so a pipeline created or deleted between pages shifts nothing.
    let start = match request.get("nextToken").and_then(Value::as_str) {
        None => 0,
        Some(token) => {
            let first = decode_token(token, "ListPipelines").ok_or_else(|| {
                AwsError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "InvalidNextTokenException",
                    "The next token was specified in an invalid format.",
                )
            })?;
            names
                .iter()
                .position(|n| n.as_str() >= first.as_str())
                .unwrap_or(names.len())
        }
    };
    let end = (start + page_size).min(names.len());
    let pipelines: Vec<Value> = names[start..end]
        .iter()
        .filter_map(|name| world.pipeline(name))
        .map(|p| {
            json!({
                "name": p.name,
                "version": p.version,
                "pipelineType": "V2",
                "executionMode": "SUPERSEDED",
                "created": shapes::epoch(p.created),
                "updated": shapes::epoch(p.created),
            })
        })
        .collect();
    let next = names.get(end).map(|first| encode_token("ListPipelines", first));
    Ok(json!({ "pipelines": pipelines, "nextToken": next }))
}
