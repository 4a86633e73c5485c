//! What Config said about the rules one approval is gated on, as plain data: read by `config`, judged by `decide`.

use chrono::{DateTime, Utc};

/// A rule's compliance as Config reports it (overall, or for this pipeline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Compliance {
    Compliant,
    /// Counts as compliant: the rule says it does not apply (only seen per resource).
    NotApplicable,
    NonCompliant {
        /// How many resources are non-compliant, when Config says (`ComplianceContributorCount`); `capped` means
        /// at least that many (Config stops counting at 100).
        contributors: Option<Contributors>,
    },
    /// Config has no current result: the rule never ran, its function failed, or every result was NOT_APPLICABLE.
    InsufficientData,
    /// Config returned nothing at all for the rule (or, for one pipeline, nothing for that pipeline).
    NoResult,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contributors {
    pub count: i32,
    pub capped: bool,
}

/// A non-compliant resource and what the rule said about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offender {
    pub resource_type: String,
    pub resource_id: String,
    pub annotation: Option<String>,
}

/// The rule's evaluation history (`DescribeConfigRuleEvaluationStatus`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvaluationStatus {
    pub last_successful_evaluation: Option<DateTime<Utc>>,
    pub last_failed_evaluation: Option<DateTime<Utc>>,
    /// The latest time Config invoked the rule (its function, for a custom rule), successfully or not.
    pub last_invoked: Option<DateTime<Utc>>,
    /// `LastErrorCode: LastErrorMessage`, when the rule last failed.
    pub last_error: Option<String>,
}

impl EvaluationStatus {
    /// The last evaluation failed: a failure newer than the last success.
    pub fn last_failed(&self) -> bool {
        match (self.last_failed_evaluation, self.last_successful_evaluation) {
            (Some(failed), Some(succeeded)) => failed > succeeded,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// One rule's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFact {
    pub name: String,
    pub compliance: Compliance,
    /// Non-compliant resources found (all of them, paged to the end), for the reason and the logs.
    pub offenders: Vec<Offender>,
    /// When the result was recorded: the pipeline's result (`ResultRecordedTime`), or the rule's last successful
    /// evaluation for its overall compliance.
    pub evaluated_at: Option<DateTime<Utc>>,
    pub status: EvaluationStatus,
}

/// Everything read for one approval. Names that matched nothing make the CustomData wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gathered {
    /// Rule names in `rules` that Config does not know.
    pub unknown: Vec<String>,
    /// `rule_prefix` or `conformance_pack` that matched no rule, said as the setting (`rule_prefix "prod-"`).
    pub matched_nothing: Vec<String>,
    /// Rules that do not evaluate `AWS::CodePipeline::Pipeline` although `resources` is `this_pipeline`.
    pub not_for_pipelines: Vec<String>,
    pub rules: Vec<RuleFact>,
}
