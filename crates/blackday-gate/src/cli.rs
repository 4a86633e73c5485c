//! `blackday check`: a release manager asks a calendar, before deploying it, what the gate would: is T inside a
//! BlackDay, until when, and what comes next. Same engine, same feed reader, same wording as the gate.

use blackday_calendar::{BlackDayCalendar, Verdict, Zone};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::json;

use crate::display::{upcoming, when};
use crate::feed;
use crate::settings::check_feed_url;

pub const USAGE: &str = "usage:
  blackday check --calendar FILE_OR_URL [--at TIME] [--zone ZONE] [--json]

  --calendar  a calendar document (JSON, as in BLACKDAY_CALENDARS' \"inline\") or an iCalendar feed (.ics),
              as a file or an https:// URL
  --at        the instant to check: wall-clock time in --zone (2026-12-24T10:00, \"2026-12-24 10:00\",
              2026-12-24 for its midnight) or with an offset (2026-12-24T09:00Z); default: now
  --zone      IANA time zone of --at and of the times printed (default: the calendar's own zone); required for
              an .ics calendar, as the zone of its all-day events and floating times
  --json      print the answer as JSON

exit status: 0 a release may go at that time, 1 it may not (inside a BlackDay or outside the windows), 2 error";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    pub calendar: String,
    pub at: Option<String>,
    pub zone: Option<String>,
    pub json: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Check(Check),
    Help,
}

/// Parses the arguments after the program name.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("check") => {}
        None | Some("help" | "--help" | "-h") => return Ok(Command::Help),
        Some(other) => return Err(format!("unknown command `{other}`")),
    }
    let mut check = Check::default();
    let mut calendar = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--calendar" => calendar = Some(value()?),
            "--at" => check.at = Some(value()?),
            "--zone" => check.zone = Some(value()?),
            "--json" => check.json = true,
            "--help" | "-h" => return Ok(Command::Help),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    check.calendar = calendar.ok_or("--calendar is required")?;
    Ok(Command::Check(check))
}

/// Reads a calendar's text from a file or an http(s) URL (the gate's rules for feed addresses apply); returns how
/// to name it (a URL by its host: private iCal addresses carry a key) and the text.
pub async fn read_source(source: &str) -> Result<(String, String), String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let url = check_feed_url(source).map_err(|(problem, fix)| format!("--calendar {problem}; {fix}"))?;
        let label = format!("feed at {}", url.host_str().unwrap_or("?"));
        let policy = hooks_common::address::AddressPolicy::from_env(&hooks_common::settings::Env::process())
            .map_err(|e| e.to_string())?;
        let text = feed::fetch_text(&feed::http_client(&policy)?, &url)
            .await
            .map_err(|problem| format!("{label}: {problem}"))?;
        return Ok((label, text));
    }
    let text = std::fs::read_to_string(source).map_err(|e| format!("cannot read {source}: {e}"))?;
    Ok((source.to_owned(), text))
}

/// Reads a JSON calendar document or an .ics feed, by what the text is.
pub fn load(text: &str, zone: Option<Zone>) -> Result<BlackDayCalendar, String> {
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with('{') {
        return BlackDayCalendar::from_json(text).map_err(|e| e.to_string());
    }
    if start
        .get(..15)
        .is_some_and(|s| s.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        let zone = zone.ok_or(
            "an .ics calendar needs --zone (the zone of its all-day events and floating times), e.g. --zone \
             Europe/Berlin",
        )?;
        return BlackDayCalendar::from_ics(text, zone).map_err(|e| e.to_string());
    }
    Err(
        "the calendar is neither a JSON calendar document (starting with `{`) nor an iCalendar feed (starting \
         with BEGIN:VCALENDAR)"
            .to_owned(),
    )
}

/// The instant `--at` names: with an offset as given, otherwise wall-clock time in `zone` (a time inside a
/// daylight-saving gap is the first instant after it, as the engine reads calendars).
pub fn instant(at: Option<&str>, zone: Zone, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let Some(text) = at.map(str::trim) else {
        return Ok(now);
    };
    let normalized = text.replacen(' ', "T", 1);
    let exact = DateTime::parse_from_rfc3339(&normalized)
        .or_else(|_| DateTime::parse_from_str(&normalized, "%Y-%m-%dT%H:%M%:z"))
        .ok();
    if let Some(exact) = exact {
        return Ok(exact.with_timezone(&Utc));
    }
    let (wall_clock, in_utc) = match normalized.strip_suffix('Z') {
        Some(utc) => (utc, true),
        None => (normalized.as_str(), false),
    };
    let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(wall_clock, format).ok())
        .or_else(|| {
            let date = NaiveDate::parse_from_str(wall_clock, "%Y-%m-%d").ok();
            date.and_then(|date| date.and_hms_opt(0, 0, 0))
        })
        .ok_or_else(|| {
            format!("--at `{text}` is not a time; write 2026-12-24T10:00 (in --zone), 2026-12-24, or 2026-12-24T09:00Z")
        })?;
    Ok(if in_utc {
        local.and_utc()
    } else {
        blackday_calendar::zone::resolve(zone, local)
    })
}

/// What `check` prints, and its exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub exit: u8,
}

/// The answer for `calendar` at `at`, with times shown in `zone`.
pub fn answer(calendar: &BlackDayCalendar, label: &str, at: DateTime<Utc>, zone: Zone, as_json: bool) -> Answer {
    let verdict = calendar.verdict(at);
    let next = calendar.next_blackday(at);
    let exit = if verdict.is_clear() { 0 } else { 1 };
    if as_json {
        let document = json!({
            "calendar": label,
            "zone": zone.name(),
            "at": at,
            "clear": verdict.is_clear(),
            "verdict": verdict,
            "next_blackday": next,
        });
        return Answer {
            text: serde_json::to_string_pretty(&document).unwrap_or_default(),
            exit,
        };
    }
    let windows: usize = calendar.window_groups().iter().map(Vec::len).sum();
    let mut lines = vec![
        format!(
            "calendar       {label}: {} blackout(s), {windows} allowed window(s), in {}",
            calendar.blackouts().len(),
            calendar.zone().name()
        ),
        format!("at             {}", when(at, zone)),
    ];
    match &verdict {
        Verdict::Clear { .. } => {
            lines.push("verdict        CLEAR: a release may go".to_owned());
        }
        Verdict::Blocked {
            cause,
            period_name,
            reason,
            ends_at,
        } => {
            lines.push(format!(
                "verdict        BLOCKED: {}",
                cause.explain(period_name, reason)
            ));
            lines.push(match ends_at {
                Some(opens) => format!("next window    {}", when(*opens, zone)),
                None => "next window    none within the next 400 days".to_owned(),
            });
        }
    }
    lines.push(format!("next BlackDay  {}", upcoming(next.as_ref(), zone)));
    Answer {
        text: lines.join("\n"),
        exit,
    }
}

/// Runs `check` (reading the calendar, then answering); errors are for the exit status 2.
pub async fn check(args: &Check, now: DateTime<Utc>) -> Result<Answer, String> {
    let zone = args
        .zone
        .as_deref()
        .map(|name| blackday_calendar::parse_time_zone(name, "--zone").map_err(|e| e.to_string()))
        .transpose()?;
    let (label, text) = read_source(&args.calendar).await?;
    let calendar = load(&text, zone).map_err(|problem| format!("{label}: {problem}"))?;
    let zone = zone.unwrap_or(calendar.zone());
    let at = instant(args.at.as_deref(), zone, now)?;
    Ok(answer(&calendar, &label, at, zone, args.json))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Command, String> {
        parse_args(list.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn parses_the_check_command() {
        assert_eq!(
            args(&[
                "check",
                "--calendar",
                "cal.json",
                "--at",
                "2026-12-24T10:00",
                "--zone",
                "Europe/Berlin",
                "--json"
            ]),
            Ok(Command::Check(Check {
                calendar: "cal.json".into(),
                at: Some("2026-12-24T10:00".into()),
                zone: Some("Europe/Berlin".into()),
                json: true,
            }))
        );
        assert_eq!(args(&[]), Ok(Command::Help));
        assert_eq!(args(&["check", "--calendar", "c", "--help"]), Ok(Command::Help));
        let cases: [(&[&str], &str); 4] = [
            (&["check"], "--calendar is required"),
            (&["check", "--calendar"], "--calendar needs a value"),
            (&["check", "--calendar", "c", "--colour"], "unknown option `--colour`"),
            (&["verify"], "unknown command `verify`"),
        ];
        for (list, expected) in cases {
            assert_eq!(args(list), Err(expected.to_owned()), "{list:?}");
        }
    }

    #[test]
    fn reads_times_in_the_zone_or_with_an_offset() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let now: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
        let cases = [
            (Some("2026-12-24T10:00"), "2026-12-24T09:00:00Z"),
            (Some("2026-12-24 10:00"), "2026-12-24T09:00:00Z"),
            (Some("2026-12-24"), "2026-12-23T23:00:00Z"),
            (Some("2026-12-24T09:00Z"), "2026-12-24T09:00:00Z"),
            (Some("2026-12-24T09:00:00+00:00"), "2026-12-24T09:00:00Z"),
            (Some("2026-12-24T10:00+01:00"), "2026-12-24T09:00:00Z"),
            // In the spring-forward gap: the change itself, as the engine reads it.
            (Some("2026-03-29T02:30"), "2026-03-29T01:00:00Z"),
            (None, "2026-11-22T10:00:00Z"),
        ];
        for (at, expected) in cases {
            assert_eq!(
                instant(at, berlin, now).unwrap(),
                expected.parse::<DateTime<Utc>>().unwrap(),
                "{at:?}"
            );
        }
        let err = instant(Some("christmas"), berlin, now).unwrap_err();
        assert!(err.contains("--at `christmas` is not a time"), "{err}");
    }

    const CALENDAR: &str = r#"{"timezone": "Europe/Berlin", "blackouts": [
        {"name": "Year end", "reason": "Change freeze over the holidays", "yearly": {"from": "12-20", "to": "01-03"}},
        {"name": "Launch day", "dates": ["2027-02-12"]}]}"#;

    #[test]
    fn answers_blocked_with_the_end_and_whats_next() {
        let calendar = load(CALENDAR, None).unwrap();
        let at = "2026-12-24T09:00:00Z".parse().unwrap();
        let answer = answer(
            &calendar,
            "retail.json",
            at,
            Zone::named("Europe/Berlin").unwrap(),
            false,
        );
        assert_eq!(answer.exit, 1);
        assert_eq!(
            answer.text,
            "calendar       retail.json: 2 blackout(s), 0 allowed window(s), in Europe/Berlin
at             2026-12-24 10:00 Europe/Berlin (09:00 UTC)
verdict        BLOCKED: inside BlackDay “Year end”: Change freeze over the holidays
next window    2027-01-04 00:00 Europe/Berlin (2027-01-03 23:00 UTC)
next BlackDay  “Launch day” from 2027-02-12 00:00 to 2027-02-13 00:00 Europe/Berlin"
        );
    }

    #[test]
    fn answers_clear_with_the_next_blackday_in_the_zone_asked_for() {
        let calendar = load(CALENDAR, None).unwrap();
        let at = "2026-12-01T09:00:00Z".parse().unwrap();
        let answer = answer(
            &calendar,
            "retail.json",
            at,
            Zone::named("America/New_York").unwrap(),
            false,
        );
        assert_eq!(answer.exit, 0);
        assert!(
            answer.text.contains("verdict        CLEAR: a release may go"),
            "{}",
            answer.text
        );
        assert!(
            answer
                .text
                .contains("next BlackDay  “Year end” from 2026-12-19 18:00 to 2027-01-03 18:00 America/New_York"),
            "{}",
            answer.text
        );
    }

    #[test]
    fn json_answer() {
        let calendar = load(CALENDAR, None).unwrap();
        let at = "2026-12-24T09:00:00Z".parse().unwrap();
        let answer = answer(
            &calendar,
            "retail.json",
            at,
            Zone::named("Europe/Berlin").unwrap(),
            true,
        );
        let parsed: serde_json::Value = serde_json::from_str(&answer.text).unwrap();
        assert_eq!(parsed["clear"], false);
        assert_eq!(parsed["verdict"]["verdict"], "blocked");
        assert_eq!(parsed["verdict"]["period_name"], "Year end");
        assert_eq!(parsed["verdict"]["ends_at"], "2027-01-03T23:00:00Z");
        assert_eq!(parsed["next_blackday"]["name"], "Launch day");
    }

    #[test]
    fn loads_ics_only_with_a_zone_and_refuses_other_text() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261224\r\n\
                   SUMMARY:Christmas\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert!(load(ics, None).unwrap_err().contains("needs --zone"));
        let calendar = load(ics, Some(Zone::named("Europe/Berlin").unwrap())).unwrap();
        assert_eq!(calendar.blackouts()[0].name(), "Christmas");
        assert!(load("<html>", None).unwrap_err().contains("neither"));
        assert!(load(r#"{"blackouts": []}"#, None).unwrap_err().contains("timezone"));
    }

    #[tokio::test]
    async fn check_reads_a_file_and_exits_by_the_verdict() {
        let path = std::env::temp_dir().join(format!("blackday-cli-{}.json", std::process::id()));
        std::fs::write(&path, CALENDAR).unwrap();
        let file = path.to_string_lossy().into_owned();
        let now = "2026-11-22T10:00:00Z".parse().unwrap();
        let run = |at: &str, zone: Option<&str>| Check {
            calendar: file.clone(),
            at: Some(at.into()),
            zone: zone.map(str::to_owned),
            json: false,
        };
        assert_eq!(check(&run("2026-12-24T10:00", None), now).await.unwrap().exit, 1);
        assert_eq!(check(&run("2026-12-10T10:00", Some("UTC")), now).await.unwrap().exit, 0);
        let err = check(&run("2026-12-10T10:00", Some("CST")), now).await.unwrap_err();
        assert!(err.contains("--zone") && err.contains("America/Chicago"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let err = check(&run("2026-12-10T10:00", None), now).await.unwrap_err();
        assert!(err.contains("cannot read"), "{err}");
        let err = check(
            &Check {
                calendar: "http://calendar.example.com/a.ics".into(),
                ..Check::default()
            },
            now,
        )
        .await
        .unwrap_err();
        assert!(err.contains("use https://"), "{err}");
    }
}
