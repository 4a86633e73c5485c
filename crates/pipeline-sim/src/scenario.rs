//! Scripted releases: drive an execution through a pipeline's stages the way CodePipeline would, emitting
//! every state-change event on the bus, and keep a readable timeline of what happened.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;

use crate::Simulator;
use crate::eventbridge::{
    ACTION_DETAIL_TYPE, Delivered, EventBus, PIPELINE_DETAIL_TYPE, STAGE_DETAIL_TYPE, action_detail, pipeline_detail,
    stage_detail,
};
use crate::lambda::Outcome;
use crate::model::{ArtifactRevision, ExecutionResult, Status};

/// How one action of a release ends.
#[derive(Clone, Debug)]
pub enum ActionOutcome {
    Succeed,
    Fail(ExecutionResult),
}

/// A release to play: a revision of a pipeline's source and how its actions end (success unless told).
#[derive(Clone, Debug)]
pub struct Release {
    pub pipeline: String,
    pub revision: ArtifactRevision,
    pub outcomes: HashMap<(String, String), ActionOutcome>,
}

impl Release {
    pub fn new(pipeline: &str, revision: ArtifactRevision) -> Release {
        Release {
            pipeline: pipeline.into(),
            revision,
            outcomes: HashMap::new(),
        }
    }

    pub fn failing(mut self, stage: &str, action: &str, result: ExecutionResult) -> Release {
        self.outcomes
            .insert((stage.into(), action.into()), ActionOutcome::Fail(result));
        self
    }
}

/// A human-readable log of a scenario, optionally printed as it happens.
pub struct Timeline {
    started: Instant,
    echo: bool,
    lines: Mutex<Vec<String>>,
}

impl Timeline {
    pub fn new(echo: bool) -> Timeline {
        Timeline {
            started: Instant::now(),
            echo,
            lines: Mutex::new(Vec::new()),
        }
    }

    pub fn note(&self, text: impl AsRef<str>) {
        let line = format!("[{:>6.2}s] {}", self.started.elapsed().as_secs_f64(), text.as_ref());
        if self.echo {
            println!("{line}");
        }
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What playing a release produced.
pub struct Played {
    pub execution_id: String,
    pub status: Status,
    /// Every event emitted, with what the subscribed functions made of it, in order.
    pub events: Vec<Delivered>,
}

impl Played {
    /// Events of one level (`detail-type`) and state.
    pub fn events_of(&self, detail_type: &str, state: &str) -> Vec<&Value> {
        self.events
            .iter()
            .map(|d| &d.event)
            .filter(|e| e["detail-type"] == detail_type && e["detail"]["state"] == state)
            .collect()
    }
}

fn describe(delivered: &Delivered) -> Vec<String> {
    delivered
        .deliveries
        .iter()
        .map(|(rule, delivery)| {
            let last = delivery.attempts.last().map(|a| &a.outcome);
            let verdict = match last {
                Some(Outcome::Ok(value)) => format!("{value}"),
                Some(Outcome::Error {
                    error_type,
                    error_message,
                }) => format!("error {error_type}: {error_message}"),
                Some(Outcome::Timeout) => "timed out".to_owned(),
                Some(Outcome::Crashed) => "crashed".to_owned(),
                None => "not invoked".to_owned(),
            };
            let retries = delivery.attempts.len().saturating_sub(1);
            let retried = if retries > 0 {
                format!(" after {retries} retr{}", if retries == 1 { "y" } else { "ies" })
            } else {
                String::new()
            };
            let dead = if delivery.dead_lettered {
                " → dead-letter queue"
            } else {
                ""
            };
            format!("    ↳ {rule}: {verdict}{retried}{dead}")
        })
        .collect()
}

struct Player<'a> {
    sim: &'a Simulator,
    bus: &'a EventBus,
    timeline: &'a Timeline,
    events: Vec<Delivered>,
}

impl Player<'_> {
    async fn emit(&mut self, detail_type: &str, pipeline: &str, detail: Option<Value>, headline: String) {
        let Some(detail) = detail else { return };
        let event = self.bus.envelope(detail_type, pipeline, detail);
        self.timeline.note(headline);
        let delivered = self.bus.put(event).await;
        for line in describe(&delivered) {
            self.timeline.note(line);
        }
        self.events.push(delivered);
    }
}

/// Plays `release` to its end (success, or the first failed action), emitting the events AWS would.
pub async fn play(sim: &Simulator, bus: &EventBus, release: &Release, timeline: &Timeline) -> Option<Played> {
    let (execution_id, stages) = {
        let mut world = sim.state.world();
        let stages = world.pipelines.get(&release.pipeline)?.stages.clone();
        (
            world.start_execution(&release.pipeline, vec![release.revision.clone()])?,
            stages,
        )
    };
    let pipeline = release.pipeline.as_str();
    let mut player = Player {
        sim,
        bus,
        timeline,
        events: Vec::new(),
    };
    let detail = pipeline_detail(&player.sim.state.world(), &execution_id, Status::InProgress);
    let short = release.revision.revision_id.chars().take(7).collect::<String>();
    player
        .emit(
            PIPELINE_DETAIL_TYPE,
            pipeline,
            detail,
            format!("{pipeline}: execution {execution_id} STARTED for revision {short}"),
        )
        .await;

    for stage in &stages {
        let detail = stage_detail(
            &player.sim.state.world(),
            &execution_id,
            &stage.name,
            Status::InProgress,
        );
        player
            .emit(
                STAGE_DETAIL_TYPE,
                pipeline,
                detail,
                format!("{pipeline}: stage {} STARTED", stage.name),
            )
            .await;
        for action in &stage.actions {
            let outcome = release
                .outcomes
                .get(&(stage.name.clone(), action.name.clone()))
                .cloned();
            player
                .sim
                .state
                .world()
                .start_action(&execution_id, &stage.name, &action.name)?;
            let (status, result) = match outcome {
                Some(ActionOutcome::Fail(result)) => (Status::Failed, result),
                _ => (Status::Succeeded, ExecutionResult::default()),
            };
            player
                .sim
                .state
                .world()
                .finish_action(&execution_id, &stage.name, &action.name, status, result.clone())?;
            let detail = action_detail(&player.sim.state.world(), &execution_id, &stage.name, &action.name);
            let code = result
                .error
                .as_ref()
                .map(|(code, _)| format!(" ({code})"))
                .unwrap_or_default();
            let headline = format!(
                "{pipeline}: action {} › {} ({}) {}{code}",
                stage.name,
                action.name,
                action.action_type.provider,
                status.event_name()
            );
            player.emit(ACTION_DETAIL_TYPE, pipeline, detail, headline).await;
            if status == Status::Failed {
                let detail = stage_detail(&player.sim.state.world(), &execution_id, &stage.name, Status::Failed);
                player
                    .emit(
                        STAGE_DETAIL_TYPE,
                        pipeline,
                        detail,
                        format!("{pipeline}: stage {} FAILED", stage.name),
                    )
                    .await;
                let detail = pipeline_detail(&player.sim.state.world(), &execution_id, Status::Failed);
                player
                    .emit(
                        PIPELINE_DETAIL_TYPE,
                        pipeline,
                        detail,
                        format!("{pipeline}: execution FAILED"),
                    )
                    .await;
                return Some(Played {
                    execution_id,
                    status: Status::Failed,
                    events: player.events,
                });
            }
        }
        let detail = stage_detail(&player.sim.state.world(), &execution_id, &stage.name, Status::Succeeded);
        player
            .emit(
                STAGE_DETAIL_TYPE,
                pipeline,
                detail,
                format!("{pipeline}: stage {} SUCCEEDED", stage.name),
            )
            .await;
    }
    player
        .sim
        .state
        .world()
        .finish_execution(&execution_id, Status::Succeeded)?;
    let detail = pipeline_detail(&player.sim.state.world(), &execution_id, Status::Succeeded);
    player
        .emit(
            PIPELINE_DETAIL_TYPE,
            pipeline,
            detail,
            format!("{pipeline}: execution SUCCEEDED"),
        )
        .await;
    Some(Played {
        execution_id,
        status: Status::Succeeded,
        events: player.events,
    })
}
