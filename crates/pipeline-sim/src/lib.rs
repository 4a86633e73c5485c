//! A local stand-in for the AWS services the hooks talk to, good enough to trust in tests and the demo.
//!
//! One HTTP server answers every AWS protocol the functions speak (routed by `X-Amz-Target`, path or form
//! `Action`; S3's path-style `GET /{bucket}/{key}` by method and path), keeps state like the service does, and can inject faults. The Slack sink lives on the same
//! server under `/slack/`. Each function binary runs as a child process against its own Lambda Runtime API
//! ([`lambda::FunctionHost`]), with `AWS_ENDPOINT_URL` pointing the real SDK back here.
//!
//! Never deployed: this crate exists for `make test` and `make demo`.

pub mod artifacts;
pub mod aws;
pub mod cloudwatch;
pub mod codepipeline;
pub mod config;
pub mod demo;
pub mod eventbridge;
pub mod faults;
pub mod guarding;
pub mod lambda;
pub mod model;
mod paging;
pub mod s3;
pub mod samples;
pub mod scenario;
pub mod secrets;
pub mod server;
pub mod slack;
pub mod sns;
pub mod sns_query;
pub mod stack;
pub mod target;
pub mod terminal;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

pub use faults::{Fault, FaultKind, Service};
pub use model::World;

/// Region and account every simulated resource lives in.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// Everything the simulator knows, shared between the HTTP server and the test or demo driving it.
#[derive(Default)]
pub struct SimState {
    pub world: Mutex<World>,
    pub faults: faults::FaultPlan,
    pub slack: slack::SlackSink,
    /// Every AWS call answered, as (service, operation), in order: lets tests assert "no call was made".
    pub calls: Mutex<Vec<(Service, String)>>,
    /// CloudWatch metrics and alarms (RPC v2 CBOR); see [`cloudwatch`].
    pub cloudwatch: Mutex<cloudwatch::CloudWatchState>,
    /// S3 buckets and objects (REST-XML, `GetObject`); see [`s3`].
    pub s3: Mutex<s3::S3State>,
    /// SNS topics functions publish notices to (AWS Query `Publish`); see [`sns_query`].
    pub sns_topics: Mutex<sns_query::SnsTopics>,
    /// How many of CloudWatch's alarm transitions were put on the event bus (see [`guarding`]).
    pub alarm_events_sent: Mutex<usize>,
    /// AWS Config rules, results and configuration history (JSON 1.1); see [`config`].
    pub config: Mutex<config::ConfigState>,
}

impl SimState {
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn cloudwatch(&self) -> MutexGuard<'_, cloudwatch::CloudWatchState> {
        self.cloudwatch.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn s3(&self) -> MutexGuard<'_, s3::S3State> {
        self.s3.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn sns_topics(&self) -> MutexGuard<'_, sns_query::SnsTopics> {
        self.sns_topics.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn config(&self) -> MutexGuard<'_, config::ConfigState> {
        self.config.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many times `operation` of `service` was called.
    pub fn call_count(&self, service: Service, operation: &str) -> usize {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(s, op)| *s == service && op == operation)
            .count()
    }
}

/// A running simulator: its state plus the address of its HTTP server.
#[derive(Clone)]
pub struct Simulator {
    pub state: Arc<SimState>,
    addr: SocketAddr,
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port and serves until the process ends.
    pub async fn start() -> std::io::Result<Simulator> {
        let state = Arc::new(SimState::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = server::router(state.clone());
        tokio::spawn(async move {
            // The server only stops with the process; an accept error here is a broken test machine.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Simulator { state, addr })
    }

    /// The URL to put in `AWS_ENDPOINT_URL` for a function or SDK client.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A Slack incoming-webhook URL served by the sink; `route` names the channel in tests.
    pub fn slack_webhook_url(&self, route: &str) -> String {
        format!("http://{}/slack/{route}", self.addr)
    }
}
