//! iCalendar (.ics) feeds: every event is a blackout period.
//!
//! Lines are unfolded and split into components and properties by [`content`] (names are case-insensitive,
//! nesting is bounded, errors name the line); this module reads the properties that matter for a blackout, per
//! RFC 5545:
//! - `SUMMARY` is the period's name, `DESCRIPTION` its reason;
//! - `DTSTART` with `DTEND` or `DURATION` (not both; an all-day `VALUE=DATE` event without either lasts one day; a
//!   timed event without either is an instant, blocks nothing, and is left out);
//! - times are UTC (`...Z`), wall-clock in a `TZID` zone, or floating (no zone, and all-day dates), which are read
//!   in the zone passed to [`periods_from_ics`]; `X-WR-TIMEZONE` is not read; a UTC time stays an instant (it is
//!   never re-read as a wall-clock time, which a fall-back night would make ambiguous);
//! - `TZID` must be an IANA name accepted by the rules of [`crate::zone`]; `VTIMEZONE` definitions are not read
//!   (so Windows names like "W. Europe Standard Time" are refused, with the IANA name to use); an empty `TZID=` is
//!   refused;
//! - `DURATION` days and weeks are wall-clock days, its hours, minutes and seconds real time; a recurring event with
//!   `DTEND` gives every occurrence the real time from DTSTART to DTEND, or the wall-clock length where that is
//!   longer (a fall-back day);
//! - `RRULE` (expanded by the `recurrence` module), `RDATE` (dates and date-times) and `EXDATE` (several lines and
//!   comma lists); `DTSTART` is always an occurrence, as RFC 5545 says; `EXRULE` (deprecated) and
//!   `RDATE;VALUE=PERIOD` are refused;
//! - an event with a `RECURRENCE-ID` replaces that occurrence of the event with the same `UID`, and
//!   `STATUS:CANCELLED` events block nothing (a cancelled occurrence is taken out of its series).
//!
//! Occurrences are in wall-clock time of the event's zone, with the daylight-saving rules of [`crate::zone`].
//! Anything that cannot be read refuses the whole feed, naming the event and the line: a feed that is half read
//! could let a release through a BlackDay.

mod content;
mod values;

use std::collections::HashMap;

use chrono::{Days, NaiveDateTime, NaiveTime, TimeDelta};

use self::content::{Component, Property};
use self::values::{Found, IcsTime, ics_duration, ics_time, ics_times};
use crate::calendar::BlackDayCalendar;
use crate::error::Error;
use crate::model::{Endpoint, Fixed, Period, Role, Rule};
use crate::recurrence::{Exception, Length, Recurrence};
use crate::zone::{Zone, resolve, rfc_local};

impl BlackDayCalendar {
    /// A calendar whose blackouts are the events of an iCalendar feed; `zone` is the calendar's zone, used for
    /// floating times and all-day events.
    pub fn from_ics(text: &str, zone: Zone) -> Result<BlackDayCalendar, Error> {
        let mut calendar = BlackDayCalendar::new(zone);
        calendar.extend_blackouts(periods_from_ics(text, zone)?);
        Ok(calendar)
    }
}

/// Reads the events of an iCalendar feed as blackout periods (see the module documentation). `zone` is the zone
/// of floating times and all-day events.
pub fn periods_from_ics(text: &str, zone: Zone) -> Result<Vec<Period>, Error> {
    let feed = "in the .ics feed";
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text
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
    let calendar = content::read(text).map_err(|malformed| {
        Error::new(
            feed,
            format!(
                "the text is not valid iCalendar (line {}: {})",
                malformed.line, malformed.problem
            ),
            "check the feed's BEGIN/END lines and property lines",
        )
    })?;
    if calendar.name != "VCALENDAR" {
        return Err(Error::new(
            feed,
            format!(
                "the text is not valid iCalendar (line 1: BEGIN:{} is not BEGIN:VCALENDAR)",
                calendar.name
            ),
            "give the calendar's .ics (iCalendar) address or file",
        ));
    }
    let events: Vec<(usize, &Component)> = calendar
        .components
        .iter()
        .filter(|component| component.name == "VEVENT")
        .enumerate()
        .map(|(i, event)| (i + 1, event))
        .collect();

    // Occurrences replaced by another event (RECURRENCE-ID) or cancelled, by UID.
    let mut replaced: HashMap<&str, Vec<IcsTime>> = HashMap::new();
    for (n, event) in &events {
        if let (Some(uid), Some(id)) = (event.property("UID"), event.property("RECURRENCE-ID")) {
            let time = ics_time(id).map_err(|found| event_error(*n, event, "RECURRENCE-ID", id.line, found))?;
            replaced.entry(uid.value.as_ref()).or_default().push(time);
        }
    }

    let mut periods = Vec::new();
    for (n, event) in events {
        let cancelled = event
            .property("STATUS")
            .is_some_and(|status| status.value.trim().eq_ignore_ascii_case("CANCELLED"));
        if cancelled {
            continue;
        }
        let is_master = event.property("RECURRENCE-ID").is_none();
        let exceptions = match (event.property("UID"), is_master) {
            (Some(uid), true) => replaced.get(uid.value.as_ref()).cloned().unwrap_or_default(),
            _ => Vec::new(),
        };
        if let Some(period) = read_event(event, zone, &exceptions)
            .map_err(|(name, line, found)| event_error(n, event, name, line, found))?
        {
            periods.push(period);
        }
    }
    Ok(periods)
}

fn event_error(n: usize, event: &Component, name: &str, line: usize, (problem, fix): Found) -> Error {
    let summary = event.property("SUMMARY").map(Property::text).unwrap_or_default();
    let location = if summary.is_empty() {
        format!("in the .ics feed, event {n}")
    } else {
        format!("in the .ics feed, event {n} (\"{summary}\")")
    };
    Error::new(location, format!("{name}: {problem} (line {line})"), fix)
}

/// What went wrong reading an event: the property, its line, the problem and fix.
type EventProblem = (&'static str, usize, Found);

fn found(problem: &str, fix: &str) -> Found {
    (problem.to_owned(), fix.to_owned())
}

/// One event as a period, or `None` when it blocks nothing (it lasts no time).
fn read_event(event: &Component, default_zone: Zone, replaced: &[IcsTime]) -> Result<Option<Period>, EventProblem> {
    let name = event
        .property("SUMMARY")
        .map(|p| p.text().trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "(untitled event)".to_owned());
    let reason = event
        .property("DESCRIPTION")
        .map(|p| p.text().trim().to_owned())
        .filter(|reason| !reason.is_empty());
    let start_property =
        event
            .property("DTSTART")
            .ok_or(("DTSTART", event.line, found("is missing", "give the event a start")))?;
    let start = ics_time(start_property).map_err(|found| ("DTSTART", start_property.line, found))?;
    let zone = start.zone_or(default_zone);
    let start_local = start.local_in(zone, false);
    let (length, end) = match (event.property("DTEND"), event.property("DURATION")) {
        (Some(_), Some(duration)) => {
            return Err((
                "DURATION",
                duration.line,
                found(
                    "is given together with DTEND; RFC 5545 allows one of them",
                    "give the event either an end or a duration",
                ),
            ));
        }
        (Some(end_property), None) => {
            let end = ics_time(end_property).map_err(|found| ("DTEND", end_property.line, found))?;
            let mut end_local = end.local_in(zone, true);
            let mut end = end.endpoint(zone);
            // An all-day event whose DTEND is its DTSTART is how some tools export a single day: it means that day.
            if let IcsTime::Date(day) = start
                && end_local == start_local
            {
                end_local = (day + Days::new(1)).and_time(NaiveTime::MIN);
                end = Endpoint::Local(zone, end_local);
            }
            let end_instant = Fixed::new(Endpoint::Local(zone, start_local), end).wide.end;
            let length = Length {
                nominal: end_local - start_local,
                exact: TimeDelta::zero(),
                at_least: end_instant - resolve(zone, rfc_local(zone, start_local)),
            };
            (length, Some((end_property.line, end, end_local)))
        }
        (None, Some(duration)) => {
            let length = ics_duration(duration.value.as_ref()).map_err(|found| ("DURATION", duration.line, found))?;
            if start_local.checked_add_signed(length.nominal + length.exact).is_none() {
                return Err((
                    "DURATION",
                    duration.line,
                    found(
                        "ends beyond the last date the calendar can hold",
                        "give the event an earlier start or a shorter duration",
                    ),
                ));
            }
            (length, None)
        }
        (None, None) => match start {
            IcsTime::Date(_) => (Length::wall(TimeDelta::days(1)), None),
            _ => return Ok(None),
        },
    };
    let longest = length.nominal.max(length.at_least) + length.exact;
    if longest <= TimeDelta::zero() {
        return if longest == TimeDelta::zero() {
            Ok(None)
        } else {
            let line = end.map_or(start_property.line, |(line, _, _)| line);
            Err((
                "DTEND",
                line,
                found("is before DTSTART", "give the event an end after its start"),
            ))
        };
    }
    if let Some(exrule) = event.property("EXRULE") {
        return Err((
            "EXRULE",
            exrule.line,
            found(
                "is deprecated by RFC 5545 and not supported",
                "take occurrences out with EXDATE instead",
            ),
        ));
    }
    let rules: Vec<&Property> = event.all("RRULE").collect();
    if let [_, second, ..] = rules.as_slice() {
        return Err((
            "RRULE",
            second.line,
            found("appears more than once", "split the event into one event per rule"),
        ));
    }
    let mut extra = Vec::new();
    for rdate in event.all("RDATE") {
        let times = ics_times(rdate).map_err(|found| ("RDATE", rdate.line, found))?;
        extra.extend(times.into_iter().map(|t| t.local_in(zone, false)));
    }
    if rules.is_empty() && extra.is_empty() {
        return Ok(Some(single(name, reason, zone, start, start_local, length, end)));
    }
    let mut exceptions: Vec<Exception> = replaced
        .iter()
        .map(|time| Exception::At(time.local_in(zone, false)))
        .collect();
    for exdate in event.all("EXDATE") {
        for time in ics_times(exdate).map_err(|found| ("EXDATE", exdate.line, found))? {
            exceptions.push(match (time, start) {
                // A date excludes the day's occurrence, also of a timed event.
                (IcsTime::Date(day), IcsTime::Date(_)) => Exception::At(day.and_time(NaiveTime::MIN)),
                (IcsTime::Date(day), _) => Exception::Day(day),
                (time, _) => Exception::At(time.local_in(zone, false)),
            });
        }
    }
    // Without an RRULE, the occurrences are DTSTART and the RDATEs: a rule that produces nothing after DTSTART.
    let (rule, line) = rules.first().map_or(("FREQ=YEARLY;COUNT=1", event.line), |rule| {
        (rule.value.as_ref(), rule.line)
    });
    let recurrence =
        Recurrence::new(rule, start_local, length, zone, &exceptions, &extra, true).map_err(|problem| {
            (
                "RRULE",
                line,
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

/// An event that happens once: from DTSTART to DTEND (each read as written: a UTC time is an instant), or for its
/// DURATION.
fn single(
    name: String,
    reason: Option<String>,
    zone: Zone,
    start: IcsTime,
    start_local: NaiveDateTime,
    length: Length,
    end: Option<(usize, Endpoint, NaiveDateTime)>,
) -> Period {
    let start_point = start.endpoint(zone);
    let span = match end {
        Some((_, end, _)) => Fixed::new(start_point, end),
        None => Fixed {
            wide: length.place(zone, Role::Blackout, start_local),
            narrow: length.place(zone, Role::Window, start_local),
        },
    };
    let label = match start {
        IcsTime::Date(day) if length.nominal == TimeDelta::days(1) && length.exact.is_zero() => format!("on {day}"),
        _ => {
            let end_local = match end {
                Some((_, _, end_local)) => end_local,
                None => start_local + length.nominal + length.exact,
            };
            format!(
                "from {} to {}",
                start_local.format("%Y-%m-%d %H:%M"),
                end_local.format("%Y-%m-%d %H:%M")
            )
        }
    };
    Period::new(
        name,
        reason,
        zone,
        Rule::Once {
            spans: vec![span],
            label,
        },
    )
}
