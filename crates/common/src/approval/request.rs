//! The approval a Manual approval action asks for, parsed once from its SNS notification (or found by
//! the sweep), with the per-pipeline gate settings it carries in `CustomData`.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::settings::parse_json;

/// Where an approval request came from. Gates tell people about a hold once, on the notification, not on every
/// sweep that holds it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestSource {
    Notification,
    Sweep,
}

/// The most characters CodePipeline allows in an approval action's `CustomData`.
pub const CUSTOM_DATA_LIMIT: usize = 500;

/// One pending approval: where it is, the token that answers it, and when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    pub token: String,
    pub expires: DateTime<Utc>,
    /// When the approval started waiting (the SNS publish time, or the action's last status change): a bake
    /// time counts from here, so a release is watched for the whole bake even if its alarms were OK before.
    pub requested_at: DateTime<Utc>,
    /// How the gate learned of it: the first look (SNS) or a later one (the sweep).
    pub source: RequestSource,
    /// The action's `CustomData`: the gate's per-pipeline settings, as JSON text.
    pub custom_data: Option<String>,
}

impl ApprovalRequest {
    /// `pipeline/stage/action` — how logs and summaries name the approval.
    pub fn place(&self) -> String {
        format!("{}/{}/{}", self.pipeline, self.stage, self.action)
    }

    /// The gate's settings from `CustomData`; absent or blank means the defaults. Errors name the field.
    pub fn settings<T: DeserializeOwned + Default>(&self) -> Result<T, String> {
        match self.custom_data.as_deref().map(str::trim) {
            None | Some("") => Ok(T::default()),
            Some(text) if text.chars().count() > CUSTOM_DATA_LIMIT => Err(format!(
                "CustomData is {} characters; CodePipeline allows at most {CUSTOM_DATA_LIMIT}: shorten it (alarm \
                 prefixes instead of long lists)",
                text.chars().count()
            )),
            Some(text) => parse_json(text).map_err(|problem| format!("CustomData {problem}")),
        }
    }
}

/// The SNS `Message` a Manual approval action publishes (a JSON document inside a string).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    approval: NotifiedApproval,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotifiedApproval {
    pipeline_name: String,
    stage_name: String,
    action_name: String,
    token: String,
    expires: String,
    #[serde(default)]
    custom_data: Option<String>,
}

/// CodePipeline writes `expires` as `2016-07-07T20:22Z` (no seconds); accept RFC 3339 as well.
pub fn parse_expiry(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%MZ")
        .map(|naive| naive.and_utc())
        .ok()
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc)))
}

/// Parses the approval notification carried in an SNS record's `Message`, published at `published`.
pub fn parse_notification(message: &str, published: DateTime<Utc>) -> Result<ApprovalRequest, Error> {
    let malformed = |field: &str, problem: String| Error::Event {
        field: format!("Sns.Message{field}"),
        problem,
    };
    let notification: Notification = parse_json(message).map_err(|problem| {
        malformed(
            "",
            format!(
                "{problem}; expected the JSON a CodePipeline Manual approval action publishes (with `approval.token`)"
            ),
        )
    })?;
    let approval = notification.approval;
    let expires = parse_expiry(&approval.expires).ok_or_else(|| {
        malformed(
            ".approval.expires",
            format!("`{}` is not a time like 2016-07-07T20:22Z", approval.expires),
        )
    })?;
    for (field, value) in [
        ("pipelineName", &approval.pipeline_name),
        ("stageName", &approval.stage_name),
        ("actionName", &approval.action_name),
        ("token", &approval.token),
    ] {
        if value.trim().is_empty() {
            return Err(malformed(&format!(".approval.{field}"), "is empty".into()));
        }
    }
    Ok(ApprovalRequest {
        pipeline: approval.pipeline_name,
        stage: approval.stage_name,
        action: approval.action_name,
        token: approval.token,
        expires,
        requested_at: published,
        source: RequestSource::Notification,
        custom_data: approval.custom_data.filter(|c| !c.trim().is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(approval: serde_json::Value) -> String {
        json!({"region": "us-east-1", "consoleLink": "https://console", "approval": approval}).to_string()
    }

    fn approval() -> serde_json::Value {
        json!({"pipelineName": "demo-app", "stageName": "Bake", "actionName": "Health", "token": "tok-1",
               "expires": "2026-11-29T03:10Z", "externalEntityLink": "https://x", "approvalReviewLink": "https://r",
               "customData": "{\"bake_minutes\": 30}"})
    }

    #[test]
    fn parses_codepipelines_notification() {
        let request = parse_notification(&message(approval()), Utc::now()).unwrap();
        assert_eq!(request.place(), "demo-app/Bake/Health");
        assert_eq!(request.token, "tok-1");
        assert_eq!(request.expires.to_rfc3339(), "2026-11-29T03:10:00+00:00");
        assert_eq!(request.custom_data.as_deref(), Some("{\"bake_minutes\": 30}"));
    }

    #[test]
    fn malformed_notifications_name_the_field() {
        type Breaker = dyn Fn(&mut serde_json::Value);
        let cases: [(&Breaker, &str); 4] = [
            (
                &|a| a["expires"] = json!("next tuesday"),
                "Sns.Message.approval.expires",
            ),
            (
                &|a| drop(a.as_object_mut().unwrap().remove("token")),
                "missing field `token`",
            ),
            (&|a| a["stageName"] = json!(""), "Sns.Message.approval.stageName"),
            (&|a| a["pipelineName"] = json!(7), "approval.pipelineName"),
        ];
        for (break_it, expected) in cases {
            let mut a = approval();
            break_it(&mut a);
            let err = parse_notification(&message(a), Utc::now()).unwrap_err().to_string();
            assert!(err.contains(expected), "expected {expected:?} in {err}");
        }
        let err = parse_notification("not json", Utc::now()).unwrap_err().to_string();
        assert!(err.contains("Manual approval"), "{err}");
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct GateSettings {
        #[serde(default)]
        bake_minutes: u32,
    }

    #[test]
    fn custom_data_becomes_typed_settings() {
        let mut request = parse_notification(&message(approval()), Utc::now()).unwrap();
        assert_eq!(
            request.settings::<GateSettings>().unwrap(),
            GateSettings { bake_minutes: 30 }
        );
        request.custom_data = None;
        assert_eq!(request.settings::<GateSettings>().unwrap(), GateSettings::default());
        request.custom_data = Some("{\"bake\": 1}".into());
        let err = request.settings::<GateSettings>().unwrap_err();
        assert!(
            err.starts_with("CustomData") && err.contains("unknown field `bake`"),
            "{err}"
        );
    }

    #[test]
    fn expiry_formats() {
        assert_eq!(
            parse_expiry("2016-07-07T20:22Z").unwrap().to_rfc3339(),
            "2016-07-07T20:22:00+00:00"
        );
        assert_eq!(
            parse_expiry("2016-07-07T20:22:05Z").unwrap().to_rfc3339(),
            "2016-07-07T20:22:05+00:00"
        );
        assert!(parse_expiry("07/07/2016").is_none());
    }
}
