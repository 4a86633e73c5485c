use lambda_runtime::Diagnostic;

/// Why an invocation failed. Config records the rule's evaluation as failed (the compliance approver holds on
/// that), and Lambda's asynchronous retries try again.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error(transparent)]
    Common(#[from] hooks_common::Error),

    /// A rule parameter is wrong: no pipeline can be judged until it is fixed.
    #[error("rule parameter `{name}` {problem}. Fix: {fix}")]
    Parameter { name: String, problem: String, fix: String },

    /// The periodic evaluation could not read every pipeline in time; what it read was put.
    #[error("{missed} of {total} pipeline(s) not evaluated (first: {first_problem}); the other evaluations were put")]
    Incomplete {
        missed: usize,
        total: usize,
        first_problem: String,
    },

    /// `PutEvaluations` kept answering some evaluations back as failed.
    #[error("PutEvaluations did not record {count} evaluation(s) after {attempts} attempt(s) (first: {first})")]
    NotRecorded { count: usize, attempts: u32, first: String },
}

impl RuleError {
    pub fn error_type(&self) -> &'static str {
        match self {
            RuleError::Common(e) => e.error_type(),
            RuleError::Parameter { .. } => "RuleParameterError",
            RuleError::Incomplete { .. } => "EvaluationIncomplete",
            RuleError::NotRecorded { .. } => "EvaluationsNotRecorded",
        }
    }
}

impl From<crate::params::ParameterProblem> for RuleError {
    fn from(p: crate::params::ParameterProblem) -> RuleError {
        RuleError::Parameter {
            name: p.name,
            problem: p.problem,
            fix: p.fix,
        }
    }
}

impl From<RuleError> for Diagnostic {
    fn from(error: RuleError) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}
