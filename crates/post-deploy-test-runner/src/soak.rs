//! Pacing a soak: whether to run a round now, wait for the next one, hand over to the next invocation (a
//! continuation token) or finish with the verdict. A pure function of the soak, its progress and the clock.
//!
//! Rounds start `every` apart, counted from the start of the previous round; the soak ends when the next round
//! would start at or after `length` from the soak's start, or at once when more rounds failed than allowed.
//! An invocation starts a round only if the round's worst case fits before its deadline, except that a fresh
//! invocation always runs a round that is due (so every invocation makes progress, whatever the timeout).

use std::time::Duration;

use checks::Suite;
use chrono::{DateTime, Utc};

use crate::params::Soak;
use crate::token::Progress;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Run a round now.
    Run,
    /// Nothing to do before then; decide again at that time.
    WaitUntil(DateTime<Utc>),
    /// Report progress with a continuation token; the next invocation goes on.
    Continue,
    /// The soak is over: report its verdict.
    Finish,
}

/// What the pacing looks at.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub now: DateTime<Utc>,
    /// When this invocation must stop running rounds (its deadline less the time to report).
    pub deadline: DateTime<Utc>,
    /// The longest one round can take (see [`worst_case`]).
    pub worst_round: Duration,
    /// Rounds this invocation already ran.
    pub rounds_here: u32,
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// `at` plus `d`, at most the last time there is (never a panic, whatever a token says).
fn after(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    at.checked_add_signed(chrono(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When the next round is due: at the soak's start, then `every` after the previous round started.
pub fn next_due(soak: &Soak, progress: &Progress) -> DateTime<Utc> {
    match progress.last_round_at() {
        None => progress.started_at(),
        Some(last) => after(last, soak.every),
    }
}

/// Whether the soak is over: more failed rounds than allowed, or no further round starts within its length.
pub fn is_over(soak: &Soak, progress: &Progress) -> bool {
    progress.failed_rounds > soak.max_failed_rounds
        || (progress.rounds > 0 && next_due(soak, progress) >= after(progress.started_at(), soak.length))
}

pub fn next_step(soak: &Soak, progress: &Progress, clock: &Clock) -> Step {
    if is_over(soak, progress) {
        return Step::Finish;
    }
    if clock.now >= clock.deadline {
        return Step::Continue;
    }
    let due = next_due(soak, progress);
    let fits = |start: DateTime<Utc>| {
        start
            .checked_add_signed(chrono(clock.worst_round))
            .is_some_and(|end| end <= clock.deadline)
    };
    if due <= clock.now {
        return if clock.rounds_here == 0 || fits(clock.now) {
            Step::Run
        } else {
            Step::Continue
        };
    }
    // Not due yet. After a round, hand over now if the next one cannot fit: a fresh invocation waits for it.
    if clock.rounds_here > 0 && !fits(due) {
        return Step::Continue;
    }
    // A fresh invocation with room for a round, but not for the one falling due near its end, sleeps it out and
    // hands over: the next invocation runs the round at once with its whole time ahead, instead of this one
    // starting a round its deadline would cut (and count as failed).
    if !fits(due) && fits(clock.now) {
        return Step::WaitUntil(clock.deadline);
    }
    Step::WaitUntil(due.min(clock.deadline))
}

/// The longest a round of `suite` can take: every wave of `concurrency` checks spending all its attempts on
/// timeouts, with the retry pauses between them.
pub fn worst_case(suite: &Suite) -> Duration {
    let attempts = suite.consecutive_failures_to_fail.max(1);
    let per_check = Duration::from_millis(suite.timeout_ms) * attempts
        + Duration::from_millis(suite.retry_delay_ms) * (attempts - 1);
    let waves = suite.checks.len().div_ceil(suite.concurrency.max(1)).max(1);
    per_check * u32::try_from(waves).unwrap_or(u32::MAX)
}

/// How far through its length the soak is, for `percentComplete` (0 to 99 while it runs).
pub fn percent_complete(soak: &Soak, progress: &Progress, now: DateTime<Utc>) -> i32 {
    let elapsed = (now - progress.started_at()).num_milliseconds().max(0) as f64;
    let length = soak.length.as_millis().max(1) as f64;
    ((elapsed / length) * 100.0).floor().clamp(0.0, 99.0) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soak(every: u64, minutes: u64, allowed: u32) -> Soak {
        Soak {
            every: Duration::from_secs(every),
            length: Duration::from_secs(minutes * 60),
            max_failed_rounds: allowed,
        }
    }

    fn progress(t0: DateTime<Utc>, rounds: u32, failed: u32, last_s: Option<i64>) -> Progress {
        let mut p = Progress::start("job-1", t0);
        p.rounds = rounds;
        p.failed_rounds = failed;
        p.last_round_at_ms = last_s.map(|s| (t0 + chrono::Duration::seconds(s)).timestamp_millis());
        p
    }

    #[test]
    fn the_table() {
        let t0 = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        let every_minute_for_30 = soak(60, 30, 0);
        // (soak, progress, now (s), deadline (s), worst round (s), rounds here, expected)
        let cases = [
            // The first round runs at once.
            (every_minute_for_30, progress(t0, 0, 0, None), 0, 250, 5, 0, Step::Run),
            // Between rounds: wait for the next one when it fits.
            (
                every_minute_for_30,
                progress(t0, 1, 0, Some(0)),
                2,
                250,
                5,
                1,
                Step::WaitUntil(at(60)),
            ),
            (
                every_minute_for_30,
                progress(t0, 1, 0, Some(0)),
                60,
                250,
                5,
                1,
                Step::Run,
            ),
            // After a round, the next one would not fit: hand over at once.
            (
                every_minute_for_30,
                progress(t0, 4, 0, Some(180)),
                182,
                250,
                11,
                4,
                Step::Continue,
            ),
            // A fresh invocation waits for a round even if its worst case might not fit...
            (
                every_minute_for_30,
                progress(t0, 4, 0, Some(180)),
                185,
                250,
                100,
                0,
                Step::WaitUntil(at(240)),
            ),
            // ... and runs it when due.
            (
                every_minute_for_30,
                progress(t0, 4, 0, Some(180)),
                240,
                250,
                100,
                0,
                Step::Run,
            ),
            // A round due just before the deadline, that would not end before it: sleep it out, hand over.
            (
                soak(600, 60, 0),
                progress(t0, 1, 0, Some(0)),
                5,
                602,
                5,
                0,
                Step::WaitUntil(at(602)),
            ),
            // A round due after the deadline: sleep until the deadline, then hand over.
            (
                soak(600, 60, 0),
                progress(t0, 1, 0, Some(0)),
                5,
                250,
                5,
                0,
                Step::WaitUntil(at(250)),
            ),
            (
                soak(600, 60, 0),
                progress(t0, 1, 0, Some(0)),
                250,
                250,
                5,
                0,
                Step::Continue,
            ),
            // Past the deadline with a round due: hand over.
            (
                every_minute_for_30,
                progress(t0, 2, 0, Some(60)),
                255,
                250,
                5,
                0,
                Step::Continue,
            ),
            // Late rounds run at once (no catch-up bursts: the next is `every` after this one).
            (
                every_minute_for_30,
                progress(t0, 2, 0, Some(60)),
                200,
                250,
                5,
                1,
                Step::Run,
            ),
            // Over: the next round would start at the end of the length.
            (
                every_minute_for_30,
                progress(t0, 30, 0, Some(1740)),
                1741,
                2000,
                5,
                1,
                Step::Finish,
            ),
            (
                every_minute_for_30,
                progress(t0, 29, 0, Some(1680)),
                1681,
                2000,
                5,
                1,
                Step::WaitUntil(at(1740)),
            ),
            // Over: too many failed rounds, whatever the time.
            (
                every_minute_for_30,
                progress(t0, 3, 1, Some(120)),
                121,
                250,
                5,
                1,
                Step::Finish,
            ),
            (
                soak(60, 30, 1),
                progress(t0, 3, 1, Some(120)),
                121,
                250,
                5,
                1,
                Step::WaitUntil(at(180)),
            ),
            (
                soak(60, 30, 1),
                progress(t0, 3, 2, Some(120)),
                121,
                250,
                5,
                1,
                Step::Finish,
            ),
        ];
        for (i, (soak, progress, now, deadline, worst, here, expected)) in cases.into_iter().enumerate() {
            let clock = Clock {
                now: at(now),
                deadline: at(deadline),
                worst_round: Duration::from_secs(worst),
                rounds_here: here,
            };
            assert_eq!(next_step(&soak, &progress, &clock), expected, "case {i}");
        }
    }

    #[test]
    fn times_at_the_end_of_the_calendar_never_panic() {
        let end = DateTime::<Utc>::MAX_UTC;
        let every_minute_for_30 = soak(60, 30, 0);
        let mut at_the_end = progress(end, 0, 0, None);
        at_the_end.rounds = 1;
        at_the_end.last_round_at_ms = Some(end.timestamp_millis());
        assert_eq!(next_due(&every_minute_for_30, &at_the_end), end);
        let clock = Clock {
            now: end,
            deadline: end,
            worst_round: Duration::MAX,
            rounds_here: 1,
        };
        assert_eq!(next_step(&every_minute_for_30, &at_the_end, &clock), Step::Finish);

        // A round that cannot end before the calendar does never fits.
        let fresh = progress(end - chrono::Duration::seconds(5), 0, 0, None);
        let clock = Clock {
            now: end - chrono::Duration::seconds(5),
            deadline: end,
            worst_round: Duration::from_secs(60),
            rounds_here: 1,
        };
        assert_eq!(next_step(&every_minute_for_30, &fresh, &clock), Step::Continue);
    }

    #[test]
    fn worst_case_counts_waves_attempts_and_pauses() {
        let suite = Suite::parse(
            r#"{"base_url": "http://t", "concurrency": 2, "timeout_ms": 1000, "consecutive_failures_to_fail": 3,
                "retry_delay_ms": 500, "checks": [{"name": "a", "url": "/a"}, {"name": "b", "url": "/b"},
                {"name": "c", "url": "/c"}]}"#,
        )
        .unwrap();
        // Two waves of (3 × 1 s + 2 × 0.5 s).
        assert_eq!(worst_case(&suite), Duration::from_secs(8));
    }

    #[test]
    fn percent_complete_stays_below_100_while_running() {
        let t0 = Utc::now();
        let soak = soak(60, 10, 0);
        let p = progress(t0, 0, 0, None);
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        assert_eq!(percent_complete(&soak, &p, at(0)), 0);
        assert_eq!(percent_complete(&soak, &p, at(300)), 50);
        assert_eq!(percent_complete(&soak, &p, at(900)), 99);
    }
}
