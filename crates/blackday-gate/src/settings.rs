//! The deployment's settings (environment, read once at start-up) and a pipeline's settings (the approval's
//! `CustomData`, read on every look).
//!
//! ```text
//! BLACKDAY_CALENDARS='{"default": {"inline": {"timezone": "Europe/Berlin", "blackouts": [...]}},
//!                      "retail":  {"ics_url": "https://calendar.example.com/retail.ics", "timezone": "Europe/Berlin"}}'
//! CALENDAR_FEED_MAX_STALE_MINUTES=360
//! SLACK_WEBHOOK_SECRET_ID=codepipeline-hooks/slack/default
//! ```
//!
//! CustomData (≤ 500 characters):
//!
//! ```json
//! {"calendar": "retail", "timezone": "UTC", "blackouts": [{"name": "Launch", "dates": ["2026-11-27"]}], "inside": "hold"}
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use blackday_calendar::{BlackDayCalendar, CalendarDocument, Zone};
use chrono::Duration;
use hooks_common::Error;
use hooks_common::gate::FailurePolicy;
use hooks_common::settings::Env;
use serde::Deserialize;
use serde_json::Value;

/// The calendar a pipeline gets when its CustomData names none; it must be configured.
pub const DEFAULT_CALENDAR: &str = "default";

const CALENDARS: &str = "BLACKDAY_CALENDARS";
const MAX_STALE: &str = "CALENDAR_FEED_MAX_STALE_MINUTES";
const CALENDARS_FIX: &str = "set it to a JSON object of named calendars, each {\"inline\": <calendar document>} or \
     {\"ics_url\": \"https://...\", \"timezone\": \"Europe/Berlin\"}, with one named \"default\" (README: BlackDay gate)";

/// Six hours: BlackDays are planned days ahead, so a copy that old is almost always right, while a feed that stays
/// broken longer than a working day's morning should stop releases rather than be trusted blindly.
const DEFAULT_MAX_STALE_MINUTES: i64 = 360;
const MAX_MAX_STALE_MINUTES: i64 = 7 * 24 * 60;

/// Where a named calendar comes from.
#[derive(Clone, Debug)]
pub enum CalendarSource {
    /// A document in the settings, checked at start-up: a mistake stops the function from starting, naming it.
    Inline(Arc<BlackDayCalendar>),
    /// An iCalendar feed, fetched when an approval needs it (see [`crate::feed`]).
    Feed(FeedSource),
}

/// An iCalendar feed: its address, the zone of its all-day events and floating times, and when a feed that reads
/// cleanly is still not trusted. `Debug` names the feed by host only: a private iCal address carries its key.
#[derive(Clone, PartialEq, Eq)]
pub struct FeedSource {
    pub url: reqwest::Url,
    pub zone: Zone,
    pub guard: FeedGuard,
}

/// When a feed that reads is suspicious, and the gate holds rather than judge by it: a calendar emptied by mistake,
/// exported from the wrong account, or cut short by a proxy reads as valid iCalendar and would approve everything.
/// Set per feed in `BLACKDAY_CALENDARS` (`"min_events"`, `"max_drop_percent"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedGuard {
    /// Fewer events than this is suspicious (default 1: an empty feed; 0 turns the rule off).
    pub min_events: usize,
    /// Losing more than this share of the last good copy's events at once is suspicious (default 50; 100 turns the
    /// rule off).
    pub max_drop_percent: u8,
}

impl Default for FeedGuard {
    fn default() -> FeedGuard {
        FeedGuard {
            min_events: 1,
            max_drop_percent: 50,
        }
    }
}

impl FeedGuard {
    /// Why a feed read with `events` events is not trusted, given the last good copy's count; `None` when it is.
    pub fn suspicion(&self, events: usize, last_good: Option<usize>) -> Option<String> {
        if events < self.min_events {
            return Some(format!(
                "the feed has {events} event(s), fewer than the {} it must have (`min_events`): an emptied or wrongly \
                 exported calendar would approve every release; fix the feed, or lower `min_events` if it is meant",
                self.min_events
            ));
        }
        let last = last_good?;
        // events < last * (100 - max_drop) / 100, in integers.
        let kept = 100 - usize::from(self.max_drop_percent.min(100));
        if events * 100 < last * kept {
            return Some(format!(
                "the feed has {events} event(s), down from {last} in its last good copy, more than the {}% drop \
                 `max_drop_percent` allows; fix the feed, or raise `max_drop_percent` if the events were removed on \
                 purpose",
                self.max_drop_percent
            ));
        }
        None
    }
}

impl FeedSource {
    /// How errors and messages name the feed: its host only. Private iCal addresses carry a key in the path or
    /// query (Google's "secret address"), so the whole URL never reaches a log, a summary or Slack.
    pub fn label(&self) -> String {
        format!("feed at {}", self.url.host_str().unwrap_or("?"))
    }
}

impl std::fmt::Debug for FeedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedSource")
            .field(
                "url",
                &format_args!("https://{}/<redacted>", self.url.host_str().unwrap_or("?")),
            )
            .field("zone", &self.zone)
            .field("guard", &self.guard)
            .finish()
    }
}

/// The gate's deployment-wide settings (the shared ones are `hooks_common::approval::GateSettings`).
#[derive(Clone, Debug)]
pub struct Settings {
    pub calendars: BTreeMap<String, CalendarSource>,
    /// How old the last good copy of a feed may be and still be used while the feed cannot be read.
    pub max_stale: Duration,
    /// The Secrets Manager secret holding the webhook hold notices go to.
    pub slack_secret_id: String,
}

/// One entry of `BLACKDAY_CALENDARS`, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarEntry {
    #[serde(default)]
    inline: Option<CalendarDocument>,
    #[serde(default)]
    ics_url: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    /// Feeds only: see [`FeedGuard`].
    #[serde(default)]
    min_events: Option<usize>,
    #[serde(default)]
    max_drop_percent: Option<u8>,
}

fn setting(name: &str, problem: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::Setting {
        name: name.to_owned(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Settings, Error> {
        // Errors name the field path and what was expected, never the value: a feed's URL is a secret.
        let entries: BTreeMap<String, CalendarEntry> = env
            .json_withholding_values(CALENDARS, CALENDARS_FIX)?
            // No calendar is not "no BlackDays": refusing to start keeps every approval pending (fail closed).
            .ok_or_else(|| setting(CALENDARS, "is not set", CALENDARS_FIX))?;
        if !entries.contains_key(DEFAULT_CALENDAR) {
            return Err(setting(
                CALENDARS,
                format!(
                    "has no calendar named `{DEFAULT_CALENDAR}` (found: {})",
                    names(&entries)
                ),
                "add a \"default\" calendar: pipelines whose CustomData names no calendar use it",
            ));
        }
        let mut calendars = BTreeMap::new();
        for (name, entry) in entries {
            calendars.insert(name.clone(), check_entry(&name, entry)?);
        }
        let max_stale = match env.optional(MAX_STALE) {
            None => DEFAULT_MAX_STALE_MINUTES,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|m| (0..=MAX_MAX_STALE_MINUTES).contains(m))
                .ok_or_else(|| {
                    setting(
                        MAX_STALE,
                        format!("`{text}` is not a whole number of minutes from 0 to {MAX_MAX_STALE_MINUTES}"),
                        "set how old a feed's last good copy may be when the feed cannot be read, e.g. 360 \
                         (0 = never use a stale copy)",
                    )
                })?,
        };
        let slack_secret_id = env.required(
            "SLACK_WEBHOOK_SECRET_ID",
            "set it to the Secrets Manager secret holding the Slack webhook URL that hold notices go to",
        )?;
        Ok(Settings {
            calendars,
            max_stale: Duration::minutes(max_stale),
            slack_secret_id,
        })
    }
}

fn names<T>(entries: &BTreeMap<String, T>) -> String {
    if entries.is_empty() {
        return "none".to_owned();
    }
    entries.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

fn check_entry(name: &str, entry: CalendarEntry) -> Result<CalendarSource, Error> {
    if name.trim().is_empty() || name.contains(char::is_whitespace) {
        return Err(setting(
            CALENDARS,
            format!("calendar name `{name}` is empty or has spaces"),
            "name calendars with letters, digits, - and _, e.g. \"retail\"",
        ));
    }
    match entry {
        CalendarEntry {
            inline: Some(_),
            ics_url: None,
            min_events,
            max_drop_percent,
            ..
        } if min_events.is_some() || max_drop_percent.is_some() => Err(setting(
            CALENDARS,
            format!("at `{name}`: min_events and max_drop_percent are for feeds; an inline calendar cannot change"),
            "remove them from this calendar",
        )),
        CalendarEntry {
            inline: Some(document),
            ics_url: None,
            timezone: None,
            ..
        } => document
            .into_calendar(None, &format!("{name}.inline"))
            .map(|calendar| CalendarSource::Inline(Arc::new(calendar)))
            .map_err(|e| setting(CALENDARS, format!("{}: {}", e.location, e.problem), e.fix)),
        CalendarEntry {
            inline: Some(_),
            timezone: Some(_),
            ics_url: None,
            ..
        } => Err(setting(
            CALENDARS,
            format!("at `{name}.timezone`: an inline calendar names its zone inside the document"),
            format!("move it to `{name}.inline.timezone`"),
        )),
        CalendarEntry {
            inline: None,
            ics_url: Some(url),
            timezone,
            min_events,
            max_drop_percent,
        } => {
            let url = check_feed_url(&url)
                .map_err(|(problem, fix)| setting(CALENDARS, format!("at `{name}.ics_url`: {problem}"), fix))?;
            let zone_name = timezone.ok_or_else(|| {
                setting(
                    CALENDARS,
                    format!("at `{name}.timezone`: missing; a feed's all-day events and floating times need a zone"),
                    "add \"timezone\" with an IANA name, e.g. \"Europe/Berlin\", \"America/Chicago\" or \"UTC\"",
                )
            })?;
            let zone = blackday_calendar::parse_time_zone(&zone_name, &format!("at `{name}.timezone`"))
                .map_err(|e| setting(CALENDARS, format!("{}: {}", e.location, e.problem), e.fix))?;
            if max_drop_percent.is_some_and(|percent| percent > 100) {
                return Err(setting(
                    CALENDARS,
                    format!("at `{name}.max_drop_percent`: more than 100"),
                    "give a percentage from 0 to 100 (100 turns the rule off)",
                ));
            }
            let defaults = FeedGuard::default();
            let guard = FeedGuard {
                min_events: min_events.unwrap_or(defaults.min_events),
                max_drop_percent: max_drop_percent.unwrap_or(defaults.max_drop_percent),
            };
            Ok(CalendarSource::Feed(FeedSource { url, zone, guard }))
        }
        _ => Err(setting(
            CALENDARS,
            format!("calendar `{name}` must have exactly one of `inline` and `ics_url`"),
            "write {\"inline\": {\"timezone\": ..., \"blackouts\": [...]}} or {\"ics_url\": \"https://...\", \
             \"timezone\": \"Europe/Berlin\"}",
        )),
    }
}

/// Feeds are read over HTTPS. Plain http is accepted only for a loopback host (a test's local server): over the
/// internet, whoever can change the answer could lift a BlackDay.
pub fn check_feed_url(text: &str) -> Result<reqwest::Url, (String, String)> {
    let fix = "give the calendar's https:// iCalendar (.ics) address".to_owned();
    let url = reqwest::Url::parse(text.trim()).map_err(|e| (format!("is not a URL ({e})"), fix.clone()))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err((
            "is plain http; a feed read over the internet without TLS could be changed on the way".to_owned(),
            "use https:// (plain http is accepted only for 127.0.0.1 / localhost, in tests)".to_owned(),
        )),
        other => Err((format!("has the scheme `{other}`"), fix)),
    }
}

/// What to do with a release that may not go (inside a BlackDay, or outside every allowed window).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Inside {
    /// Keep the approval pending; the sweep approves once the BlackDay is over.
    #[default]
    Hold,
    /// End the release now, saying which BlackDay.
    Reject,
}

/// A pipeline's settings in its approval action's `CustomData`. Every field is optional.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GateData {
    /// Which of the deployment's calendars (`BLACKDAY_CALENDARS`) applies; `default` when left out.
    #[serde(default)]
    pub calendar: Option<String>,
    /// The zone of the periods below; the chosen calendar's zone when left out.
    #[serde(default)]
    pub timezone: Option<String>,
    /// This pipeline's own BlackDays, added to the calendar's (periods in the calendar format).
    #[serde(default)]
    pub blackouts: Vec<Value>,
    /// This pipeline's own allowed windows: they restrict the calendar's further (both must allow).
    #[serde(default)]
    pub allowed_windows: Option<Vec<Value>>,
    /// `hold` (default) or `reject` when a release may not go.
    #[serde(default)]
    pub inside: Option<Inside>,
    /// `hold` (default) or `reject` when the calendar cannot be read. Never approve.
    #[serde(default)]
    pub on_error: Option<FailurePolicy>,
}

impl GateData {
    pub fn calendar_name(&self) -> &str {
        self.calendar.as_deref().unwrap_or(DEFAULT_CALENDAR)
    }

    /// The pipeline's own periods as a calendar document for `BlackDayCalendar::merge_json`, whose field names
    /// are the CustomData's, so the engine's errors point at the right CustomData field. `None` when it adds none.
    pub fn additions(&self) -> Option<String> {
        if self.blackouts.is_empty() && self.allowed_windows.is_none() && self.timezone.is_none() {
            return None;
        }
        let mut document = serde_json::Map::new();
        if let Some(zone) = &self.timezone {
            document.insert("timezone".into(), Value::from(zone.clone()));
        }
        document.insert("blackouts".into(), Value::Array(self.blackouts.clone()));
        if let Some(windows) = &self.allowed_windows {
            document.insert("allowed_windows".into(), Value::Array(windows.clone()));
        }
        Some(Value::Object(document).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const INLINE: &str = r#"{"default": {"inline": {"timezone": "Europe/Berlin",
        "blackouts": [{"name": "Year end", "yearly": {"from": "12-20", "to": "01-03"}}]}},
        "retail": {"ics_url": "https://calendar.example.com/retail.ics?key=PRIVATEKEY", "timezone": "America/Chicago"}}"#;

    fn env(calendars: &str, extra: &[(&str, &str)]) -> Env {
        let mut pairs = vec![
            (CALENDARS, calendars),
            ("SLACK_WEBHOOK_SECRET_ID", "hooks/slack/default"),
        ];
        pairs.extend_from_slice(extra);
        Env::from_pairs(&pairs)
    }

    #[test]
    fn a_mis_shaped_entry_names_the_field_never_the_private_url() {
        for calendars in [
            r#"{"default": "https://calendar.example.com/retail.ics?key=PRIVATEKEY"}"#,
            r#"{"default": {"inline": "https://calendar.example.com/retail.ics?key=PRIVATEKEY"}}"#,
            r#"{"default": {"ics_url": ["https://calendar.example.com/retail.ics?key=PRIVATEKEY"]}}"#,
        ] {
            let err = Settings::from_env(&env(calendars, &[])).unwrap_err().to_string();
            assert!(err.contains("`default"), "{err}");
            assert!(!err.contains("PRIVATEKEY"), "the feed's key leaked: {err}");
        }
        let settings = Settings::from_env(&env(INLINE, &[])).unwrap();
        let debug = format!("{settings:?}");
        assert!(
            !debug.contains("PRIVATEKEY") && debug.contains("calendar.example.com"),
            "{debug}"
        );
    }

    #[test]
    fn reads_inline_and_feed_calendars_with_defaults() {
        let settings = Settings::from_env(&env(INLINE, &[])).unwrap();
        assert_eq!(settings.max_stale, Duration::minutes(360));
        assert_eq!(settings.slack_secret_id, "hooks/slack/default");
        let CalendarSource::Inline(default) = &settings.calendars["default"] else {
            panic!("inline")
        };
        assert_eq!(default.blackouts().len(), 1);
        let CalendarSource::Feed(feed) = &settings.calendars["retail"] else {
            panic!("feed")
        };
        assert_eq!(feed.zone, Zone::named("America/Chicago").unwrap());
        assert_eq!(feed.guard, FeedGuard::default());
        assert_eq!(
            feed.label(),
            "feed at calendar.example.com",
            "the key in the URL stays out"
        );
        let settings = Settings::from_env(&env(INLINE, &[(MAX_STALE, "0")])).unwrap();
        assert_eq!(settings.max_stale, Duration::zero());
    }

    #[test]
    fn a_feed_may_set_when_it_is_suspicious() {
        let calendars = r#"{"default": {"ics_url": "https://x.test/a.ics", "timezone": "UTC",
            "min_events": 3, "max_drop_percent": 100}}"#;
        let settings = Settings::from_env(&env(calendars, &[])).unwrap();
        let CalendarSource::Feed(feed) = &settings.calendars["default"] else {
            panic!("feed")
        };
        assert_eq!(
            feed.guard,
            FeedGuard {
                min_events: 3,
                max_drop_percent: 100
            }
        );
        for (calendars, expected) in [
            (
                r#"{"default": {"ics_url": "https://x.test/a.ics", "timezone": "UTC", "max_drop_percent": 101}}"#,
                "at `default.max_drop_percent`: more than 100",
            ),
            (
                r#"{"default": {"inline": {"timezone": "UTC"}, "min_events": 0}}"#,
                "min_events and max_drop_percent are for feeds",
            ),
        ] {
            let error = Settings::from_env(&env(calendars, &[])).unwrap_err().to_string();
            assert!(error.contains(expected), "{expected:?} not in {error}");
        }
    }

    #[test]
    fn an_empty_feed_or_a_sharp_drop_is_suspicious() {
        let guard = FeedGuard::default();
        assert!(
            guard
                .suspicion(0, None)
                .unwrap()
                .contains("0 event(s), fewer than the 1")
        );
        assert!(guard.suspicion(0, Some(40)).is_some());
        assert_eq!(guard.suspicion(1, None), None);
        assert_eq!(guard.suspicion(20, Some(40)), None);
        assert!(guard.suspicion(19, Some(40)).unwrap().contains("down from 40"));
        let off = FeedGuard {
            min_events: 0,
            max_drop_percent: 100,
        };
        assert_eq!(off.suspicion(0, Some(40)), None);
        let strict = FeedGuard {
            min_events: 1,
            max_drop_percent: 0,
        };
        assert!(strict.suspicion(39, Some(40)).is_some());
        assert_eq!(strict.suspicion(41, Some(40)), None);
    }

    #[test]
    fn start_up_errors_name_the_setting_the_field_and_the_fix() {
        let cases: Vec<(Env, &str)> = vec![
            (
                Env::from_pairs(&[("SLACK_WEBHOOK_SECRET_ID", "s")]),
                "BLACKDAY_CALENDARS: is not set",
            ),
            (
                env(r#"{"retail": {"inline": {"timezone": "UTC"}}}"#, &[]),
                "no calendar named `default`",
            ),
            (
                env(r#"{"default": {"inline": {"timezone": "CST"}}}"#, &[]),
                "at `default.inline.timezone`: \"CST\" is a time zone abbreviation",
            ),
            (
                env(
                    r#"{"default": {"inline": {"timezone": "UTC", "blackouts": [{"name": "x"}]}}}"#,
                    &[],
                ),
                "at `default.inline.blackouts[0]`: has no schedule",
            ),
            (
                env(r#"{"default": {"inline": {"timezone": "UTC", "colour": 1}}}"#, &[]),
                "unknown field `colour`",
            ),
            (
                env(r#"{"default": {"ics_url": "https://x.test/a.ics"}}"#, &[]),
                "at `default.timezone`: missing",
            ),
            (
                env(
                    r#"{"default": {"ics_url": "http://calendar.example.com/a.ics", "timezone": "UTC"}}"#,
                    &[],
                ),
                "at `default.ics_url`: is plain http",
            ),
            (
                env(r#"{"default": {"ics_url": "ftp://x/a.ics", "timezone": "UTC"}}"#, &[]),
                "scheme `ftp`",
            ),
            (
                env(
                    r#"{"default": {"ics_url": "https://x.test/a.ics", "timezone": "EST"}}"#,
                    &[],
                ),
                "abbreviation",
            ),
            (env(r#"{"default": {}}"#, &[]), "exactly one of `inline` and `ics_url`"),
            (
                env(
                    r#"{"default": {"inline": {"timezone": "UTC"}, "timezone": "UTC"}}"#,
                    &[],
                ),
                "`default.inline.timezone`",
            ),
            (env(r#"["default"]"#, &[]), "BLACKDAY_CALENDARS"),
            (
                env(INLINE, &[(MAX_STALE, "soon")]),
                "CALENDAR_FEED_MAX_STALE_MINUTES: `soon`",
            ),
            (env(INLINE, &[(MAX_STALE, "99999")]), "from 0 to 10080"),
            (
                Env::from_pairs(&[(CALENDARS, INLINE)]),
                "SLACK_WEBHOOK_SECRET_ID: is not set",
            ),
        ];
        for (env, expected) in cases {
            let err = Settings::from_env(&env).unwrap_err().to_string();
            assert!(err.contains(expected), "expected {expected:?} in {err}");
            assert!(err.contains("Fix: "), "{err}");
            assert!(!err.contains("PRIVATEKEY"), "{err}");
        }
    }

    #[test]
    fn feeds_need_https_except_on_loopback() {
        assert!(check_feed_url("https://calendar.example.com/a.ics").is_ok());
        assert!(check_feed_url("http://127.0.0.1:8080/a.ics").is_ok());
        assert!(check_feed_url("http://localhost/a.ics").is_ok());
        assert!(check_feed_url("http://10.0.0.1/a.ics").is_err());
        assert!(check_feed_url("calendar.example.com/a.ics").is_err());
    }

    #[test]
    fn custom_data_fields_and_additions() {
        let data: GateData = serde_json::from_value(json!({"calendar": "retail", "inside": "reject",
            "blackouts": [{"name": "Launch", "dates": ["2026-11-27"]}], "on_error": "reject"}))
        .unwrap();
        assert_eq!(data.calendar_name(), "retail");
        assert_eq!(
            (data.inside, data.on_error),
            (Some(Inside::Reject), Some(FailurePolicy::Reject))
        );
        let additions: Value = serde_json::from_str(&data.additions().unwrap()).unwrap();
        assert_eq!(
            additions,
            json!({"blackouts": [{"name": "Launch", "dates": ["2026-11-27"]}]})
        );
        assert_eq!(GateData::default().calendar_name(), "default");
        assert_eq!(GateData::default().additions(), None);
        let zoned = GateData {
            timezone: Some("UTC".into()),
            allowed_windows: Some(vec![json!({"name": "w", "weekly": {"days": ["Mon"]}})]),
            ..Default::default()
        };
        let additions: Value = serde_json::from_str(&zoned.additions().unwrap()).unwrap();
        assert_eq!(additions["timezone"], "UTC");
        assert_eq!(additions["allowed_windows"][0]["name"], "w");
        for bad in [
            json!({"inside": "approve"}),
            json!({"calender": "retail"}),
            json!({"blackouts": {}}),
        ] {
            assert!(serde_json::from_value::<GateData>(bad.clone()).is_err(), "{bad}");
        }
    }
}
