//! The JSON document and iCalendar feeds: what they mean, and the errors that name the field and the fix.

mod common;

use blackday_calendar::{BlackDayCalendar, CalendarDocument, Zone, periods_from_ics};
use common::{check_table, said, utc};

/// The document of the crate documentation.
const DOCUMENTED: &str = r#"{
  "timezone": "Europe/Berlin",
  "blackouts": [
    {"name": "Weekend freeze", "reason": "Nobody on call to roll back",
     "weekly": {"from": "Fri 15:00", "to": "Mon 09:00"}},
    {"name": "Year end", "yearly": {"from": "12-20", "to": "01-03"}},
    {"name": "Launch day", "dates": ["2026-11-27"]},
    {"name": "Migration", "once": {"from": "2026-05-02T18:00", "to": "2026-05-04T06:00"}},
    {"name": "Month-end close", "monthly": {"on": "last-business-day"}},
    {"name": "Independence Day", "timezone": "America/New_York",
     "rrule": {"rule": "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4", "start": "2026-07-04", "exdates": ["2027-07-04"]}}
  ],
  "allowed_windows": [
    {"name": "Business hours", "weekly": {"days": ["Mon-Thu"], "from": "09:00", "to": "17:00"}}
  ]
}"#;

#[test]
fn the_documented_example_reads_and_describes_itself() {
    let calendar = BlackDayCalendar::from_json(DOCUMENTED).unwrap();
    assert_eq!(calendar.zone(), Zone::named("Europe/Berlin").unwrap());
    let described: Vec<String> = calendar.blackouts().iter().map(|p| p.describe()).collect();
    assert_eq!(
        described,
        [
            "every Fri 15:00 to Mon 09:00 (Europe/Berlin)",
            "every year from 12-20 to 01-03 (Europe/Berlin)",
            "on 2026-11-27 (Europe/Berlin)",
            "from 2026-05-02T18:00 to 2026-05-04T06:00 (Europe/Berlin)",
            "monthly on the last business day, all day (Europe/Berlin)",
            "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4 from 2026-07-04 00:00 for 1440 minutes each (America/New_York)",
        ]
    );
    check_table(
        &calendar,
        &[
            // Thursday November 26 2026, 10:00 CET: business hours.
            ("2026-11-26T09:00:00Z", "clear"),
            // Friday November 27 is launch day, then the weekend freeze, then Monday the 30th is the last business
            // day of November (month-end close): one run, to Tuesday 09:00.
            ("2026-11-26T23:30:00Z", "blocked by Launch day until 2026-12-01T08:00Z"),
            (
                "2026-11-27T15:00:00Z",
                "blocked by Weekend freeze until 2026-12-01T08:00Z",
            ),
            (
                "2026-11-30T12:00:00Z",
                "blocked by Month-end close until 2026-12-01T08:00Z",
            ),
            // Wednesday December 23: year end, to Monday January 4 at 09:00.
            ("2026-12-23T09:00:00Z", "blocked by Year end until 2027-01-04T08:00Z"),
            // Friday July 3 2026 is outside business hours (Mon-Thu), and the 4th is Independence Day in New York.
            (
                "2026-07-03T09:00:00Z",
                "blocked by Outside allowed windows until 2026-07-06T07:00Z",
            ),
        ],
    );
    let Some(weekend) = calendar.blackouts().first() else {
        panic!()
    };
    assert_eq!(weekend.reason(), Some("Nobody on call to roll back"));
}

#[test]
fn json_errors_name_the_field_and_the_fix() {
    let period = |json: &str| format!(r#"{{"timezone": "Europe/Berlin", "blackouts": [{json}]}}"#);
    let cases: Vec<(String, &str, &str)> = vec![
        (
            r#"{"blackouts": []}"#.into(),
            "at `timezone`: missing",
            "\"Europe/Berlin\"",
        ),
        (
            r#"{"timezone": "CST", "blackouts": []}"#.into(),
            "at `timezone`: \"CST\" is a time zone abbreviation",
            "write the IANA name of the place, e.g. \"America/Chicago\" (US Central), \"Asia/Shanghai\" (China)",
        ),
        (
            period(r#"{"name": "x", "timezone": "EST", "dates": ["2026-01-01"]}"#),
            "at `blackouts[0].timezone`: \"EST\" is a time zone abbreviation",
            "\"America/New_York\"",
        ),
        (
            period(r#"{"name": "x", "timezone": "CST6CDT", "dates": ["2026-01-01"]}"#),
            "at `blackouts[0].timezone`: \"CST6CDT\" is a legacy alias",
            "\"America/Chicago\"",
        ),
        (
            period(r#"{"name": "x", "weekly": {"from": "Fry 15:00", "to": "Mon 09:00"}}"#),
            "at `blackouts[0].weekly.from`: \"Fry\" is not a weekday",
            "Mon, Tue",
        ),
        (
            period(r#"{"name": "x", "weekly": {"from": "15:00", "to": "09:00"}}"#),
            "at `blackouts[0].weekly.from`: \"15:00\" is not a weekday and a time",
            "\"Fri 15:00\"",
        ),
        (
            period(r#"{"name": "x", "weekly": {"days": ["Mon"], "from": "9am", "to": "17:00"}}"#),
            "at `blackouts[0].weekly.from`: \"9am\" is not a time of day",
            "HH:MM",
        ),
        (
            period(r#"{"name": "x", "weekly": {"days": ["Mon"], "from": "09:00"}}"#),
            "at `blackouts[0].weekly.to`: is missing",
            "both from and to",
        ),
        (
            period(r#"{"name": "x", "weekly": {"days": ["Mon", "Funday"]}}"#),
            "at `blackouts[0].weekly.days[1]`: \"Funday\" is not a weekday",
            "Mon",
        ),
        (
            period(r#"{"name": "x", "weekly": {}}"#),
            "at `blackouts[0].weekly`: needs days, or from and to",
            "\"Fri 15:00\"",
        ),
        (
            period(r#"{"name": "x", "monthly": {"on": "end of month"}}"#),
            "at `blackouts[0].monthly.on`: \"end of month\" is not a day of the month",
            "\"last-business-day\"",
        ),
        (
            period(r#"{"name": "x", "yearly": {"from": "02-30", "to": "03-01"}}"#),
            "at `blackouts[0].yearly.from`: \"02-30\" is not a month and day",
            "MM-DD",
        ),
        (
            period(r#"{"name": "x", "dates": ["2026-01-01", "2026-13-01"]}"#),
            "at `blackouts[0].dates[1]`: \"2026-13-01\" is not a date",
            "YYYY-MM-DD",
        ),
        (
            period(r#"{"name": "x", "once": {"from": "2026-05-04", "to": "2026-05-02"}}"#),
            "at `blackouts[0].once.to`: \"2026-05-02\" is not after \"2026-05-04\"",
            "end after the start",
        ),
        (
            period(r#"{"name": "x", "once": {"from": "2026-05-04T10:00Z", "to": "2026-05-05"}}"#),
            "at `blackouts[0].once.from`: \"2026-05-04T10:00Z\" has a UTC offset",
            "\"timezone\": \"UTC\"",
        ),
        (
            period(r#"{"name": "x", "colour": "red", "dates": ["2026-01-01"]}"#),
            "unknown field `colour`",
            "correct its spelling",
        ),
        (
            period(r#"{"name": "x", "dates": ["2026-01-01"], "yearly": {"from": "12-20", "to": "01-03"}}"#),
            "at `blackouts[0]`: has more than one schedule (dates, yearly)",
            "exactly one of",
        ),
        (
            period(r#"{"name": "x"}"#),
            "at `blackouts[0]`: has no schedule",
            "exactly one of",
        ),
        (
            period(r#"{"name": " ", "dates": ["2026-01-01"]}"#),
            "at `blackouts[0].name`: is empty",
            "name the period",
        ),
        (
            period(r#"{"dates": ["2026-01-01"]}"#),
            "at `blackouts[0]`: missing field `name`",
            "add the field",
        ),
        (
            period(r#"{"name": "x", "rrule": "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4", "duration_hours": 24}"#),
            "at `blackouts[0].rrule`: invalid type: string",
            "write rrule as an object",
        ),
        (
            period(r#"{"name": "x", "rrule": {"rule": "FREQ=YEARLY", "start": "2026-01-01"}, "duration_hours": 24}"#),
            "unknown field `duration_hours`",
            "put it inside rrule",
        ),
        (
            period(r#"{"name": "x", "rrule": {"rule": "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4", "start": "2026-01-01"}}"#),
            "at `blackouts[0].rrule.start`: \"2026-01-01\" is not an occurrence of the rule",
            "set start to the first occurrence, e.g. \"2026-07-04\"",
        ),
        (
            period(r#"{"name": "x", "rrule": {"rule": "FREQ=FORTNIGHTLY", "start": "2026-01-01"}}"#),
            "at `blackouts[0].rrule.rule`: the rule does not parse",
            "RFC 5545 RRULE",
        ),
        (
            period(r#"{"name": "x", "rrule": {"rule": "FREQ=DAILY", "start": "2026-01-01T09:00"}}"#),
            "at `blackouts[0].rrule.duration_hours`: is missing",
            "\"duration_hours\": 8",
        ),
        (
            period(r#"{"name": "x", "rrule": {"rule": "FREQ=DAILY", "start": "2026-01-01", "duration_hours": 0}}"#),
            "at `blackouts[0].rrule.duration_hours`: 0 is not a length",
            "above 0",
        ),
        (
            r#"{"timezone": "UTC", "allowed_windows": []}"#.into(),
            "at `allowed_windows`: is an empty list",
            "leave allowed_windows out",
        ),
        (
            r#"{"timezone": "UTC", "allowed_windows": [{"name": "a", "dates": ["2026-01-01"]},
                {"name": "b", "weekly": {"days": ["Mon"], "from": "09:00", "to": "09:00"}}]}"#
                .into(),
            "at `allowed_windows[1].weekly.to`: \"09:00\" is the same as from",
            "leave from and to out for the whole day",
        ),
        (
            "{not json".into(),
            "in the calendar document: key must be a string",
            "valid JSON",
        ),
        (
            "[]".into(),
            "in the calendar document: is not a JSON object",
            "{\"timezone\"",
        ),
    ];
    let mut wrong = Vec::new();
    for (json, problem, fix) in &cases {
        match BlackDayCalendar::from_json(json) {
            Ok(_) => wrong.push(format!("accepted: {json}")),
            Err(error) => {
                let text = error.to_string();
                if !text.contains(problem) || !error.fix.contains(fix) {
                    wrong.push(format!("{json}\n  expected {problem:?} and fix {fix:?}\n  got {text}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn a_document_inside_a_larger_one_reports_full_paths() {
    #[derive(serde::Deserialize)]
    struct Settings {
        calendar: CalendarDocument,
    }
    let settings: Settings = serde_json::from_str(r#"{"calendar": {"timezone": "IST", "blackouts": []}}"#).unwrap();
    let error = settings.calendar.into_calendar(None, "calendar").unwrap_err();
    assert!(
        error.to_string().starts_with("at `calendar.timezone`: \"IST\""),
        "{error}"
    );
    assert!(error.fix.contains("\"Asia/Kolkata\" (India)"), "{error}");
}

/// A feed as Google Calendar exports it: CRLF lines, a VTIMEZONE, folded lines, escapes, alarms.
fn feed() -> String {
    [
        "BEGIN:VCALENDAR",
        "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Release freezes",
        "X-WR-TIMEZONE:Europe/Berlin",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Berlin",
        "X-LIC-LOCATION:Europe/Berlin",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "TZNAME:CEST",
        "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "TZNAME:CET",
        "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
        // 1: an all-day event, with an escaped and folded description.
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20261127",
        "DTEND;VALUE=DATE:20261128",
        "DTSTAMP:20260101T000000Z",
        "UID:launch-2026@example.com",
        "SUMMARY:Launch day",
        "DESCRIPTION:Black Friday launch: no releases\\, no config changes.\\nAsk #rel",
        " ease-managers for exceptions.",
        "END:VEVENT",
        // 2: several days across the year end, DTEND exclusive, folded summary.
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20261221",
        "DTEND;VALUE=DATE:20270104",
        "UID:yearend-2026@example.com",
        "SUMMARY:Year-end fr",
        " eeze",
        "END:VEVENT",
        // 3: an evening in New York.
        "BEGIN:VEVENT",
        "DTSTART;TZID=America/New_York:20260915T180000",
        "DTEND;TZID=America/New_York:20260915T230000",
        "UID:us-campaign@example.com",
        "SUMMARY:US campaign launch",
        "END:VEVENT",
        // 4: UTC with a DURATION.
        "BEGIN:VEVENT",
        "DTSTART:20260601T220000Z",
        "DURATION:PT6H",
        "UID:dc-move@example.com",
        "SUMMARY:Datacenter move",
        "END:VEVENT",
        // 5: a weekly series with EXDATEs (a comma list and a second line), an alarm, UNTIL in UTC.
        "BEGIN:VEVENT",
        "DTSTART;TZID=Europe/Berlin:20260306T150000",
        "DTEND;TZID=Europe/Berlin:20260309T090000",
        "RRULE:FREQ=WEEKLY;BYDAY=FR;UNTIL=20260630T215959Z",
        "EXDATE;TZID=Europe/Berlin:20260403T150000,20260410T150000",
        "EXDATE;TZID=Europe/Berlin:20260501T150000",
        "UID:weekend-freeze@example.com",
        "SUMMARY:Weekend freeze",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "TRIGGER:-PT30M",
        "DESCRIPTION:Reminder",
        "END:VALARM",
        "END:VEVENT",
        // 6: one occurrence of the series moved to a later start.
        "BEGIN:VEVENT",
        "DTSTART;TZID=Europe/Berlin:20260515T180000",
        "DTEND;TZID=Europe/Berlin:20260518T090000",
        "RECURRENCE-ID;TZID=Europe/Berlin:20260515T150000",
        "UID:weekend-freeze@example.com",
        "SUMMARY:Weekend freeze (late start)",
        "END:VEVENT",
        // 7: one occurrence of the series cancelled.
        "BEGIN:VEVENT",
        "DTSTART;TZID=Europe/Berlin:20260522T150000",
        "DTEND;TZID=Europe/Berlin:20260525T090000",
        "RECURRENCE-ID;TZID=Europe/Berlin:20260522T150000",
        "STATUS:CANCELLED",
        "UID:weekend-freeze@example.com",
        "SUMMARY:Weekend freeze",
        "END:VEVENT",
        // 8: a yearly all-day event without DTEND, one year taken out.
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20261003",
        "RRULE:FREQ=YEARLY",
        "EXDATE;VALUE=DATE:20271003",
        "UID:unity-day@example.com",
        "SUMMARY:German Unity Day",
        "END:VEVENT",
        // 9: a floating time, read in the calendar's zone.
        "BEGIN:VEVENT",
        "DTSTART:20260801T080000",
        "DTEND:20260801T120000",
        "UID:audit@example.com",
        "SUMMARY:Quarterly audit",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n")
}

#[test]
fn a_realistic_ics_feed() {
    let periods = periods_from_ics(&feed(), Zone::named("Europe/Berlin").unwrap()).unwrap();
    let names: Vec<&str> = periods.iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        [
            "Launch day",
            "Year-end freeze",
            "US campaign launch",
            "Datacenter move",
            "Weekend freeze",
            "Weekend freeze (late start)",
            "German Unity Day",
            "Quarterly audit",
        ]
    );
    assert_eq!(
        periods[0].reason(),
        Some("Black Friday launch: no releases, no config changes.\nAsk #release-managers for exceptions.")
    );
    assert_eq!(periods[2].zone(), Zone::named("America/New_York").unwrap());
    assert_eq!(periods[3].zone(), Zone::UTC);

    let calendar = BlackDayCalendar::from_ics(&feed(), Zone::named("Europe/Berlin").unwrap()).unwrap();
    check_table(
        &calendar,
        &[
            // All-day events are whole days in Berlin.
            ("2026-11-26T22:59:59Z", "clear"),
            ("2026-11-26T23:00:00Z", "blocked by Launch day until 2026-11-27T23:00Z"),
            (
                "2026-12-20T23:00:00Z",
                "blocked by Year-end freeze until 2027-01-03T23:00Z",
            ),
            // 18:00-23:00 in New York (EDT).
            (
                "2026-09-15T22:00:00Z",
                "blocked by US campaign launch until 2026-09-16T03:00Z",
            ),
            (
                "2026-06-01T22:00:00Z",
                "blocked by Datacenter move until 2026-06-02T04:00Z",
            ),
            // The weekly series. Over the spring-forward weekend each occurrence lasts DTEND - DTSTART in real
            // time, 66 hours, as RFC 5545 says for DTEND: to Monday 10:00 CEST (08:00Z), an hour past 09:00.
            (
                "2026-03-06T14:00:00Z",
                "blocked by Weekend freeze until 2026-03-09T08:00Z",
            ),
            (
                "2026-03-27T14:00:00Z",
                "blocked by Weekend freeze until 2026-03-30T08:00Z",
            ),
            // Taken out by EXDATE.
            ("2026-04-04T12:00:00Z", "clear"),
            ("2026-04-11T12:00:00Z", "clear"),
            ("2026-05-02T12:00:00Z", "clear"),
            (
                "2026-04-18T12:00:00Z",
                "blocked by Weekend freeze until 2026-04-20T07:00Z",
            ),
            // Moved (RECURRENCE-ID): not from 15:00, but from 18:00.
            ("2026-05-15T14:00:00Z", "clear"),
            (
                "2026-05-15T16:00:00Z",
                "blocked by Weekend freeze (late start) until 2026-05-18T07:00Z",
            ),
            // Cancelled.
            ("2026-05-23T12:00:00Z", "clear"),
            // The last occurrence before UNTIL, and none after.
            (
                "2026-06-27T12:00:00Z",
                "blocked by Weekend freeze until 2026-06-29T07:00Z",
            ),
            ("2026-07-04T12:00:00Z", "clear"),
            // Yearly, except 2027.
            (
                "2026-10-03T10:00:00Z",
                "blocked by German Unity Day until 2026-10-03T22:00Z",
            ),
            ("2027-10-03T10:00:00Z", "clear"),
            (
                "2028-10-03T10:00:00Z",
                "blocked by German Unity Day until 2028-10-03T22:00Z",
            ),
            // Floating: 08:00-12:00 Berlin time.
            (
                "2026-08-01T06:00:00Z",
                "blocked by Quarterly audit until 2026-08-01T10:00Z",
            ),
        ],
    );

    // The same feed with LF line endings and a byte-order mark reads the same.
    let lf = format!("\u{feff}{}", feed().replace("\r\n", "\n"));
    assert_eq!(
        periods_from_ics(&lf, Zone::named("Europe/Berlin").unwrap())
            .unwrap()
            .len(),
        8
    );
}

#[test]
fn ics_refusals_name_the_event_and_the_fix() {
    let event = |lines: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Freeze\r\n{lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    let cases = [
        (
            event("DTSTART;TZID=CST:20260101T090000\r\nDTEND;TZID=CST:20260101T100000\r\n"),
            "in the .ics feed, event 1 (\"Freeze\"): DTSTART: TZID \"CST\" is a time zone abbreviation",
            "\"America/Chicago\" (US Central)",
        ),
        (
            event("DTSTART;TZID=W. Europe Standard Time:20260101T090000\r\nDURATION:PT1H\r\n"),
            "DTSTART: TZID \"W. Europe Standard Time\" is a Windows time zone name",
            "\"Europe/Berlin\"",
        ),
        (
            event("DTEND:20260101T100000Z\r\n"),
            "event 1 (\"Freeze\"): DTSTART: is missing",
            "give the event a start",
        ),
        (
            event("DTSTART:2026-01-01\r\n"),
            "DTSTART: \"2026-01-01\" is not an iCalendar date",
            "fix the value",
        ),
        (
            event("DTSTART:20260102T100000Z\r\nDTEND:20260101T100000Z\r\n"),
            "DTEND: is before DTSTART",
            "end after its start",
        ),
        (
            event("DTSTART:20260101T100000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nEXRULE:FREQ=WEEKLY\r\n"),
            "EXRULE: is deprecated",
            "EXDATE",
        ),
        (
            event("DTSTART:20200101T100000Z\r\nDURATION:PT1M\r\nRRULE:FREQ=MINUTELY;INTERVAL=2\r\n"),
            "RRULE: FREQ=MINUTELY repeats too often for a BlackDay",
            "repeat settings",
        ),
        (
            event("DTSTART:20260101T100000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;BYWEEKNO=3\r\n"),
            "RRULE: the rule is not valid",
            "repeat settings",
        ),
        (
            event("DTSTART:20260101T100000Z\r\nDURATION:P99999999999999999D\r\n"),
            "DURATION: \"P99999999999999999D\" is longer than 3660 days",
            "split the event",
        ),
        (
            event("DTSTART:20260101T100000Z\r\nDURATION:P9999999999999W\r\n"),
            "DURATION: \"P9999999999999W\" is longer than 3660 days",
            "split the event",
        ),
        (
            event("DTSTART:20260101T100000Z\r\nDURATION:P100000000D\r\n"),
            "is longer than 3660 days",
            "RRULE",
        ),
        (
            "<html><body>Sign in</body></html>".to_owned(),
            "not an iCalendar feed",
            "not a web page",
        ),
        (
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20260101\r\nEND:VCALENDAR\r\n".to_owned(),
            "the text is not valid iCalendar",
            "BEGIN/END",
        ),
    ];
    let mut wrong = Vec::new();
    for (ics, problem, fix) in &cases {
        match periods_from_ics(ics, Zone::UTC) {
            Ok(periods) => wrong.push(format!("accepted ({} periods): {ics}", periods.len())),
            Err(error) => {
                let text = error.to_string();
                if !text.contains(problem) || !error.fix.contains(fix) {
                    wrong.push(format!("expected {problem:?} and fix {fix:?}\n  got {text}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn ics_instants_and_untimed_events() {
    // A timed event without an end lasts no time and blocks nothing; an RDATE adds an occurrence.
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Reminder\r\nDTSTART:20260101T090000Z\r\nEND:VEVENT\r\n\
               BEGIN:VEVENT\r\nSUMMARY:Release train\r\nDTSTART:20260105T090000Z\r\nDURATION:PT2H\r\n\
               RDATE:20260107T130000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let calendar = BlackDayCalendar::from_ics(ics, Zone::UTC).unwrap();
    assert_eq!(calendar.blackouts().len(), 1);
    assert_eq!(
        said(&calendar.verdict(utc("2026-01-05T10:00:00Z"))),
        "blocked by Release train until 2026-01-05T11:00Z"
    );
    assert_eq!(
        said(&calendar.verdict(utc("2026-01-07T14:00:00Z"))),
        "blocked by Release train until 2026-01-07T15:00Z"
    );
    assert_eq!(said(&calendar.verdict(utc("2026-01-06T10:00:00Z"))), "clear");
}

#[test]
fn an_all_day_event_ending_on_its_start_day_blocks_that_day() {
    // Some tools export a one-day event with DTEND equal to DTSTART; it means the day, not nothing.
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Christmas Eve\r\nDTSTART;VALUE=DATE:20261224\r\n\
               DTEND;VALUE=DATE:20261224\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let calendar = BlackDayCalendar::from_ics(ics, Zone::UTC).unwrap();
    assert_eq!(calendar.blackouts().len(), 1);
    assert_eq!(
        said(&calendar.verdict(utc("2026-12-24T15:00:00Z"))),
        "blocked by Christmas Eve until 2026-12-25T00:00Z"
    );
    assert_eq!(said(&calendar.verdict(utc("2026-12-25T00:00:00Z"))), "clear");
}
