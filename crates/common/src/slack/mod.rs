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
    /// `text` is plain text: it is escaped here like block text, so a commit message's `<!channel>` or
    /// `<https://evil|label>` reaches a phone's notification as the characters it is, not a mention or a link.
    pub fn new(text: impl Into<String>, mut blocks: Vec<Value>) -> SlackMessage {
        blocks.truncate(blocks::MAX_BLOCKS);
        SlackMessage {
            text: crate::text::truncate(&blocks::escape(&text.into()), 3000),
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

/// The longest `Retry-After` taken as said; any longer is this long. Far beyond any invocation's deadline (Lambda
/// allows 15 minutes), so a longer wait ends the attempts the same way, and no wait can overflow an `Instant`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 60 * 60);

/// `Retry-After` in seconds (the form Slack sends), capped at [`MAX_RETRY_AFTER`], however many digits it has;
/// 1 second when absent or not a number.
fn retry_after(value: Option<&str>) -> Duration {
    let Some(digits) = value
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    else {
        return Duration::from_secs(1);
    };
    // Too many digits for a u64 is still a number, just a very large one.
    let seconds = digits.parse::<u64>().unwrap_or(u64::MAX);
    Duration::from_secs(seconds).min(MAX_RETRY_AFTER)
}

pub fn classify(status: u16, retry_after: Option<&str>) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        429 => Verdict::RetryAfter(self::retry_after(retry_after)),
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
        // No redirects: a webhook answers itself, and following a 307/308 would re-send the message (and its
        // bearer URL's request) wherever the answer points.
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::tls::client_config())
            .connect_timeout(Duration::from_secs(2))
            .redirect(reqwest::redirect::Policy::none())
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
        let mut timed_out = false;
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
                            reason: reason(&body),
                        });
                    }
                    Verdict::RetryAfter(wait) => {
                        last_problem = format!("rate limited (HTTP 429, Retry-After {}s)", wait.as_secs());
                        wait
                    }
                    Verdict::Retry => {
                        last_problem = format!("HTTP {status} `{}`", reason(&body));
                        self.policy.backoff(attempts)
                    }
                },
                Err(failure) => {
                    last_problem = failure.problem;
                    // A request that timed out may have been delivered: one more try at most, so a slow Slack
                    // cannot turn one message into five.
                    if failure.timed_out {
                        if timed_out {
                            last_problem.push_str("; not retried again: a timed-out post may have been delivered");
                            break;
                        }
                        timed_out = true;
                    }
                    self.policy.backoff(attempts)
                }
            };
            if attempts >= self.policy.max_attempts {
                break;
            }
            // A wait no `Instant` can hold passes any deadline.
            let resume = Instant::now().checked_add(wait.saturating_add(Duration::from_secs(1)));
            if resume.is_none_or(|resume| resume > deadline) {
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

    /// One POST; transport failures are described without the URL (reqwest would include it), with their cause.
    async fn attempt(
        &self,
        webhook: &Webhook,
        message: &SlackMessage,
        timeout: Duration,
    ) -> Result<(u16, Option<String>, String), PostFailure> {
        let response = self
            .http
            .post(webhook.url())
            .timeout(timeout)
            .json(message)
            .send()
            .await
            .map_err(|e| PostFailure {
                timed_out: e.is_timeout(),
                problem: format!("request failed: {}", crate::aws::cause_chain(&e.without_url())),
            })?;
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

/// A POST that got no answer.
struct PostFailure {
    timed_out: bool,
    problem: String,
}

/// Slack's reason for an error (`invalid_payload`, `channel_not_found`), as said; anything else is not repeated:
/// whatever answered may not be Slack, and a body is no place to take words from into logs and errors.
fn reason(body: &str) -> String {
    let body = body.trim();
    let slack_like = !body.is_empty() && body.len() <= 64 && body.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if slack_like {
        body.to_owned()
    } else {
        format!("an answer of {} bytes that is not a Slack reason", body.len())
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
            (429, Some(" 120 "), Verdict::RetryAfter(Duration::from_secs(120))),
            (429, Some("18446744073709551615"), Verdict::RetryAfter(MAX_RETRY_AFTER)),
            (
                429,
                Some("99999999999999999999999999"),
                Verdict::RetryAfter(MAX_RETRY_AFTER),
            ),
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

    /// A webhook on 127.0.0.1 that answers every request with `response`, counting the requests.
    fn webhook_answering(response: &'static str) -> (Webhook, std::sync::Arc<std::sync::atomic::AtomicU32>) {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::atomic::{AtomicU32, Ordering};

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/services/T000/B000/SECRET", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(AtomicU32::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                // Read the whole request before answering, so closing never resets the connection.
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let _ = reader.read_exact(&mut vec![0; length]);
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        (Webhook::parse("test", &url, true).unwrap(), requests)
    }

    #[tokio::test]
    async fn a_huge_retry_after_ends_the_attempts_with_an_error() {
        let (webhook, requests) = webhook_answering(
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 18446744073709551615\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        let client = SlackClient::new(RetryPolicy::default()).unwrap();
        let message = SlackMessage::new("hello", vec![]);
        let deadline = Instant::now() + Duration::from_secs(30);
        let started = Instant::now();
        let err = client.post("alerts", &webhook, &message, deadline).await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "waited {:?}",
            started.elapsed()
        );
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
        let Error::SlackUnavailable {
            route,
            attempts,
            last_problem,
            ..
        } = err
        else {
            panic!("not SlackUnavailable: {err:?}")
        };
        assert_eq!((route.as_str(), attempts), ("alerts", 1));
        assert!(
            last_problem.contains("HTTP 429") && last_problem.contains("would pass the function's deadline"),
            "{last_problem}"
        );
        assert!(!last_problem.contains("SECRET"), "{last_problem}");
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

    #[tokio::test]
    async fn a_timed_out_post_is_retried_at_most_once() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/services/T000/B000/SECRET", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(AtomicU32::new(0));
        let counter = requests.clone();
        // Accepts and never answers: each connection is kept open (and counted) until the test ends.
        std::thread::spawn(move || {
            let mut open = Vec::new();
            for stream in listener.incoming() {
                counter.fetch_add(1, Ordering::SeqCst);
                open.push(stream);
            }
        });
        let policy = RetryPolicy {
            request_timeout: Duration::from_millis(300),
            first_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        };
        let client = SlackClient::new(policy).unwrap();
        let webhook = Webhook::parse("test", &url, true).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let err = client
            .post("alerts", &webhook, &SlackMessage::new("hello", vec![]), deadline)
            .await
            .unwrap_err();
        assert_eq!(requests.load(Ordering::SeqCst), 2, "one try and one retry: {err}");
        assert!(err.to_string().contains("may have been delivered"), "{err}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_a_strange_body_is_not_repeated() {
        let (webhook, requests) = webhook_answering(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/steal\r\nContent-Length: 22\r\nConnection: close\r\n\r\n<html>token=abc</html>",
        );
        let client = SlackClient::new(RetryPolicy::default()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let err = client
            .post("alerts", &webhook, &SlackMessage::new("hello", vec![]), deadline)
            .await
            .unwrap_err();
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(matches!(err, Error::SlackRejected { status: 307, .. }), "{err}");
        assert!(!err.to_string().contains("token=abc"), "{err}");
    }

    #[tokio::test]
    async fn a_refused_connection_says_so() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let webhook = Webhook::parse("test", &format!("http://127.0.0.1:{port}/services/SECRET"), true).unwrap();
        let policy = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        let err = SlackClient::new(policy)
            .unwrap()
            .post(
                "alerts",
                &webhook,
                &SlackMessage::new("hello", vec![]),
                Instant::now() + Duration::from_secs(5),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.to_lowercase().contains("refused"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
    }

    #[test]
    fn the_fallback_text_cannot_mention_or_link() {
        let message = SlackMessage::new("fix <!channel> see <https://evil.example|docs> & <@U123>", vec![]);
        assert_eq!(
            message.text,
            "fix &lt;!channel&gt; see &lt;https://evil.example|docs&gt; &amp; &lt;@U123&gt;"
        );
    }
}
