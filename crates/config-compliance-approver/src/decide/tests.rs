//! The issue's decision table, one case per row (and the traps next to them).

use super::*;
use crate::facts::{Contributors, EvaluationStatus};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-02T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn minutes_ago(m: i64) -> Option<DateTime<Utc>> {
    Some(now() - Duration::minutes(m))
}

/// An approval that started waiting 10 minutes ago.
fn requested_at() -> DateTime<Utc> {
    now() - Duration::minutes(10)
}

fn rule(name: &str, compliance: Compliance, evaluated_min_ago: Option<i64>) -> RuleFact {
    RuleFact {
        name: name.into(),
        compliance,
        offenders: Vec::new(),
        evaluated_at: evaluated_min_ago.and_then(minutes_ago),
        status: EvaluationStatus {
            last_successful_evaluation: evaluated_min_ago.and_then(minutes_ago),
            last_invoked: evaluated_min_ago.and_then(minutes_ago),
            ..Default::default()
        },
    }
}

fn non_compliant(name: &str, offenders: &[(&str, &str)], contributors: Option<Contributors>) -> RuleFact {
    RuleFact {
        offenders: offenders
            .iter()
            .map(|(id, annotation)| Offender {
                resource_type: "AWS::CodePipeline::Pipeline".into(),
                resource_id: (*id).into(),
                annotation: Some((*annotation).into()),
            })
            .collect(),
        ..rule(name, Compliance::NonCompliant { contributors }, Some(5))
    }
}

fn gathered(rules: Vec<RuleFact>) -> Result<Gathered, String> {
    Ok(Gathered {
        rules,
        ..Default::default()
    })
}

fn terms(on_error: FailurePolicy) -> Terms {
    Terms {
        resources: Resources::All,
        max_age: Duration::minutes(60),
        on_error,
        recheck: Duration::minutes(5),
    }
}

struct Row {
    name: &'static str,
    gathered: Result<Gathered, String>,
    policy: FailurePolicy,
    kind: &'static str,
    says: &'static [&'static str],
    evaluate: &'static [&'static str],
}

fn rows() -> Vec<Row> {
    use Compliance::*;
    let failed_status = EvaluationStatus {
        last_successful_evaluation: minutes_ago(120),
        last_failed_evaluation: minutes_ago(30),
        last_invoked: minutes_ago(30),
        last_error: Some("FunctionError: the function timed out".into()),
    };
    let many: Vec<(String, String)> = (1..=5).map(|i| (format!("p{i}"), format!("fix {i}"))).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    vec![
        Row {
            name: "every rule compliant and fresh approves, listing each and when it was evaluated",
            gathered: gathered(vec![
                rule("release-practices", Compliant, Some(5)),
                rule("restricted-ssh", Compliant, Some(50)),
            ]),
            policy: FailurePolicy::Hold,
            kind: "approve",
            says: &[
                "2 Config rule(s)",
                "release-practices (evaluated 2026-12-02 11:55 UTC, 5 min ago)",
                "restricted-ssh (evaluated 2026-12-02 11:10 UTC",
            ],
            evaluate: &[],
        },
        Row {
            name: "NOT_APPLICABLE counts as compliant",
            gathered: gathered(vec![
                rule("release-practices", NotApplicable, Some(5)),
                rule("b", Compliant, Some(5)),
            ]),
            policy: FailurePolicy::Hold,
            kind: "approve",
            says: &["release-practices NOT_APPLICABLE"],
            evaluate: &[],
        },
        Row {
            name: "one NON_COMPLIANT rejects, naming rule, resource and annotation",
            gathered: gathered(vec![
                rule("a", Compliant, Some(5)),
                non_compliant(
                    "release-practices",
                    &[("shop", "Deploy › Canary is not followed by a test action: add one")],
                    Some(Contributors {
                        count: 1,
                        capped: false,
                    }),
                ),
            ]),
            policy: FailurePolicy::Hold,
            kind: "reject",
            says: &[
                "Config rule release-practices is NON_COMPLIANT (1 resource(s))",
                "pipeline shop: Deploy › Canary is not followed by a test action: add one",
            ],
            evaluate: &[],
        },
        Row {
            name: "NON_COMPLIANT wins over a stale or missing result elsewhere",
            gathered: gathered(vec![
                rule("a", InsufficientData, None),
                non_compliant("b", &[("shop", "x")], None),
            ]),
            policy: FailurePolicy::Hold,
            kind: "reject",
            says: &["Config rule b is NON_COMPLIANT"],
            evaluate: &[],
        },
        Row {
            name: "more offenders than named: the rest go to the logs",
            gathered: gathered(vec![non_compliant(
                "b",
                &many,
                Some(Contributors {
                    count: 5,
                    capped: false,
                }),
            )]),
            policy: FailurePolicy::Hold,
            kind: "reject",
            says: &[
                "pipeline p1: fix 1",
                "pipeline p3: fix 3",
                "2 more in the approver's logs",
            ],
            evaluate: &[],
        },
        Row {
            name: "CapExceeded is never an excuse to approve: it says 100+",
            gathered: gathered(vec![non_compliant(
                "b",
                &[],
                Some(Contributors {
                    count: 100,
                    capped: true,
                }),
            )]),
            policy: FailurePolicy::Hold,
            kind: "reject",
            says: &["NON_COMPLIANT (100+ resources)"],
            evaluate: &[],
        },
        Row {
            name: "INSUFFICIENT_DATA asks for an evaluation and holds",
            gathered: gathered(vec![rule("a", Compliant, Some(5)), rule("b", InsufficientData, None)]),
            policy: FailurePolicy::Hold,
            kind: "hold",
            says: &["b: INSUFFICIENT_DATA; evaluation requested"],
            evaluate: &["b"],
        },
        Row {
            name: "no result yet asks for an evaluation and holds",
            gathered: gathered(vec![rule("b", NoResult, None)]),
            policy: FailurePolicy::Hold,
            kind: "hold",
            says: &["b: no result yet; evaluation requested"],
            evaluate: &["b"],
        },
        Row {
            name: "a compliant result older than max_age is stale: evaluate and hold",
            gathered: gathered(vec![rule("a", Compliant, Some(90))]),
            policy: FailurePolicy::Hold,
            kind: "hold",
            says: &["a: stale (evaluated 90 min ago, older than 60 min); evaluation requested"],
            evaluate: &["a"],
        },
        Row {
            name: "a last evaluation that failed (compliant result before it) holds and evaluates",
            gathered: gathered(vec![RuleFact {
                status: failed_status.clone(),
                ..rule("a", Compliant, Some(20))
            }]),
            policy: FailurePolicy::Hold,
            kind: "hold",
            says: &["a: last evaluation failed (FunctionError: the function timed out); evaluation requested"],
            evaluate: &["a"],
        },
        Row {
            name: "an evaluation started since the approval waits is not asked for again (once per approval)",
            gathered: gathered(vec![RuleFact {
                status: EvaluationStatus {
                    last_invoked: minutes_ago(2),
                    ..Default::default()
                },
                ..rule("b", InsufficientData, None)
            }]),
            policy: FailurePolicy::Hold,
            kind: "hold",
            says: &["b: INSUFFICIENT_DATA; evaluation already started for this approval"],
            evaluate: &[],
        },
        Row {
            name: "a stale rule invoked before the approval started is evaluated again",
            gathered: gathered(vec![RuleFact {
                status: EvaluationStatus {
                    last_invoked: minutes_ago(11),
                    last_successful_evaluation: minutes_ago(90),
                    ..Default::default()
                },
                ..rule("a", Compliant, Some(90))
            }]),
            policy: FailurePolicy::Hold,
            kind: "hold",
            says: &["a: stale"],
            evaluate: &["a"],
        },
        Row {
            name: "a rule name Config does not know rejects, naming it",
            gathered: Ok(Gathered {
                unknown: vec!["relase-practices".into()],
                rules: vec![rule("a", Compliant, Some(1))],
                ..Default::default()
            }),
            policy: FailurePolicy::Hold,
            kind: "reject",
            says: &["Config rule(s) not found: relase-practices", "CustomData `rules`"],
            evaluate: &[],
        },
        Row {
            name: "a prefix that matches nothing rejects, naming it",
            gathered: Ok(Gathered {
                matched_nothing: vec!["rule_prefix `prod-`".into()],
                ..Default::default()
            }),
            policy: FailurePolicy::Hold,
            kind: "reject",
            says: &["rule_prefix `prod-` matches no Config rule"],
            evaluate: &[],
        },
        Row {
            name: "a conformance pack with no rules rejects, naming it",
            gathered: Ok(Gathered {
                matched_nothing: vec!["conformance_pack `baseline`".into()],
                ..Default::default()
            }),
            policy: FailurePolicy::Hold,
            kind: "reject",
            says: &["conformance_pack `baseline` matches no Config rule"],
            evaluate: &[],
        },
        Row {
            name: "Config cannot be read: hold (the default policy), with the error",
            gathered: Err("Config DescribeComplianceByConfigRule failed: ThrottlingException: Rate exceeded".into()),
            policy: FailurePolicy::Hold,
            kind: "hold",
            says: &["could not check: Config DescribeComplianceByConfigRule failed: ThrottlingException"],
            evaluate: &[],
        },
        Row {
            name: "Config cannot be read: reject with on_error reject",
            gathered: Err("Config DescribeConfigRules failed: InternalFailure (HTTP 500)".into()),
            policy: FailurePolicy::Reject,
            kind: "reject",
            says: &["could not check", "HTTP 500", "failure policy: reject"],
            evaluate: &[],
        },
    ]
}

#[test]
fn the_table() {
    for row in rows() {
        let facts = Facts {
            gathered: row.gathered,
            requested_at: requested_at(),
            now: now(),
        };
        let verdict = decide(&facts, &terms(row.policy));
        assert_eq!(
            verdict.decision.kind(),
            row.kind,
            "{}: {:?}",
            row.name,
            verdict.decision
        );
        for text in row.says {
            assert!(
                verdict.decision.explanation().contains(text),
                "{}: expected {text:?} in {:?}",
                row.name,
                verdict.decision.explanation()
            );
        }
        assert_eq!(verdict.evaluate, row.evaluate, "{}", row.name);
        if !matches!(verdict.decision, Decision::Hold { .. }) {
            assert!(
                verdict.evaluate.is_empty(),
                "{}: evaluations only come with a hold",
                row.name
            );
        }
    }
}

#[test]
fn nothing_but_fresh_compliance_approves() {
    // Every compliance state, fresh or not, failed or not: only Compliant/NotApplicable, fresh and not failed,
    // may approve.
    use Compliance::*;
    let states = [
        Compliant,
        NotApplicable,
        NonCompliant { contributors: None },
        NonCompliant {
            contributors: Some(Contributors {
                count: 100,
                capped: true,
            }),
        },
        InsufficientData,
        NoResult,
    ];
    for state in states {
        for evaluated in [None, Some(1), Some(59), Some(61), Some(600)] {
            for failed in [false, true] {
                let mut fact = rule("a", state.clone(), evaluated);
                if failed {
                    fact.status.last_failed_evaluation = minutes_ago(0);
                }
                let facts = Facts {
                    gathered: gathered(vec![fact]),
                    requested_at: requested_at(),
                    now: now(),
                };
                let approved = decide(&facts, &terms(FailurePolicy::Hold)).decision.is_approve();
                let may =
                    matches!(state, Compliant | NotApplicable) && matches!(evaluated, Some(m) if m <= 60) && !failed;
                assert_eq!(
                    approved, may,
                    "{state:?} evaluated {evaluated:?} min ago, failed {failed}"
                );
            }
        }
    }
}

#[test]
fn this_pipeline_words() {
    let facts = Facts {
        gathered: gathered(vec![rule("a", Compliance::NoResult, None)]),
        requested_at: requested_at(),
        now: now(),
    };
    let verdict = decide(
        &facts,
        &Terms {
            resources: Resources::ThisPipeline,
            ..terms(FailurePolicy::Hold)
        },
    );
    assert!(
        verdict
            .decision
            .explanation()
            .contains("no result for this pipeline yet"),
        "{:?}",
        verdict.decision
    );
    let facts = Facts {
        gathered: Ok(Gathered {
            not_for_pipelines: vec!["restricted-ssh".into()],
            ..Default::default()
        }),
        requested_at: requested_at(),
        now: now(),
    };
    let verdict = decide(
        &facts,
        &Terms {
            resources: Resources::ThisPipeline,
            ..terms(FailurePolicy::Hold)
        },
    );
    assert_eq!(verdict.decision.kind(), "reject");
    assert!(
        verdict
            .decision
            .explanation()
            .contains("restricted-ssh do not evaluate AWS::CodePipeline::Pipeline")
    );
}

#[test]
fn a_rejection_fits_the_summary_with_long_annotations() {
    let long = "x".repeat(256);
    let offenders: Vec<(&str, &str)> = vec![("a", &long), ("b", &long), ("c", &long), ("d", &long)];
    let facts = Facts {
        gathered: gathered(vec![non_compliant("r", &offenders, None)]),
        requested_at: requested_at(),
        now: now(),
    };
    let reason = decide(&facts, &terms(FailurePolicy::Hold))
        .decision
        .explanation()
        .to_owned();
    // Three annotations quoted short enough that the rule, the count and the fix fit PutApprovalResult's 512.
    assert!(
        reason.chars().count() <= 512,
        "{} chars: {reason}",
        reason.chars().count()
    );
    assert!(reason.starts_with("Config rule r is NON_COMPLIANT"), "{reason}");
    assert!(reason.contains("1 more in the approver's logs"), "{reason}");
}

#[test]
fn a_single_annotation_is_quoted_whole() {
    let annotation = format!("{}end", "y".repeat(253));
    let facts = Facts {
        gathered: gathered(vec![non_compliant("r", &[("shop", &annotation)], None)]),
        requested_at: requested_at(),
        now: now(),
    };
    let reason = decide(&facts, &terms(FailurePolicy::Hold))
        .decision
        .explanation()
        .to_owned();
    assert!(reason.contains(&annotation), "{reason}");
    assert!(reason.chars().count() <= 512);
}
