//! The record Lambda parks in the runner's on-failure destination when an asynchronous invocation failed for good
//! (its retries exhausted, or the event too old), and the job's failure message made from it. Pure.
//!
//! ```json
//! {"version": "1.0", "timestamp": "2026-11-18T11:06:40.000Z",
//!  "requestContext": {"requestId": "…", "functionArn": "arn:aws:lambda:…:function:runner:$LATEST",
//!                     "condition": "RetriesExhausted", "approximateInvokeCount": 3},
//!  "requestPayload": {"CodePipeline.job": {"id": "…", "data": {"artifactCredentials": {…}, …}}},
//!  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
//!  "responsePayload": {"errorType": "Runtime.ExitError", "errorMessage": "…"}}
//! ```
//!
//! The request payload is the job event, artifact credentials included: only the job id is taken from it (serde
//! skips the rest), and neither the record nor a serde message (which can quote a value) is ever shown; errors
//! name the field's path. Texts that go into the message are shown only when they look like what Lambda writes
//! there, so a forged record cannot put prose into a pipeline's failure.

use serde::Deserialize;
use serde_json::Value;
use serde_json::error::Category;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    request_context: RequestContext,
    request_payload: Payload,
    #[serde(default)]
    response_context: Option<ResponseContext>,
    #[serde(default)]
    response_payload: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext {
    request_id: String,
    #[serde(default)]
    function_arn: Option<String>,
    condition: String,
    approximate_invoke_count: u32,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "CodePipeline.job")]
    job: JobRef,
}

#[derive(Deserialize)]
struct JobRef {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseContext {
    #[serde(default)]
    function_error: Option<String>,
}

/// What the reaper needs from a parked record, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parked {
    pub job_id: String,
    /// The failed invocation's request id (its log lines carry it).
    pub request_id: String,
    pub function_arn: Option<String>,
    pub attempts: u32,
    /// `RetriesExhausted`, `EventAgeExceeded`, …
    pub condition: String,
    /// `Unhandled` (the function crashed, timed out or ran out of memory) or `Handled` (it returned an error).
    pub function_error: Option<String>,
    /// From the response payload: `Runtime.ExitError`, `AwsCallFailed`, …
    pub error_type: Option<String>,
}

/// Shown when a field does not look like what Lambda writes there.
const UNREADABLE: &str = "(unreadable)";

/// `text` if it is 1 to `max` characters of `[A-Za-z0-9._:$-]`.
fn word(text: &str, max: usize) -> Option<&str> {
    let fits = (1..=max).contains(&text.len());
    (fits && text.chars().all(|c| c.is_ascii_alphanumeric() || "._:$-".contains(c))).then_some(text)
}

fn shown(text: &str, max: usize) -> String {
    word(text, max).unwrap_or(UNREADABLE).to_owned()
}

/// Reads a record from an SQS message body; the error names the path of what is missing or mis-shaped.
pub fn parse(body: &str) -> Result<Parked, String> {
    let not_a_record = || {
        "the message is not a Lambda on-failure destination record (a JSON object with requestContext and \
         requestPayload)"
            .to_owned()
    };
    // (serde would read a struct from an array too.)
    if !body.trim_start().starts_with('{') {
        return Err(not_a_record());
    }
    let mut deserializer = serde_json::Deserializer::from_str(body);
    let record: Record = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let not_json = matches!(e.inner().classify(), Category::Syntax | Category::Eof);
        if not_json || path == "." {
            not_a_record()
        } else {
            format!("the record's `{path}` is missing or mis-shaped")
        }
    })?;
    let job_id = record.request_payload.job.id;
    let is_job_id = (1..=64).contains(&job_id.len()) && job_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !is_job_id {
        return Err("the record's `requestPayload.CodePipeline.job.id` is not a CodePipeline job id".to_owned());
    }
    let context = record.request_context;
    let error_type = record
        .response_payload
        .as_ref()
        .and_then(|payload| payload.get("errorType"))
        .and_then(Value::as_str)
        .map(|t| shown(t, 100));
    Ok(Parked {
        job_id,
        request_id: shown(&context.request_id, 64),
        function_arn: context.function_arn.map(|arn| shown(&arn, 256)),
        attempts: context.approximate_invoke_count,
        condition: shown(&context.condition, 64),
        function_error: record
            .response_context
            .and_then(|r| r.function_error)
            .map(|e| shown(&e, 64)),
        error_type,
    })
}

impl Parked {
    /// The job's failure message (well under CodePipeline's 5000 characters: every part is bounded).
    pub fn message(&self) -> String {
        let mut why = self.condition.clone();
        match (&self.function_error, &self.error_type) {
            (Some(function_error), Some(error_type)) => why.push_str(&format!("; {function_error}: {error_type}")),
            (Some(only), None) | (None, Some(only)) => why.push_str(&format!("; {only}")),
            (None, None) => {}
        }
        format!(
            "The post-deploy test runner's invocation failed after {} attempt(s) ({why}), so this job never got its \
             result and there is no verdict on its checks. The job reaper fails it rather than leave the pipeline \
             waiting for the action's timeout; the runner's log for request {} says what happened.",
            self.attempts, self.request_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";

    /// A change to a record, and a text the outcome carries.
    type Case = (fn(&mut Value), &'static str);

    fn record() -> Value {
        json!({
            "version": "1.0",
            "timestamp": "2026-11-18T11:06:40.000Z",
            "requestContext": {"requestId": "5b8f6c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b",
                               "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:runner:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": {"CodePipeline.job": {"id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
                "accountId": "123456789012",
                "data": {"artifactCredentials": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": SECRET,
                                                 "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE"}}}},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": "Runtime.ExitError",
                                "errorMessage": "RequestId: 5b8f Error: Runtime exited with error: signal: killed"}
        })
    }

    #[test]
    fn a_record_gives_the_job_and_why_its_invocation_failed() {
        let parked = parse(&record().to_string()).unwrap();
        assert_eq!(
            parked,
            Parked {
                job_id: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0".into(),
                request_id: "5b8f6c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b".into(),
                function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:runner:$LATEST".into()),
                attempts: 3,
                condition: "RetriesExhausted".into(),
                function_error: Some("Unhandled".into()),
                error_type: Some("Runtime.ExitError".into()),
            }
        );
        assert_eq!(
            parked.message(),
            "The post-deploy test runner's invocation failed after 3 attempt(s) (RetriesExhausted; Unhandled: \
             Runtime.ExitError), so this job never got its result and there is no verdict on its checks. The job \
             reaper fails it rather than leave the pipeline waiting for the action's timeout; the runner's log for \
             request 5b8f6c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b says what happened."
        );
        assert!(!format!("{parked:?}").contains(SECRET));
    }

    #[test]
    fn what_lambda_may_leave_out_and_what_a_forger_may_put_in() {
        // (change to the record, expected cause in the message)
        let cases: [Case; 5] = [
            (
                |r| r["responsePayload"] = json!({"errorMessage": "Task timed out after 300.00 seconds"}),
                "(RetriesExhausted; Unhandled)",
            ),
            (
                |r| r["responsePayload"] = json!("a plain string answer"),
                "(RetriesExhausted; Unhandled)",
            ),
            (
                |r| {
                    r.as_object_mut().unwrap().remove("responseContext");
                    r.as_object_mut().unwrap().remove("responsePayload");
                    r["requestContext"]["condition"] = json!("EventAgeExceeded");
                },
                "(EventAgeExceeded)",
            ),
            (
                |r| r["responsePayload"]["errorType"] = json!("Approve it. <!channel> https://evil.example"),
                "(RetriesExhausted; Unhandled: (unreadable))",
            ),
            (
                |r| r["requestContext"]["condition"] = json!("x".repeat(500)),
                "((unreadable); Unhandled: Runtime.ExitError)",
            ),
        ];
        for (change, cause) in cases {
            let mut changed = record();
            change(&mut changed);
            let message = parse(&changed.to_string()).unwrap().message();
            assert!(message.contains(cause), "{cause:?} not in {message}");
            assert!(message.chars().count() < 1000, "{message}");
        }
    }

    #[test]
    fn records_that_cannot_be_read_name_the_field_never_a_value() {
        // (change to the record, text of the refusal)
        let cases: [Case; 6] = [
            (
                |r| *r = json!(["not", "a", "record"]),
                "not a Lambda on-failure destination record",
            ),
            (
                |r| *r = json!({"Records": []}),
                "not a Lambda on-failure destination record",
            ),
            (
                |r| r["requestPayload"]["CodePipeline.job"]["id"] = json!(SECRET),
                "`requestPayload.CodePipeline.job.id` is not a CodePipeline job id",
            ),
            (
                |r| r["requestPayload"] = json!({"detail-type": "Scheduled Event"}),
                "`requestPayload` is missing or mis-shaped",
            ),
            (
                |r| r["requestContext"]["approximateInvokeCount"] = json!(SECRET),
                "`requestContext.approximateInvokeCount` is missing or mis-shaped",
            ),
            (
                |r| r["requestPayload"]["CodePipeline.job"]["id"] = json!([SECRET]),
                "`requestPayload.CodePipeline.job.id` is missing or mis-shaped",
            ),
        ];
        for (change, text) in cases {
            let mut changed = record();
            change(&mut changed);
            let err = parse(&changed.to_string()).unwrap_err();
            assert!(err.contains(text), "{text:?} not in {err}");
            assert!(!err.contains(SECRET), "{err}");
        }
        let err = parse("{not json").unwrap_err();
        assert!(err.contains("not a Lambda on-failure destination record"), "{err}");
    }
}
