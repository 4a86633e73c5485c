//! Metrics as CloudWatch embedded metric format (EMF) lines on stdout: `TransitionClosed` (1 or 0) and
//! `MinutesClosed` per pipeline and stage, after every look. EMF rather than `PutMetricData`: no API call out of
//! the invocation's deadline, no IAM statement, no CloudWatch write client, nothing that can fail the decision.
//! What it gives up (knowing the datum was stored) does not matter here: the metric reports, it never decides.
//! The line is printed as is, not through the log subscriber, which would wrap it in its own JSON.

use chrono::{DateTime, Utc};
use serde_json::json;

/// One EMF document for a guard's transition, as of `now`.
pub fn emf_line(
    namespace: &str,
    pipeline: &str,
    stage: &str,
    closed: bool,
    minutes_closed: f64,
    now: DateTime<Utc>,
) -> String {
    json!({
        "_aws": {
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Pipeline", "Stage"]],
                "Metrics": [
                    {"Name": "TransitionClosed", "Unit": "Count"},
                    {"Name": "MinutesClosed", "Unit": "None"},
                ],
            }],
        },
        "Pipeline": pipeline,
        "Stage": stage,
        "TransitionClosed": u8::from(closed),
        "MinutesClosed": (minutes_closed * 10.0).round() / 10.0,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_in_the_embedded_metric_format() {
        let now: DateTime<Utc> = "2026-12-02T07:00:00Z".parse().unwrap();
        let line = emf_line("Hooks/TD", "shop", "Production", true, 12.345, now);
        assert!(!line.contains('\n'));
        let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["_aws"]["Timestamp"], 1_796_194_800_000i64);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Hooks/TD");
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][1], "Stage");
        assert_eq!(
            (doc["Pipeline"].as_str(), doc["Stage"].as_str()),
            (Some("shop"), Some("Production"))
        );
        assert_eq!(doc["TransitionClosed"], 1);
        assert_eq!(doc["MinutesClosed"], 12.3);
    }
}
