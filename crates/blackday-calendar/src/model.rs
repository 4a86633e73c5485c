//! Periods and the stretches of time they cover.
//!
//! Every rule is written in wall-clock time of the period's zone. A rule produces wall-clock spans (start inclusive,
//! end exclusive), which are placed on the time line by [`Role::place`]: a blackout as long as any reading of its
//! times allows, a window as short; spans that come out empty (wholly inside a spring-forward gap) are dropped.

use std::fmt;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeDelta, Utc, Weekday};
use serde::Serialize;

use crate::recurrence::Recurrence;
use crate::zone::{Zone, resolve, resolve_end};

/// Minutes since midnight, `0..=1440` (1440 is midnight at the end of the day).
pub(crate) type Minute = u32;

pub(crate) const END_OF_DAY: Minute = 24 * 60;

/// A stretch of time: from `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Span {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }

    fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.start < to && from < self.end
    }
}

/// A named blackout period or allowed window, with its rule and time zone.
#[derive(Debug, Clone)]
pub struct Period {
    pub(crate) name: String,
    pub(crate) reason: Option<String>,
    pub(crate) zone: Zone,
    pub(crate) rule: Rule,
    pub(crate) role: Role,
}

/// Whether a period holds releases or allows them, which decides how its wall-clock times that a daylight-saving
/// change makes missing or double are read: always toward holding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Starts at the earliest reading of its start, ends at the latest reading of its end.
    Blackout,
    /// Starts at the latest reading of its start, ends at the earliest reading of its end.
    Window,
}

impl Role {
    /// A wall-clock span on the time line (see [`crate::zone`] for the readings).
    pub(crate) fn place(self, zone: Zone, start: NaiveDateTime, end: NaiveDateTime) -> Span {
        match self {
            Role::Blackout => Span {
                start: resolve(zone, start),
                end: resolve_end(zone, end),
            },
            Role::Window => Span {
                start: resolve_end(zone, start),
                end: resolve(zone, end),
            },
        }
    }
}

/// One end of a fixed stretch: a wall-clock time of a zone, or an instant (a UTC time is never ambiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Local(Zone, NaiveDateTime),
    Instant(DateTime<Utc>),
}

/// A fixed stretch as a blackout (`wide`) and as a window (`narrow`), placed on the time line when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fixed {
    pub wide: Span,
    pub narrow: Span,
}

impl Fixed {
    pub(crate) fn new(start: Endpoint, end: Endpoint) -> Fixed {
        let read = |endpoint: Endpoint, late: bool| match endpoint {
            Endpoint::Instant(at) => at,
            Endpoint::Local(zone, local) if late => resolve_end(zone, local),
            Endpoint::Local(zone, local) => resolve(zone, local),
        };
        Fixed {
            wide: Span {
                start: read(start, false),
                end: read(end, true),
            },
            narrow: Span {
                start: read(start, true),
                end: read(end, false),
            },
        }
    }

    /// Wall-clock times of one zone.
    pub(crate) fn local(zone: Zone, start: NaiveDateTime, end: NaiveDateTime) -> Fixed {
        Fixed::new(Endpoint::Local(zone, start), Endpoint::Local(zone, end))
    }

    fn as_role(&self, role: Role) -> Span {
        match role {
            Role::Blackout => self.wide,
            Role::Window => self.narrow,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Rule {
    /// Fixed stretches; `label` says what they were written as.
    Once {
        spans: Vec<Fixed>,
        label: String,
    },
    Weekly(Weekly),
    Monthly(Monthly),
    Yearly(Yearly),
    Recurring(Box<Recurrence>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Weekly {
    /// From a weekday and time to a weekday and time, wrapping over the end of the week ("Fri 15:00" to
    /// "Mon 09:00"); the same weekday with an earlier end time means the following week.
    Span {
        from_day: Weekday,
        from: Minute,
        to_day: Weekday,
        to: Minute,
    },
    /// On each listed day from one time to another; an end that is not after the start is on the next day.
    Days {
        days: Vec<Weekday>,
        from: Minute,
        to: Minute,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Monthly {
    pub on: MonthDay,
    pub from: Minute,
    pub to: Minute,
}

/// Which day of the month a monthly period falls on. Business days are Monday to Friday (holidays are not known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MonthDay {
    /// The numbered day; months without it (day 31 in April) are skipped.
    Day(u32),
    LastDay,
    FirstBusinessDay,
    LastBusinessDay,
    /// The n-th weekday (1..=5), or the last one (-1); months without a fifth one are skipped.
    Nth(i8, Weekday),
}

/// Once a year, from a month-day and time to a month-day and time, crossing into the next year when the end comes
/// before the start. February 29 is read as the last day of February in years without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Yearly {
    pub from: (u32, u32, Minute),
    pub to: (u32, u32, Minute),
}

impl Period {
    /// A blackout; [`crate::BlackDayCalendar::add_window`] makes it a window.
    pub(crate) fn new(name: String, reason: Option<String>, zone: Zone, rule: Rule) -> Period {
        Period {
            name,
            reason,
            zone,
            rule,
            role: Role::Blackout,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The reason given for the period, if any.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The reason if one was given, otherwise what the rule says ("every Fri 15:00 to Mon 09:00 (Europe/Berlin)").
    pub fn explanation(&self) -> String {
        match &self.reason {
            Some(reason) if !reason.trim().is_empty() => reason.clone(),
            _ => self.describe(),
        }
    }

    /// What the rule says, in words, with its zone.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.rule, self.zone.name())
    }

    /// Whether the period covers the instant.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.spans(at, at + TimeDelta::seconds(1))
            .iter()
            .any(|span| span.contains(at))
    }

    /// The period's spans that overlap `from..to`, sorted by start (not clipped to the range).
    pub fn spans(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Span> {
        self.spans_by(from, to, false)
    }

    /// [`Period::spans`], with recurrences expanded from their first occurrence on rather than from shortly before
    /// `from`: the slow reference the fast path is tested against. Not for production use.
    #[doc(hidden)]
    pub fn spans_by_full_expansion(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Span> {
        self.spans_by(from, to, true)
    }

    fn spans_by(&self, from: DateTime<Utc>, to: DateTime<Utc>, full: bool) -> Vec<Span> {
        let days = || -> Option<(NaiveDate, NaiveDate)> {
            let first = from
                .with_timezone(&self.zone)
                .date_naive()
                .checked_sub_days(Days::new(self.rule.reach_days() + 1))?;
            let last = to
                .with_timezone(&self.zone)
                .date_naive()
                .checked_add_days(Days::new(1))?;
            Some((first, last))
        };
        // Only at the ends of the representable dates, hundreds of thousands of years away.
        let Some((first, last)) = days() else {
            return Vec::new();
        };
        let mut spans: Vec<Span> = match &self.rule {
            Rule::Once { spans, .. } => spans.iter().map(|fixed| fixed.as_role(self.role)).collect(),
            Rule::Recurring(recurrence) if full => recurrence.spans_from_start(self.zone, self.role, first, last),
            Rule::Recurring(recurrence) => recurrence.spans(self.zone, self.role, first, last),
            rule => rule
                .local_spans(first, last)
                .into_iter()
                .map(|(start, end)| self.role.place(self.zone, start, end))
                .collect(),
        };
        spans.retain(|span| span.start < span.end && span.overlaps(from, to));
        spans.sort();
        spans
    }
}

impl Rule {
    /// Whole days a span can reach past its start date.
    fn reach_days(&self) -> u64 {
        match self {
            Rule::Once { .. } => 0,
            Rule::Weekly(Weekly::Span { .. }) => 8,
            Rule::Weekly(Weekly::Days { .. }) | Rule::Monthly(_) => 2,
            Rule::Yearly(_) => 368,
            Rule::Recurring(recurrence) => recurrence.reach_days().max(0).unsigned_abs(),
        }
    }

    /// Wall-clock spans whose start date lies in `first..=last`.
    fn local_spans(&self, first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDateTime, NaiveDateTime)> {
        match self {
            Rule::Once { .. } => Vec::new(),
            Rule::Weekly(weekly) => days(first, last).filter_map(|day| weekly.span_on(day)).collect(),
            Rule::Monthly(monthly) => monthly.local_spans(first, last),
            Rule::Yearly(yearly) => (first.year() - 1..=last.year())
                .map(|year| yearly.span_in(year))
                .filter(|(start, _)| first <= start.date() && start.date() <= last)
                .collect(),
            // Placed on the time line by the recurrence itself (its lengths are not all wall-clock time).
            Rule::Recurring(_) => Vec::new(),
        }
    }
}

fn days(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    first.iter_days().take_while(move |day| *day <= last)
}

/// The wall-clock time `minute` minutes after the start of `day` (1440 is the next midnight).
pub(crate) fn at_minute(day: NaiveDate, minute: Minute) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN) + TimeDelta::minutes(i64::from(minute))
}

impl Weekly {
    fn span_on(&self, day: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
        match self {
            Weekly::Span {
                from_day,
                from,
                to_day,
                to,
            } => {
                if day.weekday() != *from_day {
                    return None;
                }
                let mut ahead = (to_day.num_days_from_monday() + 7 - from_day.num_days_from_monday()) % 7;
                if ahead == 0 && to <= from {
                    ahead = 7;
                }
                let end_day = day + Days::new(u64::from(ahead));
                Some((at_minute(day, *from), at_minute(end_day, *to)))
            }
            Weekly::Days { days, from, to } => {
                if !days.contains(&day.weekday()) {
                    return None;
                }
                let end = if to > from {
                    at_minute(day, *to)
                } else {
                    at_minute(day + Days::new(1), *to)
                };
                Some((at_minute(day, *from), end))
            }
        }
    }
}

impl Monthly {
    fn local_spans(&self, first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDateTime, NaiveDateTime)> {
        let mut month = first.with_day(1).expect("day 1 exists");
        let mut spans = Vec::new();
        while month <= last {
            if let Some(day) = self.on.in_month(month)
                && first <= day
                && day <= last
            {
                let end = if self.to > self.from {
                    at_minute(day, self.to)
                } else {
                    at_minute(day + Days::new(1), self.to)
                };
                spans.push((at_minute(day, self.from), end));
            }
            month = month + Months::new(1);
        }
        spans
    }
}

impl MonthDay {
    /// The day this selects in the month starting at `first` (which is day 1).
    pub(crate) fn in_month(self, first: NaiveDate) -> Option<NaiveDate> {
        let last = first + Months::new(1) - Days::new(1);
        let is_business = |day: &NaiveDate| !matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        match self {
            MonthDay::Day(n) => first.with_day(n),
            MonthDay::LastDay => Some(last),
            MonthDay::FirstBusinessDay => days(first, last).find(is_business),
            MonthDay::LastBusinessDay => days(first, last).filter(is_business).last(),
            MonthDay::Nth(n, weekday) => {
                let matching: Vec<NaiveDate> = days(first, last).filter(|day| day.weekday() == weekday).collect();
                if n < 0 {
                    matching.last().copied()
                } else {
                    matching.get(usize::from(n.unsigned_abs()) - 1).copied()
                }
            }
        }
    }
}

impl Yearly {
    /// The span that starts in `year`.
    fn span_in(&self, year: i32) -> (NaiveDateTime, NaiveDateTime) {
        let (from_month, from_day, from_minute) = self.from;
        let (to_month, to_day, to_minute) = self.to;
        let start = at_minute(month_day(year, from_month, from_day), from_minute);
        let mut end = at_minute(month_day(year, to_month, to_day), to_minute);
        if end <= start {
            end = at_minute(month_day(year + 1, to_month, to_day), to_minute);
        }
        (start, end)
    }
}

/// The date of a month-day in a year; February 29 is February 28 in years without it.
pub(crate) fn month_day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day)
        .or_else(|| NaiveDate::from_ymd_opt(year, month, day - 1))
        .expect("month-days are validated when parsed")
}

fn clock(minute: Minute) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn weekday(day: Weekday) -> String {
    day.to_string()
}

fn hours(from: Minute, to: Minute) -> String {
    if from == 0 && to == END_OF_DAY {
        "all day".to_owned()
    } else {
        format!("{} to {}", clock(from), clock(to))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Once { label, .. } => write!(f, "{label}"),
            Rule::Weekly(Weekly::Span {
                from_day,
                from,
                to_day,
                to,
            }) => write!(
                f,
                "every {} {} to {} {}",
                weekday(*from_day),
                clock(*from),
                weekday(*to_day),
                clock(*to)
            ),
            Rule::Weekly(Weekly::Days { days, from, to }) => {
                let days: Vec<String> = days.iter().map(|day| weekday(*day)).collect();
                write!(f, "every {} {}", days.join(", "), hours(*from, *to))
            }
            Rule::Monthly(Monthly { on, from, to }) => {
                let on = match on {
                    MonthDay::Day(n) => format!("day {n}"),
                    MonthDay::LastDay => "the last day".to_owned(),
                    MonthDay::FirstBusinessDay => "the first business day".to_owned(),
                    MonthDay::LastBusinessDay => "the last business day".to_owned(),
                    MonthDay::Nth(-1, day) => format!("the last {}", weekday(*day)),
                    MonthDay::Nth(n, day) => {
                        let nth = ["first", "second", "third", "fourth", "fifth"];
                        let index = usize::from(n.unsigned_abs()).saturating_sub(1).min(4);
                        format!("the {} {}", nth[index], weekday(*day))
                    }
                };
                write!(f, "monthly on {on}, {}", hours(*from, *to))
            }
            Rule::Yearly(Yearly { from, to }) => {
                // A date alone is the start of the day for `from`, and the whole day (to its end) for `to`.
                let (from_month, from_day, from_minute) = *from;
                let (to_month, to_day, to_minute) = *to;
                let from_time = if from_minute == 0 {
                    String::new()
                } else {
                    format!(" {}", clock(from_minute))
                };
                let to_time = if to_minute == END_OF_DAY {
                    String::new()
                } else {
                    format!(" {}", clock(to_minute))
                };
                write!(
                    f,
                    "every year from {from_month:02}-{from_day:02}{from_time} to {to_month:02}-{to_day:02}{to_time}"
                )
            }
            Rule::Recurring(recurrence) => write!(
                f,
                "{} from {} for {} minutes each",
                recurrence.rule(),
                recurrence.start().format("%Y-%m-%d %H:%M"),
                recurrence.length().num_minutes()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn month_days_select_the_right_day() {
        let cases = [
            (MonthDay::Day(1), "2026-05-01", Some("2026-05-01")),
            (MonthDay::Day(31), "2026-04-01", None),
            (MonthDay::Day(31), "2026-05-01", Some("2026-05-31")),
            (MonthDay::LastDay, "2028-02-01", Some("2028-02-29")),
            (MonthDay::LastDay, "2026-02-01", Some("2026-02-28")),
            // 2026-05-31 is a Sunday, 2026-05-30 a Saturday.
            (MonthDay::LastBusinessDay, "2026-05-01", Some("2026-05-29")),
            // 2026-08-01 is a Saturday.
            (MonthDay::FirstBusinessDay, "2026-08-01", Some("2026-08-03")),
            (MonthDay::Nth(1, Weekday::Mon), "2026-06-01", Some("2026-06-01")),
            (MonthDay::Nth(-1, Weekday::Fri), "2026-07-01", Some("2026-07-31")),
            (MonthDay::Nth(5, Weekday::Fri), "2026-07-01", Some("2026-07-31")),
            (MonthDay::Nth(5, Weekday::Mon), "2026-07-01", None),
        ];
        for (on, month, expected) in cases {
            assert_eq!(on.in_month(date(month)), expected.map(date), "{on:?} in {month}");
        }
    }

    #[test]
    fn february_29_is_the_last_day_of_february_in_other_years() {
        assert_eq!(month_day(2028, 2, 29), date("2028-02-29"));
        assert_eq!(month_day(2027, 2, 29), date("2027-02-28"));
    }
}
