//! A soak's progress, carried from one invocation to the next in CodePipeline's continuation token (at most 2048
//! characters): compact JSON with short keys, no database, signed by [`crate::seal`] (the token is
//! `<HMAC-SHA256 in hex>.<progress>`), so only a token this runner wrote for this soak is read.
//!
//! ```json
//! {"v":1,"run":"0a1b…","t0":1795000000000,"last":1795000120000,"r":3,"fr":0,"p":12,"f":0,"p95":48}
//! ```
//!
//! `run` is the first job's id (the soak's external execution id; every continuation is a new job), `t0` and
//! `last` the start of the soak and of its last round (Unix milliseconds), `r`/`fr` rounds done and failed,
//! `p`/`f` checks passed and not passed over all rounds, `p95` the worst round's p95 latency, and `first` the
//! first failed round's report, shortened so the token always fits.

use checks::SuiteReport;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use hooks_common::text::truncate;
use serde::{Deserialize, Serialize};

use crate::params::Soak;
use crate::soak;

/// CodePipeline's limit on `continuationToken`.
pub const MAX_TOKEN_CHARS: usize = 2048;
/// The longest progress a token carries: the rest is its signature and the `.` after it.
pub const MAX_PROGRESS_CHARS: usize = MAX_TOKEN_CHARS - crate::seal::SIGNATURE_CHARS - 1;
/// The longest first-failure report a token starts with (it is cut further if the token would not fit).
pub const FIRST_FAILURE_MAX_CHARS: usize = 1200;
const VERSION: u8 = 1;
/// How much longer than its length a soak may have been running when a continuation reads its token: far beyond
/// any real pause between invocations (CodePipeline gives up on an action's job chain after a day).
pub const START_MARGIN: TimeDelta = TimeDelta::hours(24);
/// How far ahead of this invocation's clock the invocation that wrote a token may have been.
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(5);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(rename = "v")]
    pub version: u8,
    #[serde(rename = "run")]
    pub run_id: String,
    #[serde(rename = "t0")]
    pub started_at_ms: i64,
    #[serde(rename = "last", default, skip_serializing_if = "Option::is_none")]
    pub last_round_at_ms: Option<i64>,
    #[serde(rename = "r")]
    pub rounds: u32,
    #[serde(rename = "fr")]
    pub failed_rounds: u32,
    #[serde(rename = "p")]
    pub checks_passed: u64,
    #[serde(rename = "f")]
    pub checks_failed: u64,
    #[serde(rename = "p95", default, skip_serializing_if = "Option::is_none")]
    pub worst_p95_ms: Option<u64>,
    #[serde(rename = "first", default, skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<String>,
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A token's time; one out of range reads as 1970 (never for a token [`Progress::decode_for`] accepted).
fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn shown(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Progress {
    /// A soak that starts now, in the job `run_id`.
    pub fn start(run_id: &str, now: DateTime<Utc>) -> Progress {
        Progress {
            version: VERSION,
            run_id: run_id.to_owned(),
            started_at_ms: millis(now),
            last_round_at_ms: None,
            rounds: 0,
            failed_rounds: 0,
            checks_passed: 0,
            checks_failed: 0,
            worst_p95_ms: None,
            first_failure: None,
        }
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        time(self.started_at_ms)
    }

    pub fn last_round_at(&self) -> Option<DateTime<Utc>> {
        self.last_round_at_ms.map(time)
    }

    /// Adds one round that started at `at`; the first failed round's report is kept (shortened).
    pub fn record(&mut self, report: &SuiteReport, at: DateTime<Utc>) {
        self.rounds = self.rounds.saturating_add(1);
        self.last_round_at_ms = Some(millis(at));
        self.checks_passed = self.checks_passed.saturating_add(report.passed as u64);
        self.checks_failed = self
            .checks_failed
            .saturating_add((report.total() - report.passed) as u64);
        self.worst_p95_ms = self.worst_p95_ms.max(report.latency.p95_ms);
        if !report.passed() {
            self.failed_rounds = self.failed_rounds.saturating_add(1);
            if self.first_failure.is_none() {
                let heading = format!("round {} at {} UTC: ", self.rounds, at.format("%H:%M:%S"));
                let room = FIRST_FAILURE_MAX_CHARS.saturating_sub(heading.chars().count());
                self.first_failure = Some(heading + &report.failure_message_within(room));
            }
        }
    }

    /// The progress as the token carries it (before its signature): at most [`MAX_PROGRESS_CHARS`] characters,
    /// the first failure shortened (or dropped) to fit.
    pub fn encode(&self) -> String {
        let mut progress = self.clone();
        loop {
            let token = serde_json::to_string(&progress).unwrap_or_default();
            let length = token.chars().count();
            if length <= MAX_PROGRESS_CHARS {
                return token;
            }
            match progress.first_failure.take() {
                Some(text) => {
                    let keep = text.chars().count().saturating_sub(length - MAX_PROGRESS_CHARS + 8);
                    if keep > 20 {
                        progress.first_failure = Some(truncate(&text, keep));
                    }
                }
                // Only an absurd run id could get here: cut it rather than send a token CodePipeline refuses.
                None => progress.run_id = truncate(&progress.run_id, 100),
            }
        }
    }

    /// Reads a token this runner wrote; the error says why it cannot be used.
    pub fn decode(token: &str) -> Result<Progress, String> {
        let progress: Progress = serde_json::from_str(token)
            .map_err(|e| format!("the continuation token is not a soak progress this runner wrote ({e})"))?;
        if progress.version != VERSION {
            return Err(format!(
                "the continuation token has version {}; this runner reads version {VERSION}",
                progress.version
            ));
        }
        Ok(progress)
    }

    /// Reads the token of a running `soak` as of `now`, refusing one this runner cannot have written for it: a
    /// start that is no time, in the future, or longer ago than the soak's length plus [`START_MARGIN`]; a last
    /// round before the start or in the future (or missing after rounds, or present before any); more failed
    /// rounds than rounds; or a soak that is already over (this runner never hands one over).
    pub fn decode_for(token: &str, soak: &Soak, now: DateTime<Utc>) -> Result<Progress, String> {
        let progress = Progress::decode(token)?;
        progress.check(soak, now).map_err(|problem| {
            format!("the continuation token is not the progress of this soak this runner wrote: {problem}")
        })?;
        Ok(progress)
    }

    fn check(&self, soak: &Soak, now: DateTime<Utc>) -> Result<(), String> {
        let latest = now.checked_add_signed(CLOCK_SKEW).unwrap_or(now);
        let t0 = DateTime::from_timestamp_millis(self.started_at_ms)
            .ok_or_else(|| format!("its start (t0 {} ms) is not a time", self.started_at_ms))?;
        if t0 > latest {
            return Err(format!("its start ({}) is after now ({})", shown(t0), shown(now)));
        }
        let oldest = TimeDelta::from_std(soak.length)
            .ok()
            .and_then(|length| length.checked_add(&START_MARGIN))
            .and_then(|age| now.checked_sub_signed(age));
        if oldest.is_none_or(|oldest| t0 < oldest) {
            return Err(format!(
                "its start ({}) is more than the soak's length plus {} h before now ({})",
                shown(t0),
                START_MARGIN.num_hours(),
                shown(now)
            ));
        }
        match (self.rounds, self.last_round_at_ms) {
            (0, None) => {}
            (0, Some(_)) => return Err("it has a last round but no rounds".to_owned()),
            (rounds, None) => return Err(format!("it counts {rounds} round(s) but has no last round")),
            (_, Some(ms)) => {
                let last = DateTime::from_timestamp_millis(ms)
                    .ok_or_else(|| format!("its last round ({ms} ms) is not a time"))?;
                if last < t0 {
                    return Err(format!(
                        "its last round ({}) is before its start ({})",
                        shown(last),
                        shown(t0)
                    ));
                }
                if last > latest {
                    return Err(format!(
                        "its last round ({}) is after now ({})",
                        shown(last),
                        shown(now)
                    ));
                }
            }
        }
        if self.failed_rounds > self.rounds {
            return Err(format!(
                "it counts {} failed round(s) of {} round(s)",
                self.failed_rounds, self.rounds
            ));
        }
        if soak::is_over(soak, self) {
            return Err(format!(
                "it says the soak is already over ({} round(s), {} failed), and a finished soak is never handed over",
                self.rounds, self.failed_rounds
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checks::{CheckResult, Failure, Outcome, PassCriterion};
    use std::time::Duration;

    fn report(passed: usize, failing: usize, latency: u64) -> SuiteReport {
        let mut results: Vec<CheckResult> = (0..passed)
            .map(|i| CheckResult {
                name: format!("ok-{i}"),
                outcome: Outcome::Passed,
                attempts: 1,
                latency_ms: Some(latency),
            })
            .collect();
        results.extend((0..failing).map(|i| CheckResult {
            name: format!("broken-check-with-a-long-name-{i:04}"),
            outcome: Outcome::Failed {
                failure: Failure::Transport {
                    error: "connect: Connection refused (os error 111) ".repeat(4),
                },
            },
            attempts: 3,
            latency_ms: None,
        }));
        SuiteReport::new(results, PassCriterion::All, Duration::from_millis(40))
    }

    #[test]
    fn rounds_accumulate_and_round_trip() {
        let t0 = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let mut progress = Progress::start("0a1b2c3d-0000-4000-8000-000000000001", t0);
        progress.record(&report(4, 0, 30), t0);
        progress.record(&report(3, 1, 90), t0 + chrono::Duration::seconds(60));
        progress.record(&report(4, 0, 50), t0 + chrono::Duration::seconds(120));
        assert_eq!((progress.rounds, progress.failed_rounds), (3, 1));
        assert_eq!((progress.checks_passed, progress.checks_failed), (11, 1));
        assert_eq!(progress.worst_p95_ms, Some(90));
        let first = progress.first_failure.as_deref().unwrap();
        assert!(first.starts_with("round 2 at 11:07:40 UTC: Checks failed"), "{first}");
        assert_eq!(progress.last_round_at(), Some(t0 + chrono::Duration::seconds(120)));

        let token = progress.encode();
        assert!(token.starts_with(r#"{"v":1,"run":"0a1b2c3d"#), "{token}");
        assert_eq!(Progress::decode(&token).unwrap(), progress);
    }

    #[test]
    fn a_fresh_soak_is_short() {
        let token = Progress::start("0a1b2c3d-0000-4000-8000-000000000001", Utc::now()).encode();
        assert!(token.len() < 120, "{token}");
    }

    #[test]
    fn tokens_always_fit() {
        let mut progress = Progress::start("0a1b2c3d-0000-4000-8000-000000000001", Utc::now());
        progress.record(&report(0, 200, 0), Utc::now());
        // Quotes and line breaks grow when escaped: the token is measured after encoding.
        progress.first_failure = Some("\"\n".repeat(2000));
        let token = progress.encode();
        assert!(token.chars().count() <= MAX_PROGRESS_CHARS, "{}", token.len());
        let decoded = Progress::decode(&token).unwrap();
        assert_eq!(decoded.failed_rounds, 1);

        let mut huge = Progress::start(&"x".repeat(5000), Utc::now());
        huge.first_failure = Some("y".repeat(5000));
        assert!(huge.encode().chars().count() <= MAX_PROGRESS_CHARS);
    }

    #[test]
    fn tokens_this_soak_cannot_have_written_are_refused() {
        let soak = Soak {
            every: Duration::from_secs(60),
            length: Duration::from_secs(300),
            max_failed_rounds: 1,
        };
        let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let ms = |s: i64| now.timestamp_millis() + s * 1000;
        let max = DateTime::<Utc>::MAX_UTC.timestamp_millis();
        let token = |t0: i64, last: Option<i64>, r: u32, fr: u32| {
            let last = last.map_or_else(String::new, |l| format!(r#","last":{l}"#));
            format!(r#"{{"v":1,"run":"job-1","t0":{t0}{last},"r":{r},"fr":{fr},"p":{r},"f":{fr}}}"#)
        };
        let day = 24 * 3600;
        // (token, None if accepted, else text of the refusal)
        let cases = [
            (token(ms(0), None, 0, 0), None),
            (token(ms(-120), Some(ms(-60)), 2, 1), None),
            // A continuation a few seconds "early": the clocks of two invocations differ a little.
            (token(ms(2), Some(ms(2)), 1, 0), None),
            (token(ms(-300 - day + 1), None, 0, 0), None),
            (
                token(i64::MAX, None, 0, 0),
                Some("(t0 9223372036854775807 ms) is not a time"),
            ),
            (token(i64::MIN, Some(ms(0)), 1, 0), Some("is not a time")),
            (
                token(max, Some(max), 1, 0),
                Some("is after now (2026-11-18T11:06:40.000Z)"),
            ),
            (token(ms(3600), None, 0, 0), Some("is after now")),
            (
                token(0, Some(300_000), 5, 0),
                Some("more than the soak's length plus 24 h before now"),
            ),
            (token(ms(-300 - day - 1), None, 0, 0), Some("plus 24 h before now")),
            (
                token(ms(-120), Some(ms(-180)), 1, 0),
                Some("last round (2026-11-18T11:03:40.000Z) is before its start"),
            ),
            (
                token(ms(-120), Some(ms(3600)), 1, 0),
                Some("last round (2026-11-18T12:06:40.000Z) is after now"),
            ),
            (token(ms(-120), Some(max), 1, 0), Some("is after now")),
            (
                token(ms(-120), Some(i64::MAX), 1, 0),
                Some("last round (9223372036854775807 ms) is not a time"),
            ),
            (
                token(ms(-120), Some(ms(-60)), 1, 2),
                Some("2 failed round(s) of 1 round(s)"),
            ),
            (
                token(ms(-120), None, 3, 0),
                Some("counts 3 round(s) but has no last round"),
            ),
            (token(ms(-120), Some(ms(-60)), 0, 0), Some("a last round but no rounds")),
            // Over by time (the next round would start after the length) or by failed rounds: never handed over.
            (
                token(ms(-300), Some(ms(0)), 5, 0),
                Some("already over (5 round(s), 0 failed)"),
            ),
            (token(ms(-120), Some(ms(-60)), 2, 2), Some("already over")),
        ];
        for (token, refusal) in cases {
            match (Progress::decode_for(&token, &soak, now), refusal) {
                (Ok(progress), None) => assert_eq!(progress, Progress::decode(&token).unwrap()),
                (Err(err), Some(text)) => {
                    assert!(
                        err.starts_with("the continuation token is not the progress of this soak"),
                        "{token}: {err}"
                    );
                    assert!(err.contains(text), "{token}: {text:?} not in {err}");
                }
                (got, _) => panic!("{token}: {got:?}"),
            }
        }
    }

    #[test]
    fn foreign_tokens_are_refused_with_a_reason() {
        for (token, text) in [
            ("round-3", "not a soak progress"),
            (r#"{"v":2,"run":"x","t0":0,"r":0,"fr":0,"p":0,"f":0}"#, "version 2"),
            (r#"{"v":1}"#, "missing field"),
        ] {
            let err = Progress::decode(token).unwrap_err();
            assert!(err.contains(text), "{token}: {err}");
        }
    }
}
