//! Reports: counts, percentiles, verdicts and renderings, over results built by hand.

use std::collections::BTreeMap;
use std::time::Duration;

use checks::report::{FAILURE_MESSAGE_MAX_CHARS, describe, percentile};
use checks::{CheckResult, Failure, Mismatch, Outcome, PassCriterion, SuiteReport, Verdict};
use serde_json::json;

fn passed(name: &str, latency_ms: u64) -> CheckResult {
    CheckResult {
        name: name.into(),
        outcome: Outcome::Passed,
        attempts: 1,
        latency_ms: Some(latency_ms),
    }
}

fn failed(name: &str, failure: Failure, attempts: u32) -> CheckResult {
    CheckResult {
        name: name.into(),
        outcome: Outcome::Failed { failure },
        attempts,
        latency_ms: Some(40),
    }
}

fn status_500() -> Failure {
    Failure::Unexpected {
        status: 500,
        mismatches: vec![Mismatch::Status {
            expected: vec![200],
            got: 500,
        }],
        body_excerpt: "{\"status\":\"error\"}\nline two".into(),
    }
}

fn not_run(name: &str) -> CheckResult {
    CheckResult {
        name: name.into(),
        outcome: Outcome::NotRun { last_failure: None },
        attempts: 0,
        latency_ms: None,
    }
}

#[test]
fn nearest_rank_percentiles() {
    let hundred: Vec<u64> = (1..=100).collect();
    let cases: &[(&[u64], u8, Option<u64>)] = &[
        (&[], 50, None),
        (&[7], 50, Some(7)),
        (&[7], 95, Some(7)),
        (&[30, 10, 20], 50, Some(20)),
        (&[30, 10, 20], 95, Some(30)),
        (&[30, 10, 20], 0, Some(10)),
        (&[1, 2, 3, 4], 50, Some(2)),
        (&[1, 2, 3, 4], 75, Some(3)),
        (&[1, 2, 3, 4], 76, Some(4)),
        (&hundred, 50, Some(50)),
        (&hundred, 95, Some(95)),
        (&hundred, 100, Some(100)),
        (&hundred, 200, Some(100)),
    ];
    for (values, p, expected) in cases {
        assert_eq!(percentile(values, *p), *expected, "p{p} of {values:?}");
    }
}

#[test]
fn counts_latency_and_verdict() {
    let results = vec![
        passed("a", 10),
        passed("b", 30),
        failed("c", status_500(), 2),
        not_run("d"),
        CheckResult {
            latency_ms: None,
            ..failed(
                "e",
                Failure::Transport {
                    error: "connect: refused".into(),
                },
                1,
            )
        },
    ];
    let report = SuiteReport::new(results.clone(), PassCriterion::All, Duration::from_millis(1500));
    assert_eq!(
        (report.passed, report.failed, report.not_run, report.total()),
        (2, 2, 1, 5)
    );
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.latency.p50_ms, Some(30));
    assert_eq!(report.latency.max_ms, Some(40));
    assert_eq!(report.elapsed_ms, 1500);

    let lenient = SuiteReport::new(results, PassCriterion::MinPassedPercent(40), Duration::ZERO);
    assert_eq!(lenient.verdict, Verdict::Pass);

    let empty = SuiteReport::new(vec![], PassCriterion::All, Duration::ZERO);
    assert_eq!(empty.verdict, Verdict::Fail);
    assert_eq!(empty.latency.p95_ms, None);
}

#[test]
fn summary_is_one_line() {
    let pass = SuiteReport::new(
        vec![passed("a", 12), passed("b", 80)],
        PassCriterion::All,
        Duration::from_millis(1234),
    );
    assert_eq!(
        pass.summary(),
        "PASS: 2/2 checks passed (all checks must pass); p50 12 ms, p95 80 ms, max 80 ms; took 1.2 s"
    );
    let fail = SuiteReport::new(
        vec![passed("a", 12), failed("b", status_500(), 1), not_run("c")],
        PassCriterion::MinPassedPercent(90),
        Duration::from_millis(200),
    );
    let summary = fail.summary();
    assert_eq!(
        summary,
        "FAIL: 1/3 checks passed, 1 failed, 1 not run (deadline) (at least 90% of checks must pass); \
         p50 12 ms, p95 40 ms, max 40 ms; took 200 ms"
    );
    assert!(!summary.contains('\n'));
}

#[test]
fn each_failure_reads_expected_versus_got() {
    let cases = [
        (
            failed("checkout", status_500(), 3),
            r#"checkout (3 attempts): expected status 200, got 500; body "{\"status\":\"error\"}\nline two""#,
        ),
        (
            failed(
                "health",
                Failure::Unexpected {
                    status: 200,
                    mismatches: vec![
                        Mismatch::Json {
                            pointer: "/status".into(),
                            expected: json!("ok"),
                            got: Some(json!("degraded")),
                        },
                        Mismatch::Json {
                            pointer: "/db".into(),
                            expected: json!(true),
                            got: None,
                        },
                        Mismatch::HeaderMissing {
                            header: "x-version".into(),
                        },
                        Mismatch::TooSlow {
                            max_ms: 500,
                            got_ms: 812,
                        },
                    ],
                    body_excerpt: "{}".into(),
                },
                1,
            ),
            r#"health: expected /status = "ok", got "degraded"; expected /db = true, got nothing there; expected header x-version, got none; expected latency ≤ 500 ms, got 812 ms"#,
        ),
        (
            failed(
                "home",
                Failure::Unexpected {
                    status: 200,
                    mismatches: vec![Mismatch::BodyMissing {
                        expected: "<title>".into(),
                    }],
                    body_excerpt: "maintenance".into(),
                },
                1,
            ),
            r#"home: expected body to contain "<title>", got no match; body "maintenance""#,
        ),
        (
            failed("slow", Failure::Timeout { timeout_ms: 5000 }, 2),
            "slow (2 attempts): timed out: no complete answer within 5000 ms",
        ),
        (
            failed(
                "gone",
                Failure::Transport {
                    error: "connect: Connection refused".into(),
                },
                1,
            ),
            "gone: no answer: connect: Connection refused",
        ),
        (not_run("late"), "late: not run: deadline"),
        (
            CheckResult {
                outcome: Outcome::NotRun {
                    last_failure: Some(status_500()),
                },
                attempts: 2,
                ..not_run("retrying")
            },
            "retrying (2 attempts): not run: deadline before it finished; last attempt: expected status 200, got 500; \
             body \"{\\\"status\\\":\\\"error\\\"}\\nline two\"",
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(describe(&result), expected);
    }
}

#[test]
fn failure_message_lists_failing_checks_only() {
    let report = SuiteReport::new(
        vec![
            passed("fine", 10),
            failed("checkout", status_500(), 3),
            not_run("search"),
        ],
        PassCriterion::All,
        Duration::ZERO,
    );
    let message = report.failure_message();
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 3, "{message}");
    assert!(
        lines[0].starts_with("Checks failed: 1/3 checks passed, 1 failed, 1 not run"),
        "{message}"
    );
    assert!(
        lines[1].starts_with("- checkout (3 attempts): expected status 200, got 500"),
        "{message}"
    );
    assert_eq!(lines[2], "- search: not run: deadline");
    assert!(!message.contains("fine"));
}

#[test]
fn failure_message_stays_within_5000_chars_and_says_how_many_more() {
    let long_name = "n".repeat(100);
    for count in [1, 10, 40, 200, 1000] {
        let results: Vec<CheckResult> = (0..count)
            .map(|i| failed(&format!("{long_name}-{i}"), status_500(), 3))
            .collect();
        let report = SuiteReport::new(results, PassCriterion::All, Duration::ZERO);
        let message = report.failure_message();
        assert!(
            message.chars().count() <= FAILURE_MESSAGE_MAX_CHARS,
            "{count}: {}",
            message.chars().count()
        );
        let listed = message.lines().filter(|l| l.starts_with("- ")).count();
        if listed < count {
            let last = message.lines().last().unwrap();
            assert_eq!(last, format!("… and {} more", count - listed), "{count}");
            assert!(listed >= 10, "{count}: only {listed} listed");
        } else {
            assert!(!message.contains("more"), "{message}");
        }
    }
}

#[test]
fn tiny_limits_still_hold() {
    let results: Vec<CheckResult> = (0..5).map(|i| failed(&format!("c{i}"), status_500(), 1)).collect();
    let report = SuiteReport::new(results, PassCriterion::All, Duration::ZERO);
    for max in [0, 1, 20, 100, 150, 250] {
        let message = report.failure_message_within(max);
        assert!(message.chars().count() <= max, "{max}: {message}");
    }
    let one_line = "x".repeat(10_000);
    let report = SuiteReport::new(
        vec![failed(&one_line, status_500(), 1)],
        PassCriterion::All,
        Duration::ZERO,
    );
    let message = report.failure_message();
    assert!(
        message.chars().count() <= 600,
        "one check cannot take the whole message"
    );
}

#[test]
fn output_variables() {
    let report = SuiteReport::new(
        vec![
            passed("a", 10),
            passed("b", 90),
            failed("c", status_500(), 1),
            not_run("d"),
        ],
        PassCriterion::All,
        Duration::ZERO,
    );
    let expected = BTreeMap::from([
        ("passed".to_owned(), "2".to_owned()),
        ("failed".to_owned(), "2".to_owned()),
        ("p95_ms".to_owned(), "90".to_owned()),
    ]);
    assert_eq!(report.output_variables(), expected);
    let nothing = SuiteReport::new(vec![not_run("a")], PassCriterion::All, Duration::ZERO);
    assert_eq!(nothing.output_variables()["p95_ms"], "n/a");
}

#[test]
fn reports_round_trip_through_json() {
    let report = SuiteReport::new(
        vec![passed("a", 10), failed("c", status_500(), 2), not_run("d")],
        PassCriterion::MinPassedPercent(50),
        Duration::from_millis(5),
    );
    let text = serde_json::to_string(&report).unwrap();
    assert!(text.contains(r#""result":"failed""#), "{text}");
    assert_eq!(serde_json::from_str::<SuiteReport>(&text).unwrap(), report);
}
