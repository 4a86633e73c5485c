//! The Config operations the hooks call, one function each. Requests are validated as Config validates them, and
//! every error is one the operation models (so the real SDK returns its typed variant). Lists page through
//! [`crate::paging`] tokens.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{ConfigRule, ConfigState, EvaluationRecord, PutRecord};
use crate::SimState;
use crate::aws::AwsError;
use crate::paging::{decode_token, encode_token};

fn error(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(StatusCode::BAD_REQUEST, code, message)
}

fn invalid(message: impl Into<String>) -> AwsError {
    error("InvalidParameterValueException", message)
}

fn no_such_rule(name: &str) -> AwsError {
    error(
        "NoSuchConfigRuleException",
        format!("The ConfigRule '{name}' provided in the request is invalid. Please check the configRule name."),
    )
}

fn epoch(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

fn strings(request: &Value, member: &str) -> Result<Vec<String>, AwsError> {
    match request.get(member) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("{member} must hold strings")))
            })
            .collect(),
        Some(_) => Err(invalid(format!("{member} must be a list"))),
    }
}

fn string<'a>(request: &'a Value, member: &str) -> Option<&'a str> {
    request.get(member).and_then(Value::as_str).filter(|s| !s.is_empty())
}

pub fn handle(state: &Arc<SimState>, operation: &str, request: &Value) -> Result<Value, AwsError> {
    if operation == "StartConfigRulesEvaluation" {
        return start_config_rules_evaluation(state, request);
    }
    let mut config = state.config();
    match operation {
        "DescribeConfigRules" => describe_config_rules(&config, request),
        "DescribeConfigRuleEvaluationStatus" => describe_evaluation_status(&config, request),
        "DescribeComplianceByConfigRule" => describe_compliance_by_config_rule(&config, request),
        "GetComplianceDetailsByConfigRule" => get_compliance_details_by_config_rule(&config, request),
        "GetComplianceDetailsByResource" => get_compliance_details_by_resource(&config, request),
        "DescribeConformancePackCompliance" => describe_conformance_pack_compliance(&config, request),
        "PutEvaluations" => put_evaluations(&mut config, request),
        "GetResourceConfigHistory" => get_resource_config_history(&config, request),
        other => Err(error(
            "ValidationException",
            format!("the simulator does not implement config.{other}"),
        )),
    }
}

/// One page of `items` from the cursor in `request[token_member]` (an index), `size` long.
fn page<T: Clone>(
    items: &[T],
    request: &Value,
    token_member: &str,
    scope: &str,
    size: usize,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match string(request, token_member) {
        None => 0,
        Some(token) => decode_token(token, scope)
            .and_then(|cursor| cursor.parse::<usize>().ok())
            .filter(|i| *i <= items.len())
            .ok_or_else(|| error("InvalidNextTokenException", "The nextToken provided is invalid"))?,
    };
    let end = (start + size.max(1)).min(items.len());
    let next = (end < items.len()).then(|| encode_token(scope, &end.to_string()));
    Ok((items[start..end].to_vec(), next))
}

fn rules_named<'a>(config: &'a ConfigState, names: &[String], max: usize) -> Result<Vec<&'a ConfigRule>, AwsError> {
    if names.len() > max {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'configRuleNames' failed to satisfy constraint: Member must have \
             length less than or equal to {max}"
        )));
    }
    if names.is_empty() {
        return Ok(config.rules.values().collect());
    }
    names
        .iter()
        .map(|n| config.rules.get(n).ok_or_else(|| no_such_rule(n)))
        .collect()
}

fn rule_json(rule: &ConfigRule) -> Value {
    let mut details = Vec::new();
    if rule.change_triggered {
        details.push(json!({"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"}));
        details
            .push(json!({"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"}));
    }
    if let Some(frequency) = &rule.periodic {
        details.push(json!({"EventSource": "aws.config", "MessageType": "ScheduledNotification", "MaximumExecutionFrequency": frequency}));
    }
    let source = match &rule.managed_identifier {
        Some(identifier) => json!({"Owner": "AWS", "SourceIdentifier": identifier}),
        None => json!({
            "Owner": "CUSTOM_LAMBDA",
            "SourceIdentifier": format!("arn:aws:lambda:{}:{}:function:{}", crate::REGION, crate::ACCOUNT,
                rule.function.as_ref().map(|f| f.name().to_owned()).unwrap_or_default()),
            "SourceDetails": details,
        }),
    };
    let mut value = json!({
        "ConfigRuleName": rule.name,
        "ConfigRuleArn": rule.arn(),
        "ConfigRuleId": rule.id,
        "Source": source,
        "InputParameters": rule.input_parameters,
        "ConfigRuleState": "ACTIVE",
        "EvaluationModes": [{"Mode": "DETECTIVE"}],
    });
    if !rule.resource_types.is_empty() {
        value["Scope"] = json!({"ComplianceResourceTypes": rule.resource_types});
    }
    if let Some(frequency) = &rule.periodic {
        value["MaximumExecutionFrequency"] = json!(frequency);
    }
    value
}

fn describe_config_rules(config: &ConfigState, request: &Value) -> Result<Value, AwsError> {
    let names = strings(request, "ConfigRuleNames")?;
    let rules: Vec<Value> = rules_named(config, &names, 25)?.into_iter().map(rule_json).collect();
    let scope = format!("DescribeConfigRules/{}", names.join(","));
    let (rules, next) = page(&rules, request, "NextToken", &scope, 25)?;
    Ok(json!({"ConfigRules": rules, "NextToken": next}))
}

fn describe_evaluation_status(config: &ConfigState, request: &Value) -> Result<Value, AwsError> {
    let names = strings(request, "ConfigRuleNames")?;
    let limit = match request.get("Limit").and_then(Value::as_i64) {
        None | Some(0) => 50,
        Some(n @ 1..=50) => n as usize,
        Some(n) => return Err(invalid(format!("Limit {n} is out of range: 0 to 50"))),
    };
    let statuses: Vec<Value> = rules_named(config, &names, 1000)?
        .into_iter()
        .map(|rule| {
            let s = &rule.status;
            let at = |t: Option<DateTime<Utc>>| t.map(epoch);
            json!({
                "ConfigRuleName": rule.name,
                "ConfigRuleArn": rule.arn(),
                "ConfigRuleId": rule.id,
                "LastSuccessfulInvocationTime": at(s.last_successful_invocation),
                "LastFailedInvocationTime": at(s.last_failed_invocation),
                "LastSuccessfulEvaluationTime": at(s.last_successful_evaluation),
                "LastFailedEvaluationTime": at(s.last_failed_evaluation),
                "FirstActivatedTime": at(s.first_activated),
                "LastErrorCode": s.last_error_code,
                "LastErrorMessage": s.last_error_message,
                "FirstEvaluationStarted": s.first_evaluation_started,
            })
        })
        .collect();
    let scope = format!("DescribeConfigRuleEvaluationStatus/{}", names.join(","));
    let (statuses, next) = page(&statuses, request, "NextToken", &scope, limit)?;
    Ok(crate::codepipeline::drop_nulls(
        json!({"ConfigRulesEvaluationStatus": statuses, "NextToken": next}),
    ))
}

/// A rule's overall compliance, as Config aggregates it: any NON_COMPLIANT resource makes it NON_COMPLIANT
/// (counted, capped at 100), else any COMPLIANT makes it COMPLIANT, else INSUFFICIENT_DATA (no results, or only
/// NOT_APPLICABLE ones).
fn overall(config: &ConfigState, rule: &str) -> Value {
    let results: Vec<&EvaluationRecord> = config.results.iter().filter(|r| r.rule == rule).collect();
    let non_compliant = results.iter().filter(|r| r.compliance == "NON_COMPLIANT").count();
    if non_compliant > 0 {
        return json!({"ComplianceType": "NON_COMPLIANT", "ComplianceContributorCount": {
            "CappedCount": non_compliant.min(100), "CapExceeded": non_compliant > 100}});
    }
    if results.iter().any(|r| r.compliance == "COMPLIANT") {
        return json!({"ComplianceType": "COMPLIANT"});
    }
    json!({"ComplianceType": "INSUFFICIENT_DATA"})
}

fn compliance_filter(request: &Value) -> Result<Vec<String>, AwsError> {
    let types = strings(request, "ComplianceTypes")?;
    for t in &types {
        if !["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"].contains(&t.as_str()) {
            return Err(invalid(format!("ComplianceType {t} is not valid")));
        }
    }
    Ok(types)
}

fn describe_compliance_by_config_rule(config: &ConfigState, request: &Value) -> Result<Value, AwsError> {
    let names = strings(request, "ConfigRuleNames")?;
    let filter = compliance_filter(request)?;
    let entries: Vec<Value> = rules_named(config, &names, 25)?
        .into_iter()
        .map(|rule| json!({"ConfigRuleName": rule.name, "Compliance": overall(config, &rule.name)}))
        .filter(|e| filter.is_empty() || filter.iter().any(|t| e["Compliance"]["ComplianceType"] == t.as_str()))
        .collect();
    let scope = format!(
        "DescribeComplianceByConfigRule/{}/{}",
        names.join(","),
        filter.join(",")
    );
    let (entries, next) = page(&entries, request, "NextToken", &scope, config.page_size)?;
    Ok(json!({"ComplianceByConfigRules": entries, "NextToken": next}))
}

fn result_json(r: &EvaluationRecord) -> Value {
    json!({
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {"ConfigRuleName": r.rule, "ResourceType": r.resource_type, "ResourceId": r.resource_id, "EvaluationMode": "DETECTIVE"},
            "OrderingTimestamp": epoch(r.ordering),
        },
        "ComplianceType": r.compliance,
        "ResultRecordedTime": epoch(r.recorded),
        "ConfigRuleInvokedTime": epoch(r.invoked),
        "Annotation": r.annotation,
    })
}

fn get_compliance_details_by_config_rule(config: &ConfigState, request: &Value) -> Result<Value, AwsError> {
    let name = string(request, "ConfigRuleName").ok_or_else(|| invalid("ConfigRuleName is required"))?;
    if !config.rules.contains_key(name) {
        return Err(no_such_rule(name));
    }
    let filter = compliance_filter(request)?;
    let limit = match request.get("Limit").and_then(Value::as_i64) {
        None | Some(0) => 10,
        Some(n @ 1..=100) => n as usize,
        Some(n) => return Err(invalid(format!("Limit {n} is out of range: 0 to 100"))),
    };
    let results: Vec<Value> = config
        .results
        .iter()
        .filter(|r| r.rule == name && (filter.is_empty() || filter.contains(&r.compliance)))
        .map(result_json)
        .collect();
    let scope = format!("GetComplianceDetailsByConfigRule/{name}/{}/{limit}", filter.join(","));
    let (results, next) = page(&results, request, "NextToken", &scope, limit)?;
    Ok(crate::codepipeline::drop_nulls(
        json!({"EvaluationResults": results, "NextToken": next}),
    ))
}

fn get_compliance_details_by_resource(config: &ConfigState, request: &Value) -> Result<Value, AwsError> {
    let (Some(kind), Some(id)) = (string(request, "ResourceType"), string(request, "ResourceId")) else {
        return Err(invalid(
            "ResourceType and ResourceId are required (or ResourceEvaluationId)",
        ));
    };
    let filter = compliance_filter(request)?;
    let results: Vec<Value> = config
        .results
        .iter()
        .filter(|r| r.resource_type == kind && r.resource_id == id)
        .filter(|r| filter.is_empty() || filter.contains(&r.compliance))
        .map(result_json)
        .collect();
    let scope = format!("GetComplianceDetailsByResource/{kind}/{id}/{}", filter.join(","));
    let (results, next) = page(&results, request, "NextToken", &scope, config.page_size)?;
    Ok(crate::codepipeline::drop_nulls(
        json!({"EvaluationResults": results, "NextToken": next}),
    ))
}

fn describe_conformance_pack_compliance(config: &ConfigState, request: &Value) -> Result<Value, AwsError> {
    let name = string(request, "ConformancePackName").ok_or_else(|| invalid("ConformancePackName is required"))?;
    let limit = match request.get("Limit").and_then(Value::as_i64) {
        None | Some(0) => 100,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => {
            return Err(error(
                "InvalidLimitException",
                format!("Limit {n} is out of range: 0 to 1000"),
            ));
        }
    };
    let rules = config.packs.get(name).ok_or_else(|| {
        error(
            "NoSuchConformancePackException",
            format!("Conformance pack {name} does not exist."),
        )
    })?;
    let entries: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let kind = overall(config, rule)["ComplianceType"].clone();
            json!({"ConfigRuleName": rule, "ComplianceType": kind, "Controls": []})
        })
        .collect();
    let scope = format!("DescribeConformancePackCompliance/{name}/{limit}");
    let (entries, next) = page(&entries, request, "NextToken", &scope, limit.min(config.page_size))?;
    Ok(json!({"ConformancePackName": name, "ConformancePackRuleComplianceList": entries, "NextToken": next}))
}

fn start_config_rules_evaluation(state: &Arc<SimState>, request: &Value) -> Result<Value, AwsError> {
    let names = strings(request, "ConfigRuleNames")?;
    if names.is_empty() || names.len() > 25 {
        return Err(invalid("ConfigRuleNames must name from 1 to 25 rules"));
    }
    let rules: Vec<ConfigRule> = {
        let mut config = state.config();
        let now = Utc::now();
        let mut rules = Vec::new();
        for name in &names {
            let rule = config.rules.get(name).ok_or_else(|| no_such_rule(name))?;
            let status = &rule.status;
            let recently = status
                .last_start_requested
                .is_some_and(|at| now - at < Duration::minutes(1));
            if status.evaluating > 0 || recently {
                return Err(error(
                    "LimitExceededException",
                    format!("An evaluation of {name} is in progress or was requested less than a minute ago"),
                ));
            }
            rules.push(rule.clone());
        }
        for name in &names {
            if let Some(rule) = config.rules.get_mut(name) {
                rule.status.last_start_requested = Some(now);
            }
        }
        config.starts.push(names.clone());
        rules
    };
    for rule in &rules {
        super::invoke::evaluate_now(state, rule);
    }
    Ok(json!({}))
}

fn put_evaluations(config: &mut ConfigState, request: &Value) -> Result<Value, AwsError> {
    let token = string(request, "ResultToken").ok_or_else(|| invalid("ResultToken is required"))?;
    let test_mode = request.get("TestMode").and_then(Value::as_bool).unwrap_or(false);
    let evaluations = match request.get("Evaluations") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(invalid("Evaluations must be a list")),
    };
    if evaluations.len() > 100 {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'evaluations' failed to satisfy constraint: Member must have length \
             less than or equal to 100 (got {})",
            evaluations.len()
        )));
    }
    let mut parsed = Vec::new();
    for (i, e) in evaluations.iter().enumerate() {
        let field = |m: &str| string(e, m).ok_or_else(|| invalid(format!("Evaluations[{i}].{m} is required")));
        let kind = field("ComplianceType")?;
        if !["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"].contains(&kind) {
            return Err(invalid(format!("Evaluations[{i}].ComplianceType {kind} is not valid")));
        }
        if kind == "INSUFFICIENT_DATA" {
            return Err(invalid("INSUFFICIENT_DATA is not a ComplianceType a rule may put"));
        }
        let annotation = string(e, "Annotation").map(str::to_owned);
        if annotation.as_ref().is_some_and(|a| a.chars().count() > 256) {
            return Err(invalid(format!(
                "Evaluations[{i}].Annotation is longer than 256 characters"
            )));
        }
        let ordering = e
            .get("OrderingTimestamp")
            .and_then(Value::as_f64)
            .and_then(|s| DateTime::from_timestamp_millis((s * 1000.0) as i64))
            .ok_or_else(|| invalid(format!("Evaluations[{i}].OrderingTimestamp is required")))?;
        parsed.push((
            field("ComplianceResourceType")?.to_owned(),
            field("ComplianceResourceId")?.to_owned(),
            kind.to_owned(),
            annotation,
            ordering,
            e.clone(),
        ));
    }
    if test_mode {
        config.puts.push(PutRecord {
            rule: String::new(),
            count: parsed.len(),
            test_mode,
            failed_back: 0,
        });
        return Ok(json!({"FailedEvaluations": []}));
    }
    let (rule, invoked) = config
        .tokens
        .get(token)
        .cloned()
        .ok_or_else(|| error("InvalidResultTokenException", "The result token is invalid."))?;
    if !config.rules.contains_key(&rule) {
        return Err(no_such_rule(&rule));
    }
    let fail = config.fail_next_evaluations.min(parsed.len());
    config.fail_next_evaluations -= fail;
    let now = Utc::now();
    let mut failed = Vec::new();
    for (i, (resource_type, resource_id, compliance, annotation, ordering, raw)) in parsed.iter().enumerate() {
        if i < fail {
            failed.push(raw.clone());
            continue;
        }
        config.record(EvaluationRecord {
            rule: rule.clone(),
            resource_type: resource_type.clone(),
            resource_id: resource_id.clone(),
            compliance: compliance.clone(),
            annotation: annotation.clone(),
            ordering: *ordering,
            recorded: now,
            invoked,
        });
    }
    if let Some(r) = config.rules.get_mut(&rule) {
        r.status.last_successful_evaluation = Some(now);
    }
    config.puts.push(PutRecord {
        rule,
        count: parsed.len(),
        test_mode,
        failed_back: failed.len(),
    });
    Ok(json!({"FailedEvaluations": failed}))
}

fn get_resource_config_history(config: &ConfigState, request: &Value) -> Result<Value, AwsError> {
    let (Some(kind), Some(id)) = (string(request, "resourceType"), string(request, "resourceId")) else {
        return Err(error("ValidationException", "resourceType and resourceId are required"));
    };
    let limit = match request.get("limit").and_then(Value::as_i64) {
        None | Some(0) => 10,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(error(
                "InvalidLimitException",
                format!("limit {n} is out of range: 0 to 100"),
            ));
        }
    };
    let history = config
        .items
        .get(&(kind.to_owned(), id.to_owned()))
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            error(
                "ResourceNotDiscoveredException",
                format!("Resource {id} of resourceType:{kind} is unknown or has not been discovered"),
            )
        })?;
    let mut items: Vec<Value> = history
        .iter()
        .map(|item| {
            json!({
                "version": "1.3",
                "accountId": crate::ACCOUNT,
                "configurationItemCaptureTime": epoch(item.capture_time),
                "configurationItemStatus": item.status,
                "configurationStateId": item.version.to_string(),
                "arn": format!("arn:aws:codepipeline:{}:{}:{id}", crate::REGION, crate::ACCOUNT),
                "resourceType": kind,
                "resourceId": id,
                "resourceName": id,
                "awsRegion": crate::REGION,
                "availabilityZone": "Not Applicable",
                "configuration": (!item.configuration.is_null()).then(|| item.configuration.to_string()),
                "tags": {},
                "relatedEvents": [],
                "relationships": [],
            })
        })
        .collect();
    if request.get("chronologicalOrder").and_then(Value::as_str) != Some("Forward") {
        items.reverse();
    }
    let scope = format!("GetResourceConfigHistory/{kind}/{id}/{limit}");
    let (items, next) = page(&items, request, "nextToken", &scope, limit)?;
    Ok(crate::codepipeline::drop_nulls(
        json!({"configurationItems": items, "nextToken": next}),
    ))
}
