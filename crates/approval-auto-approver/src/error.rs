use lambda_runtime::Diagnostic;

/// Why an invocation failed; Lambda retries it and the dead-letter queue keeps the event.
#[derive(Debug, thiserror::Error)]
pub enum ApproverError {
    #[error(transparent)]
    Common(#[from] hooks_common::Error),
}

impl From<ApproverError> for Diagnostic {
    fn from(error: ApproverError) -> Diagnostic {
        let error_type = match &error {
            ApproverError::Common(e) => e.error_type(),
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}
