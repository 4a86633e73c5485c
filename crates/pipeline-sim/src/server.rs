//! One HTTP server for every simulated AWS service: route by protocol, apply faults, record the call.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::aws::{AwsError, json_error, json_ok};
use crate::faults::{FaultKind, Service};
use crate::{SimState, cloudwatch, codepipeline, config, s3, secrets, slack};

pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/slack/{*route}", post(slack::receive))
        .route(
            "/service/GraniteServiceVersion20100801/operation/{operation}",
            post(cloudwatch_call),
        )
        // S3 REST: path-style GetObject. AWS JSON calls POST to `/`, so no other route shares these paths.
        .route("/{bucket}/{*key}", get(s3::get_object))
        .fallback(aws_call)
        .with_state(state)
}

/// Which service and operation an AWS JSON 1.1 request is for, from its `X-Amz-Target` header.
fn target(headers: &HeaderMap) -> Option<(Service, String)> {
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    let (prefix, operation) = target.split_once('.')?;
    let service = match prefix {
        "CodePipeline_20150709" => Service::CodePipeline,
        "secretsmanager" => Service::SecretsManager,
        "StarlingDoveService" => Service::Config,
        _ => return None,
    };
    Some((service, operation.to_owned()))
}

async fn aws_call(State(state): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    // AWS Query (SNS) posts a form to `/` instead of naming a target.
    if crate::sns_query::is_query_request(&headers) {
        return crate::sns_query::serve(&state, &body).await;
    }
    let Some((service, operation)) = target(&headers) else {
        return json_error(&AwsError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            "the simulator does not serve this target",
        ));
    };
    state
        .calls
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((service, operation.clone()));

    if let Some(fault) = state.faults.take_for(service, &operation, &body) {
        match fault {
            FaultKind::ServerError => {
                return json_error(&AwsError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalFailure",
                    "injected fault: internal error",
                ));
            }
            FaultKind::Throttle => {
                return json_error(&AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "ThrottlingException",
                    "injected fault: Rate exceeded",
                ));
            }
            FaultKind::Delay(delay) => tokio::time::sleep(delay).await,
            FaultKind::Malformed(body) => {
                return ([(header::CONTENT_TYPE, "application/x-amz-json-1.1")], body).into_response();
            }
        }
    }

    let request: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(e) => {
                return json_error(&AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "SerializationException",
                    e.to_string(),
                ));
            }
        }
    };
    let answer = match service {
        Service::CodePipeline if codepipeline::transitions::serves(&operation) => {
            codepipeline::transitions::handle(&state, &operation, &request, &headers)
        }
        Service::CodePipeline => codepipeline::handle(&state, &operation, &request),
        Service::SecretsManager => secrets::handle(&state, &operation, &request),
        Service::Config => config::handle(&state, &operation, &request),
        Service::Slack => unreachable!("Slack is routed by path, not X-Amz-Target"),
        Service::CloudWatch => unreachable!("CloudWatch is routed by path, not X-Amz-Target"),
        Service::S3 => unreachable!("S3 is routed by method and path, not X-Amz-Target"),
        Service::Sns => unreachable!("SNS is routed by its form-encoded body, not X-Amz-Target"),
    };
    match answer {
        Ok(body) => json_ok(body),
        Err(error) => json_error(&error),
    }
}

/// CloudWatch speaks Smithy RPC v2 CBOR: the operation is in the path, the body is CBOR, and errors carry the
/// query-compatible code header. Recorded and faulted like the JSON services.
async fn cloudwatch_call(
    State(state): State<Arc<SimState>>,
    Path(operation): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state
        .calls
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((Service::CloudWatch, operation.clone()));

    if let Some(fault) = state.faults.take_for(Service::CloudWatch, &operation, &body) {
        match fault {
            FaultKind::ServerError => {
                let error = cloudwatch::CloudWatchError::internal("injected fault: internal error");
                return cloudwatch::error_response(&headers, &error);
            }
            FaultKind::Throttle => {
                let error = cloudwatch::CloudWatchError::throttling("injected fault: Rate exceeded");
                return cloudwatch::error_response(&headers, &error);
            }
            FaultKind::Delay(delay) => tokio::time::sleep(delay).await,
            FaultKind::Malformed(body) => {
                return ([(header::CONTENT_TYPE, "application/cbor")], body).into_response();
            }
        }
    }
    cloudwatch::serve(&state, &operation, &headers, &body)
}
