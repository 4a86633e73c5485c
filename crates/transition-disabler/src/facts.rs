//! The facts a decision is made from, read back from the services that own them (never from the event): each
//! guarding alarm's state and since when (`DescribeAlarms`, paged), and the inbound transition's state and who
//! changed it last (`GetPipelineState`'s `inboundTransitionState`).

use std::time::Instant;

use aws_sdk_cloudwatch::types::{AlarmType, StateValue};
use chrono::{DateTime, Utc};
use hooks_common::Error;
use hooks_common::aws::{NO_ANSWER_IN_TIME, by_deadline, render_sdk_error};

use crate::settings::Guard;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmFact {
    pub name: String,
    pub state: AlarmState,
    /// CloudWatch's reason for the state ("Threshold Crossed: 1 datapoint [0.0 ...]").
    pub reason: String,
    /// When the alarm entered its state (`StateTransitionedTimestamp`; `StateUpdatedTimestamp` if absent).
    pub since: DateTime<Utc>,
}

/// What `DescribeAlarms` answered for one guard: the alarms found, and what it asked for but did not find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlarmReport {
    pub alarms: Vec<AlarmFact>,
    /// Named alarms that do not exist: a guard cannot call production healthy without them.
    pub missing: Vec<String>,
    /// A prefix that matched no alarm.
    pub empty_prefix: Option<String>,
}

/// The inbound transition of the guarded stage, as `GetPipelineState` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionFact {
    pub enabled: bool,
    pub last_changed_by: Option<String>,
    pub last_changed_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
}

/// `DescribeAlarms` takes at most 100 names per call.
const NAMES_PER_CALL: usize = 100;
/// 20 pages of 100: more alarms than any guard should have; a prefix that matches more is a setting to narrow.
const MAX_PAGES: usize = 20;

fn timestamp(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn fact(
    name: Option<&str>,
    state: Option<&StateValue>,
    reason: Option<&str>,
    transitioned: Option<&aws_smithy_types::DateTime>,
    updated: Option<&aws_smithy_types::DateTime>,
) -> Result<AlarmFact, String> {
    let name = name
        .ok_or("DescribeAlarms returned an alarm without a name")?
        .to_owned();
    let state = match state {
        Some(StateValue::Ok) => AlarmState::Ok,
        Some(StateValue::Alarm) => AlarmState::Alarm,
        Some(StateValue::InsufficientData) => AlarmState::InsufficientData,
        Some(other) => return Err(format!("alarm {name} has the unknown state {}", other.as_str())),
        None => return Err(format!("alarm {name} has no state")),
    };
    let since = transitioned
        .or(updated)
        .and_then(timestamp)
        .ok_or_else(|| format!("alarm {name} has no state timestamp"))?;
    Ok(AlarmFact {
        name,
        state,
        reason: reason.unwrap_or_default().to_owned(),
        since,
    })
}

async fn page_through(
    client: &aws_sdk_cloudwatch::Client,
    names: &[String],
    prefix: Option<&str>,
    deadline: Instant,
) -> Result<Vec<AlarmFact>, String> {
    let mut found = Vec::new();
    let mut next_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let call = client
            .describe_alarms()
            .set_alarm_names((!names.is_empty()).then(|| names.to_vec()))
            .set_alarm_name_prefix(prefix.map(str::to_owned))
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .set_next_token(next_token.take())
            .send();
        let output = match by_deadline(deadline, call).await {
            Some(Ok(output)) => output,
            Some(Err(e)) => return Err(render_sdk_error("DescribeAlarms", &e)),
            None => return Err(format!("DescribeAlarms: {NO_ANSWER_IN_TIME}")),
        };
        for a in output.metric_alarms() {
            found.push(fact(
                a.alarm_name(),
                a.state_value(),
                a.state_reason(),
                a.state_transitioned_timestamp(),
                a.state_updated_timestamp(),
            )?);
        }
        for a in output.composite_alarms() {
            found.push(fact(
                a.alarm_name(),
                a.state_value(),
                a.state_reason(),
                a.state_transitioned_timestamp(),
                a.state_updated_timestamp(),
            )?);
        }
        match output.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
            _ => return Ok(found),
        }
    }
    Err(format!(
        "DescribeAlarms answered more than {MAX_PAGES} pages; narrow the guard's alarm_prefix"
    ))
}

/// Reads every alarm of a guard. Names and a prefix cannot share one call, so they are asked separately.
/// `Err` when CloudWatch could not be read: the caller must not open anything on it.
pub async fn alarms(
    client: &aws_sdk_cloudwatch::Client,
    guard: &Guard,
    deadline: Instant,
) -> Result<AlarmReport, String> {
    let mut report = AlarmReport::default();
    for chunk in guard.alarms.chunks(NAMES_PER_CALL) {
        let found = page_through(client, chunk, None, deadline).await?;
        report
            .missing
            .extend(chunk.iter().filter(|n| !found.iter().any(|a| &a.name == *n)).cloned());
        report.alarms.extend(found);
    }
    if let Some(prefix) = &guard.alarm_prefix {
        let found = page_through(client, &[], Some(prefix), deadline).await?;
        if found.is_empty() {
            report.empty_prefix = Some(prefix.clone());
        }
        for alarm in found {
            if !report.alarms.iter().any(|a| a.name == alarm.name) {
                report.alarms.push(alarm);
            }
        }
    }
    Ok(report)
}

/// The guarded stage's inbound transition. A stage that is not in the pipeline (or is its first stage, which has
/// no inbound transition) is a setting to fix, said as such.
pub async fn transition(
    client: &aws_sdk_codepipeline::Client,
    guard: &Guard,
    deadline: Instant,
) -> Result<TransitionFact, Error> {
    let state = hooks_common::aws::call(
        deadline,
        "GetPipelineState",
        &guard.pipeline,
        client.get_pipeline_state().name(&guard.pipeline).send(),
    )
    .await?;
    let stage = state
        .stage_states()
        .iter()
        .find(|s| s.stage_name() == Some(guard.stage.as_str()))
        .ok_or_else(|| Error::Setting {
            name: format!("GUARDS ({} › {})", guard.pipeline, guard.stage),
            problem: format!("pipeline {} has no stage {}", guard.pipeline, guard.stage),
            fix: "name a stage of the pipeline, as the console shows it".into(),
        })?;
    let transition = stage.inbound_transition_state().ok_or_else(|| Error::Setting {
        name: format!("GUARDS ({} › {})", guard.pipeline, guard.stage),
        problem: format!(
            "stage {} has no inbound transition (it is the pipeline's first stage)",
            guard.stage
        ),
        fix: "guard the stage releases are promoted into (e.g. Production)".into(),
    })?;
    Ok(TransitionFact {
        enabled: transition.enabled(),
        last_changed_by: transition.last_changed_by().map(str::to_owned),
        last_changed_at: transition.last_changed_at().and_then(timestamp),
        disabled_reason: transition.disabled_reason().map(str::to_owned),
    })
}
