//! The facts: the calendar an approval is judged by — the deployment's named calendar (inline or a feed's copy),
//! with the pipeline's own periods from CustomData merged in.

use std::collections::BTreeMap;

use blackday_calendar::BlackDayCalendar;
use chrono::{DateTime, Utc};

use crate::feed::{FeedCache, FeedRead};
use crate::settings::{CalendarSource, GateData};

/// The calendar to decide with.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The deployment's calendar it came from (`default`, `retail`, ...).
    pub name: String,
    pub calendar: BlackDayCalendar,
    /// Set when the feed could not be read and this is its last good copy.
    pub stale: Option<StaleCopy>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleCopy {
    pub fetched_at: DateTime<Utc>,
    /// Why the feed could not be read just now.
    pub problem: String,
}

/// Why no calendar could be put together for an approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// The CustomData is wrong (an unknown calendar, a period that does not parse): it will not fix itself.
    CustomData(String),
    /// The calendar could not be read (a feed without a usable copy): it may on the next look.
    Unreadable(String),
}

pub struct Calendars {
    sources: BTreeMap<String, CalendarSource>,
    feeds: FeedCache,
}

impl Calendars {
    pub fn new(sources: BTreeMap<String, CalendarSource>, feeds: FeedCache) -> Calendars {
        Calendars { sources, feeds }
    }

    /// The calendar `data` asks for, with its additions merged in.
    pub async fn for_approval(&self, data: &GateData) -> Result<Snapshot, Unavailable> {
        let name = data.calendar_name();
        let source = self.sources.get(name).ok_or_else(|| {
            let known: Vec<String> = self.sources.keys().map(|k| format!("`{k}`")).collect();
            Unavailable::CustomData(format!(
                "CustomData `calendar`: no calendar named `{name}` is configured (BLACKDAY_CALENDARS has {}); \
                 name one of them, or leave `calendar` out for `default`",
                known.join(", ")
            ))
        })?;
        let (base, stale) = match source {
            CalendarSource::Inline(calendar) => ((**calendar).clone(), None),
            CalendarSource::Feed(feed) => match self.feeds.read(name, feed).await {
                Ok(FeedRead::Fresh(copy)) => ((*copy.calendar).clone(), None),
                Ok(FeedRead::Stale { copy, problem }) => (
                    (*copy.calendar).clone(),
                    Some(StaleCopy {
                        fetched_at: copy.fetched_at,
                        problem,
                    }),
                ),
                // Held like an unreadable calendar (never approved): the decision says why.
                Ok(FeedRead::Suspicious { problem }) | Err(problem) => {
                    return Err(Unavailable::Unreadable(format!("calendar `{name}`: {problem}")));
                }
            },
        };
        let calendar = merge(base, data).map_err(Unavailable::CustomData)?;
        Ok(Snapshot {
            name: name.to_owned(),
            calendar,
            stale,
        })
    }
}

/// Adds the pipeline's own periods; an error names the CustomData field.
pub fn merge(mut calendar: BlackDayCalendar, data: &GateData) -> Result<BlackDayCalendar, String> {
    if let Some(additions) = data.additions() {
        calendar.merge_json(&additions).map_err(|e| format!("CustomData {e}"))?;
    }
    Ok(calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::json;

    fn calendars() -> Calendars {
        let default = BlackDayCalendar::from_json(r#"{"timezone": "Europe/Berlin", "blackouts": []}"#).unwrap();
        let sources = BTreeMap::from([("default".to_owned(), CalendarSource::Inline(Arc::new(default)))]);
        Calendars::new(
            sources,
            FeedCache::new(
                crate::feed::http_client(&hooks_common::address::AddressPolicy::allowing(&["127.0.0.1/32"
                    .parse()
                    .unwrap()]))
                .unwrap(),
                Duration::ZERO,
            ),
        )
    }

    fn data(value: serde_json::Value) -> GateData {
        serde_json::from_value(value).unwrap()
    }

    #[tokio::test]
    async fn merges_the_pipelines_periods_in_the_calendars_zone() {
        let snapshot = calendars()
            .for_approval(&data(
                json!({"blackouts": [{"name": "Launch", "dates": ["2026-11-27"]}]}),
            ))
            .await
            .unwrap();
        assert_eq!(snapshot.name, "default");
        assert_eq!(
            snapshot.calendar.blackouts()[0].zone(),
            blackday_calendar::Zone::named("Europe/Berlin").unwrap()
        );
        assert!(snapshot.stale.is_none());
    }

    #[tokio::test]
    async fn a_suspicious_feed_is_unreadable_so_the_gate_holds_and_says_why() {
        // A feed that answers a valid calendar without events (an emptied calendar, the wrong account's export).
        let app = axum::Router::new().route(
            "/cal.ics",
            axum::routing::get(|| async { "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n" }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let feed = crate::settings::FeedSource {
            url: format!("http://{addr}/cal.ics").parse().unwrap(),
            zone: blackday_calendar::Zone::UTC,
            guard: crate::settings::FeedGuard::default(),
        };
        let calendars = Calendars::new(
            BTreeMap::from([("default".to_owned(), CalendarSource::Feed(feed))]),
            FeedCache::new(
                crate::feed::http_client(&hooks_common::address::AddressPolicy::allowing(&["127.0.0.1/32"
                    .parse()
                    .unwrap()]))
                .unwrap(),
                Duration::ZERO,
            ),
        );
        let Err(Unavailable::Unreadable(problem)) = calendars.for_approval(&data(json!({}))).await else {
            panic!("unreadable")
        };
        assert!(
            problem.starts_with("calendar `default`: feed at 127.0.0.1: the feed has 0 event(s)"),
            "{problem}"
        );
    }

    #[tokio::test]
    async fn custom_data_mistakes_name_the_field() {
        let cases = [
            (
                json!({"calendar": "retial"}),
                "CustomData `calendar`: no calendar named `retial`",
            ),
            (
                json!({"blackouts": [{"name": "x", "once": {"from": "2026-11-27T10:00Z", "to": "2026-11-28"}}]}),
                "CustomData at `blackouts[0].once.from`",
            ),
            (json!({"timezone": "PST", "blackouts": []}), "CustomData at `timezone`"),
        ];
        for (value, expected) in cases {
            let Err(Unavailable::CustomData(problem)) = calendars().for_approval(&data(value)).await else {
                panic!("{expected}")
            };
            assert!(problem.contains(expected), "{expected:?} not in {problem}");
        }
    }
}
