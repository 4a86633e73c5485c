//! RFC 5545 recurrence (RRULE, RDATE, EXDATE), expanded by the `rrule` crate in wall-clock time.
//!
//! The rule is expanded on *floating* wall-clock times (the `rrule` crate is handed the wall-clock reading as if it
//! were UTC), and each occurrence is then placed in the period's zone with the same daylight-saving rule as every
//! other period ([`crate::zone::resolve`]). So "every day at 02:30" on a spring-forward night starts at the change
//! (03:00), exactly like a weekly period would, and an occurrence's length is wall-clock time: a 24-hour holiday
//! from 00:00 ends at 00:00 the next day even when that day has 23 or 25 hours.
//!
//! `UNTIL` is read by this module, not by the `rrule` crate (which would read a floating `UNTIL` in the machine's
//! own zone): a UTC `UNTIL` (`...Z`) is turned into the period's wall-clock time, a floating one is taken as is, and
//! a date-only one includes the whole of that day.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};

/// A date (or date-time) taken out of a recurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exception {
    /// The occurrence starting at exactly this wall-clock time.
    At(NaiveDateTime),
    /// Every occurrence starting on this date.
    Day(NaiveDate),
}

/// A recurring period: occurrences of a rule, each lasting `length` of wall-clock time.
#[derive(Debug, Clone)]
pub(crate) struct Recurrence {
    set: RRuleSet,
    rule: String,
    start: NaiveDateTime,
    length: TimeDelta,
    except_days: Vec<NaiveDate>,
}

impl Recurrence {
    /// Builds a recurrence from the text of an RRULE (with or without the `RRULE:` prefix).
    ///
    /// With `start_counts` (iCalendar), the start is an occurrence even if the rule does not produce it, as RFC 5545
    /// says; without it (the JSON document), only the rule's occurrences count. Errors are a sentence saying what is
    /// wrong with the rule.
    pub(crate) fn new(
        rule: &str,
        start: NaiveDateTime,
        length: TimeDelta,
        zone: Tz,
        exceptions: &[Exception],
        extra_dates: &[NaiveDateTime],
        start_counts: bool,
    ) -> Result<Recurrence, String> {
        let text = rule.trim();
        let text = text
            .strip_prefix("RRULE:")
            .or_else(|| text.strip_prefix("rrule:"))
            .unwrap_or(text);
        if text.is_empty() {
            return Err("the rule is empty".to_owned());
        }
        let mut until = None;
        let mut parts = Vec::new();
        for part in text.split(';').filter(|part| !part.is_empty()) {
            match part.split_once('=') {
                Some((key, value)) if key.eq_ignore_ascii_case("UNTIL") => until = Some(parse_until(value, zone)?),
                Some((key, _)) if key.eq_ignore_ascii_case("DTSTART") => {
                    return Err("DTSTART is not part of an RRULE; give the first occurrence as the start".to_owned());
                }
                _ => parts.push(part),
            }
        }
        let mut parsed: RRule<Unvalidated> = parts.join(";").parse().map_err(|e| rrule_problem(&e))?;
        // Every query steps through the occurrences from the start: a rule repeating every few seconds or minutes
        // would cost a gate its deadline, and no BlackDay recurs that often.
        if parsed.get_freq() > Frequency::Hourly {
            return Err(format!(
                "FREQ={} repeats too often for a BlackDay; use HOURLY or slower (DAILY with BYHOUR for times of day)",
                parsed.get_freq()
            ));
        }
        if let Some(until) = until {
            if until < start {
                return Err(format!("UNTIL ({until}) is before the first occurrence ({start})"));
            }
            parsed = parsed.until(floating(until));
        }
        let validated = parsed.validate(floating(start)).map_err(|e| rrule_problem(&e))?;
        let rule_text = text.to_owned();
        let mut set = RRuleSet::new(floating(start)).rrule(validated).limit();
        if start_counts {
            set = set.rdate(floating(start));
        }
        for extra in extra_dates {
            set = set.rdate(floating(*extra));
        }
        let mut except_days = Vec::new();
        for exception in exceptions {
            match exception {
                Exception::At(at) => set = set.exdate(floating(*at)),
                Exception::Day(day) => except_days.push(*day),
            }
        }
        Ok(Recurrence {
            set,
            rule: rule_text,
            start,
            length,
            except_days,
        })
    }

    /// The first wall-clock time the rule itself produces (ignoring exceptions and extra dates), if any.
    pub(crate) fn first_of_rule(&self) -> Option<NaiveDateTime> {
        let bare = RRuleSet::new(floating(self.start))
            .set_rrules(self.set.get_rrule().clone())
            .limit();
        (&bare).into_iter().next().map(|at| at.naive_utc())
    }

    pub(crate) fn start(&self) -> NaiveDateTime {
        self.start
    }

    pub(crate) fn rule(&self) -> &str {
        &self.rule
    }

    pub(crate) fn length(&self) -> TimeDelta {
        self.length
    }

    /// Whole days an occurrence can reach past its start date.
    pub(crate) fn reach_days(&self) -> i64 {
        self.length.num_days() + 1
    }

    /// Occurrences (wall-clock start and end) whose start date lies in `first..=last`.
    pub(crate) fn local_spans(&self, first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDateTime, NaiveDateTime)> {
        (&self.set)
            .into_iter()
            .map(|at| at.naive_utc())
            .skip_while(|at| at.date() < first)
            .take_while(|at| at.date() <= last)
            .filter(|at| !self.except_days.contains(&at.date()))
            .map(|at| (at, at + self.length))
            .collect()
    }
}

/// A wall-clock time as the `rrule` crate's floating value (the reading stored as UTC).
fn floating(local: NaiveDateTime) -> DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&local)
}

fn parse_until(value: &str, zone: Tz) -> Result<NaiveDateTime, String> {
    let bad = || format!("UNTIL={value} is not a date (20261231) or date-time (20261231T235959Z)");
    if let Some(utc) = value.strip_suffix('Z') {
        let at = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
        return Ok(zone.from_utc_datetime(&at).naive_local());
    }
    if value.contains('T') {
        return NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").map_err(|_| bad());
    }
    let day = NaiveDate::parse_from_str(value, "%Y%m%d").map_err(|_| bad())?;
    Ok(day.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time")))
}

fn rrule_problem(error: &rrule::RRuleError) -> String {
    match error {
        rrule::RRuleError::ParserError(e) => format!("the rule does not parse: {e}"),
        rrule::RRuleError::ValidationError(e) => format!("the rule is not valid: {e}"),
        rrule::RRuleError::IterError(e) => format!("the rule cannot be expanded: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn starts(recurrence: &Recurrence, first: &str, last: &str) -> Vec<String> {
        let first = NaiveDate::parse_from_str(first, "%Y-%m-%d").unwrap();
        let last = NaiveDate::parse_from_str(last, "%Y-%m-%d").unwrap();
        recurrence
            .local_spans(first, last)
            .into_iter()
            .map(|(start, _)| start.format("%Y-%m-%d %H:%M").to_string())
            .collect()
    }

    #[test]
    fn expands_with_exceptions_by_time_and_by_day() {
        let recurrence = Recurrence::new(
            "RRULE:FREQ=WEEKLY;BYDAY=FR",
            at("2026-01-02 15:00"),
            TimeDelta::hours(66),
            Tz::Europe__Berlin,
            &[
                Exception::At(at("2026-01-09 15:00")),
                Exception::Day(NaiveDate::from_ymd_opt(2026, 1, 23).unwrap()),
            ],
            &[],
            false,
        )
        .unwrap();
        assert_eq!(
            starts(&recurrence, "2026-01-01", "2026-01-31"),
            ["2026-01-02 15:00", "2026-01-16 15:00", "2026-01-30 15:00"]
        );
        assert_eq!(recurrence.reach_days(), 3);
    }

    #[test]
    fn until_in_utc_is_read_in_the_zone_and_a_date_until_includes_the_day() {
        // 2026-03-05T23:30Z is 2026-03-06 00:30 in Berlin: the occurrence on the 6th at 00:30 is included.
        let recurrence = Recurrence::new(
            "FREQ=DAILY;UNTIL=20260305T233000Z",
            at("2026-03-01 00:30"),
            TimeDelta::hours(1),
            Tz::Europe__Berlin,
            &[],
            &[],
            false,
        )
        .unwrap();
        assert_eq!(starts(&recurrence, "2026-03-01", "2026-03-31").len(), 6);
        let by_date = Recurrence::new(
            "FREQ=DAILY;UNTIL=20260303",
            at("2026-03-01 18:00"),
            TimeDelta::hours(1),
            Tz::UTC,
            &[],
            &[],
            false,
        )
        .unwrap();
        assert_eq!(starts(&by_date, "2026-03-01", "2026-03-31").len(), 3);
    }

    #[test]
    fn the_start_counts_only_when_asked() {
        let make = |start_counts| {
            Recurrence::new(
                "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4",
                at("2026-01-01 00:00"),
                TimeDelta::days(1),
                Tz::UTC,
                &[],
                &[],
                start_counts,
            )
            .unwrap()
        };
        assert_eq!(starts(&make(false), "2026-01-01", "2026-12-31"), ["2026-07-04 00:00"]);
        assert_eq!(
            starts(&make(true), "2026-01-01", "2026-12-31"),
            ["2026-01-01 00:00", "2026-07-04 00:00"]
        );
        assert_eq!(make(false).first_of_rule(), Some(at("2026-07-04 00:00")));
    }

    #[test]
    fn refuses_bad_rules_with_a_sentence() {
        let cases = [
            ("", "empty"),
            ("FREQ=SOMETIMES", "does not parse"),
            ("FREQ=DAILY;BYHOUR=25", "BYHOUR"),
            ("FREQ=MONTHLY;BYWEEKNO=3", "not valid"),
            ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL=tomorrow is not a date"),
            ("FREQ=DAILY;UNTIL=20250101", "before the first occurrence"),
            ("DTSTART=20260101;FREQ=DAILY", "DTSTART"),
        ];
        for (rule, expected) in cases {
            let problem = Recurrence::new(
                rule,
                at("2026-01-01 00:00"),
                TimeDelta::hours(1),
                Tz::UTC,
                &[],
                &[],
                false,
            )
            .unwrap_err();
            assert!(problem.contains(expected), "{rule}: {problem}");
        }
    }
}
