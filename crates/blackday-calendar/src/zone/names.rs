//! Which zone names a calendar may use, and what to write instead of the others (see [`crate::zone`]).

use super::database::{Zone, spelling};
use crate::error::Error;

/// Why a zone name was refused, and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ZoneProblem {
    pub problem: String,
    pub fix: String,
}

/// Parses a time zone name under the policy of this module.
pub(crate) fn parse_zone(name: &str) -> Result<Zone, ZoneProblem> {
    accepted(name).ok_or_else(|| refusal(name))
}

fn accepted(name: &str) -> Option<Zone> {
    if name == "UTC" || name == "Etc/UTC" {
        return Some(Zone::UTC);
    }
    if name.contains('/') && !name.starts_with("Etc/") {
        return Zone::named(name);
    }
    None
}

/// [`parse_zone`] with the refusal as an [`Error`] located at `field` (`"--zone"`, `"at `timezone`"`).
pub(crate) fn parse_zone_named(name: &str, field: &str) -> Result<Zone, Error> {
    parse_zone(name).map_err(|refused| Error::new(field, refused.problem, refused.fix))
}

fn refusal(name: &str) -> ZoneProblem {
    let trimmed = name.trim();
    let upper = trimmed.to_ascii_uppercase();
    if let Some((_, places)) = ABBREVIATIONS.iter().find(|(abbr, _)| *abbr == upper) {
        return ZoneProblem {
            problem: format!(
                "\"{name}\" is a time zone abbreviation, not an IANA time zone: abbreviations are ambiguous \
                 and do not say when daylight saving time applies"
            ),
            fix: format!("write the IANA name of the place, e.g. {}", suggestions(places)),
        };
    }
    if let Some((_, place)) = WINDOWS
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(trimmed))
    {
        return ZoneProblem {
            problem: format!("\"{name}\" is a Windows time zone name, not an IANA time zone"),
            fix: format!("write the IANA name, e.g. \"{place}\""),
        };
    }
    if trimmed.starts_with("Etc/") || trimmed.starts_with("etc/") {
        return ZoneProblem {
            problem: format!(
                "\"{name}\" is a fixed UTC offset without daylight saving time (and Etc/GMT+N means UTC-N)"
            ),
            fix: "write the IANA name of the place, e.g. \"Europe/Berlin\", or \"UTC\"".to_owned(),
        };
    }
    if let Some((_, place)) = ALIASES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(trimmed)) {
        return ZoneProblem {
            problem: format!("\"{name}\" is a legacy alias, not an Area/Location IANA time zone name"),
            fix: format!("write the IANA name, e.g. \"{place}\""),
        };
    }
    if let Some(spelled) = spelling(trimmed).filter(|spelled| accepted(spelled).is_some()) {
        return ZoneProblem {
            problem: format!("\"{name}\" is not spelled as the IANA time zone database spells it"),
            fix: format!("write \"{spelled}\""),
        };
    }
    if trimmed.eq_ignore_ascii_case("Factory") {
        return ZoneProblem {
            problem: format!(
                "\"{name}\" is the time zone database's placeholder for a zone not yet chosen, not a place"
            ),
            fix: "write the IANA name of the place as Area/Location, e.g. \"Europe/Berlin\", \"America/Chicago\", \
                  or \"UTC\""
                .to_owned(),
        };
    }
    if spelling(trimmed) == Some(trimmed) {
        return ZoneProblem {
            problem: format!("\"{name}\" is a legacy alias, not an Area/Location IANA time zone name"),
            fix: "write the IANA name of the place as Area/Location, e.g. \"Europe/Berlin\", \"America/Chicago\", \
                  or \"UTC\""
                .to_owned(),
        };
    }
    ZoneProblem {
        problem: format!("\"{name}\" is not an IANA time zone name"),
        fix: "write the IANA name of the place as Area/Location, e.g. \"Europe/Berlin\", \"America/Chicago\", \
              or \"UTC\""
            .to_owned(),
    }
}

fn suggestions(places: &[(&str, &str)]) -> String {
    places
        .iter()
        .map(|(zone, meaning)| format!("\"{zone}\" ({meaning})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Common abbreviations people write instead of a zone, with the places they usually mean.
const ABBREVIATIONS: &[(&str, &[(&str, &str)])] = &[
    (
        "CST",
        &[
            ("America/Chicago", "US Central"),
            ("Asia/Shanghai", "China"),
            ("America/Havana", "Cuba"),
        ],
    ),
    ("CDT", &[("America/Chicago", "US Central")]),
    ("EST", &[("America/New_York", "US Eastern")]),
    ("EDT", &[("America/New_York", "US Eastern")]),
    (
        "MST",
        &[("America/Denver", "US Mountain"), ("America/Phoenix", "Arizona")],
    ),
    ("MDT", &[("America/Denver", "US Mountain")]),
    (
        "PST",
        &[("America/Los_Angeles", "US Pacific"), ("Asia/Manila", "Philippines")],
    ),
    ("PDT", &[("America/Los_Angeles", "US Pacific")]),
    ("AKST", &[("America/Anchorage", "Alaska")]),
    ("HST", &[("Pacific/Honolulu", "Hawaii")]),
    (
        "IST",
        &[
            ("Asia/Kolkata", "India"),
            ("Europe/Dublin", "Ireland"),
            ("Asia/Jerusalem", "Israel"),
        ],
    ),
    (
        "BST",
        &[("Europe/London", "British Summer Time"), ("Asia/Dhaka", "Bangladesh")],
    ),
    (
        "GMT",
        &[("UTC", "no daylight saving time"), ("Europe/London", "UK time")],
    ),
    ("UT", &[("UTC", "Coordinated Universal Time")]),
    ("Z", &[("UTC", "Coordinated Universal Time")]),
    ("CET", &[("Europe/Berlin", "Germany"), ("Europe/Paris", "France")]),
    ("CEST", &[("Europe/Berlin", "Germany"), ("Europe/Paris", "France")]),
    ("MET", &[("Europe/Berlin", "Germany")]),
    ("EET", &[("Europe/Helsinki", "Finland"), ("Europe/Athens", "Greece")]),
    ("EEST", &[("Europe/Helsinki", "Finland"), ("Europe/Athens", "Greece")]),
    ("WET", &[("Europe/Lisbon", "Portugal")]),
    ("WEST", &[("Europe/Lisbon", "Portugal")]),
    ("MSK", &[("Europe/Moscow", "Moscow")]),
    ("JST", &[("Asia/Tokyo", "Japan")]),
    ("KST", &[("Asia/Seoul", "South Korea")]),
    ("SGT", &[("Asia/Singapore", "Singapore")]),
    ("HKT", &[("Asia/Hong_Kong", "Hong Kong")]),
    (
        "AEST",
        &[
            ("Australia/Sydney", "New South Wales"),
            ("Australia/Brisbane", "Queensland"),
        ],
    ),
    ("AEDT", &[("Australia/Sydney", "New South Wales")]),
    (
        "ACST",
        &[
            ("Australia/Adelaide", "South Australia"),
            ("Australia/Darwin", "Northern Territory"),
        ],
    ),
    ("AWST", &[("Australia/Perth", "Western Australia")]),
    ("NZST", &[("Pacific/Auckland", "New Zealand")]),
    ("NZDT", &[("Pacific/Auckland", "New Zealand")]),
    ("BRT", &[("America/Sao_Paulo", "Brazil")]),
    ("AST", &[("America/Halifax", "Atlantic"), ("Asia/Riyadh", "Arabia")]),
];

/// Legacy names without a `/` that the database knows, with the place they stand for.
const ALIASES: &[(&str, &str)] = &[
    ("CST6CDT", "America/Chicago"),
    ("EST5EDT", "America/New_York"),
    ("MST7MDT", "America/Denver"),
    ("PST8PDT", "America/Los_Angeles"),
    ("UCT", "UTC"),
    ("Universal", "UTC"),
    ("Zulu", "UTC"),
    ("Greenwich", "UTC"),
    ("GMT0", "UTC"),
    ("GMT+0", "UTC"),
    ("GMT-0", "UTC"),
    ("GB", "Europe/London"),
    ("GB-Eire", "Europe/London"),
    ("Eire", "Europe/Dublin"),
    ("Japan", "Asia/Tokyo"),
    ("PRC", "Asia/Shanghai"),
    ("ROC", "Asia/Taipei"),
    ("ROK", "Asia/Seoul"),
    ("Singapore", "Asia/Singapore"),
    ("Hongkong", "Asia/Hong_Kong"),
    ("Israel", "Asia/Jerusalem"),
    ("Turkey", "Europe/Istanbul"),
    ("Poland", "Europe/Warsaw"),
    ("Portugal", "Europe/Lisbon"),
    ("Iceland", "Atlantic/Reykjavik"),
    ("Egypt", "Africa/Cairo"),
    ("Cuba", "America/Havana"),
    ("Jamaica", "America/Jamaica"),
    ("Navajo", "America/Denver"),
    ("NZ", "Pacific/Auckland"),
    ("W-SU", "Europe/Moscow"),
];

/// The Windows zone names Outlook and Exchange write most often (CLDR windowsZones, territory 001).
const WINDOWS: &[(&str, &str)] = &[
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("GMT Standard Time", "Europe/London"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kyiv"),
    ("India Standard Time", "Asia/Kolkata"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::database::names;
    #[test]
    fn accepts_iana_area_location_names_and_utc() {
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "America/Argentina/Buenos_Aires",
            "US/Eastern",
        ] {
            assert_eq!(parse_zone(name).unwrap().name(), name);
        }
        assert_eq!(parse_zone("UTC").unwrap(), Zone::UTC);
        assert_eq!(parse_zone("Etc/UTC").unwrap(), Zone::UTC);
    }

    #[test]
    fn refuses_abbreviations_aliases_offsets_and_unknown_names_with_a_suggestion() {
        let cases = [
            ("CST", "abbreviation", "\"America/Chicago\" (US Central)"),
            ("cst", "abbreviation", "\"Asia/Shanghai\" (China)"),
            ("EST", "abbreviation", "\"America/New_York\""),
            ("IST", "abbreviation", "\"Asia/Kolkata\" (India)"),
            ("PST", "abbreviation", "\"America/Los_Angeles\""),
            ("GMT", "abbreviation", "\"UTC\""),
            ("CST6CDT", "legacy alias", "\"America/Chicago\""),
            ("Japan", "legacy alias", "\"Asia/Tokyo\""),
            ("Etc/GMT+5", "fixed UTC offset", "\"UTC\""),
            ("europe/berlin", "not spelled", "write \"Europe/Berlin\""),
            ("W. Europe Standard Time", "Windows", "\"Europe/Berlin\""),
            ("Mars/Olympus_Mons", "not an IANA time zone", "Area/Location"),
            (" Europe/Berlin", "not spelled", "write \"Europe/Berlin\""),
            ("utc", "not spelled", "write \"UTC\""),
            ("Factory", "placeholder", "Area/Location"),
            ("Cuba", "legacy alias", "\"America/Havana\""),
            ("Libya", "legacy alias", "Area/Location"),
            ("", "not an IANA time zone", "Area/Location"),
        ];
        for (name, problem, fix) in cases {
            let refused = parse_zone(name).unwrap_err();
            assert!(refused.problem.contains(problem), "{name}: {refused:?}");
            assert!(refused.fix.contains(fix), "{name}: {refused:?}");
        }
    }

    #[test]
    fn every_database_name_is_either_accepted_or_refused_with_a_fix() {
        for name in names() {
            match parse_zone(name) {
                Ok(parsed) if name == "Etc/UTC" => assert_eq!(parsed, Zone::UTC),
                Ok(parsed) => assert_eq!(parsed.name(), name),
                Err(refused) => assert!(refused.fix.starts_with("write"), "{name}: {refused:?}"),
            }
        }
    }

    #[test]
    fn every_suggested_name_is_accepted() {
        let abbreviated = ABBREVIATIONS
            .iter()
            .flat_map(|(_, places)| places.iter().map(|(zone, _)| *zone));
        let others = ALIASES.iter().chain(WINDOWS).map(|(_, zone)| *zone);
        for zone in abbreviated.chain(others) {
            assert!(parse_zone(zone).is_ok(), "{zone}");
        }
    }
}
