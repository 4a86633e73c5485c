//! EventBridge for CodePipeline state changes: builds the events AWS emits (action, stage and pipeline
//! level, in AWS's documented shapes) and delivers them to the functions whose rule matches, with Lambda's
//! asynchronous-invocation retries.

use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::lambda::{AsyncDelivery, FunctionHost};
use crate::model::{Status, World};
use crate::{ACCOUNT, REGION};

pub const ACTION_DETAIL_TYPE: &str = "CodePipeline Action Execution State Change";
pub const STAGE_DETAIL_TYPE: &str = "CodePipeline Stage Execution State Change";
pub const PIPELINE_DETAIL_TYPE: &str = "CodePipeline Pipeline Execution State Change";

/// The subset of EventBridge's pattern language the template's rules use: exact values, OR-ed per field.
#[derive(Clone, Debug, Default)]
pub struct EventPattern {
    pub source: Vec<String>,
    pub detail_type: Vec<String>,
    pub detail_state: Vec<String>,
    /// `detail.alarmName` starts with one of these (EventBridge's `prefix` matching); empty matches any.
    pub alarm_name_prefix: Vec<String>,
}

impl EventPattern {
    /// The failure notifier's rule in `template.yaml`: action-level FAILED only.
    pub fn action_failed() -> EventPattern {
        EventPattern {
            source: vec!["aws.codepipeline".into()],
            detail_type: vec![ACTION_DETAIL_TYPE.into()],
            detail_state: vec!["FAILED".into()],
            ..EventPattern::default()
        }
    }

    /// The transition disabler's rule in `template.yaml`: CloudWatch alarm state changes of the alarms whose names
    /// start with one of `prefixes`.
    pub fn alarm_state_change(prefixes: &[&str]) -> EventPattern {
        EventPattern {
            source: vec!["aws.cloudwatch".into()],
            detail_type: vec![crate::cloudwatch::ALARM_STATE_CHANGE.into()],
            alarm_name_prefix: prefixes.iter().map(|p| (*p).to_owned()).collect(),
            ..EventPattern::default()
        }
    }

    /// Every CodePipeline state change (for tests that check the function's own filtering).
    pub fn all_codepipeline() -> EventPattern {
        EventPattern {
            source: vec!["aws.codepipeline".into()],
            ..EventPattern::default()
        }
    }

    pub fn matches(&self, event: &Value) -> bool {
        let field_matches = |allowed: &[String], value: Option<&Value>| {
            allowed.is_empty()
                || value
                    .and_then(Value::as_str)
                    .is_some_and(|v| allowed.iter().any(|a| a == v))
        };
        field_matches(&self.source, event.get("source"))
            && field_matches(&self.detail_type, event.get("detail-type"))
            && field_matches(&self.detail_state, event.pointer("/detail/state"))
            && (self.alarm_name_prefix.is_empty()
                || event
                    .pointer("/detail/alarmName")
                    .and_then(Value::as_str)
                    .is_some_and(|name| self.alarm_name_prefix.iter().any(|p| name.starts_with(p.as_str()))))
    }
}

pub struct Rule {
    pub name: String,
    pub pattern: EventPattern,
    pub target: Arc<FunctionHost>,
}

/// One event as it was put on the bus, and what each matching rule's target made of it.
pub struct Delivered {
    pub event: Value,
    pub deliveries: Vec<(String, AsyncDelivery)>,
}

#[derive(Default)]
pub struct EventBus {
    rules: Mutex<Vec<Rule>>,
    counter: Mutex<u64>,
}

impl EventBus {
    pub fn subscribe(&self, name: &str, pattern: EventPattern, target: Arc<FunctionHost>) {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).push(Rule {
            name: name.into(),
            pattern,
            target,
        });
    }

    /// Puts an event on the bus and waits until every matching target has taken it (or dead-lettered it).
    pub async fn put(&self, event: Value) -> Delivered {
        let targets: Vec<(String, Arc<FunctionHost>)> = self
            .rules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|rule| rule.pattern.matches(&event))
            .map(|rule| (rule.name.clone(), rule.target.clone()))
            .collect();
        let mut deliveries = Vec::new();
        for (name, target) in targets {
            deliveries.push((name, target.invoke_async(event.clone()).await));
        }
        Delivered { event, deliveries }
    }

    /// An EventBridge envelope around a CodePipeline `detail`, with a fresh event id.
    pub fn envelope(&self, detail_type: &str, pipeline: &str, detail: Value) -> Value {
        let mut counter = self.counter.lock().unwrap_or_else(|p| p.into_inner());
        *counter += 1;
        json!({
            "version": "0",
            "id": format!("{:08x}-0000-4000-8000-{:012x}", *counter, *counter),
            "detail-type": detail_type,
            "source": "aws.codepipeline",
            "account": ACCOUNT,
            "time": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            "region": REGION,
            "resources": [format!("arn:aws:codepipeline:{REGION}:{ACCOUNT}:{pipeline}")],
            "detail": detail,
        })
    }
}

/// `detail` of an action-level event for the latest run of `stage`/`action`, as AWS shapes it: the
/// pipeline `version` is a number, the action type's `version` a string.
pub fn action_detail(world: &World, execution_id: &str, stage: &str, action: &str) -> Option<Value> {
    let execution = world.execution(execution_id)?;
    let run = execution.latest_run(stage, action)?;
    let mut detail = json!({
        "pipeline": execution.pipeline,
        "version": execution.pipeline_version,
        "execution-id": execution.id,
        "pipeline-execution-attempt": 1.0,
        "stage": stage,
        "action": action,
        "state": run.status.event_name(),
        "region": REGION,
        "type": {
            "owner": run.action_type.owner,
            "provider": run.action_type.provider,
            "category": run.action_type.category,
            "version": run.action_type.version,
        },
        "input-artifacts": [],
    });
    if run.status != Status::InProgress {
        let mut result = serde_json::Map::new();
        let mut put = |key: &str, value: &Option<String>| {
            if let Some(value) = value {
                result.insert(key.into(), json!(value));
            }
        };
        put("external-execution-url", &run.result.external_execution_url);
        put("external-execution-summary", &run.result.external_execution_summary);
        put("external-execution-id", &run.result.external_execution_id);
        put("error-code", &run.result.error.as_ref().map(|(code, _)| code.clone()));
        if !result.is_empty() {
            detail["execution-result"] = Value::Object(result);
        }
    }
    Some(detail)
}

/// `detail` of a stage-level event. AWS's own examples carry `version` as a string here.
pub fn stage_detail(world: &World, execution_id: &str, stage: &str, status: Status) -> Option<Value> {
    let execution = world.execution(execution_id)?;
    Some(json!({
        "pipeline": execution.pipeline,
        "version": execution.pipeline_version.to_string(),
        "execution-id": execution.id,
        "stage": stage,
        "state": status.event_name(),
    }))
}

pub fn pipeline_detail(world: &World, execution_id: &str, status: Status) -> Option<Value> {
    let execution = world.execution(execution_id)?;
    Some(json!({
        "pipeline": execution.pipeline,
        "version": execution.pipeline_version,
        "execution-id": execution.id,
        "state": status.event_name(),
        "execution-trigger": {"trigger-type": "StartPipelineExecution", "trigger-detail": "simulator"},
    }))
}
