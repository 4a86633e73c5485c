//! The blackday-gate binary through the simulator: a Manual approval publishes to SNS, the function reads its
//! calendar (inline from its settings, the pipeline's CustomData, or an .ics feed this test serves), answers through
//! the simulated CodePipeline and tells the Slack sink about holds. Real time throughout: periods end seconds ahead.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::{DateTime, Utc};
use e2e_tests::{ApprovalAction, stack, start_gate};
use pipeline_sim::lambda::{FunctionHost, Outcome};
use pipeline_sim::model::{ApprovalState, ApprovalStatus, DecidedBy, Status};
use pipeline_sim::samples::{SLACK_SECRET, revision};
use pipeline_sim::scenario::{Played, Release, Timeline};
use pipeline_sim::slack::SlackReply;
use pipeline_sim::sns::topic_arn;
use pipeline_sim::stack::{DEFAULT_ROUTE, Stack};
use serde_json::{Value, json};

const PIPELINE: &str = "storefront";
const STAGE: &str = "Release";
const ACTION: &str = "BlackDayGate";

/// The deployment's default calendar: one BlackDay, ten days ahead (so "next BlackDay" has something to name).
fn default_calendar() -> String {
    let board = Utc::now() + chrono::Duration::days(10);
    json!({"default": {"inline": {"timezone": "UTC", "blackouts": [{"name": "Board meeting",
        "once": {"from": wall_clock(board), "to": wall_clock(board + chrono::Duration::hours(3))}}]}}})
    .to_string()
}

/// A wall-clock time in UTC to the second, as the calendar's `once` takes it.
fn wall_clock(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// CustomData adding a one-off "Launch freeze" from an hour ago to `ends_in` from now, and when it ends (to the
/// second, as written).
fn freeze_until(ends_in: Duration, extra: &str) -> (String, DateTime<Utc>) {
    let now = Utc::now();
    let ends = wall_clock(now + chrono::Duration::from_std(ends_in).unwrap());
    let custom_data = format!(
        r#"{{"timezone": "UTC", "blackouts": [{{"name": "Launch freeze", "reason": "new checkout goes live", "once": {{"from": "{}", "to": "{ends}"}}}}]{extra}}}"#,
        wall_clock(now - chrono::Duration::hours(1)),
    );
    let ends_at = format!("{ends}Z").parse().unwrap();
    (custom_data, ends_at)
}

/// A stack with the gated pipeline and the gate subscribed to its topic.
async fn gate_stack(custom_data: &str, timeout: Duration, env: &[(&str, &str)]) -> (Stack, Arc<FunctionHost>) {
    let stack = stack().await;
    let approval = ApprovalAction {
        stage: STAGE,
        action: ACTION,
        topic_arn: &topic_arn("blackday-gate"),
        custom_data,
        timeout,
    };
    let calendars = default_calendar();
    let mut settings = vec![
        ("BLACKDAY_CALENDARS", calendars.as_str()),
        ("SLACK_WEBHOOK_SECRET_ID", SLACK_SECRET),
    ];
    settings.extend_from_slice(env);
    let host = start_gate(&stack, "blackday-gate", PIPELINE, &approval, &settings).await;
    (stack, host)
}

fn release() -> Release {
    Release::new(
        PIPELINE,
        revision("7e57ab1e7e57ab1e7e57ab1e7e57ab1e7e57ab1e", "New checkout page"),
    )
}

fn decided(played: &Played) -> (ApprovalStatus, String, DecidedBy, DateTime<Utc>) {
    match &played.approvals[0].state {
        ApprovalState::Decided {
            status,
            summary,
            by,
            at,
            ..
        } => (*status, summary.clone(), by.clone(), *at),
        other => panic!("approval not decided: {other:?}"),
    }
}

/// (answers CodePipeline accepted, answers it refused).
fn answers(stack: &Stack) -> (usize, usize) {
    stack.sim.state.world().approval_answer_counts()
}

/// The Slack messages the gate posted, as text (fallback and blocks).
fn notices(stack: &Stack) -> Vec<String> {
    stack
        .sim
        .state
        .slack
        .messages_for(DEFAULT_ROUTE)
        .iter()
        .map(|m| m.body.to_string())
        .collect()
}

/// What the invocation answered for its one approval (`outcome`, `source`, `reason`).
fn handled(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Ok(value) => value[0].clone(),
        other => panic!("the invocation failed: {other:?}"),
    }
}

/// Serves `body` as an .ics feed on 127.0.0.1 (as a team's calendar tool would over HTTPS); returns its URL.
async fn serve_feed(body: &str) -> String {
    let body = Arc::new(body.to_owned());
    let app = Router::new()
        .route(
            "/calendars/retail.ics",
            get(|State(body): State<Arc<String>>| async move {
                ([("content-type", "text/calendar; charset=utf-8")], (*body).clone())
            }),
        )
        .with_state(body);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/calendars/retail.ics")
}

/// An iCalendar feed with one event, "Holiday sale", from an hour ago to two hours ahead.
fn holiday_sale_ics() -> String {
    let now = Utc::now();
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Retail//BlackDays//EN\r\nBEGIN:VEVENT\r\nUID:sale-1@retail\r\n\
         DTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Holiday sale\r\nDESCRIPTION:Peak traffic: no releases\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
        stamp(now),
        stamp(now - chrono::Duration::hours(1)),
        stamp(now + chrono::Duration::hours(2))
    )
}

fn retail_calendars(url: &str) -> String {
    let mut calendars: Value = serde_json::from_str(&default_calendar()).unwrap();
    calendars["retail"] = json!({"ics_url": url, "timezone": "Europe/Berlin"});
    calendars.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approves_outside_every_blackday_naming_the_next() {
    let (stack, _host) = gate_stack("", Duration::from_secs(3600), &[]).await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    assert_eq!(played.status, Status::Succeeded, "the release went on to production");
    let (status, summary, by, _) = decided(&played);
    assert_eq!((status, by), (ApprovalStatus::Approved, DecidedBy::Api));
    assert!(
        summary.starts_with("outside every BlackDay (calendar `default`); next BlackDay: “Board meeting” from"),
        "{summary}"
    );
    assert_eq!(answers(&stack), (1, 0));
    assert!(notices(&stack).is_empty(), "nothing to tell when a release goes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_inside_tells_slack_once_and_the_sweep_approves_when_it_ends() {
    // The BlackDay ends 8 s from now (to the second); the sweeps keep holding until then.
    let (custom_data, ends_at) = freeze_until(Duration::from_secs(8), "");
    let (stack, host) = gate_stack(&custom_data, Duration::from_secs(3600), &[]).await;
    let sweeps = stack.start_sweeps(host.clone(), Duration::from_millis(700));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    let deliveries = sweeps.deliveries();
    sweeps.stop();

    assert_eq!(played.status, Status::Succeeded);
    let (status, summary, by, at) = decided(&played);
    assert_eq!((status, by), (ApprovalStatus::Approved, DecidedBy::Api));
    assert!(at >= ends_at, "approved at {at}, before the BlackDay ended");
    assert!(summary.starts_with("outside every BlackDay"), "{summary}");
    assert_eq!(answers(&stack), (1, 0), "one answer: the sweep's approval");

    let held_by_sweeps = deliveries
        .iter()
        .filter_map(|d| match &d.attempts.last()?.outcome {
            Outcome::Ok(v) => v.as_array()?.first().cloned(),
            _ => None,
        })
        .filter(|h| h["outcome"] == "held" && h["source"] == "sweep")
        .count();
    assert!(
        held_by_sweeps >= 2,
        "the sweeps held it again and again: {deliveries:?}"
    );

    let told = notices(&stack);
    assert_eq!(told.len(), 1, "one notice for the hold, none per sweep: {told:?}");
    for expected in [
        "Release held: Launch freeze",
        "storefront",
        "Next window opens",
        "new checkout goes live",
        "Review the approval",
    ] {
        assert!(told[0].contains(expected), "{expected:?} not in {}", told[0]);
    }
    let logs = host.logs().join("\n");
    assert!(
        logs.contains("inside BlackDay “Launch freeze”"),
        "the SNS delivery held first: {logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_inside_when_the_pipeline_asks() {
    let (custom_data, _) = freeze_until(Duration::from_secs(3600), r#", "inside": "reject""#);
    let (stack, _host) = gate_stack(&custom_data, Duration::from_secs(3600), &[]).await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    assert_eq!(played.status, Status::Failed);
    let (status, summary, _, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(
        summary.contains("inside BlackDay “Launch freeze”") && summary.contains(r#""inside": "reject""#),
        "{summary}"
    );
    assert!(
        notices(&stack).is_empty(),
        "a reject is in the approval's history; no hold to tell about"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackday_from_an_ics_feed_holds_with_its_name() {
    let url = serve_feed(&holiday_sale_ics()).await;
    let calendars = retail_calendars(&url);
    let (stack, _host) = gate_stack(
        r#"{"calendar": "retail"}"#,
        Duration::from_secs(3600),
        &[("BLACKDAY_CALENDARS", &calendars)],
    )
    .await;
    stack.wiring.set_wait_bound(Duration::from_secs(2));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    assert_eq!(played.status, Status::InProgress, "held at the approval");
    assert_eq!(answers(&stack), (0, 0), "a hold sends nothing");
    let told = notices(&stack);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains("Release held: Holiday sale") && told[0].contains("Peak traffic: no releases"),
        "{}",
        told[0]
    );
    assert!(
        told[0].contains("Europe/Berlin"),
        "times in the feed's zone: {}",
        told[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_feed_holds_with_the_reason_and_never_approves() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/calendars/retail.ics", closed.local_addr().unwrap());
    drop(closed);
    let calendars = retail_calendars(&url);
    let (stack, host) = gate_stack(
        r#"{"calendar": "retail"}"#,
        Duration::from_secs(3600),
        &[("BLACKDAY_CALENDARS", &calendars)],
    )
    .await;
    stack.wiring.set_wait_bound(Duration::from_secs(3));
    let sweeps = stack.start_sweeps(host.clone(), Duration::from_millis(500));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    sweeps.stop();

    assert!(
        matches!(played.approvals[0].state, ApprovalState::Pending),
        "{:?}",
        played.approvals[0].state
    );
    assert_eq!(answers(&stack), (0, 0), "never approved, nothing sent");
    let logs = host.logs().join("\n");
    assert!(
        logs.contains("could not check: calendar `retail`: feed at 127.0.0.1: request failed: could not connect"),
        "{logs}"
    );
    assert!(
        !logs.contains("/calendars/retail.ics"),
        "the feed's address stays out of logs: {logs}"
    );
    let told = notices(&stack);
    assert_eq!(told.len(), 1, "told once, not per sweep: {told:?}");
    assert!(told[0].contains("calendar could not be read"), "{}", told[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_near_expiry_rejects_with_the_reason() {
    // Expires in 3 minutes; sweeps every minute (+2 min slack): this look is the last one before expiry.
    let (custom_data, _) = freeze_until(Duration::from_secs(3600), "");
    let (stack, _host) = gate_stack(
        &custom_data,
        Duration::from_secs(180),
        &[("SWEEP_INTERVAL_MINUTES", "1")],
    )
    .await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    let (status, summary, _, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(
        summary.contains("Launch freeze") && summary.contains("expires"),
        "{summary}"
    );
    assert!(notices(&stack).is_empty(), "rejected, not held: nothing to tell");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_notification_twice_answers_once() {
    let (stack, host) = gate_stack("", Duration::from_secs(3600), &[]).await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    assert_eq!(decided(&played).0, ApprovalStatus::Approved);
    let notification = played.notifications[0].events[0].1.clone();
    let again = host.invoke(notification).await;
    assert_eq!(handled(&again.outcome)["outcome"], "already_decided");
    assert_eq!(answers(&stack), (1, 0), "one PutApprovalResult, none refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_notification_of_a_hold_tells_slack_once() {
    let (custom_data, _) = freeze_until(Duration::from_secs(3600), "");
    let (stack, host) = gate_stack(&custom_data, Duration::from_secs(3600), &[]).await;
    stack.wiring.set_wait_bound(Duration::from_secs(1));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    assert_eq!(played.status, Status::InProgress);

    let notification = played.notifications[0].events[0].1.clone();
    let again = host.invoke(notification).await;
    let result = handled(&again.outcome);
    assert_eq!(
        (result["outcome"].as_str(), result["source"].as_str()),
        (Some("held"), Some("notification"))
    );
    assert_eq!(notices(&stack).len(), 1, "the duplicate did not post again");
    assert!(host.logs().join("\n").contains("hold already told to Slack"));
    assert_eq!(answers(&stack), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_decides_first_ends_it() {
    let (custom_data, _) = freeze_until(Duration::from_secs(3600), "");
    let (stack, host) = gate_stack(&custom_data, Duration::from_secs(3600), &[]).await;
    stack.wiring.set_wait_bound(Duration::from_secs(1));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    assert!(matches!(played.approvals[0].state, ApprovalState::Pending));

    // An emergency fix: the release manager approves in the console during the freeze.
    stack
        .sim
        .approve_as_person(
            PIPELINE,
            STAGE,
            ACTION,
            ApprovalStatus::Approved,
            "hotfix, approved by the RM",
        )
        .unwrap();
    let notification = played.notifications[0].events[0].1.clone();
    let redelivered = host.invoke(notification).await;
    assert_eq!(handled(&redelivered.outcome)["outcome"], "already_decided");
    let sweep = stack.sweep(&host).await;
    assert!(
        matches!(&sweep.attempts[0].outcome, Outcome::Ok(v) if v.as_array().is_some_and(Vec::is_empty)),
        "the sweep finds nothing pending: {:?}",
        sweep.attempts
    );
    assert_eq!(answers(&stack), (0, 0), "the gate never answered a decided approval");
    assert_eq!(notices(&stack).len(), 1, "only the first hold was told");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_data_naming_an_unknown_calendar_rejects_naming_the_field() {
    let (stack, _host) = gate_stack(r#"{"calendar": "retial"}"#, Duration::from_secs(3600), &[]).await;
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    let (status, summary, _, _) = decided(&played);
    assert_eq!(status, ApprovalStatus::Rejected);
    assert!(
        summary.contains("CustomData `calendar`: no calendar named `retial`") && summary.contains("`default`"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_slack_refuses_fails_the_invocation_and_the_retry_tells() {
    let (custom_data, _) = freeze_until(Duration::from_secs(3600), "");
    let (stack, host) = gate_stack(&custom_data, Duration::from_secs(3600), &[]).await;
    stack
        .sim
        .state
        .slack
        .script(DEFAULT_ROUTE, [SlackReply::ChannelNotFound]);
    stack.wiring.set_wait_bound(Duration::from_secs(2));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();

    assert!(
        matches!(played.approvals[0].state, ApprovalState::Pending),
        "still held"
    );
    assert_eq!(answers(&stack), (0, 0));
    assert_eq!(
        stack.sim.state.slack.attempts(DEFAULT_ROUTE),
        2,
        "refused once, then delivered on the retry"
    );
    assert_eq!(notices(&stack).len(), 1);
    let logs = host.logs().join("\n");
    assert!(logs.contains("rejected the message with HTTP 404"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_setting_without_a_default_stops_the_function_naming_the_fix() {
    let (stack, host) = gate_stack(
        "",
        Duration::from_secs(3600),
        &[("BLACKDAY_CALENDARS", r#"{"retail": {"inline": {"timezone": "UTC"}}}"#)],
    )
    .await;
    let invocation = host.invoke(stack_sweep_event()).await;
    assert!(
        !matches!(invocation.outcome, Outcome::Ok(_)),
        "{:?}",
        invocation.outcome
    );
    let logs = host.logs().join("\n");
    assert!(
        logs.contains("setting BLACKDAY_CALENDARS: has no calendar named `default`"),
        "{logs}"
    );
    assert_eq!(answers(&stack), (0, 0));
}

fn stack_sweep_event() -> Value {
    pipeline_sim::stack::scheduled_event("blackday-gate-sweep", "e2e-1")
}

/// `HOLD_NOTICE_SNS_TOPIC_ARN` set: the hold is told once on the topic, as readable text, and not on Slack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_is_told_once_on_an_sns_topic_when_one_is_named() {
    let (custom_data, _) = freeze_until(Duration::from_secs(3600), "");
    let stack_topic = "arn:aws:sns:us-east-1:123456789012:release-holds";
    let (stack, host) = gate_stack(
        &custom_data,
        Duration::from_secs(3600),
        &[("HOLD_NOTICE_SNS_TOPIC_ARN", stack_topic)],
    )
    .await;
    stack.sim.state.sns_topics().create_topic("release-holds");
    stack.wiring.set_wait_bound(Duration::from_secs(1));
    let played = stack.play(&release(), &Timeline::new(false)).await.unwrap();
    assert_eq!(played.status, Status::InProgress);
    let again = host.invoke(played.notifications[0].events[0].1.clone()).await;
    assert_eq!(handled(&again.outcome)["outcome"], "held");

    let published = stack.sim.state.sns_topics().published(stack_topic);
    assert_eq!(published.len(), 1, "one notice for the hold");
    assert_eq!(
        published[0].subject.as_deref(),
        Some("Release held: Launch freeze (storefront)")
    );
    for expected in [
        "The release of storefront is held at",
        "Reason: inside BlackDay “Launch freeze”",
        "The next window opens",
        "Review the approval",
    ] {
        assert!(
            published[0].message.contains(expected),
            "{expected:?} not in {}",
            published[0].message
        );
    }
    assert_eq!(published[0].attributes["kind"].1, "release-held");
    assert!(notices(&stack).is_empty(), "nothing went to Slack");
}
