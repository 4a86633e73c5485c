//! Table tests of the engine: daylight saving time, overnight and cross-year periods, leap days, monthly rules,
//! RRULE with EXDATE, windows OR-ed with blackouts subtracted, merging, and the horizon.
//!
//! Daylight saving time in 2026: Europe/Berlin springs forward on March 29 (02:00 CET -> 03:00 CEST, at 01:00Z)
//! and falls back on October 25 (03:00 CEST -> 02:00 CET, at 01:00Z); America/New_York springs forward on March 8
//! (02:00 EST -> 03:00 EDT, at 07:00Z) and falls back on November 1 (02:00 EDT -> 01:00 EST, at 06:00Z).

mod common;

use blackday_calendar::{BlackDayCalendar, Cause, OUTSIDE_WINDOWS, Upcoming, Verdict};
use common::{calendar, cause, check_table, said, utc};

#[test]
fn new_york_sunday_periods_on_spring_forward_and_fall_back_days() {
    // Two back-to-back Sunday blackouts: 01:30-02:30 and 02:30-04:00.
    let calendar = calendar(
        r#"{"timezone": "America/New_York", "blackouts": [
            {"name": "Night work", "weekly": {"days": ["Sun"], "from": "01:30", "to": "02:30"}},
            {"name": "Sunday maintenance", "weekly": {"days": ["Sun"], "from": "02:30", "to": "04:00"}}
        ]}"#,
    );
    check_table(
        &calendar,
        &[
            // An ordinary winter Sunday (EST, UTC-5): 06:30Z to 09:00Z, one run.
            ("2026-03-01T06:29:59Z", "clear"),
            ("2026-03-01T06:30:00Z", "blocked by Night work until 2026-03-01T09:00Z"),
            (
                "2026-03-01T07:30:00Z",
                "blocked by Sunday maintenance until 2026-03-01T09:00Z",
            ),
            ("2026-03-01T09:00:00Z", "clear"),
            // Spring forward: 02:30 does not exist. As an end it is read with the offset before the change, as
            // RFC 5545 says: 03:30 EDT (07:30Z), so Night work still lasts one real hour (it used to end at the
            // change, after half an hour). As a start it is the change itself, 03:00 EDT (07:00Z): Sunday
            // maintenance starts half an hour before RFC 5545's 03:30. Both err toward holding.
            ("2026-03-08T06:29:59Z", "clear"),
            ("2026-03-08T06:30:00Z", "blocked by Night work until 2026-03-08T08:00Z"),
            ("2026-03-08T07:00:00Z", "blocked by Night work until 2026-03-08T08:00Z"),
            ("2026-03-08T07:29:59Z", "blocked by Night work until 2026-03-08T08:00Z"),
            (
                "2026-03-08T07:30:00Z",
                "blocked by Sunday maintenance until 2026-03-08T08:00Z",
            ),
            ("2026-03-08T08:00:00Z", "clear"),
            // Summer (EDT, UTC-4).
            ("2026-03-15T05:30:00Z", "blocked by Night work until 2026-03-15T08:00Z"),
            ("2026-03-15T08:00:00Z", "clear"),
            // Fall back: 01:30 happens twice and is the earlier (EDT, 05:30Z); Night work lasts through the second
            // pass of 01:30-02:00 EST up to 02:30 EST (07:30Z).
            ("2026-11-01T05:29:59Z", "clear"),
            ("2026-11-01T05:30:00Z", "blocked by Night work until 2026-11-01T09:00Z"),
            ("2026-11-01T06:45:00Z", "blocked by Night work until 2026-11-01T09:00Z"),
            (
                "2026-11-01T07:30:00Z",
                "blocked by Sunday maintenance until 2026-11-01T09:00Z",
            ),
            ("2026-11-01T09:00:00Z", "clear"),
        ],
    );
    assert_eq!(
        calendar.next_blackday(utc("2026-03-07T12:00:00Z")),
        Some(Upcoming {
            name: "Night work".into(),
            reason: "every Sun 01:30 to 02:30 (America/New_York)".into(),
            starts_at: utc("2026-03-08T06:30:00Z"),
            ends_at: Some(utc("2026-03-08T08:00:00Z")),
        })
    );
}

#[test]
fn berlin_window_at_0230_on_spring_forward_and_fall_back_sundays() {
    let calendar = calendar(
        r#"{"timezone": "Europe/Berlin", "allowed_windows": [
            {"name": "Sunday slot", "weekly": {"days": ["Sun"], "from": "02:30", "to": "03:30"}}
        ]}"#,
    );
    check_table(
        &calendar,
        &[
            // An ordinary Sunday (CET): 01:30Z to 02:30Z.
            (
                "2026-03-22T01:29:00Z",
                "blocked by Outside allowed windows until 2026-03-22T01:30Z",
            ),
            ("2026-03-22T01:30:00Z", "clear"),
            ("2026-03-22T02:29:59Z", "clear"),
            // Spring forward: a window is never longer than any reading of it. Its start, 02:30, read as RFC 5545
            // reads a missing time, is 03:30 CEST (01:30Z), where it also ends: there is no window that night (it
            // used to open at the change, half an hour before any reading of its start).
            (
                "2026-03-28T12:00:00Z",
                "blocked by Outside allowed windows until 2026-04-05T00:30Z",
            ),
            (
                "2026-03-29T01:00:00Z",
                "blocked by Outside allowed windows until 2026-04-05T00:30Z",
            ),
            (
                "2026-03-29T01:30:00Z",
                "blocked by Outside allowed windows until 2026-04-05T00:30Z",
            ),
            // Fall back: 02:30 happens twice; the window opens at the second (CET, 01:30Z) and stays open to
            // 03:30 CET (02:30Z).
            (
                "2026-10-25T00:30:00Z",
                "blocked by Outside allowed windows until 2026-10-25T01:30Z",
            ),
            ("2026-10-25T01:30:00Z", "clear"),
            ("2026-10-25T01:45:00Z", "clear"),
            (
                "2026-10-25T02:30:00Z",
                "blocked by Outside allowed windows until 2026-11-01T01:30Z",
            ),
        ],
    );
    assert_eq!(
        calendar.next_window(utc("2026-03-28T12:00:00Z")),
        Some(utc("2026-04-05T00:30:00Z"))
    );
    assert_eq!(
        calendar.next_window(utc("2026-10-25T02:10:00Z")),
        Some(utc("2026-10-25T02:10:00Z"))
    );
}

#[test]
fn berlin_weekend_freeze_across_both_changes_keeps_wall_clock_times() {
    let calendar = calendar(
        r#"{"timezone": "Europe/Berlin", "blackouts": [
            {"name": "Weekend freeze", "weekly": {"from": "Fri 15:00", "to": "Mon 09:00"}}
        ]}"#,
    );
    check_table(
        &calendar,
        &[
            // Friday 15:00 CET (14:00Z) to Monday 09:00 CEST (07:00Z): 65 real hours.
            ("2026-03-27T13:59:59Z", "clear"),
            (
                "2026-03-27T14:00:00Z",
                "blocked by Weekend freeze until 2026-03-30T07:00Z",
            ),
            (
                "2026-03-29T01:30:00Z",
                "blocked by Weekend freeze until 2026-03-30T07:00Z",
            ),
            ("2026-03-30T07:00:00Z", "clear"),
            // Friday 15:00 CEST (13:00Z) to Monday 09:00 CET (08:00Z): 67 real hours.
            ("2026-10-23T12:59:59Z", "clear"),
            (
                "2026-10-23T13:00:00Z",
                "blocked by Weekend freeze until 2026-10-26T08:00Z",
            ),
            (
                "2026-10-26T07:59:59Z",
                "blocked by Weekend freeze until 2026-10-26T08:00Z",
            ),
            ("2026-10-26T08:00:00Z", "clear"),
        ],
    );
}

#[test]
fn periods_ending_in_or_lying_inside_a_spring_forward_gap() {
    let calendar = calendar(
        r#"{"timezone": "Europe/Berlin", "blackouts": [
            {"name": "Ends in the gap", "weekly": {"days": ["Sun"], "from": "01:00", "to": "02:30"}},
            {"name": "Inside the gap", "weekly": {"days": ["Sun"], "from": "02:10", "to": "02:50"}}
        ]}"#,
    );
    check_table(
        &calendar,
        &[
            // 01:00 CET (00:00Z) to 02:30 read with the offset before the change, 03:30 CEST (01:30Z): the hour and
            // a half it lasts on the wall clock of an ordinary night (it used to end at the change, an hour in).
            // The 02:10-02:50 period starts at the change and ends at 03:50 CEST (01:50Z): RFC 5545 reads it as
            // 03:10-03:50 CEST (it used to vanish).
            (
                "2026-03-29T00:00:00Z",
                "blocked by Ends in the gap until 2026-03-29T01:50Z",
            ),
            (
                "2026-03-29T01:00:00Z",
                "blocked by Ends in the gap until 2026-03-29T01:50Z",
            ),
            (
                "2026-03-29T01:30:00Z",
                "blocked by Inside the gap until 2026-03-29T01:50Z",
            ),
            ("2026-03-29T01:50:00Z", "clear"),
            // An ordinary Sunday: 00:00Z-01:30Z and 01:10Z-01:50Z, one run.
            (
                "2026-03-22T01:20:00Z",
                "blocked by Ends in the gap until 2026-03-22T01:50Z",
            ),
            (
                "2026-03-22T01:40:00Z",
                "blocked by Inside the gap until 2026-03-22T01:50Z",
            ),
        ],
    );
    // Looking ahead from before the change, the next run is the one of the week after (CEST): 23:00Z-00:50Z.
    let next = calendar.next_blackday(utc("2026-03-29T01:00:00Z")).unwrap();
    assert_eq!(
        (next.starts_at, next.ends_at),
        (utc("2026-04-04T23:00:00Z"), Some(utc("2026-04-05T00:50:00Z")))
    );
}

#[test]
fn overnight_periods_weekly_monthly_and_once() {
    let calendar = calendar(
        r#"{"timezone": "UTC", "blackouts": [
            {"name": "Nightly batch", "weekly": {"days": ["Mon-Fri"], "from": "22:00", "to": "06:00"}},
            {"name": "Month-end party", "monthly": {"on": "last friday", "from": "20:00", "to": "04:00"}},
            {"name": "Migration", "once": {"from": "2026-05-02T18:00", "to": "2026-05-04T06:00"}}
        ]}"#,
    );
    check_table(
        &calendar,
        &[
            ("2026-03-06T21:59:59Z", "clear"),
            (
                "2026-03-06T22:00:00Z",
                "blocked by Nightly batch until 2026-03-07T06:00Z",
            ),
            (
                "2026-03-07T05:59:59Z",
                "blocked by Nightly batch until 2026-03-07T06:00Z",
            ),
            ("2026-03-07T22:00:00Z", "clear"),
            // Sunday is not listed, so the night into Monday is clear.
            ("2026-03-09T02:00:00Z", "clear"),
            (
                "2026-03-09T22:00:00Z",
                "blocked by Nightly batch until 2026-03-10T06:00Z",
            ),
            // The last Friday of March 2026 is the 27th: 20:00 to Saturday 04:00, then the batch until 06:00.
            (
                "2026-03-27T20:00:00Z",
                "blocked by Month-end party until 2026-03-28T06:00Z",
            ),
            (
                "2026-03-28T03:00:00Z",
                "blocked by Nightly batch until 2026-03-28T06:00Z",
            ),
            ("2026-05-02T17:59:59Z", "clear"),
            ("2026-05-02T18:00:00Z", "blocked by Migration until 2026-05-04T06:00Z"),
            ("2026-05-04T06:00:00Z", "clear"),
        ],
    );
}

#[test]
fn cross_year_periods() {
    let calendar = calendar(
        r#"{"timezone": "Europe/Berlin", "blackouts": [
            {"name": "Year end", "reason": "Finance closes the books", "yearly": {"from": "12-20", "to": "01-03"}},
            {"name": "Tax night", "yearly": {"from": "04-15 18:00", "to": "04-16 06:00"}}
        ]}"#,
    );
    check_table(
        &calendar,
        &[
            // December 20 00:00 CET is 23:00Z the day before; January 3 is included up to its end.
            ("2026-12-19T22:59:59Z", "clear"),
            ("2026-12-19T23:00:00Z", "blocked by Year end until 2027-01-03T23:00Z"),
            ("2027-01-02T12:00:00Z", "blocked by Year end until 2027-01-03T23:00Z"),
            ("2027-01-03T23:00:00Z", "clear"),
            // Early in a year, the period that started the December before.
            ("2026-01-02T12:00:00Z", "blocked by Year end until 2026-01-03T23:00Z"),
            ("2026-04-15T16:00:00Z", "blocked by Tax night until 2026-04-16T04:00Z"),
            ("2026-04-16T04:00:00Z", "clear"),
        ],
    );
    assert_eq!(
        calendar.verdict(utc("2026-12-25T12:00:00Z")),
        Verdict::Blocked {
            cause: Cause::Blackout,
            period_name: "Year end".into(),
            reason: "Finance closes the books".into(),
            ends_at: Some(utc("2027-01-03T23:00:00Z")),
        }
    );
    let Verdict::Clear { next_blackday } = calendar.verdict(utc("2026-06-01T00:00:00Z")) else {
        panic!("clear in June");
    };
    let next = next_blackday.unwrap();
    assert_eq!(
        (next.name.as_str(), next.starts_at),
        ("Year end", utc("2026-12-19T23:00:00Z"))
    );
}

#[test]
fn leap_day_is_the_last_day_of_february_in_yearly_periods_and_skipped_by_rrule() {
    let leap_day = calendar(
        r#"{"timezone": "UTC", "blackouts": [{"name": "Leap day", "yearly": {"from": "02-29", "to": "02-29"}}]}"#,
    );
    check_table(
        &leap_day,
        &[
            ("2028-02-28T12:00:00Z", "clear"),
            ("2028-02-29T00:00:00Z", "blocked by Leap day until 2028-03-01T00:00Z"),
            ("2028-03-01T00:00:00Z", "clear"),
            // 2027 has no February 29: the last day of February stands in.
            ("2027-02-27T23:59:59Z", "clear"),
            ("2027-02-28T00:00:00Z", "blocked by Leap day until 2027-03-01T00:00Z"),
        ],
    );
    let end_of_february = calendar(
        r#"{"timezone": "UTC", "blackouts": [{"name": "February close", "yearly": {"from": "02-20", "to": "02-29"}}]}"#,
    );
    check_table(
        &end_of_february,
        &[
            (
                "2027-02-28T23:59:59Z",
                "blocked by February close until 2027-03-01T00:00Z",
            ),
            ("2027-03-01T00:00:00Z", "clear"),
            (
                "2028-02-29T12:00:00Z",
                "blocked by February close until 2028-03-01T00:00Z",
            ),
        ],
    );
    let by_rule = calendar(
        r#"{"timezone": "UTC", "blackouts": [{"name": "Leap party",
            "rrule": {"rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "start": "2028-02-29"}}]}"#,
    );
    check_table(
        &by_rule,
        &[
            ("2028-02-29T12:00:00Z", "blocked by Leap party until 2028-03-01T00:00Z"),
            ("2029-02-28T12:00:00Z", "clear"),
            ("2030-03-01T12:00:00Z", "clear"),
            ("2032-02-29T12:00:00Z", "blocked by Leap party until 2032-03-01T00:00Z"),
        ],
    );
    // The next leap day after 2028 is beyond the 400-day horizon.
    assert_eq!(by_rule.next_blackday(utc("2028-03-01T00:00:00Z")), None);
    assert_eq!(
        by_rule
            .next_blackday(utc("2031-06-01T00:00:00Z"))
            .map(|next| next.starts_at),
        Some(utc("2032-02-29T00:00:00Z"))
    );
}

#[test]
fn monthly_rules() {
    let calendar = calendar(
        r#"{"timezone": "Europe/Berlin", "blackouts": [
            {"name": "Month-end close", "monthly": {"on": "last-business-day"}},
            {"name": "Board day", "monthly": {"on": "first Monday", "from": "09:00", "to": "12:00"}}
        ]}"#,
    );
    check_table(
        &calendar,
        &[
            // May 31 2026 is a Sunday: the last business day is Friday the 29th (CEST).
            ("2026-05-28T21:59:59Z", "clear"),
            (
                "2026-05-28T22:00:00Z",
                "blocked by Month-end close until 2026-05-29T22:00Z",
            ),
            ("2026-05-30T10:00:00Z", "clear"),
            // June 1 2026 is the first Monday.
            ("2026-06-01T07:00:00Z", "blocked by Board day until 2026-06-01T10:00Z"),
            ("2026-06-08T07:00:00Z", "clear"),
        ],
    );
    let day_31 = calendar_utc_day_31();
    check_table(
        &day_31,
        &[
            ("2026-05-31T12:00:00Z", "blocked by Audit until 2026-06-01T00:00Z"),
            ("2026-04-30T12:00:00Z", "clear"),
            ("2026-06-30T12:00:00Z", "clear"),
        ],
    );
}

fn calendar_utc_day_31() -> BlackDayCalendar {
    calendar(r#"{"timezone": "UTC", "blackouts": [{"name": "Audit", "monthly": {"on": "day-31"}}]}"#)
}

#[test]
fn rrule_with_exdates_by_time_and_by_date() {
    let calendar = calendar(
        r#"{"timezone": "Europe/Berlin", "blackouts": [
            {"name": "Patch Wednesday", "rrule": {"rule": "FREQ=MONTHLY;BYDAY=2WE", "start": "2026-01-14T18:00",
             "duration_hours": 4, "exdates": ["2026-03-11T18:00", "2026-05-13"]}},
            {"name": "Independence Day", "timezone": "America/New_York",
             "rrule": {"rule": "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4", "start": "2026-07-04"}}
        ]}"#,
    );
    check_table(
        &calendar,
        &[
            (
                "2026-01-14T17:00:00Z",
                "blocked by Patch Wednesday until 2026-01-14T21:00Z",
            ),
            (
                "2026-02-11T20:59:59Z",
                "blocked by Patch Wednesday until 2026-02-11T21:00Z",
            ),
            ("2026-03-11T17:30:00Z", "clear"),
            (
                "2026-04-08T16:00:00Z",
                "blocked by Patch Wednesday until 2026-04-08T20:00Z",
            ),
            ("2026-05-13T16:30:00Z", "clear"),
            (
                "2026-06-10T16:30:00Z",
                "blocked by Patch Wednesday until 2026-06-10T20:00Z",
            ),
            ("2026-07-04T03:59:59Z", "clear"),
            (
                "2026-07-04T04:00:00Z",
                "blocked by Independence Day until 2026-07-05T04:00Z",
            ),
        ],
    );
    let next = calendar.next_blackday(utc("2026-03-01T00:00:00Z")).unwrap();
    assert_eq!(
        (next.name.as_str(), next.starts_at),
        ("Patch Wednesday", utc("2026-04-08T16:00:00Z"))
    );
}

#[test]
fn rrule_occurrences_follow_the_daylight_saving_rule() {
    let calendar = calendar(
        r#"{"timezone": "Europe/Berlin", "blackouts": [
            {"name": "Nightly job",
             "rrule": {"rule": "FREQ=DAILY;COUNT=5", "start": "2026-03-27T02:30", "duration_hours": 1}}
        ]}"#,
    );
    check_table(
        &calendar,
        &[
            ("2026-03-27T01:30:00Z", "blocked by Nightly job until 2026-03-27T02:30Z"),
            ("2026-03-28T01:30:00Z", "blocked by Nightly job until 2026-03-28T02:30Z"),
            // 02:30 does not exist on March 29: RFC 5545 moves the occurrence to 03:30 CEST (01:30Z), for an hour
            // (to 02:30Z); it starts at the change (03:00 CEST, 01:00Z), half an hour early, on the safe side.
            ("2026-03-29T00:59:59Z", "clear"),
            ("2026-03-29T01:00:00Z", "blocked by Nightly job until 2026-03-29T02:30Z"),
            ("2026-03-29T02:29:59Z", "blocked by Nightly job until 2026-03-29T02:30Z"),
            ("2026-03-31T00:30:00Z", "blocked by Nightly job until 2026-03-31T01:30Z"),
            ("2026-04-01T00:30:00Z", "clear"),
        ],
    );
}

const WINDOWS_AND_BLACKOUTS: &str = r#"{
    "timezone": "Europe/Berlin",
    "blackouts": [
        {"name": "Lunch freeze", "weekly": {"days": ["Mon-Fri"], "from": "12:00", "to": "13:00"}},
        {"name": "Launch day", "dates": ["2026-06-10"]}
    ],
    "allowed_windows": [
        {"name": "Business hours", "weekly": {"days": ["Mon-Thu"], "from": "09:00", "to": "17:00"}},
        {"name": "Friday morning", "weekly": {"days": ["Fri"], "from": "09:00", "to": "12:00"}}
    ]
}"#;

#[test]
fn windows_are_or_ed_and_blackouts_subtracted() {
    let calendar = calendar(WINDOWS_AND_BLACKOUTS);
    check_table(
        &calendar,
        &[
            // June 2026 is CEST (UTC+2). Monday June 8.
            ("2026-06-08T07:00:00Z", "clear"),
            (
                "2026-06-08T10:30:00Z",
                "blocked by Lunch freeze until 2026-06-08T11:00Z",
            ),
            ("2026-06-08T11:00:00Z", "clear"),
            (
                "2026-06-08T16:00:00Z",
                "blocked by Outside allowed windows until 2026-06-09T07:00Z",
            ),
            // Tuesday evening: Wednesday is launch day, so Thursday morning.
            (
                "2026-06-09T16:00:00Z",
                "blocked by Outside allowed windows until 2026-06-11T07:00Z",
            ),
            ("2026-06-10T08:00:00Z", "blocked by Launch day until 2026-06-11T07:00Z"),
            // Friday: only the morning window; lunch freeze, then the weekend, then Monday.
            ("2026-06-12T08:00:00Z", "clear"),
            (
                "2026-06-12T10:30:00Z",
                "blocked by Lunch freeze until 2026-06-15T07:00Z",
            ),
            (
                "2026-06-13T10:00:00Z",
                "blocked by Outside allowed windows until 2026-06-15T07:00Z",
            ),
        ],
    );
    let Verdict::Blocked { cause, reason, .. } = calendar.verdict(utc("2026-06-13T10:00:00Z")) else {
        panic!("blocked on Saturday");
    };
    assert_eq!(cause, Cause::OutsideWindows);
    assert!(
        reason.contains("Business hours: every Mon, Tue, Wed, Thu 09:00 to 17:00 (Europe/Berlin)"),
        "{reason}"
    );
    assert!(reason.contains("Friday morning"), "{reason}");
    assert_eq!(
        calendar.verdict(utc("2026-06-08T07:00:00Z")),
        Verdict::Clear {
            next_blackday: Some(Upcoming {
                name: "Lunch freeze".into(),
                reason: "every Mon, Tue, Wed, Thu, Fri 12:00 to 13:00 (Europe/Berlin)".into(),
                starts_at: utc("2026-06-08T10:00:00Z"),
                ends_at: Some(utc("2026-06-08T11:00:00Z")),
            })
        }
    );
}

#[test]
fn merging_adds_blackouts_and_narrows_windows() {
    let mut shared = calendar(
        r#"{"timezone": "Europe/Berlin", "blackouts": [
            {"name": "Weekend freeze", "weekly": {"from": "Fri 15:00", "to": "Mon 09:00"}}
        ]}"#,
    );
    shared
        .merge_json(
            r#"{"blackouts": [{"name": "Launch day", "dates": ["2026-06-10"]}],
                "allowed_windows": [{"name": "Business hours",
                                     "weekly": {"days": ["Mon-Fri"], "from": "09:00", "to": "17:00"}}]}"#,
        )
        .unwrap();
    check_table(
        &shared,
        &[
            ("2026-06-08T08:00:00Z", "clear"),
            (
                "2026-06-08T16:00:00Z",
                "blocked by Outside allowed windows until 2026-06-09T07:00Z",
            ),
            ("2026-06-10T08:00:00Z", "blocked by Launch day until 2026-06-11T07:00Z"),
            (
                "2026-06-12T14:00:00Z",
                "blocked by Weekend freeze until 2026-06-15T07:00Z",
            ),
        ],
    );
    // A second set of windows narrows further: only Wednesdays within business hours (June 10 is launch day).
    shared
        .merge_json(r#"{"allowed_windows": [{"name": "Wednesdays", "weekly": {"days": ["Wed"]}}]}"#)
        .unwrap();
    check_table(
        &shared,
        &[
            (
                "2026-06-08T08:00:00Z",
                "blocked by Outside allowed windows until 2026-06-17T07:00Z",
            ),
            ("2026-06-17T08:00:00Z", "clear"),
        ],
    );
    assert_eq!(shared.window_groups().len(), 2);
    // The additions' own zone, when given, is checked like any other.
    let refused = shared
        .merge_json(r#"{"timezone": "CST", "blackouts": []}"#)
        .unwrap_err();
    assert!(refused.to_string().starts_with("at `timezone`: \"CST\""), "{refused}");
}

#[test]
fn the_horizon_bounds_every_answer() {
    let long = calendar(
        r#"{"timezone": "UTC",
            "blackouts": [{"name": "Long freeze", "once": {"from": "2026-01-01", "to": "2027-12-31"}}]}"#,
    );
    assert_eq!(
        said(&long.verdict(utc("2026-02-01T00:00:00Z"))),
        "blocked by Long freeze until ?"
    );
    assert_eq!(long.next_window(utc("2026-02-01T00:00:00Z")), None);
    assert_eq!(
        said(&long.verdict(utc("2027-06-01T00:00:00Z"))),
        "blocked by Long freeze until 2028-01-01T00:00Z"
    );
    let upcoming = long.next_blackday(utc("2025-12-01T00:00:00Z")).unwrap();
    assert_eq!(
        (upcoming.starts_at, upcoming.ends_at),
        (utc("2026-01-01T00:00:00Z"), None)
    );

    let far_window = calendar(r#"{"timezone": "UTC", "allowed_windows": [{"name": "Far", "dates": ["2030-01-01"]}]}"#);
    let verdict = far_window.verdict(utc("2026-01-01T00:00:00Z"));
    assert_eq!(said(&verdict), format!("blocked by {OUTSIDE_WINDOWS} until ?"));
    assert_eq!(cause(&verdict), Some(Cause::OutsideWindows));
    assert_eq!(
        far_window.next_window(utc("2029-06-01T00:00:00Z")),
        Some(utc("2030-01-01T00:00:00Z"))
    );
}

#[test]
fn an_empty_calendar_is_always_clear_and_a_blackout_without_reason_explains_its_rule() {
    let empty = calendar(r#"{"timezone": "UTC"}"#);
    assert_eq!(
        empty.verdict(utc("2026-01-01T00:00:00Z")),
        Verdict::Clear { next_blackday: None }
    );
    let weekend = calendar(
        r#"{"timezone": "Europe/Berlin", "blackouts": [{"name": "Weekend", "weekly": {"days": ["Sat", "Sun"]}}]}"#,
    );
    let Verdict::Blocked { reason, ends_at, .. } = weekend.verdict(utc("2026-06-13T12:00:00Z")) else {
        panic!("blocked on Saturday");
    };
    assert_eq!(reason, "every Sat, Sun all day (Europe/Berlin)");
    assert_eq!(ends_at, Some(utc("2026-06-14T22:00:00Z")));
}

#[test]
fn verdicts_serialize_for_logs_and_the_command_line() {
    let calendar = calendar(WINDOWS_AND_BLACKOUTS);
    let blocked = serde_json::to_value(calendar.verdict(utc("2026-06-10T08:00:00Z"))).unwrap();
    assert_eq!(
        blocked,
        serde_json::json!({
            "verdict": "blocked",
            "cause": "blackout",
            "period_name": "Launch day",
            "reason": "on 2026-06-10 (Europe/Berlin)",
            "ends_at": "2026-06-11T07:00:00Z"
        })
    );
    let clear = serde_json::to_value(calendar.verdict(utc("2026-06-08T07:00:00Z"))).unwrap();
    assert_eq!(clear["verdict"], "clear");
    assert_eq!(clear["next_blackday"]["starts_at"], "2026-06-08T10:00:00Z");
}

#[test]
fn calendars_can_be_shared_between_threads_and_zones_parsed_for_callers() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<BlackDayCalendar>();
    assert_eq!(
        blackday_calendar::parse_time_zone("America/Chicago", "--zone").unwrap(),
        blackday_calendar::Zone::named("America/Chicago").unwrap()
    );
    let refused = blackday_calendar::parse_time_zone("CST", "--zone").unwrap_err();
    assert!(
        refused
            .to_string()
            .starts_with("--zone: \"CST\" is a time zone abbreviation"),
        "{refused}"
    );
}
