//! The suite's one JSON shape: the model, its defaults, and parsing with errors that name the JSON path.
//!
//! ```json
//! {"base_url": "https://canary.example.com", "timeout_ms": 3000, "consecutive_failures_to_fail": 2,
//!  "pass": {"min_passed_percent": 90},
//!  "checks": [{"name": "health", "url": "/health", "expect": {"json": [{"pointer": "/status", "equals": "ok"}]}}]}
//! ```
//!
//! Defaults are generous so that a suite fits in CodePipeline's `UserParameters` (1000 characters): a check needs
//! only `name` and `url`; it then expects HTTP 200 within 5 s.

use std::collections::BTreeMap;
use std::fmt;

use reqwest::Url;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

pub use crate::validate::{FieldError, SuiteError};

pub const DEFAULT_CONCURRENCY: usize = 8;
pub const MAX_CONCURRENCY: usize = 64;
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_RETRY_DELAY_MS: u64 = 1_000;

/// A declarative set of HTTP checks and how to run and judge them.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Prefix for check URLs that start with `/`; lets one suite test each deployment segment.
    #[serde(default)]
    pub base_url: Option<String>,
    /// How many checks run at the same time (1 to 64).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Per attempt: from sending the request to the last byte of the body.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// A check is attempted up to this many times and fails only when all of them failed in a row.
    #[serde(default = "one")]
    pub consecutive_failures_to_fail: u32,
    /// Pause between a failed attempt and the next one.
    #[serde(default = "default_retry_delay_ms")]
    pub retry_delay_ms: u64,
    #[serde(default)]
    pub pass: PassCriterion,
    pub checks: Vec<Check>,
}

/// One HTTP request and what its answer must look like.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Unique in the suite; names the check in reports and metrics.
    pub name: String,
    /// GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (any case); GET when absent.
    #[serde(default = "default_method")]
    pub method: String,
    /// Absolute `http(s)://` URL, or a path starting with `/` under the suite's `base_url`.
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<Body>,
    #[serde(default)]
    pub expect: Expect,
}

/// A request body: a JSON string is sent as text, anything else as JSON (`content-type: application/json`
/// unless the check's headers set one).
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Text(String),
    Json(Value),
}

/// What a passing answer looks like. Every listed expectation must hold.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// One status code or a list; 200 when absent.
    #[serde(default)]
    pub status: StatusSet,
    /// Substrings the body must contain (case-sensitive).
    #[serde(default)]
    pub body_contains: Vec<String>,
    /// JSON values the body must hold at JSON Pointers (RFC 6901).
    #[serde(default)]
    pub json: Vec<JsonEquals>,
    /// Response headers that must be present (any case).
    #[serde(default)]
    pub headers_present: Vec<String>,
    /// Upper bound on the attempt's latency (request sent to last body byte).
    #[serde(default)]
    pub max_latency_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JsonEquals {
    pub pointer: String,
    pub equals: Value,
}

/// The accepted status codes: `200` or `[200, 204]` in JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSet(pub Vec<u16>);

impl Default for StatusSet {
    fn default() -> StatusSet {
        StatusSet(vec![200])
    }
}

impl StatusSet {
    pub fn contains(&self, status: u16) -> bool {
        self.0.contains(&status)
    }
}

/// When the suite as a whole passes: `"all"` (default) or `{"min_passed_percent": 90}`.
/// Checks the deadline cut count as not passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PassCriterion {
    #[default]
    All,
    MinPassedPercent(u32),
}

impl PassCriterion {
    /// Whether `passed` of `total` checks meet the criterion. An empty run proves nothing and never passes.
    pub fn is_met(&self, passed: usize, total: usize) -> bool {
        if total == 0 {
            return false;
        }
        match *self {
            PassCriterion::All => passed >= total,
            PassCriterion::MinPassedPercent(percent) => passed as u128 * 100 >= u128::from(percent) * total as u128,
        }
    }
}

impl fmt::Display for PassCriterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassCriterion::All => f.write_str("all checks must pass"),
            PassCriterion::MinPassedPercent(p) => write!(f, "at least {p}% of checks must pass"),
        }
    }
}

/// Where the runner finds its suite: inline in `UserParameters`, or as a file in the action's input artifact
/// (`{"suite_from_artifact": "checks/smoke.json"}`), so teams version their checks with their code.
#[derive(Clone, Debug, PartialEq)]
pub enum SuiteSource {
    Inline(Suite),
    Artifact(ArtifactFile),
}

/// A file in one of the action's input artifacts: `checks/smoke.json` in the action's only input artifact, or
/// `BuildOutput::checks/smoke.json` in the one named `BuildOutput` (CodePipeline's `ArtifactName::path` form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactFile {
    /// The input artifact's name; `None` when the reference gives none (the action must then have exactly one).
    pub artifact: Option<String>,
    /// A relative path inside the artifact (a zip file): no leading `/`, no `..`.
    pub path: String,
}

impl fmt::Display for ArtifactFile {
    /// As written in `suite_from_artifact`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.artifact {
            Some(artifact) => write!(f, "{artifact}::{}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

pub const ARTIFACT_KEY: &str = "suite_from_artifact";

impl SuiteSource {
    /// Parses `UserParameters` (or a settings value): an artifact reference, or a suite, validated.
    pub fn parse(raw: &str) -> Result<SuiteSource, SuiteError> {
        let value: Value = serde_json::from_str(raw).map_err(|e| syntax_error(&e))?;
        match value
            .as_object()
            .and_then(|o| o.get(ARTIFACT_KEY).map(|path| (o, path)))
        {
            Some((object, reference)) => {
                crate::validate::artifact_reference(object, reference).map(SuiteSource::Artifact)
            }
            None => Suite::from_value(value).map(SuiteSource::Inline),
        }
    }
}

impl Suite {
    /// Parses and validates a suite from JSON text; every problem found is reported, each naming its field.
    pub fn parse(raw: &str) -> Result<Suite, SuiteError> {
        let value: Value = serde_json::from_str(raw).map_err(|e| syntax_error(&e))?;
        Suite::from_value(value)
    }

    /// Parses and validates a suite from a JSON value (e.g. an artifact file already read).
    pub fn from_value(value: Value) -> Result<Suite, SuiteError> {
        objects_only(&value)?;
        let mut suite: Suite = deserialize(value)?;
        suite.normalize();
        suite.validate()?;
        Ok(suite)
    }

    /// Trims names and upper-cases methods, so `"post"` and `"POST"` mean the same.
    fn normalize(&mut self) {
        for check in &mut self.checks {
            check.name = check.name.trim().to_owned();
            check.method = check.method.trim().to_ascii_uppercase();
        }
    }

    /// The problems that make this suite unusable, each naming its field and the fix.
    pub fn validate(&self) -> Result<(), SuiteError> {
        crate::validate::suite(self)
    }

    /// The URL a check requests (see [`resolve_url`]).
    pub fn resolve_url(&self, check: &Check) -> Result<Url, String> {
        resolve_url(self.base_url.as_deref(), &check.url)
    }
}

/// A check's URL: absolute, or `base_url` + a path starting with `/`. Only `http` and `https` URLs with a host
/// and without credentials are accepted; the error completes "`url` …".
pub fn resolve_url(base_url: Option<&str>, url: &str) -> Result<Url, String> {
    let full = match (url.starts_with('/'), base_url) {
        (true, Some(base)) => format!("{}{url}", base.trim_end_matches('/')),
        (true, None) => return Err("is a path, but the suite has no `base_url` to put it under".to_owned()),
        (false, _) => url.to_owned(),
    };
    parse_http_url(&full)
}

/// An absolute `http(s)` URL with a host and no user name or password (they would end up in logs and reports).
pub fn parse_http_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "uses scheme `{}`; only http and https are checked",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("carries credentials; they would appear in logs and reports".to_owned());
    }
    Ok(url)
}

fn deserialize<T: DeserializeOwned>(value: Value) -> Result<T, SuiteError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let problem = e.into_inner().to_string();
        SuiteError::one(shape_error(&path, &problem))
    })
}

/// Names the field of a shape error: serde reports a missing field at its parent's path.
fn shape_error(path: &str, problem: &str) -> FieldError {
    let parent = if path == "." { "" } else { path };
    let join = |name: &str| {
        if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}.{name}")
        }
    };
    if let Some(name) = problem
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        return FieldError::new(join(name), "is missing", "add it (it has no default)");
    }
    let field = if parent.is_empty() {
        "(suite)".to_owned()
    } else {
        parent.to_owned()
    };
    let fix = if problem.starts_with("unknown field") {
        "remove it or correct its spelling (the accepted fields are listed)"
    } else {
        "give it a value of the expected type (see the suite format in crates/checks/README.md)"
    };
    FieldError::new(field, problem, fix)
}

/// Serde would also accept a struct written as an array of its fields in order; the documented shape has
/// objects only.
fn objects_only(suite: &Value) -> Result<(), SuiteError> {
    let mut objects = vec![("(suite)".to_owned(), suite)];
    for (i, check) in suite
        .get("checks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        objects.push((format!("checks[{i}]"), check));
        if let Some(expect) = check.get("expect") {
            objects.push((format!("checks[{i}].expect"), expect));
            for (j, json) in expect
                .get("json")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                objects.push((format!("checks[{i}].expect.json[{j}]"), json));
            }
        }
    }
    match objects.into_iter().find(|(_, value)| value.is_array()) {
        Some((field, _)) => Err(SuiteError::one(FieldError::new(
            field,
            "is a JSON array where an object is expected",
            "write it as an object with named fields (see the suite format in crates/checks/README.md)",
        ))),
        None => Ok(()),
    }
}

fn syntax_error(e: &serde_json::Error) -> SuiteError {
    SuiteError::one(FieldError::new(
        "(suite)",
        format!("is not valid JSON: {e}"),
        "write the suite as one JSON object, e.g. {\"checks\": [{\"name\": \"health\", \"url\": \"https://example.com/health\"}]}",
    ))
}

fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_retry_delay_ms() -> u64 {
    DEFAULT_RETRY_DELAY_MS
}
fn one() -> u32 {
    1
}
fn default_method() -> String {
    "GET".to_owned()
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Body, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::String(text) => Body::Text(text),
            other => Body::Json(other),
        })
    }
}

impl<'de> Deserialize<'de> for StatusSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StatusSet, D::Error> {
        let code = |v: &Value| v.as_u64().and_then(|n| u16::try_from(n).ok());
        let value = Value::deserialize(deserializer)?;
        let codes = match &value {
            Value::Array(items) => items.iter().map(code).collect::<Option<Vec<u16>>>(),
            single => code(single).map(|c| vec![c]),
        };
        codes.map(StatusSet).ok_or_else(|| {
            de::Error::custom(format!(
                "expected a status code like 200 or a list like [200, 204], got {value}"
            ))
        })
    }
}

impl Serialize for StatusSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_u16(*one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for PassCriterion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PassCriterion, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if value == "all" {
            return Ok(PassCriterion::All);
        }
        let percent = value
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get("min_passed_percent"))
            .and_then(Value::as_u64);
        match percent {
            Some(p) => Ok(PassCriterion::MinPassedPercent(u32::try_from(p).unwrap_or(u32::MAX))),
            None => Err(de::Error::custom(format!(
                "expected \"all\" or {{\"min_passed_percent\": <1 to 100>}}, got {value}"
            ))),
        }
    }
}

impl Serialize for PassCriterion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PassCriterion::All => serializer.serialize_str("all"),
            PassCriterion::MinPassedPercent(p) => serde_json::json!({ "min_passed_percent": p }).serialize(serializer),
        }
    }
}
