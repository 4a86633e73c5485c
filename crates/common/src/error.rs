use std::time::Duration;

/// Everything that can go wrong in the shared machinery. Messages name the field or setting and the fix,
/// and never carry a secret (webhook URLs are kept out on purpose).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("setting {name}: {problem}. Fix: {fix}")]
    Setting { name: String, problem: String, fix: String },

    /// Something the function builds once at start-up (an HTTP client) could not be built; no setting fixes it.
    #[error("cannot start: {0}")]
    Startup(String),

    #[error("event field `{field}`: {problem}")]
    Event { field: String, problem: String },

    #[error("secret {secret_id}: {problem}")]
    Secret { secret_id: String, problem: String },

    /// An AWS call failed after the SDK's own retries; the invocation fails so Lambda retries it.
    #[error("{operation} for {target} failed: {problem}")]
    Aws {
        operation: &'static str,
        target: String,
        problem: String,
    },

    /// Slack answered with a permanent error: retrying the same message will not help.
    #[error(
        "Slack route `{route}` rejected the message with HTTP {status} `{reason}`: check that the webhook in its secret is current and its channel exists and is not archived"
    )]
    SlackRejected { route: String, status: u16, reason: String },

    /// Slack stayed unavailable (5xx, rate limits, network) within the time the invocation had.
    #[error("Slack route `{route}` unavailable after {attempts} attempt(s) in {elapsed:?}: {last_problem}")]
    SlackUnavailable {
        route: String,
        attempts: u32,
        elapsed: Duration,
        last_problem: String,
    },
}

impl Error {
    /// A stable name for Lambda's `errorType`, so alarms and dead-letter triage can group failures.
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::Setting { .. } => "SettingError",
            Error::Startup(_) => "StartupFailed",
            Error::Event { .. } => "MalformedEvent",
            Error::Secret { .. } => "SecretUnavailable",
            Error::Aws { .. } => "AwsCallFailed",
            Error::SlackRejected { .. } => "SlackRejected",
            Error::SlackUnavailable { .. } => "SlackUnavailable",
        }
    }
}
