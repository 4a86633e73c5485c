//! The cold-start floor for `make bench`: a bare `lambda_runtime` function (no telemetry, no SDK, no HTTP client),
//! built with the same size-tuned release profile as the functions. Never packaged or deployed.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(async |event: LambdaEvent<Value>| {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
