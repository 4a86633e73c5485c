//! Playing a Lambda Invoke action: a chain of jobs. Each job invokes the function asynchronously and waits for
//! its report; a success with a continuation token starts the next job, anything else ends the action.

use chrono::Utc;

use super::{ActionRun, InFlight, POLL, Player, invoke_in_background};
use crate::codepipeline::jobs::{human, job_event};
use crate::model::{ExecutionResult, JobState, Status};

impl Player<'_> {
    /// Runs the action's jobs until one ends it; the action's status.
    pub(super) async fn run_jobs(&mut self, run: &ActionRun<'_>) -> Option<Status> {
        let configured = run
            .action
            .configuration
            .get("FunctionName")
            .cloned()
            .unwrap_or_default();
        let Some(host) = self.wiring.lambda(&configured) else {
            return self.fail_unwired(run, &configured);
        };
        let settings = self.wiring.settings();
        let timeout = run.action.timeout.unwrap_or(settings.job_timeout);
        let mut continuation: Option<String> = None;
        for sequence in 1..=settings.max_jobs_per_action {
            let (job_id, event) = {
                let mut world = self.sim.state.world();
                let id = world.create_job(
                    run.execution_id,
                    &run.stage.name,
                    &run.action.name,
                    continuation.take(),
                    timeout,
                )?;
                let event = job_event(&world, &id)?;
                (id, event)
            };
            let carried = if sequence > 1 {
                " with the continuation token"
            } else {
                ""
            };
            self.note(format!(
                "job {sequence} of {}: invoking {}{carried} (asynchronously)",
                run.label(),
                host.name()
            ));
            let in_flight: InFlight = vec![invoke_in_background(host.clone(), event)];
            let state = self.await_job(&job_id).await?;
            let next = self.note_job_end(run, sequence, &state, timeout);
            self.settle_deliveries(in_flight, false).await;
            match next {
                Some(token) => continuation = Some(token),
                None => return Some(job_status(&state)),
            }
        }
        let message = format!(
            "the job chain passed {} jobs without finishing",
            settings.max_jobs_per_action
        );
        self.note(format!("{}: {message}", run.label()));
        self.fail_action(run, message)
    }

    /// Waits until the job is reported, or times it out at its deadline; its final state.
    async fn await_job(&self, job_id: &str) -> Option<JobState> {
        loop {
            {
                let mut world = self.sim.state.world();
                let job = world.job(job_id)?;
                if job.state != JobState::InProgress {
                    return Some(job.state.clone());
                }
                if Utc::now() >= job.deadline {
                    return world.time_out_job(job_id);
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Notes how a job ended; the continuation token if the chain goes on.
    fn note_job_end(
        &self,
        run: &ActionRun<'_>,
        sequence: usize,
        state: &JobState,
        timeout: std::time::Duration,
    ) -> Option<String> {
        let label = run.label();
        match state {
            JobState::Succeeded(success) => {
                let summary = success.summary.as_deref().map(|s| format!(": {s}")).unwrap_or_default();
                match &success.continuation_token {
                    Some(token) => {
                        self.note(format!("job {sequence} of {label}: continuation{summary}"));
                        return Some(token.clone());
                    }
                    None => {
                        let variables = if success.output_variables.is_empty() {
                            String::new()
                        } else {
                            let names: Vec<&str> = success.output_variables.keys().map(String::as_str).collect();
                            format!(" (output variables: {})", names.join(", "))
                        };
                        self.note(format!("job {sequence} of {label}: succeeded{summary}{variables}"));
                    }
                }
            }
            JobState::Failed(failure) => self.note(format!(
                "job {sequence} of {label}: failed ({}): {}",
                failure.failure_type, failure.message
            )),
            JobState::TimedOut => self.note(format!(
                "job {sequence} of {label}: job timed out: the function never reported within {}",
                human(timeout)
            )),
            JobState::InProgress => {}
        }
        None
    }

    /// An Invoke action whose function is not registered: it fails, as a missing function does on AWS.
    fn fail_unwired(&self, run: &ActionRun<'_>, configured: &str) -> Option<Status> {
        let message = if configured.is_empty() {
            "the action has no FunctionName in its configuration".to_owned()
        } else {
            format!("no Lambda function named {configured} (register it with Stack::register_lambda)")
        };
        self.note(format!("{}: {message}", run.label()));
        self.fail_action(run, message)
    }

    fn fail_action(&self, run: &ActionRun<'_>, message: String) -> Option<Status> {
        let result = ExecutionResult {
            error: Some(("JobFailed".into(), message)),
            ..ExecutionResult::default()
        };
        self.sim.state.world().finish_action(
            run.execution_id,
            &run.stage.name,
            &run.action.name,
            Status::Failed,
            result,
        )?;
        Some(Status::Failed)
    }
}

fn job_status(state: &JobState) -> Status {
    match state {
        JobState::Succeeded(_) => Status::Succeeded,
        JobState::InProgress => Status::InProgress,
        JobState::Failed(_) | JobState::TimedOut => Status::Failed,
    }
}
