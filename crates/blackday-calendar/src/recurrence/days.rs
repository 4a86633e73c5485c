//! The days of one period of a rule, and which of them the rule keeps (RFC 5545 §3.3.10: BYMONTH, BYWEEKNO,
//! BYYEARDAY, BYMONTHDAY, BYDAY). Every part that is given must keep a day (the parts narrow one another).
//!
//! How each part reads a day follows the `rrule` crate (0.14, itself after python-dateutil), which the oracle tests
//! compare against:
//! - A BYDAY ordinal (`1MO`, `-1FR`) counts within the month of a MONTHLY rule, and within each BYMONTH month of a
//!   YEARLY rule (the whole year without BYMONTH). Other frequencies ignore ordinals (`FREQ=WEEKLY;BYDAY=1MO` is
//!   every day of the week), and a day must satisfy both the weekdays without an ordinal and those with one
//!   (`BYDAY=MO,1TU` in a MONTHLY rule keeps no day).
//! - BYWEEKNO numbers weeks starting on WKST, week 1 being the first with at least four days of the year; a year's
//!   first days that belong to the previous year's last week are kept for `-1` and for that week's number, which is
//!   computed as python-dateutil does (see [`WeekNumbers`]).
//! - A day that does not exist (30 February) is no day: nothing is clamped.

use chrono::{Datelike, NaiveDate, Weekday};

use super::parts::Frequency;
use super::validate::RecurrenceRule;
use crate::civil;

/// The days of the period whose first day is `first`, that the rule keeps, in order, into `out`.
///
/// `first` is 1 January for YEARLY, the 1st for MONTHLY, and the day itself for DAILY and HOURLY. A WEEKLY period
/// runs from `first` to the day before the next WKST: a whole week, except the first period, which starts at
/// DTSTART's date (as in the `rrule` crate; BYSETPOS counts within that shorter set).
pub(crate) fn collect(rule: &RecurrenceRule, first: NaiveDate, out: &mut Vec<NaiveDate>) {
    out.clear();
    match rule.freq {
        Frequency::Yearly => {
            let weeks = (!rule.by_week_no.is_empty()).then(|| WeekNumbers::new(first.year(), rule.week_start));
            for month in 1..=12 {
                if rule.by_month.is_empty() || rule.by_month.contains(&month) {
                    month_days(first.year(), u32::from(month), |day| {
                        if keeps(rule, day, weeks.as_ref()) {
                            out.push(day);
                        }
                    });
                }
            }
        }
        Frequency::Monthly => month_days(first.year(), first.month(), |day| {
            if keeps(rule, day, None) {
                out.push(day);
            }
        }),
        Frequency::Weekly => {
            let mut day = first;
            loop {
                if keeps(rule, day, None) {
                    out.push(day);
                }
                match day.succ_opt() {
                    Some(next) if next.weekday() != rule.week_start => day = next,
                    _ => break,
                }
            }
        }
        _ => {
            if keeps(rule, first, None) {
                out.push(first);
            }
        }
    }
}

/// Calls `each` with every day of the month, in order.
fn month_days(year: i32, month: u32, mut each: impl FnMut(NaiveDate)) {
    let Some(mut day) = NaiveDate::from_ymd_opt(year, month, 1) else {
        return;
    };
    loop {
        each(day);
        match day.succ_opt() {
            Some(next) if next.month() == month => day = next,
            _ => break,
        }
    }
}

/// Whether the rule keeps `day` (`weeks`: the year's week numbers, for a YEARLY rule with BYWEEKNO).
fn keeps(rule: &RecurrenceRule, day: NaiveDate, weeks: Option<&WeekNumbers>) -> bool {
    if !rule.by_month.is_empty() && !rule.by_month.iter().any(|month| u32::from(*month) == day.month()) {
        return false;
    }
    if let Some(weeks) = weeks
        && !weeks.keeps(day.ordinal0(), &rule.by_week_no, rule.by_set_pos.is_empty())
    {
        return false;
    }
    if !rule.weekdays.is_empty() && !rule.weekdays.contains(&day.weekday()) {
        return false;
    }
    if !rule.nth_weekdays.is_empty()
        && matches!(rule.freq, Frequency::Yearly | Frequency::Monthly)
        && !nth_weekday(rule, day)
    {
        return false;
    }
    if !(rule.by_month_day.is_empty() && rule.by_month_day_from_end.is_empty()) {
        let length = days_in_month(day.year(), day.month());
        // 1-based from the start, -1-based from the end (-1 is the last day).
        let from_start = i64::from(day.day());
        let from_end = from_start - i64::from(length) - 1;
        if !rule.by_month_day.iter().any(|d| i64::from(*d) == from_start)
            && !rule.by_month_day_from_end.iter().any(|d| i64::from(*d) == from_end)
        {
            return false;
        }
    }
    if !rule.by_year_day.is_empty() {
        let from_start = i64::from(day.ordinal());
        let from_end = from_start - i64::from(year_length(day.year())) - 1;
        if !rule
            .by_year_day
            .iter()
            .any(|d| i64::from(*d) == from_start || i64::from(*d) == from_end)
        {
            return false;
        }
    }
    true
}

/// Whether `day` is one of the rule's BYDAY ordinals (`2TU`, `-1FR`) in its range: its month (MONTHLY, or YEARLY
/// with BYMONTH) or its year (YEARLY without BYMONTH).
fn nth_weekday(rule: &RecurrenceRule, day: NaiveDate) -> bool {
    let (first, last) = if rule.freq == Frequency::Yearly && rule.by_month.is_empty() {
        (1, year_length(day.year()))
    } else {
        let first = day.ordinal() - (day.day() - 1);
        (first, first + days_in_month(day.year(), day.month()) - 1)
    };
    // Which of its weekday in the range `day` is, counted from either end (1-based).
    let from_start = i64::from((day.ordinal() - first) / 7 + 1);
    let from_end = -i64::from((last - day.ordinal()) / 7 + 1);
    rule.nth_weekdays
        .iter()
        .any(|(n, weekday)| *weekday == day.weekday() && (i64::from(*n) == from_start || i64::from(*n) == from_end))
}

/// A year's week numbers for BYWEEKNO: weeks start on WKST; week 1 is the first with four or more days in the year.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WeekNumbers {
    /// Days from 1 January to the first WKST on or after it (0..=6).
    lead: u32,
    /// Weeks the year has (52 or 53).
    weeks: u32,
    /// The number python-dateutil (and the `rrule` crate) give the previous year's last week when deciding whether
    /// the year's first days (those before week 1) are kept.
    previous_last: i64,
    /// The previous year's last week as RFC 5545 numbers it: the weeks that year has (52 or 53).
    previous_weeks: i64,
}

impl WeekNumbers {
    pub(crate) fn new(year: i32, week_start: Weekday) -> WeekNumbers {
        let start = week_start.num_days_from_monday();
        let weekday = january_first(year);
        let (lead, counted) = Self::counted(year, start, weekday);
        let weeks = Self::weeks(counted);
        // python-dateutil's formula, kept as the `rrule` crate has it: when the previous year's week 1 started in
        // that year, it counts this year's days (from week 1) rather than the previous year's, and so calls the
        // previous year's last week 53 in some years where it is 52 (2021's last week, holding 1 and 2 January
        // 2022, is "53" for BYWEEKNO=53 and not kept for BYWEEKNO=52).
        let previous_length = year_length(year.saturating_sub(1));
        let previous_weekday = (weekday + 7 - previous_length % 7) % 7;
        let previous_lead = (7 + start - previous_weekday) % 7;
        let previous = if previous_lead >= 4 {
            previous_length + (7 + previous_weekday - start) % 7
        } else {
            counted
        };
        let previous_year = year.saturating_sub(1);
        let (_, previous_counted) = Self::counted(previous_year, start, january_first(previous_year));
        WeekNumbers {
            lead,
            weeks,
            previous_last: 52 + i64::from((previous % 7) / 4),
            previous_weeks: i64::from(Self::weeks(previous_counted)),
        }
    }

    /// Days from 1 January to the first `start` weekday (0 Monday) on or after it, and days from week 1's first day
    /// to 31 December, for a year whose 1 January is `weekday`.
    fn counted(year: i32, start: u32, weekday: u32) -> (u32, u32) {
        let length = year_length(year);
        let lead = (7 + start - weekday) % 7;
        let counted = if lead >= 4 {
            length + (7 + weekday - start) % 7
        } else {
            length - lead
        };
        (lead, counted)
    }

    /// Whole weeks, and a last week holding four or more of the year's days.
    fn weeks(counted: u32) -> u32 {
        counted / 7 + (counted % 7) / 4
    }

    /// Whether the day `ordinal0` is kept only because its week is numbered as RFC 5545 numbers it: one of the
    /// year's first days, in the previous year's last week, which python-dateutil's formula numbers otherwise.
    #[cfg(test)]
    pub(crate) fn kept_only_by_rfc_numbering(&self, ordinal0: u32, list: &[i8]) -> bool {
        self.keeps(ordinal0, list, true) && !self.keeps(ordinal0, list, false)
    }

    /// Whether the day `ordinal0` (0 for 1 January) is in one of the weeks `list` names (negative: from the end).
    /// With `widen`, the year's first days in the previous year's last week are kept under RFC 5545's number for
    /// that week as well as python-dateutil's; without it (a rule with BYSETPOS, where a larger set would move the
    /// positions rather than add days) under python-dateutil's only, as the `rrule` crate does.
    fn keeps(&self, ordinal0: u32, list: &[i8], widen: bool) -> bool {
        let names = |n: i64| list.iter().any(|w| i64::from(*w) == n);
        let week = if self.lead >= 4 {
            // Week 1 started in the previous year; the days before the first WKST are its last days.
            if ordinal0 < self.lead {
                1
            } else {
                (ordinal0 - self.lead) / 7 + 2
            }
        } else if ordinal0 < self.lead {
            // The previous year's last week: as RFC 5545 numbers it, and as python-dateutil's formula (which the
            // `rrule` crate follows) does where that differs (2021's last week, holding 1 and 2 January 2022, is 52;
            // the formula says 53). Either number keeps the days, so no reading blocks less than the other.
            return names(-1) || names(self.previous_last) || (widen && names(self.previous_weeks));
        } else {
            (ordinal0 - self.lead) / 7 + 1
        };
        if week > self.weeks {
            // The next year's week 1.
            return names(1);
        }
        let (week, weeks) = (i64::from(week), i64::from(self.weeks));
        list.iter()
            .any(|w| i64::from(*w) == week || (*w < 0 && i64::from(*w) + weeks + 1 == week))
    }
}

fn year_length(year: i32) -> u32 {
    civil::year_length(i64::from(year))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    civil::days_in_month(i64::from(year), month)
}

/// The weekday of 1 January (0 for Monday), by arithmetic, so that any year has one (chrono's dates end).
fn january_first(year: i32) -> u32 {
    // Days from 1 January of year 1 (proleptic Gregorian, a Monday) to 1 January of `year`.
    let y = i64::from(year) - 1;
    let days = y * 365 + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400);
    u32::try_from(days.rem_euclid(7)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn january_first_weekdays() {
        for year in [-400, -1, 0, 1, 1900, 1999, 2000, 2021, 2022, 2026, 2100, 9999] {
            let expected = NaiveDate::from_ymd_opt(year, 1, 1)
                .unwrap()
                .weekday()
                .num_days_from_monday();
            assert_eq!(january_first(year), expected, "{year}");
        }
    }

    /// With WKST=MO the week numbers are ISO 8601's; python-dateutil's reading of the previous year's last week
    /// (noted on [`WeekNumbers`]) is kept, and widened to ISO's number.
    #[test]
    fn monday_weeks_are_iso_weeks() {
        for year in 1995..2035 {
            let weeks = WeekNumbers::new(year, Weekday::Mon);
            let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            while day.year() == year {
                let iso = day.iso_week();
                let in_this_year = iso.year() == year;
                for n in [1i8, 2, 10, 52, 53, -1, -2] {
                    let named = if in_this_year {
                        i32::from(n) == i32::try_from(iso.week()).unwrap()
                            || (n < 0
                                && i32::from(n) + i32::try_from(weeks.weeks).unwrap() + 1
                                    == i32::try_from(iso.week()).unwrap())
                    } else if iso.year() > year {
                        n == 1
                    } else {
                        n == -1 || i64::from(n) == weeks.previous_last
                    };
                    assert_eq!(weeks.keeps(day.ordinal0(), &[n], false), named, "{day} week {n}");
                    // Widened, the previous year's last week is also its ISO number.
                    let iso_named = named || (iso.year() < year && i32::from(n) == i32::try_from(iso.week()).unwrap());
                    assert_eq!(
                        weeks.keeps(day.ordinal0(), &[n], true),
                        iso_named,
                        "{day} week {n}, widened"
                    );
                }
                day = day.succ_opt().unwrap();
            }
            let last_iso = NaiveDate::from_ymd_opt(year, 12, 28).unwrap().iso_week().week();
            assert_eq!(weeks.weeks, last_iso, "{year}");
        }
    }
}
