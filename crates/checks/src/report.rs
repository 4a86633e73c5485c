//! Typed results of a run and their renderings: a one-line summary, the job failure message (≤ 5000 characters)
//! and output variables. Everything here is pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hooks_common::text::truncate;
use serde::{Deserialize, Serialize};

use crate::expect::{MAX_COMPARED_BYTES, Mismatch, millis};
use crate::suite::PassCriterion;

/// CodePipeline's limit on `PutJobFailureResult`'s `failureDetails.message`.
pub const FAILURE_MESSAGE_MAX_CHARS: usize = 5_000;
/// The longest body excerpt a failure keeps.
pub const BODY_EXCERPT_CHARS: usize = 200;
/// The longest line one failing check gets in the failure message.
const LINE_MAX_CHARS: usize = 400;

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub outcome: Outcome,
    /// Attempts started (0 when the deadline came first).
    pub attempts: u32,
    /// Latency of the last attempt: to the last body byte, or until it timed out. `None` when the last attempt
    /// got no answer at all (connection refused, reset) or none finished.
    pub latency_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed {
        failure: Failure,
    },
    /// The deadline came before the check finished; `last_failure` is what its attempts so far saw.
    NotRun {
        last_failure: Option<Failure>,
    },
}

/// Why an attempt failed: expected versus what came back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// The target answered, but not as expected.
    Unexpected {
        status: u16,
        mismatches: Vec<Mismatch>,
        /// The start of the body, at most [`BODY_EXCERPT_CHARS`] characters.
        body_excerpt: String,
    },
    /// No complete answer within the per-check timeout.
    Timeout { timeout_ms: u64 },
    /// No answer: connection refused or reset, DNS, TLS.
    Transport { error: String },
    /// The request could not be built (an unvalidated suite), or the engine failed on this check.
    Invalid { error: String },
}

impl CheckResult {
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// Latency over the checks whose last attempt has a latency (see [`CheckResult::latency_ms`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LatencyStats {
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    pub max_ms: Option<u64>,
}

impl LatencyStats {
    pub fn of(latencies: &[u64]) -> LatencyStats {
        LatencyStats {
            p50_ms: percentile(latencies, 50),
            p95_ms: percentile(latencies, 95),
            max_ms: latencies.iter().copied().max(),
        }
    }
}

/// Nearest-rank percentile (the smallest value with at least `p`% of the values at or below it); `None` when
/// there are no values.
pub fn percentile(values: &[u64], p: u8) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let rank = (usize::from(p.min(100)) * n).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// Everything a run found, in the suite's order, with its counts, latency and verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuiteReport {
    pub results: Vec<CheckResult>,
    pub passed: usize,
    pub failed: usize,
    /// Checks the deadline cut (they count as not passed).
    pub not_run: usize,
    pub latency: LatencyStats,
    pub pass: PassCriterion,
    pub verdict: Verdict,
    pub elapsed_ms: u64,
}

impl SuiteReport {
    pub fn new(results: Vec<CheckResult>, pass: PassCriterion, elapsed: Duration) -> SuiteReport {
        let count = |f: fn(&Outcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
        let passed = count(|o| *o == Outcome::Passed);
        let failed = count(|o| matches!(o, Outcome::Failed { .. }));
        let not_run = count(|o| matches!(o, Outcome::NotRun { .. }));
        let latencies: Vec<u64> = results.iter().filter_map(|r| r.latency_ms).collect();
        let verdict = if pass.is_met(passed, results.len()) {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        SuiteReport {
            latency: LatencyStats::of(&latencies),
            results,
            passed,
            failed,
            not_run,
            pass,
            verdict,
            elapsed_ms: millis(elapsed),
        }
    }

    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    pub fn total(&self) -> usize {
        self.results.len()
    }

    /// `PASS: 12/12 checks passed (all checks must pass); p50 35 ms, p95 120 ms, max 130 ms; took 1.2 s`
    pub fn summary(&self) -> String {
        let verdict = if self.passed() { "PASS" } else { "FAIL" };
        format!(
            "{verdict}: {}; {}; took {}",
            self.counts(),
            self.latency_line(),
            seconds(self.elapsed_ms)
        )
    }

    fn counts(&self) -> String {
        let mut counts = format!("{}/{} checks passed", self.passed, self.total());
        if self.failed > 0 {
            let _ = write!(counts, ", {} failed", self.failed);
        }
        if self.not_run > 0 {
            let _ = write!(counts, ", {} not run (deadline)", self.not_run);
        }
        let _ = write!(counts, " ({})", self.pass);
        counts
    }

    fn latency_line(&self) -> String {
        let ms = |v: Option<u64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v} ms"));
        let LatencyStats { p50_ms, p95_ms, max_ms } = self.latency;
        format!("p50 {}, p95 {}, max {}", ms(p50_ms), ms(p95_ms), ms(max_ms))
    }

    /// The message for `PutJobFailureResult`: counts, then one line per check that did not pass (expected vs
    /// got), within [`FAILURE_MESSAGE_MAX_CHARS`].
    pub fn failure_message(&self) -> String {
        self.failure_message_within(FAILURE_MESSAGE_MAX_CHARS)
    }

    /// [`Self::failure_message`] within `max_chars` characters: lines that do not fit become "… and N more".
    pub fn failure_message_within(&self, max_chars: usize) -> String {
        let verdict = if self.passed() {
            "Checks passed"
        } else {
            "Checks failed"
        };
        let mut out = format!("{verdict}: {}; {}.", self.counts(), self.latency_line());
        let lines: Vec<String> = self
            .results
            .iter()
            .filter(|r| !r.passed())
            .map(|r| truncate(&format!("- {}", describe(r)), LINE_MAX_CHARS.min(max_chars)))
            .collect();
        let mut used = out.chars().count();
        for (i, line) in lines.iter().enumerate() {
            let left_after = lines.len() - i - 1;
            let reserve = if left_after > 0 {
                more(left_after).chars().count()
            } else {
                0
            };
            let len = 1 + line.chars().count();
            if used + len + reserve > max_chars {
                out.push_str(&more(lines.len() - i));
                break;
            }
            out.push('\n');
            out.push_str(line);
            used += len;
        }
        truncate(&out, max_chars)
    }

    /// Output variables for later actions: `passed`, `failed` (every check that did not pass, including those
    /// the deadline cut) and `p95_ms` (`n/a` when no latency was measured).
    pub fn output_variables(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("passed".to_owned(), self.passed.to_string()),
            ("failed".to_owned(), (self.total() - self.passed).to_string()),
            (
                "p95_ms".to_owned(),
                self.latency.p95_ms.map_or_else(|| "n/a".to_owned(), |v| v.to_string()),
            ),
        ])
    }
}

fn more(n: usize) -> String {
    format!("\n… and {n} more")
}

fn seconds(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// `checkout (3 attempts): expected status 200, got 500; body "Internal error"`
pub fn describe(result: &CheckResult) -> String {
    let attempts = match result.attempts {
        0 | 1 => String::new(),
        n => format!(" ({n} attempts)"),
    };
    let what = match &result.outcome {
        Outcome::Passed => "passed".to_owned(),
        Outcome::Failed { failure } => describe_failure(failure),
        Outcome::NotRun { last_failure: None } => "not run: deadline".to_owned(),
        Outcome::NotRun { last_failure: Some(f) } => {
            format!(
                "not run: deadline before it finished; last attempt: {}",
                describe_failure(f)
            )
        }
    };
    format!("{}{attempts}: {what}", result.name)
}

pub fn describe_failure(failure: &Failure) -> String {
    match failure {
        Failure::Unexpected {
            mismatches,
            body_excerpt,
            ..
        } => {
            let mut parts: Vec<String> = mismatches.iter().map(describe_mismatch).collect();
            let shows_body = mismatches.iter().any(|m| {
                matches!(
                    m,
                    Mismatch::Status { .. } | Mismatch::BodyMissing { .. } | Mismatch::NotJson
                )
            });
            if shows_body {
                parts.push(format!("body {}", quote(body_excerpt)));
            }
            parts.join("; ")
        }
        Failure::Timeout { timeout_ms } => format!("timed out: no complete answer within {timeout_ms} ms"),
        Failure::Transport { error } => format!("no answer: {error}"),
        Failure::Invalid { error } => format!("not sent: {error}"),
    }
}

pub fn describe_mismatch(mismatch: &Mismatch) -> String {
    match mismatch {
        Mismatch::Status { expected, got } => {
            let expected = match expected.as_slice() {
                [one] => one.to_string(),
                many => format!(
                    "one of {}",
                    many.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                ),
            };
            format!("expected status {expected}, got {got}")
        }
        Mismatch::BodyMissing { expected } => format!("expected body to contain {}, got no match", quote(expected)),
        Mismatch::Json { pointer, expected, got } => {
            let got = got
                .as_ref()
                .map_or_else(|| "nothing there".to_owned(), |v| truncate(&v.to_string(), 100));
            format!(
                "expected {pointer} = {}, got {got}",
                truncate(&expected.to_string(), 100)
            )
        }
        Mismatch::NotJson => "expected a JSON body, got one that does not parse".to_owned(),
        Mismatch::JsonTooLarge {
            pointer,
            expected,
            bytes,
        } => format!(
            "expected {pointer} = {}, got a value of {bytes} bytes of JSON, more than the {MAX_COMPARED_BYTES} a \
             check compares: point at a smaller part of it",
            truncate(&expected.to_string(), 100)
        ),
        Mismatch::HeaderMissing { header } => format!("expected header {header}, got none"),
        Mismatch::TooSlow { max_ms, got_ms } => format!("expected latency ≤ {max_ms} ms, got {got_ms} ms"),
    }
}

/// Quoted with escapes, so a body's line breaks and quotes cannot break the message's layout.
fn quote(text: &str) -> String {
    format!("{:?}", truncate(text, 100))
}
