//! The facts: each watched alarm's state and since when, from CloudWatch `DescribeAlarms`.

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{AlarmType, StateValue};
use chrono::{DateTime, Utc};
use hooks_common::aws::render_sdk_error;

use crate::settings::AlarmSelector;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmFact {
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
    /// When the alarm last changed state (CloudWatch's `StateTransitionedTimestamp`).
    pub since: DateTime<Utc>,
}

/// What `DescribeAlarms` answered: the alarms found, and the requested names that do not exist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlarmReport {
    pub alarms: Vec<AlarmFact>,
    pub missing: Vec<String>,
    /// Set when a prefix was asked for and matched nothing.
    pub empty_prefix: Option<String>,
}

const NAMES_PER_CALL: usize = 100;
const MAX_PAGES: usize = 20;

fn fact(
    name: Option<&str>,
    state: Option<&StateValue>,
    reason: Option<&str>,
    transitioned: Option<&aws_sdk_cloudwatch::primitives::DateTime>,
    updated: Option<&aws_sdk_cloudwatch::primitives::DateTime>,
) -> Result<AlarmFact, String> {
    let name = name
        .ok_or("DescribeAlarms returned an alarm without a name")?
        .to_owned();
    let state = match state {
        Some(StateValue::Ok) => AlarmState::Ok,
        Some(StateValue::Alarm) => AlarmState::Alarm,
        Some(StateValue::InsufficientData) => AlarmState::InsufficientData,
        other => return Err(format!("alarm {name} has an unknown state {other:?}")),
    };
    let since = transitioned
        .or(updated)
        .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        .ok_or_else(|| format!("alarm {name} has no state timestamp"))?;
    Ok(AlarmFact {
        name,
        state,
        reason: reason.unwrap_or_default().to_owned(),
        since,
    })
}

async fn page_through(client: &Client, names: &[String], prefix: Option<&str>) -> Result<Vec<AlarmFact>, String> {
    let mut found = Vec::new();
    let mut next_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let output = client
            .describe_alarms()
            .set_alarm_names((!names.is_empty()).then(|| names.to_vec()))
            .set_alarm_name_prefix(prefix.map(str::to_owned))
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| format!("CloudWatch {}", render_sdk_error("DescribeAlarms", &e)))?;
        for alarm in output.metric_alarms() {
            found.push(fact(
                alarm.alarm_name(),
                alarm.state_value(),
                alarm.state_reason(),
                alarm.state_transitioned_timestamp(),
                alarm.state_updated_timestamp(),
            )?);
        }
        for alarm in output.composite_alarms() {
            found.push(fact(
                alarm.alarm_name(),
                alarm.state_value(),
                alarm.state_reason(),
                alarm.state_transitioned_timestamp(),
                alarm.state_updated_timestamp(),
            )?);
        }
        match output.next_token() {
            Some(token) => next_token = Some(token.to_owned()),
            None => return Ok(found),
        }
    }
    Err(format!(
        "DescribeAlarms returned more than {MAX_PAGES} pages; narrow the alarm prefix"
    ))
}

/// Reads every selected alarm. Names and a prefix cannot share one call, so they are asked separately.
pub async fn describe(client: &Client, selector: &AlarmSelector) -> Result<AlarmReport, String> {
    let mut report = AlarmReport::default();
    for chunk in selector.names.chunks(NAMES_PER_CALL) {
        let found = page_through(client, chunk, None).await?;
        report.missing.extend(
            chunk
                .iter()
                .filter(|name| !found.iter().any(|a| &a.name == *name))
                .cloned(),
        );
        report.alarms.extend(found);
    }
    if let Some(prefix) = &selector.prefix {
        let found = page_through(client, &[], Some(prefix)).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
    use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
    use aws_sdk_cloudwatch::types::MetricAlarm;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn alarm(name: &str, state: StateValue) -> MetricAlarm {
        MetricAlarm::builder()
            .alarm_name(name)
            .state_value(state)
            .state_reason("Threshold Crossed")
            .state_transitioned_timestamp(AwsTime::from_secs(1_800_000_000))
            .build()
    }

    #[tokio::test]
    async fn names_and_prefix_are_read_separately_and_missing_names_reported() {
        let by_name = mock!(Client::describe_alarms)
            .match_requests(|r| r.alarm_names() == ["app-5xx".to_owned(), "app-gone".to_owned()])
            .then_output(|| {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(alarm("app-5xx", StateValue::Ok))
                    .build()
            });
        let first_page = mock!(Client::describe_alarms)
            .match_requests(|r| r.alarm_name_prefix() == Some("canary-") && r.next_token().is_none())
            .then_output(|| {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(alarm("canary-a", StateValue::Alarm))
                    .next_token("p2")
                    .build()
            });
        let second_page = mock!(Client::describe_alarms)
            .match_requests(|r| r.next_token() == Some("p2"))
            .then_output(|| {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(alarm("canary-b", StateValue::InsufficientData))
                    .build()
            });
        let client = mock_client!(
            aws_sdk_cloudwatch,
            RuleMode::MatchAny,
            [&by_name, &first_page, &second_page]
        );
        let selector = AlarmSelector {
            names: vec!["app-5xx".into(), "app-gone".into()],
            prefix: Some("canary-".into()),
        };
        let report = describe(&client, &selector).await.unwrap();
        let states: Vec<(&str, AlarmState)> = report.alarms.iter().map(|a| (a.name.as_str(), a.state)).collect();
        assert_eq!(
            states,
            [
                ("app-5xx", AlarmState::Ok),
                ("canary-a", AlarmState::Alarm),
                ("canary-b", AlarmState::InsufficientData)
            ]
        );
        assert_eq!(report.missing, ["app-gone"]);
        assert_eq!(report.alarms[0].since.timestamp(), 1_800_000_000);
    }
}
