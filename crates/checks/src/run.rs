//! Running a suite: bounded concurrency, a timeout per attempt, retries until N consecutive failures, and a
//! hard deadline after which unfinished checks are reported as not run. Never panics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hooks_common::address::AddressPolicy;
use hooks_common::text::truncate;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Client, Method, RequestBuilder, Response, Url};
use tokio::task::JoinSet;
use tokio::time::timeout_at;

use crate::body::{self, Room};
use crate::client::{denial, process_policy};
use crate::expect::{Observed, evaluate, millis};
use crate::report::{BODY_EXCERPT_CHARS, CheckResult, Failure, Outcome, SuiteReport};
use crate::suite::{Body, Check, MAX_CONCURRENCY, Suite};

/// What a check's attempts so far found; survives the check being cut by the deadline.
#[derive(Clone, Default)]
struct Progress {
    attempts: u32,
    last_failure: Option<Failure>,
    latency_ms: Option<u64>,
}

type Shared = Arc<Mutex<Vec<Progress>>>;

impl Suite {
    /// [`Suite::run_with`] under the address policy of the process environment, the one [`crate::http_client`]
    /// builds its client with.
    pub async fn run(&self, client: &Client, deadline: Instant) -> SuiteReport {
        self.run_policy(client, process_policy(), deadline).await
    }

    /// Runs every check, at most `concurrency` at a time, and returns by `deadline` whatever happens: checks
    /// not finished by then are reported as not run. Results are in the suite's order. A check whose URL is
    /// an address `policy` denies is not sent (build `client` with [`crate::http_client_with`] and the same
    /// policy, so names resolving to such addresses are refused too).
    pub async fn run_with(&self, client: &Client, policy: &AddressPolicy, deadline: Instant) -> SuiteReport {
        self.run_policy(client, Ok(policy.clone()), deadline).await
    }

    async fn run_policy(
        &self,
        client: &Client,
        policy: Result<AddressPolicy, String>,
        deadline: Instant,
    ) -> SuiteReport {
        let started = Instant::now();
        let stop = tokio::time::Instant::from_std(deadline);
        let checks: Arc<[Check]> = self.checks.clone().into();
        let plan = Arc::new(Plan::of(self, policy));
        let progress: Shared = Arc::new(Mutex::new(vec![Progress::default(); checks.len()]));
        let mut results: Vec<Option<CheckResult>> = vec![None; checks.len()];
        let mut tasks = JoinSet::new();
        let mut task_index = HashMap::new();
        let limit = self.concurrency.clamp(1, MAX_CONCURRENCY);
        let mut next = 0;
        loop {
            while tasks.len() < limit && next < checks.len() && Instant::now() < deadline {
                let (client, checks, plan, progress) = (client.clone(), checks.clone(), plan.clone(), progress.clone());
                let index = next;
                let handle = tasks
                    .spawn(async move { (index, run_check(&client, &checks[index], index, &plan, &progress).await) });
                task_index.insert(handle.id(), index);
                next += 1;
            }
            let joined = match tokio::time::timeout_at(stop, tasks.join_next()).await {
                Ok(Some(joined)) => joined,
                Ok(None) => break,
                Err(_deadline) => {
                    tasks.abort_all();
                    while let Some(joined) = tasks.join_next().await {
                        record(joined, &task_index, &checks, &mut results);
                    }
                    break;
                }
            };
            record(joined, &task_index, &checks, &mut results);
        }
        let progress = progress
            .lock()
            .map(|p| p.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        let results = results
            .into_iter()
            .zip(checks.iter().zip(progress))
            .map(|(result, (check, progress))| result.unwrap_or_else(|| not_run(check, progress)))
            .collect();
        SuiteReport::new(results, self.pass, started.elapsed())
    }
}

fn record(
    joined: Result<(usize, CheckResult), tokio::task::JoinError>,
    task_index: &HashMap<tokio::task::Id, usize>,
    checks: &[Check],
    results: &mut [Option<CheckResult>],
) {
    match joined {
        Ok((index, result)) => results[index] = Some(result),
        // Cut by the deadline: reported from its progress.
        Err(e) if e.is_cancelled() => {}
        Err(e) => {
            if let Some(&index) = task_index.get(&e.id()) {
                tracing::error!(check = %checks[index].name, "check task failed: {e}");
                results[index] = Some(CheckResult {
                    name: checks[index].name.clone(),
                    outcome: Outcome::Failed {
                        failure: Failure::Invalid {
                            error: "the engine failed while running this check".to_owned(),
                        },
                    },
                    attempts: 0,
                    latency_ms: None,
                });
            }
        }
    }
}

fn not_run(check: &Check, progress: Progress) -> CheckResult {
    CheckResult {
        name: check.name.clone(),
        outcome: Outcome::NotRun {
            last_failure: progress.last_failure,
        },
        attempts: progress.attempts,
        latency_ms: progress.latency_ms,
    }
}

/// The suite-level settings one check needs.
struct Plan {
    base_url: Option<String>,
    timeout: Duration,
    max_attempts: u32,
    retry_delay: Duration,
    /// Where checks may go; the error of a bad setting refuses every check.
    policy: Result<AddressPolicy, String>,
}

impl Plan {
    fn of(suite: &Suite, policy: Result<AddressPolicy, String>) -> Plan {
        Plan {
            policy,
            base_url: suite.base_url.clone(),
            timeout: Duration::from_millis(suite.timeout_ms.max(1)),
            max_attempts: suite.consecutive_failures_to_fail.max(1),
            retry_delay: Duration::from_millis(suite.retry_delay_ms),
        }
    }
}

async fn run_check(client: &Client, check: &Check, index: usize, plan: &Plan, progress: &Shared) -> CheckResult {
    let mut attempts = 0;
    loop {
        attempts += 1;
        update(progress, index, |p| p.attempts = attempts);
        let (result, latency_ms) = attempt(client, check, plan).await;
        let result = CheckResult {
            name: check.name.clone(),
            outcome: match result {
                Ok(()) => Outcome::Passed,
                Err(failure) => Outcome::Failed { failure },
            },
            attempts,
            latency_ms,
        };
        let retry = attempts < plan.max_attempts
            && matches!(&result.outcome, Outcome::Failed { failure } if !matches!(failure, Failure::Invalid { .. }));
        if !retry {
            return result;
        }
        if let Outcome::Failed { failure } = &result.outcome {
            tracing::debug!(check = %check.name, attempts, "attempt failed, retrying: {failure:?}");
            update(progress, index, |p| {
                p.last_failure = Some(failure.clone());
                p.latency_ms = latency_ms;
            });
        }
        tokio::time::sleep(plan.retry_delay).await;
    }
}

fn update(progress: &Shared, index: usize, f: impl FnOnce(&mut Progress)) {
    let mut all = progress.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = all.get_mut(index) {
        f(p);
    }
}

/// One request; `Ok` when every expectation held. The latency is `None` when no answer came at all.
async fn attempt(client: &Client, check: &Check, plan: &Plan) -> (Result<(), Failure>, Option<u64>) {
    let request = match build(client, check, plan) {
        Ok(request) => request,
        Err(error) => return (Err(Failure::Invalid { error }), None),
    };
    match fetch(request, plan.timeout).await {
        Fetched::TimedOut { waited_for } => (
            Err(Failure::Timeout {
                timeout_ms: millis(plan.timeout),
            }),
            Some(millis(waited_for)),
        ),
        Fetched::Failed(error) => {
            let failure = match denial(&error) {
                // The name resolves only to denied addresses: not the target's passing fault, so no retry.
                Some(denied) => Failure::Invalid {
                    error: denied.to_string(),
                },
                None => Failure::Transport {
                    error: describe(&error),
                },
            };
            (Err(failure), None)
        }
        // The room is held until the answer is judged: the body is in use until then.
        Fetched::Answer(observed, _room) => {
            let latency = Some(millis(observed.latency));
            let mismatches = evaluate(&check.expect, &observed);
            if mismatches.is_empty() {
                (Ok(()), latency)
            } else {
                let failure = Failure::Unexpected {
                    status: observed.status,
                    mismatches,
                    body_excerpt: truncate(&observed.body, BODY_EXCERPT_CHARS),
                };
                (Err(failure), latency)
            }
        }
    }
}

fn build(client: &Client, check: &Check, plan: &Plan) -> Result<RequestBuilder, String> {
    let method = Method::from_bytes(check.method.as_bytes()).map_err(|_| format!("bad method `{}`", check.method))?;
    let url = crate::suite::resolve_url(plan.base_url.as_deref(), &check.url).map_err(|e| format!("url {e}"))?;
    allowed(&url, plan)?;
    let mut request = client.request(method, url);
    for (name, value) in &check.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("bad header name `{name}`"))?;
        let value = HeaderValue::from_str(value).map_err(|_| format!("bad value for header `{name}`"))?;
        request = request.header(name, value);
    }
    Ok(match &check.body {
        None => request,
        Some(Body::Text(text)) => request.body(text.clone()),
        Some(Body::Json(value)) => request.json(value),
    })
}

/// URLs written with an IP address never reach the client's resolver, so the policy is applied to them here.
fn allowed(url: &Url, plan: &Plan) -> Result<(), String> {
    match &plan.policy {
        Ok(policy) => policy.check_url(url).map_err(|denied| denied.to_string()),
        Err(setting) => Err(format!("no check is sent while {setting}")),
    }
}

enum Fetched {
    Answer(Observed, Room),
    /// No complete answer within the timeout; `waited_for` is how long the target had.
    TimedOut {
        waited_for: Duration,
    },
    Failed(reqwest::Error),
}

/// Sends the request and reads the answer within `timeout`. Waiting for room in the body budget stops the clock:
/// neither the timeout nor the latency counts it, since the target is not what is slow then.
async fn fetch(request: RequestBuilder, timeout: Duration) -> Fetched {
    let started = Instant::now();
    let due = |waited: Duration| tokio::time::Instant::from_std(started + timeout + waited);
    let timed_out = |waited: Duration| Fetched::TimedOut {
        waited_for: started.elapsed().saturating_sub(waited),
    };
    let response = match timeout_at(due(Duration::ZERO), request.send()).await {
        Err(_elapsed) => return timed_out(Duration::ZERO),
        Ok(Err(error)) => return Fetched::Failed(error),
        Ok(Ok(response)) => response,
    };
    let queued = Instant::now();
    let Some(room) = Room::reserve(response.content_length()).await else {
        // Only a closed budget gives no room, and the budget is never closed: answered like a cut attempt.
        return timed_out(Duration::ZERO);
    };
    let waited = queued.elapsed();
    match timeout_at(due(waited), read(response, room)).await {
        Err(_elapsed) => timed_out(waited),
        Ok(Err(error)) => Fetched::Failed(error),
        Ok(Ok((status, headers, body, room))) => Fetched::Answer(
            Observed {
                status,
                headers,
                body,
                latency: started.elapsed().saturating_sub(waited),
            },
            room,
        ),
    }
}

type Answer = (u16, Vec<(String, String)>, String, Room);

/// The status, headers and body (up to the room's size, without a second copy) of an answer.
async fn read(mut response: Response, mut room: Room) -> reqwest::Result<Answer> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let limit = room.bytes();
    // A declared length is reserved exactly; an undeclared one grows as it comes, up to the room.
    let mut body = Vec::with_capacity(response.content_length().map_or(0, |_| limit));
    while let Some(chunk) = response.chunk().await? {
        if body::append(&mut body, &chunk, limit) {
            break;
        }
    }
    room.shrink_to(body.capacity());
    Ok((status, headers, body::into_text(body), room))
}

/// The causes of a transport error without the URL (which reqwest puts first): "connect: tcp connect error:
/// Connection refused (os error 111)".
fn describe(error: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        // hyper-util's "client error (Connect)" wrapper says less than the causes under it.
        let wrapper = text.starts_with("client error (") && cause.source().is_some();
        if !wrapper && !causes.contains(&text) {
            causes.push(text);
        }
        source = cause.source();
    }
    let kind = if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "reading the body"
    } else {
        "request"
    };
    let text = if causes.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {}", causes.join(": "))
    };
    truncate(&text, 200)
}
