//! A rule's checked parts ([`super::rule::check`]: `KEY=VALUE`, keys upper-case, without UNTIL and COUNT) read into
//! [`RuleParts`]: each value in the range RFC 5545 gives it, number lists sorted and without repeats. Nothing here
//! looks across parts or at DTSTART; [`super::validate`] does.

use std::fmt;
use std::str::FromStr;

use chrono::Weekday;

/// FREQ. Ordered from the slowest to the fastest, as RFC 5545 lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Frequency {
    Yearly,
    Monthly,
    Weekly,
    Daily,
    Hourly,
    /// Read so that the refusal can name it; never expanded.
    Minutely,
    /// Read so that the refusal can name it; never expanded.
    Secondly,
}

impl Frequency {
    fn read(text: &str) -> Option<Frequency> {
        Some(match text {
            "YEARLY" => Frequency::Yearly,
            "MONTHLY" => Frequency::Monthly,
            "WEEKLY" => Frequency::Weekly,
            "DAILY" => Frequency::Daily,
            "HOURLY" => Frequency::Hourly,
            "MINUTELY" => Frequency::Minutely,
            "SECONDLY" => Frequency::Secondly,
            _ => return None,
        })
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Frequency::Yearly => "YEARLY",
            Frequency::Monthly => "MONTHLY",
            Frequency::Weekly => "WEEKLY",
            Frequency::Daily => "DAILY",
            Frequency::Hourly => "HOURLY",
            Frequency::Minutely => "MINUTELY",
            Frequency::Secondly => "SECONDLY",
        })
    }
}

/// One BYDAY item: every such weekday of the period, or the n-th (from the end when negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByDay {
    Every(Weekday),
    Nth(i16, Weekday),
}

impl ByDay {
    /// `MO`, `1MO`, `+2TU`, `-1FR` (upper-case). An ordinal of 0 (`0MO`) is every such weekday, as the `rrule`
    /// crate reads it; an ordinal that is not a number is refused.
    fn read(item: &str) -> Option<ByDay> {
        let item = item.trim();
        let split = item.len().checked_sub(2)?;
        let (ordinal, day) = (item.get(..split)?, item.get(split..)?);
        let weekday = weekday(day)?;
        if ordinal.is_empty() {
            return Some(ByDay::Every(weekday));
        }
        match ordinal.parse::<i16>().ok()? {
            0 => Some(ByDay::Every(weekday)),
            n => Some(ByDay::Nth(n, weekday)),
        }
    }

    /// An order for sorting and removing repeats: every-weekday items first.
    fn key(self) -> (bool, i16, u32) {
        match self {
            ByDay::Every(day) => (false, 0, day.num_days_from_monday()),
            ByDay::Nth(n, day) => (true, n, day.num_days_from_monday()),
        }
    }
}

/// A rule's parts as written (UNTIL and COUNT are kept by [`super::rule::RuleText`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleParts {
    pub freq: Frequency,
    pub interval: u16,
    pub week_start: Weekday,
    pub by_set_pos: Vec<i32>,
    pub by_month: Vec<u8>,
    pub by_month_day: Vec<i8>,
    pub by_year_day: Vec<i16>,
    pub by_week_no: Vec<i8>,
    pub by_day: Vec<ByDay>,
    pub by_hour: Vec<u8>,
    pub by_minute: Vec<u8>,
    pub by_second: Vec<u8>,
}

impl RuleParts {
    /// Reads the parts; errors are a sentence naming the part.
    pub(crate) fn read(parts: &[String]) -> Result<RuleParts, String> {
        let mut rule = RuleParts {
            freq: Frequency::Yearly,
            interval: 1,
            week_start: Weekday::Mon,
            by_set_pos: Vec::new(),
            by_month: Vec::new(),
            by_month_day: Vec::new(),
            by_year_day: Vec::new(),
            by_week_no: Vec::new(),
            by_day: Vec::new(),
            by_hour: Vec::new(),
            by_minute: Vec::new(),
            by_second: Vec::new(),
        };
        for part in parts {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!("the rule does not parse: \"{part}\" is not a KEY=VALUE part"));
            };
            match key {
                "FREQ" => {
                    rule.freq = Frequency::read(value).ok_or_else(|| {
                        unreadable(key, value, "a frequency (YEARLY, MONTHLY, WEEKLY, DAILY or HOURLY)")
                    })?;
                }
                "INTERVAL" => {
                    rule.interval = value
                        .parse()
                        .map_err(|_| unreadable(key, value, "a whole number from 1 to 65535"))?;
                }
                "WKST" => rule.week_start = weekday(value).ok_or_else(|| unreadable(key, value, WEEKDAY))?,
                "BYSETPOS" => rule.by_set_pos = numbers(key, value, "positions", |_: i32| true)?,
                "BYMONTH" => rule.by_month = numbers(key, value, "months from 1 to 12", |m: u8| (1..=12).contains(&m))?,
                "BYMONTHDAY" => {
                    rule.by_month_day = numbers(key, value, "days of the month from -31 to 31", |d: i8| {
                        (-31..=31).contains(&d)
                    })?;
                }
                "BYYEARDAY" => {
                    rule.by_year_day = numbers(key, value, "days of the year from -366 to 366", |d: i16| {
                        (-366..=366).contains(&d)
                    })?;
                }
                "BYWEEKNO" => {
                    rule.by_week_no = numbers(key, value, "weeks from -53 to 53", |w: i8| (-53..=53).contains(&w))?;
                }
                "BYDAY" => {
                    let mut days = value
                        .split(',')
                        .map(ByDay::read)
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| unreadable(key, value, "a list of weekdays (MO, 1MO, -1FR, …)"))?;
                    days.sort_by_key(|day| day.key());
                    days.dedup();
                    rule.by_day = days;
                }
                "BYHOUR" => rule.by_hour = numbers(key, value, "hours from 0 to 23", |h: u8| h < 24)?,
                "BYMINUTE" => rule.by_minute = numbers(key, value, "minutes from 0 to 59", |m: u8| m < 60)?,
                "BYSECOND" => rule.by_second = numbers(key, value, "seconds from 0 to 59", |s: u8| s < 60)?,
                _ => return Err(format!("the rule does not parse: {key} is not an RRULE part")),
            }
        }
        Ok(rule)
    }
}

const WEEKDAY: &str = "a weekday (MO, TU, WE, TH, FR, SA or SU)";

fn unreadable(key: &str, value: &str, expected: &str) -> String {
    format!("the rule does not parse: {key}={value} is not {expected}")
}

pub(crate) fn weekday(value: &str) -> Option<Weekday> {
    match value {
        "MO" => Some(Weekday::Mon),
        "TU" => Some(Weekday::Tue),
        "WE" => Some(Weekday::Wed),
        "TH" => Some(Weekday::Thu),
        "FR" => Some(Weekday::Fri),
        "SA" => Some(Weekday::Sat),
        "SU" => Some(Weekday::Sun),
        _ => None,
    }
}

/// A comma-separated list of numbers each `accept`ed, sorted and without repeats.
fn numbers<T: FromStr + Ord + Copy>(
    key: &str,
    value: &str,
    what: &str,
    accept: impl Fn(T) -> bool,
) -> Result<Vec<T>, String> {
    let mut read = Vec::new();
    for item in value.split(',') {
        match item.trim().parse::<T>() {
            Ok(number) if accept(number) => read.push(number),
            _ => return Err(unreadable(key, value, &format!("a list of {what}"))),
        }
    }
    read.sort();
    read.dedup();
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RuleParts, String> {
        RuleParts::read(&text.split(';').map(str::to_owned).collect::<Vec<_>>())
    }

    /// The parts as the `rrule` crate's own string parser reads them: the oracle.
    fn oracle(text: &str) -> RuleParts {
        let parsed: rrule::RRule<rrule::Unvalidated> = text.parse().unwrap();
        let mut by_day: Vec<ByDay> = parsed
            .get_by_weekday()
            .iter()
            .map(|day| match *day {
                rrule::NWeekday::Every(day) => ByDay::Every(day),
                rrule::NWeekday::Nth(n, day) => ByDay::Nth(n, day),
            })
            .collect();
        by_day.sort_by_key(|day| day.key());
        by_day.dedup();
        let freq = Frequency::read(&parsed.get_freq().to_string()).unwrap();
        RuleParts {
            freq,
            interval: parsed.get_interval(),
            week_start: parsed.get_week_start(),
            by_set_pos: parsed.get_by_set_pos().to_vec(),
            by_month: parsed.get_by_month().to_vec(),
            by_month_day: parsed.get_by_month_day().to_vec(),
            by_year_day: parsed.get_by_year_day().to_vec(),
            by_week_no: parsed.get_by_week_no().to_vec(),
            by_day,
            by_hour: parsed.get_by_hour().to_vec(),
            by_minute: parsed.get_by_minute().to_vec(),
            by_second: parsed.get_by_second().to_vec(),
        }
    }

    /// Our reading and the `rrule` crate's string parser's are the same rule, part for part.
    #[test]
    fn every_part_reads_as_the_rrule_parser_reads_it() {
        for text in [
            "FREQ=DAILY",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU",
            "FREQ=MONTHLY;BYDAY=-1FR,+1MO,2TU,MO,0TU;BYSETPOS=-1,1",
            "FREQ=YEARLY;BYMONTH=12,11,12;BYMONTHDAY=24,-1,+3",
            "FREQ=YEARLY;BYYEARDAY=1,-366,100;BYWEEKNO=-53,1,53",
            "FREQ=DAILY;BYHOUR=23,0;BYMINUTE=59,0;BYSECOND=30",
            "FREQ=HOURLY;INTERVAL=65535",
            "FREQ=YEARLY;BYDAY=20MO,-52SU;BYSETPOS=366,-366,400",
            "FREQ=MINUTELY;WKST=TH",
        ] {
            assert_eq!(read(text).unwrap(), oracle(text), "{text}");
        }
    }

    #[test]
    fn a_value_out_of_range_is_named_with_what_was_expected() {
        for (part, words) in [
            ("FREQ=SOMETIMES", "FREQ=SOMETIMES is not a frequency"),
            ("INTERVAL=65536", "INTERVAL=65536 is not a whole number"),
            ("WKST=XX", "WKST=XX is not a weekday"),
            ("BYMONTH=13", "BYMONTH=13 is not a list of months from 1 to 12"),
            ("BYMONTHDAY=32", "days of the month"),
            ("BYYEARDAY=367", "days of the year"),
            ("BYWEEKNO=54", "weeks from -53 to 53"),
            ("BYDAY=MO,XX", "BYDAY=MO,XX is not a list of weekdays"),
            ("BYHOUR=24", "hours from 0 to 23"),
            ("BYMINUTE=60", "minutes"),
            ("BYSECOND=x", "seconds"),
            ("BYSETPOS=1.5", "positions"),
        ] {
            let problem = read(&format!("FREQ=DAILY;{part}")).unwrap_err();
            assert!(problem.starts_with("the rule does not parse: "), "{problem}");
            assert!(problem.contains(words), "{part}: {problem}");
        }
    }

    /// The `rrule` crate reads an ordinal it cannot read as "every" (`XMO` is every Monday) and panics on some text
    /// that is not ASCII (it slices the last two bytes); both are refused here.
    #[test]
    fn an_unreadable_weekday_ordinal_is_refused_not_read_as_every() {
        for value in ["XMO", "1 MO", "+MO", "99999MO", "-1F\u{feff}R", "\u{e9}A", "M", "1"] {
            let problem = read(&format!("FREQ=MONTHLY;BYDAY={value}")).unwrap_err();
            assert!(problem.contains("is not a list of weekdays"), "{value}: {problem}");
        }
        assert_eq!(
            read("FREQ=MONTHLY;BYDAY= MO,0TU,+2WE").unwrap().by_day,
            [
                ByDay::Every(Weekday::Mon),
                ByDay::Every(Weekday::Tue),
                ByDay::Nth(2, Weekday::Wed)
            ]
        );
    }
}
