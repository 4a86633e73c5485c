//! Daylight-saving and UTC readings that used to shorten a blackout (issue 13), in four zones: Europe/Berlin and
//! America/New_York (northern), Australia/Adelaide (southern, half-hour offset) and Australia/Lord_Howe (a change of
//! half an hour).
//!
//! The changes in 2026: Berlin springs forward on March 29 at 01:00Z (02:00 -> 03:00) and falls back on October 25
//! at 01:00Z (03:00 -> 02:00); New York springs forward on March 8 at 07:00Z and falls back on November 1 at 06:00Z
//! (02:00 -> 01:00); Adelaide falls back on April 5 at 16:30Z the day before (03:00 ACDT -> 02:00 ACST, +10:30 ->
//! +09:30) and springs forward on October 4 at 16:30Z the day before (02:00 -> 03:00); Lord Howe falls back on
//! April 5 at 15:00Z the day before (02:00 -> 01:30, +11:00 -> +10:30) and springs forward on October 4 at 15:30Z
//! the day before (02:00 -> 02:30).

mod common;

use blackday_calendar::{BlackDayCalendar, Zone};
use common::{calendar, check_table};

/// A feed of one event with these lines after its SUMMARY.
fn event(lines: &str) -> BlackDayCalendar {
    let text = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Freeze\r\n{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        lines.replace('\n', "\r\n")
    );
    BlackDayCalendar::from_ics(&text, Zone::UTC).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn an_end_inside_a_spring_forward_gap_does_not_move_earlier() {
    // Each event is an hour on the wall clock (40 minutes at Lord Howe), ending inside the gap; RFC 5545 reads the
    // end with the offset before the gap, so each still lasts that long (they used to end at the change).
    let cases = [
        (
            "DTSTART;TZID=Europe/Berlin:20260329T014500\nDTEND;TZID=Europe/Berlin:20260329T024500",
            [
                ("2026-03-29T00:44:59Z", "clear"),
                ("2026-03-29T01:30:00Z", "blocked by Freeze until 2026-03-29T01:45Z"),
            ],
        ),
        (
            "DTSTART;TZID=Australia/Adelaide:20261004T014500\nDTEND;TZID=Australia/Adelaide:20261004T024500",
            [
                ("2026-10-03T16:14:59Z", "clear"),
                ("2026-10-03T16:45:00Z", "blocked by Freeze until 2026-10-03T17:15Z"),
            ],
        ),
        (
            "DTSTART;TZID=Australia/Lord_Howe:20261004T014000\nDTEND;TZID=Australia/Lord_Howe:20261004T022000",
            [
                ("2026-10-03T15:09:59Z", "clear"),
                ("2026-10-03T15:40:00Z", "blocked by Freeze until 2026-10-03T15:50Z"),
            ],
        ),
    ];
    for (lines, table) in cases {
        check_table(&event(lines), &table);
    }
    // The same in a JSON document.
    let json = calendar(
        r#"{"timezone": "Europe/Berlin", "blackouts": [
            {"name": "Freeze", "once": {"from": "2026-03-29T01:45", "to": "2026-03-29T02:45"}}]}"#,
    );
    check_table(
        &json,
        &[("2026-03-29T01:30:00Z", "blocked by Freeze until 2026-03-29T01:45Z")],
    );
}

#[test]
fn a_utc_end_in_the_repeated_hour_is_that_instant() {
    // DTEND in UTC lands in the hour a fall-back night repeats; it used to be re-read as a local time and take the
    // earlier pass, an hour (half an hour at Lord Howe) too early.
    let cases = [
        (
            "DTSTART;TZID=Europe/Berlin:20261025T013000\nDTEND:20261025T013000Z",
            ("2026-10-25T01:00:00Z", "blocked by Freeze until 2026-10-25T01:30Z"),
        ),
        (
            "DTSTART;TZID=America/New_York:20261101T003000\nDTEND:20261101T063000Z",
            ("2026-11-01T06:00:00Z", "blocked by Freeze until 2026-11-01T06:30Z"),
        ),
        (
            "DTSTART;TZID=Australia/Adelaide:20260405T013000\nDTEND:20260404T164500Z",
            ("2026-04-04T16:15:00Z", "blocked by Freeze until 2026-04-04T16:45Z"),
        ),
        (
            "DTSTART;TZID=Australia/Lord_Howe:20260405T010000\nDTEND:20260404T151500Z",
            ("2026-04-04T15:00:00Z", "blocked by Freeze until 2026-04-04T15:15Z"),
        ),
    ];
    for (lines, row) in cases {
        check_table(&event(lines), &[row]);
    }
}

#[test]
fn an_ambiguous_local_end_is_the_later_instant() {
    let cases = [
        // 02:30 happens at 00:30Z and 01:30Z.
        (
            "DTSTART;TZID=Europe/Berlin:20261025T013000\nDTEND;TZID=Europe/Berlin:20261025T023000",
            ("2026-10-25T01:00:00Z", "blocked by Freeze until 2026-10-25T01:30Z"),
        ),
        // 02:15 happens at 15:45Z and 16:45Z.
        (
            "DTSTART;TZID=Australia/Adelaide:20260405T013000\nDTEND;TZID=Australia/Adelaide:20260405T021500",
            ("2026-04-04T16:00:00Z", "blocked by Freeze until 2026-04-04T16:45Z"),
        ),
        // 01:45 happens at 14:45Z and 15:15Z.
        (
            "DTSTART;TZID=Australia/Lord_Howe:20260405T010000\nDTEND;TZID=Australia/Lord_Howe:20260405T014500",
            ("2026-04-04T15:00:00Z", "blocked by Freeze until 2026-04-04T15:15Z"),
        ),
    ];
    for (lines, row) in cases {
        check_table(&event(lines), &[row]);
    }
    let json = calendar(
        r#"{"timezone": "America/New_York", "blackouts": [
            {"name": "Freeze", "once": {"from": "2026-11-01T00:00", "to": "2026-11-01T01:30"}}]}"#,
    );
    check_table(
        &json,
        &[("2026-11-01T06:00:00Z", "blocked by Freeze until 2026-11-01T06:30Z")],
    );
}

#[test]
fn duration_hours_are_exact_and_days_nominal() {
    // From midnight on the 23-hour day: PT24H is 24 real hours (to 01:00 the next day); P1D is one wall-clock day
    // (to the next midnight).
    let hours = event("DTSTART;TZID=Europe/Berlin:20260329T000000\nDURATION:PT24H");
    check_table(
        &hours,
        &[("2026-03-29T22:30:00Z", "blocked by Freeze until 2026-03-29T23:00Z")],
    );
    let day = event("DTSTART;TZID=Europe/Berlin:20260329T000000\nDURATION:P1D");
    check_table(
        &day,
        &[
            ("2026-03-29T21:30:00Z", "blocked by Freeze until 2026-03-29T22:00Z"),
            ("2026-03-29T22:00:00Z", "clear"),
        ],
    );
    // Adelaide's 25-hour day: PT24H ends an hour before the next midnight, P1D at it.
    let hours = event("DTSTART;TZID=Australia/Adelaide:20260405T000000\nDURATION:PT24H");
    check_table(&hours, &[("2026-04-05T13:30:00Z", "clear")]);
    let day = event("DTSTART;TZID=Australia/Adelaide:20260405T000000\nDURATION:P1D");
    check_table(
        &day,
        &[("2026-04-05T14:00:00Z", "blocked by Freeze until 2026-04-05T14:30Z")],
    );
}

#[test]
fn recurring_occurrences_never_shrink_across_a_change() {
    // Daily at 02:30 for an hour: on New York's spring-forward night RFC 5545 moves the occurrence to 03:30 EDT
    // (07:30Z) and it lasts to 04:30 EDT (08:30Z); it starts at the change (07:00Z), on the safe side. It used to
    // end at 03:30 EDT.
    let daily = event("DTSTART;TZID=America/New_York:20260301T023000\nDURATION:PT1H\nRRULE:FREQ=DAILY");
    check_table(
        &daily,
        &[
            ("2026-03-08T06:59:59Z", "clear"),
            ("2026-03-08T07:00:00Z", "blocked by Freeze until 2026-03-08T08:30Z"),
            ("2026-03-08T08:00:00Z", "blocked by Freeze until 2026-03-08T08:30Z"),
            ("2026-03-09T07:30:00Z", "clear"),
        ],
    );
    // Sunday to Monday midnight, weekly, written with DTEND: every occurrence lasts the 24 real hours of the first
    // (RFC 5545), so over Adelaide's 23-hour Sunday it ends at 01:00 ACDT on Monday (14:30Z); it used to end at
    // midnight.
    let weekly = event(
        "DTSTART;TZID=Australia/Adelaide:20260927T000000\nDTEND;TZID=Australia/Adelaide:20260928T000000\n\
         RRULE:FREQ=WEEKLY",
    );
    check_table(
        &weekly,
        &[("2026-10-04T14:00:00Z", "blocked by Freeze until 2026-10-04T14:30Z")],
    );
}
