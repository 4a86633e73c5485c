//! From parameters and results to the job's one result, as pure functions: what to run ([`plan`]), and what to
//! tell CodePipeline after a single run ([`single_run`]) or a soak ([`soak_continuation`], [`soak_verdict`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use checks::{SuiteReport, SuiteSource};
use chrono::{DateTime, Utc};
use hooks_common::text::truncate;

use crate::params::{self, Soak};
use crate::seal::{self, Seal};
use crate::soak;
use crate::token::Progress;

/// CodePipeline's limit on `executionDetails.summary`.
pub const SUMMARY_MAX_CHARS: usize = 2048;
/// CodePipeline's limit on `failureDetails.message`.
pub const MESSAGE_MAX_CHARS: usize = 5000;

/// The `failureDetails.type`s this runner reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The checks ran and did not pass (or the deadline came first).
    JobFailed,
    /// The action's `UserParameters` cannot be used: retrying will not help, fixing the pipeline will.
    ConfigurationError,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::JobFailed => "JobFailed",
            FailureKind::ConfigurationError => "ConfigurationError",
        }
    }
}

/// The one result a job gets.
#[derive(Clone, Debug, PartialEq)]
pub enum JobResult {
    /// `PutJobSuccessResult` without a token: the action succeeds, its output variables go to later actions.
    Success {
        summary: String,
        output_variables: BTreeMap<String, String>,
        external_execution_id: String,
    },
    /// `PutJobSuccessResult` with a continuation token: CodePipeline invokes the function again with it.
    Continue {
        summary: String,
        token: String,
        percent_complete: i32,
        external_execution_id: String,
    },
    /// `PutJobFailureResult`: the action fails with this type and message.
    Failure {
        kind: FailureKind,
        message: String,
        external_execution_id: Option<String>,
    },
}

impl JobResult {
    pub fn configuration_error(message: impl AsRef<str>) -> JobResult {
        JobResult::Failure {
            kind: FailureKind::ConfigurationError,
            message: truncate(message.as_ref(), MESSAGE_MAX_CHARS),
            external_execution_id: None,
        }
    }

    pub fn job_failed(message: impl AsRef<str>, external_execution_id: Option<String>) -> JobResult {
        JobResult::Failure {
            kind: FailureKind::JobFailed,
            message: truncate(message.as_ref(), MESSAGE_MAX_CHARS),
            external_execution_id,
        }
    }
}

/// What an invocation runs: a suite (inline, or still in the input artifact), once or as a soak round by round.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub source: SuiteSource,
    pub mode: Mode,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Single,
    /// `progress` is what earlier invocations did (fresh on the first job); `seal` signs the token handed on.
    Soak {
        soak: Soak,
        progress: Progress,
        seal: Box<Seal>,
    },
}

/// Reads the action's `UserParameters` and the job's continuation token; a job that cannot run gets its result
/// here (a `ConfigurationError` naming the field, or for a soak without a token key; a `JobFailed` for a token
/// that is not signed with `seal`, or that this runner cannot have written for this soak by `now`, see
/// [`Progress::decode_for`]). A suite in the input artifact is read afterwards, at the edge (see `artifact`).
pub fn plan(
    user_parameters: Option<&str>,
    continuation_token: Option<&str>,
    job_id: &str,
    now: DateTime<Utc>,
    seal: Option<&Seal>,
) -> Result<Plan, JobResult> {
    let parameters = params::parse(user_parameters).map_err(|e| JobResult::configuration_error(e.to_string()))?;
    let mode = match (parameters.soak, continuation_token, seal) {
        (None, None, _) => Mode::Single,
        (Some(soak), None, Some(seal)) => Mode::Soak {
            soak,
            progress: Progress::start(job_id, now),
            seal: Box::new(seal.clone()),
        },
        (Some(soak), Some(token), Some(seal)) => {
            match seal
                .open(token)
                .and_then(|progress| Progress::decode_for(progress, &soak, now))
            {
                Ok(progress) => Mode::Soak {
                    soak,
                    progress,
                    seal: Box::new(seal.clone()),
                },
                Err(problem) => return Err(JobResult::job_failed(problem, None)),
            }
        }
        (Some(_), _, None) => return Err(JobResult::configuration_error(no_key())),
        (None, Some(_), _) => {
            return Err(JobResult::configuration_error(
                "UserParameters: `soak` was removed while a soak was running (this job carries a continuation \
                 token). Fix: restore `soak`, or start a new release",
            ));
        }
    };
    Ok(Plan {
        source: parameters.source,
        mode,
    })
}

/// Why a soak cannot run without a token key: its progress, carried between invocations, could be forged.
fn no_key() -> String {
    let var = seal::KEY_VAR;
    format!(
        "UserParameters: `soak` needs the function's setting {var}, which is not set: without a key to sign its \
         continuation tokens, a soak's progress could be forged between invocations. Fix: set {var} to 32 random \
         bytes in hex (`openssl rand -hex 32`) in the function's environment, or drop `soak` for a single run."
    )
}

/// One run of the suite: success with its summary and output variables, or `JobFailed` naming the checks that
/// did not pass, expected versus got (the deadline's cut said first).
pub fn single_run(report: &SuiteReport, run_id: &str) -> JobResult {
    if report.passed() {
        return JobResult::Success {
            summary: truncate(&report.summary(), SUMMARY_MAX_CHARS),
            output_variables: report.output_variables(),
            external_execution_id: run_id.to_owned(),
        };
    }
    let mut message = String::new();
    if report.not_run > 0 {
        message.push_str(
            "The function's deadline came before every check finished; reporting what finished (raise the \
             function's timeout or lower the checks' timeout_ms).\n",
        );
    }
    let room = MESSAGE_MAX_CHARS - message.chars().count();
    message.push_str(&report.failure_message_within(room));
    JobResult::job_failed(message, Some(run_id.to_owned()))
}

fn minutes(d: chrono::Duration) -> String {
    format!("{:.1} min", d.num_milliseconds().max(0) as f64 / 60_000.0)
}

fn counts(progress: &Progress, soak: &Soak) -> String {
    let mut line = format!(
        "{} round(s), {} failed (at most {} may fail); checks over all rounds: {} passed, {} failed",
        progress.rounds, progress.failed_rounds, soak.max_failed_rounds, progress.checks_passed, progress.checks_failed
    );
    if let Some(p95) = progress.worst_p95_ms {
        let _ = write!(line, "; worst p95 {p95} ms");
    }
    line
}

/// A soak handing over to the next invocation: its progress in the token, and where it stands.
pub fn soak_continuation(progress: &Progress, soak: &Soak, seal: &Seal, now: DateTime<Utc>) -> JobResult {
    let length = chrono::Duration::from_std(soak.length).unwrap_or_default();
    JobResult::Continue {
        summary: truncate(
            &format!(
                "Soak running: {} after {} of {}",
                counts(progress, soak),
                minutes(now - progress.started_at()),
                minutes(length)
            ),
            SUMMARY_MAX_CHARS,
        ),
        token: seal.sign(&progress.encode()),
        percent_complete: soak::percent_complete(soak, progress, now),
        external_execution_id: progress.run_id.clone(),
    }
}

/// The soak's one verdict, once it is over: a pass needs at least one passed round, whatever the settings allow.
pub fn soak_verdict(progress: &Progress, soak: &Soak) -> JobResult {
    let took = progress
        .last_round_at()
        .map_or_else(chrono::Duration::zero, |last| last - progress.started_at());
    let passed_rounds = progress.rounds.saturating_sub(progress.failed_rounds);
    if passed_rounds >= 1 && progress.failed_rounds <= soak.max_failed_rounds {
        let mut output_variables = BTreeMap::from([
            ("passed".to_owned(), progress.checks_passed.to_string()),
            ("failed".to_owned(), progress.checks_failed.to_string()),
            (
                "p95_ms".to_owned(),
                progress
                    .worst_p95_ms
                    .map_or_else(|| "n/a".to_owned(), |v| v.to_string()),
            ),
        ]);
        output_variables.insert("rounds".to_owned(), progress.rounds.to_string());
        output_variables.insert("failed_rounds".to_owned(), progress.failed_rounds.to_string());
        return JobResult::Success {
            summary: truncate(
                &format!("Soak passed: {} over {}", counts(progress, soak), minutes(took)),
                SUMMARY_MAX_CHARS,
            ),
            output_variables,
            external_execution_id: progress.run_id.clone(),
        };
    }
    let mut message = format!("Soak failed: {} over {}.", counts(progress, soak), minutes(took));
    if passed_rounds == 0 {
        message.push_str(" No round passed: a soak passes only with at least one passed round.");
    }
    if let Some(first) = &progress.first_failure {
        let _ = write!(message, "\nFirst failed {first}");
    }
    JobResult::job_failed(message, Some(progress.run_id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use checks::{CheckResult, Failure, Mismatch, Outcome, PassCriterion};
    use std::time::Duration;

    use crate::seal::{Scope, TokenKey};

    const JOB: &str = "11111111-2222-4333-8444-555555555555";

    fn seal() -> Seal {
        let key = TokenKey::from_hex(&"5a".repeat(32)).unwrap();
        let scope = Scope {
            pipeline: "storefront",
            stage: "Test",
            action: "Soak",
            execution_id: "exec-1",
            user_parameters: "{}",
        };
        Seal::new(&key, &scope)
    }
    const SUITE: &str = r#""base_url": "https://canary.example.com", "checks": [{"name": "health", "url": "/health"}]"#;

    fn result(name: &str, outcome: Outcome, latency: Option<u64>) -> CheckResult {
        CheckResult {
            name: name.into(),
            outcome,
            attempts: 1,
            latency_ms: latency,
        }
    }

    fn failed(status: u16) -> Outcome {
        Outcome::Failed {
            failure: Failure::Unexpected {
                status,
                mismatches: vec![Mismatch::Status {
                    expected: vec![200],
                    got: status,
                }],
                body_excerpt: "oops".into(),
            },
        }
    }

    fn report(results: Vec<CheckResult>) -> SuiteReport {
        SuiteReport::new(results, PassCriterion::All, Duration::from_millis(120))
    }

    #[test]
    fn plans() {
        let now = Utc::now();
        let seal = seal();
        let single = plan(Some(&format!("{{{SUITE}}}")), None, JOB, now, Some(&seal)).unwrap();
        assert!(matches!(single.source, SuiteSource::Inline(ref s) if s.checks[0].name == "health"));
        assert_eq!(single.mode, Mode::Single);

        let soaked = format!(r#"{{"soak": {{"every_seconds": 60, "for_minutes": 5}}, {SUITE}}}"#);
        let Mode::Soak { progress, .. } = plan(Some(&soaked), None, JOB, now, Some(&seal)).unwrap().mode else {
            panic!("a soak")
        };
        assert_eq!((progress.run_id.as_str(), progress.rounds), (JOB, 0));

        let mut going = Progress::start("first-job", now - chrono::Duration::seconds(180));
        going.rounds = 3;
        going.last_round_at_ms = Some((now - chrono::Duration::seconds(60)).timestamp_millis());
        let token = seal.sign(&going.encode());
        let Mode::Soak { progress, .. } = plan(Some(&soaked), Some(&token), JOB, now, Some(&seal)).unwrap().mode else {
            panic!("a soak")
        };
        assert_eq!((progress.run_id.as_str(), progress.rounds), ("first-job", 3));

        // The suite in the artifact is read at the edge; the plan says where it is, and how to run it.
        let from_artifact = r#"{"suite_from_artifact": "BuildOutput::checks/smoke.json",
                                "soak": {"every_seconds": 60, "for_minutes": 5}}"#;
        let planned = plan(Some(from_artifact), Some(&token), JOB, now, Some(&seal)).unwrap();
        assert_eq!(
            planned.source,
            SuiteSource::Artifact(checks::ArtifactFile {
                artifact: Some("BuildOutput".into()),
                path: "checks/smoke.json".into()
            })
        );
        assert!(matches!(planned.mode, Mode::Soak { ref progress, .. } if progress.rounds == 3));
    }

    #[test]
    fn jobs_that_cannot_run_get_their_result_from_the_plan() {
        let now = Utc::now();
        let soaked = format!(r#"{{"soak": {{"every_seconds": 60, "for_minutes": 5}}, {SUITE}}}"#);
        let ms = |s: i64| (now + chrono::Duration::seconds(s)).timestamp_millis();
        let over = format!(
            r#"{{"v":1,"run":"x","t0":{},"last":{},"r":5,"fr":0,"p":5,"f":0}}"#,
            ms(-300),
            ms(0)
        );
        let future = format!(r#"{{"v":1,"run":"x","t0":{},"r":0,"fr":0,"p":0,"f":0}}"#, ms(3600));
        let seal = seal();
        // Signed as this runner signs: refused for what they say, not for their signature.
        let signed = |progress: &str| seal.sign(progress);
        let fresh = format!(r#"{{"v":1,"run":"x","t0":{},"r":0,"fr":0,"p":0,"f":0}}"#, ms(-10));
        // (UserParameters, token, key, failure type, text)
        let cases = [
            (
                r#"{"checks": [{"name": "a", "url": "/a", "expect": {"status": 700}}]}"#.to_owned(),
                None,
                Some(&seal),
                FailureKind::ConfigurationError,
                "`checks[0].expect.status`",
            ),
            (
                r#"{"suite_from_artifact": "../smoke.json"}"#.to_owned(),
                None,
                Some(&seal),
                FailureKind::ConfigurationError,
                "`suite_from_artifact` `../smoke.json` is not a relative path",
            ),
            // No key, no soak: its progress could be forged.
            (
                soaked.clone(),
                None,
                None,
                FailureKind::ConfigurationError,
                "UserParameters: `soak` needs the function's setting CONTINUATION_TOKEN_KEY, which is not set",
            ),
            (
                soaked.clone(),
                Some(signed(&fresh)),
                None,
                FailureKind::ConfigurationError,
                "Fix: set CONTINUATION_TOKEN_KEY to 32 random bytes in hex",
            ),
            (
                soaked.clone(),
                Some("garbage".to_owned()),
                Some(&seal),
                FailureKind::JobFailed,
                "the continuation token is not signed",
            ),
            // The progress a runner would write, unsigned or signed by someone else: refused before it is read.
            (
                soaked.clone(),
                Some(fresh.clone()),
                Some(&seal),
                FailureKind::JobFailed,
                "the continuation token is not signed",
            ),
            (
                soaked.clone(),
                Some(format!("{}.{fresh}", "ab".repeat(32))),
                Some(&seal),
                FailureKind::JobFailed,
                "the continuation token's signature does not match",
            ),
            (
                soaked.clone(),
                Some(signed(&fresh).replace(r#""r":0"#, r#""r":9"#)),
                Some(&seal),
                FailureKind::JobFailed,
                "signature does not match",
            ),
            (
                soaked.clone(),
                Some(signed("garbage")),
                Some(&seal),
                FailureKind::JobFailed,
                "not a soak progress this runner wrote",
            ),
            // Tokens this soak cannot have written: no time, over with no round run here, a start in the future.
            (
                soaked.clone(),
                Some(signed(
                    r#"{"v":1,"run":"x","t0":9223372036854775807,"r":0,"fr":0,"p":0,"f":0}"#,
                )),
                Some(&seal),
                FailureKind::JobFailed,
                "continuation token is not the progress of this soak this runner wrote: its start",
            ),
            (
                soaked.clone(),
                Some(signed(&over)),
                Some(&seal),
                FailureKind::JobFailed,
                "it says the soak is already over (5 round(s), 0 failed)",
            ),
            (
                soaked,
                Some(signed(&future)),
                Some(&seal),
                FailureKind::JobFailed,
                "is after now",
            ),
            (
                format!("{{{SUITE}}}"),
                Some(signed("{}")),
                Some(&seal),
                FailureKind::ConfigurationError,
                "`soak` was removed",
            ),
        ];
        for (raw, token, seal, kind, text) in cases {
            let Err(JobResult::Failure { kind: got, message, .. }) = plan(Some(&raw), token.as_deref(), JOB, now, seal)
            else {
                panic!("{raw}: expected a failure")
            };
            assert_eq!(got, kind, "{raw}");
            assert!(message.contains(text), "{text:?} not in {message}");
        }
        // A single run needs no key.
        let single = plan(Some(&format!("{{{SUITE}}}")), None, JOB, now, None).unwrap();
        assert_eq!(single.mode, Mode::Single);
    }

    #[test]
    fn single_runs() {
        let pass = single_run(&report(vec![result("health", Outcome::Passed, Some(12))]), JOB);
        let JobResult::Success {
            summary,
            output_variables,
            external_execution_id,
        } = pass
        else {
            panic!("{pass:?}")
        };
        assert!(summary.starts_with("PASS: 1/1 checks passed"), "{summary}");
        assert_eq!(output_variables["p95_ms"], "12");
        assert_eq!(external_execution_id, JOB);

        let fail = single_run(
            &report(vec![
                result("health", Outcome::Passed, Some(12)),
                result("checkout", failed(500), Some(30)),
            ]),
            JOB,
        );
        let JobResult::Failure {
            kind,
            message,
            external_execution_id,
        } = fail
        else {
            panic!("{fail:?}")
        };
        assert_eq!(kind, FailureKind::JobFailed);
        assert!(message.contains("checkout: expected status 200, got 500"), "{message}");
        assert!(!message.contains("- health"), "{message}");
        assert_eq!(external_execution_id.as_deref(), Some(JOB));

        let cut = single_run(
            &report(vec![
                result("health", Outcome::Passed, Some(12)),
                result("slow", Outcome::NotRun { last_failure: None }, None),
            ]),
            JOB,
        );
        let JobResult::Failure { message, .. } = cut else {
            panic!("{cut:?}")
        };
        assert!(message.starts_with("The function's deadline came"), "{message}");
        assert!(message.contains("slow: not run: deadline"), "{message}");
    }

    #[test]
    fn huge_failures_fit_the_limit() {
        let many = (0..300)
            .map(|i| result(&format!("check-{i:03}"), failed(503), None))
            .collect();
        let JobResult::Failure { message, .. } = single_run(&report(many), JOB) else {
            panic!()
        };
        assert!(message.chars().count() <= MESSAGE_MAX_CHARS);
        assert!(message.contains("more"), "{message}");
    }

    #[test]
    fn a_soak_passes_only_with_a_passed_round_and_few_enough_failed() {
        let t0 = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        // (rounds, failed rounds, at most failed, passes)
        let cases = [
            (3, 0, 0, true),
            (5, 4, 4, true),
            (4, 1, 0, false),
            (0, 0, 0, false),
            (0, 0, 5, false),
            // Every round failed: never a pass, whatever the settings allow.
            (5, 5, 5, false),
            (1, 1, u32::MAX, false),
            // More failed than run (a token this runner did not write): never a pass.
            (1, 3, 5, false),
        ];
        for (rounds, failed_rounds, allowed, passes) in cases {
            let soak = Soak {
                every: Duration::from_secs(60),
                length: Duration::from_secs(300),
                max_failed_rounds: allowed,
            };
            let mut progress = Progress::start(JOB, t0);
            progress.rounds = rounds;
            progress.failed_rounds = failed_rounds;
            let verdict = soak_verdict(&progress, &soak);
            let case = format!("{rounds} rounds, {failed_rounds} failed, at most {allowed}: {verdict:?}");
            match verdict {
                JobResult::Success { .. } => assert!(passes, "{case}"),
                JobResult::Failure { kind, ref message, .. } => {
                    assert!(!passes, "{case}");
                    assert_eq!(kind, FailureKind::JobFailed, "{case}");
                    let none_passed = rounds <= failed_rounds;
                    assert_eq!(message.contains("No round passed"), none_passed, "{case}");
                }
                JobResult::Continue { .. } => panic!("{case}"),
            }
        }
    }

    #[test]
    fn soak_results() {
        let t0 = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let soak = Soak {
            every: Duration::from_secs(60),
            length: Duration::from_secs(600),
            max_failed_rounds: 0,
        };
        let mut progress = Progress::start(JOB, t0);
        for i in 0..3 {
            let at = t0 + chrono::Duration::seconds(60 * i);
            progress.record(
                &report(vec![result("health", Outcome::Passed, Some(10 + i as u64))]),
                at,
            );
        }
        let now = t0 + chrono::Duration::seconds(150);
        let JobResult::Continue {
            summary,
            token,
            percent_complete,
            external_execution_id,
        } = soak_continuation(&progress, &soak, &seal(), now)
        else {
            panic!()
        };
        assert_eq!(
            summary,
            "Soak running: 3 round(s), 0 failed (at most 0 may fail); checks over all rounds: 3 passed, 0 failed; \
             worst p95 12 ms after 2.5 min of 10.0 min"
        );
        assert!(token.chars().count() <= crate::token::MAX_TOKEN_CHARS);
        assert_eq!(Progress::decode(seal().open(&token).unwrap()).unwrap(), progress);
        assert_eq!((percent_complete, external_execution_id.as_str()), (25, JOB));

        let JobResult::Success {
            summary,
            output_variables,
            ..
        } = soak_verdict(&progress, &soak)
        else {
            panic!()
        };
        assert!(summary.starts_with("Soak passed: 3 round(s)"), "{summary}");
        assert!(summary.ends_with("over 2.0 min"), "{summary}");
        let vars: Vec<(&str, &str)> = output_variables.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            vars,
            [
                ("failed", "0"),
                ("failed_rounds", "0"),
                ("p95_ms", "12"),
                ("passed", "3"),
                ("rounds", "3")
            ]
        );

        progress.record(
            &report(vec![result("health", failed(502), Some(40))]),
            t0 + chrono::Duration::seconds(180),
        );
        let JobResult::Failure {
            kind,
            message,
            external_execution_id,
        } = soak_verdict(&progress, &soak)
        else {
            panic!()
        };
        assert_eq!(kind, FailureKind::JobFailed);
        assert!(
            message.starts_with("Soak failed: 4 round(s), 1 failed (at most 0 may fail)"),
            "{message}"
        );
        assert!(
            message.contains("First failed round 4 at 11:09:40 UTC: Checks failed"),
            "{message}"
        );
        assert!(message.contains("health: expected status 200, got 502"), "{message}");
        assert_eq!(external_execution_id.as_deref(), Some(JOB));
    }
}
