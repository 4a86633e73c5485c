//! CodePipeline state-change events as EventBridge delivers them.
//!
//! Why not `aws_lambda_events::codepipeline_cloudwatch`: its `detail.version` and `detail.type.version`
//! are `i64`, and AWS's own FAILED action example carries `"version": "1"` (a string) there; it also has
//! no `execution-result`, where the error code and the external (e.g. CodeBuild) link live. These types
//! keep only what the hooks read, and skip the version fields entirely, so either shape parses.

use serde::Deserialize;
use serde_json::Value;

use hooks_common::Error;
use hooks_common::settings::parse_json;

pub const SOURCE: &str = "aws.codepipeline";

/// Which level of a pipeline a state-change event is about, from its `detail-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Pipeline,
    Stage,
    Action,
}

impl Level {
    pub fn from_detail_type(detail_type: &str) -> Option<Level> {
        match detail_type {
            "CodePipeline Pipeline Execution State Change" => Some(Level::Pipeline),
            "CodePipeline Stage Execution State Change" => Some(Level::Stage),
            "CodePipeline Action Execution State Change" => Some(Level::Action),
            _ => None,
        }
    }
}

/// `detail.state`. Unknown future states parse as `Other` rather than failing the event.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Started,
    Succeeded,
    Failed,
    Canceled,
    Abandoned,
    Resumed,
    Stopping,
    Stopped,
    Superseded,
    #[serde(other)]
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ActionType {
    pub owner: Option<String>,
    pub category: Option<String>,
    pub provider: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExecutionResult {
    pub external_execution_url: Option<String>,
    pub external_execution_summary: Option<String>,
    pub external_execution_id: Option<String>,
    pub error_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StateChangeDetail {
    pub pipeline: String,
    pub execution_id: String,
    pub state: State,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    /// Where the action ran (cross-region actions differ from the event's region).
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default, rename = "type")]
    pub action_type: Option<ActionType>,
    #[serde(default)]
    pub execution_result: Option<ExecutionResult>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PipelineStateChange {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    #[serde(default)]
    pub account: Option<String>,
    pub region: String,
    #[serde(default)]
    pub time: Option<String>,
    pub detail: StateChangeDetail,
}

impl PipelineStateChange {
    pub fn level(&self) -> Option<Level> {
        Level::from_detail_type(&self.detail_type)
    }
}

/// What arrived: a CodePipeline state change, or some other EventBridge event the caller should ignore.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    StateChange(Box<PipelineStateChange>),
    Other { source: String, detail_type: String },
}

/// Parses an EventBridge event. Something that is not an EventBridge event at all, or a CodePipeline
/// state change missing what every such event has, is an error naming the field; an event from another
/// source or of another type is `Incoming::Other`.
pub fn parse(event: &Value) -> Result<Incoming, Error> {
    let field = |name: &str| -> Result<String, Error> {
        event
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::Event {
                field: name.to_owned(),
                problem:
                    "missing or not a string; expected an EventBridge event (is the rule's target input transformed?)"
                        .to_owned(),
            })
    };
    let source = field("source")?;
    let detail_type = field("detail-type")?;
    if source != SOURCE || Level::from_detail_type(&detail_type).is_none() {
        return Ok(Incoming::Other { source, detail_type });
    }
    // Re-serialising keeps serde_path_to_error's field paths (`detail.execution-id`) for the message.
    parse_json::<PipelineStateChange>(&event.to_string())
        .map(|change| Incoming::StateChange(Box::new(change)))
        .map_err(|problem| Error::Event {
            field: "detail".to_owned(),
            problem,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn action_failed() -> Value {
        json!({
            "version": "0", "id": "e1", "detail-type": "CodePipeline Action Execution State Change",
            "source": "aws.codepipeline", "account": "123456789012", "time": "2026-11-22T03:31:47Z",
            "region": "us-east-1", "resources": ["arn:aws:codepipeline:us-east-1:123456789012:demo-app"],
            "detail": {
                "pipeline": "demo-app", "version": 3, "execution-id": "exec-1", "stage": "Build",
                "action": "Build", "state": "FAILED", "region": "us-east-1",
                "type": {"owner": "AWS", "category": "Build", "provider": "CodeBuild", "version": "1"},
                "execution-result": {"external-execution-url": "https://console/build", "error-code": "JobFailed",
                                     "external-execution-summary": "Build terminated with state: FAILED"}
            }
        })
    }

    #[test]
    fn parses_action_failure_with_string_or_number_versions() {
        for (detail_version, type_version) in [(json!(3), json!("1")), (json!("3"), json!(1))] {
            let mut event = action_failed();
            event["detail"]["version"] = detail_version;
            event["detail"]["type"]["version"] = type_version;
            let Incoming::StateChange(change) = parse(&event).unwrap() else {
                panic!("not a state change")
            };
            assert_eq!(change.level(), Some(Level::Action));
            assert_eq!(change.detail.state, State::Failed);
            assert_eq!(change.detail.stage.as_deref(), Some("Build"));
            let result = change.detail.execution_result.unwrap();
            assert_eq!(result.error_code.as_deref(), Some("JobFailed"));
            assert_eq!(
                change.detail.action_type.unwrap().provider.as_deref(),
                Some("CodeBuild")
            );
        }
    }

    #[test]
    fn other_sources_and_types_are_not_errors() {
        let mut event = action_failed();
        event["source"] = json!("aws.codebuild");
        assert!(matches!(parse(&event).unwrap(), Incoming::Other { .. }));
        let mut event = action_failed();
        event["detail-type"] = json!("CodePipeline Something New");
        assert!(matches!(parse(&event).unwrap(), Incoming::Other { .. }));
    }

    #[test]
    fn unknown_states_parse_as_other() {
        let mut event = action_failed();
        event["detail"]["state"] = json!("PAUSED_FOR_LUNCH");
        let Incoming::StateChange(change) = parse(&event).unwrap() else {
            panic!()
        };
        assert_eq!(change.detail.state, State::Other);
    }

    #[test]
    fn malformed_events_name_the_field() {
        type Breaker = dyn Fn(&mut Value);
        let cases: [(&Breaker, &str); 5] = [
            (
                &|e| {
                    e["detail"]
                        .as_object_mut()
                        .unwrap()
                        .remove("execution-id")
                        .map(drop)
                        .unwrap()
                },
                "execution-id",
            ),
            (&|e| e["detail"]["pipeline"] = json!(42), "detail.pipeline"),
            (
                &|e| e.as_object_mut().unwrap().remove("detail").map(drop).unwrap(),
                "detail",
            ),
            (
                &|e| e.as_object_mut().unwrap().remove("detail-type").map(drop).unwrap(),
                "detail-type",
            ),
            (&|e| *e = json!("just a string"), "source"),
        ];
        for (break_it, expected) in cases {
            let mut event = action_failed();
            break_it(&mut event);
            let err = parse(&event).unwrap_err().to_string();
            assert!(err.contains(expected), "expected {expected:?} in {err}");
        }
    }
}
