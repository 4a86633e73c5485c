//! Playing a stage transition: an execution whose next stage is behind a disabled inbound transition waits there,
//! as in CodePipeline. When the transition is enabled, the newest execution waiting there goes on; an older one
//! waiting at the same transition is superseded by a newer one's arrival.

use std::time::Instant;

use super::{POLL, Player};
use crate::model::{StageDecl, Status};

impl Player<'_> {
    /// `None` when the execution may enter `stage` (at once, or after waiting); otherwise how the play ends here:
    /// `Abandoned` when a newer execution superseded it, `InProgress` when the player stopped waiting.
    pub(super) async fn pass_transition(
        &mut self,
        execution_id: &str,
        stages: &[StageDecl],
        stage: &StageDecl,
    ) -> Option<Status> {
        if stages.first().is_some_and(|first| first.name == stage.name) {
            return None;
        }
        let first_look = self.sim.transition(&self.pipeline, &stage.name);
        if first_look.enabled {
            return None;
        }
        let key = (self.pipeline.clone(), stage.name.clone(), execution_id.to_owned());
        self.sim.state.world().transitions.waiting.push(key.clone());
        self.note(format!(
            "{}: waits before {} — transition disabled by {}: {}",
            self.pipeline,
            stage.name,
            first_look.last_changed_by.as_deref().unwrap_or("?"),
            first_look.disabled_reason.as_deref().unwrap_or("")
        ));
        let give_up = Instant::now() + self.wiring.settings().wait_bound;
        let outcome = loop {
            {
                let world = self.sim.state.world();
                let newer = world
                    .transitions
                    .waiting
                    .iter()
                    .rposition(|(p, s, _)| *p == key.0 && *s == key.1)
                    .is_some_and(|newest| world.transitions.waiting[newest] != key);
                if newer {
                    break Some(Status::Abandoned);
                }
                let state = world.transitions.state(&self.pipeline, &stage.name);
                if state.enabled {
                    break None;
                }
            }
            if Instant::now() >= give_up {
                break Some(Status::InProgress);
            }
            tokio::time::sleep(POLL).await;
        };
        self.sim.state.world().transitions.waiting.retain(|w| *w != key);
        match outcome {
            None => {
                let state = self.sim.transition(&self.pipeline, &stage.name);
                self.note(format!(
                    "{}: transition into {} enabled by {}; the waiting release goes on",
                    self.pipeline,
                    stage.name,
                    state.last_changed_by.as_deref().unwrap_or("?")
                ));
            }
            Some(Status::Abandoned) => {
                self.sim
                    .state
                    .world()
                    .finish_execution(execution_id, Status::Abandoned)?;
                let headline = format!(
                    "{}: execution SUPERSEDED before {} by a newer one waiting at the transition",
                    self.pipeline, stage.name
                );
                self.emit_pipeline(execution_id, Status::Abandoned, headline).await;
            }
            Some(_) => self.note(format!(
                "{}: still waiting before {} after {}s; the player stops here (the execution stays InProgress)",
                self.pipeline,
                stage.name,
                self.wiring.settings().wait_bound.as_secs()
            )),
        }
        outcome
    }
}
