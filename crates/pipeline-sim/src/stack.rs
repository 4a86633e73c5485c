//! The template's resources, played locally: the simulator, the event bus with the template's rules,
//! the function binaries behind them, the functions Invoke actions call, the SNS topics approval actions
//! publish to, and scheduled sweeps. The demo, `invoke` and the end-to-end tests all start here.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::eventbridge::{EventBus, EventPattern};
use crate::lambda::{AsyncDelivery, FunctionHost, FunctionSpec};
use crate::samples;
use crate::scenario::{Played, Release, Timeline, Wiring, play_with};
use crate::{ACCOUNT, REGION, Simulator};

pub struct Stack {
    pub sim: Simulator,
    pub bus: EventBus,
    pub bin_dir: PathBuf,
    /// The functions Invoke actions call and the SNS topics approval actions publish to.
    pub wiring: Wiring,
}

impl Stack {
    /// Starts the simulator with the sample pipeline and the default Slack webhook secret
    /// (pointing at the sink's `T000/B000/deploys` route).
    pub async fn start(bin_dir: &Path) -> std::io::Result<Stack> {
        let sim = Simulator::start().await?;
        {
            let mut world = sim.state.world();
            world.put_pipeline(samples::pipeline());
            world.put_secret(samples::SLACK_SECRET, &sim.slack_webhook_url(DEFAULT_ROUTE));
        }
        Ok(Stack {
            sim,
            bus: EventBus::default(),
            bin_dir: bin_dir.to_owned(),
            wiring: Wiring::default(),
        })
    }

    /// Starts a function binary from `bin_dir` with the template's settings plus `env`, configured as the
    /// template deploys it (timeout, memory, asynchronous retries: see [`deployment`]).
    pub async fn function(&self, name: &str, env: &[(&str, &str)]) -> std::io::Result<Arc<FunctionHost>> {
        self.start_function(name, env, deployment(name)).await
    }

    /// The failure notifier behind the template's rule (action-level FAILED events only).
    pub async fn failure_notifier(&self, env: &[(&str, &str)]) -> std::io::Result<Arc<FunctionHost>> {
        let host = self.function("failure-notifier", env).await?;
        self.bus.subscribe(
            "ActionFailed rule → failure-notifier",
            EventPattern::action_failed(),
            host.clone(),
        );
        Ok(host)
    }

    /// Makes `host` the function Lambda Invoke actions with `FunctionName: function_name` invoke.
    pub fn register_lambda(&self, function_name: &str, host: Arc<FunctionHost>) {
        self.wiring.register_lambda(function_name, host);
    }

    /// Subscribes `host` to an SNS topic (approval actions publish to their `NotificationArn`); returns the
    /// subscription ARN.
    pub fn subscribe_topic(&self, topic_arn: &str, host: Arc<FunctionHost>) -> String {
        self.wiring.topics.subscribe(topic_arn, host)
    }

    /// How long a job may go unreported before it times out and fails its action (30 s unless set).
    pub fn set_job_timeout(&self, timeout: Duration) {
        self.wiring.set_job_timeout(timeout);
    }

    /// Plays a release through the simulator with this stack's bus and wiring.
    pub async fn play(&self, release: &Release, timeline: &Timeline) -> Option<Played> {
        play_with(&self.sim, &self.bus, &self.wiring, release, timeline).await
    }

    /// Invokes `host` once the way its EventBridge schedule does (asynchronously, with a `Scheduled Event`).
    pub async fn sweep(&self, host: &FunctionHost) -> AsyncDelivery {
        sweep_once(&self.sim, host).await
    }

    /// Sweeps `host` every `every` (first after one period) until the handle is stopped or dropped.
    pub fn start_sweeps(&self, host: Arc<FunctionHost>, every: Duration) -> Sweeps {
        let deliveries: Arc<Mutex<Vec<AsyncDelivery>>> = Arc::default();
        let (sim, record) = (self.sim.clone(), deliveries.clone());
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let delivery = sweep_once(&sim, &host).await;
                record.lock().unwrap_or_else(|p| p.into_inner()).push(delivery);
            }
        });
        Sweeps { task, deliveries }
    }

    /// Starts a function binary like [`Stack::function`], with its own Lambda timeout (e.g. a short one to see a
    /// function report before its deadline).
    pub async fn function_with_timeout(
        &self,
        name: &str,
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> std::io::Result<Arc<FunctionHost>> {
        let deployed = Deployment {
            timeout,
            ..deployment(name)
        };
        self.start_function(name, env, deployed).await
    }

    async fn start_function(
        &self,
        name: &str,
        env: &[(&str, &str)],
        deployed: Deployment,
    ) -> std::io::Result<Arc<FunctionHost>> {
        let binary = self.bin_dir.join(name);
        if !binary.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{} not found: build it first (`make test` builds the e2e profile, `make demo` the release one)",
                    binary.display()
                ),
            ));
        }
        let mut settings: Vec<(String, String)> = defaults(name)
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        settings.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let spec = FunctionSpec {
            name: name.to_owned(),
            binary,
            env: settings,
            timeout: deployed.timeout,
            memory_mb: deployed.memory_mb,
            async_retries: deployed.async_retries,
        };
        Ok(Arc::new(FunctionHost::start(spec, &self.sim.endpoint_url()).await?))
    }

    /// The post-deploy test runner with the template's settings plus `env` and a Lambda timeout, registered as
    /// the function Invoke actions name `samples::RUNNER_FUNCTION` call.
    pub async fn post_deploy_test_runner(
        &self,
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> std::io::Result<Arc<FunctionHost>> {
        let mut settings = vec![
            ("METRICS_NAMESPACE", "CodePipelineHooks/PostDeployTests"),
            ("RUST_LOG", "info"),
        ];
        settings.extend_from_slice(env);
        let host = self
            .function_with_timeout("post-deploy-test-runner", &settings, timeout)
            .await?;
        self.register_lambda(samples::RUNNER_FUNCTION, host.clone());
        Ok(host)
    }

    /// The synthetic canary named `name` running `suite` (JSON), with the template's settings plus `env`; invoke it
    /// with [`Stack::sweep`] (a scheduled event), as its schedule does.
    pub async fn synthetic_canary(
        &self,
        name: &str,
        suite: &str,
        env: &[(&str, &str)],
    ) -> std::io::Result<Arc<FunctionHost>> {
        let mut settings = vec![
            ("CANARY_NAME", name),
            ("CANARY_SUITE", suite),
            ("METRICS_NAMESPACE", "CodePipelineHooks/Canary"),
            ("RUST_LOG", "info"),
        ];
        settings.extend_from_slice(env);
        self.function("synthetic-canary", &settings).await
    }
}

/// Periodic sweeps in the background; they stop when this is stopped or dropped.
pub struct Sweeps {
    task: JoinHandle<()>,
    deliveries: Arc<Mutex<Vec<AsyncDelivery>>>,
}

impl Sweeps {
    /// Sweeps completed so far.
    pub fn count(&self) -> usize {
        self.deliveries().len()
    }

    /// What each completed sweep's invocation came to, in order.
    pub fn deliveries(&self) -> Vec<AsyncDelivery> {
        self.deliveries.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops sweeping (a sweep in progress is abandoned).
    pub fn stop(self) {}
}

impl Drop for Sweeps {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The name of the schedule rule that sweeps a function.
pub fn sweep_rule_name(function: &str) -> String {
    format!("{function}-sweep")
}

async fn sweep_once(sim: &Simulator, host: &FunctionHost) -> AsyncDelivery {
    let id = sim.state.world().new_id();
    host.invoke_async(scheduled_event(&sweep_rule_name(host.name()), &id))
        .await
}

/// The event an EventBridge schedule rule invokes its target with.
pub fn scheduled_event(rule_name: &str, id: &str) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}")],
        "detail": {},
    })
}

/// The Slack sink route the default webhook secret points at.
pub const DEFAULT_ROUTE: &str = "T000/B000/deploys";

/// How `template.yaml` deploys a function, as far as Lambda enforces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployment {
    pub timeout: Duration,
    pub memory_mb: u32,
    /// `EventInvokeConfig.MaximumRetryAttempts`.
    pub async_retries: u32,
}

/// The template's `Timeout`, `MemorySize` and `MaximumRetryAttempts` per function (the template test in
/// `tests/template.rs` keeps the two in step); a function the template does not know gets Lambda's defaults.
pub fn deployment(function: &str) -> Deployment {
    let (seconds, async_retries) = match function {
        "failure-notifier" | "approval-auto-approver" | "blackday-gate" | "transition-disabler" => (60, 2),
        "post-deploy-test-runner" => (300, 2),
        // No retry: the next scheduled run is the retry.
        "synthetic-canary" => (50, 0),
        _ => (60, crate::lambda::DEFAULT_ASYNC_RETRIES),
    };
    Deployment {
        timeout: Duration::from_secs(seconds),
        memory_mb: 128,
        async_retries,
    }
}

/// Environment the template gives each function, plus what the simulator needs.
fn defaults(function: &str) -> &'static [(&'static str, &'static str)] {
    match function {
        "failure-notifier" => &[("SLACK_WEBHOOK_SECRET_ID", samples::SLACK_SECRET), ("RUST_LOG", "info")],
        // The simulator's targets and feeds listen on 127.0.0.1, which functions reaching URLs from pipelines
        // refuse unless allow-listed (`hooks_common::address`); the template allows no such thing.
        "approval-auto-approver" | "blackday-gate" | "post-deploy-test-runner" | "synthetic-canary" => {
            &[("TARGET_ALLOW_CIDRS", "127.0.0.1/32")]
        }
        _ => &[],
    }
}
