//! The failure-notifier binary, run through the simulator's Lambda Runtime API, with the real SDK talking
//! to the simulated CodePipeline and Secrets Manager and the real HTTP client posting to the Slack sink.

use std::time::{Duration, Instant};

use e2e_tests::stack;
use pipeline_sim::eventbridge::{ACTION_DETAIL_TYPE, EventPattern};
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::lambda::Outcome;
use pipeline_sim::samples;
use pipeline_sim::scenario::{Timeline, play};
use pipeline_sim::slack::SlackReply;
use pipeline_sim::stack::DEFAULT_ROUTE;
use serde_json::{Value, json};

fn blocks_text(body: &Value) -> String {
    body["blocks"].to_string()
}

/// The action-level FAILED event of a release whose build failed. Call it before subscribing a function:
/// it plays the release through the bus.
async fn failed_action_event(stack: &pipeline_sim::stack::Stack) -> Value {
    let played = play(
        &stack.sim,
        &stack.bus,
        &samples::failing_build_release(),
        &Timeline::new(false),
    )
    .await
    .expect("the sample release plays");
    played.events_of(ACTION_DETAIL_TYPE, "FAILED")[0].clone()
}

fn assert_no_secret_in_logs(logs: &[String], secret: &str) {
    assert!(!logs.is_empty(), "the function logged nothing at all");
    for line in logs {
        assert!(!line.contains(secret), "a log line carries the webhook URL: {line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_codebuild_failure_becomes_one_complete_message() {
    let stack = stack().await;
    let notifier = stack.failure_notifier(&[("RUST_LOG", "debug")]).await.unwrap();
    let played = play(
        &stack.sim,
        &stack.bus,
        &samples::failing_build_release(),
        &Timeline::new(false),
    )
    .await
    .unwrap();

    let messages = stack.sim.state.slack.messages_for(DEFAULT_ROUTE);
    assert_eq!(messages.len(), 1, "one failure, one message");
    let body = &messages[0].body;
    let blocks = blocks_text(body);
    let execution_url = format!(
        "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/demo-app/executions/{}/timeline?region=us-east-1",
        played.execution_id
    );
    for expected in [
        "demo-app failed at Build › Compile",
        "CodeBuild",
        "JobFailed",
        "3 tests failed in checkout::pricing",
        "4f9c2a1",
        "Speed up checkout by caching prices",
        "https://github.com/acme/demo-app/commit/4f9c2a1b7d3e5f60718293a4b5c6d7e8f9012345",
        execution_url.as_str(),
        "codebuild/projects/demo-app-build/build/demo-app-build:6a1f0c2e",
    ] {
        assert!(blocks.contains(expected), "message lacks {expected:?}: {blocks}");
    }
    assert!(
        !blocks.contains("unavailable"),
        "enrichment worked, so nothing is unavailable: {blocks}"
    );
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("demo-app failed at Build › Compile (JobFailed)"),
        "{text}"
    );
    assert_eq!(
        notifier.invocation_count(),
        1,
        "the rule delivers only the action-level FAILED event"
    );
    assert_no_secret_in_logs(&notifier.logs(), &stack.sim.slack_webhook_url(DEFAULT_ROUTE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_failed_events_of_one_failure_send_one_message() {
    let stack = stack().await;
    // Subscribe to every CodePipeline event, not just the template's filter: the function's own triage
    // must keep stage- and pipeline-level FAILED (and all non-FAILED) events quiet.
    let notifier = stack.function("failure-notifier", &[]).await.unwrap();
    stack
        .bus
        .subscribe("everything", EventPattern::all_codepipeline(), notifier.clone());
    let played = play(
        &stack.sim,
        &stack.bus,
        &samples::failing_build_release(),
        &Timeline::new(false),
    )
    .await
    .unwrap();

    let failed: Vec<_> = played
        .events
        .iter()
        .filter(|d| d.event["detail"]["state"] == "FAILED")
        .collect();
    assert_eq!(failed.len(), 3, "action, stage and pipeline FAILED events");
    assert_eq!(stack.sim.state.slack.messages().len(), 1);
    for delivered in &played.events {
        let (_, delivery) = &delivered.deliveries[0];
        let result = delivery.attempts[0].outcome.expect_ok();
        let is_action_failure =
            delivered.event["detail-type"] == ACTION_DETAIL_TYPE && delivered.event["detail"]["state"] == "FAILED";
        let expected = if is_action_failure { "notified" } else { "ignored" };
        assert_eq!(result["status"], expected, "{}", delivered.event);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_delivered_twice_posts_once() {
    let stack = stack().await;
    let event = failed_action_event(&stack).await;
    let notifier = stack.failure_notifier(&[]).await.unwrap();
    let first = notifier.invoke(event.clone()).await;
    let mut again = event;
    again["id"] = json!("a-new-event-id-for-the-same-failure");
    let second = notifier.invoke(again).await;
    assert!(
        matches!(&first.outcome, Outcome::Ok(v) if v["status"] == "notified"),
        "{:?}",
        first.outcome
    );
    assert!(
        matches!(&second.outcome, Outcome::Ok(v) if v["status"] == "duplicate"),
        "{:?}",
        second.outcome
    );
    assert_eq!(stack.sim.state.slack.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_waits_retry_after_then_delivers() {
    let stack = stack().await;
    let event = failed_action_event(&stack).await;
    let notifier = stack.failure_notifier(&[]).await.unwrap();
    stack
        .sim
        .state
        .slack
        .script(DEFAULT_ROUTE, [SlackReply::RateLimited { retry_after_secs: 1 }]);
    let started = Instant::now();
    let invocation = notifier.invoke(event).await;
    let result = invocation.outcome.expect_ok();
    assert_eq!(result["attempts"], 2);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
    assert_eq!(stack.sim.state.slack.attempts(DEFAULT_ROUTE), 2);
    assert_eq!(stack.sim.state.slack.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_back_off_then_deliver() {
    let stack = stack().await;
    let event = failed_action_event(&stack).await;
    let notifier = stack.failure_notifier(&[]).await.unwrap();
    stack
        .sim
        .state
        .slack
        .script(DEFAULT_ROUTE, [SlackReply::ServerError, SlackReply::ServerError]);
    let invocation = notifier.invoke(event).await;
    let result = invocation.outcome.expect_ok();
    assert_eq!(result["attempts"], 3);
    assert_eq!(stack.sim.state.slack.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_channel_fails_the_invocation_so_nothing_is_lost() {
    let stack = stack().await;
    let event = failed_action_event(&stack).await;
    let notifier = stack.failure_notifier(&[]).await.unwrap();
    stack
        .sim
        .state
        .slack
        .script(DEFAULT_ROUTE, std::iter::repeat_n(SlackReply::ChannelNotFound, 3));
    let delivery = notifier.invoke_async(event.clone()).await;

    assert_eq!(delivery.attempts.len(), 3, "Lambda's two async retries ran");
    for attempt in &delivery.attempts {
        let (error_type, error_message) = attempt.outcome.expect_error();
        assert_eq!(error_type, "SlackRejected");
        assert!(
            error_message.contains("HTTP 404 `channel_not_found`"),
            "{error_message}"
        );
        assert!(
            error_message.contains("default (secret codepipeline-hooks/slack/default)"),
            "{error_message}"
        );
    }
    assert!(
        delivery.dead_lettered,
        "after the retries the event waits in the dead-letter queue"
    );
    assert_eq!(notifier.dead_letters(), vec![event]);
    assert!(stack.sim.state.slack.messages().is_empty());
    assert_eq!(
        stack.sim.state.slack.attempts(DEFAULT_ROUTE),
        3,
        "a permanent error is not retried in-process"
    );
    assert_no_secret_in_logs(&notifier.logs(), &stack.sim.slack_webhook_url(DEFAULT_ROUTE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codepipeline_failing_still_yields_a_message() {
    let stack = stack().await;
    let event = failed_action_event(&stack).await;
    let notifier = stack.failure_notifier(&[]).await.unwrap();
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::CodePipeline, FaultKind::ServerError));
    let invocation = notifier.invoke(event).await;
    assert!(
        matches!(&invocation.outcome, Outcome::Ok(v) if v["status"] == "notified"),
        "{:?}",
        invocation.outcome
    );
    let messages = stack.sim.state.slack.messages();
    assert_eq!(messages.len(), 1);
    let blocks = blocks_text(&messages[0].body);
    assert!(blocks.contains("Some details were unavailable"), "{blocks}");
    assert!(
        blocks.contains("Build terminated with state: FAILED"),
        "the event's own summary is kept: {blocks}"
    );
    assert!(
        stack
            .sim
            .state
            .call_count(Service::CodePipeline, "GetPipelineExecution")
            >= 2,
        "the SDK retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_codepipeline_does_not_hold_the_message_back() {
    let stack = stack().await;
    let event = failed_action_event(&stack).await;
    let notifier = stack.failure_notifier(&[]).await.unwrap();
    let slow = FaultKind::Delay(Duration::from_secs(30));
    stack.sim.state.faults.inject(Fault::new(Service::CodePipeline, slow));
    let started = Instant::now();
    let invocation = notifier.invoke(event).await;
    assert!(
        matches!(&invocation.outcome, Outcome::Ok(v) if v["status"] == "notified"),
        "{:?}",
        invocation.outcome
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    let blocks = blocks_text(&stack.sim.state.slack.messages()[0].body);
    assert!(blocks.contains("unavailable"), "{blocks}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_are_clear_errors_with_no_message() {
    let stack = stack().await;
    let mut missing_execution = failed_action_event(&stack).await;
    let notifier = stack.failure_notifier(&[]).await.unwrap();
    missing_execution["detail"]
        .as_object_mut()
        .unwrap()
        .remove("execution-id");
    let cases = [
        (missing_execution, "execution-id"),
        (json!({"hello": "world"}), "source"),
        (json!([1, 2]), "source"),
    ];
    for (event, field) in cases {
        let invocation = notifier.invoke(event).await;
        let (error_type, error_message) = invocation.outcome.expect_error();
        assert_eq!(error_type, "MalformedEvent");
        assert!(error_message.contains(field), "{error_message}");
    }
    assert!(stack.sim.state.slack.messages().is_empty());
    assert_eq!(
        stack
            .sim
            .state
            .call_count(Service::CodePipeline, "GetPipelineExecution"),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_events_are_ignored_without_error() {
    let stack = stack().await;
    let mut succeeded = failed_action_event(&stack).await;
    let notifier = stack.failure_notifier(&[]).await.unwrap();
    succeeded["detail"]["state"] = json!("SUCCEEDED");
    let other = json!({"source": "aws.codebuild", "detail-type": "CodeBuild Build State Change", "detail": {}});
    for event in [succeeded, other] {
        let invocation = notifier.invoke(event).await;
        assert!(
            matches!(&invocation.outcome, Outcome::Ok(v) if v["status"] == "ignored"),
            "{:?}",
            invocation.outcome
        );
    }
    assert!(stack.sim.state.slack.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_route_to_their_team_channel() {
    let stack = stack().await;
    let payments_url = stack.sim.slack_webhook_url("T000/B999/payments");
    stack
        .sim
        .state
        .world()
        .put_secret("codepipeline-hooks/slack/payments", &payments_url);
    let routes = r#"[{"pipeline": "payments-*", "secret_id": "codepipeline-hooks/slack/payments"},
                     {"pipeline": "demo-*", "secret_id": "codepipeline-hooks/slack/payments"}]"#;
    let event = failed_action_event(&stack).await;
    let notifier = stack.failure_notifier(&[("SLACK_ROUTES", routes)]).await.unwrap();
    let invocation = notifier.invoke(event).await;
    assert!(
        matches!(&invocation.outcome, Outcome::Ok(v) if v["status"] == "notified"),
        "{:?}",
        invocation.outcome
    );
    assert_eq!(stack.sim.state.slack.messages_for("T000/B999/payments").len(), 1);
    assert!(stack.sim.state.slack.messages_for(DEFAULT_ROUTE).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_fails_the_invocation_and_names_it() {
    let stack = stack().await;
    let event = failed_action_event(&stack).await;
    let notifier = stack
        .failure_notifier(&[("SLACK_WEBHOOK_SECRET_ID", "codepipeline-hooks/slack/nope")])
        .await
        .unwrap();
    let invocation = notifier.invoke(event).await;
    let (error_type, error_message) = invocation.outcome.expect_error();
    assert_eq!(error_type, "SecretUnavailable");
    assert!(
        error_message.contains("codepipeline-hooks/slack/nope"),
        "{error_message}"
    );
    assert!(error_message.contains("ResourceNotFoundException"), "{error_message}");
}

/// A route naming an SNS topic: the failure goes there as one readable message (subject, plain text, attributes)
/// and nothing goes to Slack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_to_an_sns_topic_publishes_one_readable_message_per_failure() {
    let stack = stack().await;
    let topic = stack.sim.state.sns_topics().create_topic("demo-deploys");
    let routes = format!(r#"[{{"pipeline": "demo-*", "sns_topic_arn": "{topic}"}}]"#);
    // The same failure delivered twice, as EventBridge may: still one message.
    let event = failed_action_event(&stack).await;
    let notifier = stack
        .failure_notifier(&[("SLACK_ROUTES", routes.as_str())])
        .await
        .unwrap();
    for _ in 0..2 {
        let invocation = notifier.invoke(event.clone()).await;
        assert!(
            matches!(&invocation.outcome, Outcome::Ok(_)),
            "{:?}",
            invocation.outcome
        );
    }
    let published = stack.sim.state.sns_topics().published(&topic);
    assert_eq!(published.len(), 1, "one failure, one message");
    assert_eq!(
        published[0].subject.as_deref(),
        Some("demo-app failed at Build > Compile")
    );
    for expected in [
        "demo-app failed at Build › Compile",
        "Error code: JobFailed",
        "3 tests failed in checkout::pricing",
        "4f9c2a1 Speed up checkout by caching prices",
        "View the execution: https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/demo-app/executions/",
    ] {
        assert!(
            published[0].message.contains(expected),
            "{expected:?} not in {}",
            published[0].message
        );
    }
    assert_eq!(published[0].attributes["pipeline"].1, "demo-app");
    assert_eq!(published[0].attributes["kind"].1, "action-failed");
    assert!(stack.sim.state.slack.messages().is_empty(), "nothing went to Slack");
}

/// SNS throttles the first attempts: the notifier retries within its deadline and one message is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_publish_that_then_succeeds_is_one_message() {
    let stack = stack().await;
    let topic = stack.sim.state.sns_topics().create_topic("demo-deploys");
    let routes = format!(r#"[{{"pipeline": "*", "sns_topic_arn": "{topic}"}}]"#);
    let event = failed_action_event(&stack).await;
    let notifier = stack
        .failure_notifier(&[("SLACK_ROUTES", routes.as_str())])
        .await
        .unwrap();
    // More than the SDK's own three attempts: the notifier's backoff has to carry it through.
    stack
        .sim
        .state
        .faults
        .inject(Fault::new(Service::Sns, FaultKind::Throttle).on("Publish").times(4));
    let invocation = notifier.invoke(event).await;
    assert!(
        matches!(&invocation.outcome, Outcome::Ok(v) if v["status"] == "notified" && v["attempts"] == 2),
        "{:?}",
        invocation.outcome
    );
    assert_eq!(stack.sim.state.sns_topics().published(&topic).len(), 1);
    assert_eq!(stack.sim.state.call_count(Service::Sns, "Publish"), 5);
}
