//! iCalendar (.ics) feeds: every event is a blackout period.
//!
//! Lines are unfolded and split into properties by the `icalendar` crate's parser; this module reads the
//! properties that matter for a blackout, per RFC 5545:
//! - `SUMMARY` is the period's name, `DESCRIPTION` its reason;
//! - `DTSTART` with `DTEND` or `DURATION` (an all-day `VALUE=DATE` event without either lasts one day; a timed event
//!   without either is an instant, blocks nothing, and is left out);
//! - times are UTC (`...Z`), wall-clock in a `TZID` zone, or floating (no zone, and all-day dates), which are read
//!   in the zone passed to [`periods_from_ics`]; `X-WR-TIMEZONE` is not read;
//! - `TZID` must be an IANA name accepted by the rules of [`crate::zone`]; `VTIMEZONE` definitions are not read
//!   (so Windows names like "W. Europe Standard Time" are refused, with the IANA name to use);
//! - `RRULE`, `RDATE` (dates and date-times) and `EXDATE` (several lines and comma lists) with the `rrule` crate;
//!   `DTSTART` is always an occurrence, as RFC 5545 says; `EXRULE` (deprecated) and `RDATE;VALUE=PERIOD` are refused;
//! - an event with a `RECURRENCE-ID` replaces that occurrence of the event with the same `UID`, and
//!   `STATUS:CANCELLED` events block nothing (a cancelled occurrence is taken out of its series).
//!
//! Occurrences are in wall-clock time of the event's zone, with the daylight-saving rule of [`crate::zone`].
//! Anything that cannot be read refuses the whole feed, naming the event: a feed that is half read could let a
//! release through a BlackDay.

use std::collections::HashMap;

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Tz;
use icalendar::parser::{Component, Property};

use crate::calendar::BlackDayCalendar;
use crate::error::Error;
use crate::model::{Period, Rule, Span};
use crate::recurrence::{Exception, Recurrence};
use crate::zone::{parse_zone, resolve};

impl BlackDayCalendar {
    /// A calendar whose blackouts are the events of an iCalendar feed; `zone` is the calendar's zone, used for
    /// floating times and all-day events.
    pub fn from_ics(text: &str, zone: Tz) -> Result<BlackDayCalendar, Error> {
        let mut calendar = BlackDayCalendar::new(zone);
        calendar.extend_blackouts(periods_from_ics(text, zone)?);
        Ok(calendar)
    }
}

/// Reads the events of an iCalendar feed as blackout periods (see the module documentation). `zone` is the zone
/// of floating times and all-day events.
pub fn periods_from_ics(text: &str, zone: Tz) -> Result<Vec<Period>, Error> {
    let feed = "in the .ics feed";
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let unfolded = icalendar::parser::unfold(text);
    if !unfolded
        .trim_start()
        .get(..15)
        .is_some_and(|start| start.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        return Err(Error::new(
            feed,
            "the text does not start with BEGIN:VCALENDAR, so it is not an iCalendar feed",
            "give the calendar's .ics (iCalendar) address or file, not a web page",
        ));
    }
    let calendar = icalendar::parser::read_calendar(&unfolded).map_err(|e| {
        let first = e.lines().take(3).collect::<Vec<_>>().join(" ");
        Error::new(
            feed,
            format!("the text is not valid iCalendar ({first})"),
            "check the feed's BEGIN/END lines and property lines",
        )
    })?;
    let events: Vec<(usize, &Component)> = calendar
        .components
        .iter()
        .filter(|component| component.name.as_str().eq_ignore_ascii_case("VEVENT"))
        .enumerate()
        .map(|(i, event)| (i + 1, event))
        .collect();

    // Occurrences replaced by another event (RECURRENCE-ID) or cancelled, by UID.
    let mut replaced: HashMap<String, Vec<IcsTime>> = HashMap::new();
    for (n, event) in &events {
        if let (Some(uid), Some(id)) = (property(event, "UID"), property(event, "RECURRENCE-ID")) {
            let time = ics_time(id).map_err(|found| event_error(*n, event, "RECURRENCE-ID", found))?;
            replaced.entry(uid.val.as_str().to_owned()).or_default().push(time);
        }
    }

    let mut periods = Vec::new();
    for (n, event) in events {
        let cancelled =
            property(event, "STATUS").is_some_and(|status| status.val.as_str().eq_ignore_ascii_case("CANCELLED"));
        if cancelled {
            continue;
        }
        let is_master = property(event, "RECURRENCE-ID").is_none();
        let uid = property(event, "UID").map(|uid| uid.val.as_str().to_owned());
        let exceptions = match (&uid, is_master) {
            (Some(uid), true) => replaced.get(uid).cloned().unwrap_or_default(),
            _ => Vec::new(),
        };
        if let Some(period) =
            read_event(event, zone, &exceptions).map_err(|(name, found)| event_error(n, event, name, found))?
        {
            periods.push(period);
        }
    }
    Ok(periods)
}

/// What is wrong with a value, and the fix.
type Found = (String, String);

fn event_error(n: usize, event: &Component, name: &str, (problem, fix): Found) -> Error {
    let summary = property(event, "SUMMARY")
        .map(|p| p.val.as_str().to_owned())
        .unwrap_or_default();
    let location = if summary.is_empty() {
        format!("in the .ics feed, event {n}")
    } else {
        format!("in the .ics feed, event {n} (\"{summary}\")")
    };
    Error::new(location, format!("{name}: {problem}"), fix)
}

fn property<'a>(event: &'a Component, name: &str) -> Option<&'a Property<'a>> {
    event
        .properties
        .iter()
        .find(|p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn properties<'a>(event: &'a Component, name: &'a str) -> impl Iterator<Item = &'a Property<'a>> {
    event
        .properties
        .iter()
        .filter(move |p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn parameter<'a>(property: &'a Property, key: &str) -> Option<&'a str> {
    property
        .params
        .iter()
        .find(|param| param.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|param| param.val.as_ref())
        .map(|val| val.as_str())
}

/// A DATE or DATE-TIME value as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IcsTime {
    Date(NaiveDate),
    Floating(NaiveDateTime),
    Utc(NaiveDateTime),
    Zoned(Tz, NaiveDateTime),
}

impl IcsTime {
    /// The wall-clock reading in `zone` (a date is its midnight).
    fn local_in(self, zone: Tz) -> NaiveDateTime {
        match self {
            IcsTime::Date(day) => day.and_time(NaiveTime::MIN),
            IcsTime::Floating(local) => local,
            IcsTime::Utc(utc) => zone.from_utc_datetime(&utc).naive_local(),
            IcsTime::Zoned(own, local) if own == zone => local,
            IcsTime::Zoned(own, local) => zone.from_utc_datetime(&resolve(own, local).naive_utc()).naive_local(),
        }
    }

    /// The zone the value is written in: its TZID, UTC, or `default` for floating times and dates.
    fn zone_or(self, default: Tz) -> Tz {
        match self {
            IcsTime::Zoned(zone, _) => zone,
            IcsTime::Utc(_) => Tz::UTC,
            IcsTime::Date(_) | IcsTime::Floating(_) => default,
        }
    }
}

fn ics_time(property: &Property) -> Result<IcsTime, Found> {
    ics_times(property).and_then(|times| match times.as_slice() {
        [one] => Ok(*one),
        _ => Err((
            format!("\"{}\" is not one date or date-time", property.val.as_str()),
            "give one value".to_owned(),
        )),
    })
}

/// The comma-separated DATE or DATE-TIME values of a property, read with its VALUE and TZID parameters.
fn ics_times(property: &Property) -> Result<Vec<IcsTime>, Found> {
    let zone = match parameter(property, "TZID") {
        Some(name) => Some(parse_zone(name).map_err(|refused| {
            (
                format!("TZID {}", refused.problem),
                format!("{} in the calendar tool's event time zone setting", refused.fix),
            )
        })?),
        None => None,
    };
    let is_date = parameter(property, "VALUE").is_some_and(|value| value.eq_ignore_ascii_case("DATE"));
    if parameter(property, "VALUE").is_some_and(|value| value.eq_ignore_ascii_case("PERIOD")) {
        return Err((
            "VALUE=PERIOD is not supported".to_owned(),
            "give the extra occurrences as dates or date-times".to_owned(),
        ));
    }
    property
        .val
        .as_str()
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
            if is_date || value.len() == 8 {
                return NaiveDate::parse_from_str(value, "%Y%m%d")
                    .map(IcsTime::Date)
                    .map_err(|_| bad());
            }
            if let Some(utc) = value.strip_suffix('Z') {
                return NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
                    .map(IcsTime::Utc)
                    .map_err(|_| bad());
            }
            let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
            Ok(match zone {
                Some(zone) => IcsTime::Zoned(zone, local),
                None => IcsTime::Floating(local),
            })
        })
        .collect()
}

/// The longest `DURATION` a feed may give one event: ten years (a longer freeze is a recurrence, or a mistake).
const MAX_EVENT_LENGTH: TimeDelta = TimeDelta::days(3660);

/// An RFC 5545 duration (`P1D`, `PT1H30M`, `P2W`, `P1DT12H`) as wall-clock time.
fn ics_duration(text: &str) -> Result<TimeDelta, Found> {
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
    let mut total = TimeDelta::zero();
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
                // A feed is input: an absurd duration is refused, never an overflow.
                total = part
                    .and_then(|part| total.checked_add(&part))
                    .filter(|total| *total <= MAX_EVENT_LENGTH)
                    .ok_or_else(too_long)?;
            }
        }
    }
    if !number.is_empty() || parts == 0 || (in_time && time_parts == 0) || total <= TimeDelta::zero() {
        return Err(bad());
    }
    Ok(total)
}

/// One event as a period, or `None` when it blocks nothing (it lasts no time).
fn read_event(
    event: &Component,
    default_zone: Tz,
    replaced: &[IcsTime],
) -> Result<Option<Period>, (&'static str, Found)> {
    let name = property(event, "SUMMARY")
        .map(|p| p.val.as_str().trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "(untitled event)".to_owned());
    let reason = property(event, "DESCRIPTION")
        .map(|p| p.val.as_str().trim().to_owned())
        .filter(|reason| !reason.is_empty());
    let start_property = property(event, "DTSTART").ok_or((
        "DTSTART",
        ("is missing".to_owned(), "give the event a start".to_owned()),
    ))?;
    let start = ics_time(start_property).map_err(|found| ("DTSTART", found))?;
    let zone = start.zone_or(default_zone);
    let start_local = start.local_in(zone);
    let end_local = match (property(event, "DTEND"), property(event, "DURATION")) {
        (Some(end), _) => ics_time(end).map_err(|found| ("DTEND", found))?.local_in(zone),
        (None, Some(duration)) => {
            let length = ics_duration(duration.val.as_str()).map_err(|found| ("DURATION", found))?;
            start_local.checked_add_signed(length).ok_or((
                "DURATION",
                (
                    "ends beyond the last date the calendar can hold".to_owned(),
                    "give the event an earlier start or a shorter duration".to_owned(),
                ),
            ))?
        }
        (None, None) => match start {
            IcsTime::Date(day) => (day + Days::new(1)).and_time(NaiveTime::MIN),
            _ => start_local,
        },
    };
    // An all-day event whose DTEND is its DTSTART is how some tools export a single day: it means that day.
    let end_local = match start {
        IcsTime::Date(day) if end_local == start_local => (day + Days::new(1)).and_time(NaiveTime::MIN),
        _ => end_local,
    };
    let length = end_local - start_local;
    if length <= TimeDelta::zero() {
        return if length == TimeDelta::zero() {
            Ok(None)
        } else {
            Err((
                "DTEND",
                (
                    "is before DTSTART".to_owned(),
                    "give the event an end after its start".to_owned(),
                ),
            ))
        };
    }
    if property(event, "EXRULE").is_some() {
        return Err((
            "EXRULE",
            (
                "is deprecated by RFC 5545 and not supported".to_owned(),
                "take occurrences out with EXDATE instead".to_owned(),
            ),
        ));
    }
    let rules: Vec<&Property> = properties(event, "RRULE").collect();
    if rules.len() > 1 {
        return Err((
            "RRULE",
            (
                "appears more than once".to_owned(),
                "split the event into one event per rule".to_owned(),
            ),
        ));
    }
    let mut extra = Vec::new();
    for rdate in properties(event, "RDATE") {
        extra.extend(
            ics_times(rdate)
                .map_err(|found| ("RDATE", found))?
                .into_iter()
                .map(|t| t.local_in(zone)),
        );
    }
    if rules.is_empty() && extra.is_empty() {
        let label = match (start, property(event, "DTEND")) {
            (IcsTime::Date(day), _) if length == TimeDelta::days(1) => format!("on {day}"),
            _ => format!(
                "from {} to {}",
                start_local.format("%Y-%m-%d %H:%M"),
                end_local.format("%Y-%m-%d %H:%M")
            ),
        };
        let span = Span {
            start: resolve(zone, start_local),
            end: resolve(zone, end_local),
        };
        return Ok(Some(Period::new(
            name,
            reason,
            zone,
            Rule::Once {
                spans: vec![span],
                label,
            },
        )));
    }
    let mut exceptions: Vec<Exception> = replaced.iter().map(|time| Exception::At(time.local_in(zone))).collect();
    for exdate in properties(event, "EXDATE") {
        for time in ics_times(exdate).map_err(|found| ("EXDATE", found))? {
            exceptions.push(match (time, start) {
                // A date excludes the day's occurrence, also of a timed event.
                (IcsTime::Date(day), IcsTime::Date(_)) => Exception::At(day.and_time(NaiveTime::MIN)),
                (IcsTime::Date(day), _) => Exception::Day(day),
                (time, _) => Exception::At(time.local_in(zone)),
            });
        }
    }
    // Without an RRULE, the occurrences are DTSTART and the RDATEs: a rule that produces nothing after DTSTART.
    let rule = rules.first().map_or("FREQ=YEARLY;COUNT=1", |rule| rule.val.as_str());
    let recurrence =
        Recurrence::new(rule, start_local, length, zone, &exceptions, &extra, true).map_err(|problem| {
            (
                "RRULE",
                (
                    problem,
                    "fix the event's repeat settings in the calendar tool".to_owned(),
                ),
            )
        })?;
    Ok(Some(Period::new(
        name,
        reason,
        zone,
        Rule::Recurring(Box::new(recurrence)),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations() {
        let cases = [
            ("P1D", TimeDelta::days(1)),
            ("PT8H", TimeDelta::hours(8)),
            ("PT1H30M", TimeDelta::minutes(90)),
            ("P1DT12H", TimeDelta::hours(36)),
            ("P2W", TimeDelta::weeks(2)),
            ("+PT45S", TimeDelta::seconds(45)),
        ];
        for (text, expected) in cases {
            assert_eq!(ics_duration(text).ok(), Some(expected), "{text}");
        }
        for text in ["", "P", "PT", "1D", "-P1D", "P1H", "PT1D", "P0D", "P1DT"] {
            assert!(ics_duration(text).is_err(), "{text}");
        }
    }
}
