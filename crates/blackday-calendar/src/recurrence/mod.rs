//! RFC 5545 recurrence (RRULE, RDATE, EXDATE), expanded in wall-clock time by this module's own engine.
//!
//! The rule is expanded on *floating* wall-clock times ([`occurrences`]), and each occurrence is then placed in the
//! period's zone ([`Recurrence::span`]): it starts when the wall clock first reaches its start (an occurrence at
//! 02:30 on a spring-forward night starts at the change, 03:00, where RFC 5545 says 03:30: earlier, so on the safe
//! side), and it ends no earlier than RFC 5545 says (see [`Length`]).
//!
//! A rule is read in steps, one file each: its text checked part by part ([`rule`]), the parts' values read
//! ([`parts`]), the parts checked across each other and completed from DTSTART ([`validate`]), then expanded period
//! by period ([`occurrences`], with the days of a period in [`days`]). The engine reproduces the `rrule` crate
//! (0.14), which it replaced to keep that crate's compiled-in time-zone database and local-zone code out of the
//! gate; the crate stays as a dev-dependency, the oracle of the tests (`oracle.rs`: every rule the checker accepts
//! is accepted or refused alike and expands to the same occurrences, on random rules covering every part).
//!
//! A query expands the rule from a period shortly before the range asked about, not from DTSTART ([`expand`]), so
//! a check costs the same for a rule from 1900 as for one from last week. A COUNT rule is expanded once when it is
//! read, to find its last occurrence, and from then on is the same rule with that occurrence as its UNTIL. UNTIL is
//! read as a wall-clock time of the period's zone ([`rule::parse_until`]).

mod days;
mod expand;
mod occurrences;
mod parts;
mod rule;
mod validate;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};

use self::occurrences::Occurrences;
use self::parts::{Frequency, RuleParts};
use self::validate::RecurrenceRule;
use crate::model::{Role, Span};
use crate::zone::{Zone, resolve, resolve_end, rfc_local};

/// A date (or date-time) taken out of a recurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exception {
    /// The occurrence starting at exactly this wall-clock time.
    At(NaiveDateTime),
    /// Every occurrence starting on this date.
    Day(NaiveDate),
}

/// How long each occurrence lasts, as RFC 5545 §3.3.6 and §3.8.5.3 measure it.
///
/// An occurrence starting at wall-clock time `s` ends at `s + nominal` on the wall clock (read as an end: see
/// [`crate::zone::resolve_end`]), then `exact` real time later; and it lasts at least `at_least` real time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Length {
    /// Wall-clock time: JSON `duration_hours`; the days and weeks of a DURATION; DTEND − DTSTART on the wall clock.
    pub nominal: TimeDelta,
    /// Real time: the hours, minutes and seconds of a DURATION.
    pub exact: TimeDelta,
    /// Real time: DTEND − DTSTART as instants (RFC 5545 gives every occurrence of a DTEND event that exact length;
    /// the wall-clock length is kept too where it is longer, on a fall-back day).
    pub at_least: TimeDelta,
}

impl Length {
    /// A wall-clock length.
    pub(crate) fn wall(length: TimeDelta) -> Length {
        Length {
            nominal: length,
            exact: TimeDelta::zero(),
            at_least: TimeDelta::zero(),
        }
    }

    /// The longest an occurrence can be on the wall clock, give or take a daylight-saving change.
    fn reach(&self) -> TimeDelta {
        (self.nominal + self.exact).max(self.at_least)
    }

    /// An occurrence starting at wall-clock `start`, on the time line. A blackout starts when the wall clock first
    /// reaches its start and ends at the latest reading of its end, never earlier than RFC 5545's (which reads a
    /// start inside a gap the gap's length later, and measures a DURATION's hours and a DTEND event's length in
    /// real time). An allowed window is read the other way round: never longer than the wall clock says.
    pub(crate) fn place(&self, zone: Zone, role: Role, start: NaiveDateTime) -> Span {
        let later = |at: DateTime<Utc>, by: TimeDelta| at.checked_add_signed(by).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let wall = |from: NaiveDateTime| from.checked_add_signed(self.nominal).unwrap_or(NaiveDateTime::MAX);
        match role {
            Role::Blackout => {
                let rfc_start = rfc_local(zone, start);
                let rfc_instant = resolve(zone, rfc_start);
                let base = if self.nominal.is_zero() {
                    rfc_instant
                } else {
                    resolve_end(zone, wall(rfc_start))
                };
                Span {
                    start: resolve(zone, start),
                    end: later(base, self.exact).max(later(rfc_instant, self.at_least)),
                }
            }
            Role::Window => Span {
                start: resolve_end(zone, start),
                end: later(resolve(zone, wall(start)), self.exact),
            },
        }
    }
}

/// A recurring period: occurrences of a rule, each lasting a [`Length`].
#[derive(Debug, Clone)]
pub(crate) struct Recurrence {
    /// Every part RFC 5545 fills in from DTSTART written out; a COUNT turned into an UNTIL.
    rule: RecurrenceRule,
    text: String,
    start: NaiveDateTime,
    length: Length,
    /// RDATEs (and DTSTART, where it always counts), sorted.
    extra: Vec<NaiveDateTime>,
    /// Sorted.
    except_at: Vec<NaiveDateTime>,
    /// Sorted.
    except_days: Vec<NaiveDate>,
}

impl Recurrence {
    /// Builds a recurrence from the text of an RRULE (with or without the `RRULE:` prefix).
    ///
    /// With `start_counts` (iCalendar), the start is an occurrence even if the rule does not produce it, as RFC 5545
    /// says; without it (the JSON document), only the rule's occurrences count. Errors are a sentence saying what is
    /// wrong with the rule.
    pub(crate) fn new(
        rule: &str,
        start: NaiveDateTime,
        length: Length,
        zone: Zone,
        exceptions: &[Exception],
        extra_dates: &[NaiveDateTime],
        start_counts: bool,
    ) -> Result<Recurrence, String> {
        let checked = rule::check(rule, zone)?;
        let mut recurring = expandable(&checked, start)?;
        if let Some(count) = checked.count {
            recurring.until = last_counted(&recurring, start, count).or(recurring.until);
        }
        let mut extra = extra_dates.to_vec();
        if start_counts {
            extra.push(start);
        }
        extra.sort();
        extra.dedup();
        let mut except_at = Vec::new();
        let mut except_days = Vec::new();
        for exception in exceptions {
            match exception {
                Exception::At(at) => except_at.push(*at),
                Exception::Day(day) => except_days.push(*day),
            }
        }
        except_at.sort();
        except_days.sort();
        Ok(Recurrence {
            rule: recurring,
            text: checked.text,
            start,
            length,
            extra,
            except_at,
            except_days,
        })
    }

    /// The first wall-clock time the rule itself produces (ignoring exceptions and extra dates), if any.
    pub(crate) fn first_of_rule(&self) -> Option<NaiveDateTime> {
        self.rule_starts(self.start, None).next()
    }

    pub(crate) fn start(&self) -> NaiveDateTime {
        self.start
    }

    pub(crate) fn rule(&self) -> &str {
        &self.text
    }

    /// The wall-clock length of an occurrence, for descriptions.
    pub(crate) fn length(&self) -> TimeDelta {
        self.length.reach()
    }

    /// Whole days an occurrence can reach past its start date.
    pub(crate) fn reach_days(&self) -> i64 {
        self.length.reach().num_days() + 2
    }

    /// Occurrences whose start date lies in `first..=last`, placed on the time line for `role`.
    pub(crate) fn spans(&self, zone: Zone, role: Role, first: NaiveDate, last: NaiveDate) -> Vec<Span> {
        let anchor = expand::anchor(&self.rule, self.start, first);
        self.spans_from(anchor, zone, role, first, last)
    }

    /// [`Recurrence::spans`] by stepping through every occurrence from the start: the reference the fast path is
    /// tested against.
    pub(crate) fn spans_from_start(&self, zone: Zone, role: Role, first: NaiveDate, last: NaiveDate) -> Vec<Span> {
        self.spans_from(self.start, zone, role, first, last)
    }

    fn spans_from(
        &self,
        anchor: NaiveDateTime,
        zone: Zone,
        role: Role,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Vec<Span> {
        // Occurrences start on whole seconds: none later on the last day than this.
        let horizon = last.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
        let mut starts: Vec<NaiveDateTime> = self
            .rule_starts(anchor, Some(horizon))
            .skip_while(|at| at.date() < first)
            .take_while(|at| at.date() <= last)
            .collect();
        let from = self.extra.partition_point(|at| at.date() < first);
        let to = self.extra.partition_point(|at| at.date() <= last);
        starts.extend_from_slice(&self.extra[from..to]);
        starts.sort();
        starts.dedup();
        starts
            .into_iter()
            .filter(|at| {
                self.except_at.binary_search(at).is_err() && self.except_days.binary_search(&at.date()).is_err()
            })
            .map(|at| self.span(zone, role, at))
            .collect()
    }

    /// The rule's occurrences from `anchor` (a period start in step with the rule, or the start itself), none from
    /// a period starting after `horizon`.
    fn rule_starts(&self, anchor: NaiveDateTime, horizon: Option<NaiveDateTime>) -> Occurrences<'_> {
        Occurrences::new(&self.rule, anchor, horizon)
    }

    /// One occurrence on the time line (see [`Length::place`]).
    pub(crate) fn span(&self, zone: Zone, role: Role, start: NaiveDateTime) -> Span {
        self.length.place(zone, role, start)
    }
}

/// The rule the checked text describes for a series starting at `start`, with its UNTIL and without its COUNT;
/// errors are a sentence saying what is wrong with the rule.
fn expandable(checked: &rule::RuleText, start: NaiveDateTime) -> Result<RecurrenceRule, String> {
    let parts = RuleParts::read(&checked.parts)?;
    // A query expands the occurrences in the range it looks at (up to 400 days ahead): an HOURLY rule has at most
    // 9 600 there, a MINUTELY one 576 000, which would cost a gate its deadline; no BlackDay recurs that often.
    if parts.freq > Frequency::Hourly {
        return Err(format!(
            "FREQ={} repeats too often for a BlackDay; use HOURLY or slower (DAILY with BYHOUR for times of day)",
            parts.freq
        ));
    }
    if let Some(until) = checked.until
        && until < start
    {
        return Err(format!("UNTIL ({until}) is before the first occurrence ({start})"));
    }
    let mut rule = RecurrenceRule::new(parts, start)?;
    rule.until = checked.until;
    Ok(rule)
}

/// The `count`-th occurrence of the rule from `start`, if it is found soon enough.
///
/// Looking for it costs time in proportion to the periods stepped through, so the search stops after
/// COUNT_PERIODS periods (or two per occurrence asked for, if more): a rule that has not reached its COUNT by then
/// (an HOURLY rule on Mondays only, say) is left without an end, which blocks more, never less. So is one that has
/// no occurrence for 99 999 periods in a row (see [`occurrences`]).
fn last_counted(rule: &RecurrenceRule, start: NaiveDateTime, count: u32) -> Option<NaiveDateTime> {
    let periods = (2 * i64::from(count)).max(COUNT_PERIODS) * i64::from(rule.interval);
    let cutoff = i32::try_from(periods)
        .ok()
        .and_then(|periods| period_length(rule.freq).checked_mul(periods))
        .and_then(|reach| start.checked_add_signed(reach));
    let wanted = usize::try_from(count).ok()?;
    let counted = Occurrences::new(rule, start, cutoff)
        .take(wanted)
        .take_while(|at| cutoff.is_none_or(|cutoff| *at <= cutoff));
    let (found, last) = counted.fold((0, None), |(found, _), at| (found + 1, Some(at)));
    last.filter(|_| found == wanted)
}

/// Periods stepped through before a COUNT rule is left without an end (see [`last_counted`]): a few
/// milliseconds of an HOURLY rule, 55 years of a DAILY one.
const COUNT_PERIODS: i64 = 20_000;

/// The longest a period of the frequency can be.
fn period_length(freq: Frequency) -> TimeDelta {
    match freq {
        Frequency::Yearly => TimeDelta::days(366),
        Frequency::Monthly => TimeDelta::days(31),
        Frequency::Weekly => TimeDelta::days(7),
        Frequency::Daily => TimeDelta::days(1),
        _ => TimeDelta::hours(1),
    }
}

#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;
