//! The Slack webhook sink, over HTTP as the functions reach it.

use std::time::{Duration, Instant};

use pipeline_sim::Simulator;
use pipeline_sim::slack::SlackReply;
use serde_json::{Value, json};

const ROUTE: &str = "T000/B000/default";

async fn post(sim: &Simulator, route: &str, body: &Value) -> (u16, Option<String>, String) {
    let response = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap()
        .post(sim.slack_webhook_url(route))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, response.text().await.unwrap())
}

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

#[tokio::test]
async fn an_accepted_message_is_recorded_per_route() {
    let sim = Simulator::start().await.unwrap();
    let message = json!({ "text": "Deploy failed", "blocks": [section("*Deploy* failed")] });
    assert_eq!(post(&sim, ROUTE, &message).await, (200, None, "ok".into()));
    assert_eq!(post(&sim, "T000/B001/other", &json!({ "text": "hi" })).await.0, 200);

    let sink = &sim.state.slack;
    assert_eq!(sink.messages().len(), 2);
    let recorded = sink.messages_for(ROUTE);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].route, ROUTE);
    assert_eq!(recorded[0].body, message);
    assert_eq!(sink.attempts(ROUTE), 1);
    sink.clear();
    assert!(sink.messages().is_empty());
    assert_eq!(sink.attempts(ROUTE), 0);
}

#[tokio::test]
async fn scripted_replies_answer_in_order_then_normal() {
    let sim = Simulator::start().await.unwrap();
    let sink = &sim.state.slack;
    sink.script(
        ROUTE,
        [
            SlackReply::RateLimited { retry_after_secs: 7 },
            SlackReply::ServerError,
            SlackReply::InvalidPayload,
            SlackReply::Forbidden,
            SlackReply::ChannelNotFound,
            SlackReply::ChannelArchived,
            SlackReply::Ok,
        ],
    );
    let message = json!({ "text": "hello" });
    let expected = [
        (429, Some("7".to_owned()), "rate_limited"),
        (500, None, "rollup_error"),
        (400, None, "invalid_payload"),
        (403, None, "action_prohibited"),
        (404, None, "channel_not_found"),
        (410, None, "channel_is_archived"),
        (200, None, "ok"),
        (200, None, "ok"),
    ];
    for (status, retry_after, body) in expected {
        assert_eq!(
            post(&sim, ROUTE, &message).await,
            (status, retry_after, body.to_owned())
        );
    }
    assert_eq!(sink.attempts(ROUTE), 8);
    assert_eq!(sink.messages_for(ROUTE).len(), 2, "only the 200s are accepted");
    assert_eq!(
        post(&sim, "T000/B001/other", &message).await.0,
        200,
        "scripts are per route"
    );
}

#[tokio::test]
async fn a_slow_reply_answers_ok_after_the_delay() {
    let sim = Simulator::start().await.unwrap();
    sim.state
        .slack
        .script(ROUTE, [SlackReply::Slow(Duration::from_millis(300))]);
    let started = Instant::now();
    assert_eq!(post(&sim, ROUTE, &json!({ "text": "slow" })).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(sim.state.slack.messages_for(ROUTE).len(), 1);
}

#[tokio::test]
async fn what_slack_would_reject_is_rejected_and_not_recorded() {
    let sim = Simulator::start().await.unwrap();
    let long = |n: usize| "x".repeat(n);
    let header = |text: String| json!({ "type": "header", "text": { "type": "plain_text", "text": text } });
    let field = |text: String| json!({ "type": "mrkdwn", "text": text });
    let with_blocks = |blocks: Vec<Value>| json!({ "text": "fallback", "blocks": blocks });
    let invalid = [
        ("no text", json!({ "blocks": [section("hi")] })),
        ("empty text", json!({ "text": "  " })),
        ("51 blocks", with_blocks(vec![section("hi"); 51])),
        ("header over 150", with_blocks(vec![header(long(151))])),
        ("section over 3000", with_blocks(vec![section(&long(3001))])),
        (
            "11 fields",
            with_blocks(vec![
                json!({ "type": "section", "fields": vec![field("f".into()); 11] }),
            ]),
        ),
        (
            "field over 2000",
            with_blocks(vec![json!({ "type": "section", "fields": [field(long(2001))] })]),
        ),
        (
            "block_id over 255",
            with_blocks(vec![json!({ "type": "divider", "block_id": long(256) })]),
        ),
    ];
    for (case, body) in &invalid {
        assert_eq!(
            post(&sim, ROUTE, body).await,
            (400, None, "invalid_payload".into()),
            "{case}"
        );
    }
    let not_json = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap()
        .post(sim.slack_webhook_url(ROUTE))
        .body("text=hi")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(not_json.text().await.unwrap(), "invalid_payload");

    let sink = &sim.state.slack;
    assert!(sink.messages().is_empty());
    assert_eq!(sink.attempts(ROUTE), invalid.len() + 1);
    assert!(sink.attempt_log().iter().all(|a| a.status == 400 && a.detail.is_some()));

    let at_limits = with_blocks(
        std::iter::once(header(long(150)))
            .chain(std::iter::once(json!({ "type": "section", "block_id": long(255), "text": { "type": "mrkdwn", "text": long(3000) }, "fields": vec![field(long(2000)); 10] })))
            .chain(std::iter::repeat_n(section("hi"), 48))
            .collect(),
    );
    assert_eq!(
        post(&sim, ROUTE, &at_limits).await.0,
        200,
        "exactly at every limit is fine"
    );
}
