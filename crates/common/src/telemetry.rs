//! Logging for every function: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`, the level
//! from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`. `lambda_runtime` logs every raw event at TRACE
//! (`lambda_runtime::layers::api_response`, "raw JSON event received from Lambda"), and events carry secrets (a job
//! event's artifact credentials). That target is capped at DEBUG whatever the level says, so no setting logs them.

use lambda_runtime::tracing::subscriber::EnvFilter;
use lambda_runtime::tracing::subscriber::filter::LevelFilter;

/// The directive that keeps raw events out of the logs.
pub const RAW_EVENT_CAP: &str = "lambda_runtime::layers::api_response=debug";

/// The filter: the configured level and directives, then the cap (the most specific directive wins).
pub fn filter(aws_lambda_log_level: Option<&str>, rust_log: Option<&str>) -> EnvFilter {
    let level = aws_lambda_log_level
        .or(rust_log)
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let directives = rust_log.unwrap_or_default();
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .parse_lossy(directives);
    match RAW_EVENT_CAP.parse() {
        Ok(cap) => filter.add_directive(cap),
        Err(_) => filter,
    }
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
    fn the_raw_event_target_never_reaches_trace() {
        for (level, rust_log) in [
            (None, Some("trace")),
            (Some("TRACE"), None),
            (None, Some("info,lambda_runtime=trace")),
            (None, Some("debug")),
        ] {
            let shown = filter(level, rust_log).to_string();
            assert!(shown.contains(RAW_EVENT_CAP), "{level:?} {rust_log:?}: {shown}");
        }
        let default = filter(None, None).to_string();
        assert!(default.contains("info"), "{default}");
    }
}
