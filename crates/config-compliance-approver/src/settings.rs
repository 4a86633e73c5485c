//! The per-pipeline settings in the approval action's `CustomData`, and the deployment-wide defaults.
//!
//! ```json
//! {"rules": ["pipeline-release-practices", "restricted-ssh"], "rule_prefix": "prod-baseline-",
//!  "resources": "this_pipeline", "max_age_minutes": 60, "on_error": "hold"}
//! ```

use chrono::Duration;
use hooks_common::Error;
use hooks_common::gate::FailurePolicy;
use hooks_common::settings::Env;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComplianceSettings {
    /// Config rule names; each must exist.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Every Config rule whose name starts with this; at least one must.
    #[serde(default)]
    pub rule_prefix: Option<String>,
    /// Every rule of this conformance pack; the pack must exist and hold at least one rule.
    #[serde(default)]
    pub conformance_pack: Option<String>,
    /// Whose compliance counts: the rules' overall compliance, or only this pipeline's.
    #[serde(default)]
    pub resources: Resources,
    /// Results older than this are stale and are evaluated again before approving.
    #[serde(default)]
    pub max_age_minutes: Option<u32>,
    /// What to do when Config cannot be read: `hold` (default) or `reject`. Never approve.
    #[serde(default)]
    pub on_error: Option<FailurePolicy>,
}

/// Which resources' results decide.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Resources {
    /// Each rule's overall compliance (`DescribeComplianceByConfigRule`): any non-compliant resource rejects.
    #[default]
    All,
    /// Only the `AWS::CodePipeline::Pipeline` being released (`GetComplianceDetailsByResource`).
    ThisPipeline,
}

/// Which rules one approval is gated on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    pub names: Vec<String>,
    pub prefix: Option<String>,
    pub pack: Option<String>,
}

/// What one approval checks, with defaults applied and validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub selection: Selection,
    pub resources: Resources,
    pub max_age: Duration,
    pub on_error: FailurePolicy,
    /// When the sweep looks again while holding.
    pub recheck: Duration,
}

/// Deployment-wide defaults from the template.
#[derive(Clone, Debug, PartialEq)]
pub struct Defaults {
    pub max_age_minutes: u32,
    pub recheck: Duration,
}

/// A day: results older than that are stale unless CustomData says otherwise.
pub const DEFAULT_MAX_AGE_MINUTES: u32 = 24 * 60;
/// 30 days; an approval waits at most that long anyway.
const MAX_AGE_LIMIT: u32 = 30 * 24 * 60;

impl Defaults {
    pub fn from_env(env: &Env, sweep_interval: Duration) -> Result<Defaults, Error> {
        let max_age_minutes = match env.optional("DEFAULT_MAX_AGE_MINUTES") {
            None => DEFAULT_MAX_AGE_MINUTES,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|m| (1..=MAX_AGE_LIMIT).contains(m))
                .ok_or_else(|| Error::Setting {
                    name: "DEFAULT_MAX_AGE_MINUTES".into(),
                    problem: format!("`{text}` is not a whole number of minutes from 1 to {MAX_AGE_LIMIT}"),
                    fix: "set it to how old a Config result may be, in minutes, e.g. 1440".into(),
                })?,
        };
        Ok(Defaults {
            max_age_minutes,
            recheck: sweep_interval,
        })
    }
}

impl ComplianceSettings {
    /// Applies the defaults; an approval gated on no rule at all is refused (it would approve blind).
    pub fn check(&self, defaults: &Defaults) -> Result<Check, String> {
        if let Some(index) = self.rules.iter().position(|name| name.trim().is_empty()) {
            return Err(format!(
                "CustomData `rules[{index}]` is empty: list the Config rule names as Config shows them"
            ));
        }
        let prefix = non_blank(&self.rule_prefix);
        let pack = non_blank(&self.conformance_pack);
        if self.rules.is_empty() && prefix.is_none() && pack.is_none() {
            return Err(
                "CustomData names no Config rule: add \"rules\": [\"...\"], \"rule_prefix\": \"...\" or \
                 \"conformance_pack\": \"...\"; approving without checking anything would be blind"
                    .into(),
            );
        }
        let max_age_minutes = self.max_age_minutes.unwrap_or(defaults.max_age_minutes);
        if !(1..=MAX_AGE_LIMIT).contains(&max_age_minutes) {
            return Err(format!(
                "CustomData `max_age_minutes` is {max_age_minutes}; give a whole number of minutes from 1 to \
                 {MAX_AGE_LIMIT} (30 days)"
            ));
        }
        let mut names: Vec<String> = Vec::new();
        for name in &self.rules {
            let name = name.trim().to_owned();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(Check {
            selection: Selection { names, prefix, pack },
            resources: self.resources,
            max_age: Duration::minutes(i64::from(max_age_minutes)),
            on_error: self.on_error.unwrap_or_default(),
            recheck: defaults.recheck,
        })
    }
}

fn non_blank(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Defaults {
        Defaults {
            max_age_minutes: 1440,
            recheck: Duration::minutes(5),
        }
    }

    fn parse(json: &str) -> Result<ComplianceSettings, String> {
        hooks_common::settings::parse_json(json)
    }

    #[test]
    fn the_issue_example_parses() {
        let settings = parse(
            r#"{"rules": ["pipeline-release-practices", "restricted-ssh"], "rule_prefix": "prod-baseline-",
                "resources": "this_pipeline", "max_age_minutes": 60, "on_error": "hold"}"#,
        )
        .unwrap();
        let check = settings.check(&defaults()).unwrap();
        assert_eq!(check.selection.names, ["pipeline-release-practices", "restricted-ssh"]);
        assert_eq!(check.selection.prefix.as_deref(), Some("prod-baseline-"));
        assert_eq!(check.resources, Resources::ThisPipeline);
        assert_eq!(check.max_age, Duration::minutes(60));
        assert_eq!(check.on_error, FailurePolicy::Hold);
    }

    #[test]
    fn defaults_apply_and_duplicates_go() {
        let check = parse(r#"{"rules": ["a", " a ", "b"]}"#)
            .unwrap()
            .check(&defaults())
            .unwrap();
        assert_eq!(check.selection.names, ["a", "b"]);
        assert_eq!(check.resources, Resources::All);
        assert_eq!(check.max_age, Duration::minutes(1440));
        let pack = parse(r#"{"conformance_pack": "prod-baseline"}"#)
            .unwrap()
            .check(&defaults())
            .unwrap();
        assert_eq!(pack.selection.pack.as_deref(), Some("prod-baseline"));
    }

    #[test]
    fn bad_custom_data_names_the_field() {
        let cases = [
            (r#"{}"#, "names no Config rule"),
            (r#"{"rule_prefix": "  "}"#, "names no Config rule"),
            (r#"{"rules": ["a", ""]}"#, "`rules[1]` is empty"),
            (r#"{"rules": ["a"], "max_age_minutes": 0}"#, "`max_age_minutes` is 0"),
            (
                r#"{"rules": ["a"], "max_age_minutes": 50000}"#,
                "`max_age_minutes` is 50000",
            ),
        ];
        for (json, expected) in cases {
            let err = parse(json).unwrap().check(&defaults()).unwrap_err();
            assert!(err.contains(expected), "{json}: {err}");
        }
        for (json, expected) in [
            (r#"{"rule": ["a"]}"#, "unknown field `rule`"),
            (r#"{"rules": ["a"], "resources": "mine"}"#, "resources"),
            (r#"{"rules": ["a"], "on_error": "approve"}"#, "on_error"),
            (r#"{"rules": "a"}"#, "rules"),
        ] {
            let err = parse(json).unwrap_err();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }

    #[test]
    fn env_defaults() {
        let env = Env::from_pairs(&[("DEFAULT_MAX_AGE_MINUTES", "90")]);
        assert_eq!(
            Defaults::from_env(&env, Duration::minutes(5)).unwrap().max_age_minutes,
            90
        );
        let unset = Env::from_pairs(&[]);
        assert_eq!(
            Defaults::from_env(&unset, Duration::minutes(5))
                .unwrap()
                .max_age_minutes,
            DEFAULT_MAX_AGE_MINUTES
        );
        for bad in ["soon", "0", "-3", "99999999"] {
            let env = Env::from_pairs(&[("DEFAULT_MAX_AGE_MINUTES", bad)]);
            let err = Defaults::from_env(&env, Duration::minutes(5)).unwrap_err().to_string();
            assert!(err.contains("DEFAULT_MAX_AGE_MINUTES"), "{err}");
        }
    }
}

#[cfg(test)]
mod samples {
    use hooks_common::approval::{Trigger, parse_trigger};

    use super::*;

    fn sample(name: &str) -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../events")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn the_sample_events_parse_as_the_gate_parses_them() {
        let Trigger::Approvals(requests) =
            parse_trigger(&sample("config-compliance-approver.sns-approval.json")).unwrap()
        else {
            panic!("the SNS sample is an approval")
        };
        assert_eq!(requests[0].place(), "storefront/Promote/CompliantToRelease");
        let defaults = Defaults {
            max_age_minutes: DEFAULT_MAX_AGE_MINUTES,
            recheck: Duration::minutes(5),
        };
        let check = requests[0]
            .settings::<ComplianceSettings>()
            .unwrap()
            .check(&defaults)
            .unwrap();
        assert_eq!(check.selection.names, ["codepipeline-hooks-pipeline-release-practices"]);
        assert_eq!(check.resources, Resources::ThisPipeline);
        assert_eq!(
            parse_trigger(&sample("config-compliance-approver.scheduled-sweep.json")).unwrap(),
            Trigger::Sweep
        );
    }
}
