//! Expectation evaluation: one table per kind of expectation, over answers built by hand.

use std::time::Duration;

use checks::expect::{evaluate, json_equal};
use checks::{Expect, JsonEquals, Mismatch, Observed, StatusSet};
use serde_json::{Value, json};

fn answer(status: u16, body: &str) -> Observed {
    Observed {
        status,
        headers: vec![
            ("X-Version".into(), "1.2.3".into()),
            ("content-type".into(), "application/json".into()),
        ],
        body: body.into(),
        latency: Duration::from_millis(120),
    }
}

#[test]
fn status_one_or_a_set_default_200() {
    let cases: &[(Option<Vec<u16>>, u16, bool)] = &[
        (None, 200, true),
        (None, 204, false),
        (None, 500, false),
        (Some(vec![200, 204]), 204, true),
        (Some(vec![301]), 301, true),
        (Some(vec![200, 204]), 404, false),
    ];
    for (status, got, passes) in cases {
        let expect = Expect {
            status: status.clone().map(StatusSet).unwrap_or_default(),
            ..Expect::default()
        };
        let mismatches = evaluate(&expect, &answer(*got, ""));
        assert_eq!(mismatches.is_empty(), *passes, "{status:?} vs {got}: {mismatches:?}");
        if !passes {
            assert_eq!(
                mismatches,
                [Mismatch::Status {
                    expected: expect.status.0.clone(),
                    got: *got
                }]
            );
        }
    }
}

#[test]
fn body_contains_every_listed_text() {
    let body = r#"{"status":"ok","items":[1,2]}"#;
    let cases: &[(&[&str], &[&str])] = &[
        (&[], &[]),
        (&["ok"], &[]),
        (&["\"status\":\"ok\"", "items"], &[]),
        (&["OK"], &["OK"]),
        (&["ok", "missing", "also missing"], &["missing", "also missing"]),
    ];
    for (needles, missing) in cases {
        let expect = Expect {
            body_contains: needles.iter().map(|s| s.to_string()).collect(),
            ..Expect::default()
        };
        let expected: Vec<Mismatch> = missing
            .iter()
            .map(|s| Mismatch::BodyMissing {
                expected: s.to_string(),
            })
            .collect();
        assert_eq!(evaluate(&expect, &answer(200, body)), expected, "{needles:?}");
    }
}

#[test]
fn json_values_at_pointers() {
    let body = r#"{"status": "ok", "count": 3, "ratio": 1.0, "ready": true, "items": [{"id": "a"}], "none": null}"#;
    let cases: &[(&str, Value, Option<Option<Value>>)] = &[
        ("/status", json!("ok"), None),
        ("/count", json!(3), None),
        ("/count", json!(3.0), None),
        ("/ratio", json!(1), None),
        ("/ready", json!(true), None),
        ("/items/0/id", json!("a"), None),
        ("/none", Value::Null, None),
        ("/items", json!([{"id": "a"}]), None),
        ("/status", json!("degraded"), Some(Some(json!("ok")))),
        ("/count", json!("3"), Some(Some(json!(3)))),
        ("/missing", json!(1), Some(None)),
        ("/items/5/id", json!("a"), Some(None)),
        (
            "",
            json!({"status": "ok"}),
            Some(Some(serde_json::from_str(body).unwrap())),
        ),
    ];
    for (pointer, equals, failure) in cases {
        let expect = Expect {
            json: vec![JsonEquals {
                pointer: pointer.to_string(),
                equals: equals.clone(),
            }],
            ..Expect::default()
        };
        let expected: Vec<Mismatch> = failure
            .iter()
            .map(|got| Mismatch::Json {
                pointer: pointer.to_string(),
                expected: equals.clone(),
                got: got.clone(),
            })
            .collect();
        assert_eq!(evaluate(&expect, &answer(200, body)), expected, "{pointer} = {equals}");
    }
}

#[test]
fn json_expectations_on_a_body_that_is_not_json() {
    let expect = Expect {
        json: vec![
            JsonEquals {
                pointer: "/a".into(),
                equals: json!(1),
            },
            JsonEquals {
                pointer: "/b".into(),
                equals: json!(2),
            },
        ],
        ..Expect::default()
    };
    assert_eq!(
        evaluate(&expect, &answer(200, "<html>oops</html>")),
        [Mismatch::NotJson]
    );
    assert_eq!(evaluate(&expect, &answer(200, "")), [Mismatch::NotJson]);
}

#[test]
fn a_value_too_large_to_compare_is_a_mismatch_that_says_so_while_smaller_parts_still_compare() {
    let items: Vec<u32> = (0..30_000).collect();
    let body = json!({"items": items, "count": 30_000}).to_string();
    let want = |pointer: &str, equals: Value| JsonEquals {
        pointer: pointer.into(),
        equals,
    };
    let expect = Expect {
        json: vec![
            want("/items", json!([0, 1])),
            want("/items/29999", json!(29_999)),
            want("/count", json!(30_000)),
        ],
        ..Expect::default()
    };
    let bytes = json!(items).to_string().len();
    assert!(bytes > checks::expect::MAX_COMPARED_BYTES);
    let mismatches = evaluate(&expect, &answer(200, &body));
    assert_eq!(
        mismatches,
        [Mismatch::JsonTooLarge {
            pointer: "/items".into(),
            expected: json!([0, 1]),
            bytes
        }]
    );
    assert_eq!(
        checks::report::describe_mismatch(&mismatches[0]),
        format!(
            "expected /items = [0,1], got a value of {bytes} bytes of JSON, more than the 65536 a check compares: \
             point at a smaller part of it"
        )
    );
}

#[test]
fn headers_present_in_any_case() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["x-version"], &[]),
        (&["X-VERSION", "Content-Type"], &[]),
        (&["x-request-id"], &["x-request-id"]),
        (&["x-version", "etag", "location"], &["etag", "location"]),
    ];
    for (present, missing) in cases {
        let expect = Expect {
            headers_present: present.iter().map(|s| s.to_string()).collect(),
            ..Expect::default()
        };
        let expected: Vec<Mismatch> = missing
            .iter()
            .map(|h| Mismatch::HeaderMissing { header: h.to_string() })
            .collect();
        assert_eq!(evaluate(&expect, &answer(200, "")), expected, "{present:?}");
    }
}

#[test]
fn latency_under_a_bound() {
    let cases = [
        (None, 5000, None),
        (Some(200), 120, None),
        (Some(120), 120, None),
        (Some(100), 120, Some(120)),
    ];
    for (max, latency_ms, too_slow) in cases {
        let expect = Expect {
            max_latency_ms: max,
            ..Expect::default()
        };
        let mut observed = answer(200, "");
        observed.latency = Duration::from_millis(latency_ms);
        let expected: Vec<Mismatch> = too_slow
            .map(|got_ms| Mismatch::TooSlow {
                max_ms: max.unwrap(),
                got_ms,
            })
            .into_iter()
            .collect();
        assert_eq!(evaluate(&expect, &observed), expected, "{max:?} vs {latency_ms}");
    }
}

#[test]
fn every_unmet_expectation_is_reported_in_order() {
    let expect = Expect {
        status: StatusSet(vec![200]),
        body_contains: vec!["ok".into()],
        json: vec![JsonEquals {
            pointer: "/status".into(),
            equals: json!("ok"),
        }],
        headers_present: vec!["etag".into()],
        max_latency_ms: Some(50),
    };
    let kinds: Vec<&str> = evaluate(&expect, &answer(503, r#"{"status":"down"}"#))
        .iter()
        .map(|m| match m {
            Mismatch::Status { .. } => "status",
            Mismatch::BodyMissing { .. } => "body",
            Mismatch::Json { .. } => "json",
            Mismatch::NotJson => "not json",
            Mismatch::JsonTooLarge { .. } => "json too large",
            Mismatch::HeaderMissing { .. } => "header",
            Mismatch::TooSlow { .. } => "latency",
        })
        .collect();
    assert_eq!(kinds, ["status", "body", "json", "header", "latency"]);
}

#[test]
fn numbers_compare_by_value_but_large_integers_stay_exact() {
    let cases = [
        (json!(1), json!(1.0), true),
        (json!(-2), json!(-2.0), true),
        (json!(1.5), json!(1.5), true),
        (json!(9007199254740993u64), json!(9007199254740992u64), false),
        (json!(-9007199254740993i64), json!(-9007199254740992i64), false),
        (json!({"a": [1, 2.0]}), json!({"a": [1.0, 2]}), true),
        (json!({"a": 1}), json!({"a": 1, "b": 2}), false),
        (json!("1"), json!(1), false),
    ];
    for (a, b, equal) in cases {
        assert_eq!(json_equal(&a, &b), equal, "{a} vs {b}");
    }
}
