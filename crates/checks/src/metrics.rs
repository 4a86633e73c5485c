//! A check run as CloudWatch datums (pure), and their publication in batches. The post-deploy test runner
//! and the synthetic canary publish the same facts and differ only in their base dimensions
//! (Pipeline + Stage, or Canary): each run gives `Success` (1/0), `Passed`/`Failed` (Count) and `Latency`
//! (p95, ms) under the base dimensions, and `Success`/`Latency` per check under base + `Check`.

use crate::SuiteReport;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use chrono::{DateTime, Utc};

/// Datums per `PutMetricData` call (CloudWatch takes at most 1000 and 1 MB).
const BATCH: usize = 500;

fn dimension(name: &str, value: &str) -> Dimension {
    // CloudWatch dimension values are 1 to 1024 characters; check names are at most 100, pipeline names 100.
    Dimension::builder().name(name).value(value).build()
}

fn datum(name: &str, dimensions: &[Dimension], value: f64, unit: StandardUnit, at: AwsTime) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .set_dimensions(Some(dimensions.to_vec()))
        .value(value)
        .unit(unit)
        .timestamp(at)
        .build()
}

/// The datums of one run: suite-level under `base` dimensions, per check under `base` + `Check`.
pub fn datums(base: &[(&str, &str)], report: &SuiteReport, at: DateTime<Utc>) -> Vec<MetricDatum> {
    let at = AwsTime::from_millis(at.timestamp_millis());
    let suite: Vec<Dimension> = base.iter().map(|(n, v)| dimension(n, v)).collect();
    let flag = |passed: bool| if passed { 1.0 } else { 0.0 };
    let mut out = vec![
        datum("Success", &suite, flag(report.passed()), StandardUnit::None, at),
        datum("Passed", &suite, report.passed as f64, StandardUnit::Count, at),
        datum(
            "Failed",
            &suite,
            (report.total() - report.passed) as f64,
            StandardUnit::Count,
            at,
        ),
    ];
    if let Some(p95) = report.latency.p95_ms {
        out.push(datum("Latency", &suite, p95 as f64, StandardUnit::Milliseconds, at));
    }
    for result in &report.results {
        let mut check = suite.clone();
        check.push(dimension("Check", &result.name));
        out.push(datum("Success", &check, flag(result.passed()), StandardUnit::None, at));
        if let Some(latency) = result.latency_ms {
            out.push(datum("Latency", &check, latency as f64, StandardUnit::Milliseconds, at));
        }
    }
    out
}

/// Publishes in batches; the error names the namespace and CloudWatch's answer.
pub async fn publish(client: &Client, namespace: &str, datums: Vec<MetricDatum>) -> Result<usize, String> {
    let count = datums.len();
    for batch in datums.chunks(BATCH) {
        client
            .put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "{namespace}: {}",
                    hooks_common::aws::render_sdk_error("PutMetricData", &e)
                )
            })?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckResult, Failure, Outcome, PassCriterion};
    use aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use std::time::Duration;

    fn report() -> SuiteReport {
        let results = vec![
            CheckResult {
                name: "health".into(),
                outcome: Outcome::Passed,
                attempts: 1,
                latency_ms: Some(12),
            },
            CheckResult {
                name: "checkout".into(),
                outcome: Outcome::Failed {
                    failure: Failure::Transport {
                        error: "connect: refused".into(),
                    },
                },
                attempts: 2,
                latency_ms: None,
            },
        ];
        SuiteReport::new(results, PassCriterion::All, Duration::from_millis(30))
    }

    fn show(d: &MetricDatum) -> String {
        let dims: Vec<String> = d
            .dimensions()
            .iter()
            .map(|d| format!("{}={}", d.name().unwrap_or(""), d.value().unwrap_or("")))
            .collect();
        format!(
            "{}[{}] {} {}",
            d.metric_name().unwrap_or(""),
            dims.join(","),
            d.value().unwrap_or(f64::NAN),
            d.unit().map(|u| u.as_str()).unwrap_or("")
        )
    }

    #[test]
    fn one_datum_per_fact() {
        let at = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let datums = datums(&[("Pipeline", "storefront"), ("Stage", "Test")], &report(), at);
        let shown: Vec<String> = datums.iter().map(show).collect();
        assert_eq!(
            shown,
            [
                "Success[Pipeline=storefront,Stage=Test] 0 None",
                "Passed[Pipeline=storefront,Stage=Test] 1 Count",
                "Failed[Pipeline=storefront,Stage=Test] 1 Count",
                "Latency[Pipeline=storefront,Stage=Test] 12 Milliseconds",
                "Success[Pipeline=storefront,Stage=Test,Check=health] 1 None",
                "Latency[Pipeline=storefront,Stage=Test,Check=health] 12 Milliseconds",
                "Success[Pipeline=storefront,Stage=Test,Check=checkout] 0 None",
            ]
        );
        assert!(
            datums
                .iter()
                .all(|d| d.timestamp() == Some(&AwsTime::from_secs(1_795_000_000)))
        );
    }

    #[tokio::test]
    async fn publishes_in_batches() {
        let put = mock!(Client::put_metric_data)
            .match_requests(|r| r.namespace() == Some("Tests/Namespace"))
            .then_output(|| PutMetricDataOutput::builder().build());
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&put]);
        let many: Vec<MetricDatum> = (0..1200)
            .map(|i| {
                datum(
                    "Success",
                    &[],
                    f64::from(i % 2),
                    StandardUnit::None,
                    AwsTime::from_secs(0),
                )
            })
            .collect();
        assert_eq!(publish(&client, "Tests/Namespace", many).await.unwrap(), 1200);
        assert_eq!(put.num_calls(), 3);
    }
}
