//! The simulated world's state: pipelines as declared, executions as they run, secrets.
//!
//! Kept as plain data so each simulated service (CodePipeline today; jobs, approvals and transitions next)
//! reads and changes one model instead of keeping its own copy.

use std::collections::BTreeMap;

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
}

#[derive(Clone, Debug)]
pub struct ActionDecl {
    pub name: String,
    pub action_type: ActionType,
    pub run_order: i32,
    pub configuration: BTreeMap<String, String>,
}

impl ActionDecl {
    pub fn new(name: &str, action_type: ActionType) -> ActionDecl {
        ActionDecl {
            name: name.into(),
            action_type,
            run_order: 1,
            configuration: BTreeMap::new(),
        }
    }
    pub fn with_config(mut self, key: &str, value: &str) -> ActionDecl {
        self.configuration.insert(key.into(), value.into());
        self
    }
}

#[derive(Clone, Debug)]
pub struct StageDecl {
    pub name: String,
    pub actions: Vec<ActionDecl>,
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
        let run = execution
            .actions
            .iter_mut()
            .rev()
            .find(|a| a.stage == stage && a.action == action)?;
        run.status = status;
        run.updated = now;
        if status == Status::Failed {
            execution.status = Status::Failed;
            execution.status_summary = result.error.as_ref().map(|(_, message)| message.clone());
        }
        run.result = result;
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
