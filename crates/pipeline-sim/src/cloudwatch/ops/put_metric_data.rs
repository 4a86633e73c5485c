//! `PutMetricData`: validates every datum (of `MetricData` and of each `EntityMetricData` entry) as CloudWatch
//! does (names, dimensions, time window, value kinds, units, storage resolution) and stores them, which
//! re-evaluates the alarms watching those metrics.

use chrono::{DateTime, Duration, Utc};

use super::Answer;
use crate::cloudwatch::cbor::Cbor;
use crate::cloudwatch::error::CloudWatchError;
use crate::cloudwatch::members::{check_length, integer, join, list, number, required, text, timestamp};
use crate::cloudwatch::{CloudWatchState, Datum, Dimension, MetricValue, StatisticSet, now};

const STANDARD_UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// CloudWatch accepts values of magnitude up to 2^360 and no NaN or infinities.
fn check_value(value: f64, path: &str) -> Result<f64, CloudWatchError> {
    if value.is_finite() && value.abs() <= 2f64.powi(360) {
        Ok(value)
    } else {
        Err(CloudWatchError::invalid_value(format!(
            "The value {value} for parameter {path} is invalid."
        )))
    }
}

pub(super) fn put_metric_data(cloudwatch: &mut CloudWatchState, request: &Cbor) -> Answer {
    let namespace = text(required(request, "", "Namespace")?, "Namespace")?;
    check_length(namespace, "Namespace", 1, 255)?;
    if namespace.starts_with("AWS/") || namespace.starts_with(':') {
        return Err(CloudWatchError::invalid_value(format!(
            "The value {namespace} for parameter Namespace is invalid: namespaces starting with \"AWS/\" are \
             reserved for AWS services."
        )));
    }
    // `MetricData`, then the datums of every `EntityMetricData` entry (the entity itself is not kept).
    let mut data: Vec<(String, &Cbor)> = Vec::new();
    if let Some(items) = request.get("MetricData") {
        for (i, item) in list(items, "MetricData")?.iter().enumerate() {
            data.push((format!("MetricData.member.{}", i + 1), item));
        }
    }
    if let Some(entities) = request.get("EntityMetricData") {
        for (e, entity) in list(entities, "EntityMetricData")?.iter().enumerate() {
            let path = format!("EntityMetricData.member.{}.MetricData", e + 1);
            if let Some(items) = entity.get("MetricData") {
                for (i, item) in list(items, &path)?.iter().enumerate() {
                    data.push((format!("{path}.member.{}", i + 1), item));
                }
            }
        }
    }
    if data.is_empty() {
        return Err(CloudWatchError::missing("MetricData"));
    }
    if data.len() > 1000 {
        return Err(CloudWatchError::invalid_value(
            "The collection MetricData must not have a size greater than 1000.",
        ));
    }
    let received = now();
    let datums = data
        .iter()
        .map(|(path, item)| read_datum(namespace, item, path, received))
        .collect::<Result<Vec<Datum>, CloudWatchError>>()?;
    cloudwatch.put_metric_data(datums);
    Ok(None)
}

fn read_datum(namespace: &str, item: &Cbor, path: &str, received: DateTime<Utc>) -> Result<Datum, CloudWatchError> {
    if !matches!(item, Cbor::Map(_)) {
        return Err(CloudWatchError::serialization(format!("{path} must be a structure")));
    }
    let metric_name = text(required(item, path, "MetricName")?, &join(path, "MetricName"))?;
    check_length(metric_name, &join(path, "MetricName"), 1, 255)?;
    let dimensions = read_dimensions(item.get("Dimensions"), &join(path, "Dimensions"))?;

    let timestamp = match item.get("Timestamp") {
        None => received,
        Some(value) => {
            let member = join(path, "Timestamp");
            let at = timestamp(value, &member)?;
            if at < received - Duration::days(14) {
                return Err(CloudWatchError::invalid_value(format!(
                    "The parameter {member} must specify a time no more than two weeks in the past."
                )));
            }
            if at > received + Duration::hours(2) {
                return Err(CloudWatchError::invalid_value(format!(
                    "The parameter {member} must specify a time no more than two hours in the future."
                )));
            }
            at
        }
    };

    let given: Vec<&str> = ["Value", "Values", "StatisticValues"]
        .into_iter()
        .filter(|m| item.get(m).is_some())
        .collect();
    if let [first, second, ..] = given[..] {
        return Err(CloudWatchError::combination(format!(
            "The parameters {path}.{first} and {path}.{second} are mutually exclusive and you have specified both."
        )));
    }
    if item.get("Counts").is_some() && item.get("Values").is_none() {
        return Err(CloudWatchError::combination(format!(
            "The parameter {path}.Counts may only be specified together with {path}.Values."
        )));
    }
    let value = match given.first().copied() {
        Some("Value") => {
            let member = join(path, "Value");
            MetricValue::Value(check_value(number(required(item, path, "Value")?, &member)?, &member)?)
        }
        Some("Values") => read_values(item, path)?,
        Some(_) => MetricValue::StatisticSet(read_statistic_set(item, path)?),
        None => return Err(CloudWatchError::missing(&join(path, "Value"))),
    };

    let unit = match item.get("Unit") {
        None => None,
        Some(unit) => {
            let member = join(path, "Unit");
            let unit = text(unit, &member)?;
            if !STANDARD_UNITS.contains(&unit) {
                return Err(CloudWatchError::invalid_value(format!(
                    "The value {unit} for parameter {member} is invalid."
                )));
            }
            Some(unit.to_owned())
        }
    };
    let storage_resolution = match item.get("StorageResolution") {
        None => 60,
        Some(value) => match integer(value, &join(path, "StorageResolution"))? {
            n @ (1 | 60) => n as i32,
            n => {
                return Err(CloudWatchError::invalid_value(format!(
                    "The value {n} for parameter {path}.StorageResolution is invalid: it must be 1 or 60."
                )));
            }
        },
    };
    Ok(Datum {
        namespace: namespace.to_owned(),
        metric_name: metric_name.to_owned(),
        dimensions,
        timestamp,
        value,
        unit,
        storage_resolution,
    })
}

pub(super) fn read_dimensions(value: Option<&Cbor>, path: &str) -> Result<Vec<Dimension>, CloudWatchError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let items = list(value, path)?;
    if items.len() > 30 {
        return Err(CloudWatchError::invalid_value(format!(
            "The collection {path} must not have a size greater than 30."
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let member = format!("{path}.member.{}", i + 1);
            let name = text(required(item, &member, "Name")?, &join(&member, "Name"))?;
            check_length(name, &join(&member, "Name"), 1, 255)?;
            let value = text(required(item, &member, "Value")?, &join(&member, "Value"))?;
            check_length(value, &join(&member, "Value"), 1, 1024)?;
            Ok(Dimension::new(name, value))
        })
        .collect()
}

fn read_values(item: &Cbor, path: &str) -> Result<MetricValue, CloudWatchError> {
    let member = join(path, "Values");
    let values = list(required(item, path, "Values")?, &member)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let at = format!("{member}.member.{}", i + 1);
            check_value(number(v, &at)?, &at)
        })
        .collect::<Result<Vec<f64>, CloudWatchError>>()?;
    if values.len() > 150 {
        return Err(CloudWatchError::invalid_value(format!(
            "The collection {member} must not have a size greater than 150."
        )));
    }
    let counts = match item.get("Counts") {
        None => vec![1.0; values.len()],
        Some(counts) => {
            let counts_path = join(path, "Counts");
            let counts = list(counts, &counts_path)?
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let at = format!("{counts_path}.member.{}", i + 1);
                    let count = number(c, &at)?;
                    if count.is_finite() && count >= 0.0 {
                        Ok(count)
                    } else {
                        Err(CloudWatchError::invalid_value(format!(
                            "The value {count} for parameter {at} is invalid."
                        )))
                    }
                })
                .collect::<Result<Vec<f64>, CloudWatchError>>()?;
            if counts.len() != values.len() {
                return Err(CloudWatchError::invalid_value(format!(
                    "The parameters {member} and {counts_path} must be of the same size."
                )));
            }
            counts
        }
    };
    Ok(MetricValue::Values { values, counts })
}

fn read_statistic_set(item: &Cbor, path: &str) -> Result<StatisticSet, CloudWatchError> {
    let set_path = join(path, "StatisticValues");
    let set = required(item, path, "StatisticValues")?;
    let member = |name: &str| -> Result<f64, CloudWatchError> {
        let at = join(&set_path, name);
        check_value(number(required(set, &set_path, name)?, &at)?, &at)
    };
    let set = StatisticSet {
        sample_count: member("SampleCount")?,
        sum: member("Sum")?,
        minimum: member("Minimum")?,
        maximum: member("Maximum")?,
    };
    if set.sample_count <= 0.0 {
        return Err(CloudWatchError::invalid_value(format!(
            "The value {} for parameter {set_path}.SampleCount is invalid: it must be greater than 0.",
            set.sample_count
        )));
    }
    if set.minimum > set.maximum {
        return Err(CloudWatchError::invalid_value(format!(
            "The parameter {set_path}.Maximum must be greater than or equal to {set_path}.Minimum."
        )));
    }
    Ok(set)
}
