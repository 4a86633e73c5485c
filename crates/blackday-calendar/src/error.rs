//! The one error type: where the problem is, what it is, and how to fix it.

/// A calendar that cannot be used, saying where (``at `blackouts[2].timezone` ``, `in the .ics feed, event 3
/// ("Launch day")`), what is wrong, and what to write instead. Displayed as `{location}: {problem}; {fix}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {problem}; {fix}")]
pub struct Error {
    pub location: String,
    pub problem: String,
    pub fix: String,
}

impl Error {
    pub(crate) fn new(location: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> Error {
        Error {
            location: location.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}
