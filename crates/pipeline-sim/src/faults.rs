//! Fault injection: make the next N calls of a service (or one operation) fail or stall.

use std::sync::Mutex;
use std::time::Duration;

/// The simulated services, as the router recognises them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    CodePipeline,
    SecretsManager,
    Slack,
    /// RPC v2 CBOR, routed by path (`/service/GraniteServiceVersion20100801/operation/<Op>`).
    CloudWatch,
    /// REST-XML, `GET /{bucket}/{key}` (operation `GetObject`).
    S3,
    /// AWS Query: a form-encoded `POST /` naming its `Action` (`Publish`).
    Sns,
    /// AWS JSON 1.1, `X-Amz-Target: StarlingDoveService.<Op>`.
    Config,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 500 with the service's internal-error shape; the SDK retries it as transient.
    ServerError,
    /// HTTP 400 `ThrottlingException` (S3: 503 `SlowDown`); the SDK retries it as throttling.
    Throttle,
    /// Answer normally, but only after this long.
    Delay(Duration),
    /// HTTP 200 with this body instead of the service's answer: what the SDK cannot parse (and, in the
    /// secrecy tests, an answer carrying a secret that must not reach any log, error or message).
    Malformed(String),
}

#[derive(Clone, Debug)]
pub struct Fault {
    pub service: Service,
    /// `None` matches every operation of the service.
    pub operation: Option<String>,
    pub kind: FaultKind,
    /// How many matching calls this fault applies to.
    pub times: u32,
    /// Only calls whose request body contains this text (e.g. one pipeline's name) match.
    pub body_contains: Option<String>,
}

impl Fault {
    pub fn new(service: Service, kind: FaultKind) -> Fault {
        Fault {
            service,
            operation: None,
            kind,
            times: u32::MAX,
            body_contains: None,
        }
    }
    /// Only calls whose request body contains `text` (a pipeline's `"name":"shop-7"`, say).
    pub fn when_body_contains(mut self, text: &str) -> Fault {
        self.body_contains = Some(text.to_owned());
        self
    }
    pub fn on(mut self, operation: &str) -> Fault {
        self.operation = Some(operation.to_owned());
        self
    }
    pub fn times(mut self, times: u32) -> Fault {
        self.times = times;
        self
    }
}

#[derive(Default)]
pub struct FaultPlan {
    faults: Mutex<Vec<Fault>>,
}

impl FaultPlan {
    pub fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap_or_else(|p| p.into_inner()).push(fault);
    }

    pub fn clear(&self) {
        self.faults.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The fault that applies to this call, if any, counting it against the fault's budget.
    pub fn take(&self, service: Service, operation: &str) -> Option<FaultKind> {
        self.take_for(service, operation, &[])
    }

    /// As [`FaultPlan::take`], for a call whose request body is known (faults that match on it can apply).
    pub fn take_for(&self, service: Service, operation: &str, body: &[u8]) -> Option<FaultKind> {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        let contains = |needle: &str| body.windows(needle.len().max(1)).any(|w| w == needle.as_bytes());
        let index = faults.iter().position(|f| {
            f.service == service
                && f.times > 0
                && f.operation.as_deref().is_none_or(|op| op == operation)
                && f.body_contains.as_deref().is_none_or(contains)
        })?;
        let fault = &mut faults[index];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            faults.remove(index);
        }
        Some(kind)
    }
}
