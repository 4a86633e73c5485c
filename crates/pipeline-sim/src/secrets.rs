//! Secrets Manager (AWS JSON 1.1): `GetSecretValue`, the one call the functions make.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::SimState;
use crate::aws::{AwsError, required_str};

pub fn handle(state: &SimState, operation: &str, request: &Value) -> Result<Value, AwsError> {
    match operation {
        "GetSecretValue" => get_secret_value(state, request),
        other => Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            format!("the simulator does not implement secretsmanager.{other}"),
        )),
    }
}

fn get_secret_value(state: &SimState, request: &Value) -> Result<Value, AwsError> {
    let secret_id = required_str(request, "SecretId").map_err(|_| {
        AwsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameterException",
            "SecretId is required",
        )
    })?;
    let world = state.world();
    let secret = world.secret(secret_id).ok_or_else(|| {
        AwsError::new(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
        )
    })?;
    Ok(json!({
        "ARN": secret.arn,
        "Name": secret.name,
        "VersionId": "00000000-0000-4000-8000-000000000001",
        "SecretString": secret.value,
        "VersionStages": ["AWSCURRENT"],
        "CreatedDate": 1_700_000_000.0,
    }))
}
