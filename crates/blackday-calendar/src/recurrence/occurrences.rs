//! A rule's occurrences on floating (wall-clock) times, period by period (RFC 5545 §3.3.10).
//!
//! The first period is the one holding the start; each next one is INTERVAL periods on (WEEKLY: the WKST that many
//! weeks on; HOURLY: the next hour in step that BYHOUR allows, skipping the rest of a day the date parts leave
//! out). A period's candidates are its kept days ([`super::days`]) at each time of day (BYHOUR × BYMINUTE ×
//! BYSECOND; HOURLY: the hour's BYMINUTE × BYSECOND); BYSETPOS picks from that set by position (1 is the first, -1
//! the last). Candidates before the start are skipped, and the first after UNTIL ends the rule.
//!
//! A rule may have no occurrence for a long time, or ever (`FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30`), so the search
//! ends:
//! - at a horizon the caller gives (a query's last day, a COUNT's cutoff), before any period starting after it;
//! - after [`MAX_EMPTY_PERIODS`] periods in a row without an occurrence, the `rrule` crate's limit, kept so that a
//!   rule ends where it ended; each period is cheap (a day's days, a year's 366 at most), so this is a few
//!   milliseconds, and only a search with no horizon (a document's first occurrence) can reach it;
//! - sooner when it is sure to find nothing more: the calendar repeats every 400 years, so after one full cycle of
//!   periods without an occurrence (400 years of a YEARLY rule, 4 800 months of a MONTHLY one; the first period, cut
//!   by the start, aside) there will be none;
//! - when the periods leave the years -10 000..=10 000 (the `rrule` crate's limit) or chrono's dates.

use std::collections::VecDeque;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::days;
use super::parts::Frequency;
use super::validate::RecurrenceRule;

/// Periods in a row without an occurrence after which a rule is taken to have no more (the `rrule` crate stops
/// after as many).
pub(crate) const MAX_EMPTY_PERIODS: u32 = 99_999;

/// The years periods may reach (the `rrule` crate's).
const YEARS: std::ops::RangeInclusive<i32> = -10_000..=10_000;

/// The occurrences of `rule` from `from` on, in order.
#[derive(Debug, Clone)]
pub(crate) struct Occurrences<'r> {
    rule: &'r RecurrenceRule,
    from: NaiveDateTime,
    /// No period starting after this is looked at (the horizon or UNTIL, whichever is earlier).
    last: Option<NaiveDateTime>,
    /// The period's first day: 1 January (YEARLY), the 1st (MONTHLY), the day itself (WEEKLY's first period starts
    /// at `from`'s date, the others at WKST).
    day: NaiveDate,
    /// The period's hour (HOURLY).
    hour: u32,
    /// The period's times of day.
    times: Vec<NaiveTime>,
    days: Vec<NaiveDate>,
    ready: VecDeque<NaiveDateTime>,
    /// Periods in a row without an occurrence.
    empty: u32,
    /// Periods after which the calendar repeats, for the rule's frequency and interval (see the module).
    cycle: Option<u32>,
    done: bool,
}

impl<'r> Occurrences<'r> {
    /// The occurrences at or after `from`, expanding from the period holding `from` (which is DTSTART, or a period
    /// start in step with the interval), and none from a period starting after `horizon`.
    pub(crate) fn new(rule: &'r RecurrenceRule, from: NaiveDateTime, horizon: Option<NaiveDateTime>) -> Self {
        let date = from.date();
        let day = match rule.freq {
            Frequency::Yearly => date.with_ordinal(1),
            Frequency::Monthly => date.with_day(1),
            _ => Some(date),
        }
        .unwrap_or(date);
        let hour = from.hour();
        let times = if rule.freq == Frequency::Hourly {
            // The start's hour, unless BYHOUR leaves it out.
            if rule.by_hour.is_empty() || rule.by_hour.iter().any(|h| u32::from(*h) == hour) {
                times(&[hour], rule)
            } else {
                Vec::new()
            }
        } else {
            let hours: Vec<u32> = rule.by_hour.iter().map(|h| u32::from(*h)).collect();
            times(&hours, rule)
        };
        let last = match (horizon, rule.until) {
            (Some(horizon), Some(until)) => Some(horizon.min(until)),
            (horizon, until) => horizon.or(until),
        };
        Occurrences {
            rule,
            from,
            last,
            day,
            hour,
            times,
            days: Vec::new(),
            ready: VecDeque::new(),
            empty: 0,
            cycle: cycle(rule.freq, rule.interval),
            done: false,
        }
    }

    /// The earliest instant the current period can hold.
    fn period_start(&self) -> NaiveDateTime {
        let midnight = self.day.and_time(NaiveTime::MIN);
        if self.rule.freq == Frequency::Hourly {
            self.day.and_hms_opt(self.hour, 0, 0).unwrap_or(midnight)
        } else {
            midnight
        }
    }

    /// Expands the current period into `ready` and moves to the next one.
    fn expand(&mut self) {
        if self.empty >= MAX_EMPTY_PERIODS
            || self.cycle.is_some_and(|cycle| self.empty > cycle)
            || self.last.is_some_and(|last| self.period_start() > last)
        {
            self.done = true;
            return;
        }
        days::collect(self.rule, self.day, &mut self.days);
        let found = self.ready.len();
        let (from, until) = (self.from, self.rule.until);
        // Takes a candidate (if not before the start); false when it is after UNTIL, which ends the rule.
        let mut offer = |at: NaiveDateTime| {
            if until.is_some_and(|until| at > until) {
                return false;
            }
            if at >= from {
                self.ready.push_back(at);
            }
            true
        };
        let past_until = if self.rule.by_set_pos.is_empty() {
            !self
                .days
                .iter()
                .all(|day| self.times.iter().all(|time| offer(day.and_time(*time))))
        } else {
            !picked(&self.rule.by_set_pos, &self.days, &self.times)
                .into_iter()
                .all(offer)
        };
        self.done = past_until;
        if self.ready.len() == found {
            self.empty += 1;
        } else {
            self.empty = 0;
        }
        if !self.done {
            self.advance();
        }
    }

    /// Moves to the next period, or ends.
    fn advance(&mut self) {
        let interval = u32::from(self.rule.interval);
        let year = self.day.year();
        let next = match self.rule.freq {
            Frequency::Yearly => year
                .checked_add_unsigned(interval)
                .filter(|year| YEARS.contains(year))
                .and_then(|year| NaiveDate::from_ymd_opt(year, 1, 1)),
            // The `rrule` crate counts months in a u16 and ends a rule whose month would pass it (an INTERVAL of
            // 65 524 or more), where it would go on 5 000 years later.
            Frequency::Monthly if self.day.month() + interval > u32::from(u16::MAX) => None,
            Frequency::Monthly => {
                let index = i64::from(year) * 12 + i64::from(self.day.month0()) + i64::from(interval);
                i32::try_from(index.div_euclid(12))
                    .ok()
                    .filter(|next| *next == year || YEARS.contains(next))
                    .and_then(|next| {
                        let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
                        NaiveDate::from_ymd_opt(next, month, 1)
                    })
            }
            Frequency::Weekly => {
                let into_week =
                    (7 + self.day.weekday().num_days_from_monday() - self.rule.week_start.num_days_from_monday()) % 7;
                self.days_on(interval * 7 - into_week)
            }
            Frequency::Daily => self.days_on(interval),
            _ => self.next_hour(),
        };
        match next {
            Some(day) => self.day = day,
            None => self.done = true,
        }
    }

    /// The date `days` on, if it is in range (crossing into a year outside [`YEARS`] ends the rule).
    fn days_on(&self, days: u32) -> Option<NaiveDate> {
        let next = self.day.checked_add_days(Days::new(u64::from(days)))?;
        let (from, to) = (self.day.year(), next.year());
        (to == from || (to <= *YEARS.end() && from + 1 >= *YEARS.start())).then_some(next)
    }

    /// HOURLY: the next hour in step that BYHOUR allows (after the last such hour of the day when the day was left
    /// out), with its times; `None` when the interval never meets BYHOUR.
    fn next_hour(&mut self) -> Option<NaiveDate> {
        let interval = u32::from(self.rule.interval);
        let mut hour = self.hour;
        if self.days.is_empty() {
            hour += (23 - hour) / interval * interval;
        }
        let mut seen = 0u32;
        loop {
            hour += interval;
            let of_day = hour % 24;
            if self.rule.by_hour.is_empty() || self.rule.by_hour.iter().any(|h| u32::from(*h) == of_day) {
                break;
            }
            if seen & (1 << of_day) != 0 {
                return None;
            }
            seen |= 1 << of_day;
        }
        let day = self.days_on(hour / 24)?;
        self.hour = hour % 24;
        self.times = times(&[self.hour], self.rule);
        Some(day)
    }
}

impl Iterator for Occurrences<'_> {
    type Item = NaiveDateTime;

    fn next(&mut self) -> Option<NaiveDateTime> {
        loop {
            if let Some(at) = self.ready.pop_front() {
                return Some(at);
            }
            if self.done {
                return None;
            }
            self.expand();
        }
    }
}

/// BYSETPOS: of the candidates (each of `days` at each of `times`), those at the positions named (1 is the first,
/// -1 the last), in order, each once.
fn picked(positions: &[i32], days: &[NaiveDate], times: &[NaiveTime]) -> Vec<NaiveDateTime> {
    let Some(count) = days.len().checked_mul(times.len()) else {
        return Vec::new();
    };
    let mut picked: Vec<NaiveDateTime> = positions
        .iter()
        .filter_map(|position| {
            let index = if *position > 0 {
                usize::try_from(*position - 1).ok()?
            } else {
                count.checked_sub(usize::try_from(position.unsigned_abs()).ok()?)?
            };
            (index < count).then(|| days[index / times.len()].and_time(times[index % times.len()]))
        })
        .collect();
    picked.sort_unstable();
    picked.dedup();
    picked
}

/// Every `hours` × BYMINUTE × BYSECOND, in order.
fn times(hours: &[u32], rule: &RecurrenceRule) -> Vec<NaiveTime> {
    let mut times = Vec::with_capacity(hours.len() * rule.by_minute.len() * rule.by_second.len());
    for hour in hours {
        for minute in &rule.by_minute {
            for second in &rule.by_second {
                times.extend(NaiveTime::from_hms_opt(*hour, u32::from(*minute), u32::from(*second)));
            }
        }
    }
    times
}

/// Periods of `freq` after which the calendar (dates, weekdays, leap years) repeats, stepping `interval` at a
/// time: 400 Gregorian years are 146 097 days, exactly 20 871 weeks.
fn cycle(freq: Frequency, interval: u16) -> Option<u32> {
    let periods: u32 = match freq {
        Frequency::Yearly => 400,
        Frequency::Monthly => 400 * 12,
        Frequency::Weekly => 20_871,
        Frequency::Daily => 146_097,
        _ => return None,
    };
    let (mut a, mut b) = (periods, u32::from(interval.max(1)));
    while b != 0 {
        (a, b) = (b, a % b);
    }
    Some(periods / a)
}
