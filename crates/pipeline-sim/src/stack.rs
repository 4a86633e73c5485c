//! The template's resources, played locally: the simulator, the event bus with the template's rules,
//! and the function binaries behind them. The demo, `invoke` and the end-to-end tests all start here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::Simulator;
use crate::eventbridge::{EventBus, EventPattern};
use crate::lambda::{FunctionHost, FunctionSpec};
use crate::samples;

pub struct Stack {
    pub sim: Simulator,
    pub bus: EventBus,
    pub bin_dir: PathBuf,
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
        })
    }

    /// Starts a function binary from `bin_dir` with the template's settings plus `env`.
    pub async fn function(&self, name: &str, env: &[(&str, &str)]) -> std::io::Result<Arc<FunctionHost>> {
        let binary = self.bin_dir.join(name);
        if !binary.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{} not found: build it first (`cargo build --bins`, or `make demo`)",
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
            timeout: Duration::from_secs(60),
            memory_mb: 128,
        };
        Ok(Arc::new(FunctionHost::start(spec, &self.sim.endpoint_url()).await?))
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
}

/// The Slack sink route the default webhook secret points at.
pub const DEFAULT_ROUTE: &str = "T000/B000/deploys";

/// Environment the template gives each function.
fn defaults(function: &str) -> &'static [(&'static str, &'static str)] {
    match function {
        "failure-notifier" => &[("SLACK_WEBHOOK_SECRET_ID", samples::SLACK_SECRET), ("RUST_LOG", "info")],
        _ => &[],
    }
}
