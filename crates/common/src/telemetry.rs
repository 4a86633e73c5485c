//! Logging for every function: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`, the level
//! from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`. Some targets print secrets when verbose, so they are capped whatever
//! the level says, and no setting logs them:
//!
//! - `lambda_runtime` logs every raw event at TRACE (`lambda_runtime::layers::api_response`, "raw JSON event
//!   received from Lambda"), and events carry secrets (a job event's artifact credentials): capped at DEBUG.
//! - The SDK prints the identity it signs with (the credentials' access key id; it redacts the secret) at DEBUG and
//!   TRACE, in its orchestrator's endpoint and auth steps and in its signer: `aws_smithy_runtime` and `aws_sigv4`
//!   are capped at INFO. Their retries and timeouts still surface as the calls' errors.
//!
//! The caps are a filter of their own, and a span or event is logged only when both it and the configured
//! filter let it through: no directive, however specific (`aws_smithy_runtime::client=trace`,
//! `[{body}]=trace`), can lift them.
//!
//! `RUST_LOG` takes `target=level` directives (`info,hooks=debug`), read by tracing-subscriber's `Targets`
//! rather than its `EnvFilter`, whose span and regex field filters would link a regex engine into every binary
//! for a setting no one uses in Lambda; a directive that cannot be read is skipped, as `EnvFilter` skipped it.

use tracing::{Dispatch, Metadata, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::filter::{self, FilterExt, LevelFilter, Targets};
use tracing_subscriber::fmt::{self, MakeWriter};
use tracing_subscriber::layer::{Filter, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Each capped target and the most verbose level it may log at. A cap covers every target that starts with it
/// (as an `EnvFilter` directive's target does), so `aws_smithy_runtime` covers `aws_smithy_runtime::client::…`.
pub const CAPS: [(&str, LevelFilter); 3] = [
    ("lambda_runtime::layers::api_response", LevelFilter::DEBUG),
    ("aws_smithy_runtime", LevelFilter::INFO),
    ("aws_sigv4", LevelFilter::INFO),
];

/// Whether the caps let a span or event through: not when its target is capped at a less verbose level.
pub fn within_caps(metadata: &Metadata<'_>) -> bool {
    CAPS.iter()
        .filter(|(target, _)| metadata.target().starts_with(target))
        .all(|(_, cap)| *cap >= *metadata.level())
}

/// The configured level and directives, as they were given (the caps are not in it). The level is
/// `AWS_LAMBDA_LOG_LEVEL`'s (Lambda's logging controls), else `RUST_LOG`'s bare level, else INFO.
pub fn configured(aws_lambda_log_level: Option<&str>, rust_log: Option<&str>) -> Targets {
    let level = aws_lambda_log_level
        .or(rust_log)
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let readable: Vec<&str> = rust_log
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        // Both sides of a `target=level` named (an empty level would read as ERROR, an empty target as all).
        .filter(|directive| !directive.split('=').any(|side| side.trim().is_empty()))
        .filter(|directive| directive.parse::<Targets>().is_ok())
        .collect();
    let targets = if readable.is_empty() {
        Targets::new()
    } else {
        readable.join(",").parse().unwrap_or_default()
    };
    if aws_lambda_log_level.is_some() || targets.default_level().is_none() {
        targets.with_default(level)
    } else {
        targets
    }
}

/// The filter: the configured one and the caps, both of which must let a span or event through.
pub fn filter<S>(aws_lambda_log_level: Option<&str>, rust_log: Option<&str>) -> impl Filter<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // The caps never make anything more verbose, so the configured filter's level hint stands.
    let caps = filter::filter_fn(within_caps).with_max_level_hint(LevelFilter::TRACE);
    configured(aws_lambda_log_level, rust_log).and(caps)
}

/// The subscriber `init` installs, writing to `writer`.
fn dispatch<W>(aws_lambda_log_level: Option<&str>, rust_log: Option<&str>, json: bool, writer: W) -> Dispatch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = filter(aws_lambda_log_level, rust_log);
    let layer = fmt::layer().with_target(false).without_time().with_writer(writer);
    if json {
        Dispatch::new(Registry::default().with(layer.json().with_filter(filter)))
    } else {
        Dispatch::new(Registry::default().with(layer.with_filter(filter)))
    }
}

pub fn init() {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let json = env("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    dispatch(
        env("AWS_LAMBDA_LOG_LEVEL").as_deref(),
        env("RUST_LOG").as_deref(),
        json,
        std::io::stdout,
    )
    .init();
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What the installed subscriber writes for one event of each kind, at each level, from the capped targets
    /// and from ours.
    fn logged(aws_lambda_log_level: Option<&str>, rust_log: Option<&str>, json: bool) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let dispatch = dispatch(aws_lambda_log_level, rust_log, json, move || writer.clone());
        tracing::dispatcher::with_default(&dispatch, || {
            const SMITHY: &str = "aws_smithy_runtime::client::orchestrator";
            tracing::trace!(target: SMITHY, access_key_id = "AKIDSMITHYTRACE", "smithy-trace");
            tracing::debug!(target: SMITHY, access_key_id = "AKIDSMITHYDEBUG", "smithy-debug");
            tracing::info!(target: SMITHY, "smithy-info");
            const SIGV4: &str = "aws_sigv4::http_request";
            tracing::trace!(target: SIGV4, "sigv4-trace");
            tracing::debug!(target: SIGV4, "sigv4-debug");
            tracing::info!(target: SIGV4, "sigv4-info");
            const RAW: &str = "lambda_runtime::layers::api_response";
            tracing::trace!(target: RAW, body = "RAW-EVENT-BODY", "raw JSON event received from Lambda");
            tracing::debug!(target: RAW, "api-response-debug");
            const OURS: &str = "hooks::handler";
            let span = tracing::trace_span!(target: SIGV4, "sign", access_key_id = "AKIDSPAN");
            let _entered = span.enter();
            tracing::trace!(target: OURS, "ours-trace");
            tracing::debug!(target: OURS, "ours-debug");
            tracing::info!(target: OURS, "ours-info");
        });
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn no_setting_lifts_the_caps() {
        let hostile = [
            (None, Some("trace")),
            (Some("TRACE"), None),
            (Some("TRACE"), Some("trace")),
            (None, Some("info,hooks=trace,aws_smithy_runtime::client=trace")),
            (
                None,
                Some("info,hooks=trace,aws_smithy_runtime::client::orchestrator=trace"),
            ),
            (
                None,
                Some("info,hooks=trace,aws_sigv4::http_request=trace,aws_sigv4=trace"),
            ),
            (
                None,
                Some("info,hooks=trace,lambda_runtime::layers::api_response=trace"),
            ),
            (None, Some("info,hooks=trace,[{body}]=trace,[{access_key_id}]=trace")),
            (
                None,
                Some("info,hooks=trace,[sign]=trace,aws_smithy_runtime=trace,aws_sigv4=trace"),
            ),
        ];
        for (level, rust_log) in hostile {
            for json in [false, true] {
                let logs = logged(level, rust_log, json);
                let case = format!("{level:?} {rust_log:?} json={json}:\n{logs}");
                for hidden in [
                    "smithy-trace",
                    "smithy-debug",
                    "AKIDSMITHY",
                    "sigv4-trace",
                    "sigv4-debug",
                    "AKIDSPAN",
                    "RAW-EVENT-BODY",
                    "raw JSON event",
                ] {
                    assert!(!logs.contains(hidden), "{hidden} logged for {case}");
                }
                for shown in ["smithy-info", "sigv4-info", "ours-trace", "ours-debug", "ours-info"] {
                    assert!(logs.contains(shown), "{shown} not logged for {case}");
                }
            }
        }
    }

    #[test]
    fn the_caps_change_nothing_else() {
        // At TRACE everything outside the caps is logged, and a capped target still logs at its cap.
        let everything = logged(None, Some("trace"), false);
        assert!(everything.contains("api-response-debug"), "{everything}");
        // The configured level and directives work as before, and a cap never makes a target louder.
        let default = logged(None, None, false);
        for (shown, expected) in [
            ("ours-info", true),
            ("ours-debug", false),
            ("smithy-info", true),
            ("api-response-debug", false),
        ] {
            assert_eq!(default.contains(shown), expected, "{shown}: {default}");
        }
        let scoped = logged(None, Some("warn,hooks=debug,aws_smithy_runtime=error"), false);
        assert!(
            scoped.contains("ours-debug") && !scoped.contains("ours-trace"),
            "{scoped}"
        );
        assert!(
            !scoped.contains("smithy-info") && !scoped.contains("sigv4-info"),
            "{scoped}"
        );
    }

    #[test]
    fn directives_that_cannot_be_read_are_skipped_and_the_rest_stand() {
        let lossy = logged(None, Some("warn,hooks=debug,a==b,x[{y=info,"), false);
        assert!(lossy.contains("ours-debug") && !lossy.contains("ours-trace"), "{lossy}");
        assert!(!lossy.contains("smithy-info"), "the bare level stands: {lossy}");
        let nothing_readable = logged(None, Some("=,,a==b"), false);
        assert!(
            nothing_readable.contains("ours-info") && !nothing_readable.contains("ours-debug"),
            "INFO when nothing can be read: {nothing_readable}"
        );
        let lambda_level = logged(Some("DEBUG"), Some("warn"), false);
        assert!(
            lambda_level.contains("ours-debug") && !lambda_level.contains("ours-trace"),
            "AWS_LAMBDA_LOG_LEVEL sets the level: {lambda_level}"
        );
    }
}
