//! The text of an RRULE, checked part by part before its values are read ([`super::parts`]).
//!
//! Some rules RFC 5545 forbids would expand to nothing, or to less than was meant (as the `rrule` crate, the
//! engine's oracle, expands them): `INTERVAL=0` (no occurrences at all), `BYMONTHDAY=0` (silently dropped),
//! `COUNT=0`, `COUNT` together with `UNTIL`. A rule that quietly expands to nothing would let releases through a
//! BlackDay, so each of these is refused here with a sentence saying which part is wrong.

use chrono::{LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};

use crate::zone::Zone;

/// The most occurrences a `COUNT` may ask for. A COUNT rule is expanded once, when the calendar is read, to find
/// where it ends; beyond this a feed could cost the gate its deadline. `UNTIL` has no such limit.
pub(crate) const MAX_COUNT: u32 = 10_000;

/// A rule's parts, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleText {
    /// `KEY=VALUE` parts other than UNTIL and COUNT, keys upper-cased.
    pub parts: Vec<String>,
    /// UNTIL as a wall-clock time of the period's zone (see [`parse_until`]).
    pub until: Option<NaiveDateTime>,
    pub count: Option<u32>,
    /// The rule as written, without an `RRULE:` prefix.
    pub text: String,
}

const KEYS: [&str; 14] = [
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
];

/// Checks the parts of a rule (with or without the `RRULE:` prefix); errors are a sentence.
pub(crate) fn check(rule: &str, zone: Zone) -> Result<RuleText, String> {
    let text = rule.trim();
    let text = match text.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("RRULE:") => &text[6..],
        _ => text,
    };
    if text.is_empty() {
        return Err("the rule is empty".to_owned());
    }
    let mut checked = RuleText {
        parts: Vec::new(),
        until: None,
        count: None,
        text: text.to_owned(),
    };
    let mut seen: Vec<String> = Vec::new();
    for part in text.split(';').filter(|part| !part.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!("\"{part}\" is not a KEY=VALUE part"));
        };
        let key = key.trim().to_ascii_uppercase();
        let value = value.trim();
        if key == "DTSTART" {
            return Err("DTSTART is not part of an RRULE; give the first occurrence as the start".to_owned());
        }
        if !KEYS.contains(&key.as_str()) {
            return Err(format!("{key} is not an RRULE part (RFC 5545 §3.3.10)"));
        }
        if seen.contains(&key) {
            return Err(format!("{key} is given twice"));
        }
        if value.is_empty() {
            return Err(format!("{key}= has no value"));
        }
        seen.push(key.clone());
        match key.as_str() {
            "UNTIL" => checked.until = Some(parse_until(value, zone)?),
            "COUNT" => checked.count = Some(count(value)?),
            "INTERVAL" if value.parse::<u32>().is_ok_and(|n| n == 0) => {
                return Err("INTERVAL=0 repeats never; INTERVAL is 1 or more".to_owned());
            }
            "BYMONTHDAY" | "BYYEARDAY" | "BYWEEKNO" | "BYSETPOS" => {
                // Any spelling of 0 ("00", "-0").
                let zero = |n: &str| {
                    let digits = n.trim().trim_start_matches(['+', '-']);
                    !digits.is_empty() && digits.bytes().all(|digit| digit == b'0')
                };
                if value.split(',').any(zero) {
                    return Err(format!(
                        "{key}={value} has a 0, which names no day; count from 1 (or -1 from the end)"
                    ));
                }
                checked.parts.push(format!("{key}={value}"));
            }
            // RFC 5545 values are case-insensitive ("freq=weekly;byday=mo").
            _ => checked.parts.push(format!("{key}={}", value.to_ascii_uppercase())),
        }
    }
    if !seen.iter().any(|key| key == "FREQ") {
        return Err("FREQ is missing".to_owned());
    }
    if checked.count.is_some() && checked.until.is_some() {
        return Err("COUNT and UNTIL are both given; RFC 5545 allows one of them".to_owned());
    }
    Ok(checked)
}

fn count(value: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(0) => Err("COUNT=0 has no occurrences; COUNT is 1 or more".to_owned()),
        Ok(n) if n <= MAX_COUNT => Ok(n),
        _ => Err(format!(
            "COUNT={value} is not a number of occurrences from 1 to {MAX_COUNT}; give UNTIL instead"
        )),
    }
}

/// UNTIL as a wall-clock time of `zone`. A UTC value (`...Z`) becomes the zone's reading of that instant; when that
/// reading happens twice (a fall-back night) and UNTIL is the second time, the reading of the first pass is used, so
/// every occurrence before the UNTIL instant stays in (RFC 5545 compares instants). A floating value is taken as is,
/// and a date includes its whole day.
pub(crate) fn parse_until(value: &str, zone: Zone) -> Result<NaiveDateTime, String> {
    let bad = || format!("UNTIL={value} is not a date (20261231) or date-time (20261231T235959Z)");
    let date_time = |text: &str| {
        (text.len() == 15)
            .then(|| NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S").ok())
            .flatten()
            .ok_or_else(bad)
    };
    if let Some(utc) = value.strip_suffix('Z') {
        let at = date_time(utc)?;
        let local = zone.from_utc_datetime(&at).naive_local();
        return Ok(match zone.from_local_datetime(&local) {
            LocalResult::Ambiguous(first, second) if second.naive_utc() == at => {
                at + chrono::TimeDelta::seconds(i64::from(first.offset().fix().local_minus_utc()))
            }
            _ => local,
        });
    }
    if value.contains('T') {
        return date_time(value);
    }
    let day = (value.len() == 8)
        .then(|| NaiveDate::parse_from_str(value, "%Y%m%d").ok())
        .flatten()
        .ok_or_else(bad)?;
    Ok(day.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_parts_that_would_expand_to_nothing_or_less() {
        let cases = [
            ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0"),
            ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY=0 has a 0"),
            ("FREQ=MONTHLY;BYMONTHDAY=1,-0", "has a 0"),
            ("FREQ=MONTHLY;BYMONTHDAY=00", "has a 0"),
            ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=+000", "has a 0"),
            ("FREQ=YEARLY;BYYEARDAY=0", "BYYEARDAY=0"),
            ("FREQ=DAILY;COUNT=0", "COUNT=0"),
            ("FREQ=DAILY;COUNT=3;UNTIL=20270101", "COUNT and UNTIL"),
            ("FREQ=DAILY;COUNT=99999999", "give UNTIL instead"),
            ("FREQ=DAILY;COUNT=-1", "COUNT=-1"),
            ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"),
            ("FREQ=DAILY;BYHOUR=", "BYHOUR= has no value"),
            ("FREQ=DAILY;BYFOO=1", "BYFOO is not an RRULE part"),
            ("FREQ=DAILY;UNTIL", "not a KEY=VALUE part"),
            ("INTERVAL=2", "FREQ is missing"),
            ("FREQ=DAILY;UNTIL=+2026123", "not a date"),
            ("rrule:", "empty"),
        ];
        for (rule, expected) in cases {
            let problem = check(rule, Zone::UTC).unwrap_err();
            assert!(problem.contains(expected), "{rule}: {problem}");
        }
        let fine = check("RRULE:freq=weekly;byday=MO;count=3", Zone::UTC).unwrap();
        assert_eq!(fine.parts, ["FREQ=WEEKLY", "BYDAY=MO"]);
        assert_eq!(fine.count, Some(3));
    }

    #[test]
    fn a_utc_until_in_the_repeated_hour_keeps_the_first_pass() {
        let local = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // Berlin falls back at 01:00Z on 2026-10-25: 00:15Z is 02:15 CEST (first pass), 01:15Z is 02:15 CET.
        let berlin = Zone::named("Europe/Berlin").unwrap();
        assert_eq!(
            parse_until("20261025T001500Z", berlin).unwrap(),
            local("2026-10-25 02:15")
        );
        assert_eq!(
            parse_until("20261025T011500Z", berlin).unwrap(),
            local("2026-10-25 03:15")
        );
        // Adelaide (+10:30 -> +09:30 at 16:30Z on 2026-04-04): 16:45Z is the second 02:15.
        let adelaide = Zone::named("Australia/Adelaide").unwrap();
        assert_eq!(
            parse_until("20260404T164500Z", adelaide).unwrap(),
            local("2026-04-05 03:15")
        );
        assert_eq!(
            parse_until("20260404T120000Z", adelaide).unwrap(),
            local("2026-04-04 22:30")
        );
    }
}
