//! The edge: run the suite before the deadline, publish what it found, say how it went.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use crate::metrics;
use crate::{CanaryError, CanarySettings};

/// What a run found; returned to Lambda (the metrics are the real output).
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub canary: String,
    pub passed: bool,
    pub summary: String,
    pub checks_passed: usize,
    pub checks_failed: usize,
    pub p95_ms: Option<u64>,
    /// Datums published.
    pub datums: usize,
}

pub struct Canary {
    cloudwatch: aws_sdk_cloudwatch::Client,
    http: reqwest::Client,
    /// The addresses checks may reach (`checks::http_client_with` built `http` with the same policy).
    policy: checks::AddressPolicy,
    settings: CanarySettings,
}

/// Time kept back from the deadline to publish: a tenth of the invocation's time, 1 to 5 s, at most half of it.
fn publish_margin(remaining: Duration) -> Duration {
    (remaining / 10)
        .clamp(Duration::from_secs(1), Duration::from_secs(5))
        .min(remaining / 2)
}

impl Canary {
    pub fn new(
        cloudwatch: aws_sdk_cloudwatch::Client,
        http: reqwest::Client,
        policy: checks::AddressPolicy,
        settings: CanarySettings,
    ) -> Canary {
        Canary {
            cloudwatch,
            http,
            policy,
            settings,
        }
    }

    /// One scheduled run. Any event starts a run; only its kind and time are logged.
    pub async fn handle(&self, event: &Value, deadline: Instant) -> Result<Outcome, CanaryError> {
        let name = &self.settings.name;
        let trigger = event["detail-type"].as_str().unwrap_or("direct invocation");
        tracing::info!(canary = %name, %trigger, time = event["time"].as_str().unwrap_or(""), "canary run");

        let remaining = deadline.saturating_duration_since(Instant::now());
        let run_deadline = deadline.checked_sub(publish_margin(remaining)).unwrap_or(deadline);
        let at = Utc::now();
        let report = self
            .settings
            .suite
            .run_with(&self.http, &self.policy, run_deadline)
            .await;
        if report.passed() {
            tracing::info!(canary = %name, summary = %report.summary(), "canary passed");
        } else {
            tracing::warn!(canary = %name, report = %report.failure_message(), "canary failed");
        }

        let datums = metrics::datums(name, &report, at);
        let namespace = &self.settings.namespace;
        let budget = deadline
            .saturating_duration_since(Instant::now())
            .saturating_sub(Duration::from_millis(200));
        let unpublished = |problem: String| CanaryError::MetricsUnpublished {
            canary: name.clone(),
            namespace: namespace.clone(),
            problem,
        };
        let published = tokio::time::timeout(budget, metrics::publish(&self.cloudwatch, namespace, datums))
            .await
            .map_err(|_| unpublished(format!("CloudWatch did not answer within {budget:?}")))?
            .map_err(unpublished)?;
        tracing::info!(canary = %name, %namespace, datums = published, "metrics published");
        Ok(Outcome {
            canary: name.clone(),
            passed: report.passed(),
            summary: report.summary(),
            checks_passed: report.passed,
            checks_failed: report.total() - report.passed,
            p95_ms: report.latency.p95_ms,
            datums: published,
        })
    }
}

impl hooks_common::runtime::Function for Canary {
    type Output = Outcome;
    type Error = CanaryError;

    async fn invoke(
        &self,
        event: Value,
        invocation: hooks_common::runtime::Invocation,
    ) -> Result<Outcome, CanaryError> {
        self.handle(&event, invocation.deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_leaves_time_to_publish() {
        let cases = [(60, 5_000), (30, 3_000), (5, 1_000), (1, 500)];
        for (seconds, margin_ms) in cases {
            assert_eq!(
                publish_margin(Duration::from_secs(seconds)),
                Duration::from_millis(margin_ms),
                "{seconds}"
            );
        }
    }
}
