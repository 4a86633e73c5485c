//! The EventBridge side of alarms: every change of an alarm's state value is recorded as an
//! [`AlarmTransition`], and [`state_change_detail`] turns one into the `detail` of the
//! "CloudWatch Alarm State Change" event, in AWS's shape and time format.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::alarm::{Alarm, AlarmState};

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
pub(super) fn event_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}
