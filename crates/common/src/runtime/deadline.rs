//! The invocation's deadline as an `Instant`, so every call and wait can be bounded by what is left.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The deadline used when the context gives none that can be believed.
pub const FALLBACK: Duration = Duration::from_secs(60);

static UNKNOWN_SAID: AtomicBool = AtomicBool::new(false);

/// The invocation's deadline as an `Instant`. A context without one (0: a hand-built test context) or with one
/// already past when the invocation arrives (`cargo lambda watch` sends a fixed deadline far in the past) means
/// "unknown": `fallback` from now, said once in the logs so a real clock problem does not go unnoticed.
pub fn deadline(context: &lambda_runtime::Context, fallback: Duration) -> Instant {
    if context.deadline == 0 {
        return Instant::now() + fallback;
    }
    match context.deadline().duration_since(SystemTime::now()) {
        Ok(remaining) if !remaining.is_zero() => Instant::now() + remaining,
        _ => {
            if !UNKNOWN_SAID.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    deadline_ms = context.deadline,
                    fallback_s = fallback.as_secs(),
                    "the invocation's deadline had already passed when it arrived (a local emulator?); using the fallback"
                );
            }
            Instant::now() + fallback
        }
    }
}

/// What is left before `deadline`, keeping `margin` back for reporting the result.
pub fn remaining(deadline: Instant, margin: Duration) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(deadline_ms: u64) -> lambda_runtime::Context {
        let mut context = lambda_runtime::Context::default();
        context.deadline = deadline_ms;
        context
    }

    fn epoch_ms(time: SystemTime) -> u64 {
        time.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as u64
    }

    #[test]
    fn a_deadline_ahead_is_kept_one_unknown_or_past_gets_the_fallback() {
        let fallback = Duration::from_secs(30);
        let ahead = deadline(
            &context(epoch_ms(SystemTime::now() + Duration::from_secs(10))),
            fallback,
        );
        let left = ahead.saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(8) && left <= Duration::from_secs(10),
            "{left:?}"
        );

        for unknown in [0, 1, epoch_ms(SystemTime::now() - Duration::from_secs(3600))] {
            let got = deadline(&context(unknown), fallback).saturating_duration_since(Instant::now());
            assert!(got > Duration::from_secs(28), "deadline {unknown}: {got:?} left");
        }
    }
}
