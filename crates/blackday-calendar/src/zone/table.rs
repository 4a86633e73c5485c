//! The offsets of one zone, read from its TZif data: one table of the instants at which the local time type
//! changes, which answers both directions (an instant to its local time type, a wall-clock reading to the instants
//! that show it) by binary search.
//!
//! A TZif file lists the zone's past changes explicitly and ends with a POSIX TZ rule (its "footer",
//! `CET-1CEST,M3.5.0,M10.5.0/3` for Berlin) for every instant after the last one. The database compiled in is in the
//! "slim" form: Berlin's explicit changes end in 1996, and everything since comes from the rule. The table holds the
//! explicit changes followed by the rule's changes over one whole 400-year cycle of the Gregorian calendar, after
//! which leap years and weekdays (so every POSIX rule) repeat exactly: an instant beyond the table is read
//! whole cycles earlier, and the answer moved back by as many cycles.

use chrono::{DateTime, Datelike, FixedOffset, MappedLocalTime};
use tz::timezone::{AlternateTime, RuleDay, TransitionRule};
use tz::{LocalTimeType, TimeZone, TimeZoneRef};

use crate::civil;

const DAY: i64 = 86_400;

/// 400 Gregorian years in seconds: 146 097 days, a whole number of weeks.
const CYCLE: i64 = 146_097 * DAY;

/// A local time type: the offset from UTC and its designation (`"CEST"`, `"+0545"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Kind {
    pub(super) offset: FixedOffset,
    pub(super) abbreviation: &'static str,
}

impl Kind {
    pub(super) const UTC: Kind = Kind {
        offset: FixedOffset::east_opt(0).expect("zero is a valid offset"),
        abbreviation: "UTC",
    };

    fn seconds(&self) -> i64 {
        i64::from(self.offset.local_minus_utc())
    }
}

/// Where the rule's changes repeat: every instant from `from` on (and before it too when the zone has no explicit
/// changes) reads as the instant a whole number of cycles away in `[from, from + CYCLE)`.
#[derive(Debug, Clone, Copy)]
struct Repeat {
    from: i64,
    backwards_too: bool,
}

/// The local time types of one zone over all time.
#[derive(Debug)]
pub(super) struct Table {
    kinds: &'static [Kind],
    /// The kind before the first change (at every instant when there is none).
    first: u16,
    /// The instants (Unix seconds, ascending, each a real change of kind) and the kind from each on.
    at: &'static [i64],
    after: &'static [u16],
    repeat: Option<Repeat>,
    /// The smallest and largest offsets of any kind, in seconds: the instants a wall-clock reading can mean lie
    /// between the reading minus the largest and the reading minus the smallest.
    lowest: i64,
    highest: i64,
}

/// A place in the table: the index of the first change after an instant, and how many seconds the instant was
/// moved (whole cycles) to fall inside the table.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    index: usize,
    shift: i64,
}

impl Table {
    /// UTC: one kind, no changes.
    pub(super) const UTC: Table = Table {
        kinds: &[Kind::UTC],
        first: 0,
        at: &[],
        after: &[],
        repeat: None,
        lowest: 0,
        highest: 0,
    };

    /// The table of a TZif file, or `None` when the data cannot be read or has what this table does not model
    /// (leap seconds, an offset of a day or more, more than 65 536 local time types).
    pub(super) fn from_tzif(bytes: &[u8]) -> Option<Table> {
        Table::from_zone(TimeZone::from_tz_data(bytes).ok()?.as_ref())
    }

    /// The table of a zone read by tz-rs.
    fn from_zone(zone: TimeZoneRef<'_>) -> Option<Table> {
        if !zone.leap_seconds().is_empty() {
            return None;
        }
        let mut kinds = Vec::new();
        let types = zone
            .local_time_types()
            .iter()
            .map(|kind| intern(&mut kinds, kind))
            .collect::<Option<Vec<u16>>>()?;
        // RFC 8536 §3.2: before the first transition, local time type 0.
        let mut first = *types.first()?;
        let mut changes = zone
            .transitions()
            .iter()
            .map(|change| Some((change.unix_leap_time(), *types.get(change.local_time_type_index())?)))
            .collect::<Option<Vec<(i64, u16)>>>()?;
        let last_explicit = changes.last().map(|&(at, _)| at);
        let mut repeat_from = None;
        match zone.extra_rule() {
            // The footer holds from the last transition on, and agrees with its type (tz-rs checks that); with no
            // transitions at all, it holds everywhere.
            Some(TransitionRule::Fixed(kind)) if changes.is_empty() => first = intern(&mut kinds, kind)?,
            None | Some(TransitionRule::Fixed(_)) => {}
            Some(TransitionRule::Alternate(rule)) => {
                let standard = intern(&mut kinds, rule.std())?;
                let daylight = intern(&mut kinds, rule.dst())?;
                let base_year = match last_explicit {
                    Some(at) => i64::from(DateTime::from_timestamp(at, 0)?.year()),
                    None => 1970,
                };
                let from = days_from_civil(base_year + 2, 1, 1) * DAY;
                repeat_from = Some(from);
                // The rule's changes after the last explicit one, through one whole cycle from `from` and a year
                // beyond it (so a change after any instant of the cycle is in the table).
                let mut generated = Vec::new();
                for year in base_year - 1..=base_year + 2 + 400 + 1 {
                    let (starts, ends) = rule_changes(rule, year);
                    for (at, kind) in [(starts, daylight), (ends, standard)] {
                        if last_explicit.is_none_or(|last| at > last) {
                            generated.push((at, kind));
                        }
                    }
                }
                // Stable: of two changes at one instant (a rule with daylight time all year ends one year's
                // daylight time as the next one's starts), the later year's stays last and wins.
                generated.sort_by_key(|&(at, _)| at);
                if changes.is_empty() {
                    first = standard;
                }
                changes.extend(generated);
            }
        }
        let mut at = Vec::with_capacity(changes.len());
        let mut after = Vec::with_capacity(changes.len());
        let mut current = first;
        for (index, &(instant, kind)) in changes.iter().enumerate() {
            let overtaken = changes.get(index + 1).is_some_and(|&(next, _)| next == instant);
            if overtaken || kind == current {
                continue;
            }
            at.push(instant);
            after.push(kind);
            current = kind;
        }
        let repeat = repeat_from
            .filter(|&from| at.last().is_some_and(|&last| last >= from))
            .map(|from| Repeat {
                from,
                backwards_too: last_explicit.is_none(),
            });
        let kinds = kinds
            .into_iter()
            .map(|(seconds, abbreviation)| {
                let offset = FixedOffset::east_opt(seconds)?;
                Some((offset, abbreviation))
            })
            .collect::<Option<Vec<_>>>()?;
        let lowest = kinds.iter().map(|(offset, _)| offset.local_minus_utc()).min()?;
        let highest = kinds.iter().map(|(offset, _)| offset.local_minus_utc()).max()?;
        // Everything is checked: from here on the table lives as long as the process (one per zone name).
        let kinds = kinds
            .into_iter()
            .map(|(offset, abbreviation)| Kind {
                offset,
                abbreviation: Box::leak(abbreviation.into_boxed_str()),
            })
            .collect::<Vec<_>>();
        Some(Table {
            kinds: Box::leak(kinds.into_boxed_slice()),
            first,
            at: Box::leak(at.into_boxed_slice()),
            after: Box::leak(after.into_boxed_slice()),
            repeat,
            lowest: i64::from(lowest),
            highest: i64::from(highest),
        })
    }

    /// The kind in force at `utc` (Unix seconds).
    pub(super) fn kind_at(&'static self, utc: i64) -> &'static Kind {
        let cursor = self.cursor(utc);
        self.kind_before(cursor.index)
    }

    /// The kinds whose offset make the wall-clock reading `local` (Unix seconds of the reading as if it were UTC)
    /// show at some instant: none in a gap, two (the earlier instant first) in an overlap. Where a reading shows
    /// more than twice (changes closer together than their size), the earliest and the latest.
    pub(super) fn kinds_showing(&'static self, local: i64) -> MappedLocalTime<&'static Kind> {
        // The instants that can show `local` lie in [local - highest, local - lowest]; walk the kinds in force
        // over that stretch, and keep each whose offset puts the reading inside its own time.
        let (earliest, latest) = (local - self.highest, local - self.lowest);
        let mut cursor = self.cursor(earliest);
        let (mut first, mut last) = (None, None);
        loop {
            let kind = self.kind_before(cursor.index);
            let begins = cursor.index.checked_sub(1).map(|index| self.at[index] + cursor.shift);
            let ends = self.at.get(cursor.index).map(|&at| at + cursor.shift);
            let instant = local - kind.seconds();
            if begins.is_none_or(|begins| begins <= instant) && ends.is_none_or(|ends| instant < ends) {
                match first {
                    None => first = Some(kind),
                    Some(_) => last = Some(kind),
                }
            }
            match ends {
                Some(ends) if ends <= latest => cursor.index += 1,
                _ => break,
            }
        }
        match (first, last) {
            (Some(first), Some(last)) => MappedLocalTime::Ambiguous(first, last),
            (Some(only), None) => MappedLocalTime::Single(only),
            (None, _) => MappedLocalTime::None,
        }
    }

    /// The changes at instants in `[from, to)`: when each happens and the kind from then on.
    #[cfg(test)]
    pub(super) fn changes(&'static self, from: i64, to: i64) -> Vec<(i64, &'static Kind)> {
        let mut cursor = self.cursor(from);
        let mut changes = Vec::new();
        while let Some(&at) = self.at.get(cursor.index) {
            let at = at + cursor.shift;
            if at >= to {
                break;
            }
            changes.push((at, &self.kinds[usize::from(self.after[cursor.index])]));
            cursor.index += 1;
            if cursor.index == self.at.len() {
                // Past the end of the table: go on from the change, read whole cycles earlier.
                cursor = self.cursor(at);
            }
        }
        changes
    }

    /// The kind in force at `utc` read straight from the table, without moving it by whole cycles: the same as
    /// [`Table::kind_at`] as far as the table reaches.
    #[cfg(test)]
    pub(super) fn kind_at_unmoved(&'static self, utc: i64) -> &'static Kind {
        self.kind_before(self.at.partition_point(|&at| at <= utc))
    }

    /// The instant the table's last change happens at.
    #[cfg(test)]
    pub(super) fn reach(&self) -> Option<i64> {
        self.at.last().copied()
    }

    /// Whether instants are read whole cycles earlier, and from when.
    #[cfg(test)]
    pub(super) fn repeats_from(&self) -> Option<i64> {
        self.repeat.map(|repeat| repeat.from)
    }

    fn cursor(&self, utc: i64) -> Cursor {
        let shift = match self.repeat {
            Some(Repeat { from, backwards_too })
                if utc >= from.saturating_add(CYCLE) || (backwards_too && utc < from) =>
            {
                // `from` is a year after 1970 and every instant chrono represents is within 2^43 s of it.
                utc - (from + (utc - from).rem_euclid(CYCLE))
            }
            _ => 0,
        };
        let moved = utc - shift;
        Cursor {
            index: self.at.partition_point(|&at| at <= moved),
            shift,
        }
    }

    fn kind_before(&'static self, index: usize) -> &'static Kind {
        let kind = match index.checked_sub(1) {
            None => self.first,
            Some(last) => self.after[last],
        };
        &self.kinds[usize::from(kind)]
    }
}

/// The index of `kind` among `kinds` (offset in seconds, designation), added if new.
fn intern(kinds: &mut Vec<(i32, String)>, kind: &LocalTimeType) -> Option<u16> {
    let seconds = kind.ut_offset();
    let abbreviation = kind.time_zone_designation();
    let index = match kinds
        .iter()
        .position(|(offset, name)| *offset == seconds && name == abbreviation)
    {
        Some(index) => index,
        None => {
            kinds.push((seconds, abbreviation.to_owned()));
            kinds.len() - 1
        }
    };
    u16::try_from(index).ok()
}

/// When the rule's daylight time starts and ends in `year` (Unix seconds). A rule's times of day may lie outside
/// 0–24 h (`M3.5.0/-1`, `J365/25`), so the instants may fall in a neighbouring year.
fn rule_changes(rule: &AlternateTime, year: i64) -> (i64, i64) {
    let starts =
        rule_day(rule.dst_start(), year) * DAY + i64::from(rule.dst_start_time()) - i64::from(rule.std().ut_offset());
    let ends =
        rule_day(rule.dst_end(), year) * DAY + i64::from(rule.dst_end_time()) - i64::from(rule.dst().ut_offset());
    (starts, ends)
}

/// The day (days since 1970-01-01) a POSIX rule's date falls on in `year`.
fn rule_day(day: &RuleDay, year: i64) -> i64 {
    let january_first = days_from_civil(year, 1, 1);
    match day {
        // `Jn`: 1–365, February 29 never counted.
        RuleDay::Julian1WithoutLeap(day) => {
            let day = i64::from(day.get());
            january_first + day - 1 + i64::from(civil::is_leap(year) && day >= 60)
        }
        // `n`: 0–365, February 29 counted (365 in a common year is January 1 of the next).
        RuleDay::Julian0WithLeap(day) => january_first + i64::from(day.get()),
        // `Mm.w.d`: weekday `d` (0 is Sunday) of week `w` of month `m`, week 5 being the last.
        RuleDay::MonthWeekDay(day) => {
            let month = i64::from(day.month());
            let first = days_from_civil(year, month, 1);
            // 1970-01-01 was a Thursday.
            let first_weekday = (first + 4).rem_euclid(7);
            let mut offset =
                (i64::from(day.week_day()) - first_weekday).rem_euclid(7) + (i64::from(day.week()) - 1) * 7;
            if offset >= i64::from(civil::days_in_month(year, day.month().into())) {
                offset -= 7;
            }
            first + offset
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::database::{Zone, names};
    use crate::zone::oracle::Draw;
    use chrono::NaiveDate;
    use tz::timezone::Transition;

    /// Past the first cycle, instants read whole cycles earlier: the answers are the table's own, as far as it
    /// reaches (a year past the cycle).
    #[test]
    fn instants_past_the_cycle_read_as_the_table_does() {
        let mut repeating = 0;
        for name in names() {
            let table = &Zone::named(name).unwrap().data().table;
            let (Some(from), Some(reach)) = (table.repeats_from(), table.reach()) else {
                continue;
            };
            repeating += 1;
            let changes = table.changes(from + CYCLE, reach + 1);
            assert!(changes.len() >= 2, "{name}: {changes:?}");
            for (at, kind) in changes {
                assert_eq!(table.kind_at(at), kind, "{name} at {at}");
                for instant in [at - 1, at, at + 1] {
                    assert_eq!(
                        table.kind_at(instant),
                        table.kind_at_unmoved(instant),
                        "{name} at {instant}"
                    );
                }
            }
            let mut draw = Draw::for_zone(name);
            for _ in 0..100 {
                let instant = draw.within(from + CYCLE, reach + 1);
                assert_eq!(
                    table.kind_at(instant),
                    table.kind_at_unmoved(instant),
                    "{name} at {instant}"
                );
            }
        }
        assert!(repeating > 100, "{repeating} zones with daylight saving time rules");
    }

    /// Changes minutes to hours apart, to offsets up to three hours either side: every wall-clock minute reads as
    /// the instants found by trying every minute around it.
    #[test]
    fn readings_are_exact_when_changes_come_close_together() {
        const MINUTE: i64 = 60;
        let mut draw = Draw::for_zone("close changes");
        // Readings shown at no instant, at two, and at three or more.
        let mut seen = [0; 3];
        for round in 0..40 {
            let names = ["AAA", "BBB", "CCC", "DDD"];
            let types: Vec<LocalTimeType> = names
                .iter()
                .map(|name| {
                    let quarters = i32::try_from(draw.within(-12, 13)).unwrap();
                    LocalTimeType::new(quarters * 900, false, Some(name.as_bytes())).unwrap()
                })
                .collect();
            let mut at = 1_000_000 * MINUTE;
            let mut transitions = Vec::new();
            for _ in 0..12 {
                at += draw.within(1, 180) * MINUTE;
                transitions.push(Transition::new(at, usize::try_from(draw.within(0, 4)).unwrap()));
            }
            // The type in force at an instant: the last transition's at or before it, else type 0 (RFC 8536 §3.2).
            let offset_at = |instant: i64| {
                let index = transitions
                    .iter()
                    .rev()
                    .find(|transition| transition.unix_leap_time() <= instant)
                    .map_or(0, |transition| transition.local_time_type_index());
                i64::from(types[index].ut_offset())
            };
            let zone = TimeZone::new(transitions.clone(), types.clone(), Vec::new(), None).unwrap();
            let table: &'static Table = Box::leak(Box::new(Table::from_zone(zone.as_ref()).unwrap()));
            let (first, last) = (1_000_000 * MINUTE - 4 * 60 * MINUTE, at + 4 * 60 * MINUTE);
            for local in (first..last).step_by(60) {
                let shown: Vec<i64> = (local - 4 * 3600..=local + 4 * 3600)
                    .step_by(60)
                    .filter(|&instant| instant + offset_at(instant) == local)
                    .collect();
                seen[shown.len().saturating_sub(1).min(2)] += usize::from(shown.len() != 1);
                let expected = match shown.as_slice() {
                    [] => vec![],
                    [one] => vec![*one],
                    [first, .., last] => vec![*first, *last],
                };
                let read = match table.kinds_showing(local) {
                    MappedLocalTime::None => vec![],
                    MappedLocalTime::Single(kind) => vec![local - kind.seconds()],
                    MappedLocalTime::Ambiguous(first, last) => vec![local - first.seconds(), local - last.seconds()],
                };
                assert_eq!(read, expected, "round {round}, reading {local}: {zone:?}");
                let instant = draw.within(first, last);
                assert_eq!(
                    table.kind_at(instant).seconds(),
                    offset_at(instant),
                    "round {round} at {instant}"
                );
            }
        }
        assert!(seen.iter().all(|&count| count > 100), "{seen:?}");
    }

    #[test]
    fn days_from_civil_agrees_with_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for (year, month, day) in [
            (1970, 1, 1),
            (1969, 12, 31),
            (2000, 2, 29),
            (2100, 3, 1),
            (1600, 1, 1),
            (2400, 12, 31),
        ] {
            let date = NaiveDate::from_ymd_opt(year, month, day).unwrap();
            let expected = (date - epoch).num_days();
            assert_eq!(
                days_from_civil(i64::from(year), i64::from(month), i64::from(day)),
                expected,
                "{date}"
            );
        }
        assert_eq!(
            CYCLE,
            days_from_civil(2400, 1, 1) * DAY - days_from_civil(2000, 1, 1) * DAY
        );
    }
}
