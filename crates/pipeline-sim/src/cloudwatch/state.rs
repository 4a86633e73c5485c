//! [`CloudWatchState`]: the simulator's CloudWatch store (every datum received, every metric alarm, every state
//! transition) and the calls tests and the demo make on it directly: put alarms, force or backdate their states,
//! store data (re-evaluating the alarms that watch it) and read it back.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::alarm::{Alarm, AlarmState};
use super::evaluate::evaluate;
use super::events::AlarmTransition;
use super::metrics::Datum;
use super::now;

/// CloudWatch's state in the simulator: every datum received and every metric alarm.
#[derive(Default)]
pub struct CloudWatchState {
    datums: Vec<Datum>,
    alarms: BTreeMap<String, Alarm>,
    transitions: Vec<AlarmTransition>,
}

impl CloudWatchState {
    /// Stores (or replaces) a metric alarm as given, state included; returns its ARN.
    pub fn put_alarm(&mut self, alarm: Alarm) -> String {
        let arn = alarm.arn.clone();
        self.alarms.insert(alarm.name.clone(), alarm);
        arn
    }

    pub fn alarm(&self, name: &str) -> Option<&Alarm> {
        self.alarms.get(name)
    }

    /// Every metric alarm, sorted by name (the order `DescribeAlarms` answers in).
    pub fn alarms(&self) -> impl Iterator<Item = &Alarm> {
        self.alarms.values()
    }

    pub fn remove_alarm(&mut self, name: &str) -> Option<Alarm> {
        self.alarms.remove(name)
    }

    /// Sets an alarm's state as if it had entered it now; `None` if there is no such alarm.
    pub fn set_alarm_state(&mut self, name: &str, state: AlarmState, reason: &str) -> Option<()> {
        self.set_alarm_state_at(name, state, reason, now())
    }

    /// Sets an alarm's state as if it had entered it at `at` (backdate it for bake-time tests): both the updated
    /// and the transitioned timestamps become `at`, even when the state value does not change.
    pub fn set_alarm_state_at(&mut self, name: &str, state: AlarmState, reason: &str, at: DateTime<Utc>) -> Option<()> {
        self.change_state(name, state, reason, None, at, true)
    }

    /// Stores data as `PutMetricData` does (no validation), then re-evaluates the alarms watching it.
    pub fn put_metric_data(&mut self, data: Vec<Datum>) {
        let now = now();
        let touched: Vec<String> = self
            .alarms
            .values()
            .filter(|alarm| data.iter().any(|datum| alarm.watches(datum)))
            .map(|alarm| alarm.name.clone())
            .collect();
        self.datums.extend(data);
        for name in touched {
            self.evaluate_alarm(&name, now);
        }
    }

    /// Every datum of `namespace`, in the order received.
    pub fn metrics(&self, namespace: &str) -> Vec<Datum> {
        self.datums
            .iter()
            .filter(|d| d.namespace == namespace)
            .cloned()
            .collect()
    }

    /// Every datum received, in order.
    pub fn datums(&self) -> &[Datum] {
        &self.datums
    }

    /// Re-evaluates every metric alarm as of `now` (see the [module documentation](super)); returns the transitions made.
    pub fn evaluate_alarms(&mut self, now: DateTime<Utc>) -> Vec<AlarmTransition> {
        let before = self.transitions.len();
        let names: Vec<String> = self.alarms.keys().cloned().collect();
        for name in names {
            self.evaluate_alarm(&name, now);
        }
        self.transitions[before..].to_vec()
    }

    /// Every change of an alarm's state value so far, oldest first.
    pub fn transitions(&self) -> &[AlarmTransition] {
        &self.transitions
    }

    fn evaluate_alarm(&mut self, name: &str, now: DateTime<Utc>) {
        let Some(alarm) = self.alarms.get(name) else {
            return;
        };
        let Some(decision) = evaluate(alarm, &self.datums, now) else {
            return;
        };
        if decision.state == alarm.state {
            return;
        }
        self.change_state(
            name,
            decision.state,
            &decision.reason,
            Some(decision.reason_data),
            now,
            false,
        );
    }

    /// Gives an alarm a new state, reason and reason data at `at`, recording a transition when the state value
    /// changes. The transition time moves with the value only, as in AWS, unless `backdate` says the alarm is to
    /// look as if it had entered this state at `at`.
    pub(super) fn change_state(
        &mut self,
        name: &str,
        state: AlarmState,
        reason: &str,
        reason_data: Option<String>,
        at: DateTime<Utc>,
        backdate: bool,
    ) -> Option<()> {
        let alarm = self.alarms.get_mut(name)?;
        if alarm.state != state {
            self.transitions.push(AlarmTransition {
                alarm: name.into(),
                previous: alarm.state,
                previous_reason: alarm.state_reason.clone(),
                previous_reason_data: alarm.state_reason_data.clone(),
                previous_at: alarm.state_transitioned,
                state,
                reason: reason.into(),
                reason_data: reason_data.clone(),
                at,
            });
        }
        if alarm.state != state || backdate {
            alarm.state_transitioned = at;
        }
        alarm.state = state;
        alarm.state_reason = reason.into();
        alarm.state_reason_data = reason_data;
        alarm.state_updated = at;
        Some(())
    }
}
