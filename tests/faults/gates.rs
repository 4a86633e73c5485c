//! The approval gates (auto-approver, BlackDay gate): never approve on a fault; answer CodePipeline only with a
//! decision; fail the invocation on what Lambda's retry can fix; a sweep never fails.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use e2e_tests::{ApprovalAction, approval_pipeline, stack};
use pipeline_sim::cloudwatch::{Alarm, AlarmState};
use pipeline_sim::codepipeline::approvals::approval_notification;
use pipeline_sim::faults::{Fault, FaultKind, Service};
use pipeline_sim::lambda::{FunctionHost, Invocation, Outcome};
use pipeline_sim::model::{ApprovalState, ApprovalStatus};
use pipeline_sim::samples::{SLACK_SECRET, revision};
use pipeline_sim::slack::SlackReply;
use pipeline_sim::sns::{Subscription, sns_event, topic_arn};
use pipeline_sim::stack::{DEFAULT_ROUTE, Stack, scheduled_event, sweep_rule_name};
use pipeline_sim::target::{TargetMode, TargetService};
use serde_json::Value;

use crate::cell::{Cell, Check, answered, cell, ensure, failed_with, never_shows};

const AA: &str = "auto-approver";
const BD: &str = "BlackDay gate";
const PIPELINE: &str = "checkout";
const STAGE: &str = "Bake";
const ACTION: &str = "Gate";

/// A pending approval on `function`'s topic, the function serving it, and the SNS event that announces it.
struct Gated {
    stack: Stack,
    host: Arc<FunctionHost>,
    token: String,
    notification: Value,
    function: &'static str,
    /// Keeps the checks' target alive for the cell.
    _target: Option<TargetService>,
}

impl Gated {
    /// The approval's state: `None` while pending.
    fn decided(&self) -> Option<(ApprovalStatus, String)> {
        let world = self.stack.sim.state.world();
        match &world.approval(&self.token)?.state {
            ApprovalState::Decided { status, summary, .. } => Some((*status, summary.clone())),
            _ => None,
        }
    }

    fn pending(&self) -> Result<(), String> {
        match self.decided() {
            None => Ok(()),
            Some(decided) => Err(format!("the approval was answered: {decided:?}")),
        }
    }

    fn rejected(&self, words: &str) -> Result<(), String> {
        match self.decided() {
            Some((ApprovalStatus::Rejected, summary)) if summary.contains(words) => Ok(()),
            other => Err(format!("expected a reject saying `{words}`, got {other:?}")),
        }
    }

    fn approved(&self) -> Result<(), String> {
        match self.decided() {
            Some((ApprovalStatus::Approved, _)) => Ok(()),
            other => Err(format!("expected an approval, got {other:?}")),
        }
    }

    async fn notify(&self) -> Invocation {
        self.host.invoke(self.notification.clone()).await
    }

    async fn sweep(&self) -> Invocation {
        let rule = sweep_rule_name(self.function);
        self.host.invoke(scheduled_event(&rule, "sweep-1")).await
    }

    fn inject(&self, fault: Fault) {
        self.stack.sim.state.faults.inject(fault);
    }

    /// The token, the webhook URL: neither may appear in the logs or the invocation's answer or error.
    fn nothing_leaked(&self, invocation: &Invocation) -> Result<(), String> {
        let mut places = self.host.logs();
        places.push(format!("{:?}", invocation.outcome));
        never_shows(&self.token, &places)?;
        never_shows(&self.stack.sim.slack_webhook_url(DEFAULT_ROUTE), &places)
    }
}

fn binary(function: &str) -> &'static str {
    if function == AA {
        "approval-auto-approver"
    } else {
        "blackday-gate"
    }
}

async fn gated(function: &'static str, custom_data: &str, env: &[(&str, &str)], timeout: Duration) -> Gated {
    gated_with(function, custom_data, env, timeout, None).await
}

async fn gated_with(
    function: &'static str,
    custom_data: &str,
    env: &[(&str, &str)],
    timeout: Duration,
    target: Option<TargetService>,
) -> Gated {
    let stack = stack().await;
    {
        let mut cloudwatch = stack.sim.state.cloudwatch();
        cloudwatch.put_alarm(Alarm::new("checkout-5xx", "Checkout", "5xx"));
        cloudwatch.set_alarm_state_at(
            "checkout-5xx",
            AlarmState::Ok,
            "fine",
            Utc::now() - chrono::Duration::hours(2),
        );
    }
    let topic = topic_arn(binary(function));
    let approval = ApprovalAction {
        stage: STAGE,
        action: ACTION,
        topic_arn: &topic,
        custom_data,
        timeout: Duration::from_secs(3 * 24 * 3600),
    };
    let token = {
        let mut world = stack.sim.state.world();
        world.put_pipeline(approval_pipeline(PIPELINE, &approval));
        let execution = world
            .start_execution(
                PIPELINE,
                vec![revision("0123456789abcdef0123456789abcdef01234567", "Tune")],
            )
            .unwrap();
        world.start_action(&execution, STAGE, ACTION).unwrap();
        world.open_approval(&execution, STAGE, ACTION).unwrap()
    };
    let calendars = r#"{"default": {"inline": {"timezone": "UTC", "blackouts": []}}}"#;
    let mut settings = vec![
        ("GATE_TOPIC_ARN", topic.as_str()),
        ("GATE_PIPELINES", PIPELINE),
        ("RUST_LOG", "info"),
        ("BLACKDAY_CALENDARS", calendars),
        ("SLACK_WEBHOOK_SECRET_ID", SLACK_SECRET),
    ];
    settings.extend_from_slice(env);
    let host = stack
        .function_with_timeout(binary(function), &settings, timeout)
        .await
        .unwrap();
    let (subject, message) = {
        let world = stack.sim.state.world();
        approval_notification(world.approval(&token).unwrap())
    };
    let subscription = Subscription {
        arn: format!("{topic}:00000000-0000-0000-0000-000000000001"),
        topic_arn: topic.clone(),
        endpoint: host.clone(),
    };
    let notification = sns_event(&subscription, "m-1", Some(&subject), &message, Utc::now());
    Gated {
        stack,
        host,
        token,
        notification,
        function,
        _target: target,
    }
}

const BAKED: &str = r#"{"alarms": ["checkout-5xx"], "bake_minutes": 0}"#;
const BAKED_REJECT_ON_ERROR: &str = r#"{"alarms": ["checkout-5xx"], "bake_minutes": 0, "on_error": "reject"}"#;

fn freeze() -> String {
    let now = Utc::now();
    let at = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S").to_string();
    format!(
        r#"{{"timezone": "UTC", "blackouts": [{{"name": "Launch freeze", "once": {{"from": "{}", "to": "{}"}}}}]}}"#,
        at(now - chrono::Duration::hours(1)),
        at(now + chrono::Duration::hours(2))
    )
}

/// The auto-approver with CodePipeline failing as `kind` on `operation`: the invocation fails (Lambda retries),
/// the approval stays pending.
fn aa_codepipeline(operation: Option<&'static str>, kind: FaultKind) -> Check {
    Box::pin(async move {
        let gated = gated(AA, BAKED, &[], Duration::from_secs(20)).await;
        let mut fault = Fault::new(Service::CodePipeline, kind);
        if let Some(operation) = operation {
            fault = fault.on(operation);
        }
        gated.inject(fault);
        let invocation = gated.notify().await;
        let error = failed_with(&invocation, "AwsCallFailed")?;
        ensure(!error.contains("Response {") && !error.contains("SECRET-BODY"), || {
            error.clone()
        })?;
        gated.pending()?;
        gated.nothing_leaked(&invocation)
    })
}

/// The auto-approver with CloudWatch failing as `kind`: held (or rejected, by policy), never approved.
fn aa_cloudwatch(kind: FaultKind, custom_data: &'static str, rejects: bool) -> Check {
    Box::pin(async move {
        let gated = gated(AA, custom_data, &[], Duration::from_secs(20)).await;
        gated.inject(Fault::new(Service::CloudWatch, kind));
        let invocation = gated.notify().await;
        let handled = answered(&invocation)?;
        if rejects {
            gated.rejected("could not check")?;
        } else {
            ensure(handled[0]["outcome"] == "held", || handled.to_string())?;
            gated.pending()?;
        }
        gated.nothing_leaked(&invocation)
    })
}

/// The auto-approver's check suite against a target behaving as `mode`.
fn aa_target(mode: TargetMode, rejects_with: Option<&'static str>) -> Check {
    aa_target_within(mode, 1000, rejects_with)
}

/// As [`aa_target`], each check attempt given `timeout_ms`.
fn aa_target_within(mode: TargetMode, timeout_ms: u64, rejects_with: Option<&'static str>) -> Check {
    Box::pin(async move {
        let target = TargetService::start().await.unwrap();
        target.set_mode(mode);
        let custom_data = format!(
            r#"{{"alarms": ["checkout-5xx"], "bake_minutes": 0, "checks": {{"base_url": "{}", "timeout_ms": {timeout_ms}, "checks": [{{"name": "health", "url": "/health"}}]}}}}"#,
            target.base_url()
        );
        let gated = gated_with(AA, &custom_data, &[], Duration::from_secs(12), Some(target)).await;
        let invocation = gated.notify().await;
        answered(&invocation)?;
        match rejects_with {
            Some(words) => gated.rejected(words),
            None => gated.pending(),
        }
    })
}

fn malformed(function: &'static str, body: &'static str) -> Check {
    Box::pin(async move {
        let gated = gated(function, BAKED, &[], Duration::from_secs(10)).await;
        let invocation = gated.host.invoke_raw(body).await;
        failed_with(&invocation, "MalformedEvent")?;
        gated.pending()
    })
}

fn duplicate(function: &'static str, custom_data: &'static str) -> Check {
    Box::pin(async move {
        let gated = gated(function, custom_data, &[], Duration::from_secs(20)).await;
        answered(&gated.notify().await)?;
        let again = gated.notify().await;
        let handled = answered(&again)?;
        ensure(handled[0]["outcome"] == "already_decided", || handled.to_string())?;
        let (accepted, refused) = gated.stack.sim.state.world().approval_answer_counts();
        ensure((accepted, refused) == (1, 0), || {
            format!("{accepted} answers accepted, {refused} refused")
        })
    })
}

fn person_first(function: &'static str) -> Check {
    Box::pin(async move {
        let gated = gated(function, BAKED, &[], Duration::from_secs(20)).await;
        gated
            .stack
            .sim
            .approve_as_person(PIPELINE, STAGE, ACTION, ApprovalStatus::Rejected, "not today")
            .map_err(|e| format!("{e:?}"))?;
        let handled = answered(&gated.notify().await)?.clone();
        ensure(handled[0]["outcome"] == "already_decided", || handled.to_string())?;
        gated.rejected("not today")
    })
}

/// The BlackDay gate holding inside a freeze, with Slack answering `replies`.
fn bd_notice(replies: Vec<SlackReply>, error_type: Option<&'static str>, attempts: usize) -> Check {
    Box::pin(async move {
        let gated = gated(BD, &freeze(), &[], Duration::from_secs(20)).await;
        gated.stack.sim.state.slack.script(DEFAULT_ROUTE, replies);
        let invocation = gated.notify().await;
        match error_type {
            None => {
                answered(&invocation)?;
                let sent = gated.stack.sim.state.slack.messages_for(DEFAULT_ROUTE).len();
                ensure(sent == 1, || format!("{sent} notices"))?;
            }
            Some(error_type) => {
                failed_with(&invocation, error_type)?;
            }
        }
        gated.pending()?;
        let tried = gated.stack.sim.state.slack.attempts(DEFAULT_ROUTE);
        ensure(tried <= attempts, || format!("{tried} attempts, at most {attempts}"))?;
        gated.nothing_leaked(&invocation)
    })
}

/// The BlackDay gate reading a feed at `url`: the calendar cannot be read, so it holds (never approves).
fn bd_feed(url: String) -> Check {
    Box::pin(async move {
        let calendars = format!(r#"{{"default": {{"ics_url": "{url}", "timezone": "UTC"}}}}"#);
        let gated = gated(BD, "", &[("BLACKDAY_CALENDARS", &calendars)], Duration::from_secs(20)).await;
        let invocation = gated.notify().await;
        let handled = answered(&invocation)?;
        ensure(handled[0]["outcome"] == "held", || handled.to_string())?;
        gated.pending()
    })
}

/// A port on 127.0.0.1 nobody listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serves `body` with `delay` on 127.0.0.1 and returns the URL (kept serving while the process runs).
async fn serve(body: String, delay: Duration) -> String {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/cal.ics",
        get(move || {
            let body = body.clone();
            async move {
                tokio::time::sleep(delay).await;
                ([("content-type", "text/calendar")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/cal.ics")
}

pub fn cells() -> Vec<Cell> {
    vec![
        cell(AA, "none", "approved", || {
            Box::pin(async {
                let gated = gated(AA, BAKED, &[], Duration::from_secs(20)).await;
                answered(&gated.notify().await)?;
                gated.approved()
            })
        }),
        cell(AA, "CodePipeline 5xx", "AwsCallFailed; pending", || {
            aa_codepipeline(None, FaultKind::ServerError)
        }),
        cell(AA, "CodePipeline throttling", "AwsCallFailed; pending", || {
            aa_codepipeline(None, FaultKind::Throttle)
        }),
        cell(
            AA,
            "CodePipeline hangs",
            "AwsCallFailed before the deadline; pending",
            || aa_codepipeline(None, FaultKind::Delay(Duration::from_secs(60))),
        ),
        cell(
            AA,
            "CodePipeline answer unreadable",
            "AwsCallFailed; no answer text",
            || {
                aa_codepipeline(
                    Some("GetPipeline"),
                    FaultKind::Malformed("{\"pipeline\": SECRET-BODY".into()),
                )
            },
        ),
        cell(AA, "PutApprovalResult 5xx", "AwsCallFailed; pending", || {
            aa_codepipeline(Some("PutApprovalResult"), FaultKind::ServerError)
        }),
        cell(AA, "CloudWatch 5xx", "held, saying why", || {
            aa_cloudwatch(FaultKind::ServerError, BAKED, false)
        }),
        cell(
            AA,
            "CloudWatch throttling, on_error reject",
            "rejected, saying why",
            || aa_cloudwatch(FaultKind::Throttle, BAKED_REJECT_ON_ERROR, true),
        ),
        cell(AA, "CloudWatch hangs", "held", || {
            aa_cloudwatch(FaultKind::Delay(Duration::from_secs(60)), BAKED, false)
        }),
        cell(AA, "CloudWatch answer unreadable", "held", || {
            aa_cloudwatch(FaultKind::Malformed("\u{1}not cbor".into()), BAKED, false)
        }),
        cell(AA, "check target down", "rejected, naming the check", || {
            aa_target(TargetMode::Down, Some("health"))
        }),
        cell(AA, "check target failing", "rejected, naming the check", || {
            aa_target(TargetMode::Failing, Some("health"))
        }),
        cell(
            AA,
            "check target slower than the check's timeout",
            "rejected: the check timed out",
            || aa_target(TargetMode::Slow(Duration::from_secs(60)), Some("timed out")),
        ),
        cell(
            AA,
            "check target hangs past the invocation's deadline",
            "held (a cut check proves nothing)",
            || aa_target_within(TargetMode::Slow(Duration::from_secs(60)), 30_000, None),
        ),
        cell(
            AA,
            "check target flapping",
            "approved: a second attempt sees through one failure",
            || {
                Box::pin(async {
                    let target = TargetService::start().await.unwrap();
                    target.set_mode(TargetMode::FailFirst(1));
                    let custom_data = format!(
                        r#"{{"alarms": ["checkout-5xx"], "bake_minutes": 0, "checks": {{"base_url": "{}", "timeout_ms": 1000, "consecutive_failures_to_fail": 2, "checks": [{{"name": "health", "url": "/health"}}]}}}}"#,
                        target.base_url()
                    );
                    let gated = gated_with(AA, &custom_data, &[], Duration::from_secs(12), Some(target)).await;
                    answered(&gated.notify().await)?;
                    gated.approved()
                })
            },
        ),
        cell(AA, "event not JSON", "MalformedEvent", || {
            malformed(AA, "\u{0}\u{1}binary")
        }),
        cell(AA, "SNS message of the wrong shape", "MalformedEvent", || {
            malformed(AA, r#"{"Records": [{"Sns": {"Message": "{\"approval\": 5}"}}]}"#)
        }),
        cell(AA, "notification delivered twice", "one answer", || {
            duplicate(AA, BAKED)
        }),
        cell(AA, "a person decided first", "already decided; nothing sent", || {
            person_first(AA)
        }),
        cell(
            AA,
            "sweep while CodePipeline 5xx",
            "the sweep answers; nothing approved",
            || {
                Box::pin(async {
                    let gated = gated(AA, BAKED, &[], Duration::from_secs(20)).await;
                    gated.inject(Fault::new(Service::CodePipeline, FaultKind::ServerError));
                    let invocation = gated.sweep().await;
                    answered(&invocation)?;
                    gated.pending()
                })
            },
        ),
        cell(
            AA,
            "deadline near (4 s timeout, CloudWatch slow)",
            "an answer before the timeout; not approved",
            || {
                Box::pin(async {
                    let gated = gated(AA, BAKED, &[], Duration::from_secs(4)).await;
                    gated.inject(Fault::new(
                        Service::CloudWatch,
                        FaultKind::Delay(Duration::from_secs(30)),
                    ));
                    let invocation = gated.notify().await;
                    ensure(
                        !matches!(invocation.outcome, Outcome::Timeout | Outcome::Crashed),
                        || format!("{:?}", invocation.outcome),
                    )?;
                    gated.pending()
                })
            },
        ),
        cell(BD, "none (outside every BlackDay)", "approved", || {
            Box::pin(async {
                let gated = gated(BD, "", &[], Duration::from_secs(20)).await;
                answered(&gated.notify().await)?;
                gated.approved()
            })
        }),
        cell(BD, "inside a BlackDay", "held; one notice", || {
            bd_notice(vec![], None, 1)
        }),
        cell(BD, "Slack 429 then ok", "held; one notice", || {
            bd_notice(vec![SlackReply::RateLimited { retry_after_secs: 1 }], None, 2)
        }),
        cell(BD, "Slack 404", "SlackRejected; held", || {
            bd_notice(vec![SlackReply::ChannelNotFound], Some("SlackRejected"), 1)
        }),
        cell(BD, "Slack 410", "SlackRejected; held", || {
            bd_notice(vec![SlackReply::ChannelArchived], Some("SlackRejected"), 1)
        }),
        cell(
            BD,
            "Slack hangs",
            "SlackUnavailable after at most two tries; held",
            || {
                bd_notice(
                    vec![SlackReply::Slow(Duration::from_secs(60)); 3],
                    Some("SlackUnavailable"),
                    2,
                )
            },
        ),
        cell(BD, "feed down", "held: the calendar cannot be read", || {
            bd_feed(format!("http://127.0.0.1:{}/cal.ics", closed_port()))
        }),
        cell(BD, "feed answers garbage", "held", || {
            Box::pin(async { bd_feed(serve("<html>not a calendar</html>".into(), Duration::ZERO).await).await })
        }),
        cell(BD, "feed hangs", "held before the deadline", || {
            Box::pin(async { bd_feed(serve(String::new(), Duration::from_secs(60)).await).await })
        }),
        cell(BD, "CodePipeline 5xx", "AwsCallFailed; pending", || {
            Box::pin(async {
                let gated = gated(BD, "", &[], Duration::from_secs(20)).await;
                gated.inject(Fault::new(Service::CodePipeline, FaultKind::ServerError));
                let invocation = gated.notify().await;
                failed_with(&invocation, "AwsCallFailed")?;
                gated.pending()
            })
        }),
        cell(BD, "notification delivered twice during a hold", "one notice", || {
            Box::pin(async {
                let gated = gated(BD, &freeze(), &[], Duration::from_secs(20)).await;
                answered(&gated.notify().await)?;
                answered(&gated.notify().await)?;
                let sent = gated.stack.sim.state.slack.messages_for(DEFAULT_ROUTE).len();
                ensure(sent == 1, || format!("{sent} notices"))?;
                gated.pending()
            })
        }),
    ]
}
