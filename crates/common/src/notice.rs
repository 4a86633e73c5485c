//! One way to tell people something (a failure, a held release, a closed or reopened transition): a [`Notice`]
//! sent to a [`Destination`], which is a Slack webhook (its URL in Secrets Manager) or an SNS topic (email,
//! AWS Chatbot for Teams/Chime/Slack, pagers subscribe to it).
//!
//! Same rules for both: retries within the invocation's deadline, permanent refusals reported at once (so
//! Lambda's retry and the on-failure queue keep the event, with the reason), and no secret in any log or error.
//!
//! SNS `Publish` is retried here on throttling (`Throttling`, which SNS answers under load), internal errors and
//! network failures, with backoff, while the deadline allows, on top of the SDK's own attempts; `AuthorizationError`,
//! `NotFound`, `InvalidParameter` (and the other client errors) are permanent and fail at once.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::Deserialize;

use crate::Error;
use crate::secrets::WebhookStore;
use crate::slack::{RetryPolicy, SlackClient, SlackMessage};

/// Where a notice goes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Destination {
    /// A Slack incoming webhook whose URL is the value of this Secrets Manager secret.
    Slack { secret_id: String },
    /// An SNS topic, by ARN.
    Sns { topic_arn: String },
}

impl fmt::Display for Destination {
    /// How a destination is named in logs and errors (never a webhook URL: only the secret's name).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Slack { secret_id } => write!(f, "Slack (secret {secret_id})"),
            Destination::Sns { topic_arn } => write!(f, "SNS topic {topic_arn}"),
        }
    }
}

/// How settings name a destination: exactly one of `secret_id` (a Slack webhook's secret) and `sns_topic_arn`.
/// Embed it with `#[serde(flatten)]` beside a setting's own fields, then call [`DestinationSetting::destination`].
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct DestinationSetting {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub sns_topic_arn: Option<String>,
}

impl DestinationSetting {
    /// The destination these fields name; the problem otherwise, worded for a setting error at `path`.
    pub fn destination(&self, path: &str) -> Result<Destination, Error> {
        let fix = "give exactly one of `secret_id` (a Secrets Manager secret holding a Slack webhook URL) and \
                   `sns_topic_arn` (arn:aws:sns:<region>:<account>:<topic>)";
        let problem = |problem: &str| Error::Setting {
            name: path.to_owned(),
            problem: problem.to_owned(),
            fix: fix.to_owned(),
        };
        let blank = |v: &Option<String>| v.as_deref().is_some_and(|v| v.trim().is_empty());
        if blank(&self.secret_id) || blank(&self.sns_topic_arn) {
            return Err(problem("names an empty destination"));
        }
        match (&self.secret_id, &self.sns_topic_arn) {
            (Some(secret_id), None) => Ok(Destination::Slack {
                secret_id: secret_id.trim().to_owned(),
            }),
            (None, Some(arn)) => {
                let arn = arn.trim();
                if !is_topic_arn(arn) {
                    return Err(Error::Setting {
                        name: format!("{path}.sns_topic_arn"),
                        problem: format!("`{arn}` is not an SNS topic ARN"),
                        fix: "use arn:aws:sns:<region>:<account>:<topic name> (1 to 256 of A-Z a-z 0-9 - _, \
                              `.fifo` allowed at the end)"
                            .to_owned(),
                    });
                }
                Ok(Destination::Sns {
                    topic_arn: arn.to_owned(),
                })
            }
            (Some(_), Some(_)) => Err(problem("names both a Slack secret and an SNS topic")),
            (None, None) => Err(problem("names no destination")),
        }
    }
}

/// `arn:<partition>:sns:<region>:<12-digit account>:<topic>`.
pub fn is_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, partition, service, region, account, topic] = parts.as_slice() else {
        return false;
    };
    let topic_name = topic.strip_suffix(".fifo").unwrap_or(topic);
    *arn_word == "arn"
        && partition.starts_with("aws")
        && *service == "sns"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (1..=256).contains(&topic_name.len())
        && topic_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One notice, in every form a destination needs: Slack gets `slack` (Block Kit with its fallback), SNS gets
/// `subject` and `text` (what an email shows) with `attributes` (for subscription filter policies).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub subject: String,
    pub text: String,
    pub slack: SlackMessage,
    /// String message attributes, e.g. `pipeline`, `kind`: a subscription can filter on them.
    pub attributes: BTreeMap<String, String>,
}

/// SNS's limits: a subject under 100 characters; a message of at most 256 KiB; at most 10 attributes.
pub const MAX_SUBJECT_CHARS: usize = 99;
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
pub const MAX_ATTRIBUTES: usize = 10;

/// A subject SNS accepts: ASCII without control characters or line breaks, under 100 characters, never empty.
/// Common typography becomes its ASCII look-alike (“ ” → ", › → >, … → ...), anything else `?`.
pub fn sns_subject(text: &str) -> String {
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '“' | '”' | '„' => ascii.push('"'),
            '‘' | '’' => ascii.push('\''),
            '›' | '→' => ascii.push('>'),
            '‹' | '←' => ascii.push('<'),
            '–' | '—' => ascii.push('-'),
            '…' => ascii.push_str("..."),
            c if c.is_whitespace() => ascii.push(' '),
            c if c.is_ascii_control() => {}
            c if c.is_ascii() => ascii.push(c),
            _ => ascii.push('?'),
        }
    }
    let collapsed = ascii.split_whitespace().collect::<Vec<_>>().join(" ");
    let subject = if collapsed.len() > MAX_SUBJECT_CHARS {
        format!("{}...", &collapsed[..MAX_SUBJECT_CHARS - 3])
    } else {
        collapsed
    };
    if subject.is_empty() {
        "Notice".to_owned()
    } else {
        subject
    }
}

/// A message body SNS accepts: at most 256 KiB, cut on a character boundary.
fn sns_message(text: &str) -> &str {
    if text.len() <= MAX_MESSAGE_BYTES {
        return text;
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// An attribute SNS accepts: a name of `[A-Za-z0-9_.-]`, not starting with `AWS.`/`Amazon.`, and a value.
fn valid_attribute(name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (1..=256).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.")
        && !value.is_empty()
}

/// How one notice went out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Attempts made (each SNS attempt may include the SDK's own retries).
    pub attempts: u32,
    /// SNS's message id; `None` for Slack.
    pub message_id: Option<String>,
}

/// 250 ms, doubling, at most the policy's longest wait (as Slack's client paces its retries).
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    policy.first_backoff.saturating_mul(factor).min(policy.max_backoff)
}

/// What one `Publish` failure means for the next step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PublishVerdict {
    Retry,
    Permanent,
}

fn publish_verdict(error: &SdkError<PublishError, HttpResponse>) -> PublishVerdict {
    match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or_default();
            let throttled = matches!(
                code,
                "Throttling" | "ThrottlingException" | "Throttled" | "ThrottledException" | "KMSThrottling"
            );
            if throttled || code == "InternalError" || status >= 500 {
                PublishVerdict::Retry
            } else {
                PublishVerdict::Permanent
            }
        }
        SdkError::ConstructionFailure(_) => PublishVerdict::Permanent,
        // No answer, or one that could not be read: the message may or may not be stored; SNS subscribers see a
        // rare duplicate rather than nothing.
        _ => PublishVerdict::Retry,
    }
}

/// Sends notices to either kind of destination.
pub struct Notifier {
    webhooks: WebhookStore,
    slack: SlackClient,
    sns: crate::aws::Deferred<aws_sdk_sns::Client>,
    policy: RetryPolicy,
}

impl Notifier {
    /// `sns`: an SNS client, or one built on the first notice to a topic ([`crate::aws::Deferred`]).
    pub fn new(
        webhooks: WebhookStore,
        slack: SlackClient,
        sns: impl Into<crate::aws::Deferred<aws_sdk_sns::Client>>,
    ) -> Notifier {
        Notifier::with_policy(webhooks, slack, sns, RetryPolicy::default())
    }

    /// `policy` paces the SNS attempts (Slack's client has its own).
    pub fn with_policy(
        webhooks: WebhookStore,
        slack: SlackClient,
        sns: impl Into<crate::aws::Deferred<aws_sdk_sns::Client>>,
        policy: RetryPolicy,
    ) -> Notifier {
        Notifier {
            webhooks,
            slack,
            sns: sns.into(),
            policy,
        }
    }

    /// Sends `notice` to `destination`, retrying what is worth retrying while `deadline` allows.
    pub async fn send(&self, destination: &Destination, notice: &Notice, deadline: Instant) -> Result<Sent, Error> {
        self.send_routed(&destination.to_string(), destination, notice, deadline)
            .await
    }

    /// [`Notifier::send`], with `route` naming the destination in Slack's errors and logs (a routing rule's name).
    pub async fn send_routed(
        &self,
        route: &str,
        destination: &Destination,
        notice: &Notice,
        deadline: Instant,
    ) -> Result<Sent, Error> {
        match destination {
            Destination::Slack { secret_id } => {
                let webhook = self.webhooks.webhook(secret_id, deadline).await?;
                match self.slack.post(route, &webhook, &notice.slack, deadline).await {
                    Ok(delivery) => Ok(Sent {
                        attempts: delivery.attempts,
                        message_id: None,
                    }),
                    Err(error) => {
                        if matches!(error, Error::SlackRejected { .. }) {
                            // The webhook may have been rotated: read the secret again on the retry.
                            self.webhooks.forget(secret_id).await;
                        }
                        Err(error)
                    }
                }
            }
            Destination::Sns { topic_arn } => self.publish(topic_arn, notice, deadline).await,
        }
    }

    async fn publish(&self, topic_arn: &str, notice: &Notice, deadline: Instant) -> Result<Sent, Error> {
        let failed = |problem: String| Error::Aws {
            operation: "Publish",
            target: topic_arn.to_owned(),
            problem,
        };
        let subject = sns_subject(&notice.subject);
        let message = sns_message(&notice.text);
        let mut attributes = Vec::new();
        for (name, value) in &notice.attributes {
            if attributes.len() == MAX_ATTRIBUTES || !valid_attribute(name, value) {
                tracing::warn!(attribute = %name, "message attribute left out: SNS would refuse it");
                continue;
            }
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| failed(format!("message attribute `{name}` could not be built: {e}")))?;
            attributes.push((name.clone(), value));
        }
        let started = Instant::now();
        let mut attempts = 0;
        let mut last_problem = "no attempt fitted before the deadline".to_owned();
        while attempts < self.policy.max_attempts {
            if deadline.saturating_duration_since(Instant::now()) < Duration::from_millis(500) {
                last_problem.push_str("; no time left before the function's deadline");
                break;
            }
            attempts += 1;
            let mut request = self
                .sns
                .publish()
                .topic_arn(topic_arn)
                .subject(&subject)
                .message(message);
            for (name, value) in &attributes {
                request = request.message_attributes(name, value.clone());
            }
            let error = match crate::aws::by_deadline(deadline, request.send()).await {
                Some(Ok(output)) => {
                    return Ok(Sent {
                        attempts,
                        message_id: output.message_id().map(str::to_owned),
                    });
                }
                Some(Err(error)) => error,
                None => {
                    last_problem = crate::aws::NO_ANSWER_IN_TIME.to_owned();
                    break;
                }
            };
            last_problem = crate::aws::sdk_problem(&error);
            if publish_verdict(&error) == PublishVerdict::Permanent {
                return Err(failed(format!("{last_problem}; not retried: SNS refuses this message")));
            }
            if attempts >= self.policy.max_attempts {
                break;
            }
            let wait = backoff(&self.policy, attempts);
            if Instant::now() + wait + Duration::from_secs(1) > deadline {
                last_problem.push_str("; waiting longer would pass the function's deadline");
                break;
            }
            tracing::warn!(topic = %topic_arn, attempt = attempts, wait_ms = wait.as_millis() as u64, problem = %last_problem, "SNS did not take the notice yet; retrying");
            tokio::time::sleep(wait).await;
        }
        Err(failed(format!(
            "{last_problem} (after {attempts} attempt(s) in {:?})",
            started.elapsed()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sns::error::ErrorMetadata;
    use aws_sdk_sns::operation::publish::PublishOutput;
    use aws_sdk_sns::types::error::{AuthorizationErrorException, InvalidParameterException, NotFoundException};
    use aws_smithy_mocks::{mock, mock_client};

    const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:deploys";

    fn notice() -> Notice {
        Notice {
            subject: "Transition closed: shop › Production\n(alarm “canary”)".into(),
            text: "The transition into Production of shop was closed.\nAlarm canary is ALARM.".into(),
            slack: SlackMessage::new("closed", vec![]),
            attributes: BTreeMap::from([
                ("pipeline".to_owned(), "shop".to_owned()),
                ("kind".to_owned(), "transition-closed".to_owned()),
                ("AWS.reserved".to_owned(), "dropped".to_owned()),
            ]),
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            first_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            request_timeout: Duration::from_secs(1),
        }
    }

    async fn notifier(sns: aws_sdk_sns::Client) -> Notifier {
        let secrets = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_output(|| unreachable!());
        Notifier::with_policy(
            WebhookStore::new(
                mock_client!(aws_sdk_secretsmanager, [&secrets]),
                &crate::settings::Env::from_pairs(&[]),
            )
            .unwrap(),
            SlackClient::new(RetryPolicy::default()).unwrap(),
            sns,
            fast(),
        )
    }

    fn throttling() -> PublishError {
        PublishError::generic(
            ErrorMetadata::builder()
                .code("Throttling")
                .message("Rate exceeded")
                .build(),
        )
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    fn sns() -> Destination {
        Destination::Sns {
            topic_arn: TOPIC.into(),
        }
    }

    #[tokio::test]
    async fn publishes_subject_text_and_attributes_once() {
        let publish = mock!(aws_sdk_sns::Client::publish)
            .match_requests(|r| {
                let attributes = r.message_attributes().cloned().unwrap_or_default();
                r.topic_arn() == Some(TOPIC)
                    && r.subject() == Some("Transition closed: shop > Production (alarm \"canary\")")
                    && r.message()
                        .is_some_and(|m| m.contains("Alarm canary is ALARM.\n") || m.ends_with("ALARM."))
                    && attributes.len() == 2
                    && attributes["pipeline"].string_value() == Some("shop")
                    && attributes["kind"].data_type() == "String"
            })
            .then_output(|| PublishOutput::builder().message_id("m-1").build());
        let notifier = notifier(mock_client!(aws_sdk_sns, [&publish])).await;
        let sent = notifier.send(&sns(), &notice(), soon()).await.unwrap();
        assert_eq!(
            sent,
            Sent {
                attempts: 1,
                message_id: Some("m-1".into())
            }
        );
        assert_eq!(publish.num_calls(), 1);
    }

    #[tokio::test]
    async fn throttled_then_accepted_is_one_message() {
        let publish = mock!(aws_sdk_sns::Client::publish)
            .sequence()
            .error(throttling)
            .output(|| PublishOutput::builder().message_id("m-2").build())
            .build();
        let notifier = notifier(mock_client!(aws_sdk_sns, [&publish])).await;
        let sent = notifier.send(&sns(), &notice(), soon()).await.unwrap();
        assert_eq!(sent.message_id.as_deref(), Some("m-2"));
        assert_eq!(publish.num_calls(), 2, "one refused, one accepted: one message");
    }

    #[tokio::test]
    async fn permanent_refusals_fail_at_once_and_say_so() {
        type Refusal = (&'static str, fn() -> PublishError);
        let cases: Vec<Refusal> = vec![
            ("AuthorizationError", || {
                PublishError::AuthorizationErrorException(
                    AuthorizationErrorException::builder().message("not authorized").build(),
                )
            }),
            ("NotFound", || {
                PublishError::NotFoundException(NotFoundException::builder().message("Topic does not exist").build())
            }),
            ("InvalidParameter", || {
                PublishError::InvalidParameterException(
                    InvalidParameterException::builder()
                        .message("Invalid parameter: Subject")
                        .build(),
                )
            }),
        ];
        for (name, error) in cases {
            let refused = mock!(aws_sdk_sns::Client::publish).then_error(error);
            let notifier = notifier(mock_client!(aws_sdk_sns, [&refused])).await;
            let err = notifier.send(&sns(), &notice(), soon()).await.unwrap_err().to_string();
            assert_eq!(refused.num_calls(), 1, "{name}: retried a permanent error");
            assert!(
                err.contains("Publish for arn:aws:sns:") && err.contains("not retried"),
                "{name}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn a_throttled_topic_gives_up_within_the_deadline() {
        let throttled = mock!(aws_sdk_sns::Client::publish)
            .sequence()
            .error(throttling)
            .repeatedly()
            .build();
        let notifier = notifier(mock_client!(aws_sdk_sns, [&throttled])).await;
        let err = notifier.send(&sns(), &notice(), soon()).await.unwrap_err();
        assert!(
            throttled.num_calls() >= fast().max_attempts as usize,
            "{}",
            throttled.num_calls()
        );
        assert!(
            err.to_string().contains("Throttling") && err.to_string().contains("4 attempt(s)"),
            "{err}"
        );
        // Too little time left: no attempt at all, and an error rather than silence.
        let err = notifier
            .send(&sns(), &notice(), Instant::now() + Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("deadline"), "{err}");
    }

    #[test]
    fn subjects_fit_sns() {
        let long = "x".repeat(300);
        let cases = [
            (
                "Release held: “Black Friday” › shop",
                "Release held: \"Black Friday\" > shop",
            ),
            ("two\nlines\r\tand  tabs", "two lines and tabs"),
            ("emoji 🚦 and ünïcode", "emoji ? and ?n?code"),
            ("", "Notice"),
            ("\u{7}\u{1b}", "Notice"),
        ];
        for (input, expected) in cases {
            assert_eq!(sns_subject(input), expected, "{input:?}");
        }
        let cut = sns_subject(&long);
        assert!(cut.len() < 100 && cut.ends_with("..."), "{cut}");
    }

    #[test]
    fn destinations_name_exactly_one_place() {
        let setting = |secret: Option<&str>, arn: Option<&str>| DestinationSetting {
            secret_id: secret.map(str::to_owned),
            sns_topic_arn: arn.map(str::to_owned),
        };
        assert_eq!(
            setting(Some("slack/x"), None).destination("ROUTES[0]").unwrap(),
            Destination::Slack {
                secret_id: "slack/x".into()
            }
        );
        assert_eq!(setting(None, Some(TOPIC)).destination("ROUTES[0]").unwrap(), sns());
        let cases = [
            (setting(None, None), "ROUTES[0]: names no destination"),
            (setting(Some("s"), Some(TOPIC)), "names both"),
            (setting(Some(" "), None), "names an empty destination"),
            (
                setting(None, Some("arn:aws:sqs:eu-west-1:123456789012:q")),
                "ROUTES[0].sns_topic_arn: `arn:aws:sqs",
            ),
            (
                setting(None, Some("arn:aws:sns:eu-west-1:12345:t")),
                "is not an SNS topic ARN",
            ),
        ];
        for (setting, expected) in cases {
            let err = setting.destination("ROUTES[0]").unwrap_err().to_string();
            assert!(err.contains(expected), "{setting:?}: {err}");
        }
        assert_eq!(sns().to_string(), format!("SNS topic {TOPIC}"));
        assert_eq!(
            Destination::Slack {
                secret_id: "slack/x".into()
            }
            .to_string(),
            "Slack (secret slack/x)"
        );
    }

    #[test]
    fn oversized_messages_are_cut_on_a_character_boundary() {
        let text = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = sns_message(&text);
        assert!(cut.len() <= MAX_MESSAGE_BYTES && cut.chars().all(|c| c == 'é'));
        assert_eq!(sns_message("short"), "short");
    }
}
