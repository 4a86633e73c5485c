//! Logging: JSON lines in Lambda (when `AWS_LAMBDA_LOG_FORMAT=JSON`), level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
//!
//! Handlers log facts (pipeline, execution id, decision), never raw events: CodePipeline job events carry
//! temporary credentials, and webhook URLs are secrets.

pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}
