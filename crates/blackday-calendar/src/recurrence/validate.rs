//! A rule's parts checked across each other and completed from DTSTART ([`RecurrenceRule::new`]).
//!
//! RFC 5545 takes what a rule leaves out from DTSTART: the time of day (BYHOUR, BYMINUTE, BYSECOND, as far as the
//! frequency is slower than them), the weekday of a WEEKLY rule, the day (and month) of a MONTHLY (YEARLY) rule
//! that names no day. Once written out, which instants a period holds no longer depends on DTSTART, which is what
//! lets [`super::expand`] start expanding anywhere in step with the interval.
//!
//! The refusals are the `rrule` crate's (0.14), so that the rules a calendar may hold stayed the same when this
//! module replaced it: BYMONTHDAY with WEEKLY (days from the end of the month are let through, as the crate does);
//! BYYEARDAY with MONTHLY, WEEKLY or DAILY; BYWEEKNO other than with
//! YEARLY; a BYSETPOS or a BYDAY ordinal outside the range the crate allows for the frequency (its ranges, some
//! narrower than RFC 5545's: `-5MO` is refused in a MONTHLY rule). One refusal is this engine's own: a MONTHLY or
//! YEARLY BYDAY mixing weekdays with and without an ordinal, which the crate reads as expanding to less than RFC
//! 5545 says (see [`check`]). The crate's other refusals cannot happen to a
//! rule that has come this far (a BYSETPOS with no other BYxxx part, a rule with no time of day: both are filled in
//! from DTSTART first; an UNTIL before DTSTART is refused when the rule is read).

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};

use super::parts::{ByDay, Frequency, RuleParts};

/// A rule ready to expand on floating (wall-clock) times: every list sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecurrenceRule {
    pub freq: Frequency,
    /// 1 or more.
    pub interval: u16,
    pub week_start: Weekday,
    pub by_set_pos: Vec<i32>,
    pub by_month: Vec<u8>,
    /// BYMONTHDAY's days counted from the start of the month (1..=31).
    pub by_month_day: Vec<i8>,
    /// BYMONTHDAY's days counted from the end of the month (-31..=-1).
    pub by_month_day_from_end: Vec<i8>,
    pub by_year_day: Vec<i16>,
    pub by_week_no: Vec<i8>,
    /// BYDAY's weekdays without an ordinal.
    pub weekdays: Vec<Weekday>,
    /// BYDAY's weekdays with an ordinal: (n, weekday), n ≠ 0.
    pub nth_weekdays: Vec<(i16, Weekday)>,
    pub by_hour: Vec<u8>,
    pub by_minute: Vec<u8>,
    pub by_second: Vec<u8>,
    /// The last instant an occurrence may start at (inclusive).
    pub until: Option<NaiveDateTime>,
}

impl RecurrenceRule {
    /// The rule `parts` describe for a series starting at `start`; errors are a sentence naming the part.
    pub(crate) fn new(parts: RuleParts, start: NaiveDateTime) -> Result<RecurrenceRule, String> {
        let RuleParts {
            freq,
            interval,
            week_start,
            mut by_set_pos,
            mut by_month,
            by_month_day,
            mut by_year_day,
            mut by_week_no,
            by_day,
            mut by_hour,
            mut by_minute,
            mut by_second,
        } = parts;
        check(freq, &by_set_pos, &by_month_day, &by_year_day, &by_week_no, &by_day)?;
        let (mut from_start, mut from_end): (Vec<i8>, Vec<i8>) = by_month_day.iter().partition(|day| **day > 0);
        from_end.retain(|day| *day < 0);
        let mut weekdays = Vec::new();
        let mut nth_weekdays = Vec::new();
        for day in by_day {
            match day {
                ByDay::Every(day) => weekdays.push(day),
                ByDay::Nth(n, day) => nth_weekdays.push((n, day)),
            }
        }
        // RFC 5545 §3.3.10: a rule that names no day takes it from DTSTART.
        let names_a_day = !(by_week_no.is_empty()
            && by_year_day.is_empty()
            && from_start.is_empty()
            && from_end.is_empty()
            && weekdays.is_empty()
            && nth_weekdays.is_empty());
        if !names_a_day {
            match freq {
                Frequency::Yearly => {
                    if by_month.is_empty() {
                        by_month.push(month_of(start));
                    }
                    from_start.push(day_of(start));
                }
                Frequency::Monthly => from_start.push(day_of(start)),
                Frequency::Weekly => weekdays.push(start.weekday()),
                _ => {}
            }
        }
        // The time of day, down to the frequency.
        let fill = |list: &mut Vec<u8>, coarser_than: Frequency, value: u32| {
            if list.is_empty() && freq < coarser_than {
                list.push(u8::try_from(value).unwrap_or_default());
            }
        };
        fill(&mut by_hour, Frequency::Hourly, start.hour());
        fill(&mut by_minute, Frequency::Minutely, start.minute());
        fill(&mut by_second, Frequency::Secondly, start.second());
        for list in [&mut by_month, &mut by_hour, &mut by_minute, &mut by_second] {
            sort(list);
        }
        sort(&mut from_start);
        sort(&mut from_end);
        sort(&mut by_set_pos);
        sort(&mut by_year_day);
        sort(&mut by_week_no);
        weekdays.sort_by_key(|day| day.num_days_from_monday());
        weekdays.dedup();
        nth_weekdays.sort_by_key(|(n, day)| (*n, day.num_days_from_monday()));
        nth_weekdays.dedup();
        Ok(RecurrenceRule {
            freq,
            interval: interval.max(1),
            week_start,
            by_set_pos,
            by_month,
            by_month_day: from_start,
            by_month_day_from_end: from_end,
            by_year_day,
            by_week_no,
            weekdays,
            nth_weekdays,
            by_hour,
            by_minute,
            by_second,
            until: None,
        })
    }
}

fn sort<T: Ord>(list: &mut Vec<T>) {
    list.sort_unstable();
    list.dedup();
}

fn month_of(at: NaiveDateTime) -> u8 {
    u8::try_from(at.month()).unwrap_or(1)
}

fn day_of(at: NaiveDateTime) -> i8 {
    i8::try_from(at.day()).unwrap_or(1)
}

/// The parts that do not go together, in the order the `rrule` crate checks them (so a rule with two problems is
/// refused for the same one).
fn check(
    freq: Frequency,
    by_set_pos: &[i32],
    by_month_day: &[i8],
    by_year_day: &[i16],
    by_week_no: &[i8],
    by_day: &[ByDay],
) -> Result<(), String> {
    // The `rrule` crate's ranges, by a period's length in its units (a DAILY rule's is a year's, as the crate has
    // it): BYSETPOS up to that many either way, a BYDAY ordinal up to that over 7 (one more at the top).
    let positions: i16 = match freq {
        Frequency::Yearly | Frequency::Daily => 366,
        Frequency::Monthly => 31,
        Frequency::Weekly => 53,
        Frequency::Hourly => 24,
        Frequency::Minutely | Frequency::Secondly => 60,
    };
    let positions_i32 = i32::from(positions);
    if let Some(position) = by_set_pos
        .iter()
        .find(|n| !(-positions_i32..=positions_i32).contains(*n))
    {
        return Err(format!(
            "the rule is not valid: BYSETPOS={position} is out of range; with FREQ={freq} a position is from \
             -{positions} to {positions}"
        ));
    }
    let not_with =
        |part: &str| format!("the rule is not valid: {part} cannot be used with FREQ={freq} (RFC 5545 §3.3.10)");
    // The crate sets days from the end of the month aside before it checks, so it refuses only days from the
    // start (`FREQ=WEEKLY;BYMONTHDAY=-1` is every last day of a month that falls in a week).
    if by_month_day.iter().any(|day| *day > 0) && freq == Frequency::Weekly {
        return Err(not_with("BYMONTHDAY"));
    }
    if !by_year_day.is_empty() && matches!(freq, Frequency::Monthly | Frequency::Weekly | Frequency::Daily) {
        return Err(not_with("BYYEARDAY"));
    }
    if !by_week_no.is_empty() && freq != Frequency::Yearly {
        return Err(format!("{}; BYWEEKNO is for FREQ=YEARLY only", not_with("BYWEEKNO")));
    }
    let (lowest, highest) = (-positions / 7, positions / 7 + 1);
    for day in by_day {
        if let ByDay::Nth(n, weekday) = day
            && !(lowest..=highest).contains(n)
        {
            return Err(format!(
                "the rule is not valid: BYDAY={n}{} is out of range; with FREQ={freq} an ordinal is from {lowest} \
                 to {highest}",
                weekday_name(*weekday)
            ));
        }
    }
    // The `rrule` crate reads weekdays with and without an ordinal in one MONTHLY or YEARLY BYDAY as narrowing each
    // other (`MO,1TU` keeps no day), where RFC 5545 takes both: a BlackDay written so would block nothing. Refused
    // (a refused feed holds) rather than read either way, so no rule means less than its author wrote.
    let mixed = by_day.iter().any(|day| matches!(day, ByDay::Every(_)))
        && by_day.iter().any(|day| matches!(day, ByDay::Nth(..)));
    if mixed && matches!(freq, Frequency::Monthly | Frequency::Yearly) {
        return Err(format!(
            "the rule is not valid: {MIXED_BYDAY} with FREQ={freq}; write the weekdays with a number (1TU) and those \
             without (MO) as two rules"
        ));
    }
    Ok(())
}

/// The refusal of a MONTHLY or YEARLY BYDAY with weekdays both with and without an ordinal.
pub(crate) const MIXED_BYDAY: &str = "BYDAY mixes weekdays with and without a number (MO,1TU)";

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str, start: &str) -> Result<RecurrenceRule, String> {
        let parts = RuleParts::read(&text.split(';').map(str::to_owned).collect::<Vec<_>>())?;
        RecurrenceRule::new(
            parts,
            NaiveDateTime::parse_from_str(start, "%Y-%m-%d %H:%M:%S").unwrap(),
        )
    }

    #[test]
    fn what_a_rule_leaves_out_is_taken_from_dtstart() {
        let yearly = rule("FREQ=YEARLY", "2026-03-31 09:15:30").unwrap();
        assert_eq!(
            (
                yearly.by_month,
                yearly.by_month_day,
                yearly.by_hour,
                yearly.by_minute,
                yearly.by_second
            ),
            (vec![3], vec![31], vec![9], vec![15], vec![30])
        );
        let monthly = rule("FREQ=MONTHLY;BYMONTH=2", "2026-03-31 09:15:00").unwrap();
        assert_eq!((monthly.by_month, monthly.by_month_day), (vec![2], vec![31]));
        let weekly = rule("FREQ=WEEKLY;BYHOUR=7", "2026-03-31 09:15:00").unwrap();
        assert_eq!((weekly.weekdays, weekly.by_hour), (vec![Weekday::Tue], vec![7]));
        // A day named any way (here from the end of the month) is not overridden.
        let last = rule("FREQ=MONTHLY;BYMONTHDAY=-1,3", "2026-03-31 09:15:00").unwrap();
        assert_eq!((last.by_month_day, last.by_month_day_from_end), (vec![3], vec![-1]));
        // HOURLY keeps every hour and takes the minute and second.
        let hourly = rule("FREQ=HOURLY", "2026-03-31 09:15:00").unwrap();
        assert_eq!((hourly.by_hour, hourly.by_minute), (vec![], vec![15]));
    }

    #[test]
    fn parts_that_do_not_go_together_are_refused_with_the_part_named() {
        for (text, words) in [
            ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY cannot be used with FREQ=WEEKLY"),
            ("FREQ=DAILY;BYYEARDAY=1", "BYYEARDAY cannot be used with FREQ=DAILY"),
            ("FREQ=MONTHLY;BYWEEKNO=3", "BYWEEKNO is for FREQ=YEARLY only"),
            ("FREQ=HOURLY;BYWEEKNO=3", "BYWEEKNO cannot be used with FREQ=HOURLY"),
            ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=32", "BYSETPOS=32 is out of range"),
            ("FREQ=HOURLY;BYSETPOS=-25", "from -24 to 24"),
            (
                "FREQ=MONTHLY;BYDAY=-5MO",
                "BYDAY=-5MO is out of range; with FREQ=MONTHLY an ordinal is from -4 to 5",
            ),
            ("FREQ=YEARLY;BYDAY=54FR", "from -52 to 53"),
            (
                "FREQ=MONTHLY;BYDAY=MO,1TU",
                "BYDAY mixes weekdays with and without a number",
            ),
            (
                "FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO,FR",
                "write the weekdays with a number (1TU) and those without",
            ),
        ] {
            let problem = rule(text, "2026-01-01 00:00:00").unwrap_err();
            assert!(problem.starts_with("the rule is not valid: "), "{problem}");
            assert!(problem.contains(words), "{text}: {problem}");
        }
        for fine in [
            "FREQ=HOURLY;BYYEARDAY=1",
            "FREQ=MONTHLY;BYDAY=5MO,-4SU",
            "FREQ=YEARLY;BYSETPOS=-366",
            // Other frequencies ignore ordinals, so every such weekday counts: nothing is lost.
            "FREQ=WEEKLY;BYDAY=MO,1TU",
        ] {
            assert!(rule(fine, "2026-01-01 00:00:00").is_ok(), "{fine}");
        }
    }
}
