//! A canary run as CloudWatch datums (pure), timestamped at the run's start, and their publication.
//!
//! Namespace `CodePipelineHooks/Canary` (setting `METRICS_NAMESPACE`):
//!
//! | metric | dimensions | unit | value |
//! |---|---|---|---|
//! | `Success` | Canary | None | 1 when the run passed, else 0: what the template's alarm watches |
//! | `Passed` | Canary | Count | checks passed |
//! | `Failed` | Canary | Count | checks not passed |
//! | `Latency` | Canary | Milliseconds | the run's p95 latency (absent when nothing answered) |
//! | `Success` | Canary, Check | None | 1 when the check passed, else 0 |
//! | `Latency` | Canary, Check | Milliseconds | the check's last attempt (absent when no answer came) |

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::error::DisplayErrorContext;
use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use checks::SuiteReport;
use chrono::{DateTime, Utc};

/// Datums per `PutMetricData` call (CloudWatch takes at most 1000 and 1 MB).
const BATCH: usize = 500;

fn datum(name: &str, dimensions: &[Dimension], value: f64, unit: StandardUnit, at: AwsTime) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .set_dimensions(Some(dimensions.to_vec()))
        .value(value)
        .unit(unit)
        .timestamp(at)
        .build()
}

pub fn datums(canary: &str, report: &SuiteReport, at: DateTime<Utc>) -> Vec<MetricDatum> {
    let at = AwsTime::from_millis(at.timestamp_millis());
    let run = [Dimension::builder().name("Canary").value(canary).build()];
    let flag = |passed: bool| if passed { 1.0 } else { 0.0 };
    let not_passed = (report.total() - report.passed) as f64;
    let mut out = vec![
        datum("Success", &run, flag(report.passed()), StandardUnit::None, at),
        datum("Passed", &run, report.passed as f64, StandardUnit::Count, at),
        datum("Failed", &run, not_passed, StandardUnit::Count, at),
    ];
    if let Some(p95) = report.latency.p95_ms {
        out.push(datum("Latency", &run, p95 as f64, StandardUnit::Milliseconds, at));
    }
    for result in &report.results {
        let check = [
            run[0].clone(),
            Dimension::builder().name("Check").value(&result.name).build(),
        ];
        out.push(datum("Success", &check, flag(result.passed()), StandardUnit::None, at));
        if let Some(latency) = result.latency_ms {
            out.push(datum("Latency", &check, latency as f64, StandardUnit::Milliseconds, at));
        }
    }
    out
}

/// Publishes in batches; the error carries CloudWatch's answer.
pub async fn publish(client: &Client, namespace: &str, datums: Vec<MetricDatum>) -> Result<usize, String> {
    let count = datums.len();
    for batch in datums.chunks(BATCH) {
        client
            .put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| format!("PutMetricData failed: {}", DisplayErrorContext(&e)))?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checks::{CheckResult, Failure, Outcome, PassCriterion};
    use std::time::Duration;

    fn show(d: &MetricDatum) -> String {
        let dims: Vec<String> = d
            .dimensions()
            .iter()
            .map(|d| format!("{}={}", d.name().unwrap_or(""), d.value().unwrap_or("")))
            .collect();
        format!(
            "{}[{}] {}",
            d.metric_name().unwrap_or(""),
            dims.join(","),
            d.value().unwrap_or(f64::NAN)
        )
    }

    #[test]
    fn a_failed_run_is_data() {
        let results = vec![
            CheckResult {
                name: "home".into(),
                outcome: Outcome::Passed,
                attempts: 1,
                latency_ms: Some(40),
            },
            CheckResult {
                name: "search".into(),
                outcome: Outcome::Failed {
                    failure: Failure::Timeout { timeout_ms: 3000 },
                },
                attempts: 2,
                latency_ms: Some(3000),
            },
            CheckResult {
                name: "cart".into(),
                outcome: Outcome::Failed {
                    failure: Failure::Transport {
                        error: "connect: refused".into(),
                    },
                },
                attempts: 1,
                latency_ms: None,
            },
        ];
        let report = SuiteReport::new(results, PassCriterion::All, Duration::from_millis(3100));
        let at = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let shown: Vec<String> = datums("production", &report, at).iter().map(show).collect();
        assert_eq!(
            shown,
            [
                "Success[Canary=production] 0",
                "Passed[Canary=production] 1",
                "Failed[Canary=production] 2",
                "Latency[Canary=production] 3000",
                "Success[Canary=production,Check=home] 1",
                "Latency[Canary=production,Check=home] 40",
                "Success[Canary=production,Check=search] 0",
                "Latency[Canary=production,Check=search] 3000",
                "Success[Canary=production,Check=cart] 0",
            ]
        );
    }
}
