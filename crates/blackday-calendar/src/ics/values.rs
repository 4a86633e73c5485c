//! iCalendar DATE, DATE-TIME and DURATION values (RFC 5545 §3.3.4, §3.3.5, §3.3.6).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};

use super::content::Property;
use crate::model::Endpoint;
use crate::recurrence::Length;
use crate::zone::{Zone, parse_zone, resolve, resolve_end};

/// What is wrong with a value, and the fix.
pub(crate) type Found = (String, String);

/// A DATE or DATE-TIME value as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IcsTime {
    Date(NaiveDate),
    Floating(NaiveDateTime),
    Utc(NaiveDateTime),
    Zoned(Zone, NaiveDateTime),
}

impl IcsTime {
    /// The wall-clock reading in `zone` (a date is its midnight). A value written in another zone is read there
    /// first, as a start (`late` false) or an end (`late` true; see [`crate::zone::resolve_end`]).
    pub fn local_in(self, zone: Zone, late: bool) -> NaiveDateTime {
        match self {
            IcsTime::Date(day) => day.and_time(NaiveTime::MIN),
            IcsTime::Floating(local) => local,
            IcsTime::Utc(utc) => zone.from_utc_datetime(&utc).naive_local(),
            IcsTime::Zoned(own, local) if own == zone => local,
            IcsTime::Zoned(own, local) => {
                let instant = if late {
                    resolve_end(own, local)
                } else {
                    resolve(own, local)
                };
                zone.from_utc_datetime(&instant.naive_utc()).naive_local()
            }
        }
    }

    /// The value as one end of a stretch: an instant when written in UTC (never re-read as a local time, which a
    /// fall-back night would make ambiguous), otherwise a wall-clock time of its own zone (or `default`).
    pub fn endpoint(self, default: Zone) -> Endpoint {
        match self {
            IcsTime::Utc(utc) => Endpoint::Instant(utc.and_utc()),
            IcsTime::Zoned(zone, local) => Endpoint::Local(zone, local),
            IcsTime::Date(_) | IcsTime::Floating(_) => Endpoint::Local(default, self.local_in(default, false)),
        }
    }

    /// The zone the value is written in: its TZID, UTC, or `default` for floating times and dates.
    pub fn zone_or(self, default: Zone) -> Zone {
        match self {
            IcsTime::Zoned(zone, _) => zone,
            IcsTime::Utc(_) => Zone::UTC,
            IcsTime::Date(_) | IcsTime::Floating(_) => default,
        }
    }
}

pub(crate) fn ics_time(property: &Property) -> Result<IcsTime, Found> {
    ics_times(property).and_then(|times| match times.as_slice() {
        [one] => Ok(*one),
        _ => Err((
            format!("\"{}\" is not one date or date-time", property.value),
            "give one value".to_owned(),
        )),
    })
}

/// The comma-separated DATE or DATE-TIME values of a property, read with its VALUE and TZID parameters.
pub(crate) fn ics_times(property: &Property) -> Result<Vec<IcsTime>, Found> {
    let zone = match property.param("TZID") {
        // An empty TZID would otherwise read as no zone at all: floating time, in the feed's zone.
        Some(name) if name.trim().is_empty() => {
            return Err((
                "TZID= is empty".to_owned(),
                "name the zone, e.g. TZID=Europe/Berlin, or leave the parameter out".to_owned(),
            ));
        }
        Some(name) => Some(parse_zone(name).map_err(|refused| {
            (
                format!("TZID {}", refused.problem),
                format!("{} in the calendar tool's event time zone setting", refused.fix),
            )
        })?),
        None => None,
    };
    let kind = property.param("VALUE").map(str::to_ascii_uppercase);
    if kind.as_deref() == Some("PERIOD") {
        return Err((
            "VALUE=PERIOD is not supported".to_owned(),
            "give the extra occurrences as dates or date-times".to_owned(),
        ));
    }
    let is_date = kind.as_deref() == Some("DATE");
    property
        .value
        .split(',')
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(|value| {
            let bad = || {
                (
                    format!("\"{value}\" is not an iCalendar date (20261127) or date-time (20261127T180000)"),
                    "fix the value in the calendar tool".to_owned(),
                )
            };
            // Exact lengths: chrono's %Y would also read a sign and more digits.
            let date_time = |text: &str| {
                NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S")
                    .ok()
                    .filter(|_| text.len() == 15)
            };
            if is_date || value.len() == 8 {
                return NaiveDate::parse_from_str(value, "%Y%m%d")
                    .ok()
                    .filter(|_| value.len() == 8)
                    .map(IcsTime::Date)
                    .ok_or_else(bad);
            }
            if let Some(utc) = value.strip_suffix('Z') {
                return date_time(utc).map(IcsTime::Utc).ok_or_else(bad);
            }
            let local = date_time(value).ok_or_else(bad)?;
            Ok(match zone {
                Some(zone) => IcsTime::Zoned(zone, local),
                None => IcsTime::Floating(local),
            })
        })
        .collect()
}

/// The longest `DURATION` a feed may give one event: ten years (a longer freeze is a recurrence, or a mistake).
pub(crate) const MAX_EVENT_LENGTH: TimeDelta = TimeDelta::days(3660);

/// An RFC 5545 duration (`P1D`, `PT1H30M`, `P2W`, `P1DT12H`): days and weeks are nominal (wall-clock days, so a
/// day from midnight ends at the next midnight), hours, minutes and seconds exact (real time), as §3.3.6 says.
pub(crate) fn ics_duration(text: &str) -> Result<Length, Found> {
    let bad = || {
        (
            format!("\"{text}\" is not a positive duration"),
            "write e.g. P1D, PT8H or PT1H30M".to_owned(),
        )
    };
    let too_long = || {
        (
            format!("\"{text}\" is longer than {} days", MAX_EVENT_LENGTH.num_days()),
            "split the event, or give it an RRULE".to_owned(),
        )
    };
    let rest = text.trim().strip_prefix('+').unwrap_or(text.trim());
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    let mut nominal = TimeDelta::zero();
    let mut exact = TimeDelta::zero();
    let mut number = String::new();
    let mut in_time = false;
    let mut parts = 0;
    let mut time_parts = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' if !in_time && number.is_empty() => in_time = true,
            unit => {
                let n: i64 = number.parse().map_err(|_| bad())?;
                number.clear();
                parts += 1;
                time_parts += usize::from(in_time);
                let part = match (unit, in_time) {
                    ('W', false) => TimeDelta::try_weeks(n),
                    ('D', false) => TimeDelta::try_days(n),
                    ('H', true) => TimeDelta::try_hours(n),
                    ('M', true) => TimeDelta::try_minutes(n),
                    ('S', true) => TimeDelta::try_seconds(n),
                    _ => return Err(bad()),
                };
                let sum = if in_time { &mut exact } else { &mut nominal };
                // A feed is input: an absurd duration is refused, never an overflow.
                *sum = part
                    .and_then(|part| sum.checked_add(&part))
                    .filter(|sum| *sum <= MAX_EVENT_LENGTH)
                    .ok_or_else(too_long)?;
            }
        }
    }
    let total = nominal.checked_add(&exact).filter(|total| *total <= MAX_EVENT_LENGTH);
    let total = total.ok_or_else(too_long)?;
    if !number.is_empty() || parts == 0 || (in_time && time_parts == 0) || total <= TimeDelta::zero() {
        return Err(bad());
    }
    Ok(Length {
        nominal,
        exact,
        at_least: TimeDelta::zero(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_as_nominal_days_and_exact_hours() {
        let length = |nominal: TimeDelta, exact: TimeDelta| Length {
            nominal,
            exact,
            at_least: TimeDelta::zero(),
        };
        let zero = TimeDelta::zero();
        let cases = [
            ("P1D", length(TimeDelta::days(1), zero)),
            ("PT8H", length(zero, TimeDelta::hours(8))),
            ("PT1H30M", length(zero, TimeDelta::minutes(90))),
            ("P1DT12H", length(TimeDelta::days(1), TimeDelta::hours(12))),
            ("P2W", length(TimeDelta::weeks(2), zero)),
            ("+PT45S", length(zero, TimeDelta::seconds(45))),
        ];
        for (text, expected) in cases {
            assert_eq!(ics_duration(text).ok(), Some(expected), "{text}");
        }
        for text in [
            "",
            "P",
            "PT",
            "1D",
            "-P1D",
            "P1H",
            "PT1D",
            "P0D",
            "P1DT",
            "P3000DT2000000H",
        ] {
            assert!(ics_duration(text).is_err(), "{text}");
        }
    }
}
