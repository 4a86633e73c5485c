//! Validation of a parsed suite: every problem is reported at once, each naming its JSON path and the fix.

use std::collections::HashMap;
use std::fmt;

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::suite::{ArtifactFile, Check, Expect, MAX_CONCURRENCY, PassCriterion, Suite, parse_http_url};

pub const MAX_CHECKS: usize = 1_000;
pub const MAX_NAME_CHARS: usize = 100;
pub const MIN_TIMEOUT_MS: u64 = 10;
pub const MAX_TIMEOUT_MS: u64 = 300_000;
pub const MAX_CONSECUTIVE_FAILURES: u32 = 10;
pub const MAX_RETRY_DELAY_MS: u64 = 60_000;
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// One problem with a suite: where (`checks[2].expect.status`), what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {problem}. Fix: {fix}")]
pub struct FieldError {
    pub field: String,
    pub problem: String,
    pub fix: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// Why a suite cannot be used: at least one [`FieldError`]. Fit for a `ConfigurationError` job failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuiteError {
    pub errors: Vec<FieldError>,
}

impl SuiteError {
    pub fn one(error: FieldError) -> SuiteError {
        SuiteError { errors: vec![error] }
    }

    /// Whether some error names exactly this field.
    pub fn names(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    /// The same problems for a suite that sits inside a larger document at `parent` (e.g. `checks` in an
    /// approval's CustomData), so each still names the path the person has to edit.
    pub fn nested_in(self, parent: &str) -> SuiteError {
        let errors = self
            .errors
            .into_iter()
            .map(|e| FieldError {
                field: if e.field == "(suite)" {
                    parent.to_owned()
                } else {
                    format!("{parent}.{}", e.field)
                },
                ..e
            })
            .collect();
        SuiteError { errors }
    }
}

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [one] => write!(f, "invalid check suite: {one}"),
            many => {
                write!(f, "invalid check suite ({} problems):", many.len())?;
                for e in many {
                    write!(f, " {e}")?;
                    if !e.fix.ends_with('.') {
                        f.write_str(".")?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SuiteError {}

#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) {
        self.0.push(FieldError::new(field, problem, fix));
    }

    fn range<T: PartialOrd + fmt::Display>(&mut self, field: &str, value: T, min: T, max: T, unit: &str) {
        if value < min || value > max {
            self.add(field, format!("is {value}"), format!("use {min} to {max}{unit}"));
        }
    }
}

pub(crate) fn suite(suite: &Suite) -> Result<(), SuiteError> {
    let mut p = Problems::default();
    if let Some(base) = &suite.base_url
        && let Err(problem) = parse_http_url(base)
    {
        p.add(
            "base_url",
            problem,
            "use an absolute URL such as https://canary.example.com",
        );
    }
    p.range("concurrency", suite.concurrency, 1, MAX_CONCURRENCY, "");
    p.range(
        "timeout_ms",
        suite.timeout_ms,
        MIN_TIMEOUT_MS,
        MAX_TIMEOUT_MS,
        " (milliseconds)",
    );
    p.range(
        "consecutive_failures_to_fail",
        suite.consecutive_failures_to_fail,
        1,
        MAX_CONSECUTIVE_FAILURES,
        " (1 means no retries)",
    );
    p.range(
        "retry_delay_ms",
        suite.retry_delay_ms,
        0,
        MAX_RETRY_DELAY_MS,
        " (milliseconds)",
    );
    if let PassCriterion::MinPassedPercent(percent) = suite.pass {
        p.range("pass.min_passed_percent", percent, 1, 100, " (percent)");
    }
    if suite.checks.is_empty() {
        p.add(
            "checks",
            "is empty",
            "add at least one check: {\"name\": \"health\", \"url\": \"https://…/health\"}",
        );
    } else if suite.checks.len() > MAX_CHECKS {
        p.add(
            "checks",
            format!("has {} checks", suite.checks.len()),
            format!("split the suite: at most {MAX_CHECKS} checks"),
        );
    }
    let mut first_use: HashMap<&str, usize> = HashMap::new();
    for (i, check) in suite.checks.iter().enumerate() {
        let at = format!("checks[{i}]");
        self::check(&mut p, &at, suite, check);
        if let Some(first) = first_use.get(check.name.trim()) {
            p.add(
                format!("{at}.name"),
                format!("`{}` is already the name of checks[{first}]", check.name),
                "give every check a unique name: names label reports and metrics",
            );
        } else {
            first_use.insert(check.name.trim(), i);
        }
    }
    if p.0.is_empty() {
        Ok(())
    } else {
        Err(SuiteError { errors: p.0 })
    }
}

fn check(p: &mut Problems, at: &str, suite: &Suite, check: &Check) {
    let name = check.name.trim();
    if name.is_empty() {
        p.add(format!("{at}.name"), "is empty", "name the check, e.g. \"health\"");
    } else if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        p.add(
            format!("{at}.name"),
            "is too long or holds control characters",
            format!("use at most {MAX_NAME_CHARS} printable characters"),
        );
    }
    let method = check.method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        p.add(
            format!("{at}.method"),
            format!("`{}` is not a supported method", check.method),
            format!("use one of {}", METHODS.join(", ")),
        );
    }
    let base_is_broken = suite.base_url.as_deref().is_some_and(|b| parse_http_url(b).is_err());
    if check.url.starts_with('/') && base_is_broken {
        // Reported once, at `base_url`.
    } else if let Err(problem) = suite.resolve_url(check) {
        let fix = if check.url.starts_with('/') {
            "set the suite's `base_url`, or give an absolute URL such as https://example.com/health"
        } else {
            "give an absolute http(s) URL such as https://example.com/health, or a path under `base_url`"
        };
        p.add(format!("{at}.url"), problem, fix);
    }
    for (name, value) in &check.headers {
        if HeaderName::from_bytes(name.as_bytes()).is_err() || HeaderValue::from_str(value).is_err() {
            p.add(
                format!("{at}.headers.{name}"),
                "is not a valid HTTP header name and value",
                "use a token name (letters, digits, `-`) and a value of visible ASCII characters",
            );
        }
    }
    expect(
        p,
        &format!("{at}.expect"),
        &check.expect,
        suite.timeout_ms,
        method == "HEAD",
    );
}

fn expect(p: &mut Problems, at: &str, expect: &Expect, timeout_ms: u64, head: bool) {
    if expect.status.0.is_empty() {
        p.add(
            format!("{at}.status"),
            "is an empty list",
            "list the accepted codes, e.g. [200, 204]",
        );
    }
    if let Some(bad) = expect.status.0.iter().find(|c| !(100..=599).contains(*c)) {
        p.add(
            format!("{at}.status"),
            format!("holds {bad}"),
            "use HTTP status codes from 100 to 599",
        );
    }
    for (j, needle) in expect.body_contains.iter().enumerate() {
        if needle.is_empty() {
            p.add(
                format!("{at}.body_contains[{j}]"),
                "is empty",
                "remove it, or give the text to look for",
            );
        }
    }
    for (j, json) in expect.json.iter().enumerate() {
        if !(json.pointer.is_empty() || json.pointer.starts_with('/')) {
            p.add(
                format!("{at}.json[{j}].pointer"),
                format!("`{}` is not a JSON Pointer", json.pointer),
                "start it with `/`, e.g. \"/status\" or \"/items/0/id\" (RFC 6901)",
            );
        }
    }
    for (j, header) in expect.headers_present.iter().enumerate() {
        if HeaderName::from_bytes(header.as_bytes()).is_err() {
            p.add(
                format!("{at}.headers_present[{j}]"),
                format!("`{header}` is not a valid header name"),
                "use a token name such as \"x-version\"",
            );
        }
    }
    if head && (!expect.body_contains.is_empty() || !expect.json.is_empty()) {
        p.add(
            at,
            "expects a body, but HEAD answers have none",
            "use GET, or drop `body_contains` and `json`",
        );
    }
    match expect.max_latency_ms {
        Some(0) => p.add(
            format!("{at}.max_latency_ms"),
            "is 0",
            "give a bound in milliseconds, e.g. 800",
        ),
        Some(max) if max > timeout_ms => p.add(
            format!("{at}.max_latency_ms"),
            format!("is {max}, above the suite's timeout_ms ({timeout_ms}): the check times out first"),
            "lower it below timeout_ms, or raise timeout_ms",
        ),
        _ => {}
    }
}

/// The longest artifact name CodePipeline accepts.
pub const MAX_ARTIFACT_NAME_CHARS: usize = 100;
/// The longest path inside an artifact a reference may give.
pub const MAX_ARTIFACT_PATH_CHARS: usize = 1024;

/// `{"suite_from_artifact": "checks/smoke.json"}` or `{"suite_from_artifact": "BuildOutput::checks/smoke.json"}`:
/// a relative path inside an input artifact, optionally after the artifact's name and `::` (CodePipeline's own
/// `ArtifactName::path` form, as CloudFormation's `TemplatePath` uses), standing alone in its document.
pub(crate) fn artifact_reference(object: &Map<String, Value>, reference: &Value) -> Result<ArtifactFile, SuiteError> {
    const FIELD: &str = crate::suite::ARTIFACT_KEY;
    let mut p = Problems::default();
    if let Some(other) = object.keys().find(|k| *k != FIELD) {
        // A key of "" cannot be named as a path: the document is named instead.
        let (field, problem) = match other.as_str() {
            "" => (
                "(suite)",
                format!("has a field named \"\", which cannot be combined with `{FIELD}`"),
            ),
            other => (other, format!("cannot be combined with `{FIELD}`")),
        };
        p.add(
            field,
            problem,
            format!("put the whole suite in the artifact file, or drop `{FIELD}` and inline it"),
        );
    }
    let Some(reference) = reference.as_str() else {
        p.add(
            FIELD,
            format!("is {reference}, not a path"),
            "give a path like \"checks/smoke.json\", or \"BuildOutput::checks/smoke.json\" to name the artifact",
        );
        return Err(SuiteError { errors: p.0 });
    };
    let (artifact, path) = match reference.split_once("::") {
        Some((name, path)) => (Some(name), path),
        None => (None, reference),
    };
    if let Some(name) = artifact {
        let valid = !name.is_empty()
            && name.chars().count() <= MAX_ARTIFACT_NAME_CHARS
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            p.add(
                FIELD,
                format!("names the artifact `{name}`, which is not an artifact name"),
                format!(
                    "write the input artifact's name as the action declares it (1 to {MAX_ARTIFACT_NAME_CHARS} \
                     letters, digits, `_` or `-`), then `::` and the path: \"BuildOutput::checks/smoke.json\""
                ),
            );
        }
    }
    let bad_path = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.contains("::")
        || path.split('/').any(|segment| segment == ".." || segment.is_empty())
        || path.chars().count() > MAX_ARTIFACT_PATH_CHARS;
    if bad_path {
        p.add(
            FIELD,
            format!("`{path}` is not a relative path inside the input artifact"),
            "give a path like \"checks/smoke.json\" (no leading `/`, no `..`), after \"ArtifactName::\" when the \
             action has several input artifacts",
        );
    }
    if p.0.is_empty() {
        Ok(ArtifactFile {
            artifact: artifact.map(str::to_owned),
            path: path.to_owned(),
        })
    } else {
        Err(SuiteError { errors: p.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::artifact_reference;
    use crate::Suite;
    use crate::suite::ArtifactFile;
    use serde_json::{Map, Value, json};

    #[test]
    fn artifact_references_name_a_path_and_optionally_the_artifact() {
        let alone = Map::new();
        let file = |artifact: Option<&str>, path: &str| ArtifactFile {
            artifact: artifact.map(str::to_owned),
            path: path.to_owned(),
        };
        // (reference, what it names)
        let good = [
            ("checks/smoke.json", file(None, "checks/smoke.json")),
            ("smoke.json", file(None, "smoke.json")),
            (
                "BuildOutput::checks/smoke.json",
                file(Some("BuildOutput"), "checks/smoke.json"),
            ),
            ("Source_1-a::smoke.json", file(Some("Source_1-a"), "smoke.json")),
        ];
        for (reference, expected) in good {
            let got = artifact_reference(&alone, &json!(reference)).unwrap();
            assert_eq!(got, expected, "{reference}");
            assert_eq!(got.to_string(), reference, "it displays as written");
        }
        // (reference, words the problem must hold)
        let bad = [
            (json!(""), "is not a relative path"),
            (json!("/etc/passwd"), "is not a relative path"),
            (json!("checks/../../x.json"), "is not a relative path"),
            (json!("checks//x.json"), "is not a relative path"),
            (json!("checks\\x.json"), "is not a relative path"),
            (json!("BuildOutput::"), "is not a relative path"),
            (json!("A::B::x.json"), "is not a relative path"),
            (json!("::checks/x.json"), "is not an artifact name"),
            (json!("Build Output::x.json"), "is not an artifact name"),
            (json!(format!("{}::x.json", "a".repeat(101))), "is not an artifact name"),
            (json!(3), "is 3, not a path"),
            (Value::Null, "is null, not a path"),
        ];
        for (reference, words) in bad {
            let err = artifact_reference(&alone, &reference).unwrap_err();
            assert!(err.names("suite_from_artifact"), "{reference}: {err}");
            assert!(err.to_string().contains(words), "{reference}: {words:?} not in {err}");
            assert!(err.to_string().contains("Fix: "), "{err}");
        }
        let mut combined = Map::new();
        combined.insert("checks".into(), json!([]));
        let err = artifact_reference(&combined, &json!("smoke.json")).unwrap_err();
        assert!(err.names("checks"), "{err}");
        let mut unnamed = Map::new();
        unnamed.insert(String::new(), json!(1));
        let err = artifact_reference(&unnamed, &json!("smoke.json")).unwrap_err();
        assert!(err.names("(suite)"), "{err}");
        assert!(err.to_string().contains("has a field named \"\""), "{err}");
    }

    #[test]
    fn a_nested_suite_names_the_path_from_the_outer_document() {
        let err = Suite::parse(r#"{"checks": [{"name": "a"}]}"#)
            .unwrap_err()
            .nested_in("checks");
        assert!(err.names("checks.checks[0].url"), "{err}");
        let root = Suite::parse("[]").unwrap_err().nested_in("checks");
        assert!(root.names("checks"), "{root}");
    }
}
