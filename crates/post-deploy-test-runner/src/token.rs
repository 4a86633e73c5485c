//! A soak's progress, carried from one invocation to the next in CodePipeline's continuation token (at most 2048
//! characters): compact JSON with short keys, no database.
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
use chrono::{DateTime, Utc};
use hooks_common::text::truncate;
use serde::{Deserialize, Serialize};

/// CodePipeline's limit on `continuationToken`.
pub const MAX_TOKEN_CHARS: usize = 2048;
/// The longest first-failure report a token starts with (it is cut further if the token would not fit).
pub const FIRST_FAILURE_MAX_CHARS: usize = 1200;
const VERSION: u8 = 1;

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

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
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
        self.rounds += 1;
        self.last_round_at_ms = Some(millis(at));
        self.checks_passed += report.passed as u64;
        self.checks_failed += (report.total() - report.passed) as u64;
        self.worst_p95_ms = self.worst_p95_ms.max(report.latency.p95_ms);
        if !report.passed() {
            self.failed_rounds += 1;
            if self.first_failure.is_none() {
                let heading = format!("round {} at {} UTC: ", self.rounds, at.format("%H:%M:%S"));
                let room = FIRST_FAILURE_MAX_CHARS.saturating_sub(heading.chars().count());
                self.first_failure = Some(heading + &report.failure_message_within(room));
            }
        }
    }

    /// The token: at most [`MAX_TOKEN_CHARS`] characters, the first failure shortened (or dropped) to fit.
    pub fn encode(&self) -> String {
        let mut progress = self.clone();
        loop {
            let token = serde_json::to_string(&progress).unwrap_or_default();
            let length = token.chars().count();
            if length <= MAX_TOKEN_CHARS {
                return token;
            }
            match progress.first_failure.take() {
                Some(text) => {
                    let keep = text.chars().count().saturating_sub(length - MAX_TOKEN_CHARS + 8);
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
        assert!(token.chars().count() <= MAX_TOKEN_CHARS, "{}", token.len());
        let decoded = Progress::decode(&token).unwrap();
        assert_eq!(decoded.failed_rounds, 1);

        let mut huge = Progress::start(&"x".repeat(5000), Utc::now());
        huge.first_failure = Some("y".repeat(5000));
        assert!(huge.encode().chars().count() <= MAX_TOKEN_CHARS);
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
