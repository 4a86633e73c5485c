//! The work on one job — plan, read the suite (from the input artifact if it is there), run it once or soak round
//! by round until it is time to hand over — in a task of its own. A panic anywhere in it (ours or a
//! dependency's: the release and e2e profiles unwind) then still ends in the job's result, `JobFailed` saying so,
//! instead of a job left to CodePipeline's timeout; so does work that outlives its deadline.

use std::sync::Arc;
use std::time::Instant;

use checks::{Suite, SuiteReport, SuiteSource};
use chrono::{DateTime, Utc};
use hooks_common::address::AddressPolicy;
use hooks_common::text::truncate;
use tokio::task::JoinError;

use crate::artifact::{self, ArtifactStore};
use crate::decide::{self, JobResult, Mode};
use crate::job::Job;
use crate::params::Soak;
use crate::seal::Seal;
use crate::soak::{self, Clock, Step};
use crate::token::Progress;

/// One run (a single run, or one soak round) and when it started.
pub(crate) type Run = (DateTime<Utc>, SuiteReport);

/// The longest panic message a job's failure quotes.
const PANIC_QUOTE_CHARS: usize = 300;

pub(crate) struct Worker {
    pub(crate) artifacts: ArtifactStore,
    pub(crate) http: reqwest::Client,
    pub(crate) policy: AddressPolicy,
    /// Called as the work starts, to prove a panic in it is reported. Only tests can set it: there is no setting,
    /// variable or event field that reaches it in a build of the function.
    #[cfg(test)]
    pub(crate) inject: Option<fn()>,
}

impl Worker {
    /// Does the job's work in its own task, which must finish by `deadline`; waits for it until `give_up` at most.
    pub(crate) async fn run(
        self: &Arc<Self>,
        job: &Job,
        seal: Option<Seal>,
        deadline: Instant,
        give_up: Instant,
    ) -> (JobResult, Vec<Run>) {
        let (worker, owned) = (self.clone(), job.clone());
        let mut task = tokio::spawn(async move { worker.work(&owned, seal.as_ref(), deadline).await });
        match tokio::time::timeout_at(give_up.into(), &mut task).await {
            Ok(Ok(done)) => done,
            Ok(Err(error)) => {
                tracing::error!(job = %job.id, panicked = error.is_panic(), "the work on the job stopped: failing the job");
                (stopped(error), Vec::new())
            }
            Err(_) => {
                task.abort();
                tracing::error!(job = %job.id, "the work on the job outlived its deadline: failing the job");
                let message = "The post-deploy test runner's work on this job did not end by the function's \
                               deadline (a check or the read of the input artifact kept going past it), so there is \
                               no verdict. Raise the function's timeout or lower the checks' timeout_ms.";
                (JobResult::job_failed(message, None), Vec::new())
            }
        }
    }

    async fn work(&self, job: &Job, seal: Option<&Seal>, deadline: Instant) -> (JobResult, Vec<Run>) {
        #[cfg(test)]
        if let Some(inject) = self.inject {
            inject();
        }
        let plan = decide::plan(
            job.user_parameters.as_deref(),
            job.continuation_token.as_deref(),
            &job.id,
            Utc::now(),
            seal,
        );
        let plan = match plan {
            Ok(plan) => plan,
            Err(result) => return (result, Vec::new()),
        };
        let suite = match self.suite(plan.source, job, deadline).await {
            Ok(suite) => suite,
            Err(result) => return (result, Vec::new()),
        };
        match plan.mode {
            Mode::Single => {
                let at = Utc::now();
                let report = suite.run_with(&self.http, &self.policy, deadline).await;
                tracing::info!(job = %job.id, summary = %report.summary(), "checks ran");
                (decide::single_run(&report, &job.id), vec![(at, report)])
            }
            Mode::Soak { soak, progress, seal } => self.soak(&suite, &soak, progress, &seal, deadline).await,
        }
    }

    /// The suite: inline, or read from the job's input artifact (a failure there is the job's result).
    async fn suite(&self, source: SuiteSource, job: &Job, deadline: Instant) -> Result<Suite, JobResult> {
        let file = match source {
            SuiteSource::Inline(suite) => return Ok(suite),
            SuiteSource::Artifact(file) => file,
        };
        let read = artifact::suite(
            &self.artifacts,
            &job.input_artifacts,
            job.artifact_credentials.as_ref(),
            &file,
            deadline,
        )
        .await;
        match read {
            Ok(suite) => {
                tracing::info!(job = %job.id, %file, checks = suite.checks.len(), "suite read from the input artifact");
                Ok(suite)
            }
            Err(error) => {
                tracing::warn!(job = %job.id, %file, ?error, "the suite could not be read from the input artifact");
                Err(error.into_job_result())
            }
        }
    }

    /// Runs soak rounds as the pacing says, until the soak is over or it is time to hand over.
    async fn soak(
        &self,
        suite: &Suite,
        soak: &Soak,
        mut progress: Progress,
        seal: &Seal,
        deadline: Instant,
    ) -> (JobResult, Vec<Run>) {
        let worst_round = soak::worst_case(suite);
        let deadline_utc = to_utc(deadline);
        let mut runs: Vec<Run> = Vec::new();
        loop {
            let now = Utc::now();
            let clock = Clock {
                now,
                deadline: deadline_utc,
                worst_round,
                rounds_here: u32::try_from(runs.len()).unwrap_or(u32::MAX),
            };
            match soak::next_step(soak, &progress, &clock) {
                Step::Run => {
                    let report = suite.run_with(&self.http, &self.policy, deadline).await;
                    progress.record(&report, now);
                    tracing::info!(run = %progress.run_id, round = progress.rounds, summary = %report.summary(), "soak round");
                    runs.push((now, report));
                }
                Step::WaitUntil(at) => tokio::time::sleep((at - now).to_std().unwrap_or_default()).await,
                Step::Continue => return (decide::soak_continuation(&progress, soak, seal, Utc::now()), runs),
                Step::Finish => return (decide::soak_verdict(&progress, soak), runs),
            }
        }
    }
}

fn to_utc(deadline: Instant) -> DateTime<Utc> {
    let left = deadline.saturating_duration_since(Instant::now());
    Utc::now() + chrono::Duration::from_std(left).unwrap_or_default()
}

/// The job's result when its work panicked (or was cancelled). A panic's message is quoted only when it is a
/// literal (`panic!("…")` without arguments), which cannot carry anything the work read — a URL with a key, a
/// credential; a formatted one could, so it is left out.
fn stopped(error: JoinError) -> JobResult {
    let mut message = String::from(
        "The post-deploy test runner failed while working on this job, so there is no verdict on the checks",
    );
    if error.is_panic() {
        message.push_str(" (it panicked: a bug; please report it with the function's log of this job)");
        let literal = error
            .try_into_panic()
            .ok()
            .and_then(|payload| payload.downcast_ref::<&'static str>().copied());
        if let Some(said) = literal {
            message.push_str(". It said: ");
            message.push_str(&truncate(said, PANIC_QUOTE_CHARS));
        }
    } else {
        message.push_str(" (its work was cancelled)");
    }
    message.push('.');
    JobResult::job_failed(message, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::FailureKind;
    use hooks_common::settings::Env;
    use std::time::Duration;

    fn worker(inject: Option<fn()>) -> Arc<Worker> {
        Arc::new(Worker {
            artifacts: ArtifactStore::new(&Env::from_pairs(&[])).unwrap(),
            http: checks::http_client().unwrap(),
            policy: AddressPolicy::default(),
            inject,
        })
    }

    fn job() -> Job {
        Job {
            id: "job-1".into(),
            user_parameters: Some(
                r#"{"checks": [{"name": "a", "url": "https://example.com/", "expect": {"status": 99}}]}"#.into(),
            ),
            continuation_token: None,
            input_artifacts: Vec::new(),
            artifact_credentials: None,
            context: crate::job::JobContext::unknown(),
        }
    }

    fn failure(result: &JobResult) -> (FailureKind, &str) {
        match result {
            JobResult::Failure { kind, message, .. } => (*kind, message),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_panic_in_the_work_fails_the_job_quoting_only_literals() {
        let soon = || Instant::now() + Duration::from_secs(5);
        // (what panics, text the message carries, text it must not)
        let cases: [(fn(), &str, &str); 2] = [
            (
                || panic!("the suite went missing"),
                "It said: the suite went missing.",
                "ASIA",
            ),
            (
                // Read at run time (a constant would be folded into a literal message).
                || {
                    panic!(
                        "GET https://user:{}@target/ failed",
                        std::hint::black_box("ASIA-SECRET")
                    )
                },
                "(it panicked: a bug; please report it",
                "ASIA-SECRET",
            ),
        ];
        for (inject, said, unsaid) in cases {
            let (result, runs) = worker(Some(inject)).run(&job(), None, soon(), soon()).await;
            let (kind, message) = failure(&result);
            assert_eq!(kind, FailureKind::JobFailed);
            assert!(
                message.starts_with("The post-deploy test runner failed while working on this job"),
                "{message}"
            );
            assert!(message.contains(said), "{said:?} not in {message}");
            assert!(!message.contains(unsaid), "{message}");
            assert!(runs.is_empty());
        }
    }

    #[tokio::test]
    async fn without_a_panic_the_work_decides() {
        let soon = Instant::now() + Duration::from_secs(5);
        let (result, _) = worker(None).run(&job(), None, soon, soon).await;
        let (kind, message) = failure(&result);
        assert_eq!(kind, FailureKind::ConfigurationError, "{message}");
        assert!(message.contains("`checks[0].expect.status`"), "{message}");
    }

    // Two workers: the stuck work blocks one thread, the wait for it goes on on another.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_that_outlives_its_deadline_fails_the_job() {
        let now = Instant::now();
        let sleepy: fn() = || std::thread::sleep(Duration::from_millis(400));
        let (result, _) = worker(Some(sleepy))
            .run(&job(), None, now, now + Duration::from_millis(100))
            .await;
        let (kind, message) = failure(&result);
        assert_eq!(kind, FailureKind::JobFailed);
        assert!(message.contains("did not end by the function's deadline"), "{message}");
        assert!(now.elapsed() < Duration::from_millis(400), "{:?}", now.elapsed());
    }
}
