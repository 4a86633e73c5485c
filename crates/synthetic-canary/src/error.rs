use lambda_runtime::Diagnostic;

/// Why a canary run failed as a function (a failing target is not one of these: it is a metric).
#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    #[error(transparent)]
    Common(#[from] hooks_common::Error),

    /// The alarm watching the canary would go blind: fail loudly (Lambda's `Errors` metric, the on-failure queue).
    #[error("metrics for canary `{canary}` were not published to {namespace}: {problem}")]
    MetricsUnpublished {
        canary: String,
        namespace: String,
        problem: String,
    },
}

impl CanaryError {
    pub fn error_type(&self) -> &'static str {
        match self {
            CanaryError::Common(e) => e.error_type(),
            CanaryError::MetricsUnpublished { .. } => "MetricsUnpublished",
        }
    }
}

impl From<CanaryError> for Diagnostic {
    fn from(error: CanaryError) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}
