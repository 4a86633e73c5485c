use lambda_runtime::Diagnostic;

/// Why an invocation failed. Lambda retries it (twice), then the dead-letter queue keeps the event.
#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error(transparent)]
    Common(#[from] hooks_common::Error),
}

impl NotifierError {
    pub fn error_type(&self) -> &'static str {
        match self {
            NotifierError::Common(e) => e.error_type(),
        }
    }
}

impl From<NotifierError> for Diagnostic {
    fn from(error: NotifierError) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}
