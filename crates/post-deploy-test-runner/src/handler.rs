//! The edge: one invocation is one job. Read the event, plan, read the suite from the input artifact if it is
//! there, run (once, or soak rounds until it is time to hand over), report the one result before the deadline,
//! then publish the metrics. Only this module (with `artifact`'s S3 edge) sleeps and calls out; every decision it
//! carries out is made in `decide` and `soak`.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use checks::{Suite, SuiteReport, SuiteSource};
use chrono::{DateTime, Utc};
use hooks_common::Error;
use hooks_common::settings::Env;
use hooks_common::text::truncate;
use serde::Serialize;
use serde_json::Value;

use crate::RunnerError;
use crate::artifact::{self, ArtifactStore};
use crate::decide::{self, JobResult, Mode, Plan};
use crate::job::{self, EventError, Job, JobContext, Reported};
use crate::metrics;
use crate::params::Soak;
use crate::soak::{self, Clock, Step};
use crate::token::Progress;

/// What an invocation did; returned to Lambda (visible in the simulator and `make invoke`).
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Succeeded {
        job: String,
        summary: String,
    },
    /// A soak reported its progress with a continuation token; CodePipeline invokes the function again.
    Continued {
        job: String,
        summary: String,
    },
    Failed {
        job: String,
        failure_type: String,
        summary: String,
    },
    /// The job was reported before (by this container, or as CodePipeline says): nothing more to do.
    AlreadySettled {
        job: String,
        reason: String,
    },
}

/// Deployment-wide settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub metrics_namespace: String,
}

pub const NAMESPACE_VAR: &str = "METRICS_NAMESPACE";

impl Settings {
    pub fn from_env(env: &Env) -> Result<Settings, Error> {
        let namespace = env
            .optional(NAMESPACE_VAR)
            .unwrap_or_else(|| metrics::DEFAULT_NAMESPACE.to_owned());
        if namespace.len() > 255 || namespace.starts_with("AWS/") {
            return Err(Error::Setting {
                name: NAMESPACE_VAR.into(),
                problem: format!("`{namespace}` is not a namespace this function may publish to"),
                fix: format!(
                    "use at most 255 characters, not starting with AWS/ (default {})",
                    metrics::DEFAULT_NAMESPACE
                ),
            });
        }
        Ok(Settings {
            metrics_namespace: namespace,
        })
    }
}

/// Jobs this container reported recently: a duplicate delivery reaching it is answered without running the
/// suite again. Duplicates reaching another container run it, and CodePipeline answers "already settled".
#[derive(Default)]
struct RecentJobs(VecDeque<String>);

impl RecentJobs {
    const CAPACITY: usize = 256;

    fn contains(&self, job_id: &str) -> bool {
        self.0.iter().any(|id| id == job_id)
    }

    fn insert(&mut self, job_id: &str) {
        if self.0.len() == Self::CAPACITY {
            self.0.pop_front();
        }
        self.0.push_back(job_id.to_owned());
    }
}

/// One run (a single run, or one soak round) and when it started.
type Run = (DateTime<Utc>, SuiteReport);

pub struct Runner {
    pipelines: aws_sdk_codepipeline::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    artifacts: ArtifactStore,
    http: reqwest::Client,
    settings: Settings,
    recent: Mutex<RecentJobs>,
}

/// Time kept back from the deadline to report the result and publish metrics: a tenth of the invocation's time,
/// 2 to 10 s, but never more than half of it.
fn report_margin(remaining: Duration) -> Duration {
    (remaining / 10)
        .clamp(Duration::from_secs(2), Duration::from_secs(10))
        .min(remaining / 2)
}

fn to_utc(deadline: Instant) -> DateTime<Utc> {
    let left = deadline.saturating_duration_since(Instant::now());
    Utc::now() + chrono::Duration::from_std(left).unwrap_or_default()
}

impl Runner {
    pub fn new(
        pipelines: aws_sdk_codepipeline::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
        artifacts: ArtifactStore,
        http: reqwest::Client,
        settings: Settings,
    ) -> Runner {
        Runner {
            pipelines,
            cloudwatch,
            artifacts,
            http,
            settings,
            recent: Mutex::default(),
        }
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, RecentJobs> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handles one job event. The raw event is never logged: it carries the artifact credentials.
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<Outcome, RunnerError> {
        let job = match Job::from_event(event) {
            Ok(job) => job,
            Err(EventError::NotAJob(error)) => {
                tracing::error!(%error, "not a CodePipeline job event");
                return Err(error.into());
            }
            Err(EventError::Malformed { job_id, problem }) => {
                tracing::error!(job = %job_id, %problem, "malformed job event: failing the job");
                let result = JobResult::job_failed(&problem, None);
                return self.finish(&job_id, result, None, Vec::new(), deadline).await;
            }
        };
        if self.recent().contains(&job.id) {
            let reason = "this container already reported the job; duplicate invocation ignored".to_owned();
            tracing::info!(job = %job.id, %reason, "already settled");
            return Ok(Outcome::AlreadySettled { job: job.id, reason });
        }
        tracing::info!(job = %job.id, continuation = job.continuation_token.is_some(), "job received");

        let remaining = deadline.saturating_duration_since(Instant::now());
        let work_deadline = deadline.checked_sub(report_margin(remaining)).unwrap_or(deadline);
        let (context, result, runs) = match decide::plan(
            job.user_parameters.as_deref(),
            job.continuation_token.as_deref(),
            &job.id,
            Utc::now(),
        ) {
            Err(result) => (None, result, Vec::new()),
            Ok(plan) => {
                // Where the job runs only labels the metrics: asked while the checks run.
                let budget = (work_deadline.saturating_duration_since(Instant::now()) / 4)
                    .clamp(Duration::from_millis(100), Duration::from_secs(3));
                let (context, (result, runs)) = tokio::join!(
                    job::context(&self.pipelines, &job.id, budget),
                    self.work(plan, &job, work_deadline)
                );
                (Some(context), result, runs)
            }
        };
        self.finish(&job.id, result, context, runs, deadline).await
    }

    async fn work(&self, plan: Plan, job: &Job, deadline: Instant) -> (JobResult, Vec<Run>) {
        let suite = match self.suite(plan.source, job, deadline).await {
            Ok(suite) => suite,
            Err(result) => return (result, Vec::new()),
        };
        match plan.mode {
            Mode::Single => {
                let at = Utc::now();
                let report = suite.run(&self.http, deadline).await;
                tracing::info!(job = %job.id, summary = %report.summary(), "checks ran");
                (decide::single_run(&report, &job.id), vec![(at, report)])
            }
            Mode::Soak { soak, progress } => self.soak(&suite, &soak, progress, deadline).await,
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
                    let report = suite.run(&self.http, deadline).await;
                    progress.record(&report, now);
                    tracing::info!(run = %progress.run_id, round = progress.rounds, summary = %report.summary(), "soak round");
                    runs.push((now, report));
                }
                Step::WaitUntil(at) => tokio::time::sleep((at - now).to_std().unwrap_or_default()).await,
                Step::Continue => return (decide::soak_continuation(&progress, soak, Utc::now()), runs),
                Step::Finish => return (decide::soak_verdict(&progress, soak), runs),
            }
        }
    }

    /// Reports the result; once CodePipeline took it, publishes the runs' metrics (a failure there is logged and
    /// changes nothing). A duplicate never publishes: its report is refused first.
    async fn finish(
        &self,
        job_id: &str,
        result: JobResult,
        context: Option<Result<JobContext, String>>,
        runs: Vec<Run>,
        deadline: Instant,
    ) -> Result<Outcome, RunnerError> {
        let context = match context {
            Some(Ok(context)) => context,
            Some(Err(problem)) => {
                tracing::warn!(job = %job_id, %problem, "job context unavailable; metrics are labelled unknown");
                JobContext::unknown()
            }
            None => JobContext::unknown(),
        };
        // Bounded by the deadline: an answer that cannot come in time fails the invocation with a reason (Lambda
        // retries it) rather than letting Lambda time it out.
        let left = deadline
            .saturating_duration_since(Instant::now())
            .saturating_sub(Duration::from_millis(100));
        let reported = tokio::time::timeout(left, job::report(&self.pipelines, job_id, &result))
            .await
            .map_err(|_| Error::Aws {
                operation: "PutJobSuccessResult/PutJobFailureResult",
                target: format!("job {job_id}"),
                problem: format!("no answer within the {left:?} left before the function's deadline"),
            })??;
        match reported {
            Reported::AlreadySettled { reason } => {
                self.recent().insert(job_id);
                tracing::info!(job = %job_id, %reason, "already settled");
                return Ok(Outcome::AlreadySettled {
                    job: job_id.to_owned(),
                    reason,
                });
            }
            Reported::Accepted => self.recent().insert(job_id),
        }
        let outcome = outcome(job_id, &result);
        log(job_id, &context, &result);
        self.publish(&context, &runs, deadline).await;
        Ok(outcome)
    }

    async fn publish(&self, context: &JobContext, runs: &[Run], deadline: Instant) {
        if runs.is_empty() {
            return;
        }
        let base = [
            ("Pipeline", context.pipeline.as_str()),
            ("Stage", context.stage.as_str()),
        ];
        let datums = runs
            .iter()
            .flat_map(|(at, report)| metrics::datums(&base, report, *at))
            .collect();
        let budget = deadline
            .saturating_duration_since(Instant::now())
            .saturating_sub(Duration::from_millis(300))
            .min(Duration::from_secs(5));
        let namespace = &self.settings.metrics_namespace;
        match tokio::time::timeout(budget, metrics::publish(&self.cloudwatch, namespace, datums)).await {
            Ok(Ok(count)) => tracing::info!(%namespace, count, "metrics published"),
            Ok(Err(problem)) => tracing::warn!(%problem, "metrics not published; the job's result stands"),
            Err(_) => tracing::warn!(?budget, "metrics not published in time; the job's result stands"),
        }
    }
}

fn outcome(job_id: &str, result: &JobResult) -> Outcome {
    let job = job_id.to_owned();
    match result {
        JobResult::Success { summary, .. } => Outcome::Succeeded {
            job,
            summary: summary.clone(),
        },
        JobResult::Continue { summary, .. } => Outcome::Continued {
            job,
            summary: summary.clone(),
        },
        JobResult::Failure { kind, message, .. } => Outcome::Failed {
            job,
            failure_type: kind.as_str().to_owned(),
            summary: truncate(message.lines().next().unwrap_or_default(), 300),
        },
    }
}

fn log(job_id: &str, context: &JobContext, result: &JobResult) {
    let (pipeline, stage, action) = (&context.pipeline, &context.stage, &context.action);
    let execution = context.execution_id.as_deref().unwrap_or(job::UNKNOWN);
    match result {
        JobResult::Success { summary, .. } => {
            tracing::info!(job = %job_id, %pipeline, %stage, %action, %execution, %summary, "job succeeded");
        }
        JobResult::Continue { summary, .. } => {
            tracing::info!(job = %job_id, %pipeline, %stage, %action, %execution, %summary, "job continues");
        }
        JobResult::Failure { kind, message, .. } => {
            let kind = kind.as_str();
            tracing::warn!(job = %job_id, %pipeline, %stage, %action, %execution, %kind, %message, "job failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_leaves_time_to_report() {
        let cases = [(4, 2_000), (60, 6_000), (300, 10_000), (900, 10_000), (3, 1_500)];
        for (seconds, margin_ms) in cases {
            assert_eq!(
                report_margin(Duration::from_secs(seconds)),
                Duration::from_millis(margin_ms),
                "{seconds} s"
            );
        }
    }

    #[test]
    fn namespace_setting() {
        let default = Settings::from_env(&Env::from_pairs(&[])).unwrap();
        assert_eq!(default.metrics_namespace, metrics::DEFAULT_NAMESPACE);
        let err = Settings::from_env(&Env::from_pairs(&[(NAMESPACE_VAR, "AWS/Lambda")])).unwrap_err();
        assert!(err.to_string().contains(NAMESPACE_VAR), "{err}");
    }

    #[test]
    fn recent_jobs_are_bounded() {
        let mut recent = RecentJobs::default();
        for i in 0..=RecentJobs::CAPACITY {
            recent.insert(&format!("job-{i}"));
        }
        assert!(!recent.contains("job-0"));
        assert!(recent.contains("job-1") && recent.contains(&format!("job-{}", RecentJobs::CAPACITY)));
    }
}
