//! Telling people, once, that a release is held: which pipeline, which BlackDay, when the next window opens, and
//! where to decide by hand. Sent for the hold decided on the approval's SNS notification, never for the sweeps that
//! hold it again.
//!
//! The notice goes to the Slack webhook in `SLACK_WEBHOOK_SECRET_ID`, or to the SNS topic in
//! `HOLD_NOTICE_SNS_TOPIC_ARN` when set (README, "Notice destinations").
//!
//! A notice that cannot be sent fails the invocation. The hold itself sent nothing to CodePipeline, so Lambda's
//! retry just looks again: still held → the notice is tried again (and if the BlackDay ended meanwhile, the retry
//! approves and no notice is needed). After the retries the on-failure queue keeps the event with the delivery error,
//! where an alarm can see it. Swallowing the error instead would leave a release stuck with nobody told why — the
//! failure this gate exists to prevent. The hold does not depend on the notice: the sweep approves on time anyway.
//!
//! Duplicates: approvals already noticed are remembered per container (by token), so a duplicate SNS delivery to
//! the same container does not post twice; one reaching a fresh container could (rare; no database, by design).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use hooks_common::Error;
use hooks_common::notice::{Destination, DestinationSetting, Notice, Notifier};
use hooks_common::settings::Env;
use hooks_common::slack::{SlackMessage, blocks};

use crate::decide::HeldBy;
use crate::display::when;

/// One held approval, as people are told about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldNotice {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    /// The approval's token: what "already told" is remembered by.
    pub token: String,
    pub review_link: Option<String>,
    pub held_by: HeldBy,
    /// The hold's reason, as the approval history would show it.
    pub reason: String,
}

pub fn render(notice: &HoldNotice) -> SlackMessage {
    let pipeline = blocks::escape(&notice.pipeline);
    let place = format!(
        "*{pipeline}* › {} › {}",
        blocks::escape(&notice.stage),
        blocks::escape(&notice.action)
    );
    let (headline, fields, fallback) = match &notice.held_by {
        HeldBy::BlackDay { name, opens_at, zone } => {
            let opens = match opens_at {
                Some(at) => when(*at, *zone),
                None => "not within the next 400 days".to_owned(),
            };
            let fallback = format!(
                "Release of {} held by BlackDay “{name}”; the next window opens {opens}",
                notice.pipeline
            );
            let fields = vec![
                ("Pipeline", place),
                ("BlackDay", blocks::escape(name)),
                ("Next window opens", blocks::escape(&opens)),
            ];
            (format!("Release held: {name}"), fields, fallback)
        }
        HeldBy::Unreadable => {
            let fallback = format!(
                "Release of {} held: the BlackDay calendar could not be read",
                notice.pipeline
            );
            let fields = vec![
                ("Pipeline", place),
                ("Held because", "the BlackDay calendar could not be read".to_owned()),
                ("Next look", "at every sweep, until the calendar can be read".to_owned()),
            ];
            (
                "Release held: BlackDay calendar unavailable".to_owned(),
                fields,
                fallback,
            )
        }
    };
    let review = notice
        .review_link
        .as_deref()
        .and_then(|url| blocks::link(url, "Review the approval"))
        .map(|link| format!("{link} to approve or reject sooner. "))
        .unwrap_or_default();
    let context = format!(
        "{review}The BlackDay gate approves by itself once releases may go; this is the only message about this hold."
    );
    SlackMessage::new(
        fallback,
        vec![
            blocks::header(&headline),
            blocks::fields(&fields),
            blocks::section(&blocks::escape(&notice.reason)),
            blocks::context(&[context]),
        ],
    )
}

/// The hold notice as a [`Notice`]: Slack gets [`render`]; an SNS topic gets a subject, readable plain text (nothing
/// escaped for Slack) and the attributes `pipeline`, `stage`, `action`, `kind` (`release-held`) to filter on.
pub fn notice(hold: &HoldNotice) -> Notice {
    let slack = render(hold);
    let (subject, why, opens) = match &hold.held_by {
        HeldBy::BlackDay { name, opens_at, zone } => (
            format!("Release held: {name} ({})", hold.pipeline),
            format!("BlackDay: {name}"),
            match opens_at {
                Some(at) => format!("The next window opens {}.", when(*at, *zone)),
                None => "No window opens within the next 400 days.".to_owned(),
            },
        ),
        HeldBy::Unreadable => (
            format!("Release held: BlackDay calendar unavailable ({})", hold.pipeline),
            "Held because the BlackDay calendar could not be read.".to_owned(),
            "The gate looks again at every sweep, until the calendar can be read.".to_owned(),
        ),
    };
    let mut lines = vec![
        format!(
            "The release of {} is held at {} > {}.",
            hold.pipeline, hold.stage, hold.action
        ),
        why,
        format!("Reason: {}", hold.reason),
        opens,
        "The BlackDay gate approves by itself once releases may go; this is the only message about this hold."
            .to_owned(),
    ];
    if let Some(link) = &hold.review_link {
        lines.push(format!("Review the approval (approve or reject sooner): {link}"));
    }
    Notice {
        subject,
        text: lines.join("\n") + "\n",
        slack,
        attributes: BTreeMap::from([
            ("pipeline".to_owned(), hold.pipeline.clone()),
            ("stage".to_owned(), hold.stage.clone()),
            ("action".to_owned(), hold.action.clone()),
            ("kind".to_owned(), "release-held".to_owned()),
        ]),
    }
}

/// Where hold notices go: `HOLD_NOTICE_SNS_TOPIC_ARN` when set, else the Slack webhook in `slack_secret_id`.
pub const TOPIC_VAR: &str = "HOLD_NOTICE_SNS_TOPIC_ARN";

pub fn destination(env: &Env, slack_secret_id: String) -> Result<Destination, Error> {
    match env.optional(TOPIC_VAR) {
        Some(topic) => DestinationSetting {
            secret_id: None,
            sns_topic_arn: Some(topic),
        }
        .destination(TOPIC_VAR),
        None => Ok(Destination::Slack {
            secret_id: slack_secret_id,
        }),
    }
}

/// Sends hold notices, once per approval per container.
pub struct Notices {
    notifier: Notifier,
    destination: Destination,
    told: Mutex<VecDeque<String>>,
}

/// Tokens remembered; far more than the approvals one container holds at once.
const REMEMBERED: usize = 1024;

impl Notices {
    pub fn new(notifier: Notifier, destination: Destination) -> Notices {
        Notices {
            notifier,
            destination,
            told: Mutex::new(VecDeque::new()),
        }
    }

    fn already_told(&self, token: &str) -> bool {
        self.told
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|t| t == token)
    }

    /// Posts the notice unless this container already did for the approval; `false` when it was a repeat.
    pub async fn tell(&self, notice: &HoldNotice, deadline: Instant) -> Result<bool, Error> {
        if self.already_told(&notice.token) {
            tracing::info!(pipeline = %notice.pipeline, "hold already told to Slack or SNS by this container; not again");
            return Ok(false);
        }
        // A rejected webhook's secret is forgotten by the notifier, so the retry reads it again (rotated?).
        self.notifier
            .send_routed("hold notices", &self.destination, &self::notice(notice), deadline)
            .await?;
        let mut told = self.told.lock().unwrap_or_else(|p| p.into_inner());
        if told.len() == REMEMBERED {
            told.pop_front();
        }
        told.push_back(notice.token.clone());
        tracing::info!(pipeline = %notice.pipeline, destination = %self.destination, "hold told");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(held_by: HeldBy) -> HoldNotice {
        HoldNotice {
            pipeline: "checkout".into(),
            stage: "Release".into(),
            action: "BlackDayGate".into(),
            token: "tok-1".into(),
            review_link: Some("https://console.aws.amazon.com/codesuite/codepipeline/pipelines/checkout/view".into()),
            held_by,
            reason: "inside BlackDay “Black <Friday>”: sales".into(),
        }
    }

    #[test]
    fn names_the_pipeline_the_blackday_and_the_next_window() {
        let message = render(&notice(HeldBy::BlackDay {
            name: "Black Friday".into(),
            opens_at: Some("2026-11-28T23:00:00Z".parse().unwrap()),
            zone: blackday_calendar::Zone::named("Europe/Berlin").unwrap(),
        }));
        assert_eq!(
            message.text,
            "Release of checkout held by BlackDay “Black Friday”; the next window opens 2026-11-29 00:00 \
             Europe/Berlin (2026-11-28 23:00 UTC)"
        );
        let body = serde_json::to_string(&message.blocks).unwrap();
        for expected in [
            "Release held: Black Friday",
            "*checkout* › Release › BlackDayGate",
            "Next window opens",
            "Black &lt;Friday&gt;",
            "|Review the approval>",
        ] {
            assert!(body.contains(expected), "{expected:?} not in {body}");
        }
    }

    #[test]
    fn as_plain_text_for_a_topic() {
        let held = notice(HeldBy::BlackDay {
            name: "Black Friday".into(),
            opens_at: Some("2026-11-28T23:00:00Z".parse().unwrap()),
            zone: blackday_calendar::Zone::named("Europe/Berlin").unwrap(),
        });
        let plain = super::notice(&held);
        assert_eq!(plain.subject, "Release held: Black Friday (checkout)");
        for expected in [
            "The release of checkout is held at Release > BlackDayGate.",
            "Reason: inside BlackDay “Black <Friday>”: sales",
            "The next window opens 2026-11-29 00:00 Europe/Berlin (2026-11-28 23:00 UTC).",
            "Review the approval (approve or reject sooner): https://console.aws.amazon.com/",
        ] {
            assert!(plain.text.contains(expected), "{expected:?} not in {}", plain.text);
        }
        assert_eq!(plain.attributes["kind"], "release-held");
        assert_eq!(plain.slack, render(&held), "Slack still gets the Block Kit message");
    }

    #[test]
    fn the_destination_is_the_topic_when_one_is_named() {
        let slack = destination(&Env::from_pairs(&[]), "slack/holds".into()).unwrap();
        assert_eq!(
            slack,
            Destination::Slack {
                secret_id: "slack/holds".into()
            }
        );
        let topic = "arn:aws:sns:eu-west-1:111122223333:holds";
        let sns = destination(&Env::from_pairs(&[(TOPIC_VAR, topic)]), "slack/holds".into()).unwrap();
        assert_eq!(
            sns,
            Destination::Sns {
                topic_arn: topic.into()
            }
        );
        let bad = destination(&Env::from_pairs(&[(TOPIC_VAR, "holds")]), "s".into())
            .unwrap_err()
            .to_string();
        assert!(bad.contains("HOLD_NOTICE_SNS_TOPIC_ARN.sns_topic_arn"), "{bad}");
    }

    #[test]
    fn an_unreadable_calendar_says_so() {
        let mut unreadable = notice(HeldBy::Unreadable);
        unreadable.review_link = None;
        let message = render(&unreadable);
        assert!(message.text.contains("could not be read"), "{}", message.text);
        let body = serde_json::to_string(&message.blocks).unwrap();
        assert!(!body.contains("Review the approval"), "{body}");
    }
}
