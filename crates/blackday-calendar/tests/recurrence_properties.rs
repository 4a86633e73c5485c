//! Property tests (proptest) of the recurrence engine:
//! - the fast path (expanding each rule from a period shortly before the query) gives exactly the spans of a plain
//!   full expansion from the rule's start, on random rules in six zones, at random instants and at the instants
//!   around every occurrence boundary;
//! - no malformed feed or document panics: it is read or refused.

use blackday_calendar::{BlackDayCalendar, Period, Span, Zone, periods_from_ics};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::Config;

const ZONES: [&str; 6] = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "UTC",
];

/// A random RRULE event: its rule text, start, zone and length.
#[derive(Debug, Clone)]
struct Event {
    rule: String,
    start: NaiveDateTime,
    zone: Zone,
    /// DURATION or DTEND line.
    length: String,
}

fn list<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// Optional `;KEY=a,b` from a non-empty subsequence of `values`.
fn part<T: ToString + Clone + std::fmt::Debug + 'static>(
    key: &'static str,
    values: Vec<T>,
    most: usize,
) -> impl Strategy<Value = String> {
    let count = values.len();
    prop_oneof![
        2 => Just(String::new()),
        1 => subsequence(values, 1..=most.min(count)).prop_map(move |chosen| format!(";{key}={}", list(&chosen))),
    ]
}

fn rule() -> impl Strategy<Value = (String, i64)> {
    let days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    let freq = select(vec!["HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]);
    freq.prop_flat_map(move |freq| {
        let interval = if freq == "HOURLY" { 1..=30u32 } else { 1..=4u32 };
        let by_day = match freq {
            "MONTHLY" | "YEARLY" => prop_oneof![
                part("BYDAY", days.to_vec(), 3),
                (select(vec!["1", "2", "-1", "4"]), select(days.to_vec()))
                    .prop_map(|(n, day)| format!(";BYDAY={n}{day}")),
            ]
            .boxed(),
            _ => part("BYDAY", days.to_vec(), 4).boxed(),
        };
        let by_set_pos = if freq == "MONTHLY" { part("BYSETPOS", vec![1, -1, 2], 1).boxed() } else { Just(String::new()).boxed() };
        let by_week_no = if freq == "YEARLY" { part("BYWEEKNO", vec![1, 10, 52, 53, -1], 2).boxed() } else { Just(String::new()).boxed() };
        let wkst = if freq == "WEEKLY" { part("WKST", vec!["MO", "SU", "WE"], 1).boxed() } else { Just(String::new()).boxed() };
        // How far back the start may be, in days: a full expansion of an HOURLY rule is the slow reference.
        let age = match freq {
            "HOURLY" => 60,
            "DAILY" => 2000,
            _ => 9000,
        };
        (
            interval,
            by_day,
            part("BYMONTHDAY", vec![1, 2, 15, 28, 29, 30, 31, -1, -2], 2),
            part("BYMONTH", (1..=12).collect::<Vec<u32>>(), 4),
            part("BYHOUR", vec![0, 1, 2, 3, 9, 17, 23], 2),
            by_set_pos,
            by_week_no,
            wkst,
            prop_oneof![3 => Just(String::new()), 1 => (1..300u32).prop_map(|n| format!(";COUNT={n}"))],
        )
            .prop_map(move |(interval, day, month_day, month, hour, set_pos, week_no, wkst, count)| {
                let hour = if freq == "HOURLY" && !hour.is_empty() && day.is_empty() { String::new() } else { hour };
                let by_day_needed = !set_pos.is_empty() && day.is_empty();
                let set_pos = if by_day_needed { String::new() } else { set_pos };
                (
                    format!("FREQ={freq};INTERVAL={interval}{day}{month_day}{month}{hour}{set_pos}{week_no}{wkst}{count}"),
                    age,
                )
            })
    })
}

fn event() -> impl Strategy<Value = Event> {
    (
        rule(),
        0usize..ZONES.len(),
        0i64..1_000_000,
        0u32..(24 * 60),
        0usize..4,
        1i64..3000,
    )
        .prop_map(|((rule, age), zone, back, minute, kind, amount)| {
            let now = NaiveDate::from_ymd_opt(2026, 6, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap();
            let start = now - TimeDelta::days(back % age) + TimeDelta::minutes(i64::from(minute));
            let length = match kind {
                0 => format!("DURATION:PT{amount}M"),
                1 => format!("DURATION:P{}D", 1 + amount % 20),
                2 => format!("DURATION:P{}DT{}H", amount % 3, 1 + amount % 30),
                _ => format!(
                    "DTEND;TZID={{zone}}:{}",
                    (start + TimeDelta::minutes(amount * 7)).format("%Y%m%dT%H%M%S")
                ),
            };
            Event {
                rule,
                start,
                zone: Zone::named(ZONES[zone]).unwrap(),
                length,
            }
        })
}

fn period(event: &Event) -> Option<Period> {
    let zone = event.zone.name();
    let text = format!(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Random\r\nDTSTART;TZID={zone}:{}\r\n{}\r\nRRULE:{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        event.start.format("%Y%m%dT%H%M%S"),
        event.length.replace("{zone}", zone),
        event.rule
    );
    // Some random rules are not valid (BYWEEKNO with a frequency that does not take it, say): nothing to compare.
    periods_from_ics(&text, Zone::UTC).ok()?.into_iter().next()
}

fn check(period: &Period, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), TestCaseError> {
    let fast = period.spans(from, to);
    let full = period.spans_by_full_expansion(from, to);
    prop_assert_eq!(&fast, &full, "{} from {} to {}", period.describe(), from, to);
    Ok(())
}

proptest! {
    // Failures are shown, not saved: a regression found here becomes a named test.
    #![proptest_config(Config { cases: 10_000, failure_persistence: None, ..Config::default() })]

    #[test]
    fn fast_expansion_agrees_with_full_expansion(
        event in event(),
        ahead_minutes in 0i64..(4 * 365 * 24 * 60),
        before in 0i64..(3 * 24 * 3600),
        after in 1i64..(3 * 24 * 3600),
        pick in any::<prop::sample::Index>(),
    ) {
        let Some(period) = period(&event) else { return Ok(()) };
        let start = event.start.and_utc();
        let at = start + TimeDelta::minutes(ahead_minutes);
        check(&period, at - TimeDelta::seconds(before), at + TimeDelta::seconds(after))?;
        // Around a boundary near the instant: one second either side, and the boundary itself.
        let near = period.spans_by_full_expansion(at - TimeDelta::days(20), at + TimeDelta::days(20));
        let boundaries: Vec<DateTime<Utc>> = near.iter().flat_map(|span: &Span| [span.start, span.end]).collect();
        if !boundaries.is_empty() {
            let boundary = boundaries[pick.index(boundaries.len())];
            for probe in [boundary - TimeDelta::seconds(1), boundary, boundary + TimeDelta::seconds(1)] {
                check(&period, probe, probe + TimeDelta::seconds(1))?;
                let full = period.spans_by_full_expansion(probe, probe + TimeDelta::seconds(1));
                prop_assert_eq!(period.contains(probe), full.iter().any(|span| span.contains(probe)));
            }
        }
    }
}

#[test]
fn most_random_rules_are_valid_so_the_comparison_means_something() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = event();
    let valid = (0..1000)
        .filter(|_| period(&strategy.new_tree(&mut runner).unwrap().current()).is_some())
        .count();
    assert!(valid >= 800, "only {valid} of 1000 random rules are valid");
}

/// A valid feed to break.
const FEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Freeze\\, all\r\n\
    DTSTART;TZID=Europe/Berlin:20261224T000000\r\nDTEND;TZID=Europe/Berlin:20261227T000000\r\n\
    RRULE:FREQ=YEARLY;UNTIL=20301231T000000Z\r\nEXDATE;TZID=Europe/Berlin:20271224T000000\r\nEND:VEVENT\r\n\
    BEGIN:VEVENT\r\nUID:b\r\nDTSTART;VALUE=DATE:20260301\r\nRRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=12\r\n\
    RDATE:20260615T100000Z\r\nBEGIN:VALARM\r\nTRIGGER:-PT1H\r\nEND:VALARM\r\nEND:VEVENT\r\n\
    BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID;TZID=Europe/Berlin:20281224T000000\r\nSTATUS:CANCELLED\r\n\
    DTSTART:20281224T000000Z\r\nDURATION:P1DT2H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// A valid document to break.
const DOCUMENT: &str = r#"{"timezone": "Europe/Berlin", "blackouts": [
    {"name": "Weekend", "weekly": {"from": "Fri 15:00", "to": "Mon 09:00"}},
    {"name": "Year end", "yearly": {"from": "12-20", "to": "01-03"}},
    {"name": "Patch", "rrule": {"rule": "FREQ=WEEKLY;BYDAY=WE;COUNT=40", "start": "2026-01-07T02:30", "duration_hours": 1.5}},
    {"name": "Close", "monthly": {"on": "last-business-day"}}],
  "allowed_windows": [{"name": "Day", "weekly": {"days": ["Mon-Thu"], "from": "09:00", "to": "17:00"}}]}"#;

/// Pieces that make malformed input interesting: names, separators, extreme values.
const PIECES: [&str; 24] = [
    "BEGIN:VEVENT\r\n",
    "END:VEVENT\r\n",
    "BEGIN:VCALENDAR\r\n",
    "END:VCALENDAR\r\n",
    ";",
    ":",
    ",",
    "=",
    "\"",
    "\r\n ",
    "\r\n",
    "TZID=",
    "Z",
    "99999999T999999",
    "P99999999999W",
    "COUNT=",
    "UNTIL=00010101",
    "{",
    "}",
    "[",
    "]",
    "\\",
    "\u{feff}",
    "+262143-01-01T00:00",
];

/// `text` with a few random edits: a piece inserted, a stretch deleted, or the case of a stretch changed.
fn mutated(text: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            0usize..3,
            any::<prop::sample::Index>(),
            0usize..40,
            select(PIECES.to_vec()),
        ),
        1..6,
    )
    .prop_map(move |edits| {
        let mut text = text.to_owned();
        for (kind, at, length, piece) in edits {
            let mut at = at.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + length).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            match kind {
                0 => text.insert_str(at, piece),
                1 => text.replace_range(at..end, ""),
                _ => {
                    let lower = text[at..end].to_lowercase();
                    text.replace_range(at..end, &lower);
                }
            }
        }
        text
    })
}

/// Reads and, when read, asks a few questions: none of it may panic.
fn read_and_ask(calendar: Result<BlackDayCalendar, blackday_calendar::Error>) {
    if let Ok(calendar) = calendar {
        for at in ["2026-12-25T12:00:00Z", "2027-03-28T01:30:00Z", "1900-01-01T00:00:00Z"] {
            let _ = calendar.verdict(at.parse().unwrap());
        }
    }
}

proptest! {
    #![proptest_config(Config { cases: 3_000, failure_persistence: None, ..Config::default() })]

    #[test]
    fn malformed_feeds_do_not_panic(text in mutated(FEED)) {
        read_and_ask(BlackDayCalendar::from_ics(&text, Zone::named("Europe/Berlin").unwrap()));
    }

    #[test]
    fn malformed_documents_do_not_panic(text in mutated(DOCUMENT)) {
        read_and_ask(BlackDayCalendar::from_json(&text));
    }

    #[test]
    fn arbitrary_text_does_not_panic(text in ".{0,300}") {
        read_and_ask(BlackDayCalendar::from_ics(&format!("BEGIN:VCALENDAR\r\n{text}"), Zone::UTC));
        read_and_ask(BlackDayCalendar::from_json(&text));
    }
}
