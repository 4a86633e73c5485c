//! Property tests: hand-rolled loops over thousands of instants (a grid, random instants, every period boundary,
//! and the minutes around every daylight-saving change), on a calendar with every kind of period in two zones.
//!
//! - the verdict is Blocked exactly when the instant is inside some blackout or outside all windows, and says
//!   which;
//! - `ends_at` (= `next_window`) is after the instant, is itself clear, and everything before it is blocked;
//! - a Clear verdict's next BlackDay starts after the instant, nothing before it is a blackout, and it ends where
//!   its run of blackouts ends;
//! - the engine agrees with an independent wall-clock reading of the same rules (away from the changes);
//! - a period's spans do not depend on the range asked for;
//! - a merged calendar allows exactly when both calendars allow.

mod common;

use blackday_calendar::{BlackDayCalendar, Cause, HORIZON, Verdict, Zone};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Timelike, Utc, Weekday};
use common::{Random, calendar, utc};

const RICH: &str = r#"{
    "timezone": "Europe/Berlin",
    "blackouts": [
        {"name": "Weekend freeze", "weekly": {"from": "Fri 15:00", "to": "Mon 09:00"}},
        {"name": "Year end", "yearly": {"from": "12-20", "to": "01-03"}},
        {"name": "Launch day", "dates": ["2026-11-27", "2027-03-25"]},
        {"name": "Month-end close", "monthly": {"on": "last-business-day", "from": "12:00", "to": "24:00"}},
        {"name": "Patch night", "rrule": {"rule": "FREQ=WEEKLY;BYDAY=WE", "start": "2026-01-07T02:30",
         "duration_hours": 1.5, "exdates": ["2026-04-01T02:30", "2027-06-02"]}},
        {"name": "New York night", "timezone": "America/New_York",
         "weekly": {"days": ["Sun"], "from": "01:30", "to": "02:30"}},
        {"name": "Leap day", "yearly": {"from": "02-29", "to": "02-29"}}
    ],
    "allowed_windows": [
        {"name": "Business hours", "weekly": {"days": ["Mon-Thu"], "from": "08:00", "to": "18:00"}},
        {"name": "Friday morning", "weekly": {"days": ["Fri"], "from": "08:00", "to": "12:00"}},
        {"name": "New York Sunday", "timezone": "America/New_York",
         "weekly": {"days": ["Sun"], "from": "02:30", "to": "04:00"}}
    ]
}"#;

fn first() -> DateTime<Utc> {
    utc("2026-01-01T00:00:00Z")
}

fn last() -> DateTime<Utc> {
    utc("2028-06-01T00:00:00Z")
}

/// The instants at which Berlin or New York change their clocks in `first()..last()`.
fn transitions() -> Vec<DateTime<Utc>> {
    let mut found = Vec::new();
    for zone in [
        Zone::named("Europe/Berlin").unwrap(),
        Zone::named("America/New_York").unwrap(),
    ] {
        let mut at = first();
        let offset = |at: DateTime<Utc>| at.with_timezone(&zone).naive_local() - at.naive_utc();
        while at < last() {
            let next = at + TimeDelta::minutes(30);
            if offset(at) != offset(next) {
                found.push(next);
            }
            at = next;
        }
    }
    assert_eq!(
        found.len(),
        2 * 5,
        "five changes per zone from 2026 to mid-2028: {found:?}"
    );
    found
}

/// A grid, random instants, every period boundary (and a second either side), and the minutes around every change.
fn instants(calendar: &BlackDayCalendar) -> Vec<DateTime<Utc>> {
    let mut instants = Vec::new();
    let mut at = first();
    while at < last() {
        instants.push(at);
        at += TimeDelta::minutes(433);
    }
    let mut random = Random(5);
    instants.extend((0..800).map(|_| random.instant(first(), last())));
    let periods = calendar
        .blackouts()
        .iter()
        .chain(calendar.window_groups().iter().flatten());
    for period in periods {
        for span in period.spans(first(), last()) {
            for edge in [span.start, span.end] {
                instants.extend([edge - TimeDelta::seconds(1), edge, edge + TimeDelta::seconds(1)]);
            }
        }
    }
    for change in transitions() {
        for minutes in [-90, -60, -31, -30, -1, 0, 1, 29, 30, 59, 60, 61, 90, 150] {
            instants.push(change + TimeDelta::minutes(minutes));
        }
    }
    instants.retain(|at| first() <= *at && *at < last());
    instants.sort();
    instants.dedup();
    instants
}

/// `count` instants spread over `from..to`, and the last second before `to`.
fn samples(from: DateTime<Utc>, to: DateTime<Utc>, count: i32) -> Vec<DateTime<Utc>> {
    let step = (to - from) / count;
    let mut samples: Vec<DateTime<Utc>> = (0..count).map(|i| from + step * i).collect();
    samples.push(to - TimeDelta::seconds(1));
    samples.retain(|at| *at >= from && *at < to);
    samples
}

fn in_blackout(calendar: &BlackDayCalendar, at: DateTime<Utc>) -> bool {
    calendar.blackouts().iter().any(|period| period.contains(at))
}

#[test]
fn verdicts_agree_with_the_periods_and_point_to_clear_instants() {
    let calendar = calendar(RICH);
    let instants = instants(&calendar);
    assert!(instants.len() > 3000, "{}", instants.len());
    let (mut clear, mut by_blackout, mut by_windows) = (0, 0, 0);
    for (i, at) in instants.iter().copied().enumerate() {
        let verdict = calendar.verdict(at);
        let blackout = calendar.blackouts().iter().find(|period| period.contains(at));
        let windows_closed = calendar
            .window_groups()
            .iter()
            .any(|group| !group.iter().any(|window| window.contains(at)));
        // The next two checks look far ahead; every tenth instant is plenty.
        let thorough = i % 10 == 0;
        match &verdict {
            Verdict::Clear { next_blackday } => {
                clear += 1;
                assert!(
                    blackout.is_none() && !windows_closed,
                    "clear inside a blackout or outside windows at {at}"
                );
                assert!(calendar.is_clear(at));
                assert_eq!(calendar.next_window(at), Some(at));
                if let Some(next) = next_blackday {
                    assert!(next.starts_at > at, "next BlackDay {next:?} not after {at}");
                    assert!(
                        in_blackout(&calendar, next.starts_at),
                        "{next:?} does not start a blackout"
                    );
                    assert!(
                        !in_blackout(&calendar, next.starts_at - TimeDelta::seconds(1)),
                        "{next:?} starts late"
                    );
                    if thorough {
                        for sample in samples(at, next.starts_at, 24) {
                            assert!(
                                !in_blackout(&calendar, sample),
                                "blackout at {sample} before {next:?} ({at})"
                            );
                        }
                    }
                    let end = next.ends_at.expect("within the horizon");
                    assert!(!in_blackout(&calendar, end), "{next:?} does not end at its end");
                    for sample in samples(next.starts_at, end, 12) {
                        assert!(in_blackout(&calendar, sample), "gap at {sample} in {next:?}");
                    }
                }
            }
            Verdict::Blocked {
                cause,
                period_name,
                ends_at,
                ..
            } => {
                assert!(!calendar.is_clear(at));
                match (cause, blackout) {
                    (Cause::Blackout, Some(period)) => assert_eq!(period_name, period.name()),
                    (Cause::OutsideWindows, None) => assert!(windows_closed, "outside windows at {at}?"),
                    _ => panic!("{verdict:?} at {at}, blackout {:?}", blackout.map(|p| p.name())),
                }
                match cause {
                    Cause::Blackout => by_blackout += 1,
                    Cause::OutsideWindows => by_windows += 1,
                }
                let end = ends_at.expect("a window opens within the horizon");
                assert!(end > at, "{verdict:?} at {at}");
                assert!(calendar.is_clear(end), "{verdict:?} at {at}: not clear at the end");
                assert!(
                    calendar.verdict(end).is_clear(),
                    "{verdict:?} at {at}: end verdict not clear"
                );
                assert_eq!(calendar.next_window(at), Some(end));
                if thorough || end - at < TimeDelta::days(2) {
                    for sample in samples(at, end, 24) {
                        assert!(
                            !calendar.is_clear(sample),
                            "clear at {sample} inside {verdict:?} ({at})"
                        );
                    }
                }
            }
        }
    }
    // The loop saw plenty of each kind of answer.
    assert!(
        clear > 500 && by_blackout > 500 && by_windows > 500,
        "{clear} {by_blackout} {by_windows}"
    );
}

/// The same rules as `RICH`, read independently from the wall clock.
fn wall_clock_clear(at: DateTime<Utc>) -> bool {
    let berlin = at.with_timezone(&Zone::named("Europe/Berlin").unwrap());
    let new_york = at.with_timezone(&Zone::named("America/New_York").unwrap());
    let minute = |t: &DateTime<Zone>| t.hour() * 60 + t.minute();
    let (day, time, date) = (berlin.weekday(), minute(&berlin), berlin.date_naive());
    let weekend = (day == Weekday::Fri && time >= 15 * 60)
        || matches!(day, Weekday::Sat | Weekday::Sun)
        || (day == Weekday::Mon && time < 9 * 60);
    let year_end = (date.month() == 12 && date.day() >= 20) || (date.month() == 1 && date.day() <= 3);
    let launch = ["2026-11-27", "2027-03-25"].contains(&date.format("%Y-%m-%d").to_string().as_str());
    let last_business_day = {
        let mut day = NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap() + chrono::Months::new(1);
        loop {
            day = day.pred_opt().unwrap();
            if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                break day;
            }
        }
    };
    let month_end = date == last_business_day && time >= 12 * 60;
    let patch = day == Weekday::Wed
        && (150..240).contains(&time)
        && !["2026-04-01", "2027-06-02"].contains(&date.format("%Y-%m-%d").to_string().as_str());
    let ny_time = minute(&new_york);
    let ny_sunday = new_york.weekday() == Weekday::Sun;
    let ny_night = ny_sunday && (90..150).contains(&ny_time);
    let leap = date.month() == 2
        && (date.day() == 29 || (date.day() == 28 && NaiveDate::from_ymd_opt(date.year(), 2, 29).is_none()));
    let blackout = weekend || year_end || launch || month_end || patch || ny_night || leap;
    let window = (matches!(day, Weekday::Mon | Weekday::Tue | Weekday::Wed | Weekday::Thu)
        && (480..1080).contains(&time))
        || (day == Weekday::Fri && (480..720).contains(&time))
        || (ny_sunday && (150..240).contains(&ny_time));
    window && !blackout
}

#[test]
fn the_engine_agrees_with_a_wall_clock_reading_away_from_the_changes() {
    let calendar = calendar(RICH);
    let changes = transitions();
    let mut checked = 0;
    for at in instants(&calendar) {
        if changes.iter().any(|change| (*change - at).abs() < TimeDelta::hours(3)) {
            continue;
        }
        checked += 1;
        assert_eq!(
            calendar.is_clear(at),
            wall_clock_clear(at),
            "at {at} ({})",
            at.with_timezone(&Zone::named("Europe/Berlin").unwrap())
        );
    }
    assert!(checked > 3000, "{checked}");
}

#[test]
fn spans_do_not_depend_on_the_range_asked_for() {
    let calendar = calendar(RICH);
    let mut random = Random(11);
    let periods = calendar
        .blackouts()
        .iter()
        .chain(calendar.window_groups().iter().flatten());
    for period in periods {
        let all = period.spans(first(), last());
        assert!(!all.is_empty(), "{}", period.name());
        for _ in 0..60 {
            let from = random.instant(first() + TimeDelta::days(20), last() - TimeDelta::days(40));
            let to = from + TimeDelta::minutes((random.next() % (60 * 24 * 30)) as i64 + 1);
            let expected: Vec<_> = all.iter().filter(|s| s.start < to && from < s.end).copied().collect();
            assert_eq!(period.spans(from, to), expected, "{} in {from}..{to}", period.name());
        }
    }
}

#[test]
fn a_merged_calendar_allows_exactly_when_both_allow() {
    let shared = calendar(RICH);
    let additions = r#"{"blackouts": [{"name": "Pipeline freeze", "once": {"from": "2026-09-01", "to": "2026-09-14"}}],
        "allowed_windows": [{"name": "Mornings", "weekly": {"days": ["Mon-Sun"], "from": "06:00", "to": "13:00"}}]}"#;
    let mut merged = shared.clone();
    merged.merge_json(additions).unwrap();
    let alone = {
        let mut alone = BlackDayCalendar::new(shared.zone());
        alone.merge_json(additions).unwrap();
        alone
    };
    let mut random = Random(3);
    let mut both_clear = 0;
    for _ in 0..4000 {
        let at = random.instant(first(), last());
        let expected = shared.is_clear(at) && alone.is_clear(at);
        assert_eq!(merged.is_clear(at), expected, "at {at}");
        both_clear += usize::from(expected);
    }
    assert!(both_clear > 100, "{both_clear}");
    // A few verdicts, too: a merged verdict never clears what either calendar blocks.
    for at in samples(first(), last(), 300) {
        let verdict = merged.verdict(at);
        assert_eq!(
            verdict.is_clear(),
            shared.is_clear(at) && alone.is_clear(at),
            "{verdict:?} at {at}"
        );
        if let Verdict::Blocked { ends_at: Some(end), .. } = verdict {
            assert!(
                shared.is_clear(end) && alone.is_clear(end),
                "end {end} of the block at {at}"
            );
        }
    }
}

#[test]
fn without_windows_next_window_is_the_end_of_the_blackout_run() {
    let calendar = calendar(
        r#"{"timezone": "America/New_York", "blackouts": [
            {"name": "Nights", "weekly": {"days": ["Mon-Sun"], "from": "22:00", "to": "07:00"}},
            {"name": "Early", "weekly": {"days": ["Mon-Sun"], "from": "06:30", "to": "08:00"}}
        ]}"#,
    );
    let mut random = Random(9);
    for _ in 0..2000 {
        let at = random.instant(first(), last());
        let window = calendar.next_window(at).unwrap();
        let local = window.with_timezone(&Zone::named("America/New_York").unwrap());
        if window == at {
            assert!(!in_blackout(&calendar, at));
        } else {
            // The run of nights and early mornings always ends at 08:00 local time, whatever the day's length.
            assert_eq!((local.hour(), local.minute()), (8, 0), "{at} -> {window}");
            assert!(window - at <= TimeDelta::hours(11), "{at} -> {window}");
        }
        assert!(window - at < HORIZON);
    }
    // Every instant read in the zone: the window at 08:00 is also right on the changes' days.
    let on_change_day = Zone::named("America/New_York")
        .unwrap()
        .with_ymd_and_hms(2026, 3, 8, 1, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(calendar.next_window(on_change_day), Some(utc("2026-03-08T12:00:00Z")));
}
