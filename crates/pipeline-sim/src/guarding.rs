//! The transition disabler as `template.yaml` deploys it, played locally: the function with its own role (so
//! CodePipeline records its changes as made by it), its notice topic, and the EventBridge rule that sends it the
//! guarding alarms' state changes, which CloudWatch emits here as in AWS: every change of an alarm's state value
//! becomes one "CloudWatch Alarm State Change" event on the bus ([`Stack::deliver_alarm_events`]).

use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::cloudwatch::{ALARM_STATE_CHANGE, state_change_detail};
use crate::eventbridge::{Delivered, EventPattern};
use crate::lambda::FunctionHost;
use crate::stack::Stack;
use crate::{ACCOUNT, REGION};

pub const FUNCTION: &str = "transition-disabler";
/// The access key the function signs with here; the simulator knows it as the function's role session.
pub const ACCESS_KEY_ID: &str = "AKIDTRANSITIONDISABLER";
/// The notice topic the template creates (`TransitionNoticeTopic`).
pub const NOTICE_TOPIC: &str = "codepipeline-hooks-TransitionNoticeTopic";

/// What CodePipeline records as `lastChangedBy` for the function: its role session, named after the function.
pub fn function_identity() -> String {
    format!("arn:aws:sts::{ACCOUNT}:assumed-role/codepipeline-hooks-TransitionDisablerRole/{FUNCTION}")
}

pub fn notice_topic_arn() -> String {
    format!("arn:aws:sns:{REGION}:{ACCOUNT}:{NOTICE_TOPIC}")
}

impl Stack {
    /// The transition disabler guarding with `guards` (the `GUARDS` JSON), its rule matching alarms whose names start
    /// with one of `alarm_prefixes`, its notices on [`notice_topic_arn`] unless `env` says otherwise.
    pub async fn transition_disabler(
        &self,
        guards: &str,
        alarm_prefixes: &[&str],
        env: &[(&str, &str)],
    ) -> std::io::Result<Arc<FunctionHost>> {
        let topic = self.sim.state.sns_topics().create_topic(NOTICE_TOPIC);
        self.sim
            .state
            .world()
            .transitions
            .register_caller(ACCESS_KEY_ID, &function_identity());
        let mut settings = vec![
            ("GUARDS", guards),
            ("NOTICE_SNS_TOPIC_ARN", topic.as_str()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
            ("RUST_LOG", "info"),
        ];
        settings.extend_from_slice(env);
        let host = self.function(FUNCTION, &settings).await?;
        self.bus.subscribe(
            "AlarmStateChange rule → transition-disabler",
            EventPattern::alarm_state_change(alarm_prefixes),
            host.clone(),
        );
        Ok(host)
    }

    /// Puts every alarm state change CloudWatch made since the last call on the bus, in order, and waits until the
    /// matching targets took them: what CloudWatch and EventBridge do by themselves in AWS.
    pub async fn deliver_alarm_events(&self) -> Vec<Delivered> {
        // Read under CloudWatch's lock, ids drawn after it is released: no two of the simulator's locks are held
        // at once here.
        let details: Vec<(String, Value)> = {
            let cloudwatch = self.sim.state.cloudwatch();
            let mut sent = self
                .sim
                .state
                .alarm_events_sent
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let new = cloudwatch.transitions().get(*sent..).unwrap_or_default();
            *sent += new.len();
            new.iter()
                .filter_map(|transition| {
                    let alarm = cloudwatch.alarm(&transition.alarm)?;
                    Some((alarm.arn.clone(), state_change_detail(alarm, transition)))
                })
                .collect()
        };
        let events: Vec<Value> = details
            .into_iter()
            .map(|(arn, detail)| {
                let id = self.sim.state.world().new_id();
                alarm_event(&id, &arn, detail)
            })
            .collect();
        let mut delivered = Vec::with_capacity(events.len());
        for event in events {
            delivered.push(self.bus.put(event).await);
        }
        delivered
    }
}

/// The EventBridge envelope CloudWatch puts around an alarm's state-change `detail`.
pub fn alarm_event(id: &str, alarm_arn: &str, detail: Value) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": ALARM_STATE_CHANGE,
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": REGION,
        "resources": [alarm_arn],
        "detail": detail,
    })
}
