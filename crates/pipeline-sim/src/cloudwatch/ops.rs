//! The operations the simulated CloudWatch serves, one file each: `PutMetricData`, `DescribeAlarms` and
//! `SetAlarmState` (in `alarms`), `GetMetricData`. This file dispatches a call to its operation and wraps the
//! answer in the protocol's envelope; every other operation answers `InvalidParameterValue` naming itself.

mod alarms;
mod get_metric_data;
mod put_metric_data;

use axum::http::HeaderMap;
use axum::response::Response;

use super::cbor::Cbor;
use super::error::CloudWatchError;
use super::protocol::{error_response, ok_response, read_request};
use crate::SimState;

/// What an operation answers: its output structure (`None`: an operation without output), or an error.
type Answer = Result<Option<Cbor>, CloudWatchError>;

/// Answers one RPC v2 CBOR call to CloudWatch. Recording the call and injecting faults is the router's job.
pub fn serve(state: &SimState, operation: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let answer = read_request(headers, body).and_then(|request| {
        let mut cloudwatch = state.cloudwatch();
        match operation {
            "PutMetricData" => put_metric_data::put_metric_data(&mut cloudwatch, &request),
            "DescribeAlarms" => alarms::describe_alarms(&cloudwatch, &request),
            "SetAlarmState" => alarms::set_alarm_state(&mut cloudwatch, &request),
            "GetMetricData" => get_metric_data::get_metric_data(&cloudwatch, &request),
            other => Err(CloudWatchError::invalid_value(format!(
                "the simulator does not implement CloudWatch.{other}"
            ))),
        }
    });
    match answer {
        Ok(body) => ok_response(body),
        Err(error) => error_response(headers, &error),
    }
}
