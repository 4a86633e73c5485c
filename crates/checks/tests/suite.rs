//! The suite's JSON shape: defaults, the documented examples, and validation errors that name the field.

use checks::{ArtifactFile, Body, PassCriterion, StatusSet, Suite, SuiteSource};
use serde_json::json;

const FULL: &str = include_str!("../suites/full.json");
const COMPACT: &str = include_str!("../suites/compact.json");

#[test]
fn a_check_needs_only_a_name_and_a_url() {
    let suite = Suite::parse(r#"{"checks": [{"name": "health", "url": "https://example.com/health"}]}"#).unwrap();
    assert_eq!(suite.concurrency, 8);
    assert_eq!(suite.timeout_ms, 5000);
    assert_eq!(suite.consecutive_failures_to_fail, 1);
    assert_eq!(suite.retry_delay_ms, 1000);
    assert_eq!(suite.pass, PassCriterion::All);
    let check = &suite.checks[0];
    assert_eq!(check.method, "GET");
    assert_eq!(check.expect.status, StatusSet(vec![200]));
    assert!(check.headers.is_empty() && check.body.is_none());
    assert!(check.expect.body_contains.is_empty() && check.expect.json.is_empty());
    assert_eq!(check.expect.max_latency_ms, None);
}

#[test]
fn the_documented_examples_parse_and_the_compact_one_fits_user_parameters() {
    assert!(COMPACT.chars().count() <= 1000, "{} chars", COMPACT.chars().count());
    let compact = Suite::parse(COMPACT).unwrap();
    assert_eq!(compact.checks.len(), 4);
    assert_eq!(
        compact.resolve_url(&compact.checks[0]).unwrap().as_str(),
        "https://canary.example.com/health"
    );

    let full = Suite::parse(FULL).unwrap();
    assert_eq!(full.pass, PassCriterion::MinPassedPercent(90));
    assert_eq!(full.checks.len(), 6);
    let checkout = &full.checks[2];
    assert_eq!(
        checkout.body,
        Some(Body::Json(json!({"sku": "TEST-1", "qty": 1, "dry_run": true})))
    );
    assert_eq!(checkout.expect.status, StatusSet(vec![200, 201]));
    assert_eq!(full.checks[3].method, "GET", "methods are upper-cased");
    assert_eq!(full.checks[5].body, Some(Body::Text("ping".into())));
    assert_eq!(
        full.resolve_url(&full.checks[1]).unwrap().as_str(),
        "https://shop.example.com/",
        "absolute URLs ignore base_url"
    );
}

#[test]
fn suite_source_is_inline_or_an_artifact_path() {
    assert!(matches!(SuiteSource::parse(COMPACT).unwrap(), SuiteSource::Inline(_)));
    assert_eq!(
        SuiteSource::parse(r#"{"suite_from_artifact": "checks/smoke.json"}"#).unwrap(),
        SuiteSource::Artifact(ArtifactFile {
            artifact: None,
            path: "checks/smoke.json".into()
        })
    );
    assert_eq!(
        SuiteSource::parse(r#"{"suite_from_artifact": "BuildOutput::checks/smoke.json"}"#).unwrap(),
        SuiteSource::Artifact(ArtifactFile {
            artifact: Some("BuildOutput".into()),
            path: "checks/smoke.json".into()
        })
    );
    let cases = [
        (r#"{"suite_from_artifact": "/etc/passwd"}"#, "suite_from_artifact"),
        (r#"{"suite_from_artifact": "../x.json"}"#, "suite_from_artifact"),
        (r#"{"suite_from_artifact": ""}"#, "suite_from_artifact"),
        (r#"{"suite_from_artifact": 3}"#, "suite_from_artifact"),
        (
            r#"{"suite_from_artifact": "Build Output::a.json"}"#,
            "suite_from_artifact",
        ),
        (r#"{"suite_from_artifact": "a.json", "checks": []}"#, "checks"),
        (r#"{"checks": [{"name": "a"}]}"#, "checks[0].url"),
    ];
    for (raw, field) in cases {
        let error = SuiteSource::parse(raw).unwrap_err();
        assert!(error.names(field), "{raw}: {error}");
    }
}

/// (suite JSON, the field the error must name, words the message must hold).
const INVALID: &[(&str, &str, &str)] = &[
    // Shape errors, located by serde's path.
    ("{not json", "(suite)", "not valid JSON"),
    ("[]", "(suite)", "is a JSON array"),
    (
        r#"{"checks": [["a", "GET", "https://e.com", {}, null, {}]]}"#,
        "checks[0]",
        "is a JSON array",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"json": [["/a", 1]]}}]}"#,
        "checks[0].expect.json[0]",
        "is a JSON array",
    ),
    ("3", "(suite)", "invalid type"),
    (r#"{"chekcs": []}"#, "chekcs", "unknown field `chekcs`, expected one of"),
    (r#"{}"#, "checks", "is missing"),
    (
        r#"{"checks": [{"url": "https://e.com"}]}"#,
        "checks[0].name",
        "is missing",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"stauts": 200}}]}"#,
        "checks[0].expect.stauts",
        "unknown field `stauts`",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"status": "200"}}]}"#,
        "checks[0].expect.status",
        "list like [200, 204]",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"status": [200, "x"]}}]}"#,
        "checks[0].expect.status",
        "status code",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"json": [{"pointer": "/a"}]}}]}"#,
        "checks[0].expect.json[0].equals",
        "is missing",
    ),
    (r#"{"pass": "most", "checks": []}"#, "pass", "min_passed_percent"),
    (r#"{"concurrency": -1, "checks": []}"#, "concurrency", "invalid value"),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "headers": {"x": 1}}]}"#,
        "checks[0].headers.x",
        "invalid type",
    ),
    // Validation of values.
    (r#"{"checks": []}"#, "checks", "add at least one check"),
    (
        r#"{"concurrency": 65, "checks": [{"name": "a", "url": "https://e.com"}]}"#,
        "concurrency",
        "use 1 to 64",
    ),
    (
        r#"{"concurrency": 0, "checks": [{"name": "a", "url": "https://e.com"}]}"#,
        "concurrency",
        "use 1 to 64",
    ),
    (
        r#"{"timeout_ms": 5, "checks": [{"name": "a", "url": "https://e.com"}]}"#,
        "timeout_ms",
        "milliseconds",
    ),
    (
        r#"{"timeout_ms": 900000, "checks": [{"name": "a", "url": "https://e.com"}]}"#,
        "timeout_ms",
        "use 10 to 300000",
    ),
    (
        r#"{"consecutive_failures_to_fail": 0, "checks": [{"name": "a", "url": "https://e.com"}]}"#,
        "consecutive_failures_to_fail",
        "use 1 to 10",
    ),
    (
        r#"{"retry_delay_ms": 600000, "checks": [{"name": "a", "url": "https://e.com"}]}"#,
        "retry_delay_ms",
        "use 0 to 60000",
    ),
    (
        r#"{"pass": {"min_passed_percent": 0}, "checks": [{"name": "a", "url": "https://e.com"}]}"#,
        "pass.min_passed_percent",
        "use 1 to 100",
    ),
    (
        r#"{"pass": {"min_passed_percent": 300}, "checks": [{"name": "a", "url": "https://e.com"}]}"#,
        "pass.min_passed_percent",
        "is 300",
    ),
    (
        r#"{"base_url": "canary.example.com", "checks": [{"name": "a", "url": "/h"}]}"#,
        "base_url",
        "absolute URL",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "ftp://e.com/x"}]}"#,
        "checks[0].url",
        "only http and https",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "e.com/health"}]}"#,
        "checks[0].url",
        "not a valid URL",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "/health"}]}"#,
        "checks[0].url",
        "base_url",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://user:pw@e.com/"}]}"#,
        "checks[0].url",
        "credentials",
    ),
    (
        r#"{"checks": [{"name": " ", "url": "https://e.com"}]}"#,
        "checks[0].name",
        "is empty",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com"}, {"name": "b", "url": "https://e.com"}, {"name": "a", "url": "https://e.com"}]}"#,
        "checks[2].name",
        "checks[0]",
    ),
    (
        r#"{"checks": [{"name": "a", "method": "FETCH", "url": "https://e.com"}]}"#,
        "checks[0].method",
        "GET, HEAD, POST",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "headers": {"bad header": "v"}}]}"#,
        "checks[0].headers.bad header",
        "token name",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"status": []}}]}"#,
        "checks[0].expect.status",
        "[200, 204]",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"status": 42}}]}"#,
        "checks[0].expect.status",
        "100 to 599",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"body_contains": ["ok", ""]}}]}"#,
        "checks[0].expect.body_contains[1]",
        "is empty",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"json": [{"pointer": "status", "equals": 1}]}}]}"#,
        "checks[0].expect.json[0].pointer",
        "start it with `/`",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"headers_present": ["x version"]}}]}"#,
        "checks[0].expect.headers_present[0]",
        "header name",
    ),
    (
        r#"{"checks": [{"name": "a", "url": "https://e.com", "expect": {"max_latency_ms": 9000}}]}"#,
        "checks[0].expect.max_latency_ms",
        "raise timeout_ms",
    ),
    (
        r#"{"checks": [{"name": "a", "method": "HEAD", "url": "https://e.com", "expect": {"body_contains": ["x"]}}]}"#,
        "checks[0].expect",
        "HEAD",
    ),
];

#[test]
fn every_error_names_its_field_and_says_how_to_fix_it() {
    for (raw, field, words) in INVALID {
        let error = Suite::parse(raw).unwrap_err();
        assert!(error.names(field), "{raw}: expected field `{field}`, got: {error}");
        let message = error.to_string();
        assert!(message.contains(words), "{raw}: expected {words:?} in: {message}");
        assert!(message.contains(&format!("`{field}`")), "{message}");
        assert!(error.errors.iter().all(|e| !e.fix.is_empty()), "{raw}: {error:?}");
        assert!(message.contains("Fix: "), "{message}");
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let raw = r#"{"concurrency": 100, "checks": [{"name": "a", "url": "/x", "expect": {"status": 700}}]}"#;
    let error = Suite::parse(raw).unwrap_err();
    let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["concurrency", "checks[0].url", "checks[0].expect.status"]);
    assert!(
        error.to_string().starts_with("invalid check suite (3 problems):"),
        "{error}"
    );
}

#[test]
fn pass_criterion_table() {
    let cases = [
        (PassCriterion::All, 3, 3, true),
        (PassCriterion::All, 2, 3, false),
        (PassCriterion::All, 0, 0, false),
        (PassCriterion::MinPassedPercent(90), 9, 10, true),
        (PassCriterion::MinPassedPercent(90), 8, 10, false),
        (PassCriterion::MinPassedPercent(90), 17, 19, false), // 89.5 %
        (PassCriterion::MinPassedPercent(90), 18, 20, true),
        (PassCriterion::MinPassedPercent(50), 1, 2, true),
        (PassCriterion::MinPassedPercent(100), 4, 5, false),
        (PassCriterion::MinPassedPercent(1), 0, 5, false),
        (PassCriterion::MinPassedPercent(u32::MAX), 5, 5, false),
    ];
    for (criterion, passed, total, met) in cases {
        assert_eq!(criterion.is_met(passed, total), met, "{criterion:?} {passed}/{total}");
    }
    let parsed = |raw: &str| {
        Suite::parse(&format!(
            r#"{{"pass": {raw}, "checks": [{{"name": "a", "url": "https://e.com"}}]}}"#
        ))
    };
    assert_eq!(parsed(r#""all""#).unwrap().pass, PassCriterion::All);
    assert_eq!(
        parsed(r#"{"min_passed_percent": 75}"#).unwrap().pass,
        PassCriterion::MinPassedPercent(75)
    );
    assert!(parsed(r#"{"min_passed_percent": 75, "x": 1}"#).is_err());
    assert!(parsed(r#"{"min_passed_percent": 75.5}"#).is_err());
}
