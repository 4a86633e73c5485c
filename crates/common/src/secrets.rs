//! Slack webhook URLs from Secrets Manager, fetched once per container and cached for a few minutes
//! (so a rotated webhook takes effect without a redeploy). The URL never reaches a log or an error.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::Error;

/// A Slack incoming-webhook URL. Deliberately not `Display`, and `Debug` is redacted: it is a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook(String);

impl Webhook {
    /// Accepts what a secret holds: the URL itself, or `{"webhook_url": "..."}`.
    /// Only `https://` URLs: a webhook is a bearer secret and must not travel in the clear. `allow_loopback_http`
    /// (the simulator's Slack sink, never set by the template) admits `http://127.0.0.1` and `http://localhost`.
    pub fn parse(secret_id: &str, secret_string: &str, allow_loopback_http: bool) -> Result<Webhook, Error> {
        let trimmed = secret_string.trim();
        let url = if trimmed.starts_with('{') {
            serde_json::from_str::<serde_json::Value>(trimmed)
                .ok()
                .and_then(|v| v.get("webhook_url").and_then(|u| u.as_str()).map(str::to_owned))
                .ok_or_else(|| Error::Secret {
                    secret_id: secret_id.to_owned(),
                    problem: "is JSON without a string `webhook_url` member; store the URL itself or {\"webhook_url\": \"https://hooks.slack.com/services/...\"}".to_owned(),
                })?
        } else {
            trimmed.to_owned()
        };
        let loopback_http = [
            "http://127.0.0.1:",
            "http://127.0.0.1/",
            "http://localhost:",
            "http://localhost/",
        ]
        .iter()
        .any(|prefix| url.starts_with(prefix));
        if url.starts_with("http://") && !(allow_loopback_http && loopback_http) {
            return Err(Error::Secret {
                secret_id: secret_id.to_owned(),
                problem: "holds an http:// URL; webhooks are secrets and are only sent over https://".to_owned(),
            });
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
            return Err(Error::Secret {
                secret_id: secret_id.to_owned(),
                problem: "does not hold a webhook URL; expected https://hooks.slack.com/services/...".to_owned(),
            });
        }
        Ok(Webhook(url))
    }

    pub fn url(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Webhook(<redacted>)")
    }
}

const CACHE_FOR: Duration = Duration::from_secs(300);

pub struct WebhookStore {
    client: crate::aws::Deferred<aws_sdk_secretsmanager::Client>,
    cache: Mutex<HashMap<String, (Webhook, Instant)>>,
    allow_loopback_http: bool,
}

/// Test-only: lets a webhook be `http://127.0.0.1:…` (the simulator's Slack sink). The template never sets it.
pub const ALLOW_LOOPBACK_HTTP_VAR: &str = "SLACK_ALLOW_LOOPBACK_HTTP";

impl WebhookStore {
    /// `client`: a Secrets Manager client, or one built on the first read ([`crate::aws::Deferred`]).
    pub fn new(
        client: impl Into<crate::aws::Deferred<aws_sdk_secretsmanager::Client>>,
        env: &crate::settings::Env,
    ) -> Result<WebhookStore, Error> {
        let allow_loopback_http = match env.optional(ALLOW_LOOPBACK_HTTP_VAR).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(Error::Setting {
                    name: ALLOW_LOOPBACK_HTTP_VAR.into(),
                    problem: format!("`{other}` is not true or false"),
                    fix: "leave it unset in every deployment; only the local simulator sets it to true".into(),
                });
            }
        };
        Ok(WebhookStore {
            client: client.into(),
            cache: Mutex::new(HashMap::new()),
            allow_loopback_http,
        })
    }

    /// The webhook in `secret_id`, from the cache or read within `deadline`.
    pub async fn webhook(&self, secret_id: &str, deadline: std::time::Instant) -> Result<Webhook, Error> {
        if let Some((webhook, fetched)) = self.cache.lock().await.get(secret_id)
            && fetched.elapsed() < CACHE_FOR
        {
            return Ok(webhook.clone());
        }
        let read = self.client.get_secret_value().secret_id(secret_id).send();
        // Rendered the one way (code, message, status, network cause): an answer the SDK cannot parse is kept whole
        // in its error, and that answer is the secret.
        let output = match crate::aws::by_deadline(deadline, read).await {
            Some(Ok(output)) => output,
            Some(Err(error)) => {
                return Err(Error::Secret {
                    secret_id: secret_id.to_owned(),
                    problem: crate::aws::render_sdk_error("GetSecretValue", &error),
                });
            }
            None => {
                return Err(Error::Secret {
                    secret_id: secret_id.to_owned(),
                    problem: format!("GetSecretValue: {}", crate::aws::NO_ANSWER_IN_TIME),
                });
            }
        };
        let value = output.secret_string().ok_or_else(|| Error::Secret {
            secret_id: secret_id.to_owned(),
            problem: "has no SecretString (binary secrets are not supported); store the webhook URL as text".to_owned(),
        })?;
        let webhook = Webhook::parse(secret_id, value, self.allow_loopback_http)?;
        self.cache
            .lock()
            .await
            .insert(secret_id.to_owned(), (webhook.clone(), Instant::now()));
        Ok(webhook)
    }

    /// Drops a cached webhook, e.g. after Slack said it is gone, so the next attempt reads the secret again.
    pub async fn forget(&self, secret_id: &str) {
        self.cache.lock().await.remove(secret_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::operation::get_secret_value::{GetSecretValueError, GetSecretValueOutput};
    use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const URL: &str = "https://hooks.slack.com/services/T0/B0/SECRETPART";

    #[test]
    fn parses_plain_and_json_secrets_and_redacts_debug() {
        assert_eq!(Webhook::parse("s", URL, false).unwrap().url(), URL);
        let json = format!("{{\"webhook_url\": \"{URL}\"}}");
        assert_eq!(Webhook::parse("s", &json, false).unwrap().url(), URL);
        assert_eq!(
            format!("{:?}", Webhook::parse("s", URL, false).unwrap()),
            "Webhook(<redacted>)"
        );
    }

    #[test]
    fn rejects_non_urls_without_echoing_the_value() {
        for bad in [
            "hooks.slack.com/services/T0/B0/SECRETPART",
            "{\"url\": \"SECRETPART\"}",
            "https://a b/SECRETPART",
            "http://hooks.slack.com/services/T0/B0/SECRETPART",
        ] {
            let err = Webhook::parse("team/slack", bad, true).unwrap_err().to_string();
            assert!(err.contains("team/slack"), "{err}");
            assert!(!err.contains("SECRETPART"), "secret leaked into: {err}");
        }
    }

    #[test]
    fn http_only_to_loopback_and_only_when_allowed() {
        let sink = "http://127.0.0.1:4000/slack/default";
        assert!(Webhook::parse("s", sink, false).is_err());
        assert_eq!(Webhook::parse("s", sink, true).unwrap().url(), sink);
        assert!(Webhook::parse("s", "http://127.0.0.1.evil.example/x", true).is_err());
    }

    fn store(client: aws_sdk_secretsmanager::Client) -> WebhookStore {
        WebhookStore::new(client, &crate::settings::Env::from_pairs(&[])).unwrap()
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[tokio::test]
    async fn fetches_once_and_serves_from_cache() {
        let rule = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .match_requests(|r| r.secret_id() == Some("slack/default"))
            .then_output(|| GetSecretValueOutput::builder().secret_string(URL).build());
        let client = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [&rule]);
        let store = store(client);
        assert_eq!(store.webhook("slack/default", soon()).await.unwrap().url(), URL);
        assert_eq!(store.webhook("slack/default", soon()).await.unwrap().url(), URL);
        assert_eq!(rule.num_calls(), 1);
        store.forget("slack/default").await;
        store.webhook("slack/default", soon()).await.unwrap();
        assert_eq!(rule.num_calls(), 2);
    }

    #[tokio::test]
    async fn missing_secret_is_a_clear_error() {
        let rule = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_error(|| {
            GetSecretValueError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("can't find the specified secret")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_secretsmanager, [&rule]);
        let err = store(client)
            .webhook("slack/missing", soon())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("slack/missing") && err.contains("ResourceNotFoundException"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_answer_that_cannot_be_parsed_never_puts_the_secret_in_the_error() {
        let rule = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                200.try_into().unwrap(),
                aws_smithy_types::body::SdkBody::from(format!("{{\"SecretString\": \"{URL}\", \"Name\": 7")),
            )
        });
        let client = mock_client!(aws_sdk_secretsmanager, [&rule]);
        let err = store(client).webhook("slack/default", soon()).await.unwrap_err();
        for told in [err.to_string(), format!("{err:?}")] {
            assert!(!told.contains("SECRETPART"), "secret leaked into: {told}");
            assert!(
                told.contains("GetSecretValue") && told.contains("could not be read"),
                "{told}"
            );
        }
    }
}
