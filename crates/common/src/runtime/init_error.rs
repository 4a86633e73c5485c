//! A function that cannot start says why through the Runtime API's init-error call, so Lambda reports the
//! setting and the fix (`errorType: SettingError`) instead of `Runtime.ExitError` with nothing useful.

use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{Client, build_request};
use serde::Serialize;

use crate::Error;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InitError<'a> {
    error_message: String,
    error_type: &'a str,
    stack_trace: [&'a str; 0],
}

/// Posts `error` to `/2018-06-01/runtime/init/error`. Best effort: the process exits next either way, and a
/// failure to report is logged (without the error's text, which the caller has already logged).
pub(super) async fn report(error: &Error) {
    let body = InitError {
        error_message: error.to_string(),
        error_type: error.error_type(),
        stack_trace: [],
    };
    let sent = async {
        let body = serde_json::to_vec(&body)?;
        let request = build_request()
            .method("POST")
            .uri("/2018-06-01/runtime/init/error")
            .header("Lambda-Runtime-Function-Error-Type", error.error_type())
            .header("content-type", "application/json")
            .body(Body::from(body))?;
        let response = Client::builder().build()?.call(request).await?;
        if !response.status().is_success() {
            return Err(format!("the Runtime API answered HTTP {}", response.status()).into());
        }
        Ok::<(), lambda_runtime_api_client::BoxError>(())
    };
    if let Err(problem) = sent.await {
        tracing::error!(%problem, "could not report the start-up error to the Runtime API");
    }
}
