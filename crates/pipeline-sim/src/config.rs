//! AWS Config (AWS JSON 1.1, `X-Amz-Target: StarlingDoveService.<Op>`): rules, their evaluation status,
//! per-resource results with their times, conformance packs, the configuration history of pipelines, and custom
//! rules that run a real function binary the way Config runs them.
//!
//! - A custom Lambda rule is backed by a [`FunctionHost`]: `StartConfigRulesEvaluation` and pipeline changes
//!   ([`pipeline_changed`], [`pipeline_deleted`]) invoke it asynchronously with the event Config sends, carrying a
//!   result token that `PutEvaluations` must present. What it puts becomes the rule's results.
//! - Results of rules without a function (managed rules, or a test's fixture) are set with
//!   [`ConfigState::set_result`].
//! - `StartConfigRulesEvaluation` is rate-limited as Config's is: a rule being evaluated, or asked for within the
//!   last minute, answers `LimitExceededException`.
//!
//! The operations live in `ops`, the invocations Config makes in `invoke`.

mod invoke;
mod ops;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::task::JoinHandle;

pub use invoke::{pipeline_changed, pipeline_deleted};
pub use ops::handle;

use crate::lambda::{AsyncDelivery, FunctionHost};
use crate::{ACCOUNT, REGION};

pub const PIPELINE_RESOURCE_TYPE: &str = "AWS::CodePipeline::Pipeline";
/// Config's change notifications carry items up to this size; larger ones arrive as oversized notifications.
pub const OVERSIZED_ITEM_BYTES: usize = 256 * 1024;

/// One Config rule.
#[derive(Clone)]
pub struct ConfigRule {
    pub name: String,
    pub id: String,
    /// `Scope.ComplianceResourceTypes`; empty: any.
    pub resource_types: Vec<String>,
    /// The custom rule's function; `None` for a managed rule (its results are set by the test or demo).
    pub function: Option<Arc<FunctionHost>>,
    /// `SourceIdentifier` of a managed rule.
    pub managed_identifier: Option<String>,
    pub input_parameters: String,
    /// Invoked on configuration changes of the scoped types.
    pub change_triggered: bool,
    /// `MaximumExecutionFrequency` of a periodic rule.
    pub periodic: Option<String>,
    pub status: EvaluationStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvaluationStatus {
    pub last_successful_invocation: Option<DateTime<Utc>>,
    pub last_failed_invocation: Option<DateTime<Utc>>,
    pub last_successful_evaluation: Option<DateTime<Utc>>,
    pub last_failed_evaluation: Option<DateTime<Utc>>,
    pub first_activated: Option<DateTime<Utc>>,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub first_evaluation_started: bool,
    /// When `StartConfigRulesEvaluation` last asked for this rule (the rate limit).
    pub last_start_requested: Option<DateTime<Utc>>,
    /// Invocations in flight.
    pub evaluating: usize,
}

impl ConfigRule {
    /// A custom Lambda rule over pipelines, change-triggered and periodic (daily), run by `function`.
    pub fn custom(name: &str, function: Arc<FunctionHost>, input_parameters: &str) -> ConfigRule {
        ConfigRule {
            name: name.into(),
            id: format!("config-rule-{:06x}", fxhash(name)),
            resource_types: vec![PIPELINE_RESOURCE_TYPE.into()],
            function: Some(function),
            managed_identifier: None,
            input_parameters: input_parameters.into(),
            change_triggered: true,
            periodic: Some("TwentyFour_Hours".into()),
            status: EvaluationStatus {
                first_activated: Some(Utc::now()),
                ..Default::default()
            },
        }
    }

    /// A managed rule (no function here) scoped to `resource_types`; its results come from `set_result`.
    pub fn managed(name: &str, identifier: &str, resource_types: &[&str]) -> ConfigRule {
        ConfigRule {
            name: name.into(),
            id: format!("config-rule-{:06x}", fxhash(name)),
            resource_types: resource_types.iter().map(|t| (*t).to_owned()).collect(),
            function: None,
            managed_identifier: Some(identifier.into()),
            input_parameters: "{}".into(),
            change_triggered: !resource_types.is_empty(),
            periodic: None,
            status: EvaluationStatus {
                first_activated: Some(Utc::now()),
                ..Default::default()
            },
        }
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:config:{REGION}:{ACCOUNT}:config-rule/{}", self.id)
    }

    pub fn in_scope(&self, resource_type: &str) -> bool {
        self.resource_types.is_empty() || self.resource_types.iter().any(|t| t == resource_type)
    }
}

/// A small stable hash for ids that look like Config's.
fn fxhash(text: &str) -> u32 {
    text.bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
        & 0xff_ffff
}

/// One rule's result for one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluationRecord {
    pub rule: String,
    pub resource_type: String,
    pub resource_id: String,
    /// `COMPLIANT`, `NON_COMPLIANT`, `NOT_APPLICABLE`, `INSUFFICIENT_DATA`.
    pub compliance: String,
    pub annotation: Option<String>,
    pub ordering: DateTime<Utc>,
    pub recorded: DateTime<Utc>,
    pub invoked: DateTime<Utc>,
}

/// One recorded configuration of a resource.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedItem {
    pub resource_type: String,
    pub resource_id: String,
    /// `ResourceDiscovered`, `OK`, `ResourceDeleted`.
    pub status: String,
    pub capture_time: DateTime<Utc>,
    pub configuration: Value,
    pub version: u64,
}

/// One `PutEvaluations` call that was accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutRecord {
    pub rule: String,
    pub count: usize,
    pub test_mode: bool,
    pub failed_back: usize,
}

/// What Config knows.
pub struct ConfigState {
    pub rules: BTreeMap<String, ConfigRule>,
    /// Conformance packs: name → rule names.
    pub packs: BTreeMap<String, Vec<String>>,
    pub results: Vec<EvaluationRecord>,
    /// Configuration history per (type, id), oldest first.
    pub items: BTreeMap<(String, String), Vec<RecordedItem>>,
    /// Result tokens handed to invocations: token → (rule, when invoked).
    tokens: BTreeMap<String, (String, DateTime<Utc>)>,
    next_token: u64,
    /// Items larger than this (JSON bytes) are announced as oversized.
    pub oversized_item_bytes: usize,
    /// How many results one page of the Describe/Get list operations holds (Config pages small).
    pub page_size: usize,
    /// The next `PutEvaluations` calls hand this many of their evaluations back as `FailedEvaluations`.
    pub fail_next_evaluations: usize,
    pub puts: Vec<PutRecord>,
    /// Every accepted `StartConfigRulesEvaluation`: the rules asked for.
    pub starts: Vec<Vec<String>>,
    pub(crate) deliveries: Vec<JoinHandle<AsyncDelivery>>,
}

impl Default for ConfigState {
    fn default() -> ConfigState {
        ConfigState {
            rules: BTreeMap::new(),
            packs: BTreeMap::new(),
            results: Vec::new(),
            items: BTreeMap::new(),
            tokens: BTreeMap::new(),
            next_token: 0,
            oversized_item_bytes: OVERSIZED_ITEM_BYTES,
            page_size: 10,
            fail_next_evaluations: 0,
            puts: Vec::new(),
            starts: Vec::new(),
            deliveries: Vec::new(),
        }
    }
}

impl ConfigState {
    pub fn put_rule(&mut self, rule: ConfigRule) {
        self.rules.insert(rule.name.clone(), rule);
    }

    pub fn put_pack(&mut self, name: &str, rules: &[&str]) {
        self.packs
            .insert(name.into(), rules.iter().map(|r| (*r).to_owned()).collect());
    }

    /// Records a rule's result for a resource as if its evaluation had just landed `age` ago (a managed rule's,
    /// or a fixture); the rule's last successful evaluation moves with it.
    pub fn set_result(
        &mut self,
        rule: &str,
        resource_type: &str,
        resource_id: &str,
        compliance: &str,
        annotation: Option<&str>,
        recorded: DateTime<Utc>,
    ) {
        self.record(EvaluationRecord {
            rule: rule.into(),
            resource_type: resource_type.into(),
            resource_id: resource_id.into(),
            compliance: compliance.into(),
            annotation: annotation.map(str::to_owned),
            ordering: recorded,
            recorded,
            invoked: recorded,
        });
        if let Some(r) = self.rules.get_mut(rule) {
            let status = &mut r.status;
            status.first_evaluation_started = true;
            status.last_successful_evaluation = status.last_successful_evaluation.max(Some(recorded));
            status.last_successful_invocation = status.last_successful_invocation.max(Some(recorded));
        }
    }

    fn record(&mut self, record: EvaluationRecord) {
        self.results.retain(|r| {
            (r.rule.as_str(), r.resource_type.as_str(), r.resource_id.as_str())
                != (
                    record.rule.as_str(),
                    record.resource_type.as_str(),
                    record.resource_id.as_str(),
                )
        });
        self.results.push(record);
    }

    /// The result of `rule` for a resource, if any.
    pub fn result(&self, rule: &str, resource_id: &str) -> Option<&EvaluationRecord> {
        self.results
            .iter()
            .find(|r| r.rule == rule && r.resource_id == resource_id)
    }

    /// Records a configuration of a resource; its history keeps every version.
    pub fn record_item(
        &mut self,
        resource_type: &str,
        resource_id: &str,
        status: &str,
        configuration: Value,
    ) -> RecordedItem {
        let history = self
            .items
            .entry((resource_type.to_owned(), resource_id.to_owned()))
            .or_default();
        let item = RecordedItem {
            resource_type: resource_type.into(),
            resource_id: resource_id.into(),
            status: status.into(),
            capture_time: Utc::now(),
            configuration,
            version: history.len() as u64 + 1,
        };
        history.push(item.clone());
        item
    }

    /// The latest recorded configuration of every resource of `resource_type` that still exists.
    pub fn current_items(&self, resource_type: &str) -> Vec<RecordedItem> {
        self.items
            .iter()
            .filter(|((t, _), _)| t == resource_type)
            .filter_map(|(_, history)| history.last())
            .filter(|item| item.status != "ResourceDeleted")
            .cloned()
            .collect()
    }

    /// A result token as Config hands one to an invocation of `rule` (tests put evaluations with it).
    pub fn issue_token(&mut self, rule: &str, invoked: DateTime<Utc>) -> String {
        self.next_token += 1;
        let token = format!("sim-result-token-{:08}-{}", self.next_token, fxhash(rule));
        self.tokens.insert(token.clone(), (rule.to_owned(), invoked));
        token
    }

    /// Takes the handles of the rule invocations started so far (to await them in tests and the demo).
    pub fn take_deliveries(&mut self) -> Vec<JoinHandle<AsyncDelivery>> {
        std::mem::take(&mut self.deliveries)
    }
}

/// Waits for every rule invocation started so far (and any they cause) to finish; what each came to.
pub async fn settle(state: &crate::SimState) -> Vec<AsyncDelivery> {
    let mut done = Vec::new();
    loop {
        let pending = state.config().take_deliveries();
        if pending.is_empty() {
            return done;
        }
        for handle in pending {
            if let Ok(delivery) = handle.await {
                done.push(delivery);
            }
        }
    }
}
