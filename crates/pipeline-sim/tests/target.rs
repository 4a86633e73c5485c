//! The scriptable target service, over HTTP as the checks engine reaches it.

use std::time::{Duration, Instant};

use pipeline_sim::target::{TargetMode, TargetService};
use serde_json::{Value, json};

async fn get(client: &reqwest::Client, url: &str) -> reqwest::Result<(u16, Option<String>, String)> {
    let response = client.get(url).send().await?;
    let status = response.status().as_u16();
    let version = response
        .headers()
        .get("x-version")
        .map(|v| v.to_str().unwrap().to_owned());
    Ok((status, version, response.text().await?))
}

async fn status(client: &reqwest::Client, url: &str) -> u16 {
    get(client, url).await.unwrap().0
}

#[tokio::test]
async fn healthy_answers_ok_json_with_a_version_header_and_counts_requests() {
    let target = TargetService::start().await.unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    let (status, version, body) = get(&client, &target.url("/health")).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(version.as_deref(), Some("1.0.0"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["path"], "/health");

    target.set_version("2.3.4");
    let (_, version, _) = get(&client, &target.url("checkout")).await.unwrap();
    assert_eq!(version.as_deref(), Some("2.3.4"));
    assert_eq!(target.requests(), 2);
    assert_eq!(target.requests_to("/health"), 1);
    assert_eq!(target.requests_to("/checkout"), 1);
    target.reset_counters();
    assert_eq!(target.requests(), 0);
}

#[tokio::test]
async fn failing_and_scripted_statuses() {
    let target = TargetService::start().await.unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    target.set_mode(TargetMode::Failing);
    let (code, _, body) = get(&client, &target.url("/health")).await.unwrap();
    assert_eq!(code, 500);
    assert!(body.contains("\"status\":\"error\""), "{body}");

    target.set_mode(TargetMode::Status(503));
    assert_eq!(status(&client, &target.url("/")).await, 503);
    target.set_mode(TargetMode::Status(204));
    let (code, _, body) = get(&client, &target.url("/")).await.unwrap();
    assert_eq!((code, body.as_str()), (204, ""));
}

#[tokio::test]
async fn slow_answers_after_the_delay() {
    let target = TargetService::start().await.unwrap();
    target.set_mode(TargetMode::Slow(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(
        status(
            &reqwest::Client::builder()
                .tls_backend_preconfigured(hooks_common::tls::client_config())
                .build()
                .unwrap(),
            &target.url("/health")
        )
        .await,
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn flapping_fails_every_nth_request_and_fail_first_heals() {
    let target = TargetService::start().await.unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    target.set_mode(TargetMode::Flapping { fail_every: 3 });
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(status(&client, &target.url("/")).await);
    }
    assert_eq!(seen, [200, 200, 500, 200, 200, 500]);

    // Setting a mode restarts its count.
    target.set_mode(TargetMode::FailFirst(2));
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(status(&client, &target.url("/")).await);
    }
    assert_eq!(seen, [500, 500, 200, 200]);
}

#[tokio::test]
async fn paths_answer_by_their_own_mode_until_cleared() {
    let target = TargetService::start().await.unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    target.set_path_mode("/checkout", TargetMode::Failing);
    target.set_path_mode("/search", TargetMode::Flapping { fail_every: 2 });
    assert_eq!(status(&client, &target.url("/health")).await, 200);
    assert_eq!(status(&client, &target.url("/checkout")).await, 500);
    assert_eq!(status(&client, &target.url("/checkout?x=1")).await, 500);
    // The path's count is its own: /health and /checkout requests did not advance it.
    assert_eq!(status(&client, &target.url("/search")).await, 200);
    assert_eq!(status(&client, &target.url("/search")).await, 500);

    target.set_mode(TargetMode::Failing);
    assert_eq!(status(&client, &target.url("/health")).await, 500);
    target.set_mode(TargetMode::Healthy);
    target.clear_path_modes();
    assert_eq!(status(&client, &target.url("/checkout")).await, 200);
}

#[tokio::test]
async fn down_refuses_connections_then_listens_again_on_the_same_port() {
    let target = TargetService::start().await.unwrap();
    // A client with a pooled keep-alive connection, and a fresh one per request.
    let pooled = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    assert_eq!(status(&pooled, &target.url("/health")).await, 200);

    target.set_mode(TargetMode::Down);
    let fresh = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    let error = get(&fresh, &target.url("/health")).await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(format!("{error:?}").contains("refused"), "{error:?}");
    // The open connection was closed too: the pooled client gets no answer either.
    assert!(get(&pooled, &target.url("/health")).await.is_err());
    assert!(get(&pooled, &target.url("/health")).await.is_err());
    assert_eq!(target.requests(), 1);

    target.set_mode(TargetMode::Healthy);
    assert_eq!(status(&fresh, &target.url("/health")).await, 200);
    assert_eq!(status(&pooled, &target.url("/health")).await, 200);
}

#[tokio::test]
async fn a_down_path_closes_the_connection_without_an_answer() {
    let target = TargetService::start().await.unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    target.set_path_mode("/checkout", TargetMode::Down);
    let error = get(&client, &target.url("/checkout")).await.unwrap_err();
    assert!(!error.is_timeout(), "{error:?}");
    assert_eq!(target.requests_to("/checkout"), 1);
    assert_eq!(status(&client, &target.url("/health")).await, 200);
}

#[tokio::test]
async fn echo_returns_the_request() {
    let target = TargetService::start().await.unwrap();
    target.set_path_mode("/echo", TargetMode::Echo);
    let response = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap()
        .post(target.url("/echo?q=1"))
        .header("x-token", "abc")
        .json(&json!({ "order": 7 }))
        .send()
        .await
        .unwrap();
    let echo: Value = response.json().await.unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "q=1");
    assert_eq!(echo["headers"]["x-token"], "abc");
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["body"], r#"{"order":7}"#);
}

#[tokio::test]
async fn counts_the_most_requests_in_flight() {
    let target = TargetService::start().await.unwrap();
    target.set_mode(TargetMode::Slow(Duration::from_millis(300)));
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .build()
        .unwrap();
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let (client, url) = (client.clone(), target.url("/slow"));
        requests.spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) });
    }
    while let Some(done) = requests.join_next().await {
        assert_eq!(done.unwrap().unwrap(), 200);
    }
    assert_eq!(target.max_in_flight(), 5);
    assert_eq!(target.in_flight(), 0);
}

#[tokio::test]
async fn dropping_the_service_stops_it() {
    let target = TargetService::start().await.unwrap();
    let url = target.url("/health");
    drop(target);
    assert!(
        reqwest::Client::builder()
            .tls_backend_preconfigured(hooks_common::tls::client_config())
            .build()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap_err()
            .is_connect()
    );
}
