//! What Config invokes the rule with: `aws_lambda_events`' `ConfigEvent`, whose `invokingEvent` is a JSON string
//! holding one of three messages. Parsed once here into types; errors name the field.

use aws_lambda_events::event::config::ConfigEvent;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::error::RuleError;

pub const PIPELINE_RESOURCE_TYPE: &str = "AWS::CodePipeline::Pipeline";
/// The result token the Config console's test events (and the RDK) carry: evaluate, validate, store nothing.
pub const TEST_MODE_TOKEN: &str = "TESTMODE";

/// One invocation of the rule, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub rule_name: String,
    pub result_token: String,
    pub rule_parameters: Option<String>,
    pub event_left_scope: bool,
    pub message: Message,
}

impl Invocation {
    pub fn test_mode(&self) -> bool {
        self.result_token == TEST_MODE_TOKEN
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// A recorded change of one resource, its configuration included.
    Change(ConfigurationItem),
    /// A change whose item was too large to include: read it with `GetResourceConfigHistory`.
    Oversized(ItemSummary),
    /// The periodic trigger: evaluate every pipeline.
    Scheduled { at: DateTime<Utc> },
}

/// The part of a configuration item the rule uses.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationItem {
    pub resource_type: String,
    pub resource_id: String,
    /// `OK`, `ResourceDiscovered`, `ResourceNotRecorded`, `ResourceDeleted`, `ResourceDeletedNotRecorded`.
    pub configuration_item_status: String,
    pub configuration_item_capture_time: DateTime<Utc>,
    #[serde(default)]
    pub configuration: Value,
}

impl ConfigurationItem {
    pub fn deleted(&self) -> bool {
        matches!(
            self.configuration_item_status.as_str(),
            "ResourceDeleted" | "ResourceDeletedNotRecorded" | "ResourceNotRecorded"
        )
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ItemSummary {
    pub resource_type: String,
    pub resource_id: String,
    pub configuration_item_status: String,
    pub configuration_item_capture_time: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvokingEvent {
    message_type: String,
    #[serde(default)]
    configuration_item: Option<ConfigurationItem>,
    #[serde(default)]
    configuration_item_summary: Option<ItemSummary>,
    #[serde(default)]
    notification_creation_time: Option<DateTime<Utc>>,
}

fn malformed(field: &str, problem: impl Into<String>) -> RuleError {
    RuleError::Common(hooks_common::Error::Event {
        field: field.to_owned(),
        problem: problem.into(),
    })
}

/// Parses the event Config invoked the rule with.
pub fn parse(event: Value) -> Result<Invocation, RuleError> {
    let text = event.to_string();
    let event: ConfigEvent = hooks_common::settings::parse_json(&text).map_err(|problem| {
        malformed(
            "(the whole event)",
            format!("{problem}; expected the event AWS Config invokes a custom rule with"),
        )
    })?;
    let required = |value: Option<String>, field: &str| {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| malformed(field, "is missing or empty"))
    };
    let result_token = required(event.result_token, "resultToken")?;
    let rule_name = required(event.config_rule_name, "configRuleName")?;
    let invoking = required(event.invoking_event, "invokingEvent")?;
    let invoking: InvokingEvent =
        hooks_common::settings::parse_json(&invoking).map_err(|problem| malformed("invokingEvent", problem))?;
    let message = match invoking.message_type.as_str() {
        "ConfigurationItemChangeNotification" => Message::Change(
            invoking
                .configuration_item
                .ok_or_else(|| malformed("invokingEvent.configurationItem", "is missing"))?,
        ),
        "OversizedConfigurationItemChangeNotification" => Message::Oversized(
            invoking
                .configuration_item_summary
                .ok_or_else(|| malformed("invokingEvent.configurationItemSummary", "is missing"))?,
        ),
        "ScheduledNotification" => Message::Scheduled {
            at: invoking
                .notification_creation_time
                .ok_or_else(|| malformed("invokingEvent.notificationCreationTime", "is missing"))?,
        },
        other => {
            return Err(malformed(
                "invokingEvent.messageType",
                format!(
                    "is `{other}`; this rule handles ConfigurationItemChangeNotification, \
                     OversizedConfigurationItemChangeNotification and ScheduledNotification"
                ),
            ));
        }
    };
    Ok(Invocation {
        rule_name,
        result_token,
        rule_parameters: event.rule_parameters,
        event_left_scope: event.event_left_scope,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(invoking: Value) -> Value {
        json!({"version": "1.0", "invokingEvent": invoking.to_string(), "ruleParameters": "{}",
               "resultToken": "tok", "eventLeftScope": false, "executionRoleArn": "arn:aws:iam::1:role/r",
               "configRuleArn": "arn:aws:config:us-east-1:1:config-rule/config-rule-1", "configRuleName": "pipeline-release-practices",
               "configRuleId": "config-rule-1", "accountId": "123456789012"})
    }

    #[test]
    fn the_three_messages() {
        let change = event(
            json!({"messageType": "ConfigurationItemChangeNotification", "notificationCreationTime": "2026-12-02T10:00:00.000Z",
            "configurationItem": {"resourceType": "AWS::CodePipeline::Pipeline", "resourceId": "shop", "configurationItemStatus": "OK",
                "configurationItemCaptureTime": "2026-12-02T09:59:58.123Z", "configuration": {"pipeline": {"name": "shop", "stages": []}}}}),
        );
        let parsed = parse(change).unwrap();
        assert_eq!(parsed.rule_name, "pipeline-release-practices");
        let Message::Change(item) = parsed.message else {
            panic!()
        };
        assert_eq!((item.resource_id.as_str(), item.deleted()), ("shop", false));

        let oversized = event(json!({"messageType": "OversizedConfigurationItemChangeNotification",
            "configurationItemSummary": {"resourceType": "AWS::CodePipeline::Pipeline", "resourceId": "shop", "configurationItemStatus": "OK",
                "configurationItemCaptureTime": "2026-12-02T09:59:58Z", "changeType": "UPDATE"}}));
        assert!(matches!(parse(oversized).unwrap().message, Message::Oversized(s) if s.resource_id == "shop"));

        let scheduled = event(
            json!({"messageType": "ScheduledNotification", "awsAccountId": "1", "notificationCreationTime": "2026-12-02T10:00:00.000Z", "recordVersion": "1.0"}),
        );
        assert!(matches!(parse(scheduled).unwrap().message, Message::Scheduled { .. }));
    }

    #[test]
    fn malformed_events_name_the_field() {
        let mut no_token =
            event(json!({"messageType": "ScheduledNotification", "notificationCreationTime": "2026-12-02T10:00:00Z"}));
        no_token["resultToken"] = json!("");
        assert!(parse(no_token).unwrap_err().to_string().contains("resultToken"));
        let unknown = event(json!({"messageType": "ComplianceChangeNotification"}));
        assert!(
            parse(unknown)
                .unwrap_err()
                .to_string()
                .contains("invokingEvent.messageType")
        );
        let broken = event(
            json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": {"resourceId": "x"}}),
        );
        let err = parse(broken).unwrap_err().to_string();
        assert!(err.contains("invokingEvent") && err.contains("resourceType"), "{err}");
        let err = parse(json!({"hello": "world"})).unwrap_err().to_string();
        assert!(err.contains("eventLeftScope"), "{err}");
    }
}
