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

use aws_sdk_cloudwatch::types::MetricDatum;
use checks::SuiteReport;
use chrono::{DateTime, Utc};

pub use checks::metrics::publish;

/// The run's datums under the `Canary` dimension (and `Canary`, `Check` per check).
pub fn datums(canary: &str, report: &SuiteReport, at: DateTime<Utc>) -> Vec<MetricDatum> {
    checks::metrics::datums(&[("Canary", canary)], report, at)
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
