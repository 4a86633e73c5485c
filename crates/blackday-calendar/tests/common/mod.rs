//! Helpers shared by the test files.
#![allow(dead_code)]

use blackday_calendar::{BlackDayCalendar, Cause, Verdict};
use chrono::{DateTime, Utc};

pub fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

pub fn calendar(json: &str) -> BlackDayCalendar {
    BlackDayCalendar::from_json(json).unwrap_or_else(|e| panic!("{e}\n{json}"))
}

/// The verdict in short: `"clear"`, or `"blocked by NAME until T"` (`until ?` when not within the horizon).
pub fn said(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Clear { .. } => "clear".to_owned(),
        Verdict::Blocked {
            period_name, ends_at, ..
        } => format!("blocked by {period_name} until {}", until(*ends_at)),
    }
}

pub fn until(at: Option<DateTime<Utc>>) -> String {
    at.map_or("?".to_owned(), |at| at.format("%Y-%m-%dT%H:%MZ").to_string())
}

pub fn cause(verdict: &Verdict) -> Option<Cause> {
    match verdict {
        Verdict::Clear { .. } => None,
        Verdict::Blocked { cause, .. } => Some(*cause),
    }
}

/// Checks a table of (instant, expected short verdict) against a calendar.
pub fn check_table(calendar: &BlackDayCalendar, table: &[(&str, &str)]) {
    let mut wrong = Vec::new();
    for (at, expected) in table {
        let got = said(&calendar.verdict(utc(at)));
        if got != *expected {
            wrong.push(format!("at {at}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// A small deterministic random number generator (splitmix64), so property loops need no dependency.
pub struct Random(pub u64);

impl Random {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An instant in `from..to`, to the second.
    pub fn instant(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let range = (to - from).num_seconds().max(1) as u64;
        from + chrono::TimeDelta::seconds((self.next() % range) as i64)
    }
}
