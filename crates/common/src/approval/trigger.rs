//! What woke a gate: approval notifications from SNS, or the schedule that asks it to sweep.

use aws_lambda_events::sns::SnsEvent;
use serde_json::Value;

use super::request::{ApprovalRequest, parse_notification};
use crate::Error;
use crate::settings::parse_json;

#[derive(Debug, PartialEq, Eq)]
pub enum Trigger {
    /// SNS delivered approval notifications (normally one record per invocation).
    Approvals(Vec<ApprovalRequest>),
    /// An EventBridge schedule: find the pending approvals this gate owns and decide again.
    Sweep,
}

pub fn parse_trigger(event: &Value) -> Result<Trigger, Error> {
    if event.get("Records").is_some() {
        let sns: SnsEvent = parse_json(&event.to_string()).map_err(|problem| Error::Event {
            field: "Records".into(),
            problem: format!("not an SNS event: {problem}"),
        })?;
        if sns.records.is_empty() {
            return Err(Error::Event {
                field: "Records".into(),
                problem: "is empty".into(),
            });
        }
        let requests = sns
            .records
            .iter()
            .map(|record| parse_notification(&record.sns.message, record.sns.timestamp))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Trigger::Approvals(requests));
    }
    let is_schedule = event.get("source").and_then(Value::as_str) == Some("aws.events")
        && event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event");
    if is_schedule {
        return Ok(Trigger::Sweep);
    }
    Err(Error::Event {
        field: "Records".into(),
        problem: "missing; expected an SNS notification from a Manual approval action, or an EventBridge \
                  `Scheduled Event` from the gate's sweep schedule"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn sns_event(message: &str) -> Value {
        json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:gate:1",
            "Sns": {"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:gate",
                    "Subject": "APPROVAL NEEDED", "Message": message, "Timestamp": "2026-11-22T03:10:00.000Z",
                    "SignatureVersion": "1", "Signature": "c2ln", "SigningCertUrl": "https://sns/cert.pem",
                    "UnsubscribeUrl": "https://sns/unsub", "MessageAttributes": {}}}]})
    }

    #[test]
    fn sns_schedule_and_junk() {
        let message = json!({"region": "us-east-1", "approval": {"pipelineName": "p", "stageName": "s",
            "actionName": "a", "token": "t", "expires": "2026-11-29T03:10Z"}})
        .to_string();
        let Trigger::Approvals(requests) = parse_trigger(&sns_event(&message)).unwrap() else {
            panic!()
        };
        assert_eq!(requests[0].place(), "p/s/a");

        let schedule = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
        assert_eq!(parse_trigger(&schedule).unwrap(), Trigger::Sweep);

        let err = parse_trigger(&json!({"hello": 1})).unwrap_err().to_string();
        assert!(err.contains("expected an SNS notification"), "{err}");
        let err = parse_trigger(&sns_event("{}")).unwrap_err().to_string();
        assert!(err.contains("approval"), "{err}");
        let err = parse_trigger(&json!({"Records": [{"Sns": {}}]}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not an SNS event"), "{err}");
    }
}
