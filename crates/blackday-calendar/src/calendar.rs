//! The calendar: blackouts, allowed windows, and merging.

use crate::model::{Period, Role};
use crate::zone::Zone;

/// Blackout periods and allowed deployment windows.
///
/// A release may go at an instant when it is inside no blackout and, if the calendar has allowed windows, inside at
/// least one of them. Windows are kept in groups: the windows of one group are OR-ed (any of them allows), and the
/// groups are AND-ed (each must allow); a calendar read from one document has at most one group, and [`merge`]
/// adds the other calendar's group, so a merged calendar allows a release only when both calendars would.
///
/// [`merge`]: BlackDayCalendar::merge
#[derive(Debug, Clone)]
pub struct BlackDayCalendar {
    pub(crate) zone: Zone,
    pub(crate) blackouts: Vec<Period>,
    pub(crate) window_groups: Vec<Vec<Period>>,
}

impl BlackDayCalendar {
    /// An empty calendar (every instant is clear) whose periods default to `zone`.
    pub fn new(zone: Zone) -> BlackDayCalendar {
        BlackDayCalendar {
            zone,
            blackouts: Vec::new(),
            window_groups: Vec::new(),
        }
    }

    /// The calendar's own time zone, which its periods use unless they name one.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    pub fn blackouts(&self) -> &[Period] {
        &self.blackouts
    }

    /// The allowed windows, group by group (see the type's documentation); empty when releases may go at any time
    /// outside blackouts.
    pub fn window_groups(&self) -> &[Vec<Period>] {
        &self.window_groups
    }

    pub fn add_blackout(&mut self, mut period: Period) {
        period.role = Role::Blackout;
        self.blackouts.push(period);
    }

    /// Adds blackouts, e.g. the events of an iCalendar feed ([`crate::periods_from_ics`]).
    pub fn extend_blackouts(&mut self, periods: impl IntoIterator<Item = Period>) {
        for period in periods {
            self.add_blackout(period);
        }
    }

    /// Adds a window to the calendar's first window group (OR-ed with the windows already there); the first window
    /// of a calendar without windows starts restricting releases to windows. A window's times are read so that it
    /// is never longer than any reading of them (see [`crate::zone`]).
    pub fn add_window(&mut self, mut period: Period) {
        period.role = Role::Window;
        match self.window_groups.first_mut() {
            Some(group) => group.push(period),
            None => self.window_groups.push(vec![period]),
        }
    }

    /// Adds another calendar's periods (a pipeline's own additions to a shared calendar, say): its blackouts are
    /// added, and its windows further restrict this calendar's windows. The result allows a release exactly when
    /// both calendars allow it, so merging can only make a calendar stricter. Periods keep their own zones; this
    /// calendar's zone stays the calendar's zone.
    pub fn merge(&mut self, other: BlackDayCalendar) {
        self.blackouts.extend(other.blackouts);
        self.window_groups
            .extend(other.window_groups.into_iter().filter(|group| !group.is_empty()));
    }
}
