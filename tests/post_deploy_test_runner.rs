//! The post-deploy test runner binary through the simulator: a release reaches the Test stage, whose Lambda Invoke
//! action creates a CodePipeline job and invokes the runner asynchronously with the real job event (artifact
//! credentials included). The runner checks the scriptable target service, reports the job through the simulated
//! CodePipeline with the real SDK, and publishes its metrics to the simulated CloudWatch.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use checks::SuiteSource;
use e2e_tests::stack;
use pipeline_sim::artifacts::zip_artifact;
use pipeline_sim::codepipeline::jobs::job_event;
use pipeline_sim::eventbridge::ACTION_DETAIL_TYPE;
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::lambda::FunctionHost;
use pipeline_sim::model::{Job, JobFailure, JobState, JobSuccess, Pipeline, Status};
use pipeline_sim::samples::{self, TEST_ACTION, TEST_STAGE};
use pipeline_sim::scenario::{Played, Release, Timeline};
use pipeline_sim::stack::Stack;
use pipeline_sim::target::{TargetMode, TargetService};
use post_deploy_test_runner::decide::{Mode, plan};
use post_deploy_test_runner::job::job_id;
use post_deploy_test_runner::seal::{Scope, Seal, TokenKey};
use post_deploy_test_runner::token::{MAX_TOKEN_CHARS, Progress};
use serde_json::{Value, json};

const PIPELINE: &str = "storefront";
const NAMESPACE: &str = "CodePipelineHooks/PostDeployTests";
/// How long the simulator lets a job go unreported before it fails the action: far beyond every test's runner.
const JOB_TIMEOUT: Duration = Duration::from_secs(60);
/// The runner's continuation token key in these tests (`CONTINUATION_TOKEN_KEY`, hex).
const TOKEN_KEY: &str = "746f6b656e206b6579206f66207468652072756e6e657227732065326520746573";
/// The runner's settings for a soak: the key that signs its tokens.
const SOAK_ENV: &[(&str, &str)] = &[("CONTINUATION_TOKEN_KEY", TOKEN_KEY)];

/// What signs and opens the continuation tokens of the Test action's soak in `execution` with `parameters`.
fn seal(pipeline: &str, execution: &str, parameters: &str) -> Seal {
    let scope = Scope {
        pipeline,
        stage: TEST_STAGE,
        action: TEST_ACTION,
        execution_id: execution,
        user_parameters: parameters,
    };
    Seal::new(&TokenKey::from_hex(TOKEN_KEY).unwrap(), &scope)
}

/// A suite against the target: `settings` are extra suite members (each followed by a comma), then the checks.
fn suite(target: &TargetService, settings: &str, checks: &str) -> String {
    format!(
        r#"{{{settings}"base_url": "{}", "timeout_ms": 2000, "checks": [{checks}]}}"#,
        target.base_url()
    )
}

const THREE_CHECKS: &str = r#"{"name": "health", "url": "/health", "expect": {"json": [{"pointer": "/status", "equals": "ok"}], "headers_present": ["x-version"]}},
    {"name": "checkout", "url": "/checkout"}, {"name": "search", "url": "/search?q=socks"}"#;

struct Run {
    stack: Stack,
    runner: Arc<FunctionHost>,
    played: Played,
    timeline: Timeline,
}

impl Run {
    fn jobs(&self) -> Vec<&Job> {
        self.played.jobs_of(TEST_STAGE, TEST_ACTION)
    }

    fn only_job(&self) -> &Job {
        let jobs = self.jobs();
        assert_eq!(jobs.len(), 1, "one job expected:\n{}", self.timeline.lines().join("\n"));
        jobs[0]
    }

    /// Every job of the action as the simulator holds it now (reports that arrived after the play included).
    fn job_now(&self, id: &str) -> Job {
        self.stack.sim.state.world().job(id).expect("the job").clone()
    }
}

fn succeeded(job: &Job) -> &JobSuccess {
    match &job.state {
        JobState::Succeeded(success) => success,
        other => panic!("job {} did not succeed: {other:?}", job.sequence),
    }
}

fn failed(job: &Job) -> &JobFailure {
    match &job.state {
        JobState::Failed(failure) => failure,
        other => panic!("job {} did not fail: {other:?}", job.sequence),
    }
}

/// Plays a release of the tested pipeline (named `pipeline`) whose Test action runs the runner with `parameters`.
async fn play_on(stack: Stack, runner: Arc<FunctionHost>, pipeline: &str, parameters: &str) -> Run {
    let tested = samples::tested_pipeline(pipeline, parameters, JOB_TIMEOUT);
    play_release(stack, runner, tested, samples::tested_release(pipeline)).await
}

/// Plays `release` of `pipeline` (its Test action runs the runner), then checks no credentials were logged.
async fn play_release(stack: Stack, runner: Arc<FunctionHost>, pipeline: Pipeline, release: Release) -> Run {
    stack.sim.state.world().put_pipeline(pipeline);
    let timeline = Timeline::new(false);
    let played = stack.play(&release, &timeline).await.expect("the release plays");
    assert_no_credentials_logged(&stack, &runner);
    Run {
        stack,
        runner,
        played,
        timeline,
    }
}

async fn play(parameters: &str, runner_timeout: Duration, env: &[(&str, &str)]) -> Run {
    let stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(env, runner_timeout)
        .await
        .expect("the runner starts");
    play_on(stack, runner, PIPELINE, parameters).await
}

/// No line the runner wrote carries any job's artifact credentials.
fn assert_no_credentials_logged(stack: &Stack, runner: &FunctionHost) {
    let logs = runner.logs();
    assert!(!logs.is_empty(), "the runner logged nothing at all");
    for job in &stack.sim.state.world().jobs {
        let secrets = [
            &job.credentials.access_key_id,
            &job.credentials.secret_access_key,
            &job.credentials.session_token,
        ];
        for line in &logs {
            for secret in secrets {
                assert!(
                    !line.contains(secret.as_str()),
                    "a log line carries artifact credentials: {line}"
                );
            }
        }
    }
}

fn has_log(host: &FunctionHost, needle: &str) -> bool {
    host.logs().iter().any(|line| line.contains(needle))
}

/// Where `GetJobDetails` says the job runs (pipeline, stage), asked with the real SDK as the runner asks it.
async fn job_details_labels(stack: &Stack, job_id: &str) -> (String, String) {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(hooks_common::aws::sdk_http_client())
        .empty_test_environment()
        .endpoint_url(stack.sim.endpoint_url())
        .region(Region::new(pipeline_sim::REGION))
        .test_credentials()
        .load()
        .await;
    let answer = aws_sdk_codepipeline::Client::new(&config)
        .get_job_details()
        .job_id(job_id)
        .send()
        .await
        .expect("the simulator serves GetJobDetails");
    let context = answer
        .job_details()
        .and_then(|d| d.data())
        .and_then(|d| d.pipeline_context())
        .expect("a pipeline context");
    (
        context.pipeline_name().unwrap_or_default().to_owned(),
        context.stage().and_then(|s| s.name()).unwrap_or_default().to_owned(),
    )
}

/// `Name[Dim=value,...] value` for every datum of the namespace, in order.
fn metrics(stack: &Stack) -> Vec<String> {
    stack
        .sim
        .state
        .cloudwatch()
        .metrics(NAMESPACE)
        .iter()
        .map(|d| {
            let dims: Vec<String> = d.dimensions.iter().map(|d| format!("{}={}", d.name, d.value)).collect();
            let value = d.value.summary().map_or(f64::NAN, |s| s.sum);
            format!("{}[{}] {value}", d.metric_name, dims.join(","))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_suite_succeeds_with_its_summary_and_output_variables() {
    let target = TargetService::start().await.unwrap();
    // At TRACE, lambda_runtime logs every raw event: the runner must keep the credentials out even then.
    let run = play(
        &suite(&target, "", THREE_CHECKS),
        Duration::from_secs(30),
        &[("RUST_LOG", "trace")],
    )
    .await;

    assert_eq!(
        run.played.status,
        Status::Succeeded,
        "{}",
        run.timeline.lines().join("\n")
    );
    run.played.assert_no_timed_out_jobs();
    let job = run.only_job();
    let success = succeeded(job);
    let summary = success.summary.as_deref().unwrap();
    assert!(
        summary.starts_with("PASS: 3/3 checks passed (all checks must pass); p50 "),
        "{summary}"
    );
    assert_eq!(success.continuation_token, None);
    assert_eq!(success.external_execution_id.as_deref(), Some(job.id.as_str()));
    let variables = &success.output_variables;
    assert_eq!((variables["passed"].as_str(), variables["failed"].as_str()), ("3", "0"));
    assert!(variables["p95_ms"].parse::<u64>().is_ok(), "{variables:?}");
    assert_eq!(target.requests(), 3);
    // The release went on to production.
    let production = run
        .played
        .events_of(ACTION_DETAIL_TYPE, "SUCCEEDED")
        .into_iter()
        .any(|e| e["detail"]["stage"] == "Production");
    assert!(production, "{}", run.timeline.lines().join("\n"));
    assert_eq!(job.reports.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_checks_fail_the_job_naming_each_with_expected_and_got() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/checkout", TargetMode::Failing);
    target.set_path_mode("/search", TargetMode::Status(404));
    let run = play(&suite(&target, "", THREE_CHECKS), Duration::from_secs(30), &[]).await;

    assert_eq!(run.played.status, Status::Failed);
    run.played.assert_no_timed_out_jobs();
    let job = run.only_job();
    let failure = failed(job);
    assert_eq!(failure.failure_type, "JobFailed");
    let message = &failure.message;
    assert!(
        message.starts_with("Checks failed: 1/3 checks passed, 2 failed"),
        "{message}"
    );
    assert!(
        message.contains("- checkout: expected status 200, got 500; body"),
        "{message}"
    );
    assert!(
        message.contains("injected failure"),
        "the body excerpt is there: {message}"
    );
    assert!(message.contains("- search: expected status 200, got 404"), "{message}");
    assert!(
        !message.contains("- health"),
        "only checks that did not pass are listed: {message}"
    );
    assert!(message.chars().count() <= 5000);
    assert_eq!(failure.external_execution_id.as_deref(), Some(job.id.as_str()));
    let reached_production = run
        .played
        .events_of(ACTION_DETAIL_TYPE, "STARTED")
        .into_iter()
        .any(|e| e["detail"]["stage"] == "Production");
    assert!(!reached_production, "the pipeline stops at the failed tests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_user_parameters_are_configuration_errors_naming_the_field() {
    let mut stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let ok_suite = r#""base_url": "https://canary.example.com", "checks": [{"name": "health", "url": "/health"}]"#;
    // (UserParameters, text the message must carry)
    let cases = [
        (
            r#"{"base_url": "https://canary.example.com", "checks": [{"name": "health", "url": "/health", "expect": {"status": 700}}]}"#.to_owned(),
            "`checks[0].expect.status` holds 700",
        ),
        (r#"{"checks": [{"name": "health", "url": "/health"}]}"#.to_owned(), "`checks[0].url`"),
        ("checks: all of them".to_owned(), "is not valid JSON"),
        (
            format!(r#"{{"soak": {{"every_seconds": 0, "for_minutes": 5}}, {ok_suite}}}"#),
            "`soak.every_seconds` is 0",
        ),
        (
            r#"{"suite_from_artifact": "../checks/smoke.json"}"#.to_owned(),
            "`suite_from_artifact` `../checks/smoke.json` is not a relative path",
        ),
    ];
    // One stack, one runner, a pipeline per case.
    for (i, (parameters, text)) in cases.iter().enumerate() {
        let run = play_on(stack, runner.clone(), &format!("bad-{i}"), parameters).await;
        assert_eq!(run.played.status, Status::Failed, "{parameters}");
        let failure = failed(run.only_job());
        assert_eq!(failure.failure_type, "ConfigurationError", "{parameters}");
        assert!(failure.message.starts_with("UserParameters: "), "{}", failure.message);
        assert!(failure.message.contains(text), "{text:?} not in {}", failure.message);
        assert!(failure.message.contains("Fix: "), "{}", failure.message);
        stack = run.stack;
    }
    assert_eq!(
        stack.sim.state.cloudwatch().metrics(NAMESPACE).len(),
        0,
        "nothing ran, nothing published"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_target_is_reported_before_the_functions_deadline() {
    let target = TargetService::start().await.unwrap();
    target.set_mode(TargetMode::Slow(Duration::from_secs(120)));
    let checks = r#"{"name": "health", "url": "/health"}, {"name": "checkout", "url": "/checkout"}"#;
    let parameters = suite(&target, "", checks).replace(r#""timeout_ms": 2000"#, r#""timeout_ms": 60000"#);
    let timeout = Duration::from_secs(5);
    let run = play(&parameters, timeout, &[]).await;

    assert_eq!(run.played.status, Status::Failed);
    run.played.assert_no_timed_out_jobs();
    let job = run.only_job();
    let failure = failed(job);
    assert_eq!(failure.failure_type, "JobFailed");
    assert!(
        failure
            .message
            .starts_with("The function's deadline came before every check finished"),
        "{}",
        failure.message
    );
    for expected in ["- health: not run: deadline", "- checkout: not run: deadline"] {
        assert!(
            failure.message.contains(expected),
            "{expected:?} not in {}",
            failure.message
        );
    }
    let reported_after = (job.reports[0].at - job.created).to_std().unwrap();
    assert!(
        reported_after < timeout,
        "reported {reported_after:?} after the job was created"
    );
    assert!(
        !has_log(&run.runner, "Task timed out"),
        "the function answered before Lambda's timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_target_passes_with_retries() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/flaky", TargetMode::FailFirst(2));
    let parameters = suite(
        &target,
        r#""consecutive_failures_to_fail": 3, "retry_delay_ms": 100, "#,
        r#"{"name": "flaky", "url": "/flaky"}, {"name": "health", "url": "/health"}"#,
    );
    let run = play(&parameters, Duration::from_secs(30), &[]).await;

    assert_eq!(
        run.played.status,
        Status::Succeeded,
        "{}",
        run.timeline.lines().join("\n")
    );
    let success = succeeded(run.only_job());
    assert_eq!(success.output_variables["passed"], "2");
    assert_eq!(target.requests_to("/flaky"), 3, "two failures, then a pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_consecutive_failures_fail_the_check() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/flaky", TargetMode::FailFirst(3));
    let parameters = suite(
        &target,
        r#""consecutive_failures_to_fail": 3, "retry_delay_ms": 100, "#,
        r#"{"name": "flaky", "url": "/flaky"}, {"name": "health", "url": "/health"}"#,
    );
    let run = play(&parameters, Duration::from_secs(30), &[]).await;

    assert_eq!(run.played.status, Status::Failed);
    let failure = failed(run.only_job());
    assert!(
        failure
            .message
            .contains("- flaky (3 attempts): expected status 200, got 500"),
        "{}",
        failure.message
    );
    assert_eq!(
        target.requests_to("/flaky"),
        3,
        "it gave up after three consecutive failures"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soak_continues_across_invocations_to_one_verdict() {
    let target = TargetService::start().await.unwrap();
    let parameters = suite(
        &target,
        r#""soak": {"every_seconds": 1, "for_minutes": 0.15}, "timeout_ms": 500, "#,
        r#"{"name": "health", "url": "/health"}"#,
    )
    .replace(r#", "timeout_ms": 2000"#, "");
    // A 4 s function keeps 2 s to report: about two rounds per invocation, so the 9 s soak needs several.
    let run = play(&parameters, Duration::from_secs(4), SOAK_ENV).await;

    assert_eq!(
        run.played.status,
        Status::Succeeded,
        "{}",
        run.timeline.lines().join("\n")
    );
    run.played.assert_no_timed_out_jobs();
    let jobs = run.jobs();
    assert!(
        jobs.len() >= 4,
        "at least three continuation invocations, got {} jobs",
        jobs.len()
    );
    let mut rounds_seen = 0;
    for (i, job) in jobs.iter().enumerate() {
        assert_eq!(job.sequence, i + 1);
        assert_eq!(job.reports.len(), 1, "one report per job");
        if i == 0 {
            assert_eq!(job.continuation_token, None);
            continue;
        }
        // Each continuation job carries the progress the previous one reported.
        let token = job
            .continuation_token
            .as_deref()
            .expect("a continuation carries the token");
        assert!(token.chars().count() <= MAX_TOKEN_CHARS);
        let signed = seal(PIPELINE, &job.execution_id, &parameters).open(token);
        let progress =
            Progress::decode(signed.expect("the token is signed for this soak")).expect("the runner's progress");
        assert_eq!(progress.run_id, jobs[0].id, "the soak keeps its first job's id");
        assert!(progress.rounds > rounds_seen, "every invocation makes progress");
        rounds_seen = progress.rounds;
        let previous = succeeded(jobs[i - 1]);
        assert_eq!(previous.continuation_token.as_deref(), Some(token));
        assert!(previous.output_variables.is_empty());
        assert!(previous.summary.as_deref().unwrap().starts_with("Soak running: "));
    }
    let last = succeeded(jobs.last().unwrap());
    assert_eq!(last.continuation_token, None, "the soak ends with one verdict");
    let summary = last.summary.as_deref().unwrap();
    assert!(summary.starts_with("Soak passed: "), "{summary}");
    let rounds: usize = last.output_variables["rounds"].parse().unwrap();
    // Rounds start a second after the previous one began: late starts (a busy machine) only mean fewer rounds.
    assert!((5..=9).contains(&rounds), "about 9 rounds in 9 s: {rounds}");
    assert_eq!(last.output_variables["failed_rounds"], "0");
    assert_eq!(target.requests(), rounds, "one check per round");
    assert_eq!(last.external_execution_id.as_deref(), Some(jobs[0].id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soak_fails_at_its_first_failed_round() {
    let target = TargetService::start().await.unwrap();
    // Every fifth request fails: round 5 of a one-check soak.
    target.set_mode(TargetMode::Flapping { fail_every: 5 });
    let parameters = suite(
        &target,
        r#""soak": {"every_seconds": 1, "for_minutes": 0.5}, "#,
        r#"{"name": "health", "url": "/health"}"#,
    );
    let run = play(&parameters, Duration::from_secs(4), SOAK_ENV).await;

    assert_eq!(run.played.status, Status::Failed);
    let jobs = run.jobs();
    let failure = failed(jobs.last().unwrap());
    assert_eq!(failure.failure_type, "JobFailed");
    assert!(
        failure
            .message
            .starts_with("Soak failed: 5 round(s), 1 failed (at most 0 may fail)"),
        "{}",
        failure.message
    );
    for expected in ["First failed round 5 at ", "health: expected status 200, got 500"] {
        assert!(
            failure.message.contains(expected),
            "{expected:?} not in {}",
            failure.message
        );
    }
    assert_eq!(target.requests(), 5, "no round after the verdict");
    assert_eq!(failure.external_execution_id.as_deref(), Some(jobs[0].id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_invocation_does_not_report_twice() {
    let target = TargetService::start().await.unwrap();
    let run = play(&suite(&target, "", THREE_CHECKS), Duration::from_secs(30), &[]).await;
    let job = run.only_job().clone();
    let event = job_event(&run.stack.sim.state.world(), &job.id).unwrap();
    let published = metrics(&run.stack).len();

    // Lambda's retry lands in the same warm container: answered from memory, nothing runs.
    let again = run.runner.invoke(event.clone()).await;
    let answer = again.outcome.expect_ok();
    assert_eq!(answer["status"], "already_settled", "{answer}");
    assert_eq!(target.requests(), 3, "the duplicate ran no checks");

    // A duplicate reaching a fresh container runs the checks, and CodePipeline says the job is settled.
    let other = run
        .stack
        .function_with_timeout("post-deploy-test-runner", &[], Duration::from_secs(30))
        .await
        .unwrap();
    let duplicate = other.invoke(event).await;
    let answer = duplicate.outcome.expect_ok();
    assert_eq!(answer["status"], "already_settled", "{answer}");
    assert!(
        answer["reason"].as_str().unwrap().contains("InvalidJobStateException"),
        "{answer}"
    );
    assert_no_credentials_logged(&run.stack, &other);

    let reports = run.job_now(&job.id).reports;
    let accepted: Vec<_> = reports.iter().filter(|r| r.error.is_none()).collect();
    assert_eq!(accepted.len(), 1, "one report took: {reports:?}");
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[1].error.as_deref(), Some("InvalidJobStateException"));
    assert!(matches!(run.job_now(&job.id).state, JobState::Succeeded(_)));
    assert_eq!(metrics(&run.stack).len(), published, "a duplicate publishes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_readable_from_the_simulator() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/search", TargetMode::Failing);
    let run = play(&suite(&target, "", THREE_CHECKS), Duration::from_secs(30), &[]).await;
    let job = run.only_job();
    // The labels are the job's real pipeline and stage, as GetJobDetails tells them.
    assert_eq!(
        job_details_labels(&run.stack, &job.id).await,
        (PIPELINE.to_owned(), TEST_STAGE.to_owned())
    );
    assert!(
        !has_log(&run.runner, "job context unavailable"),
        "{:#?}",
        run.runner.logs()
    );

    let shown = metrics(&run.stack);
    let run_dims = format!("Pipeline={PIPELINE},Stage={TEST_STAGE}");
    for expected in [
        format!("Success[{run_dims}] 0"),
        format!("Passed[{run_dims}] 2"),
        format!("Failed[{run_dims}] 1"),
        format!("Success[{run_dims},Check=health] 1"),
        format!("Success[{run_dims},Check=checkout] 1"),
        format!("Success[{run_dims},Check=search] 0"),
    ] {
        assert!(shown.contains(&expected), "{expected} not among {shown:#?}");
    }
    for name in ["", ",Check=health", ",Check=checkout", ",Check=search"] {
        let prefix = format!("Latency[{run_dims}{name}] ");
        assert!(
            shown.iter().any(|m| m.starts_with(&prefix)),
            "{prefix} not among {shown:#?}"
        );
    }
    let datums = run.stack.sim.state.cloudwatch().metrics(NAMESPACE);
    let latency = datums.iter().find(|d| d.metric_name == "Latency").unwrap();
    assert_eq!(latency.unit.as_deref(), Some("Milliseconds"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_to_publish_metrics_does_not_change_the_verdict() {
    let target = TargetService::start().await.unwrap();
    let stack = stack().await;
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::CloudWatch, FaultKind::ServerError).on("PutMetricData"));
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let run = play_on(stack, runner, PIPELINE, &suite(&target, "", THREE_CHECKS)).await;

    assert_eq!(run.played.status, Status::Succeeded);
    succeeded(run.only_job());
    assert!(run.stack.sim.state.call_count(Service::CloudWatch, "PutMetricData") >= 1);
    assert!(has_log(&run.runner, "metrics not published; the job's result stands"));
}

#[test]
fn sample_events_are_jobs_the_runner_can_plan() {
    let sample = |name: &str| -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(name);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    };
    // The runner reads only the job id from an event; the rest stands for what GetJobDetails answers.
    let data = |event: &Value, pointer: &str| event["CodePipeline.job"]["data"].pointer(pointer).cloned();
    let parameters = |event: &Value| data(event, "/actionConfiguration/configuration/UserParameters").unwrap();
    // The continuation sample's soak started at 1795000000000 and ran its fifth round 4 min later: plan it 5 min in
    // (a token from a soak that started much earlier than its length allows is refused).
    let now = chrono::DateTime::from_timestamp(1_795_000_300, 0).unwrap();
    let key = TokenKey::from_hex(TOKEN_KEY).unwrap();
    let planned = |event: &Value, token: Option<&str>, seal: &Seal| {
        let raw = parameters(event);
        let raw = raw.as_str().unwrap();
        assert!(raw.chars().count() <= 1000);
        plan(Some(raw), token, &job_id(event).unwrap(), now, Some(seal))
    };

    let job = sample("post-deploy-test-runner.job.json");
    let any_seal = Seal::new(
        &key,
        &Scope {
            pipeline: "",
            stage: "",
            action: "",
            execution_id: "",
            user_parameters: "",
        },
    );
    let single = planned(&job, None, &any_seal).unwrap();
    assert!(matches!(single.source, SuiteSource::Inline(ref suite) if suite.checks.len() == 4));
    assert_eq!(single.mode, Mode::Single);

    // The continuation sample carries a soak's progress as earlier versions wrote it, unsigned: refused now, and
    // the same progress signed for the soak is read.
    let job = sample("post-deploy-test-runner.job-continuation.json");
    let unsigned = data(&job, "/continuationToken").unwrap();
    let unsigned = unsigned.as_str().unwrap();
    let soak_seal = seal("storefront", "exec-1", parameters(&job).as_str().unwrap());
    let refused = planned(&job, Some(unsigned), &soak_seal).unwrap_err();
    assert!(
        format!("{refused:?}").contains("the continuation token is not signed"),
        "{refused:?}"
    );
    let signed = soak_seal.sign(unsigned);
    let Mode::Soak { progress, soak, .. } = planned(&job, Some(&signed), &soak_seal).unwrap().mode else {
        panic!("the continuation sample is a soak")
    };
    assert_eq!((progress.rounds, soak.every), (5, Duration::from_secs(60)));
    assert_ne!(
        progress.run_id,
        job_id(&job).unwrap(),
        "a continuation job keeps the soak's first job id"
    );

    // The artifact sample names its suite file in one of its two input artifacts.
    let job = sample("post-deploy-test-runner.job-artifact.json");
    let SuiteSource::Artifact(file) = planned(&job, None, &any_seal).unwrap().source else {
        panic!("the artifact sample reads its suite from an artifact")
    };
    assert_eq!(
        (file.artifact.as_deref(), file.path.as_str()),
        (Some("BuildOutput"), "checks/smoke.json")
    );
    assert_eq!(data(&job, "/inputArtifacts").unwrap().as_array().unwrap().len(), 2);

    let scheduled = sample("synthetic-canary.scheduled.json");
    assert_eq!(scheduled["detail-type"], "Scheduled Event");
}

// ---- Suites from the action's input artifact ----

/// The Test action's input artifact in a `tested_pipeline`: the source action `Checkout`'s output.
const SOURCE_ARTIFACT: &str = "CheckoutArtifact";

/// A release of the tested pipeline `pipeline` whose artifacts (name, zip) the source and build actions upload.
fn release_with(pipeline: &str, artifacts: Vec<(&str, Vec<u8>)>) -> Release {
    artifacts
        .into_iter()
        .fold(samples::tested_release(pipeline), |release, (name, zip)| {
            release.with_artifact(name, zip)
        })
}

/// Plays a release whose source artifact holds `files`, the Test action running the runner with `parameters`.
async fn play_artifact(
    parameters: &str,
    files: &[(&str, &str)],
    runner_timeout: Duration,
    env: &[(&str, &str)],
) -> Run {
    let stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(env, runner_timeout)
        .await
        .expect("the runner starts");
    let pipeline = samples::tested_pipeline(PIPELINE, parameters, JOB_TIMEOUT);
    let release = release_with(PIPELINE, vec![(SOURCE_ARTIFACT, zip_artifact(files.iter().copied()))]);
    play_release(stack, runner, pipeline, release).await
}

/// Every job's artifact credentials were used (the simulated S3 answers no other keys) and none was logged.
fn assert_read_with_the_jobs_credentials(run: &Run) {
    let reads = run.stack.sim.state.call_count(Service::S3, "GetObject");
    assert!(reads >= run.jobs().len(), "{reads} reads for {} jobs", run.jobs().len());
    assert_no_credentials_logged(&run.stack, &run.runner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suite_from_the_input_artifact_passes_the_job() {
    let target = TargetService::start().await.unwrap();
    let suite_file = suite(&target, "", THREE_CHECKS);
    // At TRACE the SDK logs its requests and signing: the job's credentials must stay out even then.
    let run = play_artifact(
        r#"{"suite_from_artifact": "checks/smoke.json"}"#,
        &[("README.md", "# storefront"), ("checks/smoke.json", &suite_file)],
        Duration::from_secs(30),
        &[("RUST_LOG", "trace")],
    )
    .await;

    assert_eq!(
        run.played.status,
        Status::Succeeded,
        "{}",
        run.timeline.lines().join("\n")
    );
    let success = succeeded(run.only_job());
    let summary = success.summary.as_deref().unwrap();
    assert!(summary.starts_with("PASS: 3/3 checks passed"), "{summary}");
    assert_eq!(target.requests(), 3);
    assert_eq!(run.stack.sim.state.call_count(Service::S3, "GetObject"), 1);
    assert_read_with_the_jobs_credentials(&run);
    assert!(has_log(&run.runner, "suite read from the input artifact"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_several_input_artifacts_the_reference_names_one() {
    let target = TargetService::start().await.unwrap();
    let stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let suite_file = suite(&target, "", r#"{"name": "health", "url": "/health"}"#);
    let artifacts = || {
        vec![
            (SOURCE_ARTIFACT, zip_artifact([("README.md", "# storefront")])),
            (
                "BuildOutput",
                zip_artifact([("checks/smoke.json", suite_file.as_str())]),
            ),
        ]
    };
    // (pipeline, suite_from_artifact, how the job ends)
    let cases = [
        ("named", "BuildOutput::checks/smoke.json", Ok(())),
        (
            "unnamed",
            "checks/smoke.json",
            Err("the action has 2 input artifacts (CheckoutArtifact, BuildOutput): which one holds it?"),
        ),
        (
            "misnamed",
            "Build::checks/smoke.json",
            Err("names the artifact Build, but the action's input artifacts are CheckoutArtifact, BuildOutput"),
        ),
    ];
    let mut stack = stack;
    for (name, reference, expected) in cases {
        let parameters = format!(r#"{{"suite_from_artifact": "{reference}"}}"#);
        let mut pipeline = samples::tested_pipeline(name, &parameters, JOB_TIMEOUT);
        let test = &mut pipeline.stages[2].actions[0];
        *test = test.clone().with_input_artifacts(&[SOURCE_ARTIFACT, "BuildOutput"]);
        let run = play_release(stack, runner.clone(), pipeline, release_with(name, artifacts())).await;
        let job = run.only_job();
        match expected {
            Ok(()) => {
                assert_eq!(run.played.status, Status::Succeeded, "{reference}");
                assert_eq!(succeeded(job).output_variables["passed"], "1");
            }
            Err(text) => {
                let failure = failed(job);
                assert_eq!(failure.failure_type, "ConfigurationError", "{reference}");
                assert!(failure.message.contains(text), "{text:?} not in {}", failure.message);
                assert!(failure.message.contains("Fix: "), "{}", failure.message);
            }
        }
        stack = run.stack;
    }
    assert_eq!(target.requests(), 1, "only the named artifact's suite ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_suite_file_or_artifact_is_a_configuration_error_naming_it() {
    let mut stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let reference = r#"{"suite_from_artifact": "checks/smoke.json"}"#;
    let in_file = "checks/smoke.json in input artifact CheckoutArtifact: ";
    // (the source artifact's contents, or none uploaded; texts the message must carry)
    let cases: Vec<(Option<Vec<u8>>, Vec<&str>)> = vec![
        (
            Some(zip_artifact([(
                "checks/smoke.json",
                r#"{"checks": [{"name": "health", "url": "/health"}]}"#,
            )])),
            vec![
                in_file,
                "`checks[0].url` is a path, but the suite has no `base_url`",
                "Fix: set the suite's `base_url`",
            ],
        ),
        (
            Some(zip_artifact([("checks/smoke.json", "{\"checks\": [")])),
            vec![in_file, "`(suite)` is not valid JSON", "Fix: "],
        ),
        (
            Some(zip_artifact([
                ("README.md", "# storefront"),
                ("checks/other.json", "{}"),
            ])),
            vec![
                in_file,
                "no such file (the artifact holds README.md, checks/other.json)",
                "Fix: put the suite in the artifact at that path",
            ],
        ),
        (
            Some(b"this artifact is not a zip".to_vec()),
            vec![in_file, "the artifact is not a readable zip file", "Fix: "],
        ),
        (
            None,
            vec![
                "input artifact CheckoutArtifact (s3://codepipeline-us-east-1-123456789012/",
                "the artifact is not in the artifact store (S3 answered NoSuchKey",
                "Fix: run the release again",
            ],
        ),
    ];
    for (i, (contents, texts)) in cases.into_iter().enumerate() {
        let name = format!("artifact-bad-{i}");
        let pipeline = samples::tested_pipeline(&name, reference, JOB_TIMEOUT);
        let release = release_with(&name, contents.into_iter().map(|zip| (SOURCE_ARTIFACT, zip)).collect());
        let run = play_release(stack, runner.clone(), pipeline, release).await;
        assert_eq!(run.played.status, Status::Failed, "case {i}");
        let failure = failed(run.only_job());
        assert_eq!(
            failure.failure_type, "ConfigurationError",
            "case {i}: {}",
            failure.message
        );
        for text in texts {
            assert!(
                failure.message.contains(text),
                "case {i}: {text:?} not in {}",
                failure.message
            );
        }
        stack = run.stack;
    }
    assert_eq!(stack.sim.state.call_count(Service::S3, "GetObject"), 5);
    assert_eq!(stack.sim.state.cloudwatch().metrics(NAMESPACE).len(), 0, "nothing ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_failing_fails_the_job_and_never_passes_it() {
    let target = TargetService::start().await.unwrap();
    let stack = stack().await;
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::S3, FaultKind::ServerError).on("GetObject"));
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let suite_file = suite(&target, "", THREE_CHECKS);
    let pipeline = samples::tested_pipeline(PIPELINE, r#"{"suite_from_artifact": "checks/smoke.json"}"#, JOB_TIMEOUT);
    let release = release_with(
        PIPELINE,
        vec![(
            SOURCE_ARTIFACT,
            zip_artifact([("checks/smoke.json", suite_file.as_str())]),
        )],
    );
    let run = play_release(stack, runner, pipeline, release).await;

    assert_eq!(run.played.status, Status::Failed);
    run.played.assert_no_timed_out_jobs();
    let failure = failed(run.only_job());
    assert_eq!(failure.failure_type, "JobFailed");
    let message = &failure.message;
    assert!(
        message.starts_with("The suite could not be read from input artifact CheckoutArtifact (s3://"),
        "{message}"
    );
    assert!(message.contains("InternalError"), "{message}");
    assert_eq!(target.requests(), 0, "no suite, no checks");
    assert_eq!(
        run.stack.sim.state.call_count(Service::S3, "GetObject"),
        3,
        "the 5xx is tried three times in all"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soak_reads_its_suite_from_the_artifact_in_every_invocation() {
    let target = TargetService::start().await.unwrap();
    let suite_file = suite(
        &target,
        r#""timeout_ms": 500, "#,
        r#"{"name": "health", "url": "/health"}"#,
    )
    .replace(r#", "timeout_ms": 2000"#, "");
    // The suite is in the artifact; the soak settings stay in UserParameters.
    let parameters =
        r#"{"suite_from_artifact": "checks/smoke.json", "soak": {"every_seconds": 1, "for_minutes": 0.1}}"#;
    let run = play_artifact(
        parameters,
        &[("checks/smoke.json", &suite_file)],
        Duration::from_secs(4),
        SOAK_ENV,
    )
    .await;

    assert_eq!(
        run.played.status,
        Status::Succeeded,
        "{}",
        run.timeline.lines().join("\n")
    );
    let jobs = run.jobs();
    assert!(jobs.len() >= 2, "the soak spans invocations: {} jobs", jobs.len());
    assert_eq!(
        run.stack.sim.state.call_count(Service::S3, "GetObject"),
        jobs.len(),
        "one read of the artifact per invocation"
    );
    let last = succeeded(jobs.last().unwrap());
    assert!(last.summary.as_deref().unwrap().starts_with("Soak passed: "));
    assert_read_with_the_jobs_credentials(&run);
}

// ---- Whose job it is: the event is a hint, GetJobDetails says ----

/// A live job of the Test action of a new `pipeline` (its `FunctionName` being `function`) carrying `token`; its
/// id and execution.
fn live_job(
    stack: &Stack,
    pipeline: &str,
    parameters: &str,
    function: &str,
    token: Option<String>,
) -> (String, String) {
    let mut declared = samples::tested_pipeline(pipeline, parameters, JOB_TIMEOUT);
    let test = &mut declared.stages[2].actions[0];
    test.configuration.insert("FunctionName".into(), function.into());
    let mut world = stack.sim.state.world();
    world.put_pipeline(declared);
    let execution = world.start_execution(pipeline, Vec::new()).unwrap();
    world.start_action(&execution, TEST_STAGE, TEST_ACTION).unwrap();
    let job = world
        .create_job(&execution, TEST_STAGE, TEST_ACTION, token, JOB_TIMEOUT)
        .unwrap();
    (job, execution)
}

/// The job's event as CodePipeline sends it (the world's lock released before it is sent: the function reads it).
fn event_of(stack: &Stack, job: &str) -> Value {
    let world = stack.sim.state.world();
    job_event(&world, job).unwrap()
}

/// The job's event as CodePipeline sends it, then rewritten by a forger: this function named, and `parameters`.
fn forged_event(stack: &Stack, job: &str, parameters: &str) -> Value {
    let mut event = event_of(stack, job);
    let configuration = &mut event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"];
    configuration["FunctionName"] = json!(samples::RUNNER_FUNCTION);
    configuration["UserParameters"] = json!(parameters);
    event
}

/// The first line of the function's log holding `needle`, waiting a little for it: lines are captured from the
/// process's output apart from its answer, and may come just after it.
async fn log_line(host: &FunctionHost, needle: &str) -> Option<String> {
    for _ in 0..40 {
        if let Some(line) = host.logs().into_iter().find(|line| line.contains(needle)) {
            return Some(line);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

fn unreported(stack: &Stack, job: &str) {
    let world = stack.sim.state.world();
    let job = world.job(job).unwrap();
    assert_eq!(job.state, JobState::InProgress);
    assert!(job.reports.is_empty(), "{:?}", job.reports);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_event_for_another_functions_job_gets_no_result() {
    let target = TargetService::start().await.unwrap();
    let stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let passing = suite(&target, "", THREE_CHECKS);
    let (job, _) = live_job(&stack, "payments", "{}", "payments-deployer", None);

    let answer = runner.invoke(forged_event(&stack, &job, &passing)).await;
    let answer = answer.outcome.expect_ok();
    assert_eq!(answer["status"], "not_ours", "{answer}");
    unreported(&stack, &job);
    assert_eq!(target.requests(), 0, "nothing ran");
    let said = log_line(&runner, "not a job of this function")
        .await
        .unwrap_or_else(|| panic!("no log line says why nothing was reported: {:#?}", runner.logs()));
    assert!(
        said.contains(&job) && said.contains("names the function `payments-deployer`"),
        "{said}"
    );
    assert_no_credentials_logged(&stack, &runner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_job_details_failing_gets_no_result_and_fails_the_invocation() {
    let target = TargetService::start().await.unwrap();
    let stack = stack().await;
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::CodePipeline, FaultKind::ServerError).on("GetJobDetails"));
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let passing = suite(&target, "", THREE_CHECKS);
    let (job, _) = live_job(&stack, PIPELINE, &passing, samples::RUNNER_FUNCTION, None);

    let answer = runner.invoke(forged_event(&stack, &job, &passing)).await;
    let (error_type, message) = answer.outcome.expect_error();
    assert_eq!(error_type, "AwsCallFailed");
    assert!(message.contains("GetJobDetails") && message.contains(&job), "{message}");
    unreported(&stack, &job);
    assert_eq!(target.requests(), 0);
    assert!(
        log_line(&runner, "the job cannot be read: nothing reported")
            .await
            .is_some()
    );

    // Lambda's retry, once CodePipeline answers, answers the genuine job.
    stack.sim.state.faults.clear();
    let retry = runner.invoke(event_of(&stack, &job)).await;
    assert_eq!(retry.outcome.expect_ok()["status"], "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_event_runs_the_jobs_own_user_parameters() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/checkout", TargetMode::Failing);
    let stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let declared = suite(&target, "", THREE_CHECKS);
    let forged = suite(&target, "", r#"{"name": "anything", "url": "/forged"}"#);
    let (job, _) = live_job(&stack, PIPELINE, &declared, samples::RUNNER_FUNCTION, None);

    let answer = runner.invoke(forged_event(&stack, &job, &forged)).await;
    assert_eq!(answer.outcome.expect_ok()["status"], "failed");
    assert_eq!((target.requests_to("/forged"), target.requests()), (0, 3));
    let failure = failed(&stack.sim.state.world().job(&job).unwrap().clone()).clone();
    assert!(
        failure.message.contains("- checkout: expected status 200, got 500"),
        "{}",
        failure.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_continuation_token_fails_the_job() {
    let target = TargetService::start().await.unwrap();
    let stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(SOAK_ENV, Duration::from_secs(30))
        .await
        .unwrap();
    let parameters = suite(
        &target,
        r#""soak": {"every_seconds": 60, "for_minutes": 10, "max_failed_rounds": 1}, "#,
        r#"{"name": "health", "url": "/health"}"#,
    );
    // The token as the runner wrote it after one failed round, then rewritten to say the round passed.
    let (first, execution) = live_job(&stack, PIPELINE, &parameters, samples::RUNNER_FUNCTION, None);
    let started = chrono::Utc::now() - chrono::Duration::seconds(90);
    let mut progress = Progress::start(&first, started);
    progress.rounds = 1;
    progress.failed_rounds = 1;
    progress.last_round_at_ms = Some(progress.started_at_ms);
    let signed = seal(PIPELINE, &execution, &parameters).sign(&progress.encode());
    let tampered = signed.replace(r#""fr":1"#, r#""fr":0"#);
    let job = stack
        .sim
        .state
        .world()
        .create_job(&execution, TEST_STAGE, TEST_ACTION, Some(tampered), JOB_TIMEOUT)
        .unwrap();

    let answer = runner.invoke(event_of(&stack, &job)).await;
    assert_eq!(answer.outcome.expect_ok()["status"], "failed");
    let failure = failed(&stack.sim.state.world().job(&job).unwrap().clone()).clone();
    assert_eq!(failure.failure_type, "JobFailed");
    assert!(
        failure
            .message
            .starts_with("the continuation token's signature does not match"),
        "{}",
        failure.message
    );
    assert_eq!(target.requests(), 0, "no round on a token the runner did not write");
}

// ---- The reaper: a job whose runner died is failed, saying why ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_parked_in_the_on_failure_queue_is_reported_by_the_reaper() {
    let target = TargetService::start().await.unwrap();
    let stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let (job, _) = live_job(
        &stack,
        PIPELINE,
        &suite(&target, "", THREE_CHECKS),
        samples::RUNNER_FUNCTION,
        None,
    );
    // CodePipeline takes no report: every attempt fails, and Lambda parks the event.
    for operation in ["PutJobSuccessResult", "PutJobFailureResult"] {
        stack
            .sim
            .state
            .faults
            .inject(Fault::new(Service::CodePipeline, FaultKind::ServerError).on(operation));
    }
    let delivery = runner.invoke_async(event_of(&stack, &job)).await;
    assert!(delivery.dead_lettered, "{delivery:?}");
    let (error_type, _) = delivery.attempts.last().unwrap().outcome.expect_error();
    let error_type = error_type.to_owned();
    stack.sim.state.faults.clear();

    // The on-failure destination's record, as Lambda writes it, delivered by SQS.
    let record = json!({
        "version": "1.0",
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "requestContext": {"requestId": delivery.attempts[0].request_id,
            "functionArn": format!("arn:aws:lambda:{}:{}:function:{}:$LATEST", pipeline_sim::REGION,
                                   pipeline_sim::ACCOUNT, samples::RUNNER_FUNCTION),
            "condition": "RetriesExhausted", "approximateInvokeCount": delivery.attempts.len()},
        "requestPayload": runner.dead_letters()[0],
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": error_type, "errorMessage": "PutJobSuccessResult for job … failed"}
    });
    let batch = json!({"Records": [{"messageId": "m-1", "receiptHandle": "h-1", "body": record.to_string(),
        "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:runner-failed", "awsRegion": "us-east-1"}]});
    let reaper = stack
        .function(
            "job-reaper",
            &[
                ("RUNNER_FUNCTION_NAME", samples::RUNNER_FUNCTION),
                ("RUST_LOG", "trace"),
            ],
        )
        .await
        .expect("the reaper starts (built with the other binaries)");
    let answer = reaper.invoke(batch.clone()).await;
    assert_eq!(answer.outcome.expect_ok(), &json!({"batchItemFailures": []}));

    let failure = failed(&stack.sim.state.world().job(&job).unwrap().clone()).clone();
    assert_eq!(failure.failure_type, "JobFailed");
    assert!(
        failure.message.starts_with(&format!(
            "The post-deploy test runner's invocation failed after 3 attempt(s) (RetriesExhausted; Unhandled: {error_type})"
        )),
        "{}",
        failure.message
    );
    // The record again (SQS delivers at least once): the job is settled, nothing more happens.
    let again = reaper.invoke(batch).await;
    assert_eq!(again.outcome.expect_ok(), &json!({"batchItemFailures": []}));
    assert_no_credentials_logged(&stack, &reaper);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_job_answer_carrying_credentials_leaks_nothing_and_reports_nothing() {
    let target = TargetService::start().await.unwrap();
    let stack = stack().await;
    let runner = stack
        .post_deploy_test_runner(&[], Duration::from_secs(30))
        .await
        .unwrap();
    let passing = suite(&target, "", THREE_CHECKS);
    let (job, _) = live_job(&stack, PIPELINE, &passing, samples::RUNNER_FUNCTION, None);
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYLEAKEDKEY";
    // The job's own answer, cut off mid-way: the SDK cannot read it, and it carries the artifact credentials.
    let body = format!(
        "{{\"jobDetails\": {{\"id\": \"{job}\", \"data\": {{\"artifactCredentials\": {{\"accessKeyId\": \"AKIA\", \
         \"secretAccessKey\": \"{secret}\", \"sessionToken\": "
    );
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::CodePipeline, FaultKind::Malformed(body)).on("GetJobDetails"));

    let answer = runner.invoke(event_of(&stack, &job)).await;
    let (error_type, message) = answer.outcome.expect_error();
    assert_eq!(error_type, "AwsCallFailed");
    assert!(message.contains("could not be read"), "{message}");
    unreported(&stack, &job);
    assert_eq!(target.requests(), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for place in runner.logs().iter().chain([message.to_owned()].iter()) {
        assert!(!place.contains(secret), "the credentials leaked into: {place}");
    }
    assert_no_credentials_logged(&stack, &runner);
}
