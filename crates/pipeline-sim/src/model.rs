//! The simulated world's state: pipelines as declared, executions as they run, secrets.
//!
//! Kept as plain data so each simulated service (CodePipeline today; jobs, approvals and transitions next)
//! reads and changes one model instead of keeping its own copy.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionType {
    pub category: String,
    pub owner: String,
    pub provider: String,
    pub version: String,
}

impl ActionType {
    pub fn aws(category: &str, provider: &str) -> ActionType {
        ActionType {
            category: category.into(),
            owner: "AWS".into(),
            provider: provider.into(),
            version: "1".into(),
        }
    }

    /// A Lambda Invoke action: CodePipeline creates a job and invokes the function named in `FunctionName`.
    pub fn lambda_invoke() -> ActionType {
        ActionType::aws("Invoke", "Lambda")
    }

    /// A Manual approval action: CodePipeline publishes to `NotificationArn` and waits for `PutApprovalResult`.
    pub fn manual_approval() -> ActionType {
        ActionType::aws("Approval", "Manual")
    }

    pub fn is_lambda_invoke(&self) -> bool {
        (self.category.as_str(), self.owner.as_str(), self.provider.as_str()) == ("Invoke", "AWS", "Lambda")
    }

    pub fn is_manual_approval(&self) -> bool {
        (self.category.as_str(), self.owner.as_str(), self.provider.as_str()) == ("Approval", "AWS", "Manual")
    }
}

/// How long a Manual approval waits for an answer unless its action sets a timeout (CodePipeline's default).
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

#[derive(Clone, Debug)]
pub struct ActionDecl {
    pub name: String,
    pub action_type: ActionType,
    pub run_order: i32,
    pub configuration: BTreeMap<String, String>,
    /// How long the action may wait: an approval's timeout (`timeoutInMinutes`, [`DEFAULT_APPROVAL_TIMEOUT`]
    /// when `None`), or a Lambda job's (the scenario's job timeout when `None`). Any length, so tests can use
    /// seconds.
    pub timeout: Option<Duration>,
    /// Input artifacts the action declares; empty: the console's default (the artifact produced last before it).
    pub input_artifacts: Vec<String>,
}

impl ActionDecl {
    pub fn new(name: &str, action_type: ActionType) -> ActionDecl {
        ActionDecl {
            name: name.into(),
            action_type,
            run_order: 1,
            configuration: BTreeMap::new(),
            timeout: None,
            input_artifacts: Vec::new(),
        }
    }
    pub fn with_config(mut self, key: &str, value: &str) -> ActionDecl {
        self.configuration.insert(key.into(), value.into());
        self
    }
    pub fn with_timeout(mut self, timeout: Duration) -> ActionDecl {
        self.timeout = Some(timeout);
        self
    }
    /// Declares the action's input artifacts by name (e.g. a build's output and the source), in order.
    pub fn with_input_artifacts(mut self, names: &[&str]) -> ActionDecl {
        self.input_artifacts = names.iter().map(|n| (*n).to_owned()).collect();
        self
    }
    pub fn with_run_order(mut self, run_order: i32) -> ActionDecl {
        self.run_order = run_order;
        self
    }
}

#[derive(Clone, Debug)]
pub struct StageDecl {
    pub name: String,
    pub actions: Vec<ActionDecl>,
}

impl StageDecl {
    /// A stage of one action, the common shape of a pipeline's stages.
    pub fn single(name: &str, action: ActionDecl) -> StageDecl {
        StageDecl {
            name: name.into(),
            actions: vec![action],
        }
    }
}

#[derive(Clone, Debug)]
pub struct Pipeline {
    pub name: String,
    pub version: i32,
    pub role_arn: String,
    pub stages: Vec<StageDecl>,
    pub created: DateTime<Utc>,
}

impl Pipeline {
    pub fn new(name: &str, stages: Vec<StageDecl>) -> Pipeline {
        Pipeline {
            name: name.into(),
            version: 1,
            role_arn: format!("arn:aws:iam::{}:role/{name}-role", crate::ACCOUNT),
            stages,
            created: Utc::now(),
        }
    }

    pub fn arn(&self) -> String {
        format!(
            "arn:aws:codepipeline:{}:{}:{}",
            crate::REGION,
            crate::ACCOUNT,
            self.name
        )
    }

    pub fn action(&self, stage: &str, action: &str) -> Option<&ActionDecl> {
        self.stages
            .iter()
            .find(|s| s.name == stage)?
            .actions
            .iter()
            .find(|a| a.name == action)
    }
}

/// A source revision, as `GetPipelineExecution` reports it.
#[derive(Clone, Debug, Default)]
pub struct ArtifactRevision {
    pub name: String,
    pub revision_id: String,
    /// For CodeStar/GitHub sources AWS puts a JSON document here (`{"ProviderType":..,"CommitMessage":..}`);
    /// for CodeCommit, the commit message itself.
    pub revision_summary: Option<String>,
    pub revision_url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Succeeded,
    Failed,
    Abandoned,
}

impl Status {
    /// The name CodePipeline's APIs use (`InProgress`, `Failed`, ...).
    pub fn api_name(self) -> &'static str {
        match self {
            Status::InProgress => "InProgress",
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::Abandoned => "Abandoned",
        }
    }

    /// The name EventBridge state-change events use (`STARTED`, `FAILED`, ...).
    pub fn event_name(self) -> &'static str {
        match self {
            Status::InProgress => "STARTED",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::Abandoned => "ABANDONED",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ExecutionResult {
    pub external_execution_id: Option<String>,
    pub external_execution_summary: Option<String>,
    pub external_execution_url: Option<String>,
    /// (code, message), e.g. ("JobFailed", "Build terminated with state: FAILED").
    pub error: Option<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct ActionExecution {
    pub action_execution_id: String,
    pub stage: String,
    pub action: String,
    pub action_type: ActionType,
    pub status: Status,
    pub started: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub result: ExecutionResult,
    /// A Manual approval's token, from the moment it waits for an answer.
    pub token: Option<String>,
    /// A job's progress as its worker reported it (`executionDetails.percentComplete`).
    pub percent_complete: Option<i32>,
    /// What the last job reported with `PutJobSuccessResult` (without a continuation token).
    pub output_variables: BTreeMap<String, String>,
    /// Who settled the action, when CodePipeline knows (an approval decided in the console).
    pub last_updated_by: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Execution {
    pub id: String,
    pub pipeline: String,
    pub pipeline_version: i32,
    pub status: Status,
    pub status_summary: Option<String>,
    pub revisions: Vec<ArtifactRevision>,
    pub started: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub actions: Vec<ActionExecution>,
}

impl Execution {
    /// The latest run of `stage`/`action` in this execution (an action runs again on a retry).
    pub fn latest_run(&self, stage: &str, action: &str) -> Option<&ActionExecution> {
        self.actions
            .iter()
            .rev()
            .find(|a| a.stage == stage && a.action == action)
    }

    pub fn latest_run_mut(&mut self, stage: &str, action: &str) -> Option<&mut ActionExecution> {
        self.actions
            .iter_mut()
            .rev()
            .find(|a| a.stage == stage && a.action == action)
    }
}

#[derive(Clone, Debug)]
pub struct Secret {
    pub arn: String,
    pub name: String,
    pub value: String,
}

#[derive(Default)]
pub struct World {
    pub pipelines: BTreeMap<String, Pipeline>,
    /// In the order they started.
    pub executions: Vec<Execution>,
    pub secrets: Vec<Secret>,
    /// Every job CodePipeline created for a Lambda Invoke action, in order (see `codepipeline::jobs`).
    pub jobs: Vec<Job>,
    /// Every Manual approval request, in order (see `codepipeline::approvals`).
    pub approvals: Vec<Approval>,
    /// Every `PutApprovalResult` call that named an approval, accepted or not.
    pub approval_answers: Vec<ApprovalAnswer>,
    /// Stage transitions that were disabled or enabled, and who the callers are (see `codepipeline::transitions`).
    pub transitions: crate::codepipeline::transitions::Transitions,
    next_id: u64,
}

impl World {
    /// A fresh id shaped like AWS's (a UUID), unique within this simulator.
    pub fn new_id(&mut self) -> String {
        self.next_id += 1;
        let n = self.next_id;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            n,
            n & 0xffff,
            n & 0xfff,
            n & 0xfff,
            n
        )
    }

    pub fn put_pipeline(&mut self, pipeline: Pipeline) {
        self.pipelines.insert(pipeline.name.clone(), pipeline);
    }

    /// Stores a secret and returns its ARN.
    pub fn put_secret(&mut self, name: &str, value: &str) -> String {
        let arn = format!(
            "arn:aws:secretsmanager:{}:{}:secret:{name}-AbCdEf",
            crate::REGION,
            crate::ACCOUNT
        );
        self.secrets.retain(|s| s.name != name);
        self.secrets.push(Secret {
            arn: arn.clone(),
            name: name.into(),
            value: value.into(),
        });
        arn
    }

    /// Finds a secret by name, full ARN, or partial ARN (without the random suffix), as Secrets Manager does.
    pub fn secret(&self, secret_id: &str) -> Option<&Secret> {
        self.secrets
            .iter()
            .find(|s| s.name == secret_id || s.arn == secret_id || s.arn.strip_suffix("-AbCdEf") == Some(secret_id))
    }

    pub fn pipeline(&self, name: &str) -> Option<&Pipeline> {
        self.pipelines.get(name)
    }

    /// The executions of one pipeline, in the order they started.
    pub fn executions_of<'a>(&'a self, pipeline: &'a str) -> impl DoubleEndedIterator<Item = &'a Execution> + 'a {
        self.executions.iter().filter(move |e| e.pipeline == pipeline)
    }

    pub fn execution(&self, id: &str) -> Option<&Execution> {
        self.executions.iter().find(|e| e.id == id)
    }

    pub fn execution_mut(&mut self, id: &str) -> Option<&mut Execution> {
        self.executions.iter_mut().find(|e| e.id == id)
    }

    /// Starts an execution of `pipeline` for these source revisions; `None` if there is no such pipeline.
    pub fn start_execution(&mut self, pipeline: &str, revisions: Vec<ArtifactRevision>) -> Option<String> {
        let version = self.pipelines.get(pipeline)?.version;
        let id = self.new_id();
        let now = Utc::now();
        self.executions.push(Execution {
            id: id.clone(),
            pipeline: pipeline.into(),
            pipeline_version: version,
            status: Status::InProgress,
            status_summary: None,
            revisions,
            started: now,
            updated: now,
            actions: Vec::new(),
        });
        Some(id)
    }

    /// Records that an action of a running execution started; `None` if the execution or action is unknown.
    pub fn start_action(&mut self, execution_id: &str, stage: &str, action: &str) -> Option<String> {
        let pipeline_name = self.execution(execution_id)?.pipeline.clone();
        let action_type = self
            .pipelines
            .get(&pipeline_name)?
            .action(stage, action)?
            .action_type
            .clone();
        let action_execution_id = self.new_id();
        let now = Utc::now();
        let execution = self.execution_mut(execution_id)?;
        execution.updated = now;
        execution.actions.push(ActionExecution {
            action_execution_id: action_execution_id.clone(),
            stage: stage.into(),
            action: action.into(),
            action_type,
            status: Status::InProgress,
            started: now,
            updated: now,
            result: ExecutionResult::default(),
            token: None,
            percent_complete: None,
            output_variables: BTreeMap::new(),
            last_updated_by: None,
        });
        Some(action_execution_id)
    }

    /// Settles the latest run of an action; a failed action fails its execution, as CodePipeline does.
    pub fn finish_action(
        &mut self,
        execution_id: &str,
        stage: &str,
        action: &str,
        status: Status,
        result: ExecutionResult,
    ) -> Option<()> {
        let now = Utc::now();
        let execution = self.execution_mut(execution_id)?;
        let failure_summary =
            (status == Status::Failed).then(|| result.error.as_ref().map(|(_, message)| message.clone()));
        let run = execution.latest_run_mut(stage, action)?;
        run.status = status;
        run.updated = now;
        run.result = result;
        if let Some(summary) = failure_summary {
            execution.status = Status::Failed;
            execution.status_summary = summary;
        }
        execution.updated = now;
        Some(())
    }

    /// Marks an execution finished (succeeded, or failed by something outside one action).
    pub fn finish_execution(&mut self, execution_id: &str, status: Status) -> Option<()> {
        let execution = self.execution_mut(execution_id)?;
        execution.status = status;
        execution.updated = Utc::now();
        Some(())
    }
}

// ---- Jobs (Lambda Invoke actions) ----

/// The temporary credentials a job carries for its artifacts: fresh for every job, like STS session keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: DateTime<Utc>,
}

/// What a job's worker reported with `PutJobSuccessResult`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobSuccess {
    /// Set: the action goes on, with a new job carrying this token.
    pub continuation_token: Option<String>,
    pub summary: Option<String>,
    pub external_execution_id: Option<String>,
    pub percent_complete: Option<i32>,
    /// `currentRevision.revision`.
    pub current_revision: Option<String>,
    pub output_variables: BTreeMap<String, String>,
}

/// What a job's worker reported with `PutJobFailureResult`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobFailure {
    /// `JobFailed`, `ConfigurationError`, ...
    pub failure_type: String,
    pub message: String,
    pub external_execution_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    InProgress,
    Succeeded(JobSuccess),
    Failed(JobFailure),
    /// Nobody reported before the job's deadline: the action failed.
    TimedOut,
}

/// One `PutJobSuccessResult` / `PutJobFailureResult` call about a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobReport {
    pub operation: String,
    pub at: DateTime<Utc>,
    /// The error answered (`InvalidJobStateException`, ...), or `None` if the report was accepted.
    pub error: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub id: String,
    pub execution_id: String,
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    pub action_execution_id: String,
    /// 1 for an action run's first job, 2 for the job the first one's continuation token created, ...
    pub sequence: usize,
    pub function_name: String,
    /// The token this job carries (from the previous job's report).
    pub continuation_token: Option<String>,
    pub credentials: ArtifactCredentials,
    pub created: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub state: JobState,
    pub reports: Vec<JobReport>,
}

impl Job {
    /// `Stage › Action`, for messages.
    pub fn label(&self) -> String {
        format!("{} › {}", self.stage, self.action)
    }
}

// ---- Manual approvals ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalStatus {
    Approved,
    Rejected,
}

impl ApprovalStatus {
    pub fn api_name(self) -> &'static str {
        match self {
            ApprovalStatus::Approved => "Approved",
            ApprovalStatus::Rejected => "Rejected",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecidedBy {
    /// A `PutApprovalResult` call with the token (a function, or any API caller).
    Api,
    /// A person in the console, by user name.
    Person(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalState {
    Pending,
    Decided {
        status: ApprovalStatus,
        summary: String,
        by: DecidedBy,
        at: DateTime<Utc>,
    },
    /// Nobody answered before `expires`: the action failed.
    Expired {
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug)]
pub struct Approval {
    /// Single use: the answer to this request, and only this one.
    pub token: String,
    pub execution_id: String,
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    pub action_execution_id: String,
    pub notification_arn: Option<String>,
    pub custom_data: Option<String>,
    pub external_entity_link: Option<String>,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub state: ApprovalState,
}

/// One `PutApprovalResult` call that named an approval action, and what it got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalAnswer {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    pub token: String,
    pub status: Option<String>,
    pub at: DateTime<Utc>,
    /// The error answered, or `None` if the call settled the approval.
    pub error: Option<String>,
}
