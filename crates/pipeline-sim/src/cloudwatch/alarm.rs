//! Metric alarms: the [`Alarm`] definition with its state and builder methods, and the enums it is made of
//! ([`AlarmState`], [`ComparisonOperator`], [`Statistic`], [`TreatMissingData`]) with their API names. What an
//! alarm decides is in `evaluate`; where alarms are kept, in `state`.

use chrono::{DateTime, Utc};

use super::metrics::{Datum, Dimension, StatisticSet};
use super::now;
use crate::{ACCOUNT, REGION};

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
    pub(super) fn phrase(self) -> &'static str {
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

/// A metric alarm. Build one with [`Alarm::new`] and the `with_*` methods, then
/// [`CloudWatchState::put_alarm`](super::CloudWatchState::put_alarm).
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

    pub(super) fn watches(&self, datum: &Datum) -> bool {
        datum.is_metric(&self.namespace, &self.metric_name, &self.dimensions)
            && self
                .unit
                .as_deref()
                .is_none_or(|unit| datum.unit.as_deref().unwrap_or("None") == unit)
    }
}
