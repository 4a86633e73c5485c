//! The rule's parameters (Config's `InputParameters`, handed over as the JSON string `ruleParameters`): which
//! practices are checked and how. Every value is a string, as the Config console writes them; numbers and
//! booleans written as JSON are accepted too.
//!
//! ```json
//! {"ProductionStagePattern": "Prod*", "ApprovalBeforeProduction": "gate",
//!  "GateTopicArns": "arn:aws:sns:eu-west-1:111122223333:codepipeline-hooks-ComplianceApproverTopic",
//!  "TestAfterDeploy": "on", "TestFunctionNames": "codepipeline-hooks-PostDeployTestRunner",
//!  "MaxParallelDeploys": "1", "WatchedPromotion": "on", "GuardedTransitions": "shop/Production,payments-*/Prod*"}
//! ```

use std::collections::BTreeMap;

use serde_json::Value;
use wildmatch::WildMatch;

/// A parameter that could not be read: its name, what was wrong, how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterProblem {
    pub name: String,
    pub problem: String,
    pub fix: String,
}

/// Which approval counts as the gate before production.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalRule {
    Off,
    /// Any Manual approval action.
    AnyManual,
    /// A Manual approval whose `NotificationArn` is one of these gate topics.
    GateTopic(Vec<String>),
}

/// Which actions count as a test of a deployed segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestRule {
    Off,
    /// Any Lambda Invoke action or any action of the Test category.
    AnyTest,
    /// Lambda Invoke actions calling one of these functions (names or ARNs).
    Functions(Vec<String>),
}

/// A stage whose inbound transition the transition disabler guards: `pipeline/stage`, each a glob.
#[derive(Clone, Debug)]
pub struct GuardedTransition {
    pub pipeline: WildMatch,
    pub stage: WildMatch,
}

#[derive(Clone, Debug)]
pub struct Practices {
    /// Production stages, by name (globs, case-insensitive).
    pub production: Vec<WildMatch>,
    pub production_pattern: String,
    pub approval: ApprovalRule,
    pub tests: TestRule,
    /// At most this many deploy actions in parallel before production; `None`: not checked.
    pub max_parallel_deploys: Option<usize>,
    /// `Some`: the promotion into production must be guarded by the transition disabler, as listed.
    pub watched: Option<Vec<GuardedTransition>>,
}

pub const PARAMETERS: [&str; 8] = [
    "ProductionStagePattern",
    "ApprovalBeforeProduction",
    "GateTopicArns",
    "TestAfterDeploy",
    "TestFunctionNames",
    "MaxParallelDeploys",
    "WatchedPromotion",
    "GuardedTransitions",
];

fn problem(name: &str, problem: impl Into<String>, fix: impl Into<String>) -> ParameterProblem {
    ParameterProblem {
        name: name.to_owned(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

fn list(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Practices {
    /// From the event's `ruleParameters` (absent or blank: every default).
    pub fn from_rule_parameters(text: Option<&str>) -> Result<Practices, ParameterProblem> {
        let values: BTreeMap<String, String> = match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => BTreeMap::new(),
            Some(text) => {
                let object: BTreeMap<String, Value> = serde_json::from_str(text).map_err(|e| {
                    problem(
                        "ruleParameters",
                        format!("is not a JSON object: {e}"),
                        "set InputParameters to a JSON object of strings",
                    )
                })?;
                let mut values = BTreeMap::new();
                for (name, value) in object {
                    if !PARAMETERS.contains(&name.as_str()) {
                        return Err(problem(
                            &name,
                            "is not a parameter of this rule",
                            format!("use only {}", PARAMETERS.join(", ")),
                        ));
                    }
                    let text = match value {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => String::new(),
                        other => {
                            return Err(problem(
                                &name,
                                format!("is {other}, not a string"),
                                "write it as a string",
                            ));
                        }
                    };
                    values.insert(name, text.trim().to_owned());
                }
                values
            }
        };
        let get = |name: &str| values.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let production_pattern = get("ProductionStagePattern").unwrap_or("Prod*").to_owned();
        let production: Vec<WildMatch> = list(Some(&production_pattern))
            .iter()
            .map(|p| WildMatch::new_case_insensitive(p))
            .collect();
        if production.is_empty() {
            return Err(problem(
                "ProductionStagePattern",
                "names no stage",
                "set it to the production stage's name or a glob such as Prod*",
            ));
        }
        let gate_topics = list(get("GateTopicArns"));
        let approval = match get("ApprovalBeforeProduction")
            .unwrap_or("any")
            .to_ascii_lowercase()
            .as_str()
        {
            "off" => ApprovalRule::Off,
            "any" => ApprovalRule::AnyManual,
            "gate" if gate_topics.is_empty() => {
                return Err(problem(
                    "GateTopicArns",
                    "is empty, but ApprovalBeforeProduction is `gate`",
                    "list the gate topics' ARNs (comma-separated), or set ApprovalBeforeProduction to `any`",
                ));
            }
            "gate" => ApprovalRule::GateTopic(gate_topics),
            other => {
                return Err(problem(
                    "ApprovalBeforeProduction",
                    format!("is `{other}`"),
                    "use `any` (any Manual approval), `gate` (wired to GateTopicArns) or `off`",
                ));
            }
        };
        let tests = match on_off("TestAfterDeploy", get("TestAfterDeploy"), true)? {
            false => TestRule::Off,
            true => match list(get("TestFunctionNames")) {
                names if names.is_empty() => TestRule::AnyTest,
                names => TestRule::Functions(names),
            },
        };
        let max_parallel_deploys = match get("MaxParallelDeploys") {
            None => None,
            Some(text) if text.eq_ignore_ascii_case("off") => None,
            Some(text) => Some(text.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                problem(
                    "MaxParallelDeploys",
                    format!("is `{text}`"),
                    "give a whole number of at least 1, or `off`",
                )
            })?),
        };
        let watched = match on_off("WatchedPromotion", get("WatchedPromotion"), false)? {
            false => None,
            true => Some(guarded_transitions(get("GuardedTransitions"))?),
        };
        Ok(Practices {
            production,
            production_pattern,
            approval,
            tests,
            max_parallel_deploys,
            watched,
        })
    }

    pub fn is_production(&self, stage: &str) -> bool {
        self.production.iter().any(|p| p.matches(stage))
    }
}

fn on_off(name: &str, value: Option<&str>, default: bool) -> Result<bool, ParameterProblem> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("on" | "true") => Ok(true),
        Some("off" | "false") => Ok(false),
        Some(other) => Err(problem(name, format!("is `{other}`"), "use `on` or `off`")),
    }
}

/// One guard of the transition disabler's own list (`TransitionGuards`): only where it guards is read here.
#[derive(serde::Deserialize)]
struct DisablerGuard {
    pipeline: String,
    stage: String,
}

fn guarded_transitions(text: Option<&str>) -> Result<Vec<GuardedTransition>, ParameterProblem> {
    // The transition disabler's guard list itself (JSON) is accepted as it is, so the two can share one value.
    if let Some(json) = text.map(str::trim).filter(|t| t.starts_with('[')) {
        let guards: Vec<DisablerGuard> = hooks_common::settings::parse_json(json).map_err(|p| {
            problem(
                "GuardedTransitions",
                p,
                "give pipeline/stage pairs, comma-separated, or the transition disabler's guard list as JSON",
            )
        })?;
        if guards.is_empty() {
            return Err(problem(
                "GuardedTransitions",
                "is an empty list",
                "list at least one guarded transition",
            ));
        }
        return Ok(guards
            .iter()
            .map(|g| GuardedTransition {
                pipeline: WildMatch::new(g.pipeline.trim()),
                stage: WildMatch::new_case_insensitive(g.stage.trim()),
            })
            .collect());
    }
    let entries = list(text);
    if entries.is_empty() {
        return Err(problem(
            "GuardedTransitions",
            "is empty, but WatchedPromotion is `on`",
            "list the transitions the transition disabler guards as pipeline/stage (globs allowed), comma-separated",
        ));
    }
    entries
        .iter()
        .map(|entry| match entry.split_once('/') {
            Some((pipeline, stage)) if !pipeline.trim().is_empty() && !stage.trim().is_empty() => {
                Ok(GuardedTransition {
                    pipeline: WildMatch::new(pipeline.trim()),
                    stage: WildMatch::new_case_insensitive(stage.trim()),
                })
            }
            _ => Err(problem(
                "GuardedTransitions",
                format!("entry `{entry}` is not pipeline/stage"),
                "write each entry as pipeline/stage, e.g. shop/Production or payments-*/Prod*",
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check_an_approval_and_tests_before_prod() {
        let practices = Practices::from_rule_parameters(None).unwrap();
        assert!(practices.is_production("Production") && practices.is_production("prod-eu"));
        assert!(!practices.is_production("Staging"));
        assert_eq!(practices.approval, ApprovalRule::AnyManual);
        assert_eq!(practices.tests, TestRule::AnyTest);
        assert_eq!(practices.max_parallel_deploys, None);
        assert!(practices.watched.is_none());
    }

    #[test]
    fn every_parameter_parses() {
        let practices = Practices::from_rule_parameters(Some(
            r#"{"ProductionStagePattern": "Live, Prod*", "ApprovalBeforeProduction": "gate",
                "GateTopicArns": "arn:a, arn:b", "TestFunctionNames": "runner", "MaxParallelDeploys": 2,
                "WatchedPromotion": "on", "GuardedTransitions": "shop/Production, pay-*/Live"}"#,
        ))
        .unwrap();
        assert!(practices.is_production("live"));
        assert_eq!(
            practices.approval,
            ApprovalRule::GateTopic(vec!["arn:a".into(), "arn:b".into()])
        );
        assert_eq!(practices.tests, TestRule::Functions(vec!["runner".into()]));
        assert_eq!(practices.max_parallel_deploys, Some(2));
        assert_eq!(practices.watched.unwrap().len(), 2);
    }

    #[test]
    fn the_transition_disablers_guard_list_is_read_as_it_is() {
        let guards =
            r#"[{"pipeline": "shop", "stage": "Production", "alarms": ["shop-canary"], "cooldown_minutes": 10}]"#;
        let parameters = serde_json::json!({"WatchedPromotion": "on", "GuardedTransitions": guards}).to_string();
        let watched = Practices::from_rule_parameters(Some(&parameters))
            .unwrap()
            .watched
            .unwrap();
        assert!(watched[0].pipeline.matches("shop") && watched[0].stage.matches("production"));
        assert!(!watched[0].pipeline.matches("shop-eu"));
        let broken = serde_json::json!({"WatchedPromotion": "on", "GuardedTransitions": "[{\"pipeline\": \"shop\"}]"})
            .to_string();
        let err = Practices::from_rule_parameters(Some(&broken)).unwrap_err();
        assert!(
            err.name == "GuardedTransitions" && err.problem.contains("stage"),
            "{err:?}"
        );
    }

    #[test]
    fn bad_parameters_name_themselves_and_the_fix() {
        let cases = [
            ("not json", "ruleParameters"),
            (r#"{"ProductionStage": "Prod"}"#, "ProductionStage"),
            (r#"{"ApprovalBeforeProduction": "gate"}"#, "GateTopicArns"),
            (
                r#"{"ApprovalBeforeProduction": "sometimes"}"#,
                "ApprovalBeforeProduction",
            ),
            (r#"{"TestAfterDeploy": "maybe"}"#, "TestAfterDeploy"),
            (r#"{"MaxParallelDeploys": "0"}"#, "MaxParallelDeploys"),
            (r#"{"WatchedPromotion": "on"}"#, "GuardedTransitions"),
            (
                r#"{"WatchedPromotion": "on", "GuardedTransitions": "Production"}"#,
                "GuardedTransitions",
            ),
            (r#"{"ProductionStagePattern": ", ,"}"#, "ProductionStagePattern"),
            (r#"{"GateTopicArns": ["a"]}"#, "GateTopicArns"),
        ];
        for (text, name) in cases {
            let err = Practices::from_rule_parameters(Some(text)).unwrap_err();
            assert_eq!(err.name, name, "{text}: {err:?}");
            assert!(!err.fix.is_empty());
        }
    }
}
