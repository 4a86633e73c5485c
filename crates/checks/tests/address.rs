//! Where checks may go: loopback and link-local targets (the Lambda Runtime API on 127.0.0.1:9001, instance
//! metadata on 169.254.169.254) are refused unless allow-listed, by IP address and by name alike.

use std::time::{Duration, Instant};

use checks::{AddressPolicy, Failure, Outcome, Suite, SuiteReport, Verdict, http_client, http_client_with};
use hooks_common::address::ALLOW_VAR;
use pipeline_sim::target::TargetService;
use serde_json::json;

fn suite(urls: &[String]) -> Suite {
    let checks: Vec<_> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| json!({"name": format!("c{i}"), "url": url}))
        .collect();
    Suite::parse(
        &json!({"timeout_ms": 2000, "consecutive_failures_to_fail": 3, "retry_delay_ms": 10, "checks": checks})
            .to_string(),
    )
    .unwrap()
}

async fn run_with(policy: &AddressPolicy, suite: &Suite) -> SuiteReport {
    let client = http_client_with(policy).unwrap();
    suite
        .run_with(&client, policy, Instant::now() + Duration::from_secs(10))
        .await
}

/// The refusal each check got; a check that was not refused fails the test.
fn refusals(report: &SuiteReport) -> Vec<String> {
    report
        .results
        .iter()
        .map(|result| match &result.outcome {
            Outcome::Failed {
                failure: Failure::Invalid { error },
            } => {
                assert_eq!(result.attempts, 1, "a refusal is not retried: {result:?}");
                error.clone()
            }
            other => panic!("{}: expected a refusal, got {other:?}", result.name),
        })
        .collect()
}

#[tokio::test]
async fn loopback_and_metadata_addresses_are_refused_before_anything_is_sent() {
    let target = TargetService::start().await.unwrap();
    let suite = suite(&[
        target.url("/health"),
        "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next".into(),
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/".into(),
        "http://[::ffff:127.0.0.1]:9001/".into(),
        "http://[fd00:ec2::254]/latest/api/token".into(),
    ]);
    let report = run_with(&AddressPolicy::default(), &suite).await;
    assert_eq!(report.verdict, Verdict::Fail);
    let refusals = refusals(&report);
    let expected = [
        "address 127.0.0.1 is loopback; denied for check targets; allow it with TARGET_ALLOW_CIDRS=127.0.0.1/32",
        "address 127.0.0.1 is loopback; denied for check targets; allow it with TARGET_ALLOW_CIDRS=127.0.0.1/32",
        "address 169.254.169.254 is link-local; denied for check targets; allow it with TARGET_ALLOW_CIDRS=169.254.169.254/32",
        "address ::ffff:127.0.0.1 is loopback; denied for check targets; allow it with TARGET_ALLOW_CIDRS=::ffff:127.0.0.1/128",
        "address fd00:ec2::254 is an AWS instance service address; denied for check targets; allow it with TARGET_ALLOW_CIDRS=fd00:ec2::254/128",
    ];
    assert_eq!(refusals, expected);
    assert_eq!(target.requests(), 0);
    let message = report.failure_message();
    assert!(
        message.contains("- c1: not sent: address 127.0.0.1 is loopback; denied for check targets"),
        "{message}"
    );
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_by_the_resolver() {
    let target = TargetService::start().await.unwrap();
    let by_name = target.url("/health").replace("127.0.0.1", "localhost");
    let report = run_with(&AddressPolicy::default(), &suite(std::slice::from_ref(&by_name))).await;
    let refusal = &refusals(&report)[0];
    assert!(
        refusal.starts_with("host localhost resolves to no allowed address: address "),
        "{refusal}"
    );
    assert!(refusal.contains(&format!("; allow it with {ALLOW_VAR}=")), "{refusal}");
    assert_eq!(target.requests(), 0);

    // Allow-listing 127.0.0.1 alone lets the name through on that address (an answer of ::1 is dropped).
    let allowed = AddressPolicy::allowing(&["127.0.0.1/32".parse().unwrap()]);
    let report = run_with(&allowed, &suite(&[by_name])).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.failure_message());
}

#[tokio::test]
async fn an_allow_listed_target_runs() {
    let target = TargetService::start().await.unwrap();
    let allowed = AddressPolicy::allowing(&["127.0.0.0/8".parse().unwrap()]).deny_private(true);
    let report = run_with(&allowed, &suite(&[target.url("/health"), target.url("/home")])).await;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.failure_message());
    assert_eq!(target.requests(), 2);
}

/// Callers that have not chosen a policy (`http_client()`, `Suite::run`) get the process environment's, which
/// here sets nothing: the default, so loopback is refused.
#[tokio::test]
async fn the_process_environment_policy_guards_the_default_path() {
    if std::env::var_os(ALLOW_VAR).is_some() {
        panic!("unset {ALLOW_VAR} to run this test: it checks the default policy");
    }
    let target = TargetService::start().await.unwrap();
    let report = suite(&[target.url("/health")])
        .run(&http_client().unwrap(), Instant::now() + Duration::from_secs(10))
        .await;
    assert_eq!(
        refusals(&report),
        ["address 127.0.0.1 is loopback; denied for check targets; allow it with TARGET_ALLOW_CIDRS=127.0.0.1/32"]
    );
    assert_eq!(target.requests(), 0);
}
