//! The guards (which transition, which alarms, how long a cooldown) and where notices go, read once at start-up
//! from the environment, with errors that name the field and the fix.

use std::time::Duration;

use hooks_common::Error;
use hooks_common::notice::{Destination, DestinationSetting};
use hooks_common::settings::Env;
use serde::Deserialize;

pub const GUARDS_VAR: &str = "GUARDS";
pub const NOTICE_SECRET_VAR: &str = "NOTICE_SLACK_SECRET_ID";
pub const NOTICE_TOPIC_VAR: &str = "NOTICE_SNS_TOPIC_ARN";
pub const NAMESPACE_VAR: &str = "METRICS_NAMESPACE";
pub const DEFAULT_NAMESPACE: &str = "CodePipelineHooks/TransitionDisabler";

const GUARDS_FIX: &str = r#"a JSON array like [{"pipeline": "shop", "stage": "Production", "alarms": ["shop-canary-production"], "alarm_prefix": "shop-prod-", "cooldown_minutes": 10, "insufficient_data": "keep"}] (README, "Transition disabler")"#;

/// What an alarm in INSUFFICIENT_DATA does to the transition.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InsufficientData {
    /// Neither closes nor counts as OK: the transition stays as it is.
    #[default]
    Keep,
    /// Closes, as ALARM does (for alarms whose missing data means production is not answering).
    Close,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardSetting {
    pipeline: String,
    stage: String,
    #[serde(default)]
    alarms: Vec<String>,
    #[serde(default)]
    alarm_prefix: Option<String>,
    /// Minutes; fractions allowed (the demo's cooldown is a few seconds).
    #[serde(default = "default_cooldown")]
    cooldown_minutes: f64,
    #[serde(default)]
    insufficient_data: InsufficientData,
    /// This guard's notices go here instead of the function's default destination.
    #[serde(default)]
    secret_id: Option<String>,
    #[serde(default)]
    sns_topic_arn: Option<String>,
}

fn default_cooldown() -> f64 {
    10.0
}

/// The longest cooldown: a day. Longer means a transition stays closed for days after production recovered.
pub const MAX_COOLDOWN_MINUTES: f64 = 24.0 * 60.0;

/// One guarded transition: the inbound transition of `stage` in `pipeline`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guard {
    pub pipeline: String,
    pub stage: String,
    pub alarms: Vec<String>,
    pub alarm_prefix: Option<String>,
    pub cooldown: Duration,
    pub insufficient_data: InsufficientData,
    /// Where this guard's notices go.
    pub notify: Destination,
}

impl Guard {
    /// Whether an alarm of this name is one of this guard's (by name or by prefix).
    pub fn watches(&self, alarm: &str) -> bool {
        self.alarms.iter().any(|name| name == alarm)
            || self
                .alarm_prefix
                .as_deref()
                .is_some_and(|prefix| alarm.starts_with(prefix))
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub guards: Vec<Guard>,
    pub metrics_namespace: String,
    /// This function's name: the session name in its assumed-role ARN, which is what CodePipeline records as
    /// `lastChangedBy` when it disables a transition.
    pub function_name: String,
}

/// CodePipeline's names: 1 to 100 of `[A-Za-z0-9.@\-_]`.
fn valid_name(name: &str) -> bool {
    (1..=100).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || ".@-_".contains(c))
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Settings, Error> {
        let default_notify = DestinationSetting {
            secret_id: env.optional(NOTICE_SECRET_VAR),
            sns_topic_arn: env.optional(NOTICE_TOPIC_VAR),
        }
        .destination(&format!("{NOTICE_SECRET_VAR} / {NOTICE_TOPIC_VAR}"))?;
        let raw: Vec<GuardSetting> = env.json(GUARDS_VAR, GUARDS_FIX)?.ok_or_else(|| Error::Setting {
            name: GUARDS_VAR.into(),
            problem: "is not set".into(),
            fix: GUARDS_FIX.into(),
        })?;
        let guards = guards(raw, &default_notify)?;
        let function_name = env.required(
            "AWS_LAMBDA_FUNCTION_NAME",
            "Lambda sets it; when running elsewhere, set it to the deployed function's name",
        )?;
        Ok(Settings {
            guards,
            metrics_namespace: env
                .optional(NAMESPACE_VAR)
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
            function_name,
        })
    }
}

fn guards(raw: Vec<GuardSetting>, default_notify: &Destination) -> Result<Vec<Guard>, Error> {
    let field_error = |index: usize, field: &str, problem: String| Error::Setting {
        name: format!("{GUARDS_VAR}[{index}].{field}"),
        problem,
        fix: GUARDS_FIX.into(),
    };
    if raw.is_empty() {
        return Err(Error::Setting {
            name: GUARDS_VAR.into(),
            problem: "lists no guard".into(),
            fix: GUARDS_FIX.into(),
        });
    }
    let mut guards: Vec<Guard> = Vec::with_capacity(raw.len());
    for (index, setting) in raw.into_iter().enumerate() {
        for (field, value) in [("pipeline", &setting.pipeline), ("stage", &setting.stage)] {
            if !valid_name(value) {
                return Err(field_error(
                    index,
                    field,
                    format!("`{value}` is not a CodePipeline name (1 to 100 of A-Z a-z 0-9 . @ - _)"),
                ));
            }
        }
        if setting.alarms.is_empty() && setting.alarm_prefix.is_none() {
            return Err(field_error(
                index,
                "alarms",
                "names no alarm: give `alarms`, `alarm_prefix` or both".into(),
            ));
        }
        for (i, name) in setting.alarms.iter().enumerate() {
            if !(1..=255).contains(&name.chars().count()) || name.trim() != name {
                return Err(field_error(
                    index,
                    &format!("alarms[{i}]"),
                    format!("`{name}` is not an alarm name (1 to 255 characters, no leading or trailing blanks)"),
                ));
            }
        }
        if let Some(prefix) = &setting.alarm_prefix
            && !(1..=255).contains(&prefix.chars().count())
        {
            return Err(field_error(index, "alarm_prefix", "must be 1 to 255 characters".into()));
        }
        if !(0.0..=MAX_COOLDOWN_MINUTES).contains(&setting.cooldown_minutes) {
            return Err(field_error(
                index,
                "cooldown_minutes",
                format!(
                    "{} is not between 0 and {MAX_COOLDOWN_MINUTES} (a day)",
                    setting.cooldown_minutes
                ),
            ));
        }
        let own = DestinationSetting {
            secret_id: setting.secret_id.clone(),
            sns_topic_arn: setting.sns_topic_arn.clone(),
        };
        let notify = if own == DestinationSetting::default() {
            default_notify.clone()
        } else {
            own.destination(&format!("{GUARDS_VAR}[{index}]"))?
        };
        if guards
            .iter()
            .any(|g| g.pipeline == setting.pipeline && g.stage == setting.stage)
        {
            return Err(field_error(
                index,
                "stage",
                format!(
                    "{} › {} is guarded twice; put all its alarms in one guard",
                    setting.pipeline, setting.stage
                ),
            ));
        }
        guards.push(Guard {
            pipeline: setting.pipeline,
            stage: setting.stage,
            alarms: setting.alarms,
            alarm_prefix: setting.alarm_prefix,
            cooldown: Duration::from_secs_f64(setting.cooldown_minutes * 60.0),
            insufficient_data: setting.insufficient_data,
            notify,
        });
    }
    Ok(guards)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:transitions";

    fn settings(guards: &str) -> Result<Settings, Error> {
        Settings::from_env(&Env::from_pairs(&[
            (GUARDS_VAR, guards),
            (NOTICE_TOPIC_VAR, TOPIC),
            ("AWS_LAMBDA_FUNCTION_NAME", "transition-disabler"),
        ]))
    }

    #[test]
    fn a_full_guard_and_its_defaults() {
        let s = settings(
            r#"[{"pipeline": "shop", "stage": "Production", "alarms": ["shop-canary-production"],
                 "alarm_prefix": "shop-prod-", "cooldown_minutes": 15, "insufficient_data": "close"},
                {"pipeline": "pay", "stage": "Prod", "alarm_prefix": "pay-", "secret_id": "slack/pay"}]"#,
        )
        .unwrap();
        assert_eq!(s.guards.len(), 2);
        let shop = &s.guards[0];
        assert_eq!(shop.cooldown, Duration::from_secs(15 * 60));
        assert_eq!(shop.insufficient_data, InsufficientData::Close);
        assert_eq!(
            shop.notify,
            Destination::Sns {
                topic_arn: TOPIC.into()
            }
        );
        assert!(shop.watches("shop-canary-production") && shop.watches("shop-prod-latency"));
        assert!(!shop.watches("shop-canary") && !shop.watches("pay-5xx"));
        let pay = &s.guards[1];
        assert_eq!(pay.cooldown, Duration::from_secs(600));
        let quick = settings(r#"[{"pipeline": "s", "stage": "P", "alarms": ["a"], "cooldown_minutes": 0.1}]"#).unwrap();
        assert_eq!(quick.guards[0].cooldown, Duration::from_secs(6));
        assert_eq!(pay.insufficient_data, InsufficientData::Keep);
        assert_eq!(
            pay.notify,
            Destination::Slack {
                secret_id: "slack/pay".into()
            }
        );
        assert_eq!(s.metrics_namespace, DEFAULT_NAMESPACE);
        assert_eq!(s.function_name, "transition-disabler");
    }

    #[test]
    fn bad_guards_name_the_field() {
        let cases = [
            ("[]", "GUARDS: lists no guard"),
            (r#"[{"pipeline": "shop"}]"#, "missing field `stage`"),
            (
                r#"[{"pipeline": "shop", "stage": "Prod"}]"#,
                "GUARDS[0].alarms: names no alarm",
            ),
            (
                r#"[{"pipeline": "shop x", "stage": "P", "alarms": ["a"]}]"#,
                "GUARDS[0].pipeline: `shop x`",
            ),
            (
                r#"[{"pipeline": "s", "stage": "P", "alarms": [""]}]"#,
                "GUARDS[0].alarms[0]",
            ),
            (
                r#"[{"pipeline": "s", "stage": "P", "alarms": ["a"], "cooldown_minutes": 5000}]"#,
                "GUARDS[0].cooldown_minutes",
            ),
            (
                r#"[{"pipeline": "s", "stage": "P", "alarms": ["a"], "cooldown_minutes": -1}]"#,
                "GUARDS[0].cooldown_minutes: -1 is not between 0",
            ),
            (
                r#"[{"pipeline": "s", "stage": "P", "alarms": ["a"], "cooldown_minutes": "ten"}]"#,
                "at `[0].cooldown_minutes`",
            ),
            (
                r#"[{"pipeline": "s", "stage": "P", "alarms": ["a"], "insufficient_data": "open"}]"#,
                "unknown variant `open`",
            ),
            (
                r#"[{"pipeline": "s", "stage": "P", "alarms": ["a"], "colour": 1}]"#,
                "unknown field `colour`",
            ),
            (
                r#"[{"pipeline": "s", "stage": "P", "alarms": ["a"], "sns_topic_arn": "x"}]"#,
                "GUARDS[0].sns_topic_arn",
            ),
            (
                r#"[{"pipeline": "s", "stage": "P", "alarms": ["a"]}, {"pipeline": "s", "stage": "P", "alarm_prefix": "b"}]"#,
                "GUARDS[1].stage: s › P is guarded twice",
            ),
        ];
        for (json, expected) in cases {
            let err = settings(json).unwrap_err().to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }

    #[test]
    fn notices_need_exactly_one_default_destination() {
        let guards = r#"[{"pipeline": "s", "stage": "P", "alarms": ["a"]}]"#;
        let none = Settings::from_env(&Env::from_pairs(&[
            (GUARDS_VAR, guards),
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            none.contains("NOTICE_SLACK_SECRET_ID / NOTICE_SNS_TOPIC_ARN: names no destination"),
            "{none}"
        );
        let slack = Settings::from_env(&Env::from_pairs(&[
            (GUARDS_VAR, guards),
            (NOTICE_SECRET_VAR, "slack/deploys"),
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
        ]))
        .unwrap();
        assert_eq!(
            slack.guards[0].notify,
            Destination::Slack {
                secret_id: "slack/deploys".into()
            }
        );
    }
}
