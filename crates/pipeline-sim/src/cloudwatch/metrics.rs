//! Metric data as CloudWatch stores it: a [`Datum`] per value received (namespace, name, dimensions, time,
//! unit), what it carries ([`MetricValue`]: one value, a value list with counts, or a pre-aggregated
//! [`StatisticSet`]), and how a datum is matched to a metric. Plain data, shared by the store, alarm evaluation
//! and the `PutMetricData`/`GetMetricData` operations.

use chrono::{DateTime, Utc};

use super::now;

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
    pub(super) fn merge(self, other: StatisticSet) -> StatisticSet {
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
