//! A tiny approval gate for the simulator's tests, deciding from each approval action's `CustomData` (JSON):
//! `{"onNotification": "approve" | "reject" | "hold", "onSweep": ..., "summary": "..", "delayMs": n}`
//! (a missing decision holds).
//!
//! - An SNS approval notification, parsed with aws_lambda_events' `SnsEventObj` (the message string into a typed
//!   request): waits `delayMs`, then decides with `onNotification`.
//! - A scheduled sweep (`EventBridgeEvent`): for each pipeline in `APPROVER_PIPELINES`, `GetPipeline` finds the
//!   approval actions whose `NotificationArn` is `APPROVER_TOPIC_ARN` and `GetPipelineState` their pending
//!   tokens; each is decided with `onSweep`.
//!
//! It answers `{"decisions": [{"action": "Stage/Action", "decision", "answer": "ok" | "<error code>" | "held"}]}`.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sns::SnsEventObj;
use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::error::ProvideErrorMetadata;
use aws_sdk_codepipeline::types::{ActionExecutionStatus, ApprovalResult, ApprovalStatus};
use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Notification {
    region: String,
    console_link: String,
    approval: Request,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Request {
    pipeline_name: String,
    stage_name: String,
    action_name: String,
    token: String,
    expires: String,
    external_entity_link: Option<String>,
    approval_review_link: String,
    custom_data: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Policy {
    on_notification: Option<String>,
    on_sweep: Option<String>,
    summary: Option<String>,
    delay_ms: Option<u64>,
}

/// The pipeline, stage, action and token of one pending approval.
struct Pending {
    pipeline: String,
    stage: String,
    action: String,
    token: String,
}

fn diagnostic(error_type: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        error_type: error_type.into(),
        error_message: message.into(),
    }
}

fn policy(custom_data: Option<&str>) -> Policy {
    custom_data
        .and_then(|data| serde_json::from_str(data).ok())
        .unwrap_or_default()
}

/// Carries out one decision: `PutApprovalResult` for approve / reject, nothing for hold.
async fn decide(client: &Client, pending: &Pending, decision: Option<&str>, summary: &str) -> Value {
    let status = match decision {
        Some("approve") => ApprovalStatus::Approved,
        Some("reject") => ApprovalStatus::Rejected,
        _ => {
            return json!({ "action": format!("{}/{}", pending.stage, pending.action), "decision": "hold", "answer": "held" });
        }
    };
    let result = ApprovalResult::builder()
        .status(status)
        .summary(summary)
        .build()
        .expect("status and summary are set");
    let sent = client
        .put_approval_result()
        .pipeline_name(&pending.pipeline)
        .stage_name(&pending.stage)
        .action_name(&pending.action)
        .token(&pending.token)
        .result(result)
        .send()
        .await;
    let answer = match sent {
        Ok(_) => "ok".to_owned(),
        Err(e) => {
            let code = e.code().unwrap_or("unknown").to_owned();
            println!(
                "approver: {}/{} already decided or refused: {code}",
                pending.stage, pending.action
            );
            code
        }
    };
    json!({ "action": format!("{}/{}", pending.stage, pending.action), "decision": decision, "answer": answer })
}

async fn on_notification(client: &Client, event: Value) -> Result<Value, Diagnostic> {
    let event: SnsEventObj<Notification> = serde_json::from_value(event)
        .map_err(|e| diagnostic("InvalidEvent", format!("not an approval notification: {e}")))?;
    let mut decisions = Vec::new();
    for record in event.records {
        let request = record.sns.message.approval;
        chrono::NaiveDateTime::parse_from_str(&request.expires, "%Y-%m-%dT%H:%MZ")
            .map_err(|e| diagnostic("InvalidEvent", format!("expires {:?}: {e}", request.expires)))?;
        let policy = policy(request.custom_data.as_deref());
        if let Some(millis) = policy.delay_ms {
            tokio::time::sleep(Duration::from_millis(millis)).await;
        }
        let pending = Pending {
            pipeline: request.pipeline_name,
            stage: request.stage_name,
            action: request.action_name,
            token: request.token,
        };
        let summary = policy.summary.as_deref().unwrap_or("approved by the example approver");
        decisions.push(decide(client, &pending, policy.on_notification.as_deref(), summary).await);
    }
    Ok(json!({ "decisions": decisions }))
}

async fn on_sweep(client: &Client, event: Value) -> Result<Value, Diagnostic> {
    let _: EventBridgeEvent =
        serde_json::from_value(event).map_err(|e| diagnostic("InvalidEvent", format!("not a scheduled event: {e}")))?;
    let topic = std::env::var("APPROVER_TOPIC_ARN").unwrap_or_default();
    let pipelines = std::env::var("APPROVER_PIPELINES").unwrap_or_default();
    let mut decisions = Vec::new();
    for pipeline in pipelines.split(',').filter(|p| !p.is_empty()) {
        let declared = client
            .get_pipeline()
            .name(pipeline)
            .send()
            .await
            .map_err(|e| diagnostic("GetPipeline", format!("{e:?}")))?;
        let state = client
            .get_pipeline_state()
            .name(pipeline)
            .send()
            .await
            .map_err(|e| diagnostic("GetPipelineState", format!("{e:?}")))?;
        for stage in declared.pipeline().map(|p| p.stages()).unwrap_or_default() {
            for action in stage.actions() {
                let config = action.configuration();
                let get = |key: &str| config.and_then(|c| c.get(key)).map(String::as_str);
                if get("NotificationArn") != Some(topic.as_str()) {
                    continue;
                }
                let token = state
                    .stage_states()
                    .iter()
                    .filter(|s| s.stage_name() == Some(stage.name()))
                    .flat_map(|s| s.action_states())
                    .filter(|a| a.action_name() == Some(action.name()))
                    .filter_map(|a| a.latest_execution())
                    .filter(|e| e.status() == Some(&ActionExecutionStatus::InProgress))
                    .find_map(|e| e.token());
                let Some(token) = token else { continue };
                let policy = policy(get("CustomData"));
                let pending = Pending {
                    pipeline: pipeline.into(),
                    stage: stage.name().into(),
                    action: action.name().into(),
                    token: token.into(),
                };
                let summary = policy
                    .summary
                    .as_deref()
                    .unwrap_or("approved by the example approver's sweep");
                decisions.push(decide(client, &pending, policy.on_sweep.as_deref(), summary).await);
            }
        }
    }
    Ok(json!({ "decisions": decisions }))
}

async fn handle(client: &Client, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let payload = event.payload;
    if payload.get("Records").is_some() {
        on_notification(client, payload).await
    } else if payload["detail-type"] == "Scheduled Event" {
        on_sweep(client, payload).await
    } else {
        Err(diagnostic(
            "InvalidEvent",
            "neither an SNS notification nor a scheduled event",
        ))
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let client = Client::new(
        &aws_config::defaults(BehaviorVersion::latest())
            .http_client(hooks_common::aws::sdk_http_client())
            .load()
            .await,
    );
    let client = &client;
    run(service_fn(move |event| async move { handle(client, event).await })).await
}
