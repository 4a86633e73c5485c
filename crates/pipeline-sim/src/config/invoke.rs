//! The invocations Config makes of a custom rule's function: a configuration change of a resource in its scope
//! (the item inline, or an oversized notification to read with `GetResourceConfigHistory`), a periodic
//! notification, and `StartConfigRulesEvaluation` (every resource in scope again). Each carries a result token;
//! a function that fails marks the rule's evaluation failed, as Config's status shows it.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{ConfigRule, PIPELINE_RESOURCE_TYPE, RecordedItem};
use crate::lambda::Outcome;
use crate::model::Pipeline;
use crate::{ACCOUNT, REGION, SimState};

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The `configurationItem` of a change notification.
fn item_json(item: &RecordedItem) -> Value {
    json!({
        "relatedEvents": [],
        "relationships": [],
        "configuration": item.configuration,
        "supplementaryConfiguration": {},
        "tags": {},
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": time(item.capture_time),
        "configurationStateId": item.version,
        "awsAccountId": ACCOUNT,
        "configurationItemStatus": item.status,
        "resourceType": item.resource_type,
        "resourceId": item.resource_id,
        "resourceName": item.resource_id,
        "ARN": format!("arn:aws:codepipeline:{REGION}:{ACCOUNT}:{}", item.resource_id),
        "awsRegion": REGION,
        "availabilityZone": "Not Applicable",
        "configurationStateMd5Hash": "",
    })
}

fn change_notification(item: &RecordedItem, oversized_over: usize) -> Value {
    let now = time(Utc::now());
    if item.configuration.to_string().len() > oversized_over {
        return json!({
            "configurationItemSummary": {
                "changeType": "UPDATE",
                "configurationItemVersion": "1.3",
                "configurationItemCaptureTime": time(item.capture_time),
                "configurationStateId": item.version,
                "awsAccountId": ACCOUNT,
                "configurationItemStatus": item.status,
                "resourceType": item.resource_type,
                "resourceId": item.resource_id,
                "resourceName": item.resource_id,
                "ARN": format!("arn:aws:codepipeline:{REGION}:{ACCOUNT}:{}", item.resource_id),
                "awsRegion": REGION,
                "availabilityZone": "Not Applicable",
                "configurationStateMd5Hash": "",
            },
            "s3DeliverySummary": {"s3BucketLocation": "config-bucket/AWSLogs/oversized.json.gz"},
            "notificationCreationTime": now,
            "messageType": "OversizedConfigurationItemChangeNotification",
            "recordVersion": "1.0",
        });
    }
    json!({
        "configurationItemDiff": null,
        "configurationItem": item_json(item),
        "notificationCreationTime": now,
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    })
}

fn scheduled_notification() -> Value {
    json!({
        "awsAccountId": ACCOUNT,
        "notificationCreationTime": time(Utc::now()),
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    })
}

/// Invokes the rule's function asynchronously with `invoking_event`, as Config does.
fn invoke(state: &Arc<SimState>, rule: &ConfigRule, invoking_event: Value, left_scope: bool) {
    let Some(host) = rule.function.clone() else {
        return;
    };
    let now = Utc::now();
    let token = {
        let mut config = state.config();
        let token = config.issue_token(&rule.name, now);
        if let Some(r) = config.rules.get_mut(&rule.name) {
            r.status.evaluating += 1;
            r.status.first_evaluation_started = true;
            r.status.last_successful_invocation = Some(now);
        }
        token
    };
    let event = json!({
        "version": "1.0",
        "invokingEvent": invoking_event.to_string(),
        "ruleParameters": rule.input_parameters,
        "resultToken": token,
        "eventLeftScope": left_scope,
        "executionRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/config-role"),
        "configRuleArn": rule.arn(),
        "configRuleName": rule.name,
        "configRuleId": rule.id,
        "accountId": ACCOUNT,
        "evaluationMode": "DETECTIVE",
    });
    let (sim, name) = (state.clone(), rule.name.clone());
    let handle = tokio::spawn(async move {
        let delivery = host.invoke_async(event).await;
        let mut config = sim.config();
        if let Some(r) = config.rules.get_mut(&name) {
            r.status.evaluating = r.status.evaluating.saturating_sub(1);
            if let Some(Outcome::Error {
                error_type,
                error_message,
            }) = delivery.attempts.last().map(|a| &a.outcome)
            {
                r.status.last_failed_evaluation = Some(Utc::now());
                r.status.last_error_code = Some(error_type.clone());
                r.status.last_error_message = Some(error_message.chars().take(250).collect());
            } else if !matches!(delivery.attempts.last().map(|a| &a.outcome), Some(Outcome::Ok(_))) {
                r.status.last_failed_evaluation = Some(Utc::now());
                r.status.last_error_code = Some("FunctionTimedOutOrCrashed".into());
                r.status.last_error_message = Some("the rule's function did not answer".into());
            }
        }
        delivery
    });
    state.config().deliveries.push(handle);
}

/// What `StartConfigRulesEvaluation` runs for a rule: every resource in scope again (change-triggered rules), or
/// one periodic notification.
pub(super) fn evaluate_now(state: &Arc<SimState>, rule: &ConfigRule) {
    if rule.change_triggered {
        let (items, oversized) = {
            let config = state.config();
            let items: Vec<RecordedItem> = rule
                .resource_types
                .iter()
                .flat_map(|t| config.current_items(t))
                .collect();
            (items, config.oversized_item_bytes)
        };
        if !items.is_empty() || rule.periodic.is_none() {
            for item in items {
                invoke(state, rule, change_notification(&item, oversized), false);
            }
            return;
        }
    }
    invoke(state, rule, scheduled_notification(), false);
}

fn change_triggered_rules(state: &SimState, resource_type: &str) -> Vec<ConfigRule> {
    state
        .config()
        .rules
        .values()
        .filter(|r| r.change_triggered && r.function.is_some() && r.in_scope(resource_type))
        .cloned()
        .collect()
}

/// A pipeline's declaration changed (or it was created): CodePipeline keeps the new version, Config records the
/// item and invokes every change-triggered rule in scope. Await [`super::settle`] for the evaluations.
pub fn pipeline_changed(state: &Arc<SimState>, mut pipeline: Pipeline) {
    let configuration = {
        let mut world = state.world();
        if let Some(previous) = world.pipeline(&pipeline.name) {
            pipeline.version = previous.version + 1;
            pipeline.created = previous.created;
        }
        let configuration = json!({
            "pipeline": crate::codepipeline::pipeline_declaration(&pipeline),
            "metadata": crate::codepipeline::pipeline_metadata(&pipeline),
        });
        world.put_pipeline(pipeline.clone());
        configuration
    };
    let (item, oversized) = {
        let mut config = state.config();
        let status = if config
            .items
            .contains_key(&(PIPELINE_RESOURCE_TYPE.to_owned(), pipeline.name.clone()))
        {
            "OK"
        } else {
            "ResourceDiscovered"
        };
        let item = config.record_item(PIPELINE_RESOURCE_TYPE, &pipeline.name, status, configuration);
        (item, config.oversized_item_bytes)
    };
    for rule in change_triggered_rules(state, PIPELINE_RESOURCE_TYPE) {
        invoke(state, &rule, change_notification(&item, oversized), false);
    }
}

/// A pipeline was deleted: CodePipeline forgets it, Config records the deletion and tells the rules in scope.
pub fn pipeline_deleted(state: &Arc<SimState>, name: &str) {
    state.world().pipelines.remove(name);
    let item = state
        .config()
        .record_item(PIPELINE_RESOURCE_TYPE, name, "ResourceDeleted", Value::Null);
    for rule in change_triggered_rules(state, PIPELINE_RESOURCE_TYPE) {
        invoke(state, &rule, change_notification(&item, usize::MAX), false);
    }
}
