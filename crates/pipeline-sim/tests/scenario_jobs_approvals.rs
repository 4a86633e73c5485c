//! Lambda Invoke jobs and Manual approvals played through the simulator with real function binaries: the
//! example job worker (`examples/job_worker.rs`) and approver (`examples/approver.rs`) parse their events with
//! aws_lambda_events and answer through aws-sdk-codepipeline, as the hooks will.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::codepipeline_job::CodePipelineJobEvent;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sns::SnsEventObj;
use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::types::{ActionExecutionFilter, ActionExecutionStatus, ApprovalResult};
use pipeline_sim::codepipeline::approvals::CONSOLE_USER;
use pipeline_sim::codepipeline::jobs::job_event;
use pipeline_sim::eventbridge::{ACTION_DETAIL_TYPE, PIPELINE_DETAIL_TYPE, STAGE_DETAIL_TYPE};
use pipeline_sim::lambda::FunctionHost;
use pipeline_sim::model::{
    ActionDecl, ActionType, ApprovalState, ApprovalStatus, ArtifactRevision, DecidedBy, JobState, Pipeline, StageDecl,
    Status,
};
use pipeline_sim::scenario::{Played, Release, Timeline};
use pipeline_sim::sns::topic_arn;
use pipeline_sim::stack::Stack;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

mod support;

const COMMIT: &str = "3c1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";
const WORKER: &str = "job_worker";
const APPROVER: &str = "approver";

async fn stack() -> Stack {
    let stack = Stack::start(&support::examples_dir())
        .await
        .expect("the simulator starts");
    stack.set_job_timeout(Duration::from_secs(20));
    stack
}

async fn client(stack: &Stack) -> Client {
    Client::new(&support::sdk_config(&stack.sim, Duration::from_secs(10)).await)
}

/// Source (CodeCommit) → `middle` → Deploy (CodeDeploy).
fn put_pipeline(stack: &Stack, name: &str, middle: StageDecl) {
    let pipeline = Pipeline::new(
        name,
        vec![
            StageDecl::single(
                "Source",
                ActionDecl::new("Source", ActionType::aws("Source", "CodeCommit")).with_config("RepositoryName", name),
            ),
            middle,
            StageDecl::single(
                "Deploy",
                ActionDecl::new("Deploy", ActionType::aws("Deploy", "CodeDeploy")).with_config("ApplicationName", name),
            ),
        ],
    );
    stack.sim.state.world().put_pipeline(pipeline);
}

fn release(pipeline: &str) -> Release {
    Release::new(
        pipeline,
        ArtifactRevision {
            name: "SourceArtifact".into(),
            revision_id: COMMIT.into(),
            revision_summary: Some("Make checkout faster".into()),
            revision_url: None,
        },
    )
}

fn has_line(timeline: &Timeline, needle: &str) -> bool {
    timeline.lines().iter().any(|l| l.contains(needle))
}

fn assert_line(timeline: &Timeline, needle: &str) {
    assert!(
        has_line(timeline, needle),
        "no timeline line contains {needle:?}:\n{}",
        timeline.lines().join("\n")
    );
}

fn action_states<'p>(played: &'p Played, action: &str) -> Vec<&'p str> {
    played
        .events_of(ACTION_DETAIL_TYPE, "STARTED")
        .into_iter()
        .chain(played.events_of(ACTION_DETAIL_TYPE, "SUCCEEDED"))
        .chain(played.events_of(ACTION_DETAIL_TYPE, "FAILED"))
        .filter(|e| e["detail"]["action"] == action)
        .map(|e| e["detail"]["state"].as_str().unwrap())
        .collect()
}

// ---- Jobs ----

/// A pipeline whose Test stage has one Invoke action, `Smoke`, calling `smoke-tests` with these parameters,
/// played with the example job worker registered as `smoke-tests`.
async fn play_job(parameters: Value, job_timeout: Option<Duration>) -> (Stack, Arc<FunctionHost>, Played, Timeline) {
    let stack = stack().await;
    let pipeline = "jobs-app";
    let smoke = ActionDecl::new("Smoke", ActionType::lambda_invoke())
        .with_config("FunctionName", "smoke-tests")
        .with_config("UserParameters", &parameters.to_string());
    put_pipeline(&stack, pipeline, StageDecl::single("Test", smoke));
    let worker = stack.function(WORKER, &[]).await.expect("job worker starts");
    stack.register_lambda("smoke-tests", worker.clone());
    if let Some(timeout) = job_timeout {
        stack.set_job_timeout(timeout);
    }
    let timeline = Timeline::new(false);
    let played = stack
        .play(&release(pipeline), &timeline)
        .await
        .expect("the release plays");
    (stack, worker, played, timeline)
}

fn assert_no_credentials_in(lines: &[String], played: &Played) {
    for job in &played.jobs {
        let secrets = [
            &job.credentials.access_key_id,
            &job.credentials.secret_access_key,
            &job.credentials.session_token,
        ];
        for line in lines {
            for secret in secrets {
                assert!(
                    !line.contains(secret.as_str()),
                    "a log line carries artifact credentials: {line}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_succeeds_settles_the_action_with_its_output_variables() {
    let parameters = json!({
        "report": "success",
        "summary": "12 checks passed",
        "outputVariables": { "passed": "12", "failed": "0" },
    });
    let (stack, worker, played, timeline) = play_job(parameters, None).await;
    assert_eq!(played.status, Status::Succeeded, "{}", timeline.lines().join("\n"));
    played.assert_no_timed_out_jobs();
    assert_eq!(action_states(&played, "Smoke"), ["STARTED", "SUCCEEDED"]);

    let jobs = played.jobs_of("Test", "Smoke");
    let [job] = jobs.as_slice() else {
        panic!("one job expected")
    };
    assert_eq!((job.sequence, job.continuation_token.as_deref()), (1, None));
    assert_eq!(job.function_name, "smoke-tests");
    assert_eq!(job.reports.len(), 1);
    assert_eq!(job.reports[0].operation, "PutJobSuccessResult");
    assert_eq!(job.reports[0].error, None);
    assert_line(&timeline, "job 1 of Test › Smoke: invoking job_worker");
    assert_line(
        &timeline,
        "job 1 of Test › Smoke: succeeded: 12 checks passed (output variables: failed, passed)",
    );

    // The event the worker got parses with the real type and carries the action's configuration and artifacts.
    let event = job_event(&stack.sim.state.world(), &job.id).expect("the job's event");
    let parsed: CodePipelineJobEvent = serde_json::from_value(event.clone()).expect("parses as CodePipelineJobEvent");
    let parsed = parsed.code_pipeline_job;
    assert_eq!(parsed.id.as_deref(), Some(job.id.as_str()));
    assert_eq!(parsed.account_id.as_deref(), Some(pipeline_sim::ACCOUNT));
    let config = &parsed.data.action_configuration.configuration;
    assert_eq!(config.function_name.as_deref(), Some("smoke-tests"));
    assert!(config.user_parameters.as_deref().unwrap().contains("12 checks passed"));
    let [input] = parsed.data.input_artifacts.as_slice() else {
        panic!("one input artifact")
    };
    assert_eq!(input.name.as_deref(), Some("SourceArtifact"));
    assert_eq!(input.revision.as_deref(), Some(COMMIT));
    assert_eq!(input.location.location_type.as_deref(), Some("S3"));
    assert!(
        input
            .location
            .s3_location
            .bucket_name
            .as_deref()
            .unwrap()
            .starts_with("codepipeline-us-east-1-")
    );
    assert!(
        input
            .location
            .s3_location
            .object_key
            .as_deref()
            .unwrap()
            .starts_with("jobs-app/SourceArtifact/")
    );
    assert!(parsed.data.out_put_artifacts.is_empty());
    assert_eq!(parsed.data.continuation_token, None);
    let credentials = &parsed.data.artifact_credentials;
    assert_eq!(
        credentials.access_key_id.as_deref(),
        Some(job.credentials.access_key_id.as_str())
    );
    assert!(
        event
            .pointer("/CodePipeline.job/data/artifactCredentials/expirationTime")
            .unwrap()
            .is_i64()
    );

    // The output variables reach ListActionExecutions, as later actions would see them.
    let out = client(&stack)
        .await
        .list_action_executions()
        .pipeline_name("jobs-app")
        .filter(
            ActionExecutionFilter::builder()
                .pipeline_execution_id(&played.execution_id)
                .build(),
        )
        .send()
        .await
        .expect("ListActionExecutions");
    let smoke = out
        .action_execution_details()
        .iter()
        .find(|d| d.action_name() == Some("Smoke"))
        .expect("the Smoke run");
    assert_eq!(smoke.status(), Some(&ActionExecutionStatus::Succeeded));
    let output = smoke.output().expect("output");
    let variables = output.output_variables().expect("output variables");
    assert_eq!(variables.get("passed").map(String::as_str), Some("12"));
    assert_eq!(variables.get("failed").map(String::as_str), Some("0"));
    let result = output.execution_result().expect("execution result");
    assert_eq!(result.external_execution_summary(), Some("12 checks passed"));

    // Artifact credentials appear in no log: neither the timeline nor the function's.
    assert_no_credentials_in(&timeline.lines(), &played);
    assert_no_credentials_in(&worker.logs(), &played);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_fails_fails_the_action_with_its_details() {
    let message = "2 of 12 checks failed: GET /health answered 500, expected 200";
    let parameters = json!({
        "report": "failure", "type": "JobFailed", "message": message, "externalExecutionId": "smoke-run-42",
    });
    let (stack, _worker, played, timeline) = play_job(parameters, None).await;
    assert_eq!(played.status, Status::Failed);
    assert_eq!(action_states(&played, "Smoke"), ["STARTED", "FAILED"]);
    let failed = played.events_of(ACTION_DETAIL_TYPE, "FAILED")[0];
    assert_eq!(failed["detail"]["execution-result"]["error-code"], "JobFailed");
    assert_eq!(
        failed["detail"]["execution-result"]["external-execution-id"],
        "smoke-run-42"
    );
    assert_eq!(
        played.events_of(STAGE_DETAIL_TYPE, "FAILED")[0]["detail"]["stage"],
        "Test"
    );
    assert_eq!(played.events_of(PIPELINE_DETAIL_TYPE, "FAILED").len(), 1);
    assert!(
        action_states(&played, "Deploy").is_empty(),
        "the pipeline stops at the failed job"
    );
    assert_line(
        &timeline,
        &format!("job 1 of Test › Smoke: failed (JobFailed): {message}"),
    );

    let job = &played.jobs[0];
    assert!(matches!(&job.state, JobState::Failed(f) if f.message == message));
    let state = client(&stack)
        .await
        .get_pipeline_state()
        .name("jobs-app")
        .send()
        .await
        .expect("GetPipelineState");
    let run = state.stage_states()[1].action_states()[0]
        .latest_execution()
        .expect("Smoke ran");
    assert_eq!(run.status(), Some(&ActionExecutionStatus::Failed));
    assert_eq!(run.external_execution_id(), Some("smoke-run-42"));
    let error = run.error_details().expect("error details");
    assert_eq!((error.code(), error.message()), (Some("JobFailed"), Some(message)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuation_tokens_chain_three_jobs_into_one_action() {
    let (_stack, worker, played, timeline) = play_job(json!({ "report": "continue", "rounds": 3 }), None).await;
    assert_eq!(played.status, Status::Succeeded, "{}", timeline.lines().join("\n"));
    played.assert_no_timed_out_jobs();
    let jobs = played.jobs_of("Test", "Smoke");
    let tokens: Vec<Option<&str>> = jobs.iter().map(|j| j.continuation_token.as_deref()).collect();
    assert_eq!(tokens, [None, Some("round-1"), Some("round-2")]);
    assert_eq!(jobs.iter().map(|j| j.sequence).collect::<Vec<_>>(), [1, 2, 3]);
    for job in &jobs {
        assert_eq!(job.reports.len(), 1, "each job reported once");
        assert_eq!(job.reports[0].error, None);
    }
    assert!(matches!(&jobs[0].state, JobState::Succeeded(s) if s.continuation_token.as_deref() == Some("round-1")));
    assert!(matches!(&jobs[2].state, JobState::Succeeded(s) if s.output_variables["rounds"] == "3"));
    assert_ne!(
        jobs[0].credentials, jobs[1].credentials,
        "every job gets fresh credentials"
    );
    // One action across the chain: one STARTED, one SUCCEEDED.
    assert_eq!(action_states(&played, "Smoke"), ["STARTED", "SUCCEEDED"]);
    assert_line(&timeline, "job 1 of Test › Smoke: continuation: round 1 of 3");
    assert_line(
        &timeline,
        "job 2 of Test › Smoke: invoking job_worker with the continuation token",
    );
    assert_line(&timeline, "job 3 of Test › Smoke: succeeded: all 3 rounds passed");
    assert_eq!(worker.invocation_count(), 3);
    assert_no_credentials_in(&timeline.lines(), &played);
    assert_no_credentials_in(&worker.logs(), &played);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_report_for_a_settled_job_gets_invalid_job_state() {
    let (stack, worker, played, _) = play_job(json!({ "report": "twice" }), None).await;
    assert_eq!(played.status, Status::Succeeded);
    let job = &played.jobs[0];
    let errors: Vec<Option<&str>> = job.reports.iter().map(|r| r.error.as_deref()).collect();
    assert_eq!(errors, [None, Some("InvalidJobStateException")]);
    assert!(
        worker
            .logs()
            .iter()
            .any(|l| l.contains(r#"answers ["ok", "InvalidJobStateException"]"#)),
        "{:#?}",
        worker.logs()
    );
    // An id no job has: JobNotFoundException.
    let err = client(&stack)
        .await
        .put_job_success_result()
        .job_id("ffffffff-ffff-4fff-8fff-ffffffffffff")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_job_not_found_exception(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_nobody_reports_times_out_fails_the_action_and_is_recorded() {
    // The clock times the release, not the first test of a run building the example functions (18 s after a
    // change to them, which failed this test).
    support::examples_dir();
    let started = Instant::now();
    let (stack, _worker, played, timeline) = play_job(json!({ "report": "none" }), Some(Duration::from_secs(1))).await;
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    assert_eq!(played.status, Status::Failed);
    let timed_out = played.timed_out_jobs();
    assert_eq!(timed_out.len(), 1);
    assert!(timed_out[0].reports.is_empty());
    assert_line(
        &timeline,
        "job 1 of Test › Smoke: job timed out: the function never reported within 1s",
    );
    let failed = played.events_of(ACTION_DETAIL_TYPE, "FAILED")[0];
    assert_eq!(failed["detail"]["action"], "Smoke");
    let message = stack
        .sim
        .state
        .world()
        .execution(&played.execution_id)
        .unwrap()
        .status_summary
        .clone();
    assert!(
        message
            .as_deref()
            .unwrap_or_default()
            .starts_with("job timed out: the function never reported"),
        "{message:?}"
    );
    // The test that caused it can fail loudly.
    let loud = std::panic::catch_unwind(AssertUnwindSafe(|| played.assert_no_timed_out_jobs()));
    let panic = loud.expect_err("a timed-out job makes the assertion panic");
    let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        text.contains("never reported") && text.contains("Test › Smoke"),
        "{text}"
    );

    // A report after the timeout is refused: the job is settled.
    let err = client(&stack)
        .await
        .put_job_success_result()
        .job_id(&timed_out[0].id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_job_state_exception(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoke_action_without_a_registered_function_fails_clearly() {
    let stack = stack().await;
    let smoke = ActionDecl::new("Smoke", ActionType::lambda_invoke()).with_config("FunctionName", "nobody");
    put_pipeline(&stack, "unwired", StageDecl::single("Test", smoke));
    let timeline = Timeline::new(false);
    let played = stack.play(&release("unwired"), &timeline).await.unwrap();
    assert_eq!(played.status, Status::Failed);
    assert_line(&timeline, "no Lambda function named nobody");
}

// ---- Approvals ----

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Notification {
    region: String,
    console_link: String,
    approval: Request,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Request {
    pipeline_name: String,
    stage_name: String,
    action_name: String,
    token: String,
    expires: String,
    external_entity_link: Option<String>,
    approval_review_link: String,
    custom_data: Option<String>,
}

const TOPIC: &str = "bake-approvals";

/// Source → Bake (a Manual approval `BakeTime` notifying [`TOPIC`] with this CustomData) → Deploy, with the example
/// approver subscribed to the topic and able to sweep the pipeline.
async fn approval_stack(custom_data: Value, timeout: Option<Duration>) -> (Stack, Arc<FunctionHost>) {
    let stack = stack().await;
    let mut bake = ActionDecl::new("BakeTime", ActionType::manual_approval())
        .with_config("NotificationArn", &topic_arn(TOPIC))
        .with_config("CustomData", &custom_data.to_string())
        .with_config("ExternalEntityLink", "https://dashboards.example.com/checkout");
    if let Some(timeout) = timeout {
        bake = bake.with_timeout(timeout);
    }
    put_pipeline(&stack, "bake-app", StageDecl::single("Bake", bake));
    let env = [
        ("APPROVER_TOPIC_ARN", topic_arn(TOPIC)),
        ("APPROVER_PIPELINES", "bake-app".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let approver = stack.function(APPROVER, &env).await.expect("approver starts");
    stack.subscribe_topic(&topic_arn(TOPIC), approver.clone());
    (stack, approver)
}

async fn play_bake(stack: &Stack) -> (Played, Timeline) {
    let timeline = Timeline::new(false);
    let played = stack
        .play(&release("bake-app"), &timeline)
        .await
        .expect("the release plays");
    (played, timeline)
}

fn decided(played: &Played) -> (ApprovalStatus, DecidedBy, String) {
    match &played.approvals[0].state {
        ApprovalState::Decided {
            status, by, summary, ..
        } => (*status, by.clone(), summary.clone()),
        other => panic!("the approval is {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_approves_from_the_sns_notification() {
    let summary = "alarms stayed OK for the 10-minute bake";
    let (stack, _approver) = approval_stack(json!({ "onNotification": "approve", "summary": summary }), None).await;
    let (played, timeline) = play_bake(&stack).await;
    assert_eq!(played.status, Status::Succeeded, "{}", timeline.lines().join("\n"));
    assert_eq!(
        decided(&played),
        (ApprovalStatus::Approved, DecidedBy::Api, summary.to_owned())
    );
    assert_eq!(stack.sim.state.world().approval_answer_counts(), (1, 0));
    assert_eq!(action_states(&played, "BakeTime"), ["STARTED", "SUCCEEDED"]);
    assert_eq!(action_states(&played, "Deploy"), ["SUCCEEDED"]);
    assert_line(&timeline, "approval Bake › BakeTime pending (expires ");
    assert_line(&timeline, "SNS → approver");
    assert_line(&timeline, &format!("approved by approver: {summary}"));

    // The notification parses with the real SNS type, its message string into the documented request.
    let [notification] = played.notifications.as_slice() else {
        panic!("one notification")
    };
    let [(target, event)] = notification.events.as_slice() else {
        panic!("one subscriber")
    };
    assert_eq!(target, APPROVER);
    let parsed: SnsEventObj<Notification> = serde_json::from_value(event.clone()).expect("parses as SnsEventObj");
    let record = &parsed.records[0];
    assert_eq!(
        (record.event_source.as_str(), record.event_version.as_str()),
        ("aws:sns", "1.0")
    );
    assert!(
        record
            .event_subscription_arn
            .starts_with(&format!("{}:", topic_arn(TOPIC)))
    );
    let sns = &record.sns;
    assert_eq!(sns.sns_message_type, "Notification");
    assert_eq!(sns.topic_arn, topic_arn(TOPIC));
    assert_eq!(
        sns.subject.as_deref(),
        Some("APPROVAL NEEDED: AWS CodePipeline bake-app for action BakeTime")
    );
    assert!(sns.message_attributes.is_empty());
    let message = &sns.message;
    assert_eq!(message.region, "us-east-1");
    assert!(message.console_link.ends_with("#/view/bake-app"));
    let request = &message.approval;
    assert_eq!(
        (
            request.pipeline_name.as_str(),
            request.stage_name.as_str(),
            request.action_name.as_str()
        ),
        ("bake-app", "Bake", "BakeTime")
    );
    assert_eq!(request.token, played.approvals[0].token);
    assert!(
        chrono::NaiveDateTime::parse_from_str(&request.expires, "%Y-%m-%dT%H:%MZ").is_ok(),
        "expires {:?} has minutes and no seconds",
        request.expires
    );
    assert!(
        request
            .approval_review_link
            .ends_with(&format!("/Bake/BakeTime/approve/{}", request.token))
    );
    assert_eq!(
        request.external_entity_link.as_deref(),
        Some("https://dashboards.example.com/checkout")
    );
    assert!(request.custom_data.as_deref().unwrap().contains(summary));
    // The raw record carries the Lambda-style member names.
    assert!(event.pointer("/Records/0/Sns/SigningCertUrl").is_some());
    assert!(event.pointer("/Records/0/Sns/UnsubscribeUrl").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_fails_the_action_and_stops_the_execution() {
    let summary = "alarm checkout-5xx is in ALARM";
    let (stack, _approver) = approval_stack(json!({ "onNotification": "reject", "summary": summary }), None).await;
    let (played, timeline) = play_bake(&stack).await;
    assert_eq!(played.status, Status::Failed);
    assert_eq!(decided(&played).0, ApprovalStatus::Rejected);
    assert_eq!(action_states(&played, "BakeTime"), ["STARTED", "FAILED"]);
    assert!(action_states(&played, "Deploy").is_empty());
    assert_eq!(played.events_of(PIPELINE_DETAIL_TYPE, "FAILED").len(), 1);
    assert_line(&timeline, &format!("rejected by approver: {summary}"));
    let failed = played.events_of(ACTION_DETAIL_TYPE, "FAILED")[0];
    assert_eq!(
        failed["detail"]["execution-result"]["external-execution-summary"],
        summary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_token_is_refused_when_the_notification_arrives_again() {
    let (stack, approver) = approval_stack(json!({ "onNotification": "approve" }), None).await;
    let (played, _) = play_bake(&stack).await;
    assert_eq!(played.status, Status::Succeeded);
    // SNS delivers at least once: the same record again gets the modeled error, and nothing changes.
    let event = played.notifications[0].events[0].1.clone();
    let again = approver.invoke_async(event).await;
    let answer = again.attempts[0].outcome.expect_ok();
    assert_eq!(
        answer["decisions"][0]["answer"], "InvalidApprovalTokenException",
        "{answer}"
    );
    assert_eq!(stack.sim.state.world().approval_answer_counts(), (1, 1));
    assert_eq!(decided(&played).1, DecidedBy::Api);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_approval_fails_the_action_and_its_token() {
    let (stack, _approver) = approval_stack(json!({ "onNotification": "hold" }), Some(Duration::from_secs(1))).await;
    let started = Instant::now();
    let (played, timeline) = play_bake(&stack).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(played.status, Status::Failed);
    assert!(matches!(played.approvals[0].state, ApprovalState::Expired { .. }));
    assert_line(&timeline, "approval Bake › BakeTime expired at ");
    let failed = played.events_of(ACTION_DETAIL_TYPE, "FAILED")[0];
    assert_eq!(failed["detail"]["action"], "BakeTime");

    let result = ApprovalResult::builder()
        .status(aws_sdk_codepipeline::types::ApprovalStatus::Approved)
        .summary("too late")
        .build()
        .unwrap();
    let err = client(&stack)
        .await
        .put_approval_result()
        .pipeline_name("bake-app")
        .stage_name("Bake")
        .action_name("BakeTime")
        .token(&played.approvals[0].token)
        .result(result)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_approval_token_exception(), "{err:?}");
    let person = stack
        .sim
        .approve_as_person("bake-app", "Bake", "BakeTime", ApprovalStatus::Approved, "too late");
    assert_eq!(person.unwrap_err().code, "InvalidApprovalTokenException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_approves_first_leaves_the_function_a_modeled_error() {
    let policy = json!({ "onNotification": "approve", "delayMs": 1500, "summary": "the bake passed" });
    let (stack, approver) = approval_stack(policy, None).await;
    let person = async {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let decided = stack.sim.approve_as_person(
                "bake-app",
                "Bake",
                "BakeTime",
                ApprovalStatus::Approved,
                "looks good, shipping it",
            );
            if decided.is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "the approval never became pending");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let ((played, timeline), ()) = tokio::join!(play_bake(&stack), person);
    assert_eq!(played.status, Status::Succeeded);
    let (status, by, summary) = decided(&played);
    assert_eq!(
        (status, summary.as_str()),
        (ApprovalStatus::Approved, "looks good, shipping it")
    );
    assert_eq!(by, DecidedBy::Person(CONSOLE_USER.into()));
    assert_line(
        &timeline,
        &format!("approved by {CONSOLE_USER} (console): looks good, shipping it"),
    );
    // The function answered afterwards with the token it was sent: the modeled "already decided" error.
    assert_line(&timeline, "ApprovalAlreadyCompletedException");
    assert!(
        approver
            .logs()
            .iter()
            .any(|l| l.contains("already decided or refused: ApprovalAlreadyCompletedException"))
    );
    assert_eq!(stack.sim.state.world().approval_answer_counts(), (0, 1));

    let state = client(&stack)
        .await
        .get_pipeline_state()
        .name("bake-app")
        .send()
        .await
        .unwrap();
    let run = state.stage_states()[1].action_states()[0].latest_execution().unwrap();
    assert_eq!(run.status(), Some(&ActionExecutionStatus::Succeeded));
    assert_eq!(run.token(), None, "a decided approval shows no token");
    assert_eq!(
        run.last_updated_by(),
        Some(format!("arn:aws:iam::{}:user/{CONSOLE_USER}", pipeline_sim::ACCOUNT).as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sweep_approves_a_held_approval_while_the_release_plays() {
    let policy = json!({ "onNotification": "hold", "onSweep": "approve", "summary": "bake complete" });
    let (stack, approver) = approval_stack(policy, None).await;
    let sweeps = stack.start_sweeps(approver.clone(), Duration::from_millis(300));
    let (played, timeline) = play_bake(&stack).await;
    assert_eq!(played.status, Status::Succeeded, "{}", timeline.lines().join("\n"));
    assert_eq!(
        decided(&played),
        (ApprovalStatus::Approved, DecidedBy::Api, "bake complete".into())
    );
    assert_line(&timeline, r#""decision":"hold""#);
    assert_line(&timeline, "approved by approver: bake complete");
    let deadline = Instant::now() + Duration::from_secs(5);
    while sweeps.count() == 0 {
        assert!(Instant::now() < deadline, "no sweep completed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sweeps.stop();
    assert_eq!(stack.sim.state.world().approval_answer_counts(), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_invokes_the_function_with_a_scheduled_event() {
    let stack = stack().await;
    let echo = stack.function("echo_function", &[]).await.unwrap();
    let delivery = stack.sweep(&echo).await;
    assert_eq!(delivery.attempts.len(), 1);
    let answer = delivery.attempts[0].outcome.expect_ok();
    let event: EventBridgeEvent = serde_json::from_value(answer["echo"].clone()).expect("parses as EventBridgeEvent");
    assert_eq!(event.detail_type, "Scheduled Event");
    assert_eq!(event.source, "aws.events");
    assert_eq!(event.version.as_deref(), Some("0"));
    assert_eq!(event.account.as_deref(), Some(pipeline_sim::ACCOUNT));
    assert_eq!(event.region.as_deref(), Some("us-east-1"));
    assert!(event.time.is_some() && event.id.is_some());
    assert_eq!(
        event.resources,
        Some(vec![format!(
            "arn:aws:events:us-east-1:{}:rule/echo_function-sweep",
            pipeline_sim::ACCOUNT
        )])
    );
    assert_eq!(event.detail, json!({}));
}
