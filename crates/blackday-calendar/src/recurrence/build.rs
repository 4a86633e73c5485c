//! A rule's checked parts made into the `rrule` crate's rule with its builder rather than its string parser. The
//! parser splits `KEY=VALUE;…` with regular expressions, which link a regex engine into the gate (0.5 MB of
//! text) for a grammar [`super::rule::check`] has already split. Values are read as that parser reads them (the
//! same ranges, number lists sorted and deduplicated, weekdays by `NWeekday`'s own `FromStr`), so a rule means
//! what it meant; `validate` then applies the crate's rules across parts, as before.

use std::str::FromStr;

use chrono::{Month, Weekday};
use rrule::{Frequency, NWeekday, RRule, Unvalidated};

/// The rule the parts (`KEY=VALUE`, keys upper-case, without UNTIL and COUNT) describe; errors are a sentence.
pub(crate) fn unvalidated(parts: &[String]) -> Result<RRule<Unvalidated>, String> {
    let mut rule = RRule::new(Frequency::Yearly);
    for part in parts {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!("the rule does not parse: \"{part}\" is not a KEY=VALUE part"));
        };
        rule = match key {
            "FREQ" => rule.freq(
                value
                    .parse()
                    .map_err(|_| unreadable(key, value, "a frequency (YEARLY, MONTHLY, WEEKLY, DAILY or HOURLY)"))?,
            ),
            "INTERVAL" => rule.interval(
                value
                    .parse()
                    .map_err(|_| unreadable(key, value, "a whole number from 1 to 65535"))?,
            ),
            "WKST" => rule.week_start(weekday(value).ok_or_else(|| unreadable(key, value, WEEKDAY))?),
            "BYSETPOS" => rule.by_set_pos(numbers(key, value, "positions", |_: i32| true)?),
            "BYMONTH" => {
                let months = numbers(key, value, "months from 1 to 12", |m: u8| (1..=12).contains(&m))?;
                let months: Vec<Month> = months.into_iter().filter_map(|m| Month::try_from(m).ok()).collect();
                rule.by_month(&months)
            }
            "BYMONTHDAY" => rule.by_month_day(numbers(key, value, "days of the month from -31 to 31", |d: i8| {
                (-31..=31).contains(&d)
            })?),
            "BYYEARDAY" => rule.by_year_day(numbers(key, value, "days of the year from -366 to 366", |d: i16| {
                (-366..=366).contains(&d)
            })?),
            "BYWEEKNO" => rule.by_week_no(numbers(key, value, "weeks from -53 to 53", |w: i8| {
                (-53..=53).contains(&w)
            })?),
            "BYDAY" => rule.by_weekday(
                value
                    .split(',')
                    .map(|day| day.parse::<NWeekday>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| unreadable(key, value, "a list of weekdays (MO, 1MO, -1FR, …)"))?,
            ),
            "BYHOUR" => rule.by_hour(numbers(key, value, "hours from 0 to 23", |h: u8| h < 24)?),
            "BYMINUTE" => rule.by_minute(numbers(key, value, "minutes from 0 to 59", |m: u8| m < 60)?),
            "BYSECOND" => rule.by_second(numbers(key, value, "seconds from 0 to 59", |s: u8| s < 60)?),
            _ => return Err(format!("the rule does not parse: {key} is not an RRULE part")),
        };
    }
    Ok(rule)
}

const WEEKDAY: &str = "a weekday (MO, TU, WE, TH, FR, SA or SU)";

fn unreadable(key: &str, value: &str, expected: &str) -> String {
    format!("the rule does not parse: {key}={value} is not {expected}")
}

fn weekday(value: &str) -> Option<Weekday> {
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

    /// The builder's rule and the string parser's are the same rule, part for part.
    #[test]
    fn every_part_reads_as_the_rrule_parser_reads_it() {
        for text in [
            "FREQ=DAILY",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU",
            "FREQ=MONTHLY;BYDAY=-1FR,+1MO,2TU;BYSETPOS=-1,1",
            "FREQ=YEARLY;BYMONTH=12,11,12;BYMONTHDAY=24,-1,+3",
            "FREQ=YEARLY;BYYEARDAY=1,-366,100;BYWEEKNO=-53,1,53",
            "FREQ=DAILY;BYHOUR=23,0;BYMINUTE=59,0;BYSECOND=30",
            "FREQ=HOURLY;INTERVAL=65535",
        ] {
            let parts: Vec<String> = text.split(';').map(str::to_owned).collect();
            let built = unvalidated(&parts).unwrap();
            let parsed: RRule<Unvalidated> = text.parse().unwrap();
            assert_eq!(built, parsed, "{text}");
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
            let problem = unvalidated(&["FREQ=DAILY".to_owned(), part.to_owned()]).unwrap_err();
            assert!(problem.starts_with("the rule does not parse: "), "{problem}");
            assert!(problem.contains(words), "{part}: {problem}");
        }
    }
}
