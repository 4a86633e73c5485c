//! Scripted releases: drive an execution through a pipeline's stages the way CodePipeline would, emitting
//! every state-change event on the bus, and keep a readable timeline of what happened.
//!
//! Most actions end as the [`Release`] scripts them. Two kinds run for real through the [`Wiring`]:
//! a Lambda Invoke action creates jobs and invokes the registered function ([`jobs`]), and a Manual approval
//! publishes to its topic's subscribers and waits for an answer ([`approvals`]).

mod approvals;
mod jobs;
mod transitions;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::JoinHandle;

use crate::Simulator;
use crate::codepipeline::{artifact_bucket, artifact_object_key};
use crate::eventbridge::{
    ACTION_DETAIL_TYPE, Delivered, EventBus, PIPELINE_DETAIL_TYPE, STAGE_DETAIL_TYPE, action_detail, pipeline_detail,
    stage_detail,
};
use crate::lambda::{AsyncDelivery, FunctionHost, Outcome};
use crate::model::{ActionDecl, Approval, ArtifactRevision, ExecutionResult, Job, JobState, StageDecl, Status};
use crate::sns::{Notification, Topics};

/// How one action of a release ends.
#[derive(Clone, Debug)]
pub enum ActionOutcome {
    Succeed,
    Fail(ExecutionResult),
}

/// A release to play: a revision of a pipeline's source and how its actions end (success unless told).
/// Lambda Invoke and Manual approval actions end as their functions (or a person) decide, not as scripted.
#[derive(Clone, Debug)]
pub struct Release {
    pub pipeline: String,
    pub revision: ArtifactRevision,
    pub outcomes: HashMap<(String, String), ActionOutcome>,
    /// Artifact contents by artifact name (zip files): what the release's source and build actions upload to
    /// the artifact bucket, where jobs' input artifacts point.
    pub artifacts: BTreeMap<String, Vec<u8>>,
}

impl Release {
    pub fn new(pipeline: &str, revision: ArtifactRevision) -> Release {
        Release {
            pipeline: pipeline.into(),
            revision,
            outcomes: HashMap::new(),
            artifacts: BTreeMap::new(),
        }
    }

    /// The artifact `name` of this release holds `zip` (see [`crate::artifacts::zip_artifact`]).
    pub fn with_artifact(mut self, name: &str, zip: Vec<u8>) -> Release {
        self.artifacts.insert(name.into(), zip);
        self
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

// ---- Wiring: what Invoke and approval actions reach ----

/// How long the player waits, and for what.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// A job nobody reports within this long times out and fails its action (unless the action sets a timeout).
    pub job_timeout: Duration,
    /// The most jobs one action run may chain through continuation tokens before the player fails it.
    pub max_jobs_per_action: usize,
    /// The longest the player waits on one approval before it stops playing (the execution stays InProgress).
    pub wait_bound: Duration,
    /// After an action settles, how long to wait for its functions' invocations to finish, for the timeline.
    pub delivery_grace: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            job_timeout: Duration::from_secs(30),
            max_jobs_per_action: 50,
            wait_bound: Duration::from_secs(120),
            delivery_grace: Duration::from_secs(10),
        }
    }
}

/// The functions Lambda Invoke actions name (by `FunctionName`), the SNS topics approval actions publish to,
/// and the player's settings.
#[derive(Default)]
pub struct Wiring {
    lambdas: Mutex<BTreeMap<String, Arc<FunctionHost>>>,
    pub topics: Topics,
    settings: Mutex<Settings>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Wiring {
    /// Makes `host` the function an Invoke action's `FunctionName: function_name` invokes.
    pub fn register_lambda(&self, function_name: &str, host: Arc<FunctionHost>) {
        lock(&self.lambdas).insert(function_name.into(), host);
    }

    /// The function registered under a `FunctionName` (a name or a function ARN).
    pub fn lambda(&self, function_name: &str) -> Option<Arc<FunctionHost>> {
        let name = crate::codepipeline::jobs::function_name_of(function_name);
        lock(&self.lambdas).get(name).cloned()
    }

    pub fn settings(&self) -> Settings {
        *lock(&self.settings)
    }

    pub fn set_settings(&self, settings: Settings) {
        *lock(&self.settings) = settings;
    }

    pub fn set_job_timeout(&self, timeout: Duration) {
        lock(&self.settings).job_timeout = timeout;
    }

    pub fn set_wait_bound(&self, bound: Duration) {
        lock(&self.settings).wait_bound = bound;
    }
}

// ---- What a release produced ----

/// What playing a release produced.
pub struct Played {
    pub execution_id: String,
    /// Succeeded, Failed, or InProgress when the player stopped waiting on an approval ([`Settings::wait_bound`]).
    pub status: Status,
    /// Every event emitted, with what the subscribed functions made of it, in order.
    pub events: Vec<Delivered>,
    /// The execution's jobs as they stood when the play ended (reports arriving later: see `World::jobs`).
    pub jobs: Vec<Job>,
    /// The execution's approval requests as they stood when the play ended.
    pub approvals: Vec<Approval>,
    /// The SNS messages approval actions published.
    pub notifications: Vec<Notification>,
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

    /// The jobs of one action, in order.
    pub fn jobs_of(&self, stage: &str, action: &str) -> Vec<&Job> {
        self.jobs
            .iter()
            .filter(|j| j.stage == stage && j.action == action)
            .collect()
    }

    /// Jobs nobody reported before their deadline: each one failed its action.
    pub fn timed_out_jobs(&self) -> Vec<&Job> {
        self.jobs.iter().filter(|j| j.state == JobState::TimedOut).collect()
    }

    /// Panics, naming them, if any job timed out: for tests where every function is expected to report.
    pub fn assert_no_timed_out_jobs(&self) {
        let timed_out: Vec<String> = self
            .timed_out_jobs()
            .iter()
            .map(|j| format!("job {} ({}) of {} → {}", j.sequence, j.id, j.label(), j.function_name))
            .collect();
        assert!(
            timed_out.is_empty(),
            "the function never reported (no PutJobSuccessResult or PutJobFailureResult) for: {}",
            timed_out.join("; ")
        );
    }
}

// ---- Timeline lines for deliveries ----

/// One line per function an event reached: its verdict, retries and dead-lettering. `show_value` prints what
/// the function answered (never for job events: their functions hold artifact credentials).
fn describe_deliveries<'a>(
    deliveries: impl IntoIterator<Item = (&'a str, &'a AsyncDelivery)>,
    show_value: bool,
) -> Vec<String> {
    deliveries
        .into_iter()
        .map(|(target, delivery)| {
            let last = delivery.attempts.last().map(|a| &a.outcome);
            let verdict = match last {
                Some(Outcome::Ok(value)) if show_value => format!("{value}"),
                Some(Outcome::Ok(_)) => "ok".to_owned(),
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
            format!("    ↳ {target}: {verdict}{retried}{dead}")
        })
        .collect()
}

fn describe(delivered: &Delivered) -> Vec<String> {
    describe_deliveries(delivered.deliveries.iter().map(|(rule, d)| (rule.as_str(), d)), true)
}

/// Asynchronous invocations in flight, by the function they went to.
type InFlight = Vec<(String, JoinHandle<AsyncDelivery>)>;

fn invoke_in_background(host: Arc<FunctionHost>, event: Value) -> (String, JoinHandle<AsyncDelivery>) {
    let name = host.name().to_owned();
    (name, tokio::spawn(async move { host.invoke_async(event).await }))
}

// ---- The player ----

/// How long to sleep between looks at the model while waiting for a report or an answer.
const POLL: Duration = Duration::from_millis(10);

/// What kind of action this is, for the player.
enum ActionKind {
    /// Ends as the release scripts it, at once.
    Scripted,
    LambdaInvoke,
    ManualApproval,
}

impl ActionKind {
    fn of(action: &ActionDecl) -> ActionKind {
        if action.action_type.is_lambda_invoke() {
            ActionKind::LambdaInvoke
        } else if action.action_type.is_manual_approval() {
            ActionKind::ManualApproval
        } else {
            ActionKind::Scripted
        }
    }
}

/// The action being played.
struct ActionRun<'r> {
    execution_id: &'r str,
    stage: &'r StageDecl,
    action: &'r ActionDecl,
}

impl ActionRun<'_> {
    /// `Stage › Action`.
    fn label(&self) -> String {
        format!("{} › {}", self.stage.name, self.action.name)
    }
}

struct Player<'a> {
    sim: &'a Simulator,
    bus: &'a EventBus,
    wiring: &'a Wiring,
    timeline: &'a Timeline,
    pipeline: String,
    events: Vec<Delivered>,
    notifications: Vec<Notification>,
}

impl Player<'_> {
    fn note(&self, text: impl AsRef<str>) {
        self.timeline.note(text);
    }

    async fn emit(&mut self, detail_type: &str, detail: Option<Value>, headline: String) {
        let Some(detail) = detail else { return };
        let event = self.bus.envelope(detail_type, &self.pipeline, detail);
        self.timeline.note(headline);
        let delivered = self.bus.put(event).await;
        for line in describe(&delivered) {
            self.timeline.note(line);
        }
        self.events.push(delivered);
    }

    async fn emit_pipeline(&mut self, execution_id: &str, status: Status, headline: String) {
        let detail = pipeline_detail(&self.sim.state.world(), execution_id, status);
        self.emit(PIPELINE_DETAIL_TYPE, detail, headline).await;
    }

    async fn emit_stage(&mut self, execution_id: &str, stage: &str, status: Status) {
        let detail = stage_detail(&self.sim.state.world(), execution_id, stage, status);
        let headline = format!("{}: stage {stage} {}", self.pipeline, status.event_name());
        self.emit(STAGE_DETAIL_TYPE, detail, headline).await;
    }

    /// The action-level event for the action's latest run, in its current state.
    async fn emit_action(&mut self, run: &ActionRun<'_>) {
        let (detail, status, code) = {
            let world = self.sim.state.world();
            let latest = world
                .execution(run.execution_id)
                .and_then(|e| e.latest_run(&run.stage.name, &run.action.name));
            let status = latest.map_or(Status::InProgress, |a| a.status);
            let code = latest
                .and_then(|a| a.result.error.as_ref())
                .map(|(code, _)| format!(" ({code})"))
                .unwrap_or_default();
            let detail = action_detail(&world, run.execution_id, &run.stage.name, &run.action.name);
            (detail, status, code)
        };
        let headline = format!(
            "{}: action {} ({}) {}{code}",
            self.pipeline,
            run.label(),
            run.action.action_type.provider,
            status.event_name()
        );
        self.emit(ACTION_DETAIL_TYPE, detail, headline).await;
    }

    /// Plays every stage; the execution's status at the end (InProgress if the player stopped waiting).
    async fn play_stages(&mut self, execution_id: &str, stages: &[StageDecl], release: &Release) -> Option<Status> {
        for stage in stages {
            if let Some(ended) = self.pass_transition(execution_id, stages, stage).await {
                return Some(ended);
            }
            self.emit_stage(execution_id, &stage.name, Status::InProgress).await;
            for action in &stage.actions {
                let run = ActionRun {
                    execution_id,
                    stage,
                    action,
                };
                match self.play_action(&run, release).await? {
                    Status::Succeeded => {}
                    Status::InProgress => return Some(Status::InProgress),
                    _ => {
                        self.emit_stage(execution_id, &stage.name, Status::Failed).await;
                        let headline = format!("{}: execution FAILED", self.pipeline);
                        self.emit_pipeline(execution_id, Status::Failed, headline).await;
                        return Some(Status::Failed);
                    }
                }
            }
            self.emit_stage(execution_id, &stage.name, Status::Succeeded).await;
        }
        self.sim
            .state
            .world()
            .finish_execution(execution_id, Status::Succeeded)?;
        let headline = format!("{}: execution SUCCEEDED", self.pipeline);
        self.emit_pipeline(execution_id, Status::Succeeded, headline).await;
        Some(Status::Succeeded)
    }

    /// Starts the action, lets it run to its end, and emits its events; how it ended.
    async fn play_action(&mut self, run: &ActionRun<'_>, release: &Release) -> Option<Status> {
        self.sim
            .state
            .world()
            .start_action(run.execution_id, &run.stage.name, &run.action.name)?;
        let status = match ActionKind::of(run.action) {
            ActionKind::Scripted => self.settle_as_scripted(run, release)?,
            ActionKind::LambdaInvoke => {
                self.emit_action(run).await;
                self.run_jobs(run).await?
            }
            ActionKind::ManualApproval => {
                self.emit_action(run).await;
                self.run_approval(run).await?
            }
        };
        if status != Status::InProgress {
            self.emit_action(run).await;
        }
        Some(status)
    }

    fn settle_as_scripted(&self, run: &ActionRun<'_>, release: &Release) -> Option<Status> {
        let outcome = release
            .outcomes
            .get(&(run.stage.name.clone(), run.action.name.clone()))
            .cloned();
        let (status, result) = match outcome {
            Some(ActionOutcome::Fail(result)) => (Status::Failed, result),
            _ => (Status::Succeeded, ExecutionResult::default()),
        };
        self.sim
            .state
            .world()
            .finish_action(run.execution_id, &run.stage.name, &run.action.name, status, result)?;
        Some(status)
    }

    /// Waits (up to the grace) for invocations to finish and notes what they made of their events.
    async fn settle_deliveries(&self, in_flight: InFlight, show_value: bool) {
        let grace = self.wiring.settings().delivery_grace;
        let deadline = tokio::time::Instant::now() + grace;
        for (target, handle) in in_flight {
            match tokio::time::timeout_at(deadline, handle).await {
                Ok(Ok(delivery)) => {
                    for line in describe_deliveries([(target.as_str(), &delivery)], show_value) {
                        self.note(line);
                    }
                }
                Ok(Err(e)) => self.note(format!("    ↳ {target}: the invocation task failed: {e}")),
                Err(_) => self.note(format!(
                    "    ↳ {target}: still running after {}s; left running",
                    grace.as_secs()
                )),
            }
        }
    }

    fn finish(self, execution_id: String, status: Status) -> Played {
        let (jobs, approvals) = {
            let world = self.sim.state.world();
            let jobs = world.jobs_of_execution(&execution_id).cloned().collect();
            let approvals = world
                .approvals
                .iter()
                .filter(|a| a.execution_id == execution_id)
                .cloned()
                .collect();
            (jobs, approvals)
        };
        Played {
            execution_id,
            status,
            events: self.events,
            jobs,
            approvals,
            notifications: self.notifications,
        }
    }
}

/// Plays `release` to its end (success, or the first failed action), emitting the events AWS would. Lambda
/// Invoke actions find no function here (they fail); use [`play_with`] (or `Stack::play`) to wire them.
pub async fn play(sim: &Simulator, bus: &EventBus, release: &Release, timeline: &Timeline) -> Option<Played> {
    play_with(sim, bus, &Wiring::default(), release, timeline).await
}

/// Plays `release` with `wiring`: Invoke actions invoke the registered functions, approvals publish to the
/// topics' subscribers. `None` if the pipeline is unknown.
pub async fn play_with(
    sim: &Simulator,
    bus: &EventBus,
    wiring: &Wiring,
    release: &Release,
    timeline: &Timeline,
) -> Option<Played> {
    let (execution_id, stages, uploads) = {
        let mut world = sim.state.world();
        let stages = world.pipelines.get(&release.pipeline)?.stages.clone();
        let execution_id = world.start_execution(&release.pipeline, vec![release.revision.clone()])?;
        let pipeline = world.pipeline(&release.pipeline)?;
        let execution = world.execution(&execution_id)?;
        let uploads: Vec<(String, &Vec<u8>)> = release
            .artifacts
            .iter()
            .map(|(name, zip)| (artifact_object_key(pipeline, execution, name), zip))
            .collect();
        (execution_id, stages, uploads)
    };
    {
        let mut s3 = sim.state.s3();
        for (key, zip) in uploads {
            s3.put_object(&artifact_bucket(), &key, zip.clone());
        }
    }
    let mut player = Player {
        sim,
        bus,
        wiring,
        timeline,
        pipeline: release.pipeline.clone(),
        events: Vec::new(),
        notifications: Vec::new(),
    };
    let short = release.revision.revision_id.chars().take(7).collect::<String>();
    let headline = format!(
        "{}: execution {execution_id} STARTED for revision {short}",
        release.pipeline
    );
    player.emit_pipeline(&execution_id, Status::InProgress, headline).await;
    let status = player.play_stages(&execution_id, &stages, release).await?;
    Some(player.finish(execution_id, status))
}
