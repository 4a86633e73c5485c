use super::*;

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn make(rule: &str, start: &str, length: Length, zone: Zone, exceptions: &[Exception]) -> Recurrence {
    Recurrence::new(rule, at(start), length, zone, exceptions, &[], false).unwrap()
}

fn starts(recurrence: &Recurrence, first: &str, last: &str) -> Vec<String> {
    recurrence
        .spans(Zone::UTC, Role::Blackout, day(first), day(last))
        .into_iter()
        .map(|span| span.start.format("%Y-%m-%d %H:%M").to_string())
        .collect()
}

#[test]
fn expands_with_exceptions_by_time_and_by_day() {
    let recurrence = make(
        "RRULE:FREQ=WEEKLY;BYDAY=FR",
        "2026-01-02 15:00",
        Length::wall(TimeDelta::hours(66)),
        Zone::UTC,
        &[Exception::At(at("2026-01-09 15:00")), Exception::Day(day("2026-01-23"))],
    );
    assert_eq!(
        starts(&recurrence, "2026-01-01", "2026-01-31"),
        ["2026-01-02 15:00", "2026-01-16 15:00", "2026-01-30 15:00"]
    );
    assert_eq!(recurrence.reach_days(), 4);
}

#[test]
fn until_in_utc_is_read_in_the_zone_and_a_date_until_includes_the_day() {
    // 2026-03-05T23:30Z is 2026-03-06 00:30 in Berlin: the occurrence on the 6th at 00:30 is included.
    let recurrence = make(
        "FREQ=DAILY;UNTIL=20260305T233000Z",
        "2026-03-01 00:30",
        Length::wall(TimeDelta::hours(1)),
        Zone::named("Europe/Berlin").unwrap(),
        &[],
    );
    assert_eq!(starts(&recurrence, "2026-03-01", "2026-03-31").len(), 6);
    let by_date = make(
        "FREQ=DAILY;UNTIL=20260303",
        "2026-03-01 18:00",
        Length::wall(TimeDelta::hours(1)),
        Zone::UTC,
        &[],
    );
    assert_eq!(starts(&by_date, "2026-03-01", "2026-03-31").len(), 3);
}

#[test]
fn the_start_counts_only_when_asked() {
    let make = |start_counts| {
        Recurrence::new(
            "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4",
            at("2026-01-01 00:00"),
            Length::wall(TimeDelta::days(1)),
            Zone::UTC,
            &[],
            &[],
            start_counts,
        )
        .unwrap()
    };
    assert_eq!(starts(&make(false), "2026-01-01", "2026-12-31"), ["2026-07-04 00:00"]);
    assert_eq!(
        starts(&make(true), "2026-01-01", "2026-12-31"),
        ["2026-01-01 00:00", "2026-07-04 00:00"]
    );
    assert_eq!(make(false).first_of_rule(), Some(at("2026-07-04 00:00")));
}

#[test]
fn a_count_rule_ends_by_its_count_however_far_the_query_is() {
    let recurrence = make(
        "FREQ=HOURLY;INTERVAL=5;COUNT=7",
        "1900-01-01 00:00",
        Length::wall(TimeDelta::hours(1)),
        Zone::UTC,
        &[],
    );
    assert_eq!(
        starts(&recurrence, "1900-01-01", "1900-01-03"),
        [
            "1900-01-01 00:00",
            "1900-01-01 05:00",
            "1900-01-01 10:00",
            "1900-01-01 15:00",
            "1900-01-01 20:00",
            "1900-01-02 01:00",
            "1900-01-02 06:00"
        ]
    );
    assert!(starts(&recurrence, "1900-01-02", "2026-01-01").len() == 2);
    assert!(starts(&recurrence, "2026-01-01", "2027-01-01").is_empty());
}

#[test]
fn refuses_bad_rules_with_a_sentence() {
    let cases = [
        ("", "empty"),
        ("FREQ=SOMETIMES", "does not parse"),
        ("FREQ=DAILY;BYHOUR=25", "BYHOUR"),
        ("FREQ=MONTHLY;BYWEEKNO=3", "not valid"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL=tomorrow is not a date"),
        ("FREQ=DAILY;UNTIL=20250101", "before the first occurrence"),
        ("DTSTART=20260101;FREQ=DAILY", "DTSTART"),
        ("FREQ=MINUTELY", "repeats too often"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0"),
    ];
    for (rule, expected) in cases {
        let problem = Recurrence::new(
            rule,
            at("2026-01-01 00:00"),
            Length::wall(TimeDelta::hours(1)),
            Zone::UTC,
            &[],
            &[],
            false,
        )
        .unwrap_err();
        assert!(problem.contains(expected), "{rule}: {problem}");
    }
}

#[test]
fn occurrences_in_a_gap_start_at_the_change_and_end_no_earlier_than_rfc_5545_says() {
    let berlin = Zone::named("Europe/Berlin").unwrap();
    let spring = day("2026-03-29");
    let span = |length: Length, role: Role| {
        let recurrence = make("FREQ=DAILY", "2026-03-28 02:30", length, berlin, &[]);
        let spans = recurrence.spans(berlin, role, spring, spring);
        assert_eq!(spans.len(), 1);
        (spans[0].start, spans[0].end)
    };
    // RFC 5545: 02:30 does not exist, the occurrence is 03:30 CEST (01:30Z); one hour lasts to 02:30Z.
    let hour = Length {
        nominal: TimeDelta::zero(),
        exact: TimeDelta::hours(1),
        at_least: TimeDelta::zero(),
    };
    assert_eq!(
        span(hour, Role::Blackout),
        (utc("2026-03-29T01:00:00Z"), utc("2026-03-29T02:30:00Z"))
    );
    // A wall-clock hour from 03:30 too (it used to end at 03:30 CEST, half an hour after the change).
    assert_eq!(
        span(Length::wall(TimeDelta::hours(1)), Role::Blackout),
        (utc("2026-03-29T01:00:00Z"), utc("2026-03-29T02:30:00Z"))
    );
    // A window is never longer than any reading: from 03:30 to the wall clock's 03:30.
    assert_eq!(
        span(Length::wall(TimeDelta::hours(1)), Role::Window),
        (utc("2026-03-29T01:30:00Z"), utc("2026-03-29T01:30:00Z"))
    );
}

#[test]
fn dtend_lengths_are_exact_and_never_shorter_than_the_wall_clock() {
    // A day from midnight, written with DTEND: 24 real hours (RFC 5545), and at least to the next midnight.
    let adelaide = Zone::named("Australia/Adelaide").unwrap();
    let length = Length {
        nominal: TimeDelta::days(1),
        exact: TimeDelta::zero(),
        at_least: TimeDelta::hours(24),
    };
    let recurrence = make("FREQ=DAILY", "2026-04-01 00:00", length, adelaide, &[]);
    let end_of = |date: &str| recurrence.spans(adelaide, Role::Blackout, day(date), day(date))[0].end;
    // Spring forward (23-hour day, 2026-10-04): 24 real hours end at 01:00 ACDT on the 5th (14:30Z on the 4th).
    assert_eq!(end_of("2026-10-04"), utc("2026-10-04T14:30:00Z"));
    // Fall back (25-hour day, 2026-04-05): the next midnight (14:30Z), later than 24 real hours (13:30Z).
    assert_eq!(end_of("2026-04-05"), utc("2026-04-05T14:30:00Z"));
}

#[test]
fn a_count_rule_too_sparse_to_end_quickly_is_left_without_an_end() {
    // 20 000 hours hold about 119 Mondays at 09:00, far fewer than COUNT asks for: rather than step through a
    // century of hours when the calendar is read, the rule blocks every Monday at 09:00 from then on.
    let sparse = make(
        "FREQ=HOURLY;BYDAY=MO;BYHOUR=9;COUNT=5000",
        "2000-01-03 09:00",
        Length::wall(TimeDelta::hours(1)),
        Zone::UTC,
        &[],
    );
    assert_eq!(starts(&sparse, "2300-01-01", "2300-01-07"), ["2300-01-01 09:00"]);
    // A DAILY rule on Mondays reaches its COUNT well within the limit, and ends there.
    let weekly = make(
        "FREQ=DAILY;BYDAY=MO;COUNT=10",
        "2026-01-05 09:00",
        Length::wall(TimeDelta::hours(1)),
        Zone::UTC,
        &[],
    );
    assert_eq!(starts(&weekly, "2026-03-09", "2026-03-09"), ["2026-03-09 09:00"]);
    assert!(starts(&weekly, "2026-03-16", "2026-12-31").is_empty());
}

#[test]
fn a_weeks_first_days_in_the_previous_year_count_under_its_iso_number() {
    // ISO week 52 of 2021 runs from Monday 27 December 2021 to Sunday 2 January 2022. python-dateutil's formula (the
    // rrule crate's) calls that week 53 when it expands 2022, so a BYWEEKNO=52 BlackDay missed 1 and 2 January.
    let week_52 = make(
        "FREQ=YEARLY;BYWEEKNO=52;BYDAY=SA,SU",
        "2021-01-02 00:00",
        Length::wall(TimeDelta::hours(24)),
        Zone::UTC,
        &[],
    );
    assert_eq!(
        starts(&week_52, "2021-12-20", "2022-01-10"),
        ["2022-01-01 00:00", "2022-01-02 00:00"]
    );
    // The formula's number keeps them too (no reading blocks less than before).
    let week_53 = make(
        "FREQ=YEARLY;BYWEEKNO=53;BYDAY=SA,SU",
        "2021-01-02 00:00",
        Length::wall(TimeDelta::hours(24)),
        Zone::UTC,
        &[],
    );
    assert_eq!(
        starts(&week_53, "2021-12-20", "2022-01-10"),
        ["2022-01-01 00:00", "2022-01-02 00:00"]
    );
    // With BYSETPOS the set is the crate's: a larger one would move the positions, not add days.
    let first_of_week_52 = make(
        "FREQ=YEARLY;BYWEEKNO=52;BYSETPOS=1",
        "2021-01-02 00:00",
        Length::wall(TimeDelta::hours(1)),
        Zone::UTC,
        &[],
    );
    assert_eq!(
        starts(&first_of_week_52, "2022-01-01", "2022-12-31"),
        ["2022-12-26 00:00"]
    );
}
