//! [`Zone`] as a [`chrono::TimeZone`], with [`ZoneOffset`] as its offset.

use std::fmt;

use chrono::{FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};

use super::database::Zone;
use super::table::Kind;

/// The offset of a [`Zone`] at some instant: the UTC offset ([`Offset::fix`]) and its abbreviation (`CEST`),
/// with the zone it belongs to. `Display` (and so `%Z`) shows the abbreviation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ZoneOffset {
    zone: Zone,
    kind: &'static Kind,
}

impl ZoneOffset {
    /// The zone this offset is one of.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The abbreviation the database gives this offset (`"CET"`, `"CEST"`, `"EDT"`, `"+0545"`, `"UTC"`).
    pub fn abbreviation(&self) -> &'static str {
        self.kind.abbreviation
    }
}

impl Offset for ZoneOffset {
    fn fix(&self) -> FixedOffset {
        self.kind.offset
    }
}

/// The abbreviation (`CEST`), or the offset (`+02:00`) for a zone without one.
impl fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind.abbreviation {
            "" => fmt::Display::fmt(&self.kind.offset, f),
            abbreviation => f.write_str(abbreviation),
        }
    }
}

impl fmt::Debug for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl TimeZone for Zone {
    type Offset = ZoneOffset;

    fn from_offset(offset: &ZoneOffset) -> Zone {
        offset.zone
    }

    /// Some offset in force during that day: the one at its first moment that exists, as chrono-tz does.
    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<ZoneOffset> {
        let earliest = self.offset_from_local_datetime(&local.and_time(NaiveTime::MIN));
        let last_second = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
        let latest = self.offset_from_local_datetime(&local.and_time(last_second));
        match (earliest, latest) {
            (MappedLocalTime::Single(offset) | MappedLocalTime::Ambiguous(offset, _), _)
            | (MappedLocalTime::None, MappedLocalTime::Single(offset) | MappedLocalTime::Ambiguous(offset, _)) => {
                MappedLocalTime::Single(offset)
            }
            (MappedLocalTime::None, MappedLocalTime::None) => MappedLocalTime::None,
        }
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<ZoneOffset> {
        let zone = *self;
        let table = &zone.data().table;
        table
            .kinds_showing(local.and_utc().timestamp())
            .map(|kind| ZoneOffset { zone, kind })
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> ZoneOffset {
        self.offset_from_utc_datetime(&utc.and_time(NaiveTime::MIN))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ZoneOffset {
        let zone = *self;
        ZoneOffset {
            zone,
            kind: zone.data().table.kind_at(utc.and_utc().timestamp()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn zone(name: &str) -> Zone {
        Zone::named(name).unwrap()
    }

    fn local(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// What a wall-clock reading means, as instants with their abbreviations.
    fn readings(zone: Zone, wall: &str) -> Vec<String> {
        let show = |at: DateTime<Zone>| format!("{} {}", at.with_timezone(&Utc).format("%FT%TZ"), at.format("%Z"));
        match zone.from_local_datetime(&local(wall)) {
            MappedLocalTime::None => vec![],
            MappedLocalTime::Single(at) => vec![show(at)],
            MappedLocalTime::Ambiguous(first, second) => vec![show(first), show(second)],
        }
    }

    #[test]
    fn instants_show_their_offset_and_abbreviation() {
        let berlin = zone("Europe/Berlin");
        let summer = utc("2026-07-01T10:00:00Z").with_timezone(&berlin);
        assert_eq!(summer.to_string(), "2026-07-01 12:00:00 CEST");
        assert_eq!(summer.format("%H:%M %Z %:z").to_string(), "12:00 CEST +02:00");
        assert_eq!(summer.offset().fix().local_minus_utc(), 7200);
        assert_eq!(summer.offset().abbreviation(), "CEST");
        assert_eq!(summer.timezone(), berlin);
        assert_eq!(format!("{summer:?}"), "2026-07-01T12:00:00CEST");
        let winter = utc("2026-01-01T10:00:00Z").with_timezone(&berlin);
        assert_eq!(winter.format("%F %T %Z").to_string(), "2026-01-01 11:00:00 CET");
        let kathmandu = utc("2026-01-01T10:00:00Z").with_timezone(&zone("Asia/Kathmandu"));
        assert_eq!(kathmandu.format("%F %T %Z").to_string(), "2026-01-01 15:45:00 +0545");
        let at_utc = utc("2026-01-01T10:00:00Z").with_timezone(&Zone::UTC);
        assert_eq!(at_utc.to_string(), "2026-01-01 10:00:00 UTC");
    }

    #[test]
    fn readings_in_gaps_and_overlaps() {
        let berlin = zone("Europe/Berlin");
        // Spring forward 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); fall back 2026-10-25 03:00 CEST -> 02:00 CET.
        assert_eq!(readings(berlin, "2026-03-29T01:59:59"), ["2026-03-29T00:59:59Z CET"]);
        assert!(readings(berlin, "2026-03-29T02:00:00").is_empty());
        assert!(readings(berlin, "2026-03-29T02:59:59").is_empty());
        assert_eq!(readings(berlin, "2026-03-29T03:00:00"), ["2026-03-29T01:00:00Z CEST"]);
        assert_eq!(readings(berlin, "2026-10-25T01:59:59"), ["2026-10-24T23:59:59Z CEST"]);
        assert_eq!(
            readings(berlin, "2026-10-25T02:00:00"),
            ["2026-10-25T00:00:00Z CEST", "2026-10-25T01:00:00Z CET"]
        );
        assert_eq!(
            readings(berlin, "2026-10-25T02:59:59"),
            ["2026-10-25T00:59:59Z CEST", "2026-10-25T01:59:59Z CET"]
        );
        assert_eq!(readings(berlin, "2026-10-25T03:00:00"), ["2026-10-25T02:00:00Z CET"]);
    }

    #[test]
    fn half_hour_changes_and_half_hour_zones() {
        // Lord Howe: +10:30 -> +11:00 at 02:00 on 2026-10-04, back at 02:00 on 2026-04-05.
        let lord_howe = zone("Australia/Lord_Howe");
        assert!(readings(lord_howe, "2026-10-04T02:00:00").is_empty());
        assert!(readings(lord_howe, "2026-10-04T02:29:59").is_empty());
        assert_eq!(readings(lord_howe, "2026-10-04T02:30:00"), ["2026-10-03T15:30:00Z +11"]);
        assert_eq!(
            readings(lord_howe, "2026-04-05T01:45:00"),
            ["2026-04-04T14:45:00Z +11", "2026-04-04T15:15:00Z +1030"]
        );
        assert_eq!(
            readings(lord_howe, "2026-04-05T02:00:00"),
            ["2026-04-04T15:30:00Z +1030"]
        );
        // Kathmandu: +05:45 since 1986, never a change since.
        let kathmandu = zone("Asia/Kathmandu");
        assert_eq!(
            readings(kathmandu, "2026-03-29T02:30:00"),
            ["2026-03-28T20:45:00Z +0545"]
        );
        assert_eq!(
            readings(kathmandu, "2400-01-01T00:00:00"),
            ["2399-12-31T18:15:00Z +0545"]
        );
    }

    #[test]
    fn far_future_dates_follow_the_rule() {
        let berlin = zone("Europe/Berlin");
        // 2200: the last Sundays of March and October are the 30th and the 26th.
        assert!(readings(berlin, "2200-03-30T02:30:00").is_empty());
        assert_eq!(readings(berlin, "2200-03-30T01:30:00"), ["2200-03-30T00:30:00Z CET"]);
        assert_eq!(
            readings(berlin, "2200-10-26T02:30:00"),
            ["2200-10-26T00:30:00Z CEST", "2200-10-26T01:30:00Z CET"]
        );
        // Years past the table's first 400-year cycle: 2826-03-29 and 9999-03-28 are last Sundays of March.
        assert!(readings(berlin, "2826-03-29T02:30:00").is_empty());
        assert_eq!(readings(berlin, "2826-03-22T02:30:00"), ["2826-03-22T01:30:00Z CET"]);
        assert_eq!(readings(berlin, "2826-07-01T12:00:00"), ["2826-07-01T10:00:00Z CEST"]);
        assert!(readings(berlin, "9999-03-28T02:30:00").is_empty());
        assert_eq!(readings(berlin, "9999-03-27T02:30:00"), ["9999-03-27T01:30:00Z CET"]);
        let new_york = zone("America/New_York");
        // The second Sunday of March 2500 is the 14th; the first Sunday of November, the 7th.
        assert!(readings(new_york, "2500-03-14T02:30:00").is_empty());
        assert_eq!(
            readings(new_york, "2500-11-07T01:30:00"),
            ["2500-11-07T05:30:00Z EDT", "2500-11-07T06:30:00Z EST"]
        );
        // The southern hemisphere: Sydney's daylight time runs over the new year.
        let sydney = zone("Australia/Sydney");
        assert_eq!(readings(sydney, "3000-01-01T12:00:00"), ["3000-01-01T01:00:00Z AEDT"]);
        assert_eq!(readings(sydney, "3000-07-01T12:00:00"), ["3000-07-01T02:00:00Z AEST"]);
    }

    #[test]
    fn the_ends_of_chronos_range_answer_without_panicking() {
        for name in [
            "Europe/Berlin",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
            "America/Sao_Paulo",
            "UTC",
        ] {
            let zone = zone(name);
            for wall in [NaiveDateTime::MIN, NaiveDateTime::MAX] {
                let _ = zone.from_local_datetime(&wall);
                let _ = zone.offset_from_utc_datetime(&wall);
            }
        }
    }

    #[test]
    fn dates_take_an_offset_of_that_day() {
        let berlin = zone("Europe/Berlin");
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        #[allow(deprecated)]
        let offset = berlin.offset_from_local_date(&day).single().unwrap();
        assert_eq!(offset.abbreviation(), "CET");
        assert_eq!(offset.zone(), berlin);
        let day_after = NaiveDate::from_ymd_opt(2026, 3, 30).unwrap();
        assert_eq!(berlin.offset_from_utc_date(&day_after).abbreviation(), "CEST");
    }
}
