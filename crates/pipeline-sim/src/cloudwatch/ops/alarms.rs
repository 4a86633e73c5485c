//! The alarm operations: `DescribeAlarms` (filters, paging with opaque tokens, metric alarms in the SDK's
//! shape) and `SetAlarmState` (sets a state until the next evaluation, as in AWS).

use super::Answer;
use crate::cloudwatch::cbor::Cbor;
use crate::cloudwatch::error::CloudWatchError;
use crate::cloudwatch::members::{check_length_validation, integer, list, required, text};
use crate::cloudwatch::{Alarm, AlarmState, CloudWatchState, Dimension, now};
use crate::paging::{decode_token, encode_token};

// ---- DescribeAlarms ----

const DEFAULT_MAX_RECORDS: i64 = 50;

pub(super) fn describe_alarms(cloudwatch: &CloudWatchState, request: &Cbor) -> Answer {
    let names: Option<Vec<&str>> = match request.get("AlarmNames") {
        None => None,
        Some(value) => {
            let items = list(value, "AlarmNames")?;
            if items.len() > 100 {
                return Err(CloudWatchError::validation(
                    "The collection AlarmNames must not have a size greater than 100.",
                ));
            }
            let names = items
                .iter()
                .map(|n| {
                    let name = text(n, "AlarmNames.member")?;
                    check_length_validation(name, "AlarmNames.member", 1, 255)?;
                    Ok(name)
                })
                .collect::<Result<Vec<&str>, CloudWatchError>>()?;
            Some(names)
        }
    };
    let prefix = match request.get("AlarmNamePrefix") {
        None => None,
        Some(value) => {
            let prefix = text(value, "AlarmNamePrefix")?;
            check_length_validation(prefix, "AlarmNamePrefix", 1, 255)?;
            Some(prefix)
        }
    };
    if names.as_ref().is_some_and(|n| !n.is_empty()) && prefix.is_some() {
        return Err(CloudWatchError::combination(
            "The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.",
        ));
    }
    let (metric_alarms, composite_alarms) = match request.get("AlarmTypes") {
        None => (true, false),
        Some(value) => {
            let mut types = (false, false);
            for t in list(value, "AlarmTypes")? {
                match text(t, "AlarmTypes.member")? {
                    "MetricAlarm" => types.0 = true,
                    "CompositeAlarm" => types.1 = true,
                    other => {
                        return Err(CloudWatchError::validation(format!(
                            "1 validation error detected: Value '{other}' at 'alarmTypes' failed to satisfy \
                             constraint: Member must satisfy enum value set: [CompositeAlarm, MetricAlarm]"
                        )));
                    }
                }
            }
            if types == (false, false) { (true, false) } else { types }
        }
    };
    let state = match request.get("StateValue") {
        None => None,
        Some(value) => {
            let name = text(value, "StateValue")?;
            Some(AlarmState::parse(name).ok_or_else(|| {
                CloudWatchError::validation(format!(
                    "1 validation error detected: Value '{name}' at 'stateValue' failed to satisfy constraint: \
                     Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
                ))
            })?)
        }
    };
    let action_prefix = match request.get("ActionPrefix") {
        None => None,
        Some(value) => {
            let prefix = text(value, "ActionPrefix")?;
            check_length_validation(prefix, "ActionPrefix", 1, 1024)?;
            Some(prefix)
        }
    };
    // Children and parents relate composite alarms, which the simulator does not keep: such a query
    // matches no metric alarm.
    let related_only = request.get("ChildrenOfAlarmName").is_some() || request.get("ParentsOfAlarmName").is_some();
    let max_records = match request.get("MaxRecords") {
        None => DEFAULT_MAX_RECORDS,
        Some(value) => match integer(value, "MaxRecords")? {
            n @ 1..=100 => n,
            n => {
                return Err(CloudWatchError::validation(format!(
                    "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: \
                     Member must have value between 1 and 100"
                )));
            }
        },
    } as usize;

    // The token names the query it belongs to and the last alarm handed out, so a page stays put while
    // alarms are added or removed elsewhere in the list.
    let scope = format!(
        "DescribeAlarms|{names:?}|{prefix:?}|{metric_alarms}|{composite_alarms}|{state:?}|{action_prefix:?}|{related_only}"
    );
    let after = match request.get("NextToken") {
        None => None,
        Some(value) => {
            let token = text(value, "NextToken")?;
            Some(decode_token(token, &scope).ok_or_else(CloudWatchError::invalid_next_token)?)
        }
    };

    let matching: Vec<&Alarm> = if metric_alarms && !related_only {
        cloudwatch
            .alarms()
            .filter(|a| {
                names
                    .as_ref()
                    .is_none_or(|n| n.is_empty() || n.contains(&a.name.as_str()))
            })
            .filter(|a| prefix.is_none_or(|p| a.name.starts_with(p)))
            .filter(|a| state.is_none_or(|s| a.state == s))
            .filter(|a| {
                action_prefix.is_none_or(|p| {
                    a.alarm_actions
                        .iter()
                        .chain(&a.ok_actions)
                        .chain(&a.insufficient_data_actions)
                        .any(|action| action.starts_with(p))
                })
            })
            .filter(|a| after.as_deref().is_none_or(|last| a.name.as_str() > last))
            .collect()
    } else {
        Vec::new()
    };
    let next_token = (matching.len() > max_records).then(|| encode_token(&scope, &matching[max_records - 1].name));
    let page = &matching[..matching.len().min(max_records)];

    Ok(Some(Cbor::map([
        (
            "MetricAlarms",
            if metric_alarms {
                Cbor::list(page.iter().copied(), metric_alarm)
            } else {
                Cbor::Null
            },
        ),
        (
            "CompositeAlarms",
            if composite_alarms {
                Cbor::Array(Vec::new())
            } else {
                Cbor::Null
            },
        ),
        ("NextToken", Cbor::opt_text(next_token.as_deref())),
    ])))
}

fn metric_alarm(alarm: &Alarm) -> Cbor {
    let strings = |items: &[String]| Cbor::list(items.iter(), |s| Cbor::text(s.clone()));
    Cbor::map([
        ("AlarmName", Cbor::text(alarm.name.clone())),
        ("AlarmArn", Cbor::text(alarm.arn.clone())),
        ("AlarmDescription", Cbor::opt_text(alarm.description.as_deref())),
        (
            "AlarmConfigurationUpdatedTimestamp",
            Cbor::timestamp(alarm.configuration_updated),
        ),
        ("ActionsEnabled", Cbor::Bool(alarm.actions_enabled)),
        ("OKActions", strings(&alarm.ok_actions)),
        ("AlarmActions", strings(&alarm.alarm_actions)),
        ("InsufficientDataActions", strings(&alarm.insufficient_data_actions)),
        ("StateValue", Cbor::text(alarm.state.as_str())),
        ("StateReason", Cbor::text(alarm.state_reason.clone())),
        ("StateReasonData", Cbor::opt_text(alarm.state_reason_data.as_deref())),
        ("StateUpdatedTimestamp", Cbor::timestamp(alarm.state_updated)),
        ("MetricName", Cbor::text(alarm.metric_name.clone())),
        ("Namespace", Cbor::text(alarm.namespace.clone())),
        ("Statistic", Cbor::text(alarm.statistic.as_str())),
        ("Dimensions", Cbor::list(&alarm.dimensions, dimension)),
        ("Period", Cbor::Int(i128::from(alarm.period))),
        ("Unit", Cbor::opt_text(alarm.unit.as_deref())),
        ("EvaluationPeriods", Cbor::Int(i128::from(alarm.evaluation_periods))),
        (
            "DatapointsToAlarm",
            alarm
                .datapoints_to_alarm
                .map_or(Cbor::Null, |n| Cbor::Int(i128::from(n))),
        ),
        ("Threshold", Cbor::Float(alarm.threshold)),
        ("ComparisonOperator", Cbor::text(alarm.comparison.as_str())),
        ("TreatMissingData", Cbor::text(alarm.treat_missing_data.as_str())),
        ("StateTransitionedTimestamp", Cbor::timestamp(alarm.state_transitioned)),
    ])
}

fn dimension(dimension: &Dimension) -> Cbor {
    Cbor::map([
        ("Name", Cbor::text(dimension.name.clone())),
        ("Value", Cbor::text(dimension.value.clone())),
    ])
}

// ---- SetAlarmState ----

pub(super) fn set_alarm_state(cloudwatch: &mut CloudWatchState, request: &Cbor) -> Answer {
    let name = text(required(request, "", "AlarmName")?, "AlarmName")?;
    check_length_validation(name, "AlarmName", 1, 255)?;
    let state_name = text(required(request, "", "StateValue")?, "StateValue")?;
    let state = AlarmState::parse(state_name).ok_or_else(|| {
        CloudWatchError::validation(format!(
            "1 validation error detected: Value '{state_name}' at 'stateValue' failed to satisfy constraint: \
             Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
        ))
    })?;
    let reason = text(required(request, "", "StateReason")?, "StateReason")?;
    check_length_validation(reason, "StateReason", 0, 1023)?;
    let reason_data = match request.get("StateReasonData") {
        None => None,
        Some(value) => {
            let data = text(value, "StateReasonData")?;
            check_length_validation(data, "StateReasonData", 0, 4000)?;
            if let Err(e) = serde_json::from_str::<serde_json::Value>(data) {
                return Err(CloudWatchError::invalid_format(format!(
                    "StateReasonData is not valid JSON: {e}"
                )));
            }
            Some(data.to_owned())
        }
    };
    // AWS: the reason and update time always change; the transition time only with the state value.
    cloudwatch
        .change_state(name, state, reason, reason_data, now(), false)
        .ok_or_else(|| CloudWatchError::not_found(format!("Alarm {name} not found")))?;
    Ok(None)
}
