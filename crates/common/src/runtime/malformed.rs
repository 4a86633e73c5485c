//! An event that is not JSON never reaches a handler as such: `lambda_runtime` would fail it with the type name
//! `&lambda_runtime::deserializer::DeserializeError` as its `errorType`. This layer, outermost in the runtime,
//! swaps such a body for a small JSON marker carrying serde's description of the problem (a position, never the
//! body: it may carry credentials), and `serve` answers the marker with `MalformedEvent`.

use std::task::{Context, Poll};

use lambda_runtime::LambdaInvocation;
use lambda_runtime::tower::{Layer, Service};
use serde_json::Value;

/// The key of the marker object. Nothing AWS sends has it; a caller who sends it gets `MalformedEvent`, which
/// is what it deserves.
pub(super) const MARKER: &str = "__codepipeline_hooks_malformed_event";

#[derive(Clone, Copy)]
pub(super) struct MalformedEventLayer;

impl<S> Layer<S> for MalformedEventLayer {
    type Service = MalformedEvent<S>;
    fn layer(&self, inner: S) -> MalformedEvent<S> {
        MalformedEvent { inner }
    }
}

#[derive(Clone)]
pub(super) struct MalformedEvent<S> {
    inner: S,
}

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for MalformedEvent<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> S::Future {
        if let Err(problem) = serde_json::from_slice::<serde::de::IgnoredAny>(&invocation.body) {
            let marker = serde_json::json!({ MARKER: problem.to_string() });
            invocation.body = marker.to_string().into();
        }
        self.inner.call(invocation)
    }
}

/// The problem the layer recorded, if `event` is its marker.
pub(super) fn problem(event: &Value) -> Option<&str> {
    let object = event.as_object()?;
    (object.len() == 1).then(|| object.get(MARKER)?.as_str())?
}
