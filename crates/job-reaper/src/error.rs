use lambda_runtime::Diagnostic;

/// Why an invocation failed as a whole: the event is not an SQS batch. A record that cannot be handled now is not
/// an error of the invocation: it is reported in `batchItemFailures`, so SQS delivers only that one again.
#[derive(Debug, thiserror::Error)]
pub enum ReaperError {
    #[error(transparent)]
    Common(#[from] hooks_common::Error),
}

impl ReaperError {
    pub fn error_type(&self) -> &'static str {
        match self {
            ReaperError::Common(e) => e.error_type(),
        }
    }
}

impl From<ReaperError> for Diagnostic {
    fn from(error: ReaperError) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}
