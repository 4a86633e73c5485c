//! The action's `UserParameters`: a check suite (the `checks` crate's shape, or where it is in the input artifact:
//! `{"suite_from_artifact": "checks/smoke.json"}`, `"BuildOutput::checks/smoke.json"` to pick one of several
//! artifacts), plus an optional `soak` member, in one JSON document of at most 1000 characters.
//!
//! ```json
//! {"soak": {"every_seconds": 60, "for_minutes": 30, "max_failed_rounds": 0},
//!  "base_url": "https://canary.example.com", "checks": [{"name": "health", "url": "/health"}]}
//! ```
//!
//! Every problem is reported at once, each naming its field and the fix, fit for a `ConfigurationError`.

use std::fmt;
use std::time::Duration;

use checks::{FieldError, SuiteSource};
use serde::Deserialize;
use serde_json::Value;

/// The member of `UserParameters` that holds the soak settings; everything else is the suite.
pub const SOAK_KEY: &str = "soak";
pub const MAX_EVERY_SECONDS: u64 = 3_600;
/// CodePipeline fails an Invoke action whose job chain runs past 24 hours; a soak stays well inside that.
pub const MAX_SOAK_MINUTES: f64 = 12.0 * 60.0;

/// What one Invoke action asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameters {
    pub source: SuiteSource,
    pub soak: Option<Soak>,
}

/// "Run the suite every `every` for `length`": rounds continue across invocations through continuation tokens,
/// and the soak fails as soon as more than `max_failed_rounds` rounds failed (always fewer than it plans, see
/// [`Soak::planned_rounds`], so a soak never passes with every round failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Soak {
    pub every: Duration,
    pub length: Duration,
    pub max_failed_rounds: u32,
}

impl Soak {
    /// The rounds the soak plans: one at its start, then one every `every` while within its length (fewer run if
    /// rounds start late).
    pub fn planned_rounds(&self) -> u128 {
        self.length.as_millis().div_ceil(self.every.as_millis().max(1))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SoakSetting {
    every_seconds: u64,
    for_minutes: f64,
    #[serde(default)]
    max_failed_rounds: u32,
}

/// Why `UserParameters` cannot be used: at least one problem, each naming its field and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    pub errors: Vec<FieldError>,
}

impl ParamError {
    fn one(field: &str, problem: impl Into<String>, fix: impl Into<String>) -> ParamError {
        ParamError {
            errors: vec![FieldError::new(field, problem, fix)],
        }
    }

    /// Whether some problem names exactly this field.
    pub fn names(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserParameters:")?;
        for e in &self.errors {
            write!(f, " {e}")?;
            if !e.fix.ends_with('.') {
                f.write_str(".")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ParamError {}

const EXAMPLE: &str = r#"{"base_url": "https://canary.example.com", "checks": [{"name": "health", "url": "/health"}]}"#;

/// Parses the action's `UserParameters` (absent or blank is an error: there is nothing to test).
pub fn parse(raw: Option<&str>) -> Result<Parameters, ParamError> {
    let raw = raw.map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
        ParamError::one(
            "UserParameters",
            "is empty",
            format!("set the action's UserParameters to a check suite, e.g. {EXAMPLE}"),
        )
    })?;
    // Not a JSON object: the suite parser says why, in its words.
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(raw) else {
        return match SuiteSource::parse(raw) {
            Err(e) => Err(ParamError { errors: e.errors }),
            Ok(_) => Err(ParamError::one("UserParameters", "is not a JSON object", EXAMPLE)),
        };
    };
    let soak = object.remove(SOAK_KEY).map(parse_soak);
    let source = SuiteSource::parse(&Value::Object(object).to_string());
    let mut errors = Vec::new();
    if let Some(Err(problems)) = &soak {
        errors.extend(problems.iter().cloned());
    }
    if let Err(e) = &source {
        errors.extend(e.errors.iter().cloned());
    }
    match (source, soak.transpose()) {
        (Ok(source), Ok(soak)) => Ok(Parameters { source, soak }),
        _ => Err(ParamError { errors }),
    }
}

fn parse_soak(value: Value) -> Result<Soak, Vec<FieldError>> {
    const FIX: &str = r#"write it like "soak": {"every_seconds": 60, "for_minutes": 30}"#;
    if !value.is_object() {
        return Err(vec![FieldError::new(SOAK_KEY, "is not an object", FIX)]);
    }
    let setting: SoakSetting = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let problem = e.into_inner().to_string();
        vec![shape_error(&path, &problem, FIX)]
    })?;
    let mut errors = Vec::new();
    let every = setting.every_seconds;
    if !(1..=MAX_EVERY_SECONDS).contains(&every) {
        errors.push(FieldError::new(
            "soak.every_seconds",
            format!("is {every}"),
            format!("use 1 to {MAX_EVERY_SECONDS} (seconds between the starts of two rounds)"),
        ));
    }
    let minutes = setting.for_minutes;
    if !(minutes > 0.0 && minutes <= MAX_SOAK_MINUTES) {
        errors.push(FieldError::new(
            "soak.for_minutes",
            format!("is {minutes}"),
            format!("use more than 0 and at most {MAX_SOAK_MINUTES} (fractions are allowed: 0.5 is 30 s)"),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let length = Duration::from_millis((minutes * 60_000.0).round() as u64);
    let every = Duration::from_secs(every);
    if every > length {
        return Err(vec![FieldError::new(
            "soak.every_seconds",
            format!("is longer than soak.for_minutes ({minutes} min): only one round would run"),
            "shorten every_seconds, lengthen for_minutes, or drop `soak` for a single run",
        )]);
    }
    let soak = Soak {
        every,
        length,
        max_failed_rounds: setting.max_failed_rounds,
    };
    let planned = soak.planned_rounds();
    let allowed = setting.max_failed_rounds;
    if u128::from(allowed) >= planned {
        return Err(vec![FieldError::new(
            "soak.max_failed_rounds",
            format!(
                "is {allowed}, but the soak plans only {planned} round(s) (every {} s for {minutes} min): it would \
                 pass with every round failed",
                every.as_secs()
            ),
            format!(
                "use at most {} (fewer failed rounds than the soak plans), or lengthen for_minutes",
                planned - 1
            ),
        )]);
    }
    Ok(soak)
}

/// Names the field of a shape error: serde reports a missing field at its parent's path.
fn shape_error(path: &str, problem: &str, fix: &str) -> FieldError {
    if let Some(name) = problem
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        return FieldError::new(format!("{SOAK_KEY}.{name}"), "is missing", fix);
    }
    let field = if path == "." {
        SOAK_KEY.to_owned()
    } else {
        format!("{SOAK_KEY}.{path}")
    };
    FieldError::new(field, problem, fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUITE: &str = r#""base_url": "https://canary.example.com", "checks": [{"name": "health", "url": "/health"}]"#;

    fn with(extra: &str) -> String {
        if extra.is_empty() {
            format!("{{{SUITE}}}")
        } else {
            format!("{{{extra}, {SUITE}}}")
        }
    }

    #[test]
    fn suites_with_and_without_soak() {
        let plain = parse(Some(&with(""))).unwrap();
        assert!(matches!(plain.source, SuiteSource::Inline(ref s) if s.checks.len() == 1));
        assert_eq!(plain.soak, None);

        let soaked = parse(Some(&with(r#""soak": {"every_seconds": 60, "for_minutes": 30}"#))).unwrap();
        assert_eq!(
            soaked.soak,
            Some(Soak {
                every: Duration::from_secs(60),
                length: Duration::from_secs(1800),
                max_failed_rounds: 0
            })
        );

        let fraction = parse(Some(&with(
            r#""soak": {"every_seconds": 1, "for_minutes": 0.1, "max_failed_rounds": 2}"#,
        )))
        .unwrap()
        .soak
        .unwrap();
        assert_eq!(
            (fraction.length, fraction.max_failed_rounds),
            (Duration::from_secs(6), 2)
        );

        let artifact = parse(Some(
            r#"{"suite_from_artifact": "checks/smoke.json", "soak": {"every_seconds": 60, "for_minutes": 5}}"#,
        ))
        .unwrap();
        assert_eq!(
            artifact.source,
            SuiteSource::Artifact(checks::ArtifactFile {
                artifact: None,
                path: "checks/smoke.json".into()
            })
        );
        assert!(artifact.soak.is_some());

        // At most one fewer failed round than planned: ceil(length / every) rounds, a partial interval included.
        for (soak, planned, most) in [
            (
                r#"{"every_seconds": 60, "for_minutes": 5, "max_failed_rounds": 4}"#,
                5,
                4,
            ),
            (
                r#"{"every_seconds": 7, "for_minutes": 0.5, "max_failed_rounds": 4}"#,
                5,
                4,
            ),
            (r#"{"every_seconds": 60, "for_minutes": 1}"#, 1, 0),
        ] {
            let soak = parse(Some(&with(&format!(r#""soak": {soak}"#)))).unwrap().soak.unwrap();
            assert_eq!((soak.planned_rounds(), soak.max_failed_rounds), (planned, most));
        }
    }

    #[test]
    fn every_problem_names_its_field() {
        // (UserParameters, a field that must be named, text the message must carry)
        let cases: Vec<(Option<String>, &str, &str)> = vec![
            (None, "UserParameters", "is empty"),
            (Some("  ".into()), "UserParameters", "is empty"),
            (Some("not json".into()), "(suite)", "is not valid JSON"),
            (Some("[1, 2]".into()), "(suite)", ""),
            (Some(r#"{"checks": []}"#.into()), "checks", "is empty"),
            (
                Some(r#"{"checks": [{"name": "a", "url": "/a"}]}"#.into()),
                "checks[0].url",
                "base_url",
            ),
            (Some(with(r#""soak": 5"#)), "soak", "is not an object"),
            (
                Some(with(r#""soak": {"for_minutes": 5}"#)),
                "soak.every_seconds",
                "is missing",
            ),
            (
                Some(with(r#""soak": {"every_seconds": 0, "for_minutes": 5}"#)),
                "soak.every_seconds",
                "is 0",
            ),
            (
                Some(with(r#""soak": {"every_seconds": 5, "for_minutes": 0}"#)),
                "soak.for_minutes",
                "is 0",
            ),
            (
                Some(with(r#""soak": {"every_seconds": 5, "for_minutes": 9999}"#)),
                "soak.for_minutes",
                "at most 720",
            ),
            (
                Some(with(r#""soak": {"every_seconds": 600, "for_minutes": 5}"#)),
                "soak.every_seconds",
                "only one round would run",
            ),
            // A soak may not allow as many failed rounds as it plans: it would pass with every round failed.
            (
                Some(with(
                    r#""soak": {"every_seconds": 60, "for_minutes": 5, "max_failed_rounds": 5}"#,
                )),
                "soak.max_failed_rounds",
                "plans only 5 round(s) (every 60 s for 5 min): it would pass with every round failed. Fix: use \
                 at most 4",
            ),
            (
                Some(with(
                    r#""soak": {"every_seconds": 60, "for_minutes": 5, "max_failed_rounds": 4000000000}"#,
                )),
                "soak.max_failed_rounds",
                "is 4000000000",
            ),
            (
                Some(with(
                    r#""soak": {"every_seconds": 7, "for_minutes": 0.5, "max_failed_rounds": 5}"#,
                )),
                "soak.max_failed_rounds",
                "plans only 5 round(s)",
            ),
            (
                Some(with(
                    r#""soak": {"every_seconds": 60, "for_minutes": 1, "max_failed_rounds": 1}"#,
                )),
                "soak.max_failed_rounds",
                "use at most 0",
            ),
            (
                Some(with(r#""soak": {"every_seconds": 5, "for_minutes": 1, "rounds": 3}"#)),
                "soak.rounds",
                "unknown field `rounds`",
            ),
            (
                Some(with(r#""soak": {"every_seconds": "often", "for_minutes": 1}"#)),
                "soak.every_seconds",
                "invalid type",
            ),
        ];
        for (raw, field, text) in cases {
            let err = parse(raw.as_deref()).unwrap_err();
            assert!(err.names(field), "{raw:?}: {field} not named in {err}");
            let message = err.to_string();
            assert!(message.starts_with("UserParameters: `"), "{message}");
            assert!(message.contains(text), "{raw:?}: {text:?} not in {message}");
            assert!(message.contains("Fix: "), "{message}");
        }
    }

    #[test]
    fn suite_and_soak_problems_are_reported_together() {
        let raw = r#"{"soak": {"every_seconds": 0, "for_minutes": 1}, "checks": [{"name": "a"}]}"#;
        let err = parse(Some(raw)).unwrap_err();
        assert!(err.names("soak.every_seconds"), "{err}");
        assert!(err.names("checks[0].url"), "{err}");
    }
}
