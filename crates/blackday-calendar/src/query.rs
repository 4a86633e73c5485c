//! Questions to a calendar: may a release go now, until when is it blocked, when is the next BlackDay.
//!
//! Every answer looks ahead at most [`HORIZON`] from the instant asked about; what lies beyond is unknown
//! (`None`), never assumed clear.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::calendar::BlackDayCalendar;
use crate::model::{Period, Span};

/// How far ahead of the instant asked about the queries look: 400 days, so a yearly period and the whole of the
/// next year's freeze are always in view.
pub const HORIZON: TimeDelta = TimeDelta::days(400);

/// The ranges searched one after the other, ending with the horizon.
const LOOK_AHEAD: [TimeDelta; 4] = [TimeDelta::days(4), TimeDelta::days(32), TimeDelta::days(120), HORIZON];

/// May a release go at an instant, and what is next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// A release may go now.
    Clear {
        /// The next BlackDay that starts after now, within the horizon.
        next_blackday: Option<Upcoming>,
    },
    /// A release may not go now.
    Blocked {
        cause: Cause,
        /// The blackout's name (the first listed, if several cover the instant), or "Outside allowed windows".
        period_name: String,
        /// The blackout's reason (or what its rule says when it has none), or which windows would allow.
        reason: String,
        /// When a release may next go: the end of the run of blackouts (and closed windows) that blocks now.
        /// `None` when that is not within the horizon.
        ends_at: Option<DateTime<Utc>>,
    },
}

/// Why a release is blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Inside a blackout period.
    Blackout,
    /// Outside every allowed window (and inside no blackout).
    OutsideWindows,
}

impl Cause {
    /// Why a release is blocked, in the words the gate's summary and the CLI both use.
    pub fn explain(self, period_name: &str, reason: &str) -> String {
        match self {
            Cause::Blackout => format!("inside BlackDay “{period_name}”: {reason}"),
            Cause::OutsideWindows => format!("outside the allowed windows: {reason}"),
        }
    }
}

/// A BlackDay ahead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upcoming {
    /// The name of the blackout that starts the run (the first listed, if several start together).
    pub name: String,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    /// The end of the run of overlapping or back-to-back blackouts that starts there; `None` when it lasts beyond
    /// the horizon. Allowed windows do not count: the next window may open later still
    /// ([`BlackDayCalendar::next_window`]).
    pub ends_at: Option<DateTime<Utc>>,
}

/// The name given to the blocking "period" when a release is blocked for being outside every allowed window.
pub const OUTSIDE_WINDOWS: &str = "Outside allowed windows";

impl Verdict {
    pub fn is_clear(&self) -> bool {
        matches!(self, Verdict::Clear { .. })
    }
}

impl BlackDayCalendar {
    /// May a release go at `at`? When blocked, says by what and until when; when clear, names the next BlackDay.
    pub fn verdict(&self, at: DateTime<Utc>) -> Verdict {
        if self.is_clear(at) {
            return Verdict::Clear {
                next_blackday: self.next_blackday(at),
            };
        }
        let ends_at = self.next_window(at);
        if let Some(blackout) = self.blackouts.iter().find(|period| period.contains(at)) {
            return Verdict::Blocked {
                cause: Cause::Blackout,
                period_name: blackout.name.clone(),
                reason: blackout.explanation(),
                ends_at,
            };
        }
        let closed = self
            .window_groups
            .iter()
            .find(|group| !group.iter().any(|window| window.contains(at)))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let windows: Vec<String> = closed
            .iter()
            .map(|window| format!("{}: {}", window.name, window.describe()))
            .collect();
        Verdict::Blocked {
            cause: Cause::OutsideWindows,
            period_name: OUTSIDE_WINDOWS.to_owned(),
            reason: format!("releases may go only inside an allowed window ({})", windows.join("; ")),
            ends_at,
        }
    }

    /// Whether a release may go at `at`.
    pub fn is_clear(&self, at: DateTime<Utc>) -> bool {
        !self.blackouts.iter().any(|period| period.contains(at))
            && self
                .window_groups
                .iter()
                .all(|group| group.iter().any(|window| window.contains(at)))
    }

    /// When a release may next go: `at` itself when clear, otherwise the first clear instant after it; `None` when
    /// there is none within the horizon.
    pub fn next_window(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Look a little ahead first, and further only when needed: the first clear instant found in a shorter
        // range is the first one in the horizon too.
        LOOK_AHEAD
            .iter()
            .find_map(|ahead| self.allowed(at, at + *ahead).first().map(|span| span.start))
    }

    /// The next BlackDay that starts after `at` (a run of blackouts that is already under way at `at` is not next),
    /// within the horizon.
    pub fn next_blackday(&self, at: DateTime<Utc>) -> Option<Upcoming> {
        for ahead in LOOK_AHEAD {
            let until = at + ahead;
            let spans: Vec<(Span, &Period)> = self
                .blackouts
                .iter()
                .flat_map(|period| period.spans(at, until).into_iter().map(move |span| (span, period)))
                .collect();
            let runs = union(spans.iter().map(|(span, _)| *span).collect());
            let Some(run) = runs.into_iter().find(|run| run.start > at && run.start < until) else {
                continue;
            };
            // A run reaching the end of the range may go on beyond it: look further, unless this is the horizon.
            if run.end >= until && ahead < HORIZON {
                continue;
            }
            let (_, first) = spans.iter().find(|(span, _)| span.start == run.start)?;
            return Some(Upcoming {
                name: first.name.clone(),
                reason: first.explanation(),
                starts_at: run.start,
                ends_at: (run.end < until).then_some(run.end),
            });
        }
        None
    }

    /// The instants in `from..to` at which a release may go, as sorted, disjoint spans.
    pub fn allowed(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Span> {
        if from >= to {
            return Vec::new();
        }
        let mut allowed = vec![Span { start: from, end: to }];
        for group in &self.window_groups {
            let windows = union(group.iter().flat_map(|window| window.spans(from, to)).collect());
            allowed = intersect(&allowed, &windows);
        }
        let blackouts = union(
            self.blackouts
                .iter()
                .flat_map(|period| period.spans(from, to))
                .collect(),
        );
        subtract(&allowed, &blackouts)
    }
}

/// Sorted, disjoint spans covering the same instants; spans that touch are joined.
pub(crate) fn union(mut spans: Vec<Span>) -> Vec<Span> {
    spans.retain(|span| span.start < span.end);
    spans.sort();
    let mut joined: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match joined.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => joined.push(span),
        }
    }
    joined
}

/// The instants in both (each sorted and disjoint).
pub(crate) fn intersect(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let start = a[i].start.max(b[j].start);
        let end = a[i].end.min(b[j].end);
        if start < end {
            out.push(Span { start, end });
        }
        if a[i].end <= b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The instants in `a` and not in `b` (each sorted and disjoint).
pub(crate) fn subtract(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut first_cut = 0;
    for span in a {
        while first_cut < b.len() && b[first_cut].end <= span.start {
            first_cut += 1;
        }
        let mut start = span.start;
        for cut in b[first_cut..].iter().take_while(|cut| cut.start < span.end) {
            if cut.start > start {
                out.push(Span { start, end: cut.start });
            }
            start = start.max(cut.end);
        }
        if start < span.end {
            out.push(Span { start, end: span.end });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: i64, end: i64) -> Span {
        let at = |hour: i64| DateTime::<Utc>::UNIX_EPOCH + TimeDelta::hours(hour);
        Span {
            start: at(start),
            end: at(end),
        }
    }

    fn spans(pairs: &[(i64, i64)]) -> Vec<Span> {
        pairs.iter().map(|(start, end)| span(*start, *end)).collect()
    }

    #[test]
    fn union_joins_overlapping_and_touching_spans_and_drops_empty_ones() {
        type Hours<'a> = &'a [(i64, i64)];
        let cases: [(Hours, Hours); 4] = [
            (&[], &[]),
            (&[(5, 7), (1, 3), (3, 4)], &[(1, 4), (5, 7)]),
            (&[(1, 10), (2, 3), (9, 12)], &[(1, 12)]),
            (&[(4, 4), (6, 5)], &[]),
        ];
        for (input, expected) in cases {
            assert_eq!(union(spans(input)), spans(expected), "{input:?}");
        }
    }

    #[test]
    fn intersect_and_subtract_agree_with_hour_by_hour_sets() {
        let sets: [&[(i64, i64)]; 5] = [
            &[],
            &[(0, 24)],
            &[(1, 3), (5, 9), (12, 13)],
            &[(2, 6), (8, 12), (20, 22)],
            &[(3, 4), (9, 10), (13, 20)],
        ];
        let has = |set: &[Span], hour: i64| set.iter().any(|s| s.contains(span(hour, hour + 1).start));
        for a in sets {
            for b in sets {
                let (a, b) = (spans(a), spans(b));
                let both = intersect(&a, &b);
                let only_a = subtract(&a, &b);
                for hour in 0..24 {
                    assert_eq!(
                        has(&both, hour),
                        has(&a, hour) && has(&b, hour),
                        "{a:?} & {b:?} at {hour}"
                    );
                    assert_eq!(
                        has(&only_a, hour),
                        has(&a, hour) && !has(&b, hour),
                        "{a:?} - {b:?} at {hour}"
                    );
                }
                assert_eq!(union(both.clone()), both);
                assert_eq!(union(only_a.clone()), only_a);
            }
        }
    }
}
