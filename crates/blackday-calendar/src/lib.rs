//! BlackDay calendar: may a release go at a given instant, and if not, why and until when.
//!
//! A [`BlackDayCalendar`] holds **blackout periods** (BlackDays: freezes, sales, year-end, holidays) and, optionally,
//! **allowed windows** (business hours, say). A release may go at an instant when it is inside no blackout and, if
//! the calendar has windows, inside at least one window. The engine is pure: it reads no clock and does no I/O;
//! "now" is always an argument.
//!
//! ```
//! use blackday_calendar::{BlackDayCalendar, Verdict};
//!
//! let calendar = BlackDayCalendar::from_json(r#"{
//!     "timezone": "Europe/Berlin",
//!     "blackouts": [{"name": "Weekend freeze", "weekly": {"from": "Fri 15:00", "to": "Mon 09:00"}}]
//! }"#).unwrap();
//! // Friday 2026-03-06 16:00 in Berlin is 15:00 UTC.
//! let verdict = calendar.verdict("2026-03-06T15:00:00Z".parse().unwrap());
//! let Verdict::Blocked { period_name, ends_at, .. } = verdict else { panic!("blocked") };
//! assert_eq!(period_name, "Weekend freeze");
//! assert_eq!(ends_at, Some("2026-03-09T08:00:00Z".parse().unwrap())); // Monday 09:00 in Berlin
//! ```
//!
//! # The calendar document (JSON)
//! ```json
//! {
//!   "timezone": "Europe/Berlin",
//!   "blackouts": [
//!     {"name": "Weekend freeze", "reason": "Nobody on call to roll back",
//!      "weekly": {"from": "Fri 15:00", "to": "Mon 09:00"}},
//!     {"name": "Year end", "yearly": {"from": "12-20", "to": "01-03"}},
//!     {"name": "Launch day", "dates": ["2026-11-27"]},
//!     {"name": "Migration", "once": {"from": "2026-05-02T18:00", "to": "2026-05-04T06:00"}},
//!     {"name": "Month-end close", "monthly": {"on": "last-business-day"}},
//!     {"name": "Independence Day", "timezone": "America/New_York",
//!      "rrule": {"rule": "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4", "start": "2026-07-04", "exdates": ["2027-07-04"]}}
//!   ],
//!   "allowed_windows": [
//!     {"name": "Business hours", "weekly": {"days": ["Mon-Thu"], "from": "09:00", "to": "17:00"}}
//!   ]
//! }
//! ```
//! - `timezone` (required at the top, optional per period): an IANA zone name such as `"Europe/Berlin"`,
//!   `"America/Chicago"` or `"UTC"`. Abbreviations (`"CST"`, `"EST"`, `"IST"`), legacy aliases (`"CST6CDT"`,
//!   `"Japan"`), `Etc/GMT±N` offsets and Windows names are refused with the name to write instead; see
//!   [`zone`] for the exact rule. All times are wall-clock times of the period's zone.
//! - `blackouts` and `allowed_windows`: lists of periods. Each period has a `name`, an optional `reason` (shown
//!   when it blocks; without it, what the rule says is shown), an optional `timezone`, and exactly one schedule:
//!   - `"dates": ["2026-11-27", ...]`: whole days.
//!   - `"once": {"from": ..., "to": ...}`: one stretch; each end is a date (`"2026-11-26"`) or a wall-clock
//!     date-time (`"2026-11-26T18:00"`). A date `to` includes that whole day; a date-time `to` is the first instant
//!     after the period. Offsets (`Z`, `+01:00`) are refused: set the period's `timezone` instead.
//!   - `"weekly"`: either `{"from": "Fri 15:00", "to": "Mon 09:00"}` (wrapping over the week's end; the same day
//!     with an earlier time means a week later), or `{"days": ["Mon-Thu", "Sat"], "from": "22:00", "to": "06:00"}`
//!     on each listed day (an end not after the start is the next morning; `"24:00"` is midnight at the day's
//!     end), or `{"days": ["Sat", "Sun"]}` for whole days.
//!   - `"monthly": {"on": ..., "from"?: "HH:MM", "to"?: "HH:MM"}`: whole day unless times are given. `on` is
//!     `"day-1"` … `"day-31"` (months without that day are skipped: use `"last-day"`), `"last-day"`,
//!     `"first-business-day"`, `"last-business-day"` (Monday to Friday; holidays are not known), or
//!     `"first-monday"`, `"second-tuesday"`, …, `"fifth-friday"` (months without one are skipped),
//!     `"last-friday"`. Spaces or `_` may replace `-`, and case does not matter: `"first Monday"`, `"day 1"`.
//!   - `"yearly": {"from": "12-20", "to": "01-03"}`: month-days, optionally with a time (`"12-24 12:00"`); a date
//!     `to` includes that day; an end before the start is in the next year. **February 29** is read as the last day
//!     of February in years without it (so `"to": "02-29"` always means "to the end of February", and a period
//!     on `"02-29"` alone falls on February 28 in common years).
//!   - `"rrule": {"rule": "FREQ=...", "start": ..., "duration_hours"?: 24, "exdates"?: [...]}`: an RFC 5545
//!     recurrence, expanded in wall-clock time by the crate's own engine (tested against the `rrule` crate).
//!     `start` (DTSTART) is a date or wall-clock date-time and must be the rule's first occurrence;
//!     `duration_hours` (fractions allowed) defaults to a whole day for a date start; `exdates` take out
//!     occurrences starting at a date-time, or on a date. `UNTIL` in UTC (`...Z`) is read in the period's zone; a
//!     date `UNTIL` includes its day. Parts that would expand to nothing or less are refused: `INTERVAL=0`, a `0`
//!     in `BYMONTHDAY`/`BYYEARDAY`/`BYWEEKNO`/`BYSETPOS`, `COUNT=0`, `COUNT` with `UNTIL`, a `COUNT` above
//!     10 000, unknown or repeated parts. `HOURLY` is the most frequent rule accepted.
//!
//! A UTF-8 byte-order mark before the object is accepted; text after it is refused. Errors name the field's path,
//! what is wrong and what to write: ``at `blackouts[0].timezone`: "CST" is a time
//! zone abbreviation, not an IANA time zone: ...; write the IANA name of the place, e.g. "America/Chicago" (US
//! Central), ...``. Unknown fields are refused. An empty `allowed_windows` list is refused (leave it out to allow
//! releases at any time outside blackouts).
//!
//! A pipeline adds its own periods with [`BlackDayCalendar::merge_json`] (a document of the same shape whose
//! `timezone` defaults to the shared calendar's): its blackouts are added, and its windows restrict the shared
//! windows further, so the merged calendar allows a release only when both do.
//!
//! # iCalendar feeds
//! [`BlackDayCalendar::from_ics`] and [`periods_from_ics`] read every `VEVENT` of an .ics feed as a blackout:
//! `SUMMARY` is the name, `DESCRIPTION` the reason; `DTSTART` with `DTEND`/`DURATION`, `TZID`, all-day dates,
//! `RRULE`, `RDATE`, `EXDATE`, `RECURRENCE-ID` and cancelled events are understood; see [`ics`].
//!
//! # Daylight saving time
//! A wall-clock time is read toward holding a release. A blackout **starts** at the instant a clock in that zone
//! first reaches its start: a time inside a spring-forward gap is the first instant after the gap (02:30 on the
//! spring-forward Sunday is the change itself, 03:00, where RFC 5545 says 03:30), and a time that happens twice on
//! a fall-back night is the earlier instant. A blackout **ends** at the latest reading of its end: inside a gap, the
//! time read with the offset before the gap (RFC 5545: 02:30 is 03:30), and a time that happens twice, the later
//! instant. Allowed windows are read the other way round, so they are never longer than any reading. A UTC time
//! (`...Z` in iCalendar) is an instant and never re-read as a wall-clock time. See [`zone`].
//!
//! Lengths: JSON `duration_hours` is wall-clock time (a 24-hour holiday from midnight ends at the next midnight on a
//! 23- or 25-hour day); an iCalendar `DURATION` is wall-clock for its days and weeks and real time for its hours,
//! minutes and seconds (RFC 5545 §3.3.6); a recurring event with `DTEND` lasts DTEND − DTSTART in real time (RFC
//! 5545 §3.8.5.3), or on the wall clock where that is longer. An occurrence that starts inside a gap ends no
//! earlier than RFC 5545's, which moves it by the gap's length.
//!
//! # Speed
//! Each query expands a recurrence from a period shortly before the instant asked about, in step with the rule's
//! interval (a COUNT rule is expanded once, when read, to find its end), so a check costs the same whatever the
//! rule's age; `examples/bench_calendar.rs` measures the budget (`make bench-calendar`).
//!
//! # Answers
//! [`BlackDayCalendar::verdict`] says [`Verdict::Clear`] (with the next BlackDay) or [`Verdict::Blocked`] (by which
//! blackout, or by being outside the windows, and when a release may next go). [`BlackDayCalendar::next_window`]
//! and [`BlackDayCalendar::next_blackday`] answer one question each. Answers look [`HORIZON`] (400 days) ahead;
//! beyond that they say `None` ("not within the horizon"), never "clear".

mod calendar;
mod civil;
mod document;
mod error;
pub mod ics;
mod model;
mod query;
mod recurrence;
pub mod zone;

pub use calendar::BlackDayCalendar;
pub use document::CalendarDocument;
pub use error::Error;
pub use ics::periods_from_ics;
pub use model::{Period, Span};
pub use query::{Cause, HORIZON, OUTSIDE_WINDOWS, Upcoming, Verdict};
pub use zone::{Zone, ZoneOffset};

/// Parses a time zone name under the crate's rule (IANA `Area/Location` names and `"UTC"`; see [`zone`]), for
/// callers that take a zone from elsewhere (a command line, a setting). `field` names where the name came from.
pub fn parse_time_zone(name: &str, field: &str) -> Result<Zone, Error> {
    zone::parse_zone_named(name, field)
}
