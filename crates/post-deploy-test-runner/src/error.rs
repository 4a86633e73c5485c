use lambda_runtime::Diagnostic;

/// Why an invocation failed: it is not a job event (nothing to report to), or CodePipeline could not take the
/// report. Lambda retries the invocation (twice); a retry of a job settled meanwhile ends as "already settled".
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Common(#[from] hooks_common::Error),
}

impl RunnerError {
    pub fn error_type(&self) -> &'static str {
        match self {
            RunnerError::Common(e) => e.error_type(),
        }
    }
}

impl From<RunnerError> for Diagnostic {
    fn from(error: RunnerError) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The runner as a function of the suite's runtime layer: one job per invocation.
impl hooks_common::runtime::Function for crate::Runner {
    type Output = crate::Outcome;
    type Error = RunnerError;

    async fn invoke(
        &self,
        event: serde_json::Value,
        invocation: hooks_common::runtime::Invocation,
    ) -> Result<crate::Outcome, RunnerError> {
        self.handle(event, invocation.deadline).await
    }
}
