//! Property tests of the suite parser: random documents, mutated suites and mangled text never panic, and every
//! error names a field that is in the document (or, for a missing field, whose parent is) and says the fix.

use checks::{Suite, SuiteError, SuiteSource};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

const CASES: u32 = 10_000;

/// The names the suite format knows, so random documents often hit real fields.
const KEYS: &[&str] = &[
    "checks",
    "name",
    "url",
    "method",
    "headers",
    "body",
    "expect",
    "status",
    "body_contains",
    "json",
    "pointer",
    "equals",
    "headers_present",
    "max_latency_ms",
    "base_url",
    "concurrency",
    "timeout_ms",
    "consecutive_failures_to_fail",
    "retry_delay_ms",
    "pass",
    "min_passed_percent",
    "suite_from_artifact",
    "x-token",
    "a.b",
    "colour",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(&[0u64, 1, 10, 64, 65, 100, 101, 200, 599, 600, 1000, 300_000, 300_001][..])
            .prop_map(Value::from),
        prop::sample::select(
            &[
                "",
                " ",
                "GET",
                "head",
                "BAD METHOD",
                "all",
                "/health",
                "health",
                "https://example.com/x",
                "http://127.0.0.1:1/",
                "ftp://example.com/",
                "https://u:p@example.com/",
                "http://",
                "/status",
                "checks/smoke.json",
                "A::B::x.json",
                "../x",
                "\u{7}",
                "~1",
                "ünïcode",
                "a.b",
            ][..]
        )
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => "\\PC{0,6}"]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A suite close to valid, so mutations reach deep fields.
fn suite_document() -> impl Strategy<Value = Value> {
    let check = (0..3usize, prop::sample::select(&["GET", "post", "HEAD"][..]), any::<bool>()).prop_map(|(i, method, json)| {
        let mut expect = json!({"status": [200, 204], "body_contains": ["ok"], "headers_present": ["x-version"], "max_latency_ms": 800});
        if json {
            expect["json"] = json!([{"pointer": "/status", "equals": "ok"}]);
        }
        json!({"name": format!("c{i}"), "method": method, "url": format!("/p{i}"), "headers": {"x-token": "t"},
               "body": {"n": i}, "expect": expect})
    });
    (prop::collection::vec(check, 1..4), 1..70usize).prop_map(|(checks, concurrency)| {
        json!({"base_url": "https://canary.example.com", "concurrency": concurrency, "timeout_ms": 3000,
               "consecutive_failures_to_fail": 2, "retry_delay_ms": 10, "pass": {"min_passed_percent": 90},
               "checks": checks})
    })
}

/// Every node's path, as a list of keys and indices from the root.
fn paths(value: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(at.clone());
    let children: Vec<(Step, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (Step::Index(i), v)).collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        at.push(step);
        paths(child, at, out);
        at.pop();
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn node<'a>(root: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(root, |at, step| match step {
        Step::Key(k) => at.get_mut(k.as_str()),
        Step::Index(i) => at.get_mut(*i),
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Replace(Value),
    Remove,
    AddMember(String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        json_value().prop_map(Mutation::Replace),
        Just(Mutation::Remove),
        (key(), json_value()).prop_map(|(k, v)| Mutation::AddMember(k, v)),
    ]
}

/// Applies `mutation` at the node `pick` selects (modulo the number of nodes).
fn mutate(mut document: Value, pick: usize, mutation: Mutation) -> Value {
    let mut all = Vec::new();
    paths(&document, &mut Vec::new(), &mut all);
    let path = all[pick % all.len()].clone();
    match mutation {
        Mutation::Replace(value) => {
            if let Some(at) = node(&mut document, &path) {
                *at = value;
            }
        }
        Mutation::Remove => {
            if let Some((last, parent)) = path.split_last()
                && let Some(parent) = node(&mut document, parent)
            {
                match (parent, last) {
                    (Value::Object(map), Step::Key(k)) => {
                        map.remove(k);
                    }
                    (Value::Array(items), Step::Index(i)) => {
                        items.remove(*i);
                    }
                    _ => {}
                }
            }
        }
        Mutation::AddMember(key, value) => {
            if let Some(Value::Object(map)) = node(&mut document, &path) {
                map.insert(key, value);
            }
        }
    }
    document
}

/// Whether `field` (`checks[0].expect.status`, `(suite)`) leads to a node of `document`, or to where a missing
/// field belongs (its parent is there). A key may hold dots and brackets (a header's name, an unknown field),
/// so the rest of the path may also be one key.
fn names_a_place(document: &Value, field: &str) -> bool {
    if field == "(suite)" {
        return true;
    }
    let segments: Vec<&str> = field.split('.').collect();
    let mut at = document;
    for (n, segment) in segments.iter().enumerate() {
        if at.get(segments[n..].join(".")).is_some() {
            return true;
        }
        let (key, indices) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        match at.get(key) {
            Some(next) => at = next,
            None => return n + 1 == segments.len() && indices.is_empty() && at.is_object(),
        }
        for index in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
            match index.parse::<usize>().ok().and_then(|i| at.get(i)) {
                Some(next) => at = next,
                None => return false,
            }
        }
    }
    true
}

fn assert_well_formed(error: &SuiteError, document: Option<&Value>) {
    assert!(!error.errors.is_empty());
    let text = error.to_string();
    assert!(text.starts_with("invalid check suite"), "{text}");
    for e in &error.errors {
        assert!(
            !e.field.is_empty() && !e.problem.is_empty() && !e.fix.is_empty(),
            "{e:?}"
        );
        assert!(text.contains(&format!("`{}` ", e.field)), "{text}");
        assert!(text.contains(&format!("Fix: {}", e.fix)), "{text}");
        if let Some(document) = document {
            assert!(
                names_a_place(document, &e.field),
                "`{}` is nowhere in {document}: {text}",
                e.field
            );
        }
    }
}

/// Parses as the runner does (`SuiteSource`) and as the canary does (`Suite`).
fn parse_both(raw: &str, document: Option<&Value>) {
    match Suite::parse(raw) {
        Ok(suite) => assert!(suite.validate().is_ok() && !suite.checks.is_empty()),
        Err(error) => assert_well_formed(&error, document),
    }
    if let Err(error) = SuiteSource::parse(raw) {
        assert_well_formed(&error, document);
    }
}

proptest! {
    // No regression files: a failure prints its minimal case, which belongs in a table test.
    #![proptest_config(Config { failure_persistence: None, ..Config::with_cases(CASES) })]

    #[test]
    fn random_documents_never_panic_and_errors_name_their_field(document in json_value()) {
        parse_both(&document.to_string(), Some(&document));
    }

    #[test]
    fn mutated_suites_never_panic_and_errors_name_their_field(
        document in suite_document(), pick in any::<usize>(), mutation in mutation()
    ) {
        let document = mutate(document, pick, mutation);
        parse_both(&document.to_string(), Some(&document));
    }

    #[test]
    fn mangled_text_never_panics(document in suite_document(), cut in any::<usize>(), insert in "\\PC{0,3}") {
        let text = document.to_string();
        let at = text.char_indices().map(|(i, _)| i).nth(cut % text.chars().count()).unwrap_or(0);
        parse_both(&format!("{}{insert}", &text[..at]), None);
        parse_both(&format!("{}{insert}{}", &text[..at], &text[at..]), None);
    }
}

#[test]
fn the_path_check_itself_tells_present_from_absent_fields() {
    let document = json!({"checks": [{"name": "a", "headers": {"a.b": "x"}, "expect": {"status": 700}}]});
    for present in [
        "(suite)",
        "checks",
        "checks[0].expect.status",
        "checks[0].url",
        "checks[0].headers.a.b",
        "base_url",
    ] {
        assert!(names_a_place(&document, present), "{present}");
    }
    for absent in [
        "checks[1].name",
        "checks[0].expect.json[0]",
        "nope.deeper",
        "checks[0].headers.c.d",
    ] {
        assert!(!names_a_place(&document, absent), "{absent}");
    }
}
