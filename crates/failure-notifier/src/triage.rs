//! Does this event deserve a message? One failure produces action-, stage- and pipeline-level FAILED
//! events; only the action-level one names what failed, so it is the one that notifies.

use crate::events::{Incoming, Level, PipelineStateChange, State};
use hooks_common::Error;

/// The facts of one failed action, as the event states them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionFailure {
    pub pipeline: String,
    pub execution_id: String,
    pub stage: String,
    pub action: String,
    /// The event's region: where the pipeline and its console page live.
    pub region: String,
    pub provider: Option<String>,
    pub category: Option<String>,
    pub error_code: Option<String>,
    pub summary: Option<String>,
    pub external_url: Option<String>,
    pub external_id: Option<String>,
}

impl ActionFailure {
    /// Identifies the failure across re-deliveries: a re-emitted event may carry a new event id, so the key is
    /// what failed (execution, stage, action), plus the external run when the action names one, so that a person
    /// retrying the failed stage, which runs the action again (a new build) in the same execution, hears of a
    /// second failure.
    pub fn key(&self, action_execution_id: Option<&str>) -> String {
        let mut key = format!("{}/{}/{}/FAILED", self.execution_id, self.stage, self.action);
        for part in [self.external_id.as_deref(), action_execution_id].into_iter().flatten() {
            key.push('/');
            key.push_str(part);
        }
        key
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Triage {
    Notify(Box<ActionFailure>),
    Ignore(String),
}

pub fn triage(incoming: Incoming) -> Result<Triage, Error> {
    let change: PipelineStateChange = match incoming {
        Incoming::Other { source, detail_type } => {
            return Ok(Triage::Ignore(format!(
                "not a CodePipeline state change ({source}: {detail_type})"
            )));
        }
        Incoming::StateChange(change) => *change,
    };
    match change.level() {
        Some(Level::Action) => {}
        Some(level) => {
            return Ok(Triage::Ignore(format!(
                "{level:?}-level event: only action-level FAILED events notify, so one failure sends one message"
            )));
        }
        None => {
            return Ok(Triage::Ignore(format!(
                "unrecognised detail-type {}",
                change.detail_type
            )));
        }
    }
    let detail = change.detail;
    if detail.state != State::Failed {
        return Ok(Triage::Ignore(format!(
            "action state is {:?}, not FAILED",
            detail.state
        )));
    }
    let require = |value: Option<String>, field: &str| {
        value.filter(|v| !v.is_empty()).ok_or_else(|| Error::Event {
            field: format!("detail.{field}"),
            problem: "missing from an action-level event; every CodePipeline action state change carries it".to_owned(),
        })
    };
    let stage = require(detail.stage, "stage")?;
    let action = require(detail.action, "action")?;
    let action_type = detail.action_type;
    let result = detail.execution_result;
    Ok(Triage::Notify(Box::new(ActionFailure {
        pipeline: detail.pipeline,
        execution_id: detail.execution_id,
        stage,
        action,
        region: change.region,
        provider: action_type.as_ref().and_then(|t| t.provider.clone()),
        category: action_type.and_then(|t| t.category),
        error_code: result.as_ref().and_then(|r| r.error_code.clone()),
        summary: result.as_ref().and_then(|r| r.external_execution_summary.clone()),
        external_url: result.as_ref().and_then(|r| r.external_execution_url.clone()),
        external_id: result.and_then(|r| r.external_execution_id),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::parse;
    use serde_json::{Value, json};

    fn event(detail_type: &str, state: &str) -> Value {
        json!({
            "detail-type": detail_type, "source": "aws.codepipeline", "region": "us-east-1",
            "detail": {"pipeline": "demo-app", "execution-id": "exec-1", "stage": "Build", "action": "Compile",
                       "state": state, "version": 1,
                       "type": {"owner": "AWS", "category": "Build", "provider": "CodeBuild", "version": "1"},
                       "execution-result": {"error-code": "JobFailed", "external-execution-url": "https://cb/run"}}
        })
    }

    const ACTION: &str = "CodePipeline Action Execution State Change";
    const STAGE: &str = "CodePipeline Stage Execution State Change";
    const PIPELINE: &str = "CodePipeline Pipeline Execution State Change";

    #[test]
    fn only_failed_actions_notify() {
        let cases = [
            (ACTION, "FAILED", true),
            (STAGE, "FAILED", false),
            (PIPELINE, "FAILED", false),
            (ACTION, "STARTED", false),
            (ACTION, "SUCCEEDED", false),
            (ACTION, "ABANDONED", false),
            (ACTION, "CANCELED", false),
        ];
        for (detail_type, state, notifies) in cases {
            let verdict = triage(parse(&event(detail_type, state)).unwrap()).unwrap();
            assert_eq!(
                matches!(verdict, Triage::Notify(_)),
                notifies,
                "{detail_type} {state}: {verdict:?}"
            );
        }
    }

    #[test]
    fn a_failure_carries_the_event_facts() {
        let Triage::Notify(failure) = triage(parse(&event(ACTION, "FAILED")).unwrap()).unwrap() else {
            panic!()
        };
        assert_eq!(failure.stage, "Build");
        assert_eq!(failure.action, "Compile");
        assert_eq!(failure.provider.as_deref(), Some("CodeBuild"));
        assert_eq!(failure.error_code.as_deref(), Some("JobFailed"));
        assert_eq!(failure.external_url.as_deref(), Some("https://cb/run"));
        assert_eq!(failure.key(None), "exec-1/Build/Compile/FAILED");
        // A retried action without an external run is a new failure: its action execution id tells it apart.
        assert_eq!(failure.key(Some("ae-2")), "exec-1/Build/Compile/FAILED/ae-2");
    }

    #[test]
    fn a_reemitted_event_has_the_same_key_and_a_retried_actions_failure_a_new_one() {
        let key = |event_id: &str, build: Option<&str>| {
            let mut event = event(ACTION, "FAILED");
            event["id"] = json!(event_id);
            if let Some(build) = build {
                event["detail"]["execution-result"]["external-execution-id"] = json!(build);
            }
            let Triage::Notify(failure) = triage(parse(&event).unwrap()).unwrap() else {
                panic!()
            };
            failure.key(None)
        };
        let first = key("e-1", Some("demo-app-build:41"));
        assert_eq!(first, "exec-1/Build/Compile/FAILED/demo-app-build:41");
        assert_eq!(
            key("e-2", Some("demo-app-build:41")),
            first,
            "re-emitted with a new event id"
        );
        assert_ne!(
            key("e-3", Some("demo-app-build:42")),
            first,
            "the retried build failed again"
        );
        assert_eq!(
            key("e-1", None),
            key("e-2", None),
            "without an external run: what failed"
        );
    }

    #[test]
    fn other_events_are_ignored_not_errors() {
        let other = json!({"source": "aws.codebuild", "detail-type": "CodeBuild Build State Change", "detail": {}});
        assert!(matches!(triage(parse(&other).unwrap()).unwrap(), Triage::Ignore(_)));
    }

    #[test]
    fn an_action_failure_without_its_action_is_an_error() {
        let mut broken = event(ACTION, "FAILED");
        broken["detail"].as_object_mut().unwrap().remove("action");
        let err = triage(parse(&broken).unwrap()).unwrap_err().to_string();
        assert!(err.contains("detail.action"), "{err}");
    }
}
