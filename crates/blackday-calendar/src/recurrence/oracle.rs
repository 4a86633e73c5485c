//! The engine against its oracle, the `rrule` crate (0.14) it replaced, on floating times (`rrule::Tz::UTC`, the
//! convention the calendar used with the crate):
//! - random rules covering every part (all five frequencies with BYWEEKNO, BYYEARDAY, BYSETPOS and BYDAY ordinals,
//!   including values each frequency refuses; BYSECOND, BYMINUTE, BYHOUR, WKST, COUNT, UNTIL), from random starts:
//!   both accept or both refuse, and both give the same first occurrences, from the start and from a later instant
//!   (as a query's anchor does);
//! - named tables for the tricky cases.
//!
//! The calendar repeats every 400 years, so the random starts lie in 9600..=9999 (every kind of year is there):
//! a rule with few occurrences or none then reaches the end of the crate's years (10 000) soon, where both engines
//! stop, instead of making the crate step through 99 999 empty periods (the table tests cover that bound).

use crate::zone::Zone;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Timelike};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::Config;
use rrule::{RRule, RRuleSet, Unvalidated};

use super::days::WeekNumbers;
use super::occurrences::Occurrences;
use super::parts::Frequency;
use super::rule::{self, RuleText};
use super::validate::{MIXED_BYDAY, RecurrenceRule};
use super::{COUNT_PERIODS, expandable, last_counted, period_length};

/// Occurrences compared per rule and start.
const FIRST: usize = 40;

fn floating(at: NaiveDateTime) -> DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&at)
}

/// The rule as the `rrule` crate reads and validates it, as the calendar used to (parts through the crate's string
/// parser, FREQ and UNTIL checked first as they were).
fn oracle(checked: &RuleText, start: NaiveDateTime, with_count: bool) -> Result<RRule, String> {
    let mut parsed: RRule<Unvalidated> = checked.parts.join(";").parse().map_err(|e| format!("{e}"))?;
    if parsed.get_freq() > rrule::Frequency::Hourly {
        return Err("too often".to_owned());
    }
    if let Some(until) = checked.until {
        if until < start {
            return Err("until before start".to_owned());
        }
        parsed = parsed.until(floating(until));
    }
    if let (Some(count), true) = (checked.count, with_count) {
        parsed = parsed.count(count);
    }
    parsed.validate(floating(start)).map_err(|e| e.to_string())
}

fn theirs(rule: &RRule, from: NaiveDateTime, first: usize) -> Vec<NaiveDateTime> {
    (&RRuleSet::new(floating(from)).rrule(rule.clone()).limit())
        .into_iter()
        .take(first)
        .map(|at| at.naive_utc())
        .collect()
}

/// Our occurrences, without those kept only because a year's first days are in the previous year's last week as
/// RFC 5545 numbers it where python-dateutil's formula (the crate's) numbers it otherwise: the one place the engine
/// keeps more than the crate, on purpose (see days.rs).
fn ours(rule: &RecurrenceRule, from: NaiveDateTime, first: usize) -> Vec<NaiveDateTime> {
    Occurrences::new(rule, from, None)
        .filter(|at| !kept_only_by_rfc_numbering(rule, *at))
        .take(first)
        .collect()
}

fn kept_only_by_rfc_numbering(rule: &RecurrenceRule, at: NaiveDateTime) -> bool {
    rule.freq == Frequency::Yearly
        && !rule.by_week_no.is_empty()
        && rule.by_set_pos.is_empty()
        && WeekNumbers::new(at.year(), rule.week_start).kept_only_by_rfc_numbering(at.ordinal0(), &rule.by_week_no)
}

/// Both engines accept or refuse `text` from `start`, and give the same first occurrences from the start (COUNT
/// and UNTIL applied) and from `from` (at or after the start; without the COUNT, which a calendar turns into an
/// UNTIL first). Returns whether the rule was accepted.
fn agree(text: &str, start: NaiveDateTime, from: NaiveDateTime) -> Result<bool, String> {
    let Ok(checked) = rule::check(text, Zone::UTC) else {
        return Ok(false);
    };
    let (mine, reference) = match (expandable(&checked, start), oracle(&checked, start, true)) {
        (Ok(mine), Ok(reference)) => (mine, reference),
        (Err(_), Err(_)) => return Ok(false),
        // Refused here where the crate expands it to less than RFC 5545 says (see validate.rs).
        (Err(problem), Ok(_)) if problem.contains(MIXED_BYDAY) => return Ok(false),
        (mine, reference) => {
            return Err(format!("{text} from {start}: ours {mine:?}, the crate's {reference:?}"));
        }
    };
    let wanted = checked.count.map_or(FIRST, |count| FIRST.min(count as usize));
    let expected = theirs(&reference, start, FIRST);
    let got = ours(&mine, start, wanted);
    if got != expected {
        return Err(format!(
            "{text} from {start}:\n ours {got:?}\n the crate's {expected:?}"
        ));
    }
    // Where the engine keeps days the crate does not, its COUNT-th occurrence is another one.
    let numbered_apart = Occurrences::new(&mine, start, None)
        .take(FIRST.max(wanted) * 2)
        .any(|at| kept_only_by_rfc_numbering(&mine, at));
    if let Some(count) = checked.count
        && expected.len() == count as usize
        && !numbered_apart
    {
        // The calendar's COUNT → UNTIL: the COUNT-th occurrence, unless it lies beyond the search's cutoff.
        let last = last_counted(&mine, start, count);
        let cutoff = (2 * i64::from(count)).max(COUNT_PERIODS) * i64::from(mine.interval);
        let beyond = expected.last().is_some_and(|last| {
            i32::try_from(cutoff)
                .ok()
                .and_then(|periods| period_length(mine.freq).checked_mul(periods))
                .and_then(|reach| start.checked_add_signed(reach))
                .is_none_or(|cutoff| *last > cutoff)
        });
        if last != expected.last().copied() && !(last.is_none() && beyond) {
            return Err(format!(
                "{text} from {start}: last counted {last:?}, the crate's {:?}",
                expected.last()
            ));
        }
    }
    if expected.is_empty() {
        // None from the start, none from later: nothing more to compare.
        return Ok(true);
    }
    let reference = oracle(&checked, start, false).map_err(|e| format!("{text}: {e}"))?;
    let (got, expected) = (ours(&mine, from, FIRST), theirs(&reference, from, FIRST));
    if got != expected {
        return Err(format!(
            "{text} from {start}, expanded from {from}:\n ours {got:?}\n the crate's {expected:?}"
        ));
    }
    Ok(true)
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .unwrap()
}

/// Each rule, from each start (and expanded again from two weeks and a day later): the same as the crate.
fn table(rules: &[&str], starts: &[&str]) {
    let mut wrong = Vec::new();
    for text in rules {
        for start in starts {
            let start = at(start);
            let from = start + TimeDelta::days(15);
            if let Err(problem) = agree(text, start, from) {
                wrong.push(problem);
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// Starts on every weekday, in leap and common years, at month ends.
const STARTS: [&str; 8] = [
    "2026-01-01 09:00",
    "2026-06-17 23:59:30",
    "2027-12-31 00:00",
    "2028-02-29 12:00",
    "2020-12-27 07:15",
    "2021-01-03 08:00",
    "1999-03-31 10:00",
    "2100-02-28 00:00",
];

#[test]
fn byweekno_with_wkst_matches_the_oracle() {
    table(
        &[
            "FREQ=YEARLY;BYWEEKNO=1",
            "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO",
            "FREQ=YEARLY;BYWEEKNO=1;WKST=SU;BYDAY=SU,SA",
            "FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH",
            "FREQ=YEARLY;BYWEEKNO=52,53",
            "FREQ=YEARLY;BYWEEKNO=-1;WKST=TH",
            "FREQ=YEARLY;BYWEEKNO=-53,-52,2;WKST=SA",
            "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO,FR;WKST=WE",
            "FREQ=YEARLY;INTERVAL=3;BYWEEKNO=1,-1;BYSETPOS=1,-1",
            "FREQ=YEARLY;BYWEEKNO=53;WKST=SU",
        ],
        &STARTS,
    );
}

#[test]
fn month_and_year_days_from_the_end_match_the_oracle() {
    table(
        &[
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            "FREQ=MONTHLY;BYMONTHDAY=-31,31,-29",
            "FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=2",
            "FREQ=YEARLY;BYYEARDAY=-1,1,60",
            "FREQ=YEARLY;BYYEARDAY=366,-366",
            "FREQ=YEARLY;BYYEARDAY=-306;BYMONTH=3",
            "FREQ=HOURLY;INTERVAL=7;BYYEARDAY=59,60",
            "FREQ=DAILY;BYMONTHDAY=-2,15",
        ],
        &STARTS,
    );
}

#[test]
fn weekday_ordinals_in_months_and_years_match_the_oracle() {
    table(
        &[
            "FREQ=MONTHLY;BYDAY=1MO,-1FR",
            "FREQ=MONTHLY;BYDAY=5WE",
            "FREQ=MONTHLY;BYDAY=-4SU,+2TU;INTERVAL=5",
            "FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=1,2,3",
            "FREQ=YEARLY;BYDAY=20MO",
            "FREQ=YEARLY;BYDAY=-1SU,53TH",
            "FREQ=YEARLY;BYMONTH=3,11;BYDAY=2SU,1SU",
            "FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO",
            "FREQ=YEARLY;BYWEEKNO=10;BYDAY=1MO",
            "FREQ=WEEKLY;BYDAY=1MO",
            "FREQ=DAILY;BYDAY=2FR,SA",
            "FREQ=HOURLY;INTERVAL=5;BYDAY=-3TU",
        ],
        &STARTS,
    );
}

#[test]
fn bysetpos_over_each_periods_set_matches_the_oracle() {
    table(
        &[
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,2,-2,31,-31",
            "FREQ=YEARLY;BYMONTH=1,7;BYDAY=SA;BYSETPOS=3,-3",
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYSETPOS=1",
            "FREQ=WEEKLY;BYDAY=SU,SA;BYHOUR=1,13;BYSETPOS=-1,2;WKST=SU",
            "FREQ=DAILY;BYHOUR=9,12,18;BYSETPOS=2",
            "FREQ=DAILY;BYHOUR=9,12;BYMINUTE=0,30;BYSETPOS=-1,1,3",
            "FREQ=HOURLY;BYMINUTE=0,20,40;BYSETPOS=2,-1",
            "FREQ=HOURLY;BYSECOND=0,1;BYSETPOS=3",
        ],
        &STARTS,
    );
}

#[test]
fn invalid_dates_are_skipped_and_leap_years_kept_as_the_oracle_does() {
    table(
        &[
            "FREQ=MONTHLY",
            "FREQ=MONTHLY;BYMONTHDAY=30",
            "FREQ=YEARLY",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
            "FREQ=MONTHLY;INTERVAL=13;BYMONTHDAY=31",
        ],
        &STARTS,
    );
}

#[test]
fn until_is_inclusive_and_count_ends_as_the_oracle_does() {
    table(
        &[
            "FREQ=DAILY;UNTIL=20280301T120000",
            "FREQ=WEEKLY;UNTIL=20280301",
            "FREQ=HOURLY;INTERVAL=11;UNTIL=21000301T000000Z",
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=7",
            "FREQ=YEARLY;BYWEEKNO=53;COUNT=3",
            "FREQ=HOURLY;INTERVAL=5;BYHOUR=3,4;COUNT=9",
        ],
        &STARTS,
    );
}

#[test]
fn hours_a_step_never_meets_and_rules_that_never_occur_end_as_the_oracle_does() {
    table(
        &[
            // From 10:00 in steps of 24 hours BYHOUR=9 is never met: no occurrence.
            "FREQ=HOURLY;INTERVAL=24;BYHOUR=9",
            "FREQ=HOURLY;INTERVAL=6;BYHOUR=3,9",
            "FREQ=HOURLY;INTERVAL=5;BYHOUR=3,4",
            // Never: ended by the empty-period bound (or the year 10 000) in both.
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
            "FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=20",
            "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
            "FREQ=HOURLY;BYSETPOS=2",
        ],
        &["2026-01-01 10:00", "9990-05-05 10:00"],
    );
}

#[test]
fn huge_intervals_and_the_ends_of_the_crates_years_match_the_oracle() {
    table(
        &[
            "FREQ=YEARLY;INTERVAL=65535",
            "FREQ=MONTHLY;INTERVAL=65535;BYMONTHDAY=31",
            "FREQ=WEEKLY;INTERVAL=65535;BYDAY=MO,SU",
            "FREQ=DAILY;INTERVAL=65535",
            "FREQ=HOURLY;INTERVAL=65535;BYHOUR=1,2,3",
            "FREQ=YEARLY;INTERVAL=7;BYWEEKNO=1;BYDAY=MO",
            "FREQ=MONTHLY;INTERVAL=11;BYDAY=-1SU",
            "FREQ=WEEKLY;INTERVAL=3;BYMONTH=1",
            "FREQ=DAILY;INTERVAL=5",
            "FREQ=HOURLY;INTERVAL=23",
        ],
        &[
            "2026-01-01 09:00",
            "9999-12-20 23:00",
            "+10001-06-30 12:00",
            "-10001-12-20 08:00",
            "-10003-12-31 08:00",
        ],
    );
}

#[test]
fn the_refused_rules_are_the_oracles() {
    let start = at("2026-01-01 09:00");
    for (text, accepted) in [
        ("FREQ=WEEKLY;BYMONTHDAY=1", false),
        ("FREQ=DAILY;BYYEARDAY=1", false),
        ("FREQ=MONTHLY;BYYEARDAY=1", false),
        ("FREQ=HOURLY;BYYEARDAY=1", true),
        ("FREQ=MONTHLY;BYWEEKNO=1", false),
        ("FREQ=MONTHLY;BYDAY=-5MO", false),
        ("FREQ=MONTHLY;BYDAY=5MO", true),
        ("FREQ=WEEKLY;BYDAY=8MO", true),
        ("FREQ=WEEKLY;BYDAY=9MO", false),
        ("FREQ=HOURLY;BYDAY=-4MO", false),
        ("FREQ=YEARLY;BYDAY=-53MO", false),
        ("FREQ=DAILY;BYSETPOS=366", true),
        ("FREQ=WEEKLY;BYSETPOS=54", false),
        ("FREQ=HOURLY;BYSETPOS=25", false),
        ("FREQ=MINUTELY", false),
    ] {
        assert_eq!(agree(text, start, start), Ok(accepted), "{text}");
    }
}

#[test]
fn the_engine_runs_near_the_ends_of_the_calendar_without_panicking() {
    for text in [
        "FREQ=YEARLY",
        "FREQ=WEEKLY;BYDAY=SU,MO",
        "FREQ=DAILY",
        "FREQ=HOURLY;INTERVAL=7",
        "FREQ=MONTHLY",
    ] {
        for start in [
            NaiveDateTime::MIN,
            NaiveDateTime::MAX - TimeDelta::days(3),
            NaiveDateTime::MAX,
        ] {
            let checked = rule::check(text, Zone::UTC).unwrap();
            let rule = expandable(&checked, start).unwrap();
            let first: Vec<_> = Occurrences::new(&rule, start, None).take(5).collect();
            assert!(first.len() <= 5);
        }
    }
}

fn list<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// `;KEY=a,b` from `values` (up to `most` of them), with odds `weight` in 10 of being there.
fn part<T: ToString + Clone + std::fmt::Debug + 'static>(
    key: &'static str,
    values: Vec<T>,
    most: usize,
    weight: u32,
) -> BoxedStrategy<String> {
    let count = values.len();
    prop_oneof![
        10 - weight => Just(String::new()),
        weight => subsequence(values, 1..=most.min(count)).prop_map(move |chosen| format!(";{key}={}", list(&chosen))),
    ]
    .boxed()
}

const WEEKDAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// A random rule covering every part, including values some frequencies refuse.
fn random_rule() -> impl Strategy<Value = String> {
    let freq = prop_oneof![
        12 => select(vec!["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"]),
        1 => select(vec!["MINUTELY", "SECONDLY"]),
    ];
    freq.prop_flat_map(|freq| {
        let yearly = freq == "YEARLY";
        let interval = prop_oneof![
            6 => 1..=3u32,
            2 => 4..=13u32,
            1 => select(vec![24u32, 25, 52, 53, 400, 4800, 20871, 65535]),
        ];
        let day = prop_oneof![
            3 => select(WEEKDAYS.to_vec()).prop_map(str::to_owned),
            2 => (
                select(vec!["1", "2", "+3", "4", "5", "-1", "-2", "-4", "-5", "6", "-7", "8", "20", "53", "-52", "-53"]),
                select(WEEKDAYS.to_vec()),
            )
                .prop_map(|(n, day)| format!("{n}{day}")),
        ];
        let by_day = prop_oneof![
            1 => Just(String::new()),
            1 => prop::collection::vec(day, 1..=3).prop_map(|days| format!(";BYDAY={}", days.join(","))),
        ];
        // An HOURLY or DAILY period holds few candidates (BYMINUTE × BYSECOND, BYHOUR × ...): a position beyond
        // them makes a rule that never occurs, which the crate steps through 99 999 periods to find out (the table
        // tests have such rules); so mostly the first and last there.
        let by_set_pos = if matches!(freq, "HOURLY" | "DAILY") {
            prop_oneof![
                9 => part("BYSETPOS", vec![1, -1], 2, 3),
                1 => part("BYSETPOS", vec![2, -2, 24, -25, 367], 1, 10),
            ]
            .boxed()
        } else {
            part("BYSETPOS", vec![1, 2, 3, -1, -2, -3, 10, -10, 24, -25, 32, 54, -367], 2, 3)
        };
        let until_or_count = prop_oneof![
            6 => Just(String::new()),
            2 => (1..=40u32).prop_map(|n| format!(";COUNT={n}")),
            2 => (0..4000i64, 0..86_400i64).prop_map(|(days, seconds)| format!(";UNTIL=@{days}+{seconds}")),
        ];
        (
            interval,
            by_day,
            part("BYMONTH", (1..=12).collect::<Vec<u32>>(), 3, 3),
            part("BYWEEKNO", vec![1, 2, 10, 26, 52, 53, -1, -2, -52, -53], 2, if yearly { 4 } else { 1 }),
            part("BYYEARDAY", vec![1, 2, 59, 60, 100, 200, 365, 366, -1, -2, -365, -366], 3, if yearly { 3 } else { 1 }),
            part("BYMONTHDAY", vec![1, 2, 15, 28, 29, 30, 31, -1, -2, -3, -28, -29, -30, -31], 2, 3),
            part("BYHOUR", vec![0, 1, 2, 3, 9, 12, 17, 23], 3, 3),
            part("BYMINUTE", vec![0, 15, 30, 59], 2, 2),
            part("BYSECOND", vec![0, 30, 59], 2, 2),
            by_set_pos,
            part("WKST", WEEKDAYS.to_vec(), 1, 3),
            until_or_count,
        )
            .prop_map(
                move |(interval, by_day, month, week_no, year_day, month_day, hour, minute, second, set_pos, wkst, end)| {
                    format!(
                        "FREQ={freq};INTERVAL={interval}{by_day}{month}{week_no}{year_day}{month_day}{hour}{minute}\
                         {second}{set_pos}{wkst}{end}"
                    )
                },
            )
    })
}

/// A start in 9600..=9999 (every kind of year: the calendar repeats every 400 years), at a time of day with or
/// without seconds; and an instant 0 to 800 days after it, to expand from.
fn random_start() -> impl Strategy<Value = (NaiveDateTime, NaiveDateTime)> {
    (
        0..146_097i64,
        0..24u32,
        select(vec![0u32, 15, 30, 59]),
        select(vec![0u32, 30]),
        0..800i64,
        0..86_400i64,
    )
        .prop_map(|(day, hour, minute, second, later, seconds)| {
            let first = NaiveDate::from_ymd_opt(9600, 1, 1).unwrap() + TimeDelta::days(day);
            let start = first.and_hms_opt(hour, minute, second).unwrap();
            (start, start + TimeDelta::days(later) + TimeDelta::seconds(seconds))
        })
}

/// `@days+seconds` in a random rule: an UNTIL that many days and seconds after the start, floating or in UTC.
fn with_until(rule: &str, start: NaiveDateTime) -> String {
    let Some((head, until)) = rule.split_once(";UNTIL=@") else {
        return rule.to_owned();
    };
    let (days, seconds) = until.split_once('+').unwrap();
    let until = start + TimeDelta::days(days.parse().unwrap()) + TimeDelta::seconds(seconds.parse().unwrap());
    let zulu = if until.second().is_multiple_of(2) { "Z" } else { "" };
    if until.hour() == 0 && until.minute() < 30 {
        // A date: the whole day.
        return format!("{head};UNTIL={}", until.format("%Y%m%d"));
    }
    format!("{head};UNTIL={}{zulu}", until.format("%Y%m%dT%H%M%S"))
}

/// Cases per run: 4 000, or `ORACLE_CASES` (a long hunt: `ORACLE_CASES=200000 cargo test --release -p
/// blackday-calendar --lib oracle`).
fn cases() -> u32 {
    std::env::var("ORACLE_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(4_000)
}

proptest! {
    // Failures are shown, not saved: a regression found here becomes a named test.
    #![proptest_config(Config { cases: cases(), failure_persistence: None, ..Config::default() })]

    #[test]
    fn the_engine_agrees_with_the_rrule_crate(rule in random_rule(), (start, from) in random_start()) {
        let rule = with_until(&rule, start);
        if let Err(problem) = agree(&rule, start, from) {
            prop_assert!(false, "{}", problem);
        }
    }
}

#[test]
fn most_random_rules_are_accepted_so_the_comparison_means_something() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (rules, starts) = (random_rule(), random_start());
    let accepted = (0..1000)
        .filter(|_| {
            let (start, _) = starts.new_tree(&mut runner).unwrap().current();
            let rule = with_until(&rules.new_tree(&mut runner).unwrap().current(), start);
            rule::check(&rule, Zone::UTC).is_ok_and(|checked| expandable(&checked, start).is_ok())
        })
        .count();
    assert!(accepted >= 600, "only {accepted} of 1000 random rules are accepted");
}
