//! Reading the facts from AWS Config, every list paged to its end, every call bounded by the deadline, every
//! failure rendered the one way. Returns what Config said; `decide` judges it.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_config::Client;
use aws_sdk_config::types::{ComplianceType, ConfigRule, EvaluationResult};
use chrono::{DateTime, Utc};
use hooks_common::aws::{NO_ANSWER_IN_TIME, by_deadline, call, render_sdk_error};

use crate::facts::{Compliance, Contributors, EvaluationStatus, Gathered, Offender, RuleFact};
use crate::settings::{Check, Resources};

/// `DescribeConfigRules`, `DescribeComplianceByConfigRule` and `StartConfigRulesEvaluation` take at most 25 names.
pub const NAMES_PER_CALL: usize = 25;
pub const PIPELINE_RESOURCE_TYPE: &str = "AWS::CodePipeline::Pipeline";
/// A list that keeps answering with a next token this often is broken (or hostile): stop rather than loop.
const MAX_PAGES: usize = 500;

type Failure = String;

fn failed(error: hooks_common::Error) -> Failure {
    format!("Config {error}")
}

fn time(t: Option<&aws_sdk_config::primitives::DateTime>) -> Option<DateTime<Utc>> {
    let t = t?;
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn too_many_pages(operation: &str) -> Failure {
    format!("Config {operation} returned more than {MAX_PAGES} pages; stopped reading")
}

/// Everything the decision needs for one approval of `pipeline`.
pub async fn gather(client: &Client, check: &Check, pipeline: &str, deadline: Instant) -> Result<Gathered, Failure> {
    let mut gathered = Gathered::default();
    let mut wanted: Vec<String> = check.selection.names.clone();
    if let Some(pack) = &check.selection.pack {
        match pack_rules(client, pack, deadline).await? {
            Some(names) if !names.is_empty() => wanted.extend(names),
            Some(_) => gathered
                .matched_nothing
                .push(format!("conformance_pack `{pack}` (it holds no rule)")),
            None => gathered
                .matched_nothing
                .push(format!("conformance_pack `{pack}` (Config has no such pack)")),
        }
    }
    dedup(&mut wanted);
    let rules = match &check.selection.prefix {
        Some(prefix) => {
            let all = all_rules(client, pipeline, deadline).await?;
            let matched: Vec<&ConfigRule> = all
                .iter()
                .filter(|r| rule_name(r).starts_with(prefix.as_str()))
                .collect();
            if matched.is_empty() {
                gathered.matched_nothing.push(format!("rule_prefix `{prefix}`"));
            }
            let mut selected = pick(&all, &wanted, &mut gathered.unknown);
            for rule in matched {
                if !selected.iter().any(|r| rule_name(r) == rule_name(rule)) {
                    selected.push(rule.clone());
                }
            }
            selected
        }
        None => named_rules(client, &wanted, pipeline, deadline, &mut gathered.unknown).await?,
    };
    if !gathered.unknown.is_empty() || !gathered.matched_nothing.is_empty() {
        return Ok(gathered);
    }
    if check.resources == Resources::ThisPipeline {
        gathered.not_for_pipelines = rules
            .iter()
            .filter(|r| !evaluates_pipelines(r))
            .map(|r| rule_name(r).to_owned())
            .collect();
        if !gathered.not_for_pipelines.is_empty() {
            return Ok(gathered);
        }
    }
    let names: Vec<String> = rules.iter().map(|r| rule_name(r).to_owned()).collect();
    let statuses = evaluation_statuses(client, &names, pipeline, deadline).await?;
    gathered.rules = match check.resources {
        Resources::All => overall(client, &names, statuses, pipeline, deadline).await?,
        Resources::ThisPipeline => for_pipeline(client, &names, statuses, pipeline, deadline).await?,
    };
    Ok(gathered)
}

fn dedup(names: &mut Vec<String>) {
    let mut seen = Vec::new();
    names.retain(|n| {
        let fresh = !seen.contains(n);
        seen.push(n.clone());
        fresh
    });
}

fn rule_name(rule: &ConfigRule) -> &str {
    rule.config_rule_name().unwrap_or_default()
}

/// A rule without a resource-type scope (a periodic rule over the account, say) may evaluate pipelines; one scoped
/// to other types never does.
fn evaluates_pipelines(rule: &ConfigRule) -> bool {
    let types = rule.scope().map(|s| s.compliance_resource_types()).unwrap_or_default();
    types.is_empty() || types.iter().any(|t| t == PIPELINE_RESOURCE_TYPE)
}

/// The named rules out of `all`, in the order named; names not there are `unknown`.
fn pick(all: &[ConfigRule], names: &[String], unknown: &mut Vec<String>) -> Vec<ConfigRule> {
    let mut picked = Vec::new();
    for name in names {
        match all.iter().find(|r| rule_name(r) == name) {
            Some(rule) => picked.push(rule.clone()),
            None => unknown.push(name.clone()),
        }
    }
    picked
}

/// The rules of a conformance pack (`None`: no such pack), from `DescribeConformancePackCompliance`, paged.
async fn pack_rules(client: &Client, pack: &str, deadline: Instant) -> Result<Option<Vec<String>>, Failure> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let request = client
            .describe_conformance_pack_compliance()
            .conformance_pack_name(pack)
            .set_next_token(token.clone())
            .send();
        let page = match by_deadline(deadline, request).await {
            None => {
                return Err(format!(
                    "Config DescribeConformancePackCompliance for {pack} failed: {NO_ANSWER_IN_TIME}"
                ));
            }
            Some(Err(e))
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_conformance_pack_exception()) =>
            {
                return Ok(None);
            }
            Some(Err(e)) => {
                return Err(format!(
                    "Config {}",
                    render_sdk_error("DescribeConformancePackCompliance", &e)
                ));
            }
            Some(Ok(page)) => page,
        };
        names.extend(
            page.conformance_pack_rule_compliance_list()
                .iter()
                .filter_map(|c| c.config_rule_name().map(str::to_owned)),
        );
        token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            return Ok(Some(names));
        }
    }
    Err(too_many_pages("DescribeConformancePackCompliance"))
}

/// Every rule of the account and region, `DescribeConfigRules` paged to its end.
async fn all_rules(client: &Client, pipeline: &str, deadline: Instant) -> Result<Vec<ConfigRule>, Failure> {
    let mut rules = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = call(
            deadline,
            "DescribeConfigRules",
            pipeline,
            client.describe_config_rules().set_next_token(token.clone()).send(),
        )
        .await
        .map_err(failed)?;
        rules.extend(page.config_rules().iter().cloned());
        token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            return Ok(rules);
        }
    }
    Err(too_many_pages("DescribeConfigRules"))
}

/// The named rules, 25 names per call; a name Config does not know fails the whole call, so then every rule is
/// listed to say exactly which names are unknown.
async fn named_rules(
    client: &Client,
    names: &[String],
    pipeline: &str,
    deadline: Instant,
    unknown: &mut Vec<String>,
) -> Result<Vec<ConfigRule>, Failure> {
    let mut rules = Vec::new();
    for chunk in names.chunks(NAMES_PER_CALL) {
        let mut token: Option<String> = None;
        for page_number in 0.. {
            if page_number >= MAX_PAGES {
                return Err(too_many_pages("DescribeConfigRules"));
            }
            let request = client
                .describe_config_rules()
                .set_config_rule_names(Some(chunk.to_vec()))
                .set_next_token(token.clone())
                .send();
            let page = match by_deadline(deadline, request).await {
                None => {
                    return Err(format!(
                        "Config DescribeConfigRules for {pipeline} failed: {NO_ANSWER_IN_TIME}"
                    ));
                }
                Some(Err(e))
                    if e.as_service_error()
                        .is_some_and(|s| s.is_no_such_config_rule_exception()) =>
                {
                    let all = all_rules(client, pipeline, deadline).await?;
                    return Ok(pick(&all, names, unknown));
                }
                Some(Err(e)) => return Err(format!("Config {}", render_sdk_error("DescribeConfigRules", &e))),
                Some(Ok(page)) => page,
            };
            rules.extend(page.config_rules().iter().cloned());
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    // Answered, but without some name (Config should have refused it): unknown all the same.
    let found = rules.clone();
    Ok(pick(&found, names, unknown))
}

async fn evaluation_statuses(
    client: &Client,
    names: &[String],
    pipeline: &str,
    deadline: Instant,
) -> Result<BTreeMap<String, EvaluationStatus>, Failure> {
    let mut statuses = BTreeMap::new();
    for chunk in names.chunks(NAMES_PER_CALL) {
        let mut token: Option<String> = None;
        for page_number in 0.. {
            if page_number >= MAX_PAGES {
                return Err(too_many_pages("DescribeConfigRuleEvaluationStatus"));
            }
            let page = call(
                deadline,
                "DescribeConfigRuleEvaluationStatus",
                pipeline,
                client
                    .describe_config_rule_evaluation_status()
                    .set_config_rule_names(Some(chunk.to_vec()))
                    .set_next_token(token.clone())
                    .send(),
            )
            .await
            .map_err(failed)?;
            for status in page.config_rules_evaluation_status() {
                let Some(name) = status.config_rule_name() else {
                    continue;
                };
                let invoked = [
                    time(status.last_successful_invocation_time()),
                    time(status.last_failed_invocation_time()),
                ]
                .into_iter()
                .flatten()
                .max();
                let last_error = match (status.last_error_code(), status.last_error_message()) {
                    (Some(code), Some(message)) => Some(format!("{code}: {message}")),
                    (Some(code), None) => Some(code.to_owned()),
                    (None, Some(message)) => Some(message.to_owned()),
                    (None, None) => None,
                };
                statuses.insert(
                    name.to_owned(),
                    EvaluationStatus {
                        last_successful_evaluation: time(status.last_successful_evaluation_time()),
                        last_failed_evaluation: time(status.last_failed_evaluation_time()),
                        last_invoked: invoked,
                        last_error,
                    },
                );
            }
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(statuses)
}

fn compliance_of(kind: Option<&ComplianceType>, contributors: Option<Contributors>) -> Compliance {
    match kind {
        Some(ComplianceType::Compliant) => Compliance::Compliant,
        Some(ComplianceType::NotApplicable) => Compliance::NotApplicable,
        Some(ComplianceType::NonCompliant) => Compliance::NonCompliant { contributors },
        Some(ComplianceType::InsufficientData) => Compliance::InsufficientData,
        // A type this build does not know is not compliance.
        Some(_) => Compliance::InsufficientData,
        None => Compliance::NoResult,
    }
}

/// Each rule's overall compliance (`DescribeComplianceByConfigRule`, 25 names a call, paged), and for the
/// non-compliant ones every non-compliant resource (`GetComplianceDetailsByConfigRule`, paged).
async fn overall(
    client: &Client,
    names: &[String],
    mut statuses: BTreeMap<String, EvaluationStatus>,
    pipeline: &str,
    deadline: Instant,
) -> Result<Vec<RuleFact>, Failure> {
    let mut compliance: BTreeMap<String, Compliance> = BTreeMap::new();
    for chunk in names.chunks(NAMES_PER_CALL) {
        let mut token: Option<String> = None;
        for page_number in 0.. {
            if page_number >= MAX_PAGES {
                return Err(too_many_pages("DescribeComplianceByConfigRule"));
            }
            let page = call(
                deadline,
                "DescribeComplianceByConfigRule",
                pipeline,
                client
                    .describe_compliance_by_config_rule()
                    .set_config_rule_names(Some(chunk.to_vec()))
                    .set_next_token(token.clone())
                    .send(),
            )
            .await
            .map_err(failed)?;
            for entry in page.compliance_by_config_rules() {
                let Some(name) = entry.config_rule_name() else { continue };
                let contributors = entry
                    .compliance()
                    .and_then(|c| c.compliance_contributor_count())
                    .map(|c| Contributors {
                        count: c.capped_count(),
                        capped: c.cap_exceeded(),
                    });
                let kind = entry.compliance().and_then(|c| c.compliance_type());
                compliance.insert(name.to_owned(), compliance_of(kind, contributors));
            }
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    let mut facts = Vec::new();
    for name in names {
        let status = statuses.remove(name).unwrap_or_default();
        let compliance = compliance.remove(name).unwrap_or(Compliance::NoResult);
        let offenders = match compliance {
            Compliance::NonCompliant { .. } => non_compliant_resources(client, name, deadline).await?,
            _ => Vec::new(),
        };
        facts.push(RuleFact {
            name: name.clone(),
            compliance,
            offenders,
            evaluated_at: status.last_successful_evaluation,
            status,
        });
    }
    Ok(facts)
}

async fn non_compliant_resources(client: &Client, rule: &str, deadline: Instant) -> Result<Vec<Offender>, Failure> {
    let mut offenders = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = call(
            deadline,
            "GetComplianceDetailsByConfigRule",
            rule,
            client
                .get_compliance_details_by_config_rule()
                .config_rule_name(rule)
                .compliance_types(ComplianceType::NonCompliant)
                .limit(100)
                .set_next_token(token.clone())
                .send(),
        )
        .await
        .map_err(failed)?;
        offenders.extend(page.evaluation_results().iter().map(offender));
        token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            return Ok(offenders);
        }
    }
    Err(too_many_pages("GetComplianceDetailsByConfigRule"))
}

fn qualifier(result: &EvaluationResult) -> Option<&aws_sdk_config::types::EvaluationResultQualifier> {
    result.evaluation_result_identifier()?.evaluation_result_qualifier()
}

fn offender(result: &EvaluationResult) -> Offender {
    let q = qualifier(result);
    Offender {
        resource_type: q.and_then(|q| q.resource_type()).unwrap_or("resource").to_owned(),
        resource_id: q.and_then(|q| q.resource_id()).unwrap_or("(unnamed)").to_owned(),
        annotation: result.annotation().map(str::to_owned),
    }
}

/// This pipeline's result of each rule (`GetComplianceDetailsByResource`, paged): the newest result per rule.
async fn for_pipeline(
    client: &Client,
    names: &[String],
    mut statuses: BTreeMap<String, EvaluationStatus>,
    pipeline: &str,
    deadline: Instant,
) -> Result<Vec<RuleFact>, Failure> {
    let mut newest: BTreeMap<String, EvaluationResult> = BTreeMap::new();
    let mut token: Option<String> = None;
    let mut complete = false;
    for _ in 0..MAX_PAGES {
        let page = call(
            deadline,
            "GetComplianceDetailsByResource",
            pipeline,
            client
                .get_compliance_details_by_resource()
                .resource_type(PIPELINE_RESOURCE_TYPE)
                .resource_id(pipeline)
                // Named, not left to the default: NOT_APPLICABLE counts as compliant and must be read too.
                .compliance_types(ComplianceType::Compliant)
                .compliance_types(ComplianceType::NonCompliant)
                .compliance_types(ComplianceType::NotApplicable)
                .set_next_token(token.clone())
                .send(),
        )
        .await
        .map_err(failed)?;
        for result in page.evaluation_results() {
            let Some(rule) = qualifier(result).and_then(|q| q.config_rule_name()) else {
                continue;
            };
            if !names.iter().any(|n| n == rule) {
                continue;
            }
            let recorded = time(result.result_recorded_time());
            let newer = newest
                .get(rule)
                .is_none_or(|seen| time(seen.result_recorded_time()) < recorded);
            if newer {
                newest.insert(rule.to_owned(), result.clone());
            }
        }
        token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            complete = true;
            break;
        }
    }
    if !complete {
        return Err(too_many_pages("GetComplianceDetailsByResource"));
    }
    Ok(names
        .iter()
        .map(|name| {
            let status = statuses.remove(name).unwrap_or_default();
            match newest.remove(name) {
                Some(result) => {
                    let compliance = compliance_of(result.compliance_type(), None);
                    let offenders = match compliance {
                        Compliance::NonCompliant { .. } => vec![offender(&result)],
                        _ => Vec::new(),
                    };
                    RuleFact {
                        name: name.clone(),
                        compliance,
                        offenders,
                        evaluated_at: time(result.result_recorded_time()),
                        status,
                    }
                }
                None => RuleFact {
                    name: name.clone(),
                    compliance: Compliance::NoResult,
                    offenders: Vec::new(),
                    evaluated_at: None,
                    status,
                },
            }
        })
        .collect())
}

/// Asks Config to evaluate `rules` now (25 a call). An evaluation already running or asked for within the minute
/// (`LimitExceededException`, `ResourceInUseException`) is what was wanted, so it is not a failure.
pub async fn start_evaluation(client: &Client, rules: &[String], deadline: Instant) -> Result<(), Failure> {
    for chunk in rules.chunks(NAMES_PER_CALL) {
        let request = client
            .start_config_rules_evaluation()
            .set_config_rule_names(Some(chunk.to_vec()))
            .send();
        match by_deadline(deadline, request).await {
            None => return Err(format!("StartConfigRulesEvaluation: {NO_ANSWER_IN_TIME}")),
            Some(Ok(_)) => {}
            Some(Err(e))
                if e.as_service_error()
                    .is_some_and(|s| s.is_limit_exceeded_exception() || s.is_resource_in_use_exception()) =>
            {
                tracing::info!(rules = %chunk.join(", "), problem = %render_sdk_error("StartConfigRulesEvaluation", &e), "an evaluation is already running");
            }
            Some(Err(e)) => return Err(render_sdk_error("StartConfigRulesEvaluation", &e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
