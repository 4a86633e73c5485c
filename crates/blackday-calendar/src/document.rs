//! The JSON calendar document (the format is described in the crate documentation).
//!
//! Reading happens in two steps: serde checks the shape (unknown fields are refused), then every value is checked
//! here, so each error names the path of the field (`blackouts[2].weekly.from`), what is wrong, and what to write.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};
use serde::Deserialize;

use crate::calendar::BlackDayCalendar;
use crate::error::Error;
use crate::model::{END_OF_DAY, Fixed, Minute, MonthDay, Monthly, Period, Rule, Weekly, Yearly, at_minute};
use crate::recurrence::{Exception, Length, Recurrence};
use crate::zone::{Zone, parse_zone};

/// A calendar document as read from JSON, before its values are checked; embed it in a larger settings document
/// and call [`CalendarDocument::into_calendar`], or use [`BlackDayCalendar::from_json`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "a calendar object with timezone, blackouts and optionally allowed_windows")]
pub struct CalendarDocument {
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    blackouts: Vec<PeriodDocument>,
    #[serde(default)]
    allowed_windows: Option<Vec<PeriodDocument>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "a period object with a name and one of dates, once, weekly, monthly, yearly, rrule")]
struct PeriodDocument {
    name: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    dates: Option<Vec<String>>,
    #[serde(default)]
    once: Option<FromTo>,
    #[serde(default)]
    weekly: Option<WeeklyDocument>,
    #[serde(default)]
    monthly: Option<MonthlyDocument>,
    #[serde(default)]
    yearly: Option<FromTo>,
    #[serde(default)]
    rrule: Option<RruleDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "an object with from and to")]
struct FromTo {
    from: String,
    to: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "an object with days and/or from and to")]
struct WeeklyDocument {
    #[serde(default)]
    days: Option<Vec<String>>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(expecting = "an object with on, and optionally from and to")]
struct MonthlyDocument {
    on: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(
    expecting = "an object with rule and start, and optionally duration_hours and exdates, e.g. \
                 {\"rule\": \"FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4\", \"start\": \"2026-07-04\"}"
)]
struct RruleDocument {
    rule: String,
    start: String,
    #[serde(default)]
    duration_hours: Option<f64>,
    #[serde(default)]
    exdates: Vec<String>,
}

/// What was wrong with one value, and what to write instead.
struct Problem {
    problem: String,
    fix: String,
}

fn problem(problem: impl Into<String>, fix: impl Into<String>) -> Problem {
    Problem {
        problem: problem.into(),
        fix: fix.into(),
    }
}

type Checked<T> = Result<T, Problem>;

impl BlackDayCalendar {
    /// Reads a calendar document. Its `timezone` is required: the calendar's periods are in wall-clock time, and
    /// a forgotten zone would silently mean UTC.
    pub fn from_json(text: &str) -> Result<BlackDayCalendar, Error> {
        parse_document(text)?.into_calendar(None, "")
    }

    /// Reads a document of periods to add to this calendar (a pipeline's additions from its approval's
    /// `CustomData`, say) and merges them in ([`BlackDayCalendar::merge`]: blackouts are added, windows restrict
    /// further). Its `timezone` may be left out, and then defaults to this calendar's zone.
    pub fn merge_json(&mut self, text: &str) -> Result<(), Error> {
        let additions = parse_document(text)?.into_calendar(Some(self.zone), "")?;
        self.merge(additions);
        Ok(())
    }
}

fn parse_document(text: &str) -> Result<CalendarDocument, Error> {
    // Editors on Windows save UTF-8 with a byte-order mark; it is not JSON, but it is not a mistake either.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // serde would also read a struct from a JSON array of its fields; a calendar is always an object.
    if !text.trim_start().starts_with('{') {
        return Err(Error::new(
            "in the calendar document",
            "is not a JSON object",
            "write an object: {\"timezone\": \"Europe/Berlin\", \"blackouts\": [...]}",
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    let document = serde_path_to_error::deserialize(&mut *deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let syntax = matches!(
            inner.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        );
        let message = inner.to_string();
        if syntax || path == "." || path == "?" {
            let fix = if syntax {
                "write valid JSON (check quotes, commas and brackets)".to_owned()
            } else {
                shape_fix(&path, &message)
            };
            return Error::new("in the calendar document", message, fix);
        }
        let fix = shape_fix(&path, &message);
        Error::new(format!("at `{path}`"), message, fix)
    })?;
    // Text after the object (a second object, a stray bracket) would otherwise be ignored, and with it whatever
    // the author meant by it.
    deserializer.end().map_err(|e| {
        Error::new(
            "in the calendar document",
            format!("there is text after the calendar object ({e})"),
            "give exactly one JSON object; remove what follows its closing brace",
        )
    })?;
    Ok(document)
}

/// A fix for a document of the wrong shape, from where serde stopped and what it said.
fn shape_fix(path: &str, message: &str) -> String {
    if message.contains("unknown field `duration_hours`") || message.contains("unknown field `exdates`") {
        return "put it inside rrule: {\"rrule\": {\"rule\": \"FREQ=...\", \"start\": \"2026-07-04\", \
                \"duration_hours\": 24, \"exdates\": []}}"
            .to_owned();
    }
    if message.starts_with("unknown field") {
        return "remove the field or correct its spelling".to_owned();
    }
    if message.starts_with("missing field") {
        return "add the field".to_owned();
    }
    if path.ends_with("rrule") && message.starts_with("invalid type") {
        return "write rrule as an object: {\"rule\": \"FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4\", \"start\": \
                \"2026-07-04\", \"duration_hours\": 24}"
            .to_owned();
    }
    if message.starts_with("invalid type") {
        return "write a value of the expected type".to_owned();
    }
    "write the calendar as the blackday-calendar documentation shows (a JSON object with timezone, blackouts and \
     allowed_windows)"
        .to_owned()
}

/// Joins a path prefix and a field: `join("", "timezone")` is `timezone`, `join("calendar", "timezone")` is
/// `calendar.timezone`, `join("blackouts", "[0]")` is `blackouts[0]`.
fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() || field.starts_with('[') {
        format!("{prefix}{field}")
    } else {
        format!("{prefix}.{field}")
    }
}

fn at(path: &str, found: Problem) -> Error {
    Error::new(format!("at `{path}`"), found.problem, found.fix)
}

impl CalendarDocument {
    /// Checks every value and builds the calendar. `default_zone` is used when the document names no `timezone`
    /// (without one, the `timezone` is required); `path` is where the document sits inside a larger one (`""` at
    /// the top), so errors name the full path.
    pub fn into_calendar(self, default_zone: Option<Zone>, path: &str) -> Result<BlackDayCalendar, Error> {
        let zone_path = join(path, "timezone");
        let zone = match (&self.timezone, default_zone) {
            (Some(name), _) => {
                parse_zone(name).map_err(|refused| at(&zone_path, problem(refused.problem, refused.fix)))?
            }
            (None, Some(zone)) => zone,
            (None, None) => {
                return Err(at(
                    &zone_path,
                    problem(
                        "missing: the calendar's periods are in wall-clock time of a zone",
                        "add \"timezone\" with an IANA name, e.g. \"Europe/Berlin\", \"America/Chicago\", or \"UTC\"",
                    ),
                ));
            }
        };
        let mut calendar = BlackDayCalendar::new(zone);
        let blackouts_path = join(path, "blackouts");
        for (i, period) in self.blackouts.into_iter().enumerate() {
            calendar.add_blackout(period.check(zone, &join(&blackouts_path, &format!("[{i}]")))?);
        }
        if let Some(windows) = self.allowed_windows {
            let windows_path = join(path, "allowed_windows");
            if windows.is_empty() {
                return Err(at(
                    &windows_path,
                    problem(
                        "is an empty list, which would allow no release at all",
                        "leave allowed_windows out to allow releases at any time outside blackouts, or add a window",
                    ),
                ));
            }
            for (i, window) in windows.into_iter().enumerate() {
                calendar.add_window(window.check(zone, &join(&windows_path, &format!("[{i}]")))?);
            }
        }
        Ok(calendar)
    }
}

impl PeriodDocument {
    fn check(self, calendar_zone: Zone, path: &str) -> Result<Period, Error> {
        if self.name.trim().is_empty() {
            return Err(at(
                &join(path, "name"),
                problem("is empty", "name the period, e.g. \"Year-end freeze\""),
            ));
        }
        let zone = match &self.timezone {
            Some(name) => parse_zone(name)
                .map_err(|refused| at(&join(path, "timezone"), problem(refused.problem, refused.fix)))?,
            None => calendar_zone,
        };
        let given: Vec<&str> = [
            ("dates", self.dates.is_some()),
            ("once", self.once.is_some()),
            ("weekly", self.weekly.is_some()),
            ("monthly", self.monthly.is_some()),
            ("yearly", self.yearly.is_some()),
            ("rrule", self.rrule.is_some()),
        ]
        .into_iter()
        .filter_map(|(kind, present)| present.then_some(kind))
        .collect();
        if given.len() != 1 {
            let found = if given.is_empty() {
                "has no schedule".to_owned()
            } else {
                format!("has more than one schedule ({})", given.join(", "))
            };
            return Err(at(
                path,
                problem(
                    found,
                    "give exactly one of dates, once, weekly, monthly, yearly or rrule (split a period with two \
                     schedules into two periods)",
                ),
            ));
        }
        let rule = if let Some(dates) = self.dates {
            check_dates(&dates, zone, &join(path, "dates"))?
        } else if let Some(once) = self.once {
            check_once(&once, zone, &join(path, "once"))?
        } else if let Some(weekly) = self.weekly {
            Rule::Weekly(check_weekly(&weekly, &join(path, "weekly"))?)
        } else if let Some(monthly) = self.monthly {
            Rule::Monthly(check_monthly(&monthly, &join(path, "monthly"))?)
        } else if let Some(yearly) = self.yearly {
            Rule::Yearly(check_yearly(&yearly, &join(path, "yearly"))?)
        } else if let Some(rrule) = self.rrule {
            Rule::Recurring(Box::new(check_rrule(&rrule, zone, &join(path, "rrule"))?))
        } else {
            unreachable!("exactly one schedule was given")
        };
        Ok(Period::new(self.name, self.reason, zone, rule))
    }
}

fn check_dates(dates: &[String], zone: Zone, path: &str) -> Result<Rule, Error> {
    if dates.is_empty() {
        return Err(at(
            path,
            problem("is an empty list", "list the days, e.g. [\"2026-11-27\"]"),
        ));
    }
    let mut spans = Vec::new();
    for (i, text) in dates.iter().enumerate() {
        let day = parse_date(text).map_err(|found| at(&join(path, &format!("[{i}]")), found))?;
        spans.push(day_span(zone, day, day));
    }
    Ok(Rule::Once {
        spans,
        label: format!("on {}", dates.join(", ")),
    })
}

/// The whole days from `first` to `last` (inclusive).
fn day_span(zone: Zone, first: NaiveDate, last: NaiveDate) -> Fixed {
    Fixed::local(zone, at_minute(first, 0), at_minute(last, END_OF_DAY))
}

fn check_once(once: &FromTo, zone: Zone, path: &str) -> Result<Rule, Error> {
    let from = parse_point(&once.from).map_err(|found| at(&join(path, "from"), found))?;
    let to = parse_point(&once.to).map_err(|found| at(&join(path, "to"), found))?;
    let start = match from {
        Point::Date(day) => at_minute(day, 0),
        Point::DateTime(time) => time,
    };
    let end = match to {
        Point::Date(day) => at_minute(day, END_OF_DAY),
        Point::DateTime(time) => time,
    };
    let span = Fixed::local(zone, start, end);
    if span.wide.end <= span.wide.start {
        return Err(at(
            &join(path, "to"),
            problem(
                format!("\"{}\" is not after \"{}\"", once.to, once.from),
                "give an end after the start (a date alone includes that whole day; a date-time is the first \
                 instant after the period)",
            ),
        ));
    }
    Ok(Rule::Once {
        spans: vec![span],
        label: format!("from {} to {}", once.from, once.to),
    })
}

fn check_weekly(weekly: &WeeklyDocument, path: &str) -> Result<Weekly, Error> {
    let example = "write e.g. {\"from\": \"Fri 15:00\", \"to\": \"Mon 09:00\"}, or {\"days\": [\"Mon-Thu\"], \
                   \"from\": \"09:00\", \"to\": \"17:00\"}, or {\"days\": [\"Sat\", \"Sun\"]}";
    match (&weekly.days, &weekly.from, &weekly.to) {
        (Some(days), from, to) => {
            let days = parse_days(days, &join(path, "days"))?;
            let (from, to) = check_hours(from.as_deref(), to.as_deref(), path)?;
            Ok(Weekly::Days { days, from, to })
        }
        (None, Some(from), Some(to)) => {
            let (from_day, from_minute) =
                parse_day_time(from, false).map_err(|found| at(&join(path, "from"), found))?;
            let (to_day, to_minute) = parse_day_time(to, true).map_err(|found| at(&join(path, "to"), found))?;
            if (from_day, from_minute) == (to_day, to_minute) {
                return Err(at(
                    &join(path, "to"),
                    problem(
                        format!("\"{to}\" is the same as from"),
                        "give an end different from the start",
                    ),
                ));
            }
            Ok(Weekly::Span {
                from_day,
                from: from_minute,
                to_day,
                to: to_minute,
            })
        }
        (None, _, _) => Err(at(path, problem("needs days, or from and to", example))),
    }
}

/// Optional from/to times of day: both or neither (then the whole day).
fn check_hours(from: Option<&str>, to: Option<&str>, path: &str) -> Result<(Minute, Minute), Error> {
    match (from, to) {
        (None, None) => Ok((0, END_OF_DAY)),
        (Some(from), Some(to)) => {
            let from_minute = parse_time(from, false).map_err(|found| at(&join(path, "from"), found))?;
            let to_minute = parse_time(to, true).map_err(|found| at(&join(path, "to"), found))?;
            if from_minute == to_minute {
                return Err(at(
                    &join(path, "to"),
                    problem(
                        format!("\"{to}\" is the same as from"),
                        "give a different end (an end before the start ends the next day), or leave from and to \
                         out for the whole day",
                    ),
                ));
            }
            Ok((from_minute, to_minute))
        }
        (Some(_), None) => Err(at(
            &join(path, "to"),
            problem("is missing", "give both from and to, or neither for the whole day"),
        )),
        (None, Some(_)) => Err(at(
            &join(path, "from"),
            problem("is missing", "give both from and to, or neither for the whole day"),
        )),
    }
}

fn check_monthly(monthly: &MonthlyDocument, path: &str) -> Result<Monthly, Error> {
    let on = parse_month_day(&monthly.on).map_err(|found| at(&join(path, "on"), found))?;
    let (from, to) = check_hours(monthly.from.as_deref(), monthly.to.as_deref(), path)?;
    Ok(Monthly { on, from, to })
}

fn check_yearly(yearly: &FromTo, path: &str) -> Result<Yearly, Error> {
    let from = parse_year_point(&yearly.from, false).map_err(|found| at(&join(path, "from"), found))?;
    let to = parse_year_point(&yearly.to, true).map_err(|found| at(&join(path, "to"), found))?;
    if from == to {
        return Err(at(
            &join(path, "to"),
            problem(
                format!("\"{}\" is the same as from", yearly.to),
                "give an end different from the start",
            ),
        ));
    }
    Ok(Yearly { from, to })
}

fn check_rrule(rrule: &RruleDocument, zone: Zone, path: &str) -> Result<Recurrence, Error> {
    let start_path = join(path, "start");
    let start = parse_point(&rrule.start).map_err(|found| at(&start_path, found))?;
    let length = match (rrule.duration_hours, start) {
        (None, Point::Date(_)) => TimeDelta::days(1),
        (None, Point::DateTime(_)) => {
            return Err(at(
                &join(path, "duration_hours"),
                problem(
                    "is missing (it may be left out only when start is a date, for whole days)",
                    "say how long each occurrence lasts, e.g. \"duration_hours\": 8",
                ),
            ));
        }
        (Some(hours), _) => {
            if !(hours.is_finite() && hours > 0.0 && hours <= 366.0 * 24.0) {
                return Err(at(
                    &join(path, "duration_hours"),
                    problem(
                        format!("{hours} is not a length"),
                        "give a number of hours above 0, e.g. 24 or 1.5",
                    ),
                ));
            }
            // Whole minutes; the bound above keeps this well inside an i64.
            TimeDelta::minutes((hours * 60.0).round() as i64)
        }
    };
    let mut exceptions = Vec::new();
    for (i, text) in rrule.exdates.iter().enumerate() {
        let exception = match parse_point(text).map_err(|found| at(&join(path, &format!("exdates[{i}]")), found))? {
            Point::Date(day) => Exception::Day(day),
            Point::DateTime(time) => Exception::At(time),
        };
        exceptions.push(exception);
    }
    let start_time = start.start();
    let recurrence = Recurrence::new(
        &rrule.rule,
        start_time,
        Length::wall(length),
        zone,
        &exceptions,
        &[],
        false,
    )
    .map_err(|found| {
        at(
            &join(path, "rule"),
            problem(
                found,
                "write an RFC 5545 RRULE, e.g. \"FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24\" or \
                     \"FREQ=WEEKLY;BYDAY=FR;UNTIL=20261231T000000Z\"",
            ),
        )
    })?;
    match recurrence.first_of_rule() {
        Some(first) if first == start_time => Ok(recurrence),
        Some(first) => Err(at(
            &start_path,
            problem(
                format!(
                    "\"{}\" is not an occurrence of the rule (its first occurrence from there is {})",
                    rrule.start,
                    first.format("%Y-%m-%d %H:%M")
                ),
                format!(
                    "set start to the first occurrence, e.g. \"{}\"",
                    match start {
                        Point::Date(_) => first.format("%Y-%m-%d").to_string(),
                        Point::DateTime(_) => first.format("%Y-%m-%dT%H:%M").to_string(),
                    }
                ),
            ),
        )),
        None => Err(at(
            &join(path, "rule"),
            problem(
                "has no occurrences from start on",
                "check the rule's BYxxx parts, COUNT and UNTIL",
            ),
        )),
    }
}

/// A date (a whole day) or a wall-clock date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

impl Point {
    fn start(self) -> NaiveDateTime {
        match self {
            Point::Date(day) => at_minute(day, 0),
            Point::DateTime(time) => time,
        }
    }
}

fn parse_date(text: &str) -> Checked<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|_| text.trim().len() == 10)
        .ok_or_else(|| {
            problem(
                format!("\"{text}\" is not a date"),
                "write the date as YYYY-MM-DD, e.g. \"2026-11-27\"",
            )
        })
}

fn parse_point(text: &str) -> Checked<Point> {
    let trimmed = text.trim();
    if trimmed.len() == 10 {
        return parse_date(trimmed).map(Point::Date);
    }
    let fix = "write a date (\"2026-11-27\", the whole day) or a wall-clock date-time (\"2026-11-27T18:00\") in the \
               period's time zone";
    if trimmed.ends_with('Z') || trimmed.get(16..).is_some_and(|rest| rest.contains(['+', '-'])) {
        return Err(problem(
            format!("\"{text}\" has a UTC offset, but times are wall-clock times of the period's zone"),
            format!("{fix}; set the period's \"timezone\": \"UTC\" for UTC"),
        ));
    }
    let normalized = trimmed.replacen(' ', "T", 1);
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(&normalized, format).ok())
        .map(Point::DateTime)
        .ok_or_else(|| problem(format!("\"{text}\" is not a date or date-time"), fix))
}

/// "HH:MM" as minutes since midnight; "24:00" (the end of the day) only where `end_of_day` is allowed.
fn parse_time(text: &str, end_of_day: bool) -> Checked<Minute> {
    let fix = if end_of_day {
        "write a 24-hour time as HH:MM, e.g. \"09:00\" or \"17:30\" (\"24:00\" is the end of the day)"
    } else {
        "write a 24-hour time as HH:MM, e.g. \"09:00\" or \"17:30\""
    };
    let trimmed = text.trim();
    if end_of_day && trimmed == "24:00" {
        return Ok(END_OF_DAY);
    }
    NaiveTime::parse_from_str(trimmed, "%H:%M")
        .ok()
        .filter(|_| trimmed.len() >= 4 && trimmed.len() <= 5)
        .map(|time| {
            use chrono::Timelike;
            time.hour() * 60 + time.minute()
        })
        .ok_or_else(|| problem(format!("\"{text}\" is not a time of day"), fix))
}

fn parse_weekday(text: &str) -> Checked<Weekday> {
    text.trim().parse::<Weekday>().map_err(|_| {
        problem(
            format!("\"{text}\" is not a weekday"),
            "write Mon, Tue, Wed, Thu, Fri, Sat or Sun (or the full English name)",
        )
    })
}

/// "Fri 15:00": a weekday and a time of day.
fn parse_day_time(text: &str, end_of_day: bool) -> Checked<(Weekday, Minute)> {
    let mut words = text.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(day), Some(time), None) => Ok((parse_weekday(day)?, parse_time(time, end_of_day)?)),
        _ => Err(problem(
            format!("\"{text}\" is not a weekday and a time"),
            "write e.g. \"Fri 15:00\" (without days), or list the days in \"days\" and give times of day in from \
             and to",
        )),
    }
}

/// A list of weekdays and ranges ("Mon-Thu", which may wrap: "Fri-Mon"), sorted from Monday, without repeats.
fn parse_days(items: &[String], path: &str) -> Result<Vec<Weekday>, Error> {
    if items.is_empty() {
        return Err(at(
            path,
            problem(
                "is an empty list",
                "list the days, e.g. [\"Mon-Fri\"] or [\"Sat\", \"Sun\"]",
            ),
        ));
    }
    let mut days = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = join(path, &format!("[{i}]"));
        match item.split_once('-') {
            Some((first, last)) => {
                let first = parse_weekday(first).map_err(|found| at(&item_path, found))?;
                let last = parse_weekday(last).map_err(|found| at(&item_path, found))?;
                let mut day = first;
                days.push(day);
                while day != last {
                    day = day.succ();
                    days.push(day);
                }
            }
            None => days.push(parse_weekday(item).map_err(|found| at(&item_path, found))?),
        }
    }
    days.sort_by_key(Weekday::num_days_from_monday);
    days.dedup();
    Ok(days)
}

/// "last-business-day", "first Monday", "day 1", ...: spaces, underscores and case do not matter.
fn parse_month_day(text: &str) -> Checked<MonthDay> {
    let normalized = text.trim().to_ascii_lowercase().replace([' ', '_'], "-");
    let fix = "write \"day-1\" to \"day-31\", \"last-day\", \"first-business-day\", \"last-business-day\", or a \
               weekday in the month such as \"first-monday\", \"second-tuesday\", \"last-friday\"";
    let refused = || problem(format!("\"{text}\" is not a day of the month"), fix);
    match normalized.as_str() {
        "last-day" => return Ok(MonthDay::LastDay),
        "first-business-day" => return Ok(MonthDay::FirstBusinessDay),
        "last-business-day" => return Ok(MonthDay::LastBusinessDay),
        _ => {}
    }
    let Some((first, rest)) = normalized.split_once('-') else {
        return Err(refused());
    };
    if first == "day" {
        let n: u32 = rest.parse().map_err(|_| refused())?;
        if !(1..=31).contains(&n) {
            return Err(refused());
        }
        return Ok(MonthDay::Day(n));
    }
    let nth = match first {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "last" => -1,
        _ => return Err(refused()),
    };
    let weekday = rest.parse::<Weekday>().map_err(|_| refused())?;
    Ok(MonthDay::Nth(nth, weekday))
}

/// "12-20" or "12-20 18:00". A date alone is the start of that day for `from`, and the end of that day (inclusive)
/// for `to`.
fn parse_year_point(text: &str, is_end: bool) -> Checked<(u32, u32, Minute)> {
    let fix = "write the month and day as MM-DD, e.g. \"12-20\", optionally with a time, e.g. \"12-24 12:00\"";
    let mut words = text.split_whitespace();
    let (date, time) = match (words.next(), words.next(), words.next()) {
        (Some(date), time, None) => (date, time),
        _ => return Err(problem(format!("\"{text}\" is not a month and day"), fix)),
    };
    let refused = || problem(format!("\"{text}\" is not a month and day"), fix);
    let (month, day) = date.split_once('-').ok_or_else(refused)?;
    if month.len() != 2 || day.len() != 2 {
        return Err(refused());
    }
    let month: u32 = month.parse().map_err(|_| refused())?;
    let day: u32 = day.parse().map_err(|_| refused())?;
    // 2028 is a leap year, so February 29 is accepted; it is the last day of February in other years.
    let in_leap_year = NaiveDate::from_ymd_opt(2028, month, day).ok_or_else(refused)?;
    let minute = match time {
        Some(time) => parse_time(time, is_end)?,
        None if is_end => END_OF_DAY,
        None => 0,
    };
    Ok((in_leap_year.month(), in_leap_year.day(), minute))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_points_times_and_days() {
        assert_eq!(
            parse_point("2026-11-27").ok(),
            Some(Point::Date(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()))
        );
        let evening = NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_opt(18, 0, 0)
            .unwrap();
        for text in ["2026-11-27T18:00", "2026-11-27 18:00", "2026-11-27T18:00:00"] {
            assert_eq!(parse_point(text).ok(), Some(Point::DateTime(evening)), "{text}");
        }
        for text in [
            "2026-11-27T18:00Z",
            "2026-11-27T18:00+01:00",
            "2026-11-27T18:00:00-05:00",
        ] {
            assert!(
                parse_point(text).err().unwrap().problem.contains("UTC offset"),
                "{text}"
            );
        }
        assert!(parse_point("27.11.2026").is_err());
        assert_eq!(parse_time("9:30", false).ok(), Some(570));
        assert_eq!(parse_time("24:00", true).ok(), Some(END_OF_DAY));
        assert!(parse_time("24:00", false).is_err());
        assert!(parse_time("9am", false).is_err());
        assert_eq!(parse_day_time("friday 15:00", false).ok(), Some((Weekday::Fri, 900)));
        assert_eq!(
            parse_days(&["Fri-Mon".into(), "wed".into(), "Sat".into()], "days").unwrap(),
            [Weekday::Mon, Weekday::Wed, Weekday::Fri, Weekday::Sat, Weekday::Sun]
        );
    }

    #[test]
    fn parses_month_days_in_several_spellings() {
        let cases = [
            ("last-business-day", MonthDay::LastBusinessDay),
            ("Last business day", MonthDay::LastBusinessDay),
            ("first_business_day", MonthDay::FirstBusinessDay),
            ("day 1", MonthDay::Day(1)),
            ("day-31", MonthDay::Day(31)),
            ("last-day", MonthDay::LastDay),
            ("first Monday", MonthDay::Nth(1, Weekday::Mon)),
            ("last-fri", MonthDay::Nth(-1, Weekday::Fri)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_month_day(text).ok(), Some(expected), "{text}");
        }
        for text in ["day 0", "day 32", "sixth-monday", "someday", "end of month"] {
            assert!(parse_month_day(text).is_err(), "{text}");
        }
    }

    #[test]
    fn parses_year_points_with_leap_day_and_inclusive_end_dates() {
        assert_eq!(parse_year_point("12-20", false).ok(), Some((12, 20, 0)));
        assert_eq!(parse_year_point("01-03", true).ok(), Some((1, 3, END_OF_DAY)));
        assert_eq!(parse_year_point("12-24 12:00", true).ok(), Some((12, 24, 720)));
        assert_eq!(parse_year_point("02-29", false).ok(), Some((2, 29, 0)));
        for text in ["02-30", "04-31", "13-01", "1-3", "Dec 20", "12-20 noon"] {
            assert!(parse_year_point(text, false).is_err(), "{text}");
        }
    }
}
