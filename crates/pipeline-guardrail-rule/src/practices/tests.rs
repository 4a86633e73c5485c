//! Pipeline shapes through the practices: V1 and V2, parallel and cross-region actions, approvals in the same stage
//! and before it, no production stage at all, and every practice's switch.

use std::collections::BTreeMap;

use super::*;
use crate::pipeline::{ActionTypeId, Stage};

const GATE: &str = "arn:aws:sns:us-east-1:123456789012:codepipeline-hooks-ComplianceApproverTopic";
const RUNNER: &str = "codepipeline-hooks-PostDeployTestRunner";

fn action(name: &str, category: &str, provider: &str) -> Action {
    Action {
        name: name.into(),
        action_type_id: ActionTypeId {
            category: category.into(),
            owner: "AWS".into(),
            provider: provider.into(),
        },
        run_order: 1,
        region: None,
        configuration: BTreeMap::new(),
    }
}

fn source() -> Action {
    action("Checkout", "Source", "CodeStarSourceConnection")
}
fn build() -> Action {
    action("Compile", "Build", "CodeBuild")
}
fn deploy(name: &str) -> Action {
    action(name, "Deploy", "CodeDeploy")
}
fn tests(name: &str) -> Action {
    with(action(name, "Invoke", "Lambda"), "FunctionName", RUNNER)
}
fn approval(name: &str) -> Action {
    with(action(name, "Approval", "Manual"), "NotificationArn", GATE)
}
fn with(mut a: Action, key: &str, value: &str) -> Action {
    a.configuration.insert(key.into(), value.into());
    a
}
fn order(mut a: Action, run_order: i32) -> Action {
    a.run_order = run_order;
    a
}
fn region(mut a: Action, region: &str) -> Action {
    a.region = Some(region.into());
    a
}
fn stage(name: &str, actions: Vec<Action>) -> Stage {
    Stage {
        name: name.into(),
        actions,
    }
}
fn v2(stages: Vec<Stage>) -> PipelineShape {
    PipelineShape {
        name: "shop".into(),
        pipeline_type: Some("V2".into()),
        stages,
    }
}

/// Source → Build → Deploy (canary) → Test → Gate → Production: every practice followed.
fn canonical() -> Vec<Stage> {
    vec![
        stage("Source", vec![source()]),
        stage("Build", vec![build()]),
        stage("Deploy", vec![deploy("Canary")]),
        stage("Test", vec![tests("SmokeTests")]),
        stage("Gate", vec![approval("Compliance")]),
        stage("Production", vec![deploy("Deploy")]),
    ]
}

fn params(json: &str) -> Practices {
    Practices::from_rule_parameters(Some(json)).unwrap()
}

struct Shape {
    name: &'static str,
    pipeline: PipelineShape,
    params: &'static str,
    /// compliant, non_compliant or not_applicable
    expect: &'static str,
    says: &'static [&'static str],
}

fn shapes() -> Vec<Shape> {
    let v1 = {
        let mut p = v2(canonical());
        p.pipeline_type = None;
        p
    };
    let mut dropped_tests = canonical();
    dropped_tests.remove(3);
    let mut no_approval = canonical();
    no_approval.remove(4);
    let same_stage = {
        let mut s = canonical();
        s.remove(4);
        s[4] = stage(
            "Production",
            vec![order(approval("Compliance"), 1), order(deploy("Deploy"), 2)],
        );
        s
    };
    let same_step = {
        let mut s = canonical();
        s.remove(4);
        s[4] = stage("Production", vec![approval("Compliance"), deploy("Deploy")]);
        s
    };
    vec![
        Shape {
            name: "V2, every practice followed",
            pipeline: v2(canonical()),
            params: "{}",
            expect: "compliant",
            says: &["release practices followed before Production"],
        },
        Shape {
            name: "V1 (no pipelineType), same shape",
            pipeline: v1,
            params: "{}",
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "the post-deploy tests were dropped",
            pipeline: v2(dropped_tests),
            params: "{}",
            expect: "non_compliant",
            says: &["Deploy › Canary is not followed by a test before Production: add a post-deploy test action"],
        },
        Shape {
            name: "no approval before production",
            pipeline: v2(no_approval),
            params: "{}",
            expect: "non_compliant",
            says: &["no approval before Production: add a Manual approval in a stage before it"],
        },
        Shape {
            name: "approval in the production stage, at an earlier runOrder",
            pipeline: v2(same_stage),
            params: "{}",
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "approval in the production stage, in parallel with its deploy",
            pipeline: v2(same_step),
            params: "{}",
            expect: "non_compliant",
            says: &["no approval before Production"],
        },
        Shape {
            name: "approval before the canary deploy cannot judge it",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage("Approve", vec![approval("Early")]),
                stage("Deploy", vec![deploy("Canary")]),
                stage("Test", vec![tests("SmokeTests")]),
                stage("Production", vec![deploy("Deploy")]),
            ]),
            params: "{}",
            expect: "non_compliant",
            says: &["approval Approve › Early comes before Deploy › Canary: move it after the last deploy"],
        },
        Shape {
            name: "a test in parallel with its deploy does not test it",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage("Deploy", vec![deploy("Canary"), tests("SmokeTests")]),
                stage("Gate", vec![approval("Compliance")]),
                stage("Production", vec![deploy("Deploy")]),
            ]),
            params: "{}",
            expect: "non_compliant",
            says: &[
                "Deploy › SmokeTests runs in parallel with Deploy › Canary (runOrder 1): give the test a later runOrder",
            ],
        },
        Shape {
            name: "a test at a later runOrder of the deploy's own stage counts",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage(
                    "Deploy",
                    vec![order(deploy("Canary"), 1), order(tests("SmokeTests"), 2)],
                ),
                stage("Gate", vec![approval("Compliance")]),
                stage("Production", vec![deploy("Deploy")]),
            ]),
            params: "{}",
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "two segments, the second untested: the staging test does not cover the canary",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage("Staging", vec![deploy("Deploy")]),
                stage("StagingTests", vec![tests("Smoke")]),
                stage("Canary", vec![deploy("Deploy")]),
                stage("Gate", vec![approval("Compliance")]),
                stage("Production", vec![deploy("Deploy")]),
            ]),
            params: "{}",
            expect: "non_compliant",
            says: &["Canary › Deploy is not followed by a test before Production"],
        },
        Shape {
            name: "two segments, each tested",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage("Staging", vec![deploy("Deploy"), order(tests("Smoke"), 2)]),
                stage("Canary", vec![deploy("Deploy"), order(tests("Smoke"), 2)]),
                stage("Gate", vec![approval("Compliance")]),
                stage("Production", vec![deploy("Deploy")]),
            ]),
            params: "{}",
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "three parallel deploys before production, at most two",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage(
                    "Canary",
                    vec![deploy("Web"), deploy("Api"), deploy("Worker"), order(tests("Smoke"), 2)],
                ),
                stage("Gate", vec![approval("Compliance")]),
                stage("Production", vec![deploy("Deploy")]),
            ]),
            params: r#"{"MaxParallelDeploys": "2"}"#,
            expect: "non_compliant",
            says: &[
                "Canary deploys to 3 targets at once (runOrder 1: Web, Api, Worker); at most 2 (MaxParallelDeploys)",
            ],
        },
        Shape {
            name: "cross-region parallel canaries within the segment limit, tested after",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage(
                    "Canary",
                    vec![
                        region(deploy("EU"), "eu-west-1"),
                        region(deploy("US"), "us-east-1"),
                        order(tests("Smoke"), 2),
                    ],
                ),
                stage("Gate", vec![approval("Compliance")]),
                stage(
                    "Production",
                    vec![region(deploy("EU"), "eu-west-1"), region(deploy("US"), "us-east-1")],
                ),
            ]),
            params: r#"{"MaxParallelDeploys": "2"}"#,
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "cross-region canary untested: the annotation names its region",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage("Canary", vec![region(deploy("EU"), "eu-west-1")]),
                stage("Gate", vec![approval("Compliance")]),
                stage("Production", vec![deploy("Deploy")]),
            ]),
            params: "{}",
            expect: "non_compliant",
            says: &["Canary › EU (eu-west-1) is not followed by a test"],
        },
        Shape {
            name: "no production stage at all",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage("Build", vec![build()]),
                stage("Staging", vec![deploy("Deploy")]),
            ]),
            params: "{}",
            expect: "not_applicable",
            says: &["no stage matches ProductionStagePattern `Prod*`"],
        },
        Shape {
            name: "production named otherwise, by parameter",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage("Staging", vec![deploy("Deploy"), order(tests("Smoke"), 2)]),
                stage("Live", vec![deploy("Deploy")]),
            ]),
            params: r#"{"ProductionStagePattern": "Live"}"#,
            expect: "non_compliant",
            says: &["no approval before Live"],
        },
        Shape {
            name: "gate mode: the approval notifies another topic",
            pipeline: v2({
                let mut s = canonical();
                s[4] = stage(
                    "Gate",
                    vec![with(
                        action("Ask", "Approval", "Manual"),
                        "NotificationArn",
                        "arn:aws:sns:us-east-1:1:team-inbox",
                    )],
                );
                s
            }),
            params: r#"{"ApprovalBeforeProduction": "gate", "GateTopicArns": "arn:aws:sns:us-east-1:123456789012:codepipeline-hooks-ComplianceApproverTopic"}"#,
            expect: "non_compliant",
            says: &["approval Gate › Ask notifies arn:aws:sns:us-east-1:1:team-inbox, not a gate topic"],
        },
        Shape {
            name: "gate mode: wired to a gate topic",
            pipeline: v2(canonical()),
            params: r#"{"ApprovalBeforeProduction": "gate", "GateTopicArns": "arn:aws:sns:x, arn:aws:sns:us-east-1:123456789012:codepipeline-hooks-ComplianceApproverTopic"}"#,
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "only the named test runner counts: another Invoke does not test",
            pipeline: v2({
                let mut s = canonical();
                s[3] = stage(
                    "Test",
                    vec![with(
                        action("Notify", "Invoke", "Lambda"),
                        "FunctionName",
                        "post-to-chat",
                    )],
                );
                s
            }),
            params: r#"{"TestFunctionNames": "codepipeline-hooks-PostDeployTestRunner"}"#,
            expect: "non_compliant",
            says: &["add a Lambda Invoke action calling codepipeline-hooks-PostDeployTestRunner after it"],
        },
        Shape {
            name: "the named runner by ARN with an alias counts",
            pipeline: v2({
                let mut s = canonical();
                s[3] = stage(
                    "Test",
                    vec![with(
                        action("Smoke", "Invoke", "Lambda"),
                        "FunctionName",
                        "arn:aws:lambda:us-east-1:123456789012:function:codepipeline-hooks-PostDeployTestRunner:live",
                    )],
                );
                s
            }),
            params: r#"{"TestFunctionNames": "codepipeline-hooks-PostDeployTestRunner"}"#,
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "a Test-category action (CodeBuild tests) counts",
            pipeline: v2({
                let mut s = canonical();
                s[3] = stage("Test", vec![action("Integration", "Test", "CodeBuild")]);
                s
            }),
            params: "{}",
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "watched promotion: the transition is guarded (by glob)",
            pipeline: v2(canonical()),
            params: r#"{"WatchedPromotion": "on", "GuardedTransitions": "cart/Production, sh*/prod*"}"#,
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "watched promotion: the transition is not guarded",
            pipeline: v2(canonical()),
            params: r#"{"WatchedPromotion": "on", "GuardedTransitions": "cart/Production"}"#,
            expect: "non_compliant",
            says: &["the promotion into Production is not watched: add shop/Production to the transition disabler"],
        },
        Shape {
            name: "every practice off: nothing to find",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage("Production", vec![deploy("Deploy")]),
            ]),
            params: r#"{"ApprovalBeforeProduction": "off", "TestAfterDeploy": "off"}"#,
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "deploys after production (a recovery region) are not judged",
            pipeline: v2({
                let mut s = canonical();
                s.push(stage("Recovery", vec![region(deploy("DR"), "us-west-2")]));
                s
            }),
            params: "{}",
            expect: "compliant",
            says: &[],
        },
        Shape {
            name: "several problems fit one annotation",
            pipeline: v2(vec![
                stage("Source", vec![source()]),
                stage("Canary", vec![deploy("Web"), deploy("Api")]),
                stage("Production", vec![deploy("Deploy")]),
            ]),
            params: r#"{"MaxParallelDeploys": "1", "WatchedPromotion": "on", "GuardedTransitions": "cart/Production"}"#,
            expect: "non_compliant",
            says: &["4 problems: no approval before Production"],
        },
    ]
}

#[test]
fn the_shapes() {
    let shapes = shapes();
    assert!(shapes.len() >= 15);
    for shape in shapes {
        let verdict = judge(&shape.pipeline, &params(shape.params));
        let kind = match &verdict {
            Verdict::Compliant(_) => "compliant",
            Verdict::NonCompliant(_) => "non_compliant",
            Verdict::NotApplicable(_) => "not_applicable",
        };
        assert_eq!(kind, shape.expect, "{}: {verdict:?}", shape.name);
        assert!(
            verdict.annotation().chars().count() <= ANNOTATION_LIMIT,
            "{}: {} chars",
            shape.name,
            verdict.annotation().chars().count()
        );
        assert!(
            !verdict.annotation().is_empty(),
            "{}: every verdict says why",
            shape.name
        );
        for text in shape.says {
            assert!(
                verdict.annotation().contains(text),
                "{}: expected {text:?} in {:?}",
                shape.name,
                verdict.annotation()
            );
        }
    }
}

#[test]
fn a_v1_declaration_from_json_is_judged_like_v2() {
    // What Config records for a V1 pipeline: no pipelineType, no runOrder on single actions.
    let configuration = serde_json::json!({"pipeline": {"name": "legacy", "version": 7, "stages": [
        {"name": "Source", "actions": [{"name": "S", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}}]},
        {"name": "Beta", "actions": [{"name": "D", "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1"}}]},
        {"name": "Prod", "actions": [{"name": "D", "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1"}}]}]}});
    let shape = PipelineShape::from_configuration(&configuration).unwrap();
    let verdict = judge(&shape, &params("{}"));
    assert_eq!(
        verdict,
        Verdict::NonCompliant(
            "2 problems: no approval before Prod: add a Manual approval in a stage before it, or at an earlier runOrder \
             of Prod; Beta › D is not followed by a test before Prod: add a post-deploy test action (Lambda Invoke or \
             Test) after it"
                .into()
        )
    );
    assert!(verdict.annotation().chars().count() <= ANNOTATION_LIMIT);
}
