//! `GetMetricData`: answers metric queries (`MetricStat`) from the stored data, aggregated per period aligned to
//! the epoch, in either time order and in pages of `MaxDatapoints` points; metric-math expressions and
//! statistics the simulator does not compute get a result whose status and message say so.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Answer;
use super::put_metric_data::read_dimensions;
use crate::cloudwatch::cbor::Cbor;
use crate::cloudwatch::error::CloudWatchError;
use crate::cloudwatch::members::{boolean, integer, join, list, required, text, timestamp};
use crate::cloudwatch::{CloudWatchState, Statistic, StatisticSet};
use crate::paging::{decode_token, encode_token};

const DEFAULT_MAX_DATAPOINTS: i64 = 100_800;

/// One query's answer before paging: (timestamp, value) in the order asked for, or why there are none.
struct QueryResult {
    id: String,
    label: String,
    points: Vec<(DateTime<Utc>, f64)>,
    unsupported: Option<String>,
}

pub(super) fn get_metric_data(cloudwatch: &CloudWatchState, request: &Cbor) -> Answer {
    let queries = list(required(request, "", "MetricDataQueries")?, "MetricDataQueries")?;
    if queries.is_empty() || queries.len() > 500 {
        return Err(CloudWatchError::validation(
            "The collection MetricDataQueries must have between 1 and 500 members.",
        ));
    }
    let start = timestamp(required(request, "", "StartTime")?, "StartTime")?;
    let end = timestamp(required(request, "", "EndTime")?, "EndTime")?;
    if start >= end {
        return Err(CloudWatchError::validation(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let ascending = match request.get("ScanBy") {
        None => false,
        Some(value) => match text(value, "ScanBy")? {
            "TimestampDescending" => false,
            "TimestampAscending" => true,
            other => {
                return Err(CloudWatchError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'scanBy' failed to satisfy constraint: \
                     Member must satisfy enum value set: [TimestampDescending, TimestampAscending]"
                )));
            }
        },
    };
    let max_datapoints = match request.get("MaxDatapoints") {
        None => DEFAULT_MAX_DATAPOINTS,
        Some(value) => match integer(value, "MaxDatapoints")? {
            n if n >= 1 => n,
            n => {
                return Err(CloudWatchError::validation(format!(
                    "The value {n} for parameter MaxDatapoints is invalid: it must be at least 1."
                )));
            }
        },
    } as usize;

    let mut results = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for (i, query) in queries.iter().enumerate() {
        let path = format!("MetricDataQueries.member.{}", i + 1);
        let id = text(required(query, &path, "Id")?, &join(&path, "Id"))?;
        let valid_id = id.len() <= 255
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_id {
            return Err(CloudWatchError::validation(format!(
                "The value {id} for parameter {path}.Id is invalid: it must start with a lowercase letter and \
                 contain only letters, numbers and underscores."
            )));
        }
        if ids.contains(&id) {
            return Err(CloudWatchError::validation(format!(
                "The values of MetricDataQueries Id must be unique; {id} is used more than once."
            )));
        }
        ids.push(id);
        let return_data = match query.get("ReturnData") {
            None => true,
            Some(value) => boolean(value, &join(&path, "ReturnData"))?,
        };
        let label = match query.get("Label") {
            None => None,
            Some(value) => Some(text(value, &join(&path, "Label"))?.to_owned()),
        };
        let result = match (query.get("MetricStat"), query.get("Expression")) {
            (Some(stat), None) => metric_stat(cloudwatch, stat, &join(&path, "MetricStat"), id, label, start, end)?,
            (None, Some(expression)) => QueryResult {
                id: id.to_owned(),
                label: label.unwrap_or_else(|| id.to_owned()),
                points: Vec::new(),
                unsupported: Some(format!(
                    "the simulator does not evaluate metric math expressions ({})",
                    text(expression, &join(&path, "Expression"))?
                )),
            },
            _ => {
                return Err(CloudWatchError::validation(format!(
                    "Exactly one of {path}.MetricStat and {path}.Expression must be specified."
                )));
            }
        };
        if return_data {
            results.push(result);
        }
    }
    for result in &mut results {
        if ascending {
            result.points.sort_by_key(|(at, _)| *at);
        } else {
            result.points.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        }
    }

    // Pages of at most MaxDatapoints points across the results; the token holds the query and the offset.
    let query_members = match request {
        Cbor::Map(members) => members
            .iter()
            .filter(|(key, _)| key != "NextToken" && key != "MaxDatapoints")
            .collect(),
        _ => Vec::new(),
    };
    let scope = format!("GetMetricData|{query_members:?}");
    let offset = match request.get("NextToken") {
        None => 0,
        Some(value) => decode_token(text(value, "NextToken")?, &scope)
            .and_then(|cursor| cursor.parse::<usize>().ok())
            .ok_or_else(CloudWatchError::invalid_next_token)?,
    };
    let total: usize = results.iter().map(|r| r.points.len()).sum();
    if offset > total {
        return Err(CloudWatchError::invalid_next_token());
    }
    let page_end = (offset + max_datapoints).min(total);
    let mut seen = 0;
    let answers: Vec<Cbor> = results
        .iter()
        .map(|result| {
            let from = offset.saturating_sub(seen).min(result.points.len());
            let to = page_end.saturating_sub(seen).min(result.points.len());
            seen += result.points.len();
            let points = &result.points[from..to];
            let status = match (&result.unsupported, to < result.points.len()) {
                (Some(_), _) => "InternalError",
                (None, true) => "PartialData",
                (None, false) => "Complete",
            };
            Cbor::map([
                ("Id", Cbor::text(result.id.clone())),
                ("Label", Cbor::text(result.label.clone())),
                ("Timestamps", Cbor::list(points, |(at, _)| Cbor::timestamp(*at))),
                ("Values", Cbor::list(points, |(_, v)| Cbor::Float(*v))),
                ("StatusCode", Cbor::text(status)),
                (
                    "Messages",
                    match &result.unsupported {
                        Some(message) => Cbor::Array(vec![Cbor::map([
                            ("Code", Cbor::text("Unsupported")),
                            ("Value", Cbor::text(message.clone())),
                        ])]),
                        None => Cbor::Null,
                    },
                ),
            ])
        })
        .collect();
    let next_token = (page_end < total).then(|| encode_token(&scope, &page_end.to_string()));
    Ok(Some(Cbor::map([
        ("MetricDataResults", Cbor::Array(answers)),
        ("NextToken", Cbor::opt_text(next_token.as_deref())),
        ("Messages", Cbor::Array(Vec::new())),
    ])))
}

fn metric_stat(
    cloudwatch: &CloudWatchState,
    stat: &Cbor,
    path: &str,
    id: &str,
    label: Option<String>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<QueryResult, CloudWatchError> {
    let metric_path = join(path, "Metric");
    let metric = required(stat, path, "Metric")?;
    let namespace = text(
        required(metric, &metric_path, "Namespace")?,
        &join(&metric_path, "Namespace"),
    )?;
    let metric_name = text(
        required(metric, &metric_path, "MetricName")?,
        &join(&metric_path, "MetricName"),
    )?;
    let dimensions = read_dimensions(metric.get("Dimensions"), &join(&metric_path, "Dimensions"))
        .map_err(|e| CloudWatchError::validation(e.message))?;
    let period = integer(required(stat, path, "Period")?, &join(path, "Period"))?;
    if !(matches!(period, 1 | 5 | 10 | 30) || (period >= 60 && period % 60 == 0)) {
        return Err(CloudWatchError::validation(format!(
            "The value {period} for parameter {path}.Period is invalid: it must be 1, 5, 10, 30 or a multiple of 60."
        )));
    }
    let stat_name = text(required(stat, path, "Stat")?, &join(path, "Stat"))?;
    let unit = match stat.get("Unit") {
        None => None,
        Some(value) => Some(text(value, &join(path, "Unit"))?),
    };
    let label = label.unwrap_or_else(|| metric_name.to_owned());
    let Some(statistic) = Statistic::parse(stat_name) else {
        return Ok(QueryResult {
            id: id.to_owned(),
            label,
            points: Vec::new(),
            unsupported: Some(format!("the simulator does not compute the statistic {stat_name}")),
        });
    };
    // Periods aligned to the epoch, as CloudWatch aligns them.
    let mut buckets: BTreeMap<i64, StatisticSet> = BTreeMap::new();
    for datum in cloudwatch.datums() {
        let in_range = datum.timestamp >= start && datum.timestamp < end;
        let unit_matches = unit.is_none_or(|u| datum.unit.as_deref().unwrap_or("None") == u);
        if in_range && unit_matches && datum.is_metric(namespace, metric_name, &dimensions) {
            let Some(set) = datum.value.summary() else { continue };
            let bucket = datum.timestamp.timestamp().div_euclid(period) * period;
            buckets
                .entry(bucket)
                .and_modify(|total| *total = total.merge(set))
                .or_insert(set);
        }
    }
    let points = buckets
        .into_iter()
        .filter_map(|(bucket, set)| Some((DateTime::from_timestamp(bucket, 0)?, statistic.of(&set))))
        .collect();
    Ok(QueryResult {
        id: id.to_owned(),
        label,
        points,
        unsupported: None,
    })
}
