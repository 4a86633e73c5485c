//! Time zone names, and turning a wall-clock time into an instant.
//!
//! # Which names are accepted
//! A name is accepted when it is exactly `"UTC"` or `"Etc/UTC"`, or when it is an `Area/Location` name of the IANA
//! time zone database that `chrono-tz` knows (`"Europe/Berlin"`, `"America/Chicago"`, `"US/Eastern"`), spelled with
//! the database's capitals. Refused, each with the name of the field and the IANA name to write instead:
//! - abbreviations (`"CST"`, `"EST"`, `"IST"`, `"PST"`, `"GMT"`): several places share them ("CST" is US Central,
//!   China and Cuba), and the fixed ones (`"EST"`, `"MST"`, `"HST"`) never follow daylight saving time;
//! - the old POSIX-style and country aliases without a `/` (`"CST6CDT"`, `"EST5EDT"`, `"Japan"`, `"GB"`, `"Zulu"`);
//! - the `Etc/` fixed offsets other than `Etc/UTC` (`"Etc/GMT+5"` is UTC−5: its sign is the reverse of what people
//!   read);
//! - Windows names (`"W. Europe Standard Time"`) and anything else the database does not know.
//!
//! # Wall-clock times on daylight-saving days
//! Every period is written in wall-clock time of its zone. A wall-clock time is the instant when a clock on the wall
//! of that zone *first reaches it* ([`resolve`]):
//! - a time that does not exist because the clocks spring forward (02:30 on a spring-forward night in Berlin or New
//!   York) is the first instant after the gap (03:00 local time, the moment of the change);
//! - a time that happens twice because the clocks fall back (02:30 on a fall-back night in Berlin, 01:30 in New York)
//!   is the earlier of the two instants.
//!
//! That is the reading of a blackout's **start**. A blackout's **end** is read the other way, so that no reading
//! makes a blackout shorter than RFC 5545 would ([`resolve_end`]):
//! - an end inside a gap is read with the offset in force before the gap, as RFC 5545 §3.3.5 says (02:30 on a
//!   spring-forward night in Berlin is 03:30 CEST), so a blackout from 01:30 to 02:30 still lasts one real hour;
//! - an end that happens twice is the later instant.
//!
//! Allowed windows are read the opposite way round (a start by [`resolve_end`], an end by [`resolve`]), so a window
//! is never longer than any reading of it: every choice errs toward holding a release.

use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::error::Error;

/// Why a zone name was refused, and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ZoneProblem {
    pub problem: String,
    pub fix: String,
}

/// Parses a time zone name under the policy of this module.
pub(crate) fn parse_zone(name: &str) -> Result<Tz, ZoneProblem> {
    accepted(name).ok_or_else(|| refusal(name))
}

fn accepted(name: &str) -> Option<Tz> {
    if name == "UTC" || name == "Etc/UTC" {
        return Some(Tz::UTC);
    }
    if name.contains('/') && !name.starts_with("Etc/") {
        return Tz::from_str(name).ok();
    }
    None
}

/// [`parse_zone`] with the refusal as an [`Error`] located at `field` (`"--zone"`, `"at `timezone`"`).
pub(crate) fn parse_zone_named(name: &str, field: &str) -> Result<Tz, Error> {
    parse_zone(name).map_err(|refused| Error::new(field, refused.problem, refused.fix))
}

fn refusal(name: &str) -> ZoneProblem {
    let trimmed = name.trim();
    let upper = trimmed.to_ascii_uppercase();
    if let Some((_, places)) = ABBREVIATIONS.iter().find(|(abbr, _)| *abbr == upper) {
        return ZoneProblem {
            problem: format!(
                "\"{name}\" is a time zone abbreviation, not an IANA time zone: abbreviations are ambiguous \
                 and do not say when daylight saving time applies"
            ),
            fix: format!("write the IANA name of the place, e.g. {}", suggestions(places)),
        };
    }
    if let Some((_, place)) = WINDOWS
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(trimmed))
    {
        return ZoneProblem {
            problem: format!("\"{name}\" is a Windows time zone name, not an IANA time zone"),
            fix: format!("write the IANA name, e.g. \"{place}\""),
        };
    }
    if trimmed.starts_with("Etc/") || trimmed.starts_with("etc/") {
        return ZoneProblem {
            problem: format!(
                "\"{name}\" is a fixed UTC offset without daylight saving time (and Etc/GMT+N means UTC-N)"
            ),
            fix: "write the IANA name of the place, e.g. \"Europe/Berlin\", or \"UTC\"".to_owned(),
        };
    }
    if let Some((_, place)) = ALIASES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(trimmed)) {
        return ZoneProblem {
            problem: format!("\"{name}\" is a legacy alias, not an Area/Location IANA time zone name"),
            fix: format!("write the IANA name, e.g. \"{place}\""),
        };
    }
    if let Some(zone) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|zone| zone.name().eq_ignore_ascii_case(trimmed) && accepted(zone.name()).is_some())
    {
        return ZoneProblem {
            problem: format!("\"{name}\" is not spelled as the IANA time zone database spells it"),
            fix: format!("write \"{}\"", zone.name()),
        };
    }
    if Tz::from_str(trimmed).is_ok() {
        return ZoneProblem {
            problem: format!("\"{name}\" is a legacy alias, not an Area/Location IANA time zone name"),
            fix: "write the IANA name of the place as Area/Location, e.g. \"Europe/Berlin\", \"America/Chicago\", \
                  or \"UTC\""
                .to_owned(),
        };
    }
    ZoneProblem {
        problem: format!("\"{name}\" is not an IANA time zone name"),
        fix: "write the IANA name of the place as Area/Location, e.g. \"Europe/Berlin\", \"America/Chicago\", \
              or \"UTC\""
            .to_owned(),
    }
}

fn suggestions(places: &[(&str, &str)]) -> String {
    places
        .iter()
        .map(|(zone, meaning)| format!("\"{zone}\" ({meaning})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Common abbreviations people write instead of a zone, with the places they usually mean.
const ABBREVIATIONS: &[(&str, &[(&str, &str)])] = &[
    (
        "CST",
        &[
            ("America/Chicago", "US Central"),
            ("Asia/Shanghai", "China"),
            ("America/Havana", "Cuba"),
        ],
    ),
    ("CDT", &[("America/Chicago", "US Central")]),
    ("EST", &[("America/New_York", "US Eastern")]),
    ("EDT", &[("America/New_York", "US Eastern")]),
    (
        "MST",
        &[("America/Denver", "US Mountain"), ("America/Phoenix", "Arizona")],
    ),
    ("MDT", &[("America/Denver", "US Mountain")]),
    (
        "PST",
        &[("America/Los_Angeles", "US Pacific"), ("Asia/Manila", "Philippines")],
    ),
    ("PDT", &[("America/Los_Angeles", "US Pacific")]),
    ("AKST", &[("America/Anchorage", "Alaska")]),
    ("HST", &[("Pacific/Honolulu", "Hawaii")]),
    (
        "IST",
        &[
            ("Asia/Kolkata", "India"),
            ("Europe/Dublin", "Ireland"),
            ("Asia/Jerusalem", "Israel"),
        ],
    ),
    (
        "BST",
        &[("Europe/London", "British Summer Time"), ("Asia/Dhaka", "Bangladesh")],
    ),
    (
        "GMT",
        &[("UTC", "no daylight saving time"), ("Europe/London", "UK time")],
    ),
    ("UT", &[("UTC", "Coordinated Universal Time")]),
    ("Z", &[("UTC", "Coordinated Universal Time")]),
    ("CET", &[("Europe/Berlin", "Germany"), ("Europe/Paris", "France")]),
    ("CEST", &[("Europe/Berlin", "Germany"), ("Europe/Paris", "France")]),
    ("MET", &[("Europe/Berlin", "Germany")]),
    ("EET", &[("Europe/Helsinki", "Finland"), ("Europe/Athens", "Greece")]),
    ("EEST", &[("Europe/Helsinki", "Finland"), ("Europe/Athens", "Greece")]),
    ("WET", &[("Europe/Lisbon", "Portugal")]),
    ("WEST", &[("Europe/Lisbon", "Portugal")]),
    ("MSK", &[("Europe/Moscow", "Moscow")]),
    ("JST", &[("Asia/Tokyo", "Japan")]),
    ("KST", &[("Asia/Seoul", "South Korea")]),
    ("SGT", &[("Asia/Singapore", "Singapore")]),
    ("HKT", &[("Asia/Hong_Kong", "Hong Kong")]),
    (
        "AEST",
        &[
            ("Australia/Sydney", "New South Wales"),
            ("Australia/Brisbane", "Queensland"),
        ],
    ),
    ("AEDT", &[("Australia/Sydney", "New South Wales")]),
    (
        "ACST",
        &[
            ("Australia/Adelaide", "South Australia"),
            ("Australia/Darwin", "Northern Territory"),
        ],
    ),
    ("AWST", &[("Australia/Perth", "Western Australia")]),
    ("NZST", &[("Pacific/Auckland", "New Zealand")]),
    ("NZDT", &[("Pacific/Auckland", "New Zealand")]),
    ("BRT", &[("America/Sao_Paulo", "Brazil")]),
    ("AST", &[("America/Halifax", "Atlantic"), ("Asia/Riyadh", "Arabia")]),
];

/// Legacy names without a `/` that chrono-tz knows, with the place they stand for.
const ALIASES: &[(&str, &str)] = &[
    ("CST6CDT", "America/Chicago"),
    ("EST5EDT", "America/New_York"),
    ("MST7MDT", "America/Denver"),
    ("PST8PDT", "America/Los_Angeles"),
    ("UCT", "UTC"),
    ("Universal", "UTC"),
    ("Zulu", "UTC"),
    ("Greenwich", "UTC"),
    ("GMT0", "UTC"),
    ("GMT+0", "UTC"),
    ("GMT-0", "UTC"),
    ("GB", "Europe/London"),
    ("GB-Eire", "Europe/London"),
    ("Eire", "Europe/Dublin"),
    ("Japan", "Asia/Tokyo"),
    ("PRC", "Asia/Shanghai"),
    ("ROC", "Asia/Taipei"),
    ("ROK", "Asia/Seoul"),
    ("Singapore", "Asia/Singapore"),
    ("Hongkong", "Asia/Hong_Kong"),
    ("Israel", "Asia/Jerusalem"),
    ("Turkey", "Europe/Istanbul"),
    ("Poland", "Europe/Warsaw"),
    ("Portugal", "Europe/Lisbon"),
    ("Iceland", "Atlantic/Reykjavik"),
    ("Egypt", "Africa/Cairo"),
    ("Cuba", "America/Havana"),
    ("Jamaica", "America/Jamaica"),
    ("Navajo", "America/Denver"),
    ("NZ", "Pacific/Auckland"),
    ("W-SU", "Europe/Moscow"),
];

/// The Windows zone names Outlook and Exchange write most often (CLDR windowsZones, territory 001).
const WINDOWS: &[(&str, &str)] = &[
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("GMT Standard Time", "Europe/London"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kyiv"),
    ("India Standard Time", "Asia/Kolkata"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
];

/// The instant at which a wall clock in `zone` first reaches `local` (see the module documentation).
pub fn resolve(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => first_after_gap(zone, local),
    }
}

/// The latest instant a wall-clock reading can mean: a time inside a spring-forward gap is read with the offset
/// before the gap (RFC 5545 §3.3.5: 02:30 becomes 03:30 after a one-hour change), and a time that happens twice is
/// the later instant. Never earlier than [`resolve`].
pub fn resolve_end(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.max(b).with_timezone(&Utc),
        LocalResult::None => {
            let change = first_after_gap(zone, local);
            // The offset before the gap is the one in force a moment before the change. (At the ends of the
            // representable dates, where chrono also answers "no such time", the change is the answer.)
            let moment_before = change.naive_utc().checked_sub_signed(TimeDelta::seconds(1));
            let reading = moment_before.and_then(|moment| {
                let before = zone.offset_from_utc_datetime(&moment).fix().local_minus_utc();
                local.checked_sub_signed(TimeDelta::seconds(i64::from(before)))
            });
            reading.map_or(change, |reading| reading.and_utc().max(change))
        }
    }
}

/// The wall-clock time RFC 5545 means by `local`: itself, or, inside a spring-forward gap, the time the gap's length
/// later (02:30 on a one-hour spring-forward night is 03:30).
pub fn rfc_local(zone: Tz, local: NaiveDateTime) -> NaiveDateTime {
    match zone.from_local_datetime(&local) {
        LocalResult::None => resolve_end(zone, local).with_timezone(&zone).naive_local(),
        _ => local,
    }
}

/// The first instant after a spring-forward gap containing `local`: the first wall-clock minute after `local` that
/// exists (every transition of the time zone database since 1970 falls on a whole minute).
fn first_after_gap(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut candidate = local.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(local);
    // Gaps are at most a day long (Samoa skipped 2011-12-30).
    for _ in 0..=(24 * 60) {
        let Some(next) = candidate.checked_add_signed(TimeDelta::minutes(1)) else {
            break;
        };
        candidate = next;
        match zone.from_local_datetime(&candidate) {
            LocalResult::Single(at) => return at.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => return a.min(b).with_timezone(&Utc),
            LocalResult::None => {}
        }
    }
    // Not reached with the time zone database: read the time with the offset in force at that UTC reading.
    // At the ends of the representable dates: the nearest end.
    let offset = zone.offset_from_utc_datetime(&local).fix().local_minus_utc();
    match local.checked_sub_signed(TimeDelta::seconds(i64::from(offset))) {
        Some(utc) => utc.and_utc(),
        None if offset > 0 => DateTime::<Utc>::MIN_UTC,
        None => DateTime::<Utc>::MAX_UTC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn accepts_iana_area_location_names_and_utc() {
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "America/Argentina/Buenos_Aires",
            "US/Eastern",
        ] {
            assert_eq!(parse_zone(name).unwrap().name(), name);
        }
        assert_eq!(parse_zone("UTC").unwrap(), Tz::UTC);
        assert_eq!(parse_zone("Etc/UTC").unwrap(), Tz::UTC);
    }

    #[test]
    fn refuses_abbreviations_aliases_offsets_and_unknown_names_with_a_suggestion() {
        let cases = [
            ("CST", "abbreviation", "\"America/Chicago\" (US Central)"),
            ("cst", "abbreviation", "\"Asia/Shanghai\" (China)"),
            ("EST", "abbreviation", "\"America/New_York\""),
            ("IST", "abbreviation", "\"Asia/Kolkata\" (India)"),
            ("PST", "abbreviation", "\"America/Los_Angeles\""),
            ("GMT", "abbreviation", "\"UTC\""),
            ("CST6CDT", "legacy alias", "\"America/Chicago\""),
            ("Japan", "legacy alias", "\"Asia/Tokyo\""),
            ("Etc/GMT+5", "fixed UTC offset", "\"UTC\""),
            ("europe/berlin", "not spelled", "write \"Europe/Berlin\""),
            ("W. Europe Standard Time", "Windows", "\"Europe/Berlin\""),
            ("Mars/Olympus_Mons", "not an IANA time zone", "Area/Location"),
            ("", "not an IANA time zone", "Area/Location"),
        ];
        for (name, problem, fix) in cases {
            let refused = parse_zone(name).unwrap_err();
            assert!(refused.problem.contains(problem), "{name}: {refused:?}");
            assert!(refused.fix.contains(fix), "{name}: {refused:?}");
        }
    }

    #[test]
    fn every_database_name_is_either_accepted_or_refused_with_a_fix() {
        for zone in chrono_tz::TZ_VARIANTS {
            match parse_zone(zone.name()) {
                Ok(parsed) if zone.name() == "Etc/UTC" => assert_eq!(parsed, Tz::UTC),
                Ok(parsed) => assert_eq!(parsed, zone),
                Err(refused) => assert!(refused.fix.starts_with("write"), "{}: {refused:?}", zone.name()),
            }
        }
    }

    #[test]
    fn every_suggested_name_is_accepted() {
        let abbreviated = ABBREVIATIONS
            .iter()
            .flat_map(|(_, places)| places.iter().map(|(zone, _)| *zone));
        let others = ALIASES.iter().chain(WINDOWS).map(|(_, zone)| *zone);
        for zone in abbreviated.chain(others) {
            assert!(parse_zone(zone).is_ok(), "{zone}");
        }
    }

    #[test]
    fn ends_resolve_gaps_with_the_offset_before_and_overlaps_to_the_later_instant() {
        let cases = [
            (Tz::Europe__Berlin, local(2026, 1, 15, 12, 0), "2026-01-15T11:00:00Z"),
            // Spring forward: 02:30 is read with +01:00, i.e. 03:30 CEST.
            (Tz::Europe__Berlin, local(2026, 3, 29, 2, 30), "2026-03-29T01:30:00Z"),
            (Tz::Europe__Berlin, local(2026, 3, 29, 2, 0), "2026-03-29T01:00:00Z"),
            // Fall back: the later 02:30 (CET).
            (Tz::Europe__Berlin, local(2026, 10, 25, 2, 30), "2026-10-25T01:30:00Z"),
            // Southern hemisphere, half-hour offset: Adelaide springs 02:00 ACST -> 03:00 ACDT on 2026-10-04
            // (16:30Z the day before) and falls back 03:00 ACDT -> 02:00 ACST on 2026-04-05 (16:30Z the day before).
            (
                Tz::Australia__Adelaide,
                local(2026, 10, 4, 2, 15),
                "2026-10-03T16:45:00Z",
            ),
            (
                Tz::Australia__Adelaide,
                local(2026, 4, 5, 2, 15),
                "2026-04-04T16:45:00Z",
            ),
            // Lord Howe changes by half an hour: 02:00 -> 02:30 (+10:30 -> +11:00) on 2026-10-04.
            (
                Tz::Australia__Lord_Howe,
                local(2026, 10, 4, 2, 10),
                "2026-10-03T15:40:00Z",
            ),
        ];
        for (zone, wall, expected) in cases {
            assert_eq!(resolve_end(zone, wall), utc(expected), "{zone} {wall}");
            assert!(resolve_end(zone, wall) >= resolve(zone, wall), "{zone} {wall}");
        }
        assert_eq!(
            rfc_local(Tz::Europe__Berlin, local(2026, 3, 29, 2, 30)),
            local(2026, 3, 29, 3, 30)
        );
        assert_eq!(
            rfc_local(Tz::Europe__Berlin, local(2026, 10, 25, 2, 30)),
            local(2026, 10, 25, 2, 30)
        );
    }

    #[test]
    fn resolves_gaps_to_the_change_and_overlaps_to_the_earlier_instant() {
        let berlin = Tz::Europe__Berlin;
        let new_york = Tz::America__New_York;
        let cases = [
            // Ordinary times.
            (berlin, local(2026, 1, 15, 12, 0), "2026-01-15T11:00:00Z"),
            (new_york, local(2026, 7, 1, 9, 0), "2026-07-01T13:00:00Z"),
            // Spring forward: Berlin 2026-03-29 02:00 -> 03:00 (01:00Z); New York 2026-03-08 02:00 -> 03:00 (07:00Z).
            (berlin, local(2026, 3, 29, 2, 0), "2026-03-29T01:00:00Z"),
            (berlin, local(2026, 3, 29, 2, 30), "2026-03-29T01:00:00Z"),
            (berlin, local(2026, 3, 29, 3, 0), "2026-03-29T01:00:00Z"),
            (new_york, local(2026, 3, 8, 2, 30), "2026-03-08T07:00:00Z"),
            (new_york, local(2026, 3, 8, 1, 59), "2026-03-08T06:59:00Z"),
            // Fall back: Berlin 2026-10-25 03:00 -> 02:00 (01:00Z); New York 2026-11-01 02:00 -> 01:00 (06:00Z).
            (berlin, local(2026, 10, 25, 2, 30), "2026-10-25T00:30:00Z"),
            (berlin, local(2026, 10, 25, 3, 0), "2026-10-25T02:00:00Z"),
            (new_york, local(2026, 11, 1, 1, 30), "2026-11-01T05:30:00Z"),
            (new_york, local(2026, 11, 1, 2, 0), "2026-11-01T07:00:00Z"),
        ];
        for (zone, wall, expected) in cases {
            assert_eq!(resolve(zone, wall), utc(expected), "{zone} {wall}");
        }
    }
}
