//! One way to serve a function: telemetry, start-up errors reported through the Runtime API (with their
//! `errorType` and a readable message), events that are not JSON answered as `MalformedEvent`, and the
//! invocation's deadline handed to the function. A function's `main.rs` is one call to [`serve`].

mod deadline;
mod init_error;
mod malformed;

use std::future::Future;
use std::time::Instant;

use lambda_runtime::{Diagnostic, LambdaEvent, Runtime, service_fn};
use serde::Serialize;
use serde_json::Value;

pub use deadline::{FALLBACK, deadline, remaining};

use crate::Error;
use crate::settings::Env;

/// What every invocation knows besides its event.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// When Lambda stops the invocation; every call and wait is bounded by it.
    pub deadline: Instant,
    pub request_id: String,
}

impl Invocation {
    /// An invocation with `budget` left, for tests that call a function directly.
    pub fn with_budget(budget: std::time::Duration) -> Invocation {
        Invocation {
            deadline: Instant::now() + budget,
            request_id: "test".to_owned(),
        }
    }
}

/// A Lambda function of this suite: built once at start-up, then asked to handle one event at a time.
pub trait Function: Send + Sync {
    /// What the invocation returns (visible to the invoker, the simulator and `make invoke`).
    type Output: Serialize + Send;
    /// Why an invocation failed; Lambda sees it as the `Diagnostic` (`errorType`, `errorMessage`).
    type Error: From<Error> + Into<Diagnostic> + std::fmt::Debug + std::fmt::Display + Send;

    fn invoke(
        &self,
        event: Value,
        invocation: Invocation,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;
}

/// Serves the function `start` builds from the environment, until the runtime stops. A start-up error is logged
/// in plain words, reported to the Runtime API's init-error call, and ends the process.
pub async fn serve<F, S>(start: S) -> Result<(), lambda_runtime::Error>
where
    F: Function,
    S: AsyncFnOnce(&Env) -> Result<F, Error>,
{
    crate::telemetry::init();
    // With unwinding on, the default hook prints a panic's message to the logs, and a message formatted from what
    // the function was handling can carry a URL or a credential: say where it panicked, never what it said. The
    // function's own handling (the runner's job report, the runtime's error response) still follows.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(%location, "panicked (the message is not logged: it may carry a secret)");
    }));
    let function = match start(&Env::process()).await {
        Ok(function) => function,
        Err(error) => {
            tracing::error!(error_type = error.error_type(), %error, "cannot start");
            init_error::report(&error).await;
            return Err(error.into());
        }
    };
    let function = &function;
    let handler = service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = Invocation {
            deadline: deadline(&event.context, FALLBACK),
            request_id: event.context.request_id.clone(),
        };
        if let Some(problem) = malformed::problem(&event.payload) {
            return Err(F::Error::from(Error::Event {
                field: "(the whole event)".into(),
                problem: format!("is not JSON: {problem}"),
            }));
        }
        function.invoke(event.payload, invocation).await
    });
    // Boxed: the runtime's future nests every layer's and the function's; unboxed, its type is deep enough to pass
    // the compiler's layout recursion limit in a gate's `main`.
    Box::pin(Runtime::new(handler).layer(malformed::MalformedEventLayer).run()).await
}

impl From<Error> for Diagnostic {
    fn from(error: Error) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}
