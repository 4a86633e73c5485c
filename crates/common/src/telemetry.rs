//! Logging for every function: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`, the level
//! from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`. Some targets print secrets when verbose, so they are capped whatever
//! the level says, and no setting logs them:
//!
//! - `lambda_runtime` logs every raw event at TRACE (`lambda_runtime::layers::api_response`, "raw JSON event
//!   received from Lambda"), and events carry secrets (a job event's artifact credentials): capped at DEBUG.
//! - The SDK prints the identity it signs with (the credentials' access key id; it redacts the secret) at DEBUG and
//!   TRACE, in its orchestrator's endpoint and auth steps and in its signer: `aws_smithy_runtime` and `aws_sigv4`
//!   are capped at INFO. Their retries and timeouts still surface as the calls' errors.

use lambda_runtime::tracing::subscriber::EnvFilter;
use lambda_runtime::tracing::subscriber::filter::LevelFilter;

/// Each capped target and the most verbose level it may log at.
pub const CAPS: [(&str, LevelFilter); 3] = [
    ("lambda_runtime::layers::api_response", LevelFilter::DEBUG),
    ("aws_smithy_runtime", LevelFilter::INFO),
    ("aws_sigv4", LevelFilter::INFO),
];

/// The filter: the configured level and directives, then the caps (the most specific directive wins). A cap is
/// added only when something is configured more verbose than it, so a cap never makes a target louder.
pub fn filter(aws_lambda_log_level: Option<&str>, rust_log: Option<&str>) -> EnvFilter {
    let level = aws_lambda_log_level
        .or(rust_log)
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let directives = rust_log.unwrap_or_default();
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .parse_lossy(directives);
    let most_verbose = filter.max_level_hint();
    CAPS.iter()
        .filter(|(_, cap)| most_verbose.is_none_or(|most| most > *cap))
        .filter_map(|(target, cap)| format!("{target}={cap}").parse().ok())
        .fold(filter, EnvFilter::add_directive)
}

pub fn init() {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let filter = filter(env("AWS_LAMBDA_LOG_LEVEL").as_deref(), env("RUST_LOG").as_deref());
    let subscriber = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter);
    if env("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")) {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_events_and_sdk_identities_never_reach_the_logs() {
        let directive = |(target, cap): &(&str, LevelFilter)| format!("{target}={cap}");
        for (level, rust_log) in [
            (None, Some("trace")),
            (Some("TRACE"), None),
            (None, Some("info,lambda_runtime=trace")),
            (None, Some("info,aws_smithy_runtime=trace,aws_sigv4=trace")),
        ] {
            let shown = filter(level, rust_log).to_string();
            for cap in CAPS.iter().map(directive) {
                assert!(shown.contains(&cap), "{level:?} {rust_log:?}: {cap} not in {shown}");
            }
        }
        // At DEBUG only the SDK's caps are needed; at INFO none: a cap never raises a target's level.
        let debug = filter(None, Some("debug")).to_string();
        assert!(
            debug.contains("aws_smithy_runtime=info") && !debug.contains("api_response"),
            "{debug}"
        );
        let default = filter(None, None).to_string();
        assert_eq!(default, "info", "{default}");
    }
}
