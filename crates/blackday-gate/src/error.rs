use lambda_runtime::Diagnostic;

/// Why an invocation failed; Lambda retries it and the on-failure queue keeps the event.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(transparent)]
    Common(#[from] hooks_common::Error),
}

impl From<GateError> for Diagnostic {
    fn from(error: GateError) -> Diagnostic {
        let error_type = match &error {
            GateError::Common(e) => e.error_type(),
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}
