//! Stage transitions: `DisableStageTransition`, `EnableStageTransition`, the `inboundTransitionState` that
//! `GetPipelineState` shows, and the console path a person takes.
//!
//! As in CodePipeline: the reason is 1 to 300 characters of `[a-zA-Z0-9!@ ()\.\*\?\-]` (anything else is a
//! `ValidationException`); `Outbound` of a stage is the inbound transition of the next one; the first stage has
//! no inbound transition; `lastChangedBy` is the caller's identity (an assumed-role ARN for a function, an IAM
//! user for a person in the console) and `lastChangedAt` the time of the change. Disabling a disabled transition
//! replaces its reason (and who and when); enabling an enabled one changes nothing.
//!
//! Who the caller is: the simulator reads the access key id from the request's SigV4 `Authorization` header and
//! looks it up in [`Transitions::register_caller`]; an unregistered key is
//! `arn:aws:sts::<account>:assumed-role/simulator-role/<key id>`.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::shapes::epoch;
use super::{constraint, find_pipeline, name_member};
use crate::aws::{AwsError, required_str};
use crate::model::World;
use crate::{ACCOUNT, SimState, Simulator};

/// The console user a person's change is recorded under (as approvals record theirs).
pub const CONSOLE_USER: &str = super::approvals::CONSOLE_USER;
pub const REASON_MAX_CHARS: usize = 300;

/// One inbound transition's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionState {
    pub enabled: bool,
    pub last_changed_by: Option<String>,
    pub last_changed_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
}

impl Default for TransitionState {
    fn default() -> TransitionState {
        TransitionState {
            enabled: true,
            last_changed_by: None,
            last_changed_at: None,
            disabled_reason: None,
        }
    }
}

/// One call that changed (or tried to change) a transition, for tests: who, what, and the error if refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionChange {
    pub pipeline: String,
    pub stage: String,
    pub enabled: bool,
    pub by: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// Every transition that was ever changed (untouched ones are enabled), and who the callers are.
#[derive(Default)]
pub struct Transitions {
    /// By (pipeline, stage): the stage's inbound transition.
    states: BTreeMap<(String, String), TransitionState>,
    callers: BTreeMap<String, String>,
    /// Every accepted change, in order.
    pub changes: Vec<TransitionChange>,
    /// Executions waiting before a disabled transition: (pipeline, stage, execution id), in order of arrival.
    pub waiting: Vec<(String, String, String)>,
}

impl Transitions {
    /// The inbound transition of `stage` (enabled unless someone disabled it).
    pub fn state(&self, pipeline: &str, stage: &str) -> TransitionState {
        self.states
            .get(&(pipeline.to_owned(), stage.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Requests signed with `access_key_id` are recorded as made by `arn`.
    pub fn register_caller(&mut self, access_key_id: &str, arn: &str) {
        self.callers.insert(access_key_id.to_owned(), arn.to_owned());
    }

    fn caller(&self, access_key_id: Option<&str>) -> String {
        let key = access_key_id.unwrap_or("anonymous");
        self.callers
            .get(key)
            .cloned()
            .unwrap_or_else(|| format!("arn:aws:sts::{ACCOUNT}:assumed-role/simulator-role/{key}"))
    }

    fn set(&mut self, pipeline: &str, stage: &str, enabled: bool, by: String, reason: Option<String>) {
        let at = Utc::now();
        let current = self.state(pipeline, stage);
        if enabled && current.enabled {
            return;
        }
        self.states.insert(
            (pipeline.to_owned(), stage.to_owned()),
            TransitionState {
                enabled,
                last_changed_by: Some(by.clone()),
                last_changed_at: Some(at),
                disabled_reason: reason.clone(),
            },
        );
        self.changes.push(TransitionChange {
            pipeline: pipeline.to_owned(),
            stage: stage.to_owned(),
            enabled,
            by,
            reason,
            at,
        });
    }

    /// The changes made to one transition, in order.
    pub fn changes_of(&self, pipeline: &str, stage: &str) -> Vec<TransitionChange> {
        self.changes
            .iter()
            .filter(|c| c.pipeline == pipeline && c.stage == stage)
            .cloned()
            .collect()
    }
}

// ---- The API ----

pub fn serves(operation: &str) -> bool {
    matches!(operation, "DisableStageTransition" | "EnableStageTransition")
}

/// The access key id of a SigV4-signed request (`Credential=<key id>/<date>/...`).
fn access_key_id(headers: &HeaderMap) -> Option<String> {
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    credential.split('/').next().map(str::to_owned)
}

pub fn handle(state: &SimState, operation: &str, request: &Value, headers: &HeaderMap) -> Result<Value, AwsError> {
    let mut world = state.world();
    let caller = world.transitions.caller(access_key_id(headers).as_deref());
    match operation {
        "DisableStageTransition" => change(&mut world, request, false, caller),
        "EnableStageTransition" => change(&mut world, request, true, caller),
        other => Err(AwsError::validation(format!("not a transition operation: {other}"))),
    }
}

/// Whether CodePipeline accepts `c` in a transition's reason.
pub fn reason_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!@ ().*?-".contains(c)
}

fn reason_member(request: &Value) -> Result<String, AwsError> {
    let reason = required_str(request, "reason")?;
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(constraint(
            &request["reason"],
            "reason",
            "Member must have length less than or equal to 300",
        ));
    }
    if !reason.chars().all(reason_char) {
        return Err(constraint(
            &request["reason"],
            "reason",
            r"Member must satisfy regular expression pattern: [a-zA-Z0-9!@ \(\)\.\*\?\-]+",
        ));
    }
    Ok(reason.to_owned())
}

fn change(world: &mut World, request: &Value, enabled: bool, caller: String) -> Result<Value, AwsError> {
    let pipeline_name = name_member(request, "pipelineName")?;
    let stage_name = name_member(request, "stageName")?;
    let transition_type = required_str(request, "transitionType")?;
    if !matches!(transition_type, "Inbound" | "Outbound") {
        return Err(constraint(
            &request["transitionType"],
            "transitionType",
            "Member must satisfy enum value set: [Inbound, Outbound]",
        ));
    }
    let reason = if enabled { None } else { Some(reason_member(request)?) };
    let pipeline = find_pipeline(world, pipeline_name)?;
    let index = pipeline
        .stages
        .iter()
        .position(|s| s.name == stage_name)
        .ok_or_else(|| {
            AwsError::new(
                StatusCode::BAD_REQUEST,
                "StageNotFoundException",
                format!("Stage '{stage_name}' not found in pipeline '{pipeline_name}'"),
            )
        })?;
    // The transition into stage `target`: a stage's outbound transition is the next stage's inbound one.
    let target = if transition_type == "Inbound" { index } else { index + 1 };
    if target == 0 || target >= pipeline.stages.len() {
        return Err(AwsError::validation(format!(
            "Stage '{stage_name}' has no {} transition",
            transition_type.to_lowercase()
        )));
    }
    let stage = pipeline.stages[target].name.clone();
    let pipeline = pipeline.name.clone();
    world.transitions.set(&pipeline, &stage, enabled, caller, reason);
    Ok(json!({}))
}

/// Puts each stage's `inboundTransitionState` (all but the first stage's) into a `GetPipelineState` answer.
pub fn show(world: &World, pipeline: &str, answer: &mut Value) {
    let Some(stages) = answer.get_mut("stageStates").and_then(Value::as_array_mut) else {
        return;
    };
    for (index, stage) in stages.iter_mut().enumerate() {
        if index == 0 {
            continue;
        }
        let Some(name) = stage.get("stageName").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        let state = world.transitions.state(pipeline, &name);
        let mut shown = json!({ "enabled": state.enabled });
        if let Some(by) = state.last_changed_by {
            shown["lastChangedBy"] = json!(by);
        }
        if let Some(at) = state.last_changed_at {
            shown["lastChangedAt"] = epoch(at);
        }
        if let Some(reason) = state.disabled_reason {
            shown["disabledReason"] = json!(reason);
        }
        stage["inboundTransitionState"] = shown;
    }
}

// ---- The console ----

impl Simulator {
    /// A person disables the inbound transition of `stage` in the console (recorded as [`CONSOLE_USER`]); the
    /// reason is checked as the API checks it.
    pub fn disable_transition_as_person(&self, pipeline: &str, stage: &str, reason: &str) -> Result<(), AwsError> {
        self.change_transition_as_person(pipeline, stage, false, Some(reason))
    }

    /// A person enables the inbound transition of `stage` in the console.
    pub fn enable_transition_as_person(&self, pipeline: &str, stage: &str) -> Result<(), AwsError> {
        self.change_transition_as_person(pipeline, stage, true, None)
    }

    fn change_transition_as_person(
        &self,
        pipeline: &str,
        stage: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<(), AwsError> {
        let mut request = json!({"pipelineName": pipeline, "stageName": stage, "transitionType": "Inbound"});
        if let Some(reason) = reason {
            request["reason"] = json!(reason);
        }
        let person = format!("arn:aws:iam::{ACCOUNT}:user/{CONSOLE_USER}");
        change(&mut self.state.world(), &request, enabled, person).map(|_| ())
    }

    /// The inbound transition of `stage`, as `GetPipelineState` would show it.
    pub fn transition(&self, pipeline: &str, stage: &str) -> TransitionState {
        self.state.world().transitions.state(pipeline, stage)
    }
}
