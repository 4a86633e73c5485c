//! CloudWatch (Smithy RPC v2 CBOR, `POST /service/GraniteServiceVersion20100801/operation/<Op>`): metrics and
//! metric alarms, kept like the service keeps them and served in the exact wire format of `aws-sdk-cloudwatch`.
//!
//! Served operations: `PutMetricData`, `DescribeAlarms`, `SetAlarmState` and `GetMetricData` (metric queries;
//! metric-math expressions are answered with a result whose status says they are not evaluated). Every other
//! operation answers `InvalidParameterValue` naming itself.
//!
//! Tests and the demo drive the same state through [`CloudWatchState`] (`sim.state.cloudwatch()`): put alarms,
//! force or backdate alarm states for bake-time scenarios, and read back every datum a function published.
//!
//! # Alarm evaluation (simplified)
//! A metric alarm is re-evaluated whenever `PutMetricData` (or [`CloudWatchState::put_metric_data`]) stores a
//! datum for its metric (same namespace, name and dimension set; same unit when the alarm names one), and when a
//! test calls [`CloudWatchState::evaluate_alarms`]. An evaluation looks at the `EvaluationPeriods` windows of
//! `Period` seconds ending at the evaluation time (`(now - period, now]`, then the one before, ...; AWS aligns
//! periods to the clock instead), aggregates each window with the alarm's statistic, and decides:
//! - ALARM when at least `DatapointsToAlarm` (default `EvaluationPeriods`) windows breach the threshold;
//!   `TreatMissingData = breaching` counts empty windows as breaching;
//! - otherwise INSUFFICIENT_DATA when every window is empty and missing data is `missing` (the default),
//!   no change when it is `ignore`;
//! - otherwise OK (`notBreaching` counts empty windows as fine).
//!
//! The state (with a reason worded like AWS's and `StateReasonData` JSON) changes only when the decision
//! differs from the current state, as in AWS. `SetAlarmState` sets a state until the next evaluation, as in AWS.
//! For the synthetic canary: `Success` (1 = passed, 0 = failed) with `Minimum < 1` over 1 period goes to ALARM on
//! the first failed run and back to OK once a period holds only passes.

mod cbor;
mod ops;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::json;

use crate::{ACCOUNT, REGION};

pub use ops::{CloudWatchError, error_response, serve};

// ---- Metrics ----

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

impl Dimension {
    pub fn new(name: &str, value: &str) -> Dimension {
        Dimension {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A pre-aggregated set of samples, as `StatisticValues` carries it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatisticSet {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

impl StatisticSet {
    fn merge(self, other: StatisticSet) -> StatisticSet {
        StatisticSet {
            sample_count: self.sample_count + other.sample_count,
            sum: self.sum + other.sum,
            minimum: self.minimum.min(other.minimum),
            maximum: self.maximum.max(other.maximum),
        }
    }
}

/// What one datum carries: exactly one of `Value`, `Values` (+ `Counts`), `StatisticValues`.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricValue {
    Value(f64),
    /// `counts` has one entry per value; a datum sent without `Counts` stores 1 for each.
    Values {
        values: Vec<f64>,
        counts: Vec<f64>,
    },
    StatisticSet(StatisticSet),
}

impl MetricValue {
    /// The samples this value stands for, summarised; `None` for an empty `Values` list.
    pub fn summary(&self) -> Option<StatisticSet> {
        match self {
            MetricValue::Value(v) => Some(StatisticSet {
                sample_count: 1.0,
                sum: *v,
                minimum: *v,
                maximum: *v,
            }),
            MetricValue::Values { values, counts } => values
                .iter()
                .zip(counts)
                .map(|(v, c)| StatisticSet {
                    sample_count: *c,
                    sum: v * c,
                    minimum: *v,
                    maximum: *v,
                })
                .reduce(StatisticSet::merge),
            MetricValue::StatisticSet(set) => Some(*set),
        }
    }
}

/// One stored datum of one metric, as `PutMetricData` received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Datum {
    pub namespace: String,
    pub metric_name: String,
    /// In the order they were sent.
    pub dimensions: Vec<Dimension>,
    /// The datum's `Timestamp`, or the time it was received when it had none.
    pub timestamp: DateTime<Utc>,
    pub value: MetricValue,
    /// As sent; `None` when the datum named no unit (CloudWatch then treats it as unit `None`).
    pub unit: Option<String>,
    /// 1 (high resolution) or 60 (the default).
    pub storage_resolution: i32,
}

impl Datum {
    /// A single-value datum stamped now, without dimensions or unit.
    pub fn new(namespace: &str, metric_name: &str, value: f64) -> Datum {
        Datum {
            namespace: namespace.into(),
            metric_name: metric_name.into(),
            dimensions: Vec::new(),
            timestamp: now(),
            value: MetricValue::Value(value),
            unit: None,
            storage_resolution: 60,
        }
    }
    pub fn with_dimension(mut self, name: &str, value: &str) -> Datum {
        self.dimensions.push(Dimension::new(name, value));
        self
    }
    pub fn with_unit(mut self, unit: &str) -> Datum {
        self.unit = Some(unit.into());
        self
    }
    pub fn at(mut self, timestamp: DateTime<Utc>) -> Datum {
        self.timestamp = timestamp;
        self
    }

    /// The value of dimension `name`, if the datum has it.
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
    }

    /// Whether this datum belongs to the metric identified by namespace, name and dimension set (any order).
    pub fn is_metric(&self, namespace: &str, metric_name: &str, dimensions: &[Dimension]) -> bool {
        self.namespace == namespace && self.metric_name == metric_name && same_dimensions(&self.dimensions, dimensions)
    }
}

fn same_dimensions(a: &[Dimension], b: &[Dimension]) -> bool {
    let mut a: Vec<&Dimension> = a.iter().collect();
    let mut b: Vec<&Dimension> = b.iter().collect();
    a.sort();
    b.sort();
    a == b
}

// ---- Alarms ----

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    /// The name CloudWatch's API uses (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
    pub fn parse(name: &str) -> Option<AlarmState> {
        match name {
            "OK" => Some(AlarmState::Ok),
            "ALARM" => Some(AlarmState::Alarm),
            "INSUFFICIENT_DATA" => Some(AlarmState::InsufficientData),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl ComparisonOperator {
    pub fn as_str(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            ComparisonOperator::GreaterThanThreshold => "GreaterThanThreshold",
            ComparisonOperator::LessThanThreshold => "LessThanThreshold",
            ComparisonOperator::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => value >= threshold,
            ComparisonOperator::GreaterThanThreshold => value > threshold,
            ComparisonOperator::LessThanThreshold => value < threshold,
            ComparisonOperator::LessThanOrEqualToThreshold => value <= threshold,
        }
    }
    /// How AWS words the comparison in a state reason.
    fn phrase(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "greater than or equal to",
            ComparisonOperator::GreaterThanThreshold => "greater than",
            ComparisonOperator::LessThanThreshold => "less than",
            ComparisonOperator::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

impl Statistic {
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::SampleCount => "SampleCount",
            Statistic::Average => "Average",
            Statistic::Sum => "Sum",
            Statistic::Minimum => "Minimum",
            Statistic::Maximum => "Maximum",
        }
    }
    pub fn parse(name: &str) -> Option<Statistic> {
        [
            Statistic::SampleCount,
            Statistic::Average,
            Statistic::Sum,
            Statistic::Minimum,
            Statistic::Maximum,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
    pub fn of(self, set: &StatisticSet) -> f64 {
        match self {
            Statistic::SampleCount => set.sample_count,
            Statistic::Average if set.sample_count > 0.0 => set.sum / set.sample_count,
            Statistic::Average => 0.0,
            Statistic::Sum => set.sum,
            Statistic::Minimum => set.minimum,
            Statistic::Maximum => set.maximum,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreatMissingData {
    Missing,
    Ignore,
    Breaching,
    NotBreaching,
}

impl TreatMissingData {
    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::Ignore => "ignore",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::NotBreaching => "notBreaching",
        }
    }
}

/// A metric alarm. Build one with [`Alarm::new`] and the `with_*` methods, then [`CloudWatchState::put_alarm`].
#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<Dimension>,
    pub statistic: Statistic,
    /// When set, only data with this unit counts.
    pub unit: Option<String>,
    /// Seconds: 10, 30 or a multiple of 60.
    pub period: i32,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: f64,
    pub comparison: ComparisonOperator,
    pub treat_missing_data: TreatMissingData,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub state: AlarmState,
    pub state_reason: String,
    pub state_reason_data: Option<String>,
    /// Last change of the state value or reason.
    pub state_updated: DateTime<Utc>,
    /// Last change of the state value.
    pub state_transitioned: DateTime<Utc>,
    pub configuration_updated: DateTime<Utc>,
}

impl Alarm {
    /// A new alarm as `PutMetricAlarm` creates it: `INSUFFICIENT_DATA` ("Unchecked: Initial alarm creation"),
    /// `Average >= 1.0` over one period of 60 s, missing data `missing`, actions enabled and empty.
    pub fn new(name: &str, namespace: &str, metric_name: &str) -> Alarm {
        let created = now();
        Alarm {
            name: name.into(),
            arn: format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"),
            description: None,
            namespace: namespace.into(),
            metric_name: metric_name.into(),
            dimensions: Vec::new(),
            statistic: Statistic::Average,
            unit: None,
            period: 60,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            threshold: 1.0,
            comparison: ComparisonOperator::GreaterThanOrEqualToThreshold,
            treat_missing_data: TreatMissingData::Missing,
            actions_enabled: true,
            alarm_actions: Vec::new(),
            ok_actions: Vec::new(),
            insufficient_data_actions: Vec::new(),
            state: AlarmState::InsufficientData,
            state_reason: "Unchecked: Initial alarm creation".into(),
            state_reason_data: None,
            state_updated: created,
            state_transitioned: created,
            configuration_updated: created,
        }
    }
    pub fn with_description(mut self, description: &str) -> Alarm {
        self.description = Some(description.into());
        self
    }
    pub fn with_dimension(mut self, name: &str, value: &str) -> Alarm {
        self.dimensions.push(Dimension::new(name, value));
        self
    }
    pub fn with_statistic(mut self, statistic: Statistic) -> Alarm {
        self.statistic = statistic;
        self
    }
    pub fn with_threshold(mut self, comparison: ComparisonOperator, threshold: f64) -> Alarm {
        self.comparison = comparison;
        self.threshold = threshold;
        self
    }
    /// `datapoints_to_alarm` out of `evaluation_periods` windows of `period_seconds` must breach for ALARM.
    pub fn with_evaluation(mut self, period_seconds: i32, evaluation_periods: i32, datapoints_to_alarm: i32) -> Alarm {
        self.period = period_seconds;
        self.evaluation_periods = evaluation_periods;
        self.datapoints_to_alarm = Some(datapoints_to_alarm);
        self
    }
    pub fn with_treat_missing_data(mut self, treatment: TreatMissingData) -> Alarm {
        self.treat_missing_data = treatment;
        self
    }
    pub fn with_unit(mut self, unit: &str) -> Alarm {
        self.unit = Some(unit.into());
        self
    }
    pub fn with_alarm_action(mut self, arn: &str) -> Alarm {
        self.alarm_actions.push(arn.into());
        self
    }
    pub fn with_ok_action(mut self, arn: &str) -> Alarm {
        self.ok_actions.push(arn.into());
        self
    }

    fn watches(&self, datum: &Datum) -> bool {
        datum.is_metric(&self.namespace, &self.metric_name, &self.dimensions)
            && self
                .unit
                .as_deref()
                .is_none_or(|unit| datum.unit.as_deref().unwrap_or("None") == unit)
    }
}

/// One change of an alarm's state value, in the order they happened: what the EventBridge
/// "CloudWatch Alarm State Change" event carries (see [`state_change_detail`]), and what tests assert on.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmTransition {
    pub alarm: String,
    pub previous: AlarmState,
    pub previous_reason: String,
    pub previous_reason_data: Option<String>,
    /// When the alarm had entered its previous state.
    pub previous_at: DateTime<Utc>,
    pub state: AlarmState,
    pub reason: String,
    pub reason_data: Option<String>,
    pub at: DateTime<Utc>,
}

/// The `detail-type` of the EventBridge event CloudWatch emits for every alarm state change.
pub const ALARM_STATE_CHANGE: &str = "CloudWatch Alarm State Change";

/// The `detail` of that event for a metric alarm, in AWS's shape: `alarmName`, `configuration` (description and
/// the metric as a `metricStat` query), `state` and `previousState` (`value`, `reason`, `reasonData` when there
/// is one, `timestamp` like `2019-10-02T17:04:40.989+0000`). The envelope (`source: aws.cloudwatch`,
/// `resources: [alarm ARN]`) is the bus's to add.
pub fn state_change_detail(alarm: &Alarm, transition: &AlarmTransition) -> serde_json::Value {
    let side = |value: AlarmState, reason: &str, reason_data: &Option<String>, at: DateTime<Utc>| {
        let mut side = json!({ "value": value.as_str(), "reason": reason, "timestamp": event_time(at) });
        if let Some(data) = reason_data {
            side["reasonData"] = json!(data);
        }
        side
    };
    let dimensions: serde_json::Map<String, serde_json::Value> = alarm
        .dimensions
        .iter()
        .map(|d| (d.name.clone(), json!(d.value)))
        .collect();
    let mut configuration = json!({
        "metrics": [{
            "id": format!("{:08x}-0000-4000-8000-000000000000", alarm.name.len()),
            "metricStat": {
                "metric": { "namespace": alarm.namespace, "name": alarm.metric_name, "dimensions": dimensions },
                "period": alarm.period,
                "stat": alarm.statistic.as_str(),
            },
            "returnData": true,
        }],
    });
    if let Some(description) = &alarm.description {
        configuration["description"] = json!(description);
    }
    json!({
        "alarmName": transition.alarm,
        "configuration": configuration,
        "state": side(transition.state, &transition.reason, &transition.reason_data, transition.at),
        "previousState": side(
            transition.previous,
            &transition.previous_reason,
            &transition.previous_reason_data,
            transition.previous_at,
        ),
    })
}

/// How CloudWatch writes times in events and reason data: milliseconds and `+0000`, no colon.
fn event_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

// ---- State ----

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

    /// Re-evaluates every metric alarm as of `now` (see the module documentation); returns the transitions made.
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
    fn change_state(
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

/// The current time at the millisecond, the precision CloudWatch's timestamps carry.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

struct Decision {
    state: AlarmState,
    reason: String,
    reason_data: String,
}

/// One evaluation window: where it starts and what it aggregated to (`None`: no data).
struct Window {
    start: DateTime<Utc>,
    value: Option<(f64, f64)>,
}

/// Decides an alarm's state from the data, as of `now`; `None` means "leave it as it is".
fn evaluate(alarm: &Alarm, datums: &[Datum], now: DateTime<Utc>) -> Option<Decision> {
    let period = Duration::seconds(i64::from(alarm.period.max(1)));
    let periods = alarm.evaluation_periods.max(1);
    let needed = alarm.datapoints_to_alarm.unwrap_or(periods).clamp(1, periods);
    // Newest window first: (now - period, now], then the one before.
    let windows: Vec<Window> = (0..periods)
        .map(|i| {
            let end = now - period * i;
            let start = end - period;
            let set = datums
                .iter()
                .filter(|d| d.timestamp > start && d.timestamp <= end && alarm.watches(d))
                .filter_map(|d| d.value.summary())
                .reduce(StatisticSet::merge);
            Window {
                start,
                value: set.map(|s| (alarm.statistic.of(&s), s.sample_count)),
            }
        })
        .collect();
    let present: Vec<&Window> = windows.iter().filter(|w| w.value.is_some()).collect();
    let missing = windows.len() - present.len();
    let breaches = |w: &Window| {
        w.value
            .is_some_and(|(v, _)| alarm.comparison.breaches(v, alarm.threshold))
    };
    let mut breaching = present.iter().filter(|w| breaches(w)).count();
    if alarm.treat_missing_data == TreatMissingData::Breaching {
        breaching += missing;
    }

    let state = if breaching >= needed as usize {
        AlarmState::Alarm
    } else if present.is_empty() {
        match alarm.treat_missing_data {
            TreatMissingData::Missing => AlarmState::InsufficientData,
            TreatMissingData::Ignore => return None,
            TreatMissingData::Breaching | TreatMissingData::NotBreaching => AlarmState::Ok,
        }
    } else {
        AlarmState::Ok
    };

    let shown: Vec<String> = present
        .iter()
        .filter(|w| (state == AlarmState::Alarm) == breaches(w))
        .map(|w| {
            let (value, _) = w.value.unwrap_or_default();
            format!("{value:?} ({})", w.start.format("%d/%m/%y %H:%M:%S"))
        })
        .collect();
    let threshold = alarm.threshold;
    let phrase = alarm.comparison.phrase();
    let reason = match state {
        AlarmState::Alarm => format!(
            "Threshold Crossed: {breaching} out of the last {periods} datapoints [{}] was {phrase} the threshold \
             ({threshold:?}) (minimum {needed} datapoint{} for OK -> ALARM transition).",
            shown.join(", "),
            if needed == 1 { "" } else { "s" },
        ),
        AlarmState::Ok if shown.is_empty() => format!(
            "Threshold Crossed: no datapoints were received for {periods} period{} and {missing} missing \
             datapoint{} treated as {}.",
            if periods == 1 { "" } else { "s" },
            if missing == 1 { " was" } else { "s were" },
            alarm.treat_missing_data.as_str(),
        ),
        AlarmState::Ok => format!(
            "Threshold Crossed: {} datapoint{} [{}] was not {phrase} the threshold ({threshold:?}) \
             (minimum 1 datapoint for ALARM -> OK transition).",
            shown.len(),
            if shown.len() == 1 { "" } else { "s" },
            shown.join(", "),
        ),
        AlarmState::InsufficientData => format!(
            "Insufficient Data: {periods} datapoint{} unknown.",
            if periods == 1 { " was" } else { "s were" },
        ),
    };
    let stamp = event_time;
    let reason_data = json!({
        "version": "1.0",
        "queryDate": stamp(now),
        "startDate": stamp(now - period * periods),
        "statistic": alarm.statistic.as_str(),
        "period": alarm.period,
        "recentDatapoints": present.iter().filter_map(|w| w.value.map(|(v, _)| v)).collect::<Vec<f64>>(),
        "threshold": alarm.threshold,
        "evaluatedDatapoints": present.iter().filter_map(|w| w.value.map(|(value, samples)| json!({
            "timestamp": stamp(w.start),
            "sampleCount": samples,
            "value": value,
        }))).collect::<Vec<_>>(),
    });
    Some(Decision {
        state,
        reason,
        reason_data: reason_data.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "Hooks/Canary";

    fn canary_alarm() -> Alarm {
        Alarm::new("canary-failing", NS, "Success")
            .with_dimension("Canary", "home")
            .with_statistic(Statistic::Minimum)
            .with_threshold(ComparisonOperator::LessThanThreshold, 1.0)
            .with_evaluation(60, 1, 1)
    }

    fn success(value: f64) -> Datum {
        Datum::new(NS, "Success", value).with_dimension("Canary", "home")
    }

    #[test]
    fn a_failed_canary_run_fires_the_alarm_and_a_clean_period_clears_it() {
        let mut cw = CloudWatchState::default();
        cw.put_alarm(canary_alarm());
        cw.put_metric_data(vec![success(1.0)]);
        assert_eq!(cw.alarm("canary-failing").unwrap().state, AlarmState::Ok);
        cw.put_metric_data(vec![success(0.0)]);
        let alarm = cw.alarm("canary-failing").unwrap();
        assert_eq!(alarm.state, AlarmState::Alarm);
        assert!(
            alarm
                .state_reason
                .starts_with("Threshold Crossed: 1 out of the last 1 datapoints [0.0 (")
        );
        assert!(alarm.state_reason.contains("was less than the threshold (1.0)"));
        let data: serde_json::Value = serde_json::from_str(alarm.state_reason_data.as_deref().unwrap()).unwrap();
        assert_eq!(data["recentDatapoints"], json!([0.0]));

        // Later, a period that holds only passes brings it back.
        let later = now() + Duration::seconds(120);
        cw.put_metric_data(vec![success(1.0).at(later - Duration::seconds(1))]);
        let moved = cw.evaluate_alarms(later);
        assert_eq!(moved.len(), 1);
        assert_eq!((moved[0].previous, moved[0].state), (AlarmState::Alarm, AlarmState::Ok));
        let states: Vec<AlarmState> = cw.transitions().iter().map(|t| t.state).collect();
        assert_eq!(states, [AlarmState::Ok, AlarmState::Alarm, AlarmState::Ok]);
    }

    #[test]
    fn other_dimensions_and_units_do_not_count() {
        let mut cw = CloudWatchState::default();
        cw.put_alarm(canary_alarm().with_unit("Count"));
        cw.put_metric_data(vec![
            Datum::new(NS, "Success", 0.0).with_dimension("Canary", "other"),
            success(0.0).with_dimension("Extra", "x").with_unit("Count"),
            success(0.0).with_unit("Percent"),
        ]);
        assert_eq!(cw.alarm("canary-failing").unwrap().state, AlarmState::InsufficientData);
        assert!(cw.transitions().is_empty());
    }

    #[test]
    fn m_out_of_n_and_missing_data_treatments() {
        let start = now();
        let at = |s: i64| start + Duration::seconds(s);
        let alarm = Alarm::new("errors", "App", "Errors")
            .with_statistic(Statistic::Sum)
            .with_threshold(ComparisonOperator::GreaterThanOrEqualToThreshold, 5.0)
            .with_evaluation(60, 3, 2);
        let mut cw = CloudWatchState::default();
        cw.put_alarm(alarm.clone());
        cw.put_metric_data(vec![
            Datum::new("App", "Errors", 7.0).at(at(-150)),
            Datum::new("App", "Errors", 1.0).at(at(-90)),
            Datum::new("App", "Errors", 2.0).at(at(-10)),
            Datum::new("App", "Errors", 3.0).at(at(-5)),
        ]);
        // Windows (newest first): 5 (breach), 1, 7 (breach) -> 2 of 3.
        cw.evaluate_alarms(start);
        assert_eq!(cw.alarm("errors").unwrap().state, AlarmState::Alarm);

        // Nothing in the last three minutes: missing -> INSUFFICIENT_DATA, ignore -> unchanged,
        // breaching -> ALARM, notBreaching -> OK.
        let quiet = at(600);
        for (treatment, expected) in [
            (TreatMissingData::Missing, AlarmState::InsufficientData),
            (TreatMissingData::Ignore, AlarmState::Ok),
            (TreatMissingData::Breaching, AlarmState::Alarm),
            (TreatMissingData::NotBreaching, AlarmState::Ok),
        ] {
            cw.put_alarm(alarm.clone().with_treat_missing_data(treatment));
            cw.set_alarm_state("errors", AlarmState::Ok, "reset").unwrap();
            cw.evaluate_alarms(quiet);
            assert_eq!(cw.alarm("errors").unwrap().state, expected, "{treatment:?}");
        }
    }

    #[test]
    fn backdated_states_keep_their_time() {
        let mut cw = CloudWatchState::default();
        cw.put_alarm(canary_alarm());
        let two_hours_ago = now() - Duration::hours(2);
        cw.set_alarm_state_at("canary-failing", AlarmState::Ok, "baked", two_hours_ago)
            .unwrap();
        let alarm = cw.alarm("canary-failing").unwrap();
        assert_eq!(
            (alarm.state_updated, alarm.state_transitioned),
            (two_hours_ago, two_hours_ago)
        );
        assert!(cw.set_alarm_state("missing", AlarmState::Ok, "x").is_none());
    }

    #[test]
    fn transitions_carry_what_the_eventbridge_event_needs() {
        let mut cw = CloudWatchState::default();
        cw.put_alarm(canary_alarm().with_description("Canary failing"));
        let ok_since = now() - Duration::minutes(30);
        cw.set_alarm_state_at("canary-failing", AlarmState::Ok, "all good", ok_since)
            .unwrap();
        cw.put_metric_data(vec![success(0.0)]);
        let transition = cw.transitions().last().unwrap().clone();
        assert_eq!(
            (transition.previous, transition.state),
            (AlarmState::Ok, AlarmState::Alarm)
        );
        assert_eq!(transition.previous_at, ok_since);

        let detail = state_change_detail(cw.alarm("canary-failing").unwrap(), &transition);
        assert_eq!(detail["alarmName"], "canary-failing");
        assert_eq!(detail["configuration"]["description"], "Canary failing");
        let stat = &detail["configuration"]["metrics"][0]["metricStat"];
        assert_eq!(stat["metric"]["dimensions"], json!({ "Canary": "home" }));
        assert_eq!(
            (&stat["metric"]["name"], &stat["stat"], &stat["period"]),
            (&json!("Success"), &json!("Minimum"), &json!(60))
        );
        assert_eq!(detail["state"]["value"], "ALARM");
        assert!(detail["state"]["reasonData"].as_str().unwrap().starts_with('{'));
        assert_eq!(detail["previousState"]["value"], "OK");
        assert_eq!(detail["previousState"]["reason"], "all good");
        assert!(detail["previousState"].get("reasonData").is_none());
        let stamp = detail["previousState"]["timestamp"].as_str().unwrap();
        assert_eq!(stamp, ok_since.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string());
        assert!(stamp.ends_with("+0000") && stamp.len() == 28, "{stamp}");
    }

    #[test]
    fn values_and_statistic_sets_summarise() {
        let values = MetricValue::Values {
            values: vec![1.0, 3.0],
            counts: vec![2.0, 1.0],
        };
        let set = values.summary().unwrap();
        assert_eq!(
            (set.sample_count, set.sum, set.minimum, set.maximum),
            (3.0, 5.0, 1.0, 3.0)
        );
        assert_eq!(Statistic::Average.of(&set), 5.0 / 3.0);
    }
}
