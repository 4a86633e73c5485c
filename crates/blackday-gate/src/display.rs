//! Times and durations the way people read them: wall-clock time in the calendar's zone, with UTC beside it
//! (approval summaries, Slack notices and the CLI all say the same thing the same way).

use blackday_calendar::{HORIZON, Upcoming, Zone};
use chrono::{DateTime, Duration, Timelike, Utc};

/// `2026-12-24 10:00 Europe/Berlin (09:00 UTC)`; seconds appear only when the time has them (one-off periods set to
/// the second); the UTC date is repeated when it differs.
pub fn when(at: DateTime<Utc>, zone: Zone) -> String {
    let format = if at.second() == 0 { "%H:%M" } else { "%H:%M:%S" };
    if zone == Zone::UTC {
        return format!("{} UTC", at.format(&format!("%Y-%m-%d {format}")));
    }
    let local = at.with_timezone(&zone);
    let utc = if local.date_naive() == at.date_naive() {
        at.format(format).to_string()
    } else {
        at.format(&format!("%Y-%m-%d {format}")).to_string()
    };
    format!(
        "{} {} ({utc} UTC)",
        local.format(&format!("%Y-%m-%d {format}")),
        zone.name()
    )
}

/// Wall-clock time in the zone only, for the second time of a range.
fn local(at: DateTime<Utc>, zone: Zone) -> String {
    let format = if at.second() == 0 {
        "%Y-%m-%d %H:%M"
    } else {
        "%Y-%m-%d %H:%M:%S"
    };
    format!("{} {}", at.with_timezone(&zone).format(format), zone.name())
}

/// `“Year end” from 2026-12-20 00:00 to 2027-01-04 00:00 Europe/Berlin`, or that none is in view.
pub fn upcoming(next: Option<&Upcoming>, zone: Zone) -> String {
    let Some(next) = next else {
        return format!("none within the next {} days", HORIZON.num_days());
    };
    let start = local(next.starts_at, zone);
    let zone_suffix = format!(" {}", zone.name());
    let start = start.strip_suffix(&zone_suffix).unwrap_or(&start);
    match next.ends_at {
        Some(end) => format!("“{}” from {start} to {}", next.name, local(end, zone)),
        None => format!(
            "“{}” from {start} {} (its end is beyond the horizon)",
            next.name,
            zone.name()
        ),
    }
}

/// `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn age(duration: Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => match (s / 3600, s % 3600 / 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        },
        s => match (s / 86_400, s % 86_400 / 3600) {
            (d, 0) => format!("{d} d"),
            (d, h) => format!("{d} d {h} h"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn times_in_the_zone_with_utc_beside() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let cases = [
            (
                "2026-12-24T09:00:00Z",
                berlin,
                "2026-12-24 10:00 Europe/Berlin (09:00 UTC)",
            ),
            (
                "2027-01-03T23:00:00Z",
                berlin,
                "2027-01-04 00:00 Europe/Berlin (2027-01-03 23:00 UTC)",
            ),
            ("2026-11-22T10:15:06Z", Zone::UTC, "2026-11-22 10:15:06 UTC"),
        ];
        for (at, zone, expected) in cases {
            assert_eq!(when(utc(at), zone), expected);
        }
    }

    #[test]
    fn upcoming_blackdays() {
        let next = Upcoming {
            name: "Year end".into(),
            reason: "freeze".into(),
            starts_at: utc("2026-12-19T23:00:00Z"),
            ends_at: Some(utc("2027-01-03T23:00:00Z")),
        };
        let berlin = Zone::named("Europe/Berlin").unwrap();
        assert_eq!(
            upcoming(Some(&next), berlin),
            "“Year end” from 2026-12-20 00:00 to 2027-01-04 00:00 Europe/Berlin"
        );
        assert_eq!(upcoming(None, berlin), "none within the next 400 days");
    }

    #[test]
    fn ages() {
        let cases = [
            (45, "45 s"),
            (720, "12 min"),
            (3600, "1 h"),
            (11_100, "3 h 5 min"),
            (187_200, "2 d 4 h"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(age(Duration::seconds(seconds)), expected);
        }
    }
}
