//! Wall-clock times to instants, the way a calendar reads them (see [`crate::zone`]).

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};

use super::database::Zone;

/// The instant at which a wall clock in `zone` first reaches `local` (see the module documentation).
pub fn resolve(zone: Zone, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => first_after_gap(zone, local),
    }
}

/// The latest instant a wall-clock reading can mean: a time inside a spring-forward gap is read with the offset
/// before the gap (RFC 5545 §3.3.5: 02:30 becomes 03:30 after a one-hour change), and a time that happens twice is
/// the later instant. Never earlier than [`resolve`].
pub fn resolve_end(zone: Zone, local: NaiveDateTime) -> DateTime<Utc> {
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
pub fn rfc_local(zone: Zone, local: NaiveDateTime) -> NaiveDateTime {
    match zone.from_local_datetime(&local) {
        LocalResult::None => resolve_end(zone, local).with_timezone(&zone).naive_local(),
        _ => local,
    }
}

/// The first instant after a spring-forward gap containing `local`: the first wall-clock minute after `local` that
/// exists (every transition of the time zone database since 1970 falls on a whole minute).
fn first_after_gap(zone: Zone, local: NaiveDateTime) -> DateTime<Utc> {
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

    fn zone(name: &str) -> Zone {
        Zone::named(name).unwrap()
    }
    #[test]
    fn ends_resolve_gaps_with_the_offset_before_and_overlaps_to_the_later_instant() {
        let cases = [
            (zone("Europe/Berlin"), local(2026, 1, 15, 12, 0), "2026-01-15T11:00:00Z"),
            // Spring forward: 02:30 is read with +01:00, i.e. 03:30 CEST.
            (zone("Europe/Berlin"), local(2026, 3, 29, 2, 30), "2026-03-29T01:30:00Z"),
            (zone("Europe/Berlin"), local(2026, 3, 29, 2, 0), "2026-03-29T01:00:00Z"),
            // Fall back: the later 02:30 (CET).
            (
                zone("Europe/Berlin"),
                local(2026, 10, 25, 2, 30),
                "2026-10-25T01:30:00Z",
            ),
            // Southern hemisphere, half-hour offset: Adelaide springs 02:00 ACST -> 03:00 ACDT on 2026-10-04
            // (16:30Z the day before) and falls back 03:00 ACDT -> 02:00 ACST on 2026-04-05 (16:30Z the day before).
            (
                zone("Australia/Adelaide"),
                local(2026, 10, 4, 2, 15),
                "2026-10-03T16:45:00Z",
            ),
            (
                zone("Australia/Adelaide"),
                local(2026, 4, 5, 2, 15),
                "2026-04-04T16:45:00Z",
            ),
            // Lord Howe changes by half an hour: 02:00 -> 02:30 (+10:30 -> +11:00) on 2026-10-04.
            (
                zone("Australia/Lord_Howe"),
                local(2026, 10, 4, 2, 10),
                "2026-10-03T15:40:00Z",
            ),
        ];
        for (zone, wall, expected) in cases {
            assert_eq!(resolve_end(zone, wall), utc(expected), "{zone} {wall}");
            assert!(resolve_end(zone, wall) >= resolve(zone, wall), "{zone} {wall}");
        }
        assert_eq!(
            rfc_local(zone("Europe/Berlin"), local(2026, 3, 29, 2, 30)),
            local(2026, 3, 29, 3, 30)
        );
        assert_eq!(
            rfc_local(zone("Europe/Berlin"), local(2026, 10, 25, 2, 30)),
            local(2026, 10, 25, 2, 30)
        );
    }

    #[test]
    fn resolves_gaps_to_the_change_and_overlaps_to_the_earlier_instant() {
        let berlin = zone("Europe/Berlin");
        let new_york = zone("America/New_York");
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
