//! The failure notifier: a failed action's event → one Slack message, whatever CodePipeline, Secrets Manager or
//! Slack do; what cannot be delivered fails the invocation (Lambda retries, the on-failure queue keeps it).

use std::time::Duration;

use e2e_tests::stack;
use pipeline_sim::eventbridge::ACTION_DETAIL_TYPE;
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::lambda::{FunctionHost, Invocation};
use pipeline_sim::samples;
use pipeline_sim::scenario::{Timeline, play};
use pipeline_sim::slack::SlackReply;
use pipeline_sim::stack::{DEFAULT_ROUTE, Stack};
use serde_json::Value;

use crate::cell::{Cell, Check, answered, cell, ensure, failed_with, never_shows};

const F: &str = "failure notifier";

/// A stack whose sample release failed its build, the notifier started on it (with a Lambda timeout of
/// `timeout`), the action-level FAILED event, and `fault` in place.
async fn notifier(timeout: Duration, faults: &[Fault]) -> (Stack, std::sync::Arc<FunctionHost>, Value) {
    let stack = stack().await;
    let played = play(
        &stack.sim,
        &stack.bus,
        &samples::failing_build_release(),
        &Timeline::new(false),
    )
    .await
    .expect("the sample release plays");
    let event = played.events_of(ACTION_DETAIL_TYPE, "FAILED")[0].clone();
    let host = stack
        .function_with_timeout("failure-notifier", &[("RUST_LOG", "debug")], timeout)
        .await
        .expect("the notifier starts");
    for fault in faults {
        stack.sim.state.faults.inject(fault.clone());
    }
    (stack, host, event)
}

fn webhook(stack: &Stack) -> String {
    stack.sim.slack_webhook_url(DEFAULT_ROUTE)
}

/// Everything a secret could leak into: the function's logs and its answer or error.
fn places(host: &FunctionHost, invocation: &Invocation) -> Vec<String> {
    let mut places = host.logs();
    places.push(format!("{:?}", invocation.outcome));
    places
}

fn messages(stack: &Stack) -> Vec<String> {
    stack
        .sim
        .state
        .slack
        .messages_for(DEFAULT_ROUTE)
        .iter()
        .map(|m| m.body.to_string())
        .collect()
}

/// One message, sent although `service` failed as `kind`, saying which details were unavailable.
fn message_despite(kind: FaultKind, unavailable: bool) -> Check {
    Box::pin(async move {
        let fault = Fault::new(Service::CodePipeline, kind);
        let (stack, host, event) = notifier(Duration::from_secs(20), &[fault]).await;
        let invocation = host.invoke(event).await;
        answered(&invocation)?;
        let sent = messages(&stack);
        ensure(sent.len() == 1, || format!("{} messages", sent.len()))?;
        if unavailable {
            ensure(sent[0].contains("Some details were unavailable"), || sent[0].clone())?;
        }
        ensure(invocation.duration < Duration::from_secs(15), || {
            format!("took {:?}", invocation.duration)
        })?;
        never_shows(&webhook(&stack), &places(&host, &invocation))
    })
}

/// Secrets Manager failing as `kind`: the invocation fails (retried by Lambda), nothing is sent, nothing leaks.
fn no_secret(kind: FaultKind) -> Check {
    Box::pin(async move {
        let (stack, host, event) =
            notifier(Duration::from_secs(10), &[Fault::new(Service::SecretsManager, kind)]).await;
        let invocation = host.invoke(event).await;
        let error = failed_with(&invocation, "SecretUnavailable")?;
        ensure(messages(&stack).is_empty(), || "a message was sent".into())?;
        ensure(!error.contains("Debug") && !error.contains("Response {"), || {
            error.clone()
        })?;
        never_shows(&webhook(&stack), &places(&host, &invocation))
    })
}

/// Slack answering with `replies` in turn: `delivered` says whether one message must arrive.
fn slack(replies: Vec<SlackReply>, outcome: Result<(), &'static str>, attempts: usize) -> Check {
    Box::pin(async move {
        let (stack, host, event) = notifier(Duration::from_secs(20), &[]).await;
        stack.sim.state.slack.script(DEFAULT_ROUTE, replies);
        let invocation = host.invoke(event).await;
        match outcome {
            Ok(()) => {
                answered(&invocation)?;
                let sent = messages(&stack);
                ensure(sent.len() == 1, || format!("{} messages", sent.len()))?;
            }
            Err(error_type) => {
                failed_with(&invocation, error_type)?;
            }
        }
        let tried = stack.sim.state.slack.attempts(DEFAULT_ROUTE);
        ensure(tried <= attempts, || {
            format!("{tried} attempts, at most {attempts} expected")
        })?;
        never_shows(&webhook(&stack), &places(&host, &invocation))
    })
}

fn malformed(body: &'static str) -> Check {
    Box::pin(async move {
        let (stack, host, _) = notifier(Duration::from_secs(10), &[]).await;
        let invocation = host.invoke_raw(body).await;
        failed_with(&invocation, "MalformedEvent")?;
        ensure(messages(&stack).is_empty(), || "a message was sent".into())
    })
}

pub fn cells() -> Vec<Cell> {
    vec![
        cell(F, "none", "one message with the details", || {
            message_despite(FaultKind::Delay(Duration::ZERO), false)
        }),
        cell(F, "CodePipeline 5xx", "one message; details marked unavailable", || {
            message_despite(FaultKind::ServerError, true)
        }),
        cell(
            F,
            "CodePipeline throttling",
            "one message; details marked unavailable",
            || message_despite(FaultKind::Throttle, true),
        ),
        cell(
            F,
            "CodePipeline hangs",
            "one message within the enrichment budget",
            || message_despite(FaultKind::Delay(Duration::from_secs(60)), true),
        ),
        cell(
            F,
            "CodePipeline answer unreadable",
            "one message; no answer text in it",
            || message_despite(FaultKind::Malformed("{\"pipelineExecution\": SECRET-BODY".into()), true),
        ),
        cell(F, "Secrets Manager 5xx", "SecretUnavailable; nothing sent", || {
            no_secret(FaultKind::ServerError)
        }),
        cell(
            F,
            "Secrets Manager throttling",
            "SecretUnavailable; nothing sent",
            || no_secret(FaultKind::Throttle),
        ),
        cell(
            F,
            "Secrets Manager hangs",
            "SecretUnavailable before the deadline",
            || no_secret(FaultKind::Delay(Duration::from_secs(60))),
        ),
        cell(
            F,
            "Secrets Manager answer unreadable (carries the URL)",
            "SecretUnavailable; the URL nowhere",
            || {
                Box::pin(async {
                    let (stack, host, event) = notifier(Duration::from_secs(10), &[]).await;
                    let url = webhook(&stack);
                    let body = format!("{{\"SecretString\": \"{url}\", \"Name\": ");
                    stack
                        .sim
                        .state
                        .faults
                        .inject(Fault::new(Service::SecretsManager, FaultKind::Malformed(body)));
                    let invocation = host.invoke(event).await;
                    failed_with(&invocation, "SecretUnavailable")?;
                    never_shows(&url, &places(&host, &invocation))
                })
            },
        ),
        cell(F, "Slack 429 then ok", "one message after Retry-After", || {
            slack(vec![SlackReply::RateLimited { retry_after_secs: 1 }], Ok(()), 2)
        }),
        cell(F, "Slack 5xx then ok", "one message after a backoff", || {
            slack(vec![SlackReply::ServerError, SlackReply::ServerError], Ok(()), 3)
        }),
        cell(F, "Slack 5xx throughout", "SlackUnavailable (Lambda retries)", || {
            slack(vec![SlackReply::ServerError; 10], Err("SlackUnavailable"), 5)
        }),
        cell(F, "Slack 404 channel_not_found", "SlackRejected at once", || {
            slack(vec![SlackReply::ChannelNotFound], Err("SlackRejected"), 1)
        }),
        cell(F, "Slack 410 channel_is_archived", "SlackRejected at once", || {
            slack(vec![SlackReply::ChannelArchived], Err("SlackRejected"), 1)
        }),
        cell(F, "Slack hangs", "SlackUnavailable after at most two tries", || {
            slack(
                vec![SlackReply::Slow(Duration::from_secs(60)); 3],
                Err("SlackUnavailable"),
                2,
            )
        }),
        cell(F, "event not JSON", "MalformedEvent", || malformed("not json {")),
        cell(F, "event of the wrong shape", "MalformedEvent", || {
            malformed(
                r#"{"source": "aws.codepipeline", "detail-type": "CodePipeline Action Execution State Change", "detail": {"state": 7}}"#,
            )
        }),
        cell(
            F,
            "event delivered twice",
            "one message; the second a duplicate",
            || {
                Box::pin(async {
                    let (stack, host, event) = notifier(Duration::from_secs(20), &[]).await;
                    answered(&host.invoke(event.clone()).await)?;
                    let again = host.invoke(event).await;
                    let value = answered(&again)?;
                    ensure(value["status"] == "duplicate", || value.to_string())?;
                    ensure(messages(&stack).len() == 1, || "two messages".into())
                })
            },
        ),
        cell(
            F,
            "deadline near (3 s Lambda timeout, Slack slow)",
            "an answer before the timeout",
            || {
                Box::pin(async {
                    let (stack, host, event) = notifier(Duration::from_secs(3), &[]).await;
                    stack
                        .sim
                        .state
                        .slack
                        .script(DEFAULT_ROUTE, vec![SlackReply::Slow(Duration::from_secs(30)); 3]);
                    let invocation = host.invoke(event).await;
                    failed_with(&invocation, "SlackUnavailable").map(|_| ())
                })
            },
        ),
    ]
}
