//! Property tests of every parser that reads what callers send: the failure notifier's events, the gates' SNS
//! approval notifications and CustomData (auto-approver, BlackDay gate), the runner's UserParameters and
//! continuation tokens. Random documents built from the fields each parser knows, mutated real samples, and
//! mangled text: never a panic, and every error names where the problem is (a field path or the document).
//! (The suite parser's and the calendars' property tests live in their crates.)

use std::path::Path;

use approval_auto_approver::settings::{ApproverSettings, Defaults};
use blackday_gate::settings::GateData;
use chrono::Utc;
use failure_notifier::events::parse as parse_event;
use failure_notifier::triage::triage;
use hooks_common::approval::{ApprovalRequest, RequestSource, parse_trigger};
use hooks_common::settings::Env;
use post_deploy_test_runner::params;
use post_deploy_test_runner::token::Progress;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;

const CASES: u32 = 10_000;

fn config() -> Config {
    Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    }
}

fn sample(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(&[0i64, -1, 1, 30, 43_200, 43_201, 1_000_000][..]).prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        prop::sample::select(
            &[
                "",
                "FAILED",
                "SUCCEEDED",
                "hold",
                "reject",
                "approve",
                "2016-07-07T20:22Z",
                "not a time",
                "UTC",
                "Mars/Olympus",
                "https://x",
                "http://127.0.0.1:9001/",
                "{",
                "[]",
            ][..],
        )
        .prop_map(Value::from),
    ]
}

/// JSON whose object keys come from `keys` (so random documents reach real fields), up to a few levels deep.
fn document(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(keys), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// `base` with one field (found by walking `path`'s choices) replaced by `value`, or removed when `value` is None.
fn mutate(base: &Value, path: &[usize], value: Option<Value>) -> Value {
    fn walk(node: &mut Value, path: &[usize], value: Option<Value>) {
        match node {
            Value::Object(map) if !map.is_empty() => {
                let key = map
                    .keys()
                    .nth(path.first().copied().unwrap_or(0) % map.len())
                    .unwrap()
                    .clone();
                if path.len() <= 1 {
                    match value {
                        Some(v) => {
                            map.insert(key, v);
                        }
                        None => {
                            map.remove(&key);
                        }
                    }
                } else {
                    walk(map.get_mut(&key).unwrap(), &path[1..], value);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let index = path.first().copied().unwrap_or(0) % items.len();
                if path.len() <= 1 {
                    match value {
                        Some(v) => items[index] = v,
                        None => {
                            items.remove(index);
                        }
                    }
                } else {
                    walk(&mut items[index], &path[1..], value);
                }
            }
            other => {
                if let Some(v) = value {
                    *other = v;
                }
            }
        }
    }
    let mut copy = base.clone();
    walk(&mut copy, path, value);
    copy
}

fn mutation() -> impl Strategy<Value = (Vec<usize>, Option<Value>)> {
    (
        prop::collection::vec(0usize..12, 1..5),
        prop::option::weighted(0.8, scalar()),
    )
}

/// An error names where: a back-quoted path, or the document it is in.
fn names_a_place(error: &str, documents: &[&str]) -> bool {
    error.contains('`') || documents.iter().any(|d| error.contains(d))
}

const EVENT_KEYS: &[&str] = &[
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
    "pipeline",
    "execution-id",
    "stage",
    "action",
    "state",
    "type",
    "owner",
    "category",
    "provider",
    "execution-result",
    "external-execution-url",
    "external-execution-summary",
    "external-execution-id",
    "error-code",
];

fn check_event(event: &Value) -> Result<(), TestCaseError> {
    match parse_event(event) {
        Ok(incoming) => {
            let _ = triage(incoming);
        }
        Err(error) => {
            let text = error.to_string();
            prop_assert!(names_a_place(&text, &["detail", "source", "event"]), "{text}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn notifier_events(random in document(EVENT_KEYS), (path, value) in mutation()) {
        check_event(&random)?;
        check_event(&mutate(&sample("failure-notifier.action-failed.json"), &path, value))?;
    }
}

const SNS_KEYS: &[&str] = &[
    "Records",
    "EventSource",
    "EventVersion",
    "EventSubscriptionArn",
    "Sns",
    "Type",
    "MessageId",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertUrl",
    "UnsubscribeUrl",
    "MessageAttributes",
    "source",
    "detail-type",
];

const APPROVAL_KEYS: &[&str] = &[
    "region",
    "consoleLink",
    "approval",
    "pipelineName",
    "stageName",
    "actionName",
    "token",
    "expires",
    "externalEntityLink",
    "approvalReviewLink",
    "customData",
];

fn check_trigger(event: &Value) -> Result<(), TestCaseError> {
    if let Err(error) = parse_trigger(event) {
        let text = error.to_string();
        prop_assert!(names_a_place(&text, &["Records", "Sns.Message"]), "{text}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn approval_notifications(
        random in document(SNS_KEYS),
        message in document(APPROVAL_KEYS),
        (path, value) in mutation(),
    ) {
        check_trigger(&random)?;
        let mut event = sample("approval-auto-approver.sns-approval.json");
        event["Records"][0]["Sns"]["Message"] = Value::String(message.to_string());
        check_trigger(&event)?;
        let approval: Value = serde_json::from_str(
            sample("approval-auto-approver.sns-approval.json")["Records"][0]["Sns"]["Message"].as_str().unwrap(),
        )
        .unwrap();
        let mut event = sample("approval-auto-approver.sns-approval.json");
        event["Records"][0]["Sns"]["Message"] = Value::String(mutate(&approval, &path, value).to_string());
        check_trigger(&event)?;
    }
}

fn request(custom_data: String) -> ApprovalRequest {
    ApprovalRequest {
        pipeline: "shop".into(),
        stage: "Bake".into(),
        action: "Gate".into(),
        token: "t".into(),
        expires: Utc::now() + chrono::Duration::days(7),
        requested_at: Utc::now(),
        source: RequestSource::Sweep,
        custom_data: Some(custom_data),
    }
}

const APPROVER_KEYS: &[&str] = &[
    "alarms",
    "alarm_prefix",
    "bake_minutes",
    "on_error",
    "checks",
    "base_url",
    "url",
    "name",
    "timeout_ms",
];

const BLACKDAY_KEYS: &[&str] = &[
    "calendar",
    "inside",
    "on_error",
    "timezone",
    "blackouts",
    "allowed",
    "name",
    "reason",
    "once",
    "from",
    "to",
    "weekly",
    "days",
    "yearly",
    "date",
    "start",
    "end",
    "duration_hours",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn auto_approver_custom_data(random in document(APPROVER_KEYS), text in "[ -~]{0,40}") {
        let defaults = Defaults::from_env(&Env::from_pairs(&[]), chrono::Duration::minutes(5)).unwrap();
        for custom_data in [random.to_string(), text] {
            match request(custom_data).settings::<ApproverSettings>() {
                Ok(settings) => {
                    if let Err(problem) = settings.watch(&defaults) {
                        prop_assert!(names_a_place(&problem, &["CustomData", "alarm"]), "{problem}");
                    }
                }
                Err(problem) => prop_assert!(names_a_place(&problem, &["CustomData"]), "{problem}"),
            }
        }
    }

    #[test]
    fn blackday_custom_data(random in document(BLACKDAY_KEYS), text in "[ -~]{0,40}") {
        for custom_data in [random.to_string(), text] {
            if let Err(problem) = request(custom_data).settings::<GateData>() {
                prop_assert!(names_a_place(&problem, &["CustomData"]), "{problem}");
            }
        }
    }
}

const PARAMETER_KEYS: &[&str] = &[
    "suite",
    "suite_from_artifact",
    "artifact",
    "path",
    "soak",
    "duration_minutes",
    "interval_minutes",
    "max_failed_rounds",
    "checks",
    "base_url",
    "name",
    "url",
    "expect",
    "status",
    "timeout_ms",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn runner_user_parameters(random in document(PARAMETER_KEYS), text in "[ -~]{0,60}") {
        for raw in [random.to_string(), text] {
            if let Err(error) = params::parse(Some(&raw)) {
                prop_assert!(!error.errors.is_empty(), "an error without a problem: {raw}");
                let told = error.to_string();
                prop_assert!(told.starts_with("UserParameters:"), "{told}");
            }
        }
    }

    #[test]
    fn runner_continuation_tokens(random in document(&["v", "run", "started", "rounds", "failed", "last"]), text in "[ -~]{0,80}") {
        for token in [random.to_string(), text] {
            if let Err(problem) = Progress::decode(&token) {
                prop_assert!(problem.contains("continuation token"), "{problem}");
            }
        }
    }
}

#[test]
fn the_generators_reach_real_fields() {
    // Guard against a vacuous run: the mutated samples must parse some of the time.
    let event = sample("failure-notifier.action-failed.json");
    assert!(parse_event(&event).is_ok());
    assert!(parse_trigger(&sample("approval-auto-approver.sns-approval.json")).is_ok());
    let parsed = (0..200usize)
        .filter(|i| parse_event(&mutate(&event, &[*i % 12, *i / 12], Some(Value::from("x")))).is_ok())
        .count();
    assert!(
        parsed > 0,
        "no mutation of the sample parses: the mutations never leave a valid event"
    );
}
