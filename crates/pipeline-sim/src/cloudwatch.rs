//! CloudWatch (Smithy RPC v2 CBOR, `POST /service/GraniteServiceVersion20100801/operation/<Op>`): metrics and
//! metric alarms, kept like the service keeps them and served in the exact wire format of `aws-sdk-cloudwatch`.
//!
//! Served operations: `PutMetricData`, `DescribeAlarms`, `SetAlarmState` and `GetMetricData` (metric queries;
//! metric-math expressions are answered with a result whose status says they are not evaluated). Every other
//! operation answers `InvalidParameterValue` naming itself.
//!
//! Tests and the demo drive the same state through [`CloudWatchState`] (`sim.state.cloudwatch()`): put alarms,
//! force or backdate alarm states for bake-time scenarios, and read back every datum a function published.
//!
//! # Alarm evaluation (simplified)
//! A metric alarm is re-evaluated whenever `PutMetricData` (or [`CloudWatchState::put_metric_data`]) stores a
//! datum for its metric (same namespace, name and dimension set; same unit when the alarm names one), and when a
//! test calls [`CloudWatchState::evaluate_alarms`]. An evaluation looks at the `EvaluationPeriods` windows of
//! `Period` seconds ending at the evaluation time (`(now - period, now]`, then the one before, ...; AWS aligns
//! periods to the clock instead), aggregates each window with the alarm's statistic, and decides:
//! - ALARM when at least `DatapointsToAlarm` (default `EvaluationPeriods`) windows breach the threshold;
//!   `TreatMissingData = breaching` counts empty windows as breaching;
//! - otherwise INSUFFICIENT_DATA when every window is empty and missing data is `missing` (the default),
//!   no change when it is `ignore`;
//! - otherwise OK (`notBreaching` counts empty windows as fine).
//!
//! The state (with a reason worded like AWS's and `StateReasonData` JSON) changes only when the decision
//! differs from the current state, as in AWS. `SetAlarmState` sets a state until the next evaluation, as in AWS.
//! For the synthetic canary: `Success` (1 = passed, 0 = failed) with `Minimum < 1` over 1 period goes to ALARM on
//! the first failed run and back to OK once a period holds only passes.
//!
//! # Layout
//! One job a file. The model: metric data in `metrics`, alarms and their enums in `alarm`, the store in
//! `state`, alarm evaluation in `evaluate`, the EventBridge state-change event in `events`. The wire side: error
//! shapes in `error`, the RPC v2 CBOR envelope in `protocol` (the codec in `cbor`), reading and checking
//! request members in `members`, one file per operation under `ops`. The public types are re-exported here, so
//! `pipeline_sim::cloudwatch::{Alarm, Datum, ...}` stays the one path to them.

mod alarm;
mod cbor;
mod error;
mod evaluate;
mod events;
mod members;
mod metrics;
mod ops;
mod protocol;
mod state;
#[cfg(test)]
mod tests;

use chrono::{DateTime, SubsecRound, Utc};

pub use alarm::{Alarm, AlarmState, ComparisonOperator, Statistic, TreatMissingData};
pub use error::CloudWatchError;
pub use events::{ALARM_STATE_CHANGE, AlarmTransition, state_change_detail};
pub use metrics::{Datum, Dimension, MetricValue, StatisticSet};
pub use ops::serve;
pub use protocol::error_response;
pub use state::CloudWatchState;

/// The current time at the millisecond, the precision CloudWatch's timestamps carry.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}
