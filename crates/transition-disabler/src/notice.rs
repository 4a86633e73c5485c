//! What people are told: one notice when the transition closes, one when it reopens (never one per event: a
//! notice follows a change, and a change happens once). Each says the pipeline, the stage, the alarm and its
//! reason, since when, and links the pipeline's console page (built, not copied).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use hooks_common::console::pipeline_url;
use hooks_common::notice::Notice;
use hooks_common::slack::{SlackMessage, blocks};

use crate::facts::AlarmFact;
use crate::settings::Guard;

fn at(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn attributes(guard: &Guard, kind: &str, alarm: Option<&str>) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::from([
        ("pipeline".to_owned(), guard.pipeline.clone()),
        ("stage".to_owned(), guard.stage.clone()),
        ("kind".to_owned(), kind.to_owned()),
    ]);
    if let Some(alarm) = alarm {
        attributes.insert("alarm".to_owned(), alarm.to_owned());
    }
    attributes
}

fn link(url: &str) -> String {
    blocks::link(url, "Open the pipeline").unwrap_or_else(|| blocks::escape(url))
}

pub fn closed(guard: &Guard, alarm: &AlarmFact, region: &str) -> Notice {
    let url = pipeline_url(region, &guard.pipeline);
    let cooldown = crate::reason::span(guard.cooldown);
    let headline = format!("Transition into {} closed: {}", guard.stage, guard.pipeline);
    let reopens = format!("It reopens by itself once every guarding alarm has been OK for {cooldown}.");
    let text = format!(
        "The transition into {stage} of pipeline {pipeline} is closed: releases wait before {stage}.\n\
         Alarm: {name} is {state} since {since}\n\
         Reason: {reason}\n\
         {reopens} A person can open it sooner in the console; it then stays open until an alarm changes state.\n\
         Pipeline: {url}\n",
        stage = guard.stage,
        pipeline = guard.pipeline,
        name = alarm.name,
        state = alarm.state.as_str(),
        since = at(alarm.since),
        reason = alarm.reason,
    );
    let slack = SlackMessage::new(
        format!("{headline} (alarm {} is {})", alarm.name, alarm.state.as_str()),
        vec![
            blocks::header(&format!("🚧 {headline}")),
            blocks::fields(&[
                (
                    "Pipeline",
                    format!(
                        "*{}* › {}",
                        blocks::escape(&guard.pipeline),
                        blocks::escape(&guard.stage)
                    ),
                ),
                (
                    "Alarm",
                    format!("{} is {}", blocks::escape(&alarm.name), alarm.state.as_str()),
                ),
                ("Since", at(alarm.since)),
            ]),
            blocks::section(&blocks::escape(&alarm.reason)),
            blocks::context(&[format!("{} · {}", blocks::escape(&reopens), link(&url))]),
        ],
    );
    Notice {
        subject: format!("{headline} (alarm {})", alarm.name),
        text,
        slack,
        attributes: attributes(guard, "transition-closed", Some(&alarm.name)),
    }
}

/// `closed_since`/`closed_reason`: the transition's `lastChangedAt` and `disabledReason` before it was opened.
pub fn reopened(
    guard: &Guard,
    ok_since: DateTime<Utc>,
    closed_since: Option<DateTime<Utc>>,
    closed_reason: Option<&str>,
    now: DateTime<Utc>,
    region: &str,
) -> Notice {
    let url = pipeline_url(region, &guard.pipeline);
    let headline = format!("Transition into {} reopened: {}", guard.stage, guard.pipeline);
    let alarms = guard
        .alarms
        .iter()
        .cloned()
        .chain(guard.alarm_prefix.iter().map(|p| format!("{p}*")))
        .collect::<Vec<_>>()
        .join(", ");
    let closed_for = closed_since.map(|since| {
        let closed = (now - since).to_std().unwrap_or_default();
        format!("closed since {} (for {})", at(since), crate::reason::span(closed))
    });
    let text = format!(
        "The transition into {stage} of pipeline {pipeline} is open again: waiting releases go on to {stage}.\n\
         Alarms: {alarms}, all OK since {ok} (cooldown {cooldown}).\n\
         Was: {was}\n\
         Pipeline: {url}\n",
        stage = guard.stage,
        pipeline = guard.pipeline,
        ok = at(ok_since),
        cooldown = crate::reason::span(guard.cooldown),
        was = [closed_for.clone(), closed_reason.map(str::to_owned)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; "),
    );
    let slack = SlackMessage::new(
        format!("{headline} (alarms OK since {})", at(ok_since)),
        vec![
            blocks::header(&format!("✅ {headline}")),
            blocks::fields(&[
                (
                    "Pipeline",
                    format!(
                        "*{}* › {}",
                        blocks::escape(&guard.pipeline),
                        blocks::escape(&guard.stage)
                    ),
                ),
                ("Alarms OK since", at(ok_since)),
                ("Was", blocks::escape(closed_for.as_deref().unwrap_or("closed"))),
            ]),
            blocks::context(&[link(&url)]),
        ],
    );
    Notice {
        subject: headline,
        text,
        slack,
        attributes: attributes(guard, "transition-reopened", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::AlarmState;
    use hooks_common::notice::{Destination, sns_subject};
    use std::time::Duration;

    fn guard() -> Guard {
        Guard {
            pipeline: "shop".into(),
            stage: "Production".into(),
            alarms: vec!["shop-canary-production".into()],
            alarm_prefix: Some("shop-prod-".into()),
            cooldown: Duration::from_secs(600),
            insufficient_data: Default::default(),
            notify: Destination::Slack { secret_id: "s".into() },
        }
    }

    #[test]
    fn a_closing_notice_names_everything_a_person_needs() {
        let alarm = AlarmFact {
            name: "shop-canary-production".into(),
            state: AlarmState::Alarm,
            reason: "Threshold Crossed: 1 out of the last 1 datapoints [0.0] was less than the threshold (1.0)".into(),
            since: "2026-12-02T06:25:17Z".parse().unwrap(),
        };
        let notice = closed(&guard(), &alarm, "eu-west-1");
        for expected in [
            "transition into Production of pipeline shop is closed",
            "Alarm: shop-canary-production is ALARM since 2026-12-02T06:25:17Z",
            "Reason: Threshold Crossed: 1 out of the last 1",
            "OK for 10 min",
            "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/shop/view?region=eu-west-1",
        ] {
            assert!(notice.text.contains(expected), "{expected:?} not in {}", notice.text);
        }
        assert_eq!(
            sns_subject(&notice.subject),
            "Transition into Production closed: shop (alarm shop-canary-production)"
        );
        assert_eq!(notice.attributes["kind"], "transition-closed");
        assert_eq!(notice.attributes["alarm"], "shop-canary-production");
        let slack = serde_json::to_string(&notice.slack.blocks).unwrap();
        assert!(
            slack.contains("|Open the pipeline>") && slack.contains("Threshold Crossed"),
            "{slack}"
        );
    }

    #[test]
    fn a_reopening_notice_says_since_when_and_for_how_long_it_was_closed() {
        let now: DateTime<Utc> = "2026-12-02T07:00:00Z".parse().unwrap();
        let notice = reopened(
            &guard(),
            "2026-12-02T06:45:00Z".parse().unwrap(),
            Some("2026-12-02T06:25:30Z".parse().unwrap()),
            Some("Closed by the transition disabler (alarm shop-canary-production) ..."),
            now,
            "us-east-1",
        );
        for expected in [
            "is open again",
            "shop-canary-production, shop-prod-*, all OK since 2026-12-02T06:45:00Z (cooldown 10 min)",
            "closed since 2026-12-02T06:25:30Z (for 34 min); Closed by the transition disabler",
            "pipelines/shop/view?region=us-east-1",
        ] {
            assert!(notice.text.contains(expected), "{expected:?} not in {}", notice.text);
        }
        assert_eq!(notice.subject, "Transition into Production reopened: shop");
        assert_eq!(notice.attributes["kind"], "transition-reopened");
    }
}
