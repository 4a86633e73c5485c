//! The release practices, as a pure function of a pipeline's declaration and the rule's parameters.
//!
//! A pipeline runs as a sequence of steps: stages in order, and inside a stage the actions grouped by `runOrder`
//! (actions sharing one run in parallel). The promotion into production is the first step of the first production
//! stage that does more than wait for an approval. Before it:
//! - an approval gate (a Manual approval, or one wired to a gate topic) after the last deploy, in an earlier step;
//! - every deploy followed by a test in a later step, before the next deploy or the promotion;
//! - at most `MaxParallelDeploys` deploy actions in one step;
//! - the promotion's transition listed as guarded by the transition disabler.

use hooks_common::text::truncate;

use crate::params::{ApprovalRule, Practices, TestRule};
use crate::pipeline::{Action, PipelineShape};

/// Config allows at most 256 characters of annotation.
pub const ANNOTATION_LIMIT: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Compliant(String),
    NonCompliant(String),
    NotApplicable(String),
}

impl Verdict {
    pub fn annotation(&self) -> &str {
        match self {
            Verdict::Compliant(a) | Verdict::NonCompliant(a) | Verdict::NotApplicable(a) => a,
        }
    }
}

struct Step<'a> {
    stage_index: usize,
    stage: &'a str,
    run_order: i32,
    actions: Vec<&'a Action>,
}

impl Step<'_> {
    fn deploys(&self) -> impl Iterator<Item = &&Action> {
        self.actions.iter().filter(|a| a.is_deploy())
    }
}

fn steps(pipeline: &PipelineShape) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    for (stage_index, stage) in pipeline.stages.iter().enumerate() {
        let mut orders: Vec<i32> = stage.actions.iter().map(|a| a.run_order).collect();
        orders.sort_unstable();
        orders.dedup();
        for run_order in orders {
            steps.push(Step {
                stage_index,
                stage: &stage.name,
                run_order,
                actions: stage.actions.iter().filter(|a| a.run_order == run_order).collect(),
            });
        }
    }
    steps
}

fn label(step: &Step<'_>, action: &Action) -> String {
    match &action.region {
        Some(region) => format!("{} › {} ({region})", step.stage, action.name),
        None => format!("{} › {}", step.stage, action.name),
    }
}

pub fn judge(pipeline: &PipelineShape, practices: &Practices) -> Verdict {
    let Some(production) = pipeline.stages.iter().position(|s| practices.is_production(&s.name)) else {
        return Verdict::NotApplicable(truncate(
            &format!(
                "no stage matches ProductionStagePattern `{}`: nothing to guard. Set the parameter if production is \
                 named otherwise",
                practices.production_pattern
            ),
            ANNOTATION_LIMIT,
        ));
    };
    let production_stage = pipeline.stages[production].name.as_str();
    let steps = steps(pipeline);
    // The promotion: the production stage's first step that does more than wait for an approval.
    let promotion = steps
        .iter()
        .position(|s| s.stage_index == production && s.actions.iter().any(|a| !a.is_manual_approval()))
        .unwrap_or_else(|| {
            steps
                .iter()
                .rposition(|s| s.stage_index == production)
                .map_or(steps.len(), |last| last + 1)
        });
    let before = &steps[..promotion];
    let mut findings = Vec::new();
    if let Some(finding) = approval_finding(before, &practices.approval, production_stage) {
        findings.push(finding);
    }
    findings.extend(test_findings(before, &practices.tests, production_stage));
    if let Some(max) = practices.max_parallel_deploys {
        findings.extend(segment_findings(before, max));
    }
    if let Some(guarded) = &practices.watched {
        let watched = guarded
            .iter()
            .any(|g| g.pipeline.matches(&pipeline.name) && g.stage.matches(production_stage));
        if !watched {
            findings.push(format!(
                "the promotion into {production_stage} is not watched: add {}/{production_stage} to the transition \
                 disabler's guarded transitions (rule parameter GuardedTransitions)",
                pipeline.name
            ));
        }
    }
    match findings.len() {
        0 => Verdict::Compliant(truncate(
            &format!("release practices followed before {production_stage}"),
            ANNOTATION_LIMIT,
        )),
        1 => Verdict::NonCompliant(truncate(&findings[0], ANNOTATION_LIMIT)),
        n => Verdict::NonCompliant(truncate(
            &format!("{n} problems: {}", findings.join("; ")),
            ANNOTATION_LIMIT,
        )),
    }
}

fn approval_finding(before: &[Step<'_>], rule: &ApprovalRule, production: &str) -> Option<String> {
    if *rule == ApprovalRule::Off {
        return None;
    }
    // The gate judges what the last deploy before it showed, so it must come after that deploy.
    let last_deploy = before.iter().rposition(|s| s.deploys().next().is_some());
    let after_last_deploy = |index: usize| last_deploy.is_none_or(|d| index > d);
    let approvals: Vec<(usize, &Step<'_>, &Action)> = before
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            s.actions
                .iter()
                .filter(|a| a.is_manual_approval())
                .map(move |a| (i, s, *a))
        })
        .collect();
    let wired = |action: &Action| match rule {
        ApprovalRule::GateTopic(topics) => action
            .config("NotificationArn")
            .is_some_and(|arn| topics.iter().any(|t| t == arn)),
        _ => true,
    };
    if approvals.iter().any(|(i, _, a)| after_last_deploy(*i) && wired(a)) {
        return None;
    }
    if let Some((_, step, action)) = approvals.iter().find(|(i, _, a)| after_last_deploy(*i) && !wired(a)) {
        return Some(format!(
            "approval {} notifies {}, not a gate topic: set its NotificationArn to one of GateTopicArns",
            label(step, action),
            action.config("NotificationArn").unwrap_or("nothing")
        ));
    }
    if let (Some((_, step, action)), Some(d)) = (approvals.first(), last_deploy) {
        let deploy = before[d]
            .deploys()
            .next()
            .map(|a| label(&before[d], a))
            .unwrap_or_default();
        return Some(format!(
            "approval {} comes before {deploy}: move it after the last deploy before {production}, so it judges what \
             that deploy showed",
            label(step, action)
        ));
    }
    let wiring = match rule {
        ApprovalRule::GateTopic(_) => " wired to a gate topic",
        _ => "",
    };
    Some(format!(
        "no approval before {production}: add a Manual approval{wiring} in a stage before it, or at an earlier runOrder \
         of {production}"
    ))
}

fn is_test(action: &Action, rule: &TestRule) -> bool {
    match rule {
        TestRule::Off => false,
        TestRule::AnyTest => action.is_lambda_invoke() || action.is_test_category(),
        TestRule::Functions(names) => {
            action.is_lambda_invoke()
                && action
                    .config("FunctionName")
                    .is_some_and(|f| names.iter().any(|n| same_function(f, n)))
        }
    }
}

/// `FunctionName` may be a name, a partial or a full ARN, with or without a qualifier.
fn same_function(declared: &str, wanted: &str) -> bool {
    let name = |f: &str| -> String {
        let parts: Vec<&str> = f.split(':').collect();
        match parts.iter().position(|p| *p == "function") {
            Some(i) if i + 1 < parts.len() => parts[i + 1].to_owned(),
            _ => parts[0].to_owned(),
        }
    };
    declared == wanted || name(declared) == name(wanted)
}

fn test_findings(before: &[Step<'_>], rule: &TestRule, production: &str) -> Vec<String> {
    if *rule == TestRule::Off {
        return Vec::new();
    }
    let what = match rule {
        TestRule::Functions(names) => format!("a Lambda Invoke action calling {}", names.join(" or ")),
        _ => "a post-deploy test action (Lambda Invoke or Test)".to_owned(),
    };
    let mut findings = Vec::new();
    for (i, step) in before.iter().enumerate() {
        let Some(deploy) = step.deploys().next() else { continue };
        let next_deploy = before[i + 1..]
            .iter()
            .position(|s| s.deploys().next().is_some())
            .map(|p| i + 1 + p);
        let until = next_deploy.unwrap_or(before.len());
        if before[i + 1..until]
            .iter()
            .any(|s| s.actions.iter().any(|a| is_test(a, rule)))
        {
            continue;
        }
        let deploys = label(step, deploy);
        let next = match next_deploy {
            Some(d) => before[d]
                .deploys()
                .next()
                .map(|a| label(&before[d], a))
                .unwrap_or_default(),
            None => production.to_owned(),
        };
        match step.actions.iter().find(|a| is_test(a, rule)) {
            Some(parallel) => findings.push(format!(
                "{} runs in parallel with {deploys} (runOrder {}): give the test a later runOrder",
                label(step, parallel),
                step.run_order
            )),
            None => findings.push(format!(
                "{deploys} is not followed by a test before {next}: add {what} after it"
            )),
        }
    }
    findings
}

fn segment_findings(before: &[Step<'_>], max: usize) -> Vec<String> {
    before
        .iter()
        .filter(|s| s.deploys().count() > max)
        .map(|s| {
            let names: Vec<String> = s
                .deploys()
                .map(|a| match &a.region {
                    Some(region) => format!("{} ({region})", a.name),
                    None => a.name.clone(),
                })
                .collect();
            format!(
                "{} deploys to {} targets at once (runOrder {}: {}); at most {max} (MaxParallelDeploys): give them \
                 successive runOrders",
                s.stage,
                names.len(),
                s.run_order,
                names.join(", ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
