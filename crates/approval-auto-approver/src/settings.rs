//! The per-pipeline settings in the approval action's `CustomData`, and the deployment-wide defaults.
//!
//! ```json
//! {"alarms": ["demo-app-5xx", "demo-app-p99-latency"], "alarm_prefix": "demo-app-canary-", "bake_minutes": 30, "on_error": "hold",
//!  "checks": {"base_url": "https://canary.demo.example", "checks": [{"name": "health", "url": "/health"}]}}
//! ```

use checks::Suite;
use chrono::Duration;
use hooks_common::Error;
use hooks_common::gate::FailurePolicy;
use hooks_common::settings::Env;
use serde::Deserialize;
use serde_json::Value;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApproverSettings {
    /// Alarm names to watch (each must exist).
    #[serde(default)]
    pub alarms: Vec<String>,
    /// Watch every alarm whose name starts with this (at least one must match).
    #[serde(default)]
    pub alarm_prefix: Option<String>,
    /// How long every alarm must have been OK, counted from when the approval started waiting.
    /// Fractions are allowed (`0.5` is 30 seconds).
    #[serde(default)]
    pub bake_minutes: Option<f64>,
    /// What to do when the alarms cannot be read: `hold` (default) or `reject`. Never approve.
    #[serde(default)]
    pub on_error: Option<FailurePolicy>,
    /// A check suite (the post-deploy test runner's shape) that must pass, run once the bake is complete.
    /// Kept as JSON here and validated by the checks engine in [`ApproverSettings::watch`], so its errors
    /// name the path inside the suite.
    #[serde(default)]
    pub checks: Option<Value>,
}

/// Which alarms to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmSelector {
    pub names: Vec<String>,
    pub prefix: Option<String>,
}

/// What one approval watches, with defaults applied and validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Watch {
    pub selector: AlarmSelector,
    pub bake: Duration,
    /// When to look again while holding.
    pub recheck: Duration,
    /// Checks that must pass before approving, run after the alarms have baked.
    pub checks: Option<Suite>,
}

/// Deployment-wide defaults from the template.
#[derive(Clone, Debug, PartialEq)]
pub struct Defaults {
    pub bake_minutes: f64,
    pub alarm_prefix: Option<String>,
    pub recheck: Duration,
}

const MAX_BAKE_MINUTES: f64 = 60.0 * 24.0 * 30.0;

impl Defaults {
    pub fn from_env(env: &Env, sweep_interval: Duration) -> Result<Defaults, Error> {
        let bake_minutes = match env.optional("DEFAULT_BAKE_MINUTES") {
            None => 30.0,
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|m| bake_in_range(*m))
                .ok_or_else(|| Error::Setting {
                    name: "DEFAULT_BAKE_MINUTES".into(),
                    problem: format!("`{text}` is not a number of minutes from 0 to {MAX_BAKE_MINUTES}"),
                    fix: "set it to the bake time in minutes, e.g. 30".into(),
                })?,
        };
        Ok(Defaults {
            bake_minutes,
            alarm_prefix: env.optional("DEFAULT_ALARM_PREFIX"),
            recheck: sweep_interval,
        })
    }
}

fn bake_in_range(minutes: f64) -> bool {
    (0.0..=MAX_BAKE_MINUTES).contains(&minutes)
}

impl ApproverSettings {
    /// Applies the defaults; an approval that would watch no alarm at all is refused (it would approve blind).
    pub fn watch(&self, defaults: &Defaults) -> Result<Watch, String> {
        if self.alarms.iter().any(|name| name.trim().is_empty()) {
            return Err("CustomData `alarms` contains an empty name: list the CloudWatch alarm names".into());
        }
        let prefix = self
            .alarm_prefix
            .clone()
            .or_else(|| defaults.alarm_prefix.clone())
            .filter(|p| !p.trim().is_empty());
        if self.alarms.is_empty() && prefix.is_none() {
            return Err(
                "CustomData names no alarms to watch: add \"alarms\": [\"...\"] or \"alarm_prefix\": \"...\" \
                        (or set DEFAULT_ALARM_PREFIX); approving without watching anything would be blind"
                    .into(),
            );
        }
        let bake_minutes = self.bake_minutes.unwrap_or(defaults.bake_minutes);
        if !bake_in_range(bake_minutes) {
            return Err(format!(
                "CustomData `bake_minutes` is {bake_minutes}; give a number of minutes from 0 to {MAX_BAKE_MINUTES} \
                 (30 days)"
            ));
        }
        let checks = match &self.checks {
            None => None,
            Some(suite) => {
                Some(Suite::from_value(suite.clone()).map_err(|e| format!("CustomData: {}", e.nested_in("checks")))?)
            }
        };
        Ok(Watch {
            selector: AlarmSelector {
                names: self.alarms.clone(),
                prefix,
            },
            bake: Duration::milliseconds((bake_minutes * 60_000.0).round() as i64),
            recheck: defaults.recheck,
            checks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Defaults {
        Defaults {
            bake_minutes: 30.0,
            alarm_prefix: None,
            recheck: Duration::minutes(5),
        }
    }

    #[test]
    fn defaults_fill_in_and_blind_approvals_are_refused() {
        let named = ApproverSettings {
            alarms: vec!["a".into()],
            ..Default::default()
        };
        assert_eq!(named.watch(&defaults()).unwrap().bake, Duration::minutes(30));
        let err = ApproverSettings::default().watch(&defaults()).unwrap_err();
        assert!(err.contains("names no alarms"), "{err}");
        let with_default_prefix = Defaults {
            alarm_prefix: Some("prod-".into()),
            ..defaults()
        };
        let watch = ApproverSettings::default().watch(&with_default_prefix).unwrap();
        assert_eq!(watch.selector.prefix.as_deref(), Some("prod-"));
        let empty = ApproverSettings {
            alarms: vec![" ".into()],
            ..Default::default()
        };
        assert!(empty.watch(&defaults()).unwrap_err().contains("empty name"));
        // Out of range either way: a negative bake would skip the bake, a huge negative one would overflow.
        for minutes in [MAX_BAKE_MINUTES + 1.0, -5.0, -1e300, 1e300] {
            let out_of_range = ApproverSettings {
                alarms: vec!["a".into()],
                bake_minutes: Some(minutes),
                ..Default::default()
            };
            let error = out_of_range.watch(&defaults()).unwrap_err();
            assert!(
                error.contains("`bake_minutes` is") && error.contains("from 0 to"),
                "{minutes}: {error}"
            );
        }
    }

    #[test]
    fn a_check_suite_is_validated_naming_its_path_in_custom_data() {
        let with_checks = |checks: serde_json::Value| ApproverSettings {
            alarms: vec!["a".into()],
            checks: Some(checks),
            ..Default::default()
        };
        let suite = serde_json::json!({"base_url": "https://canary.example.com", "checks": [{"name": "health", "url": "/health"}]});
        let watch = with_checks(suite).watch(&defaults()).unwrap();
        assert_eq!(watch.checks.unwrap().checks[0].name, "health");

        let cases = [
            (
                serde_json::json!({"checks": [{"name": "health"}]}),
                "`checks.checks[0].url`",
            ),
            (serde_json::json!({"checks": []}), "`checks.checks`"),
            (serde_json::json!("/health"), "`checks`"),
        ];
        for (suite, field) in cases {
            let err = with_checks(suite).watch(&defaults()).unwrap_err();
            assert!(
                err.starts_with("CustomData: invalid check suite") && err.contains(field),
                "{err}"
            );
            assert!(err.contains("Fix: "), "{err}");
        }
    }

    #[test]
    fn env_defaults() {
        let env = Env::from_pairs(&[("DEFAULT_BAKE_MINUTES", "45"), ("DEFAULT_ALARM_PREFIX", "prod-")]);
        let parsed = Defaults::from_env(&env, Duration::minutes(5)).unwrap();
        assert_eq!(
            (parsed.bake_minutes, parsed.alarm_prefix.as_deref()),
            (45.0, Some("prod-"))
        );
        for bad in ["soon", "-1", "NaN"] {
            let env = Env::from_pairs(&[("DEFAULT_BAKE_MINUTES", bad)]);
            let err = Defaults::from_env(&env, Duration::minutes(5)).unwrap_err().to_string();
            assert!(err.contains("DEFAULT_BAKE_MINUTES"), "{err}");
        }
        let half = ApproverSettings {
            alarms: vec!["a".into()],
            bake_minutes: Some(0.5),
            ..Default::default()
        };
        assert_eq!(half.watch(&defaults()).unwrap().bake, Duration::seconds(30));
    }
}
