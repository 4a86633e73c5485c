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
    pub fn parse(secret_id: &str, secret_string: &str) -> Result<Webhook, Error> {
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
    client: aws_sdk_secretsmanager::Client,
    cache: Mutex<HashMap<String, (Webhook, Instant)>>,
}

impl WebhookStore {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> WebhookStore {
        WebhookStore {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn webhook(&self, secret_id: &str) -> Result<Webhook, Error> {
        if let Some((webhook, fetched)) = self.cache.lock().await.get(secret_id)
            && fetched.elapsed() < CACHE_FOR
        {
            return Ok(webhook.clone());
        }
        let output = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| {
                // The SDK's error names the code (ResourceNotFoundException, AccessDeniedException, ...);
                // it never contains the secret's value.
                Error::Secret {
                    secret_id: secret_id.to_owned(),
                    problem: format!(
                        "GetSecretValue failed: {}",
                        aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
                    ),
                }
            })?;
        let value = output.secret_string().ok_or_else(|| Error::Secret {
            secret_id: secret_id.to_owned(),
            problem: "has no SecretString (binary secrets are not supported); store the webhook URL as text".to_owned(),
        })?;
        let webhook = Webhook::parse(secret_id, value)?;
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
        assert_eq!(Webhook::parse("s", URL).unwrap().url(), URL);
        let json = format!("{{\"webhook_url\": \"{URL}\"}}");
        assert_eq!(Webhook::parse("s", &json).unwrap().url(), URL);
        assert_eq!(
            format!("{:?}", Webhook::parse("s", URL).unwrap()),
            "Webhook(<redacted>)"
        );
    }

    #[test]
    fn rejects_non_urls_without_echoing_the_value() {
        for bad in [
            "hooks.slack.com/services/T0/B0/SECRETPART",
            "{\"url\": \"SECRETPART\"}",
            "https://a b/SECRETPART",
        ] {
            let err = Webhook::parse("team/slack", bad).unwrap_err().to_string();
            assert!(err.contains("team/slack"), "{err}");
            assert!(!err.contains("SECRETPART"), "secret leaked into: {err}");
        }
    }

    #[tokio::test]
    async fn fetches_once_and_serves_from_cache() {
        let rule = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
            .match_requests(|r| r.secret_id() == Some("slack/default"))
            .then_output(|| GetSecretValueOutput::builder().secret_string(URL).build());
        let client = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [&rule]);
        let store = WebhookStore::new(client);
        assert_eq!(store.webhook("slack/default").await.unwrap().url(), URL);
        assert_eq!(store.webhook("slack/default").await.unwrap().url(), URL);
        assert_eq!(rule.num_calls(), 1);
        store.forget("slack/default").await;
        store.webhook("slack/default").await.unwrap();
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
        let err = WebhookStore::new(client)
            .webhook("slack/missing")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("slack/missing") && err.contains("ResourceNotFoundException"),
            "{err}"
        );
    }
}
