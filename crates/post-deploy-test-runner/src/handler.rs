//! The edge: one invocation is one job. Take the job id from the event and ask CodePipeline what the job is
//! (`GetJobDetails`); a job that is not this function's gets no result at all. Then do the work (in a task of its
//! own, see `work`), report the one result before the deadline, and publish the metrics. Only this module (with
//! `work` and `artifact`'s S3 edge) sleeps and calls out; every decision it carries out is made in `owner`,
//! `decide` and `soak`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hooks_common::Error;
use hooks_common::address::AddressPolicy;
use hooks_common::settings::Env;
use hooks_common::text::truncate;
use serde::Serialize;
use serde_json::Value;

use crate::RunnerError;
use crate::artifact::ArtifactStore;
use crate::decide::JobResult;
use crate::job::{self, Job, JobContext, Reported};
use crate::metrics;
use crate::owner::{self, LambdaFunction};
use crate::seal::{self, Seal, TokenKey};
use crate::work::{Run, Worker};

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
    /// `GetJobDetails` says the job is not this function's (a forged or misrouted event): nothing was reported.
    NotOurs {
        job: String,
        reason: String,
    },
}

/// Deployment-wide settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub metrics_namespace: String,
    /// This function: the jobs it answers are those of Invoke actions naming it.
    pub function: LambdaFunction,
    /// Signs soak continuation tokens; without it soaks are refused (`ConfigurationError`), single runs work.
    pub token_key: Option<TokenKey>,
    /// Which addresses checks may reach (`TARGET_ALLOW_CIDRS`, `TARGET_DENY_PRIVATE`); build the HTTP client
    /// with the same policy (`checks::http_client` reads the same variables).
    pub target_policy: AddressPolicy,
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
        let function = LambdaFunction::from_env(
            env,
            owner::FUNCTION_NAME_VAR,
            "Lambda sets it; to run the binary elsewhere, set it to the name Invoke actions call the function by",
        )?;
        let token_key = env
            .optional(seal::KEY_VAR)
            .map(|raw| {
                TokenKey::from_hex(&raw).map_err(|problem| Error::Setting {
                    name: seal::KEY_VAR.into(),
                    problem,
                    fix: "set it to 32 random bytes in hex (`openssl rand -hex 32`), or unset it to refuse soaks"
                        .into(),
                })
            })
            .transpose()?;
        Ok(Settings {
            metrics_namespace: namespace,
            function,
            token_key,
            target_policy: AddressPolicy::from_env(env)?,
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

pub struct Runner {
    pipelines: aws_sdk_codepipeline::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    worker: Arc<Worker>,
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

/// How long `GetJobDetails` may take of the time before the margin: half of it, at most 10 s (the SDK's own
/// timeouts end a call sooner); the rest is the work's.
fn details_budget(before_margin: Duration) -> Duration {
    (before_margin / 2).min(Duration::from_secs(10))
}

impl Runner {
    pub fn new(
        pipelines: aws_sdk_codepipeline::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
        artifacts: ArtifactStore,
        http: reqwest::Client,
        settings: Settings,
    ) -> Runner {
        let worker = Worker {
            artifacts,
            http,
            policy: settings.target_policy.clone(),
            #[cfg(test)]
            inject: None,
        };
        Runner {
            pipelines,
            cloudwatch,
            worker: Arc::new(worker),
            settings,
            recent: Mutex::default(),
        }
    }

    /// Makes the work call `inject` as it starts (tests of what a panic in the work comes to).
    #[cfg(test)]
    pub(crate) fn inject_into_work(&mut self, inject: fn()) {
        if let Some(worker) = Arc::get_mut(&mut self.worker) {
            worker.inject = Some(inject);
        }
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, RecentJobs> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handles one job event. Only the job's id is read from it (it is never logged: a real one carries the
    /// artifact credentials); everything else comes from `GetJobDetails`.
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<Outcome, RunnerError> {
        let job_id =
            job::job_id(&event).inspect_err(|error| tracing::error!(%error, "not a CodePipeline job event"))?;
        drop(event);
        if self.recent().contains(&job_id) {
            let reason = "this container already reported the job; duplicate invocation ignored".to_owned();
            tracing::info!(job = %job_id, %reason, "already settled");
            return Ok(Outcome::AlreadySettled { job: job_id, reason });
        }

        let remaining = deadline.saturating_duration_since(Instant::now());
        let margin = report_margin(remaining);
        let asked_by = Instant::now() + details_budget(remaining.saturating_sub(margin));
        let details = job::details(&self.pipelines, &job_id, asked_by).await.inspect_err(|error| {
            tracing::error!(job = %job_id, %error, "the job cannot be read: nothing reported; the invocation fails, so Lambda retries it")
        })?;
        let job = match Job::from_details(&job_id, &details, &self.settings.function) {
            Ok(job) => job,
            Err(reason) => {
                tracing::warn!(job = %job_id, %reason, "not a job of this function: nothing reported for it (a forged or misrouted invocation)");
                return Ok(Outcome::NotOurs { job: job_id, reason });
            }
        };
        drop(details);
        let context = &job.context;
        tracing::info!(job = %job.id, pipeline = %context.pipeline, stage = %context.stage, action = %context.action,
            continuation = job.continuation_token.is_some(), "job received");

        let work_deadline = deadline.checked_sub(margin).unwrap_or(deadline);
        // Work that overruns its deadline is waited for into half the margin, no longer: the rest reports.
        let give_up = work_deadline + margin / 2;
        let seal = self.settings.token_key.as_ref().map(|key| Seal::new(key, &job.scope()));
        let (result, runs) = self.worker.run(&job, seal, work_deadline, give_up).await;
        self.finish(&job.id, result, &job.context, runs, deadline).await
    }

    /// Reports the result; once CodePipeline took it, publishes the runs' metrics (a failure there is logged and
    /// changes nothing). A duplicate never publishes: its report is refused first.
    async fn finish(
        &self,
        job_id: &str,
        result: JobResult,
        context: &JobContext,
        runs: Vec<Run>,
        deadline: Instant,
    ) -> Result<Outcome, RunnerError> {
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
        log(job_id, context, &result);
        self.publish(context, &runs, deadline).await;
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

    const KEY: &str = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000";

    #[test]
    fn settings() {
        let lambda = [(owner::FUNCTION_NAME_VAR, "runner"), ("AWS_REGION", "us-east-1")];
        let default = Settings::from_env(&Env::from_pairs(&lambda)).unwrap();
        assert_eq!(default.metrics_namespace, metrics::DEFAULT_NAMESPACE);
        assert_eq!(default.function.name, "runner");
        assert_eq!(default.token_key, None, "no key, no soaks; nothing is made up");
        let keyed = Settings::from_env(&Env::from_pairs(&[lambda[0], (seal::KEY_VAR, KEY)])).unwrap();
        assert_eq!(keyed.token_key, Some(TokenKey::from_hex(KEY).unwrap()));
        assert!(!format!("{keyed:?}").contains(&KEY[..16]), "{keyed:?}");

        // (settings, the variable named, text of the error)
        let cases = [
            (
                vec![lambda[0], (NAMESPACE_VAR, "AWS/Lambda")],
                NAMESPACE_VAR,
                "not a namespace",
            ),
            (vec![], owner::FUNCTION_NAME_VAR, "is not set"),
            (
                vec![lambda[0], (seal::KEY_VAR, &KEY[..40])],
                seal::KEY_VAR,
                "holds 20 bytes",
            ),
            (
                vec![lambda[0], (seal::KEY_VAR, "correct horse battery staple")],
                seal::KEY_VAR,
                "is not hex",
            ),
        ];
        for (pairs, var, text) in cases {
            let err = Settings::from_env(&Env::from_pairs(&pairs)).unwrap_err().to_string();
            assert!(err.starts_with(&format!("setting {var}: ")), "{err}");
            assert!(err.contains(text) && err.contains("Fix: "), "{text:?} not in {err}");
            assert!(!err.contains("horse") && !err.contains(&KEY[..40]), "{err}");
        }
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_reported_as_the_jobs_failure() {
        use aws_sdk_codepipeline::operation::get_job_details::GetJobDetailsOutput;
        use aws_sdk_codepipeline::operation::put_job_failure_result::PutJobFailureResultOutput;
        use aws_smithy_mocks::{RuleMode, mock, mock_client};

        let details = mock!(aws_sdk_codepipeline::Client::get_job_details).then_output(|| {
            GetJobDetailsOutput::builder()
                .job_details(job::tests::answer("runner"))
                .build()
        });
        let failure = mock!(aws_sdk_codepipeline::Client::put_job_failure_result)
            .match_requests(|r| {
                let details = r.failure_details().unwrap();
                details.r#type().as_str() == "JobFailed"
                    && details.message().contains("failed while working on this job")
                    && details.message().contains("it panicked")
                    && !details.message().contains("ASIA")
            })
            .then_output(|| PutJobFailureResultOutput::builder().build());
        let metrics = mock!(aws_sdk_cloudwatch::Client::put_metric_data)
            .then_output(|| aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataOutput::builder().build());
        let settings = Settings::from_env(&Env::from_pairs(&[(owner::FUNCTION_NAME_VAR, "runner")])).unwrap();
        let mut runner = Runner::new(
            mock_client!(aws_sdk_codepipeline, RuleMode::MatchAny, [&details, &failure]),
            mock_client!(aws_sdk_cloudwatch, [&metrics]),
            ArtifactStore::new(&Env::from_pairs(&[])).unwrap(),
            checks::http_client().unwrap(),
            settings,
        );
        runner.inject_into_work(|| panic!("reading s3://bucket/key with {}", std::hint::black_box("ASIA-SECRET")));
        let event = serde_json::json!({"CodePipeline.job": {"id": "job-1"}});
        let outcome = runner
            .handle(event, Instant::now() + Duration::from_secs(10))
            .await
            .unwrap();
        assert!(
            matches!(outcome, Outcome::Failed { ref failure_type, .. } if failure_type == "JobFailed"),
            "{outcome:?}"
        );
        assert_eq!(
            (details.num_calls(), failure.num_calls(), metrics.num_calls()),
            (1, 1, 0)
        );
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
