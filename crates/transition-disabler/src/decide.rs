//! The decision, a pure function of the facts: close, open, or keep the transition, always with the reason.
//!
//! - Any guarding alarm in ALARM (or INSUFFICIENT_DATA, when the guard says `close`) → close, naming the alarm.
//! - Every guarding alarm OK, for at least the cooldown → open, but only a transition this function closed.
//! - Otherwise, and whenever the alarms could not be read (or one is missing) → keep: an error never opens.
//! - A transition someone else disabled is never touched (not opened, not re-closed with another reason).
//! - A person who enabled the transition after the closing alarm entered its state overrides the alarm: the
//!   transition stays open until an alarm changes state again. No state is kept for this: the transition's
//!   `lastChangedAt` is compared with the alarm's `StateTransitionedTimestamp`, which moves only when the alarm's
//!   state value changes (`StateUpdatedTimestamp` moves with every new reason, so it would end the override at
//!   the next evaluation of a still-firing alarm).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::facts::{AlarmFact, AlarmReport, AlarmState, TransitionFact};
use crate::reason;
use crate::settings::{Guard, InsufficientData};

/// Who changed the transition last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangedBy {
    /// Never changed: CodePipeline shows no `lastChangedBy`.
    Nobody,
    /// This function (its identity in `lastChangedBy`, and, when disabled, the marker in the reason).
    ThisFunction,
    /// A person or other automation, as `lastChangedBy` names them.
    Someone(String),
}

/// Whether this function made the transition's last change. Both signs are needed when it is disabled: the
/// identity (a person cannot forge it) and the marker (a reason this function wrote).
pub fn changed_by(transition: &TransitionFact, function_name: &str) -> ChangedBy {
    let Some(by) = transition.last_changed_by.as_deref() else {
        return ChangedBy::Nobody;
    };
    // Lambda runs as `arn:aws:sts::<account>:assumed-role/<role>/<function name>`.
    let is_us = by.rsplit('/').next() == Some(function_name) && by.contains(":assumed-role/");
    let marked = transition.enabled
        || transition
            .disabled_reason
            .as_deref()
            .is_some_and(|r| r.starts_with(reason::MARKER));
    if is_us && marked {
        ChangedBy::ThisFunction
    } else {
        ChangedBy::Someone(by.to_owned())
    }
}

/// What to do with the transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// `DisableStageTransition` with `reason` (API-safe); `alarm` is the alarm that closes it.
    Close { reason: String, alarm: AlarmFact },
    /// `EnableStageTransition`: every alarm OK since `ok_since`, longer than the cooldown.
    Open { ok_since: DateTime<Utc> },
    /// Nothing to change; `why` says why (for the log and the invocation's result).
    Keep { why: String },
}

fn keep(why: impl Into<String>) -> Decision {
    Decision::Keep { why: why.into() }
}

fn closes(guard: &Guard, alarm: &AlarmFact) -> bool {
    match alarm.state {
        AlarmState::Alarm => true,
        AlarmState::InsufficientData => guard.insufficient_data == InsufficientData::Close,
        AlarmState::Ok => false,
    }
}

pub fn decide(
    guard: &Guard,
    alarms: &Result<AlarmReport, String>,
    transition: &TransitionFact,
    changed_by: &ChangedBy,
    now: DateTime<Utc>,
) -> Decision {
    if !transition.enabled && *changed_by != ChangedBy::ThisFunction {
        let by = match changed_by {
            ChangedBy::Someone(by) => by.as_str(),
            _ => "someone CodePipeline does not name",
        };
        return keep(format!("disabled by {by}, not by this function: left as it is"));
    }
    let report = match alarms {
        Ok(report) => report,
        Err(problem) => {
            return keep(format!(
                "alarms could not be read ({problem}); nothing changes on an error"
            ));
        }
    };
    // The alarm that has been closing longest names the reason; the newest change decides an override.
    let mut closing: Vec<&AlarmFact> = report.alarms.iter().filter(|a| closes(guard, a)).collect();
    closing.sort_by_key(|a| a.since);
    if let Some(first) = closing.first() {
        if !transition.enabled {
            return keep(format!(
                "still closed: alarm {} is {}",
                first.name,
                first.state.as_str()
            ));
        }
        let newest_change = closing.iter().map(|a| a.since).max().unwrap_or(first.since);
        if let (ChangedBy::Someone(by), Some(at)) = (changed_by, transition.last_changed_at)
            && at >= newest_change
        {
            return keep(format!(
                "{by} enabled it at {at} after alarm {} entered {}; that stands until an alarm changes state",
                first.name,
                first.state.as_str()
            ));
        }
        return Decision::Close {
            reason: reason::closing(&first.name, first.state.as_str(), first.since, guard.cooldown),
            alarm: (*first).clone(),
        };
    }
    if transition.enabled {
        return keep("open, and no guarding alarm fires");
    }
    // Closed by this function, nothing firing now: open only on complete, all-OK facts.
    if !report.missing.is_empty() {
        return keep(format!(
            "alarm(s) {} not found: cannot tell production is healthy",
            report.missing.join(", ")
        ));
    }
    if report.alarms.is_empty() {
        let prefix = report.empty_prefix.as_deref().unwrap_or_default();
        return keep(format!(
            "no alarm matches the guard (prefix `{prefix}`): cannot tell production is healthy"
        ));
    }
    if let Some(unknown) = report.alarms.iter().find(|a| a.state != AlarmState::Ok) {
        return keep(format!(
            "alarm {} is {}: not OK yet",
            unknown.name,
            unknown.state.as_str()
        ));
    }
    let ok_since = report.alarms.iter().map(|a| a.since).max().unwrap_or(now);
    let ok_for = (now - ok_since).to_std().unwrap_or(Duration::ZERO);
    if ok_for < guard.cooldown {
        let reopens = ok_since + guard.cooldown;
        return keep(format!(
            "all alarms OK since {ok_since}, for less than the {} cooldown: reopens at {reopens} at the earliest",
            reason::span(guard.cooldown)
        ));
    }
    Decision::Open { ok_since }
}

#[cfg(test)]
mod tests;
