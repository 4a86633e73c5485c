//! Slack incoming webhooks: Block Kit messages with a plain-text fallback, posted with the retries Slack
//! asks for (429 → wait `Retry-After`; 5xx → back off) inside the invocation's deadline, and permanent
//! errors (400/403/404/410) reported at once so Lambda's retry and the dead-letter queue keep the event.

pub mod blocks;

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::Error;
use crate::secrets::Webhook;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlackMessage {
    /// The fallback shown in notifications and read by screen readers.
    pub text: String,
    pub blocks: Vec<Value>,
}

impl SlackMessage {
    pub fn new(text: impl Into<String>, mut blocks: Vec<Value>) -> SlackMessage {
        blocks.truncate(blocks::MAX_BLOCKS);
        SlackMessage {
            text: crate::text::truncate(&text.into(), 3000),
            blocks,
        }
    }
}

/// What one webhook answer means for the next step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// 429: Slack says when to come back.
    RetryAfter(Duration),
    /// 5xx (or no answer): transient, back off and retry.
    Retry,
    /// 4xx other than 429: the same message will never be accepted by this webhook.
    Permanent,
}

pub fn classify(status: u16, retry_after: Option<&str>) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        429 => {
            let seconds = retry_after.and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1);
            Verdict::RetryAfter(Duration::from_secs(seconds))
        }
        500..=599 => Verdict::Retry,
        _ => Verdict::Permanent,
    }
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Per-request bound; also the least time left before the deadline worth starting a request in.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            request_timeout: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub attempts: u32,
}

pub struct SlackClient {
    http: reqwest::Client,
    policy: RetryPolicy,
}

impl SlackClient {
    pub fn new(policy: RetryPolicy) -> Result<SlackClient, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| Error::SlackUnavailable {
                route: "-".into(),
                attempts: 0,
                elapsed: Duration::ZERO,
                last_problem: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(SlackClient { http, policy })
    }

    /// Posts `message` to the webhook, retrying as Slack asks while time remains before `deadline`.
    /// `route` names the destination in errors and logs (the URL never does).
    pub async fn post(
        &self,
        route: &str,
        webhook: &Webhook,
        message: &SlackMessage,
        deadline: Instant,
    ) -> Result<Delivery, Error> {
        let started = Instant::now();
        let mut last_problem = String::from("no attempt fitted before the deadline");
        let mut attempts = 0;
        while attempts < self.policy.max_attempts {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining < self.policy.request_timeout.min(Duration::from_secs(1)) {
                last_problem.push_str("; no time left before the function's deadline");
                break;
            }
            attempts += 1;
            let wait = match self
                .attempt(webhook, message, self.policy.request_timeout.min(remaining))
                .await
            {
                Ok((status, retry_after, body)) => match classify(status, retry_after.as_deref()) {
                    Verdict::Delivered => return Ok(Delivery { attempts }),
                    Verdict::Permanent => {
                        return Err(Error::SlackRejected {
                            route: route.to_owned(),
                            status,
                            reason: crate::text::truncate(body.trim(), 200),
                        });
                    }
                    Verdict::RetryAfter(wait) => {
                        last_problem = format!("rate limited (HTTP 429, Retry-After {}s)", wait.as_secs());
                        wait
                    }
                    Verdict::Retry => {
                        last_problem = format!("HTTP {status} `{}`", crate::text::truncate(body.trim(), 200));
                        self.policy.backoff(attempts)
                    }
                },
                Err(problem) => {
                    last_problem = problem;
                    self.policy.backoff(attempts)
                }
            };
            if attempts >= self.policy.max_attempts {
                break;
            }
            if Instant::now() + wait + Duration::from_secs(1) > deadline {
                last_problem.push_str(&format!("; waiting {wait:?} more would pass the function's deadline"));
                break;
            }
            tracing::warn!(route, attempt = attempts, wait_ms = wait.as_millis() as u64, problem = %last_problem, "Slack did not accept the message yet; retrying");
            tokio::time::sleep(wait).await;
        }
        Err(Error::SlackUnavailable {
            route: route.to_owned(),
            attempts,
            elapsed: started.elapsed(),
            last_problem,
        })
    }

    /// One POST; transport failures are described without the URL (reqwest would include it).
    async fn attempt(
        &self,
        webhook: &Webhook,
        message: &SlackMessage,
        timeout: Duration,
    ) -> Result<(u16, Option<String>, String), String> {
        let response = self
            .http
            .post(webhook.url())
            .timeout(timeout)
            .json(message)
            .send()
            .await
            .map_err(|e| format!("request failed: {}", e.without_url()))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.unwrap_or_default();
        Ok((status, retry_after, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_documented_answer() {
        let cases = [
            (200, None, Verdict::Delivered),
            (429, Some("3"), Verdict::RetryAfter(Duration::from_secs(3))),
            (429, None, Verdict::RetryAfter(Duration::from_secs(1))),
            (429, Some("soon"), Verdict::RetryAfter(Duration::from_secs(1))),
            (500, None, Verdict::Retry),
            (503, None, Verdict::Retry),
            (400, None, Verdict::Permanent),
            (403, None, Verdict::Permanent),
            (404, None, Verdict::Permanent),
            (410, None, Verdict::Permanent),
        ];
        for (status, retry_after, expected) in cases {
            assert_eq!(classify(status, retry_after), expected, "HTTP {status} {retry_after:?}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let waits: Vec<u128> = (1..=6).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 4000]);
    }

    #[test]
    fn message_keeps_within_block_and_text_limits() {
        let message = SlackMessage::new("t".repeat(5000), vec![blocks::divider(); 60]);
        assert_eq!(message.blocks.len(), blocks::MAX_BLOCKS);
        assert_eq!(message.text.chars().count(), 3000);
    }
}
