//! Small facts about the Lambda invocation that every handler needs.

use std::time::{Duration, Instant, SystemTime};

/// The invocation's deadline as an `Instant`, so handlers can budget retries and waits against it.
/// A context without a deadline (a hand-built test context) gets `fallback` from now.
pub fn deadline(context: &lambda_runtime::Context, fallback: Duration) -> Instant {
    if context.deadline == 0 {
        return Instant::now() + fallback;
    }
    let remaining = context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + remaining
}
