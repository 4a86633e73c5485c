//! Where to start expanding a rule for a query: near the query, not at the rule's first occurrence.
//!
//! Stepping through every occurrence from DTSTART made a check cost time in proportion to the rule's age (an HOURLY
//! rule from 1900 took 0.6 s a check). A rule's occurrences come in *periods* (the years of a YEARLY rule, the
//! weeks of a WEEKLY one, ...), every `INTERVAL`-th period counted from the one holding DTSTART, and — once every
//! part that RFC 5545 fills in from DTSTART is written out ([`RecurrenceRule::new`] does that: BYHOUR, BYMINUTE,
//! BYSECOND, BYDAY, BYMONTHDAY, BYMONTH) — which instants a period holds does not depend on DTSTART. So
//! expanding from the start of a later period *in step with the interval* gives exactly the occurrences from that
//! period on. COUNT rules are turned into UNTIL rules when read (see [`super::Recurrence::new`]), so every rule can
//! start near the query. The property test `fast_expansion_agrees_with_full_expansion` checks this against the
//! full expansion from DTSTART.

use super::parts::Frequency;
use super::validate::RecurrenceRule;
use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Weekday};

/// A period of a YEARLY rule's BYWEEKNO can reach a week into the next year, so a query starts one more period
/// back than its first day and a week on top.
const SPILL: Days = Days::new(8);

/// The latest period start in step with the rule's interval, at or before `first - SPILL` (or `start` itself when
/// that is not after the rule's first period).
pub(crate) fn anchor(rule: &RecurrenceRule, start: NaiveDateTime, first: NaiveDate) -> NaiveDateTime {
    let Some(target) = first.checked_sub_days(SPILL) else {
        return start;
    };
    let interval = i64::from(rule.interval.max(1));
    // Whole periods from the rule's first period to the target's, rounded down to the interval.
    let step = |periods: i64| periods.div_euclid(interval) * interval;
    let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN);
    let anchor = match rule.freq {
        Frequency::Yearly => {
            let years = step(i64::from(target.year() - start.year()));
            i32::try_from(years)
                .ok()
                .and_then(|years| NaiveDate::from_ymd_opt(start.year() + years, 1, 1))
                .map(midnight)
        }
        Frequency::Monthly => {
            let months = step(month_index(target) - month_index(start.date()));
            let first_of_month = start.date().with_day(1).expect("day 1 exists");
            u32::try_from(months)
                .ok()
                .and_then(|months| first_of_month.checked_add_months(Months::new(months)))
                .map(midnight)
        }
        Frequency::Weekly => {
            let week_start = |day: NaiveDate| week_start(day, rule.week_start);
            let (from, to) = (week_start(start.date()), week_start(target));
            let weeks = step((to - from).num_days().div_euclid(7));
            u64::try_from(weeks * 7)
                .ok()
                .and_then(|days| from.checked_add_days(Days::new(days)))
                .map(midnight)
        }
        Frequency::Daily => {
            let days = step((target - start.date()).num_days());
            u64::try_from(days)
                .ok()
                .and_then(|days| start.date().checked_add_days(Days::new(days)))
                .map(midnight)
        }
        Frequency::Hourly => {
            let hour = |at: NaiveDateTime| at.date().and_hms_opt(at.hour(), 0, 0).expect("valid hour");
            let from = hour(start);
            let hours = step((midnight(target) - from).num_hours());
            TimeDelta::try_hours(hours).and_then(|hours| from.checked_add_signed(hours))
        }
        // Refused when the rule is read; a full expansion is always right.
        _ => None,
    };
    anchor.filter(|anchor| *anchor > start).unwrap_or(start)
}

fn month_index(day: NaiveDate) -> i64 {
    i64::from(day.year()) * 12 + i64::from(day.month0())
}

/// The first day of the week holding `day`, for weeks starting on `week_start` (the rule's WKST).
fn week_start(day: NaiveDate, week_start: Weekday) -> NaiveDate {
    let back = (7 + day.weekday().num_days_from_monday() - week_start.num_days_from_monday()) % 7;
    day - Days::new(u64::from(back))
}

#[cfg(test)]
mod tests {
    use super::super::parts::RuleParts;
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn rule(text: &str, start: NaiveDateTime) -> RecurrenceRule {
        let parts = RuleParts::read(&text.split(';').map(str::to_owned).collect::<Vec<_>>()).unwrap();
        RecurrenceRule::new(parts, start).unwrap()
    }

    #[test]
    fn anchors_at_a_period_start_in_step_with_the_interval() {
        let start = at("1900-01-03 10:20");
        let first = NaiveDate::from_ymd_opt(2026, 6, 20).unwrap();
        let cases = [
            // 2026-06-12 (first - 8 days) is the target.
            ("FREQ=YEARLY", "2026-01-01 00:00"),
            ("FREQ=YEARLY;INTERVAL=4", "2024-01-01 00:00"),
            ("FREQ=MONTHLY;INTERVAL=5", "2026-04-01 00:00"),
            // 1900-01-01 was a Monday; 2026-06-08 is the Monday of the target's week; 6597 weeks apart.
            ("FREQ=WEEKLY", "2026-06-08 00:00"),
            ("FREQ=WEEKLY;INTERVAL=4", "2026-06-01 00:00"),
            ("FREQ=WEEKLY;WKST=SU", "2026-06-07 00:00"),
            ("FREQ=DAILY;INTERVAL=7", "2026-06-10 00:00"),
            ("FREQ=HOURLY;INTERVAL=5", "2026-06-11 20:00"),
        ];
        for (text, expected) in cases {
            assert_eq!(anchor(&rule(text, start), start, first), at(expected), "{text}");
        }
        // A query near the start expands from the start.
        let early = NaiveDate::from_ymd_opt(1900, 1, 5).unwrap();
        assert_eq!(anchor(&rule("FREQ=DAILY", start), start, early), start);
    }
}
