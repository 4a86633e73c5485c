//! Inputs that used to trick the engine into approving, or crash it (issue 13): each is read as meant, or refused
//! naming the line or field and the fix.

mod common;

use blackday_calendar::{BlackDayCalendar, Zone, periods_from_ics};
use common::{said, utc};

fn ics(events: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{events}END:VCALENDAR\r\n")
}

const FREEZE: &str = "BEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Freeze\r\nDTSTART:20261224T000000Z\r\n\
                      DTEND:20261227T000000Z\r\nEND:VEVENT\r\n";

#[test]
fn component_and_property_names_are_case_insensitive() {
    let spellings = [
        ics(FREEZE)
            .replace("BEGIN:VCALENDAR", "BEGIN:vcalendar")
            .replace("END:VCALENDAR", "END:vcalendar"),
        ics(FREEZE).replace("VCALENDAR", "VCalendar"),
        ics(FREEZE)
            .replace("BEGIN:VEVENT", "begin:vevent")
            .replace("END:VEVENT", "End:VEvent"),
        ics(FREEZE)
            .replace("DTSTART:", "dtstart:")
            .replace("DTEND:", "DtEnd:")
            .replace("SUMMARY:", "summary:"),
    ];
    for text in spellings {
        let calendar = BlackDayCalendar::from_ics(&text, Zone::UTC).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(calendar.blackouts().len(), 1, "{text}");
        assert_eq!(
            said(&calendar.verdict(utc("2026-12-25T12:00:00Z"))),
            "blocked by Freeze until 2026-12-27T00:00Z",
            "{text}"
        );
    }
}

#[test]
fn deeply_nested_components_are_refused_not_a_stack_overflow() {
    let depth = 10_000;
    let text = ics(&format!(
        "{}{}",
        "BEGIN:VEVENT\r\n".repeat(depth),
        "END:VEVENT\r\n".repeat(depth)
    ));
    let error = periods_from_ics(&text, Zone::UTC).unwrap_err().to_string();
    assert!(error.contains("line 10: components nest more than 8 deep"), "{error}");
}

#[test]
fn json_with_text_after_the_object_is_refused_and_a_byte_order_mark_accepted() {
    let document = r#"{"timezone": "UTC", "blackouts": [{"name": "Freeze", "dates": ["2026-12-24"]}]}"#;
    for trailing in [" {\"timezone\": \"UTC\"}", " garbage", "]]]", "\n,"] {
        let error = BlackDayCalendar::from_json(&format!("{document}{trailing}")).unwrap_err();
        assert!(
            error.problem.contains("text after the calendar object"),
            "{trailing:?}: {error}"
        );
        assert!(error.fix.contains("exactly one JSON object"), "{error}");
    }
    assert!(BlackDayCalendar::from_json(&format!("{document}\n  \r\n")).is_ok());
    let calendar = BlackDayCalendar::from_json(&format!("\u{feff}{document}")).unwrap();
    assert!(!calendar.verdict(utc("2026-12-24T12:00:00Z")).is_clear());
}

#[test]
fn rules_that_expand_to_nothing_or_less_are_refused_with_the_line() {
    let event = |lines: &str| {
        ics(&format!(
            "BEGIN:VEVENT\r\nSUMMARY:Freeze\r\nDTSTART;TZID=Europe/Berlin:20260101T090000\r\n{lines}END:VEVENT\r\n"
        ))
    };
    let cases = [
        (
            event("DURATION:PT1H\r\nRRULE:FREQ=DAILY;INTERVAL=0\r\n"),
            "RRULE: INTERVAL=0",
            7,
        ),
        (
            event("DURATION:PT1H\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=0\r\n"),
            "RRULE: BYMONTHDAY=0",
            7,
        ),
        (
            event("DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=0\r\n"),
            "RRULE: COUNT=0",
            7,
        ),
        (
            event("DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z\r\n"),
            "RRULE: COUNT and UNTIL are both given",
            7,
        ),
        (event("DTEND;TZID=:20260101T100000\r\n"), "DTEND: TZID= is empty", 6),
        (
            event("DTEND;TZID=Europe/Berlin:20260101T100000\r\nDURATION:PT1H\r\n"),
            "DURATION: is given together with DTEND",
            7,
        ),
        (
            event("DURATION:PT1H\r\nEXDATE;TZID=:20260102T090000\r\nRRULE:FREQ=DAILY\r\n"),
            "EXDATE: TZID= is empty",
            7,
        ),
    ];
    for (text, problem, line) in cases {
        let error = periods_from_ics(&text, Zone::UTC).unwrap_err().to_string();
        assert!(error.contains(problem), "{problem:?} not in {error}");
        assert!(error.contains(&format!("(line {line})")), "line {line} not in {error}");
        assert!(error.contains("event 1 (\"Freeze\")"), "{error}");
    }
    for rule in [
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=MONTHLY;BYMONTHDAY=0",
        "FREQ=DAILY;COUNT=0",
    ] {
        let document = format!(
            r#"{{"timezone": "UTC", "blackouts": [{{"name": "x", "rrule": {{"rule": "{rule}", "start": "2026-01-01"}}}}]}}"#
        );
        let error = BlackDayCalendar::from_json(&document).unwrap_err();
        assert_eq!(error.location, "at `blackouts[0].rrule.rule`", "{rule}: {error}");
    }
}

#[test]
fn a_count_rule_ends_by_its_count_and_a_huge_count_is_refused() {
    let text = ics(
        "BEGIN:VEVENT\r\nSUMMARY:Patch\r\nDTSTART:19000101T000000Z\r\nDURATION:PT30M\r\n\
                    RRULE:FREQ=HOURLY;INTERVAL=7;COUNT=5000\r\nEND:VEVENT\r\n",
    );
    let calendar = BlackDayCalendar::from_ics(&text, Zone::UTC).unwrap();
    // The 5000th occurrence starts 4999 * 7 hours after the start: 1903-12-30T01:00Z.
    assert_eq!(
        said(&calendar.verdict(utc("1903-12-30T01:10:00Z"))),
        "blocked by Patch until 1903-12-30T01:30Z"
    );
    assert_eq!(said(&calendar.verdict(utc("1903-12-30T08:10:00Z"))), "clear");
    assert!(calendar.verdict(utc("2026-01-01T00:00:00Z")).is_clear());
    let huge = text.replace("COUNT=5000", "COUNT=4000000000");
    let error = periods_from_ics(&huge, Zone::UTC).unwrap_err().to_string();
    assert!(error.contains("give UNTIL instead"), "{error}");
}

#[test]
fn dates_at_the_ends_of_the_calendar_are_read_or_refused_never_a_panic() {
    let documents = [
        r#"{"timezone": "Europe/Berlin", "blackouts": [{"name": "x", "once": {"from": "+262143-12-31T23:59", "to": "+262143-12-31T23:59:59"}}]}"#,
        r#"{"timezone": "Europe/Berlin", "blackouts": [{"name": "x", "once": {"from": "-262143-01-01T00:00", "to": "2026-01-01"}}]}"#,
        r#"{"timezone": "Europe/Berlin", "blackouts": [{"name": "x", "rrule": {"rule": "FREQ=YEARLY", "start": "9999-12-31T23:00", "duration_hours": 8000}}]}"#,
        r#"{"timezone": "Europe/Berlin", "blackouts": [{"name": "x", "rrule": {"rule": "FREQ=HOURLY;UNTIL=99991231T235959Z", "start": "0001-01-01T00:00", "duration_hours": 1}}]}"#,
    ];
    for document in documents {
        if let Ok(calendar) = BlackDayCalendar::from_json(document) {
            for at in ["2026-06-01T00:00:00Z", "9999-12-31T00:00:00Z", "0001-01-02T00:00:00Z"] {
                let _ = calendar.verdict(utc(at));
            }
        }
    }
    let feed = ics(
        "BEGIN:VEVENT\r\nSUMMARY:x\r\nDTSTART:99991231T230000Z\r\nDURATION:P3000D\r\nRRULE:FREQ=DAILY\r\n\
                    END:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:y\r\nDTSTART:00010101T000000\r\nDTEND:99991231T000000\r\nEND:VEVENT\r\n",
    );
    if let Ok(calendar) = BlackDayCalendar::from_ics(&feed, Zone::named("Pacific/Apia").unwrap()) {
        for at in ["2026-06-01T00:00:00Z", "9999-12-31T23:30:00Z", "0001-01-01T00:00:00Z"] {
            let _ = calendar.verdict(utc(at));
        }
    }
}

/// The `rrule` crate, which expanded rules before the engine's own, panicked on a BYDAY whose last two bytes split a
/// character (it slices them off as the weekday), and read an ordinal it could not read as "every weekday".
#[test]
fn a_weekday_that_is_not_a_weekday_is_refused_not_a_panic() {
    for day in ["-1F\u{feff}R", "1\u{e9}A", "XMO", "1 MO"] {
        let rule = format!("FREQ=MONTHLY;BYDAY={day}");
        let document = format!(
            r#"{{"timezone": "UTC", "blackouts": [{{"name": "x", "rrule": {{"rule": "{rule}", "start": "2026-01-01"}}}}]}}"#
        );
        let error = BlackDayCalendar::from_json(&document).unwrap_err();
        assert!(
            error.to_string().contains("is not a list of weekdays"),
            "{rule}: {error}"
        );
        let feed = ics(&format!(
            "BEGIN:VEVENT\r\nSUMMARY:x\r\nDTSTART:20260101T000000Z\r\nDURATION:PT1H\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"
        ));
        let error = periods_from_ics(&feed, Zone::UTC).unwrap_err().to_string();
        assert!(error.contains("is not a list of weekdays"), "{rule}: {error}");
    }
}
