//! The rule, as a pure function: a wrong CustomData rejects, any NON_COMPLIANT rejects, missing, stale or failed
//! results hold (and ask Config for a fresh evaluation once per approval), and only every rule compliant and fresh
//! approves. Errors follow the failure policy; nothing here approves on a doubt.

use chrono::{DateTime, Duration, Utc};
use hooks_common::gate::{Decision, FailurePolicy};

use crate::facts::{Compliance, Gathered, Offender, RuleFact};
use crate::settings::Resources;

/// How many non-compliant resources a rejection names; the rest go to the logs.
pub const OFFENDERS_NAMED: usize = 3;
/// How much of each annotation a rejection may quote, longest first: the longest that lets the reason fit
/// PutApprovalResult's summary is used, so a single annotation (at most 256 characters) is quoted whole.
const QUOTE_LENGTHS: [usize; 7] = [256, 200, 160, 120, 100, 80, 60];
/// PutApprovalResult's summary limit.
const SUMMARY_LIMIT: usize = 512;

pub struct Facts {
    pub gathered: Result<Gathered, String>,
    /// When the approval started waiting: an evaluation Config started since then was started for this approval
    /// (by this gate or by a change), so it is not asked for again.
    pub requested_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// What the gate was asked to judge by: the scope, how old a result may be, the failure policy, the sweep.
pub struct Terms {
    pub resources: Resources,
    pub max_age: Duration,
    pub on_error: FailurePolicy,
    pub recheck: Duration,
}

/// The decision, and the rules to ask Config to evaluate now (only with a Hold).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub evaluate: Vec<String>,
}

impl From<Decision> for Verdict {
    fn from(decision: Decision) -> Verdict {
        Verdict {
            decision,
            evaluate: Vec::new(),
        }
    }
}

/// Why a rule's result cannot be trusted yet.
enum Waiting<'a> {
    NoData(&'a RuleFact),
    Stale(&'a RuleFact, DateTime<Utc>),
    Failed(&'a RuleFact),
}

pub fn decide(facts: &Facts, terms: &Terms) -> Verdict {
    let now = facts.now;
    let gathered = match &facts.gathered {
        Ok(gathered) => gathered,
        Err(problem) => return terms.on_error.on_error(problem, now, terms.recheck).into(),
    };
    if let Some(reason) = wrong_custom_data(gathered) {
        return Decision::Reject { reason }.into();
    }
    let non_compliant: Vec<&RuleFact> = gathered
        .rules
        .iter()
        .filter(|r| matches!(r.compliance, Compliance::NonCompliant { .. }))
        .collect();
    if !non_compliant.is_empty() {
        return Decision::Reject {
            reason: rejection(&non_compliant, terms.resources),
        }
        .into();
    }
    let waiting: Vec<Waiting<'_>> = gathered
        .rules
        .iter()
        .filter_map(|rule| waiting(rule, now, terms.max_age))
        .collect();
    if !waiting.is_empty() {
        return hold(&waiting, facts, terms);
    }
    let judged: Vec<String> = gathered.rules.iter().map(|r| approved_rule(r, now)).collect();
    Decision::Approve {
        summary: format!(
            "compliant: {} Config rule(s) {}: {}",
            judged.len(),
            match terms.resources {
                Resources::All => "across all their resources",
                Resources::ThisPipeline => "for this pipeline",
            },
            judged.join(", ")
        ),
    }
    .into()
}

fn wrong_custom_data(gathered: &Gathered) -> Option<String> {
    let mut problems = Vec::new();
    if !gathered.unknown.is_empty() {
        problems.push(format!(
            "Config rule(s) not found: {}: check CustomData `rules` (names as the Config console shows them)",
            gathered.unknown.join(", ")
        ));
    }
    for selector in &gathered.matched_nothing {
        problems.push(format!("{selector} matches no Config rule: check it in CustomData"));
    }
    if !gathered.not_for_pipelines.is_empty() {
        problems.push(format!(
            "rule(s) {} do not evaluate AWS::CodePipeline::Pipeline, so they can never judge this pipeline: use \
             \"resources\": \"all\" for them, or gate on pipeline rules only",
            gathered.not_for_pipelines.join(", ")
        ));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

fn waiting(rule: &RuleFact, now: DateTime<Utc>, max_age: Duration) -> Option<Waiting<'_>> {
    if rule.status.last_failed() {
        return Some(Waiting::Failed(rule));
    }
    match rule.compliance {
        Compliance::InsufficientData | Compliance::NoResult => Some(Waiting::NoData(rule)),
        Compliance::NonCompliant { .. } => None,
        Compliance::Compliant | Compliance::NotApplicable => match rule.evaluated_at {
            None => Some(Waiting::NoData(rule)),
            Some(at) if now - at > max_age => Some(Waiting::Stale(rule, at)),
            Some(_) => None,
        },
    }
}

fn hold(waiting: &[Waiting<'_>], facts: &Facts, terms: &Terms) -> Verdict {
    let mut evaluate = Vec::new();
    let mut parts = Vec::new();
    for wait in waiting {
        let (rule, why) = match wait {
            Waiting::NoData(rule) => (
                *rule,
                match rule.compliance {
                    Compliance::NoResult if terms.resources == Resources::ThisPipeline => {
                        "no result for this pipeline yet".to_owned()
                    }
                    Compliance::NoResult => "no result yet".to_owned(),
                    _ => "INSUFFICIENT_DATA".to_owned(),
                },
            ),
            Waiting::Stale(rule, at) => (
                *rule,
                format!(
                    "stale (evaluated {} ago, older than {})",
                    age(facts.now - *at),
                    age(terms.max_age)
                ),
            ),
            Waiting::Failed(rule) => (
                *rule,
                format!(
                    "last evaluation failed{}",
                    rule.status
                        .last_error
                        .as_deref()
                        .map(|e| format!(" ({})", hooks_common::text::truncate(e, 80)))
                        .unwrap_or_default()
                ),
            ),
        };
        // Once per approval: an invocation since the approval started waiting (asked for by this gate, or a
        // change Config saw) is the evaluation this approval waits for.
        let started_for_this_approval = rule.status.last_invoked.is_some_and(|at| at >= facts.requested_at);
        let next = if started_for_this_approval {
            "evaluation already started for this approval, waiting for its result"
        } else {
            evaluate.push(rule.name.clone());
            "evaluation requested"
        };
        parts.push(format!("{}: {why}; {next}", rule.name));
    }
    Verdict {
        decision: Decision::Hold {
            reason: format!("waiting for Config: {}", parts.join("; ")),
            recheck_after: facts.now + terms.recheck,
        },
        evaluate,
    }
}

fn rejection(non_compliant: &[&RuleFact], resources: Resources) -> String {
    let mut reason = String::new();
    for quote in QUOTE_LENGTHS {
        reason = rejection_quoting(non_compliant, resources, quote);
        if reason.chars().count() <= SUMMARY_LIMIT {
            break;
        }
    }
    reason
}

fn rejection_quoting(non_compliant: &[&RuleFact], resources: Resources, quote: usize) -> String {
    let mut parts = Vec::new();
    for rule in non_compliant {
        let count = match rule.compliance {
            Compliance::NonCompliant { contributors: Some(c) } if c.capped => format!("{}+ resources", c.count),
            Compliance::NonCompliant { contributors: Some(c) } => format!("{} resource(s)", c.count),
            _ => format!("{} resource(s)", rule.offenders.len().max(1)),
        };
        let named: Vec<String> = rule
            .offenders
            .iter()
            .take(OFFENDERS_NAMED)
            .map(|o| offender(o, quote))
            .collect();
        let more = rule.offenders.len().saturating_sub(OFFENDERS_NAMED);
        let mut text = match resources {
            Resources::ThisPipeline => format!("Config rule {} is NON_COMPLIANT for this pipeline", rule.name),
            Resources::All => format!("Config rule {} is NON_COMPLIANT ({count})", rule.name),
        };
        if !named.is_empty() {
            text.push_str(": ");
            text.push_str(&named.join("; "));
        }
        if more > 0 {
            text.push_str(&format!("; {more} more in the approver's logs"));
        }
        parts.push(text);
    }
    format!(
        "{}. Fix what it says; Config evaluates the change and the next release is checked again",
        parts.join(". ")
    )
}

fn offender(o: &Offender, quote: usize) -> String {
    let place = if o.resource_type == "AWS::CodePipeline::Pipeline" {
        format!("pipeline {}", o.resource_id)
    } else {
        format!("{} {}", o.resource_type, o.resource_id)
    };
    match o.annotation.as_deref().filter(|a| !a.trim().is_empty()) {
        Some(annotation) => format!("{place}: {}", hooks_common::text::truncate(annotation, quote)),
        None => place,
    }
}

fn approved_rule(rule: &RuleFact, now: DateTime<Utc>) -> String {
    let state = match rule.compliance {
        Compliance::NotApplicable => " NOT_APPLICABLE",
        _ => "",
    };
    match rule.evaluated_at {
        Some(at) => format!(
            "{}{state} (evaluated {} UTC, {} ago)",
            rule.name,
            at.format("%Y-%m-%d %H:%M"),
            age(now - at)
        ),
        None => format!("{}{state}", rule.name),
    }
}

/// A duration for people: seconds, minutes, hours or days.
fn age(d: Duration) -> String {
    let d = d.max(Duration::zero());
    if d < Duration::minutes(1) {
        format!("{} s", d.num_seconds())
    } else if d < Duration::hours(2) {
        format!("{} min", d.num_minutes())
    } else if d < Duration::days(2) {
        format!("{} h", d.num_hours())
    } else {
        format!("{} d", d.num_days())
    }
}

#[cfg(test)]
mod tests;
