//! The canary's settings, from the environment the template sets:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CANARY_NAME` | required | the `Canary` dimension of every metric (the alarm selects on it) |
//! | `CANARY_SUITE` | required | the check suite, as JSON (format: `crates/checks/README.md`) |
//! | `METRICS_NAMESPACE` | `CodePipelineHooks/Canary` | where the metrics go |

use checks::Suite;
use hooks_common::Error;
use hooks_common::settings::Env;

pub const NAME_VAR: &str = "CANARY_NAME";
pub const SUITE_VAR: &str = "CANARY_SUITE";
pub const NAMESPACE_VAR: &str = "METRICS_NAMESPACE";
pub const DEFAULT_NAMESPACE: &str = "CodePipelineHooks/Canary";
const MAX_NAME_CHARS: usize = 255;

#[derive(Clone, Debug, PartialEq)]
pub struct CanarySettings {
    pub name: String,
    pub suite: Suite,
    pub namespace: String,
}

impl CanarySettings {
    pub fn from_env(env: &Env) -> Result<CanarySettings, Error> {
        let name = env.required(
            NAME_VAR,
            "name the canary, e.g. production: it is the metrics' Canary dimension",
        )?;
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(Error::Setting {
                name: NAME_VAR.into(),
                problem: format!("has {} characters", name.chars().count()),
                fix: format!("use at most {MAX_NAME_CHARS}"),
            });
        }
        let raw = env.required(
            SUITE_VAR,
            r#"set it to a check suite, e.g. {"base_url": "https://shop.example.com", "checks": [{"name": "home", "url": "/"}]}"#,
        )?;
        let suite = Suite::parse(&raw).map_err(|e| Error::Setting {
            name: SUITE_VAR.into(),
            problem: e.to_string(),
            fix: "see the suite format in the README (the canary takes an inline suite only)".into(),
        })?;
        let namespace = env
            .optional(NAMESPACE_VAR)
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        if namespace.len() > 255 || namespace.starts_with("AWS/") {
            return Err(Error::Setting {
                name: NAMESPACE_VAR.into(),
                problem: format!("`{namespace}` is not a namespace this function may publish to"),
                fix: format!("use at most 255 characters, not starting with AWS/ (default {DEFAULT_NAMESPACE})"),
            });
        }
        Ok(CanarySettings { name, suite, namespace })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUITE: &str = r#"{"base_url": "https://shop.example.com", "checks": [{"name": "home", "url": "/"}]}"#;

    #[test]
    fn reads_the_suite_and_names() {
        let settings =
            CanarySettings::from_env(&Env::from_pairs(&[(NAME_VAR, "production"), (SUITE_VAR, SUITE)])).unwrap();
        assert_eq!(settings.name, "production");
        assert_eq!(settings.suite.checks[0].name, "home");
        assert_eq!(settings.namespace, DEFAULT_NAMESPACE);
    }

    #[test]
    fn problems_name_the_variable_and_the_field() {
        let long = "n".repeat(300);
        // (settings, variable named, text)
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
        let cases: Vec<Case> = vec![
            (vec![(SUITE_VAR, SUITE)], NAME_VAR, "is not set"),
            (vec![(NAME_VAR, "p")], SUITE_VAR, "is not set"),
            (vec![(NAME_VAR, &long), (SUITE_VAR, SUITE)], NAME_VAR, "300 characters"),
            (
                vec![
                    (NAME_VAR, "p"),
                    (SUITE_VAR, r#"{"checks": [{"name": "a", "url": "/a"}]}"#),
                ],
                SUITE_VAR,
                "`checks[0].url`",
            ),
            (
                vec![(NAME_VAR, "p"), (SUITE_VAR, r#"{"suite_from_artifact": "a.json"}"#)],
                SUITE_VAR,
                "suite_from_artifact",
            ),
            (
                vec![(NAME_VAR, "p"), (SUITE_VAR, SUITE), (NAMESPACE_VAR, "AWS/EC2")],
                NAMESPACE_VAR,
                "AWS/EC2",
            ),
        ];
        for (pairs, variable, text) in cases {
            let err = CanarySettings::from_env(&Env::from_pairs(&pairs)).unwrap_err();
            assert_eq!(err.error_type(), "SettingError");
            let message = err.to_string();
            assert!(message.starts_with(&format!("setting {variable}: ")), "{message}");
            assert!(message.contains(text), "{text:?} not in {message}");
        }
    }
}
