//! The rule, as a pure function of the calendar and the clock: outside every BlackDay approve (naming the next);
//! inside one hold until it ends (or reject, if the pipeline asks); a calendar that cannot be read, or a feed's copy
//! older than allowed, follows the failure policy (hold by default) and never approves; wrong CustomData rejects.

use blackday_calendar::{HORIZON, Verdict, Zone};
use chrono::{DateTime, Duration, Utc};
use hooks_common::gate::{Decision, FailurePolicy};

use crate::calendars::{Snapshot, Unavailable};
use crate::display::{age, upcoming, when};
use crate::settings::Inside;

pub struct Facts {
    /// The calendar for this approval, or why there is none.
    pub calendar: Result<Snapshot, Unavailable>,
    pub now: DateTime<Utc>,
    /// When the approval expires: a BlackDay that outlasts it is said so in the hold.
    pub expires: DateTime<Utc>,
}

/// The pipeline's choices and the deployment's limits.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub inside: Inside,
    pub on_error: FailurePolicy,
    /// `CALENDAR_FEED_MAX_STALE_MINUTES`.
    pub max_stale: Duration,
    /// When to look again if the calendar cannot say (the sweep interval).
    pub recheck: Duration,
}

/// What holds a release, for the notice people get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeldBy {
    /// A BlackDay (or being outside every allowed window: `name` is then "Outside allowed windows").
    BlackDay {
        name: String,
        /// When a release may next go; `None` when not within the horizon.
        opens_at: Option<DateTime<Utc>>,
        zone: Zone,
    },
    /// The calendar could not be read: the gate fails closed.
    Unreadable,
}

/// The decision, and for a hold, what holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ruling {
    pub decision: Decision,
    pub held_by: Option<HeldBy>,
}

impl Ruling {
    fn plain(decision: Decision) -> Ruling {
        let held_by = matches!(decision, Decision::Hold { .. }).then_some(HeldBy::Unreadable);
        Ruling { decision, held_by }
    }
}

pub fn decide(facts: &Facts, rules: &Rules) -> Ruling {
    let now = facts.now;
    let snapshot = match &facts.calendar {
        Ok(snapshot) => snapshot,
        // A mistake in CustomData will not fix itself on the next sweep: reject, naming the field.
        Err(Unavailable::CustomData(problem)) => {
            return Ruling::plain(Decision::Reject {
                reason: format!("{problem}. See the README's BlackDay gate CustomData"),
            });
        }
        Err(Unavailable::Unreadable(problem)) => {
            return Ruling::plain(rules.on_error.on_error(problem, now, rules.recheck));
        }
    };
    let zone = snapshot.calendar.zone();
    let mut note = String::new();
    if let Some(stale) = &snapshot.stale {
        let old = now - stale.fetched_at;
        if old > rules.max_stale {
            let problem = format!(
                "calendar `{}`: {}; its last good copy is {} old, more than the {} CALENDAR_FEED_MAX_STALE_MINUTES \
                 allows",
                snapshot.name,
                stale.problem,
                age(old),
                age(rules.max_stale)
            );
            return Ruling::plain(rules.on_error.on_error(&problem, now, rules.recheck));
        }
        note = format!(
            " (the feed could not be read: {}; decided on its copy from {} ago)",
            stale.problem,
            age(old)
        );
    }
    match snapshot.calendar.verdict(now) {
        Verdict::Clear { next_blackday } => Ruling::plain(Decision::Approve {
            summary: format!(
                "outside every BlackDay (calendar `{}`); next BlackDay: {}{note}",
                snapshot.name,
                upcoming(next_blackday.as_ref(), zone)
            ),
        }),
        Verdict::Blocked {
            cause,
            period_name,
            reason,
            ends_at,
        } => {
            let what = cause.explain(&period_name, &reason);
            let until = match ends_at {
                Some(opens) => format!("releases may go again at {}", when(opens, zone)),
                None => format!("no release window within the next {} days", HORIZON.num_days()),
            };
            if rules.inside == Inside::Reject {
                return Ruling::plain(Decision::Reject {
                    // The verdict and the time first: `what` carries the period's own text, which may be long,
                    // and the approval summary is cut at 512 characters.
                    reason: format!(
                        "rejected, as this pipeline's CustomData says \"inside\": \"reject\"; {until}; {what}{note}"
                    ),
                });
            }
            let outlasts = match ends_at {
                Some(opens) if opens > facts.expires => format!(
                    "; that is after the approval expires ({}): unless a person decides first, it is rejected \
                     before then",
                    when(facts.expires, zone)
                ),
                _ => String::new(),
            };
            let sweep = if ends_at.is_some() {
                ", and the gate approves then"
            } else {
                ""
            };
            Ruling {
                decision: Decision::Hold {
                    reason: format!("{what}; {until}{sweep}{outlasts}{note}"),
                    recheck_after: ends_at.unwrap_or(now + rules.recheck),
                },
                held_by: Some(HeldBy::BlackDay {
                    name: period_name,
                    opens_at: ends_at,
                    zone,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blackday_calendar::BlackDayCalendar;

    use crate::calendars::StaleCopy;

    /// Monday 2026-11-23 10:00 UTC.
    fn now() -> DateTime<Utc> {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    const CALENDAR: &str = r#"{"timezone": "Europe/Berlin", "blackouts": [
        {"name": "Black Friday", "reason": "the year's busiest shopping weekend", "dates": ["2026-11-27", "2026-11-28"]},
        {"name": "Year end", "yearly": {"from": "12-20", "to": "01-03"}}]}"#;

    fn snapshot(at_blackday: bool, stale_minutes: Option<i64>) -> Result<Snapshot, Unavailable> {
        let mut calendar = BlackDayCalendar::from_json(CALENDAR).unwrap();
        if at_blackday {
            calendar
                .merge_json(r#"{"blackouts": [{"name": "Launch freeze", "once": {"from": "2026-11-23T09:00", "to": "2026-11-23T13:30"}}]}"#)
                .unwrap();
        }
        Ok(Snapshot {
            name: "retail".into(),
            calendar,
            stale: stale_minutes.map(|m| StaleCopy {
                fetched_at: now() - Duration::minutes(m),
                problem: "feed at calendar.example.com: answered HTTP 503".into(),
            }),
        })
    }

    fn rules(inside: Inside) -> Rules {
        Rules {
            inside,
            on_error: FailurePolicy::Hold,
            max_stale: Duration::minutes(360),
            recheck: Duration::minutes(5),
        }
    }

    #[test]
    fn the_table() {
        use Inside::{Hold, Reject};
        let unreadable = || {
            Err(Unavailable::Unreadable(
                "calendar `retail`: feed at x: answered HTTP 503".into(),
            ))
        };
        let custom = || {
            Err(Unavailable::CustomData(
                "CustomData `calendar`: no calendar named `x`".into(),
            ))
        };
        // (calendar, inside, expected, text the explanation must carry)
        let cases: Vec<(Result<Snapshot, Unavailable>, Inside, &str, &str)> = vec![
            (
                snapshot(false, None),
                Hold,
                "approve",
                "outside every BlackDay (calendar `retail`); next BlackDay: “Black Friday” from 2026-11-27 00:00 to \
                 2026-11-29 00:00 Europe/Berlin",
            ),
            (
                snapshot(true, None),
                Hold,
                "hold",
                "inside BlackDay “Launch freeze”: from 2026-11-23T09:00 to 2026-11-23T13:30 (Europe/Berlin); \
                 releases may go again at 2026-11-23 13:30 Europe/Berlin (12:30 UTC), and the gate approves then",
            ),
            (
                snapshot(true, None),
                Reject,
                "reject",
                "rejected, as this pipeline's CustomData says \"inside\": \"reject\"; releases may go again at \
                 2026-11-23 13:30 Europe/Berlin (12:30 UTC); inside BlackDay “Launch freeze”",
            ),
            (snapshot(false, None), Reject, "approve", "outside every BlackDay"),
            (
                unreadable(),
                Hold,
                "hold",
                "could not check: calendar `retail`: feed at x: answered HTTP 503",
            ),
            (unreadable(), Reject, "hold", "failure policy: hold"),
            (custom(), Hold, "reject", "no calendar named `x`. See the README"),
            // A feed that cannot be read: its copy decides while young enough, and says so.
            (
                snapshot(false, Some(30)),
                Hold,
                "approve",
                "decided on its copy from 30 min ago",
            ),
            (snapshot(true, Some(30)), Hold, "hold", "Launch freeze"),
            (
                snapshot(false, Some(361)),
                Hold,
                "hold",
                "its last good copy is 6 h 1 min old, more than the 6 h CALENDAR_FEED_MAX_STALE_MINUTES allows",
            ),
        ];
        for (calendar, inside, expected, text) in cases {
            let facts = Facts {
                calendar,
                now: now(),
                expires: now() + Duration::days(7),
            };
            let ruling = decide(&facts, &rules(inside));
            assert_eq!(ruling.decision.kind(), expected, "{ruling:?}");
            let explanation = ruling.decision.explanation();
            assert!(explanation.contains(text), "{text:?} not in {explanation:?}");
        }
    }

    #[test]
    fn a_hold_rechecks_when_the_blackday_ends_and_names_it() {
        let facts = Facts {
            calendar: snapshot(true, None),
            now: now(),
            expires: now() + Duration::days(7),
        };
        let ruling = decide(&facts, &rules(Inside::Hold));
        let opens: DateTime<Utc> = "2026-11-23T12:30:00Z".parse().unwrap();
        assert_eq!(
            ruling.decision,
            Decision::Hold {
                reason: ruling.decision.explanation().to_owned(),
                recheck_after: opens
            }
        );
        assert_eq!(
            ruling.held_by,
            Some(HeldBy::BlackDay {
                name: "Launch freeze".into(),
                opens_at: Some(opens),
                zone: Zone::named("Europe/Berlin").unwrap()
            })
        );
    }

    #[test]
    fn a_blackday_outlasting_the_approval_says_so() {
        let year_end: DateTime<Utc> = "2026-12-24T09:00:00Z".parse().unwrap();
        let facts = Facts {
            calendar: snapshot(false, None),
            now: year_end,
            expires: year_end + Duration::days(7),
        };
        let ruling = decide(&facts, &rules(Inside::Hold));
        let reason = ruling.decision.explanation();
        assert!(reason.contains("inside BlackDay “Year end”"), "{reason}");
        assert!(
            reason.contains("releases may go again at 2027-01-04 00:00 Europe/Berlin (2027-01-03 23:00 UTC)"),
            "{reason}"
        );
        assert!(
            reason.contains("after the approval expires (2026-12-31 10:00"),
            "{reason}"
        );
    }

    #[test]
    fn errors_never_approve_whatever_the_policy() {
        for on_error in [FailurePolicy::Hold, FailurePolicy::Reject] {
            for calendar in [
                Err(Unavailable::Unreadable("timeout".into())),
                snapshot(false, Some(100_000)),
            ] {
                let facts = Facts {
                    calendar,
                    now: now(),
                    expires: now() + Duration::days(7),
                };
                let ruling = decide(
                    &facts,
                    &Rules {
                        on_error,
                        ..rules(Inside::Hold)
                    },
                );
                assert!(!ruling.decision.is_approve(), "{ruling:?}");
                assert_eq!(
                    matches!(ruling.decision, Decision::Hold { .. }),
                    on_error == FailurePolicy::Hold
                );
                let expected = (on_error == FailurePolicy::Hold).then_some(HeldBy::Unreadable);
                assert_eq!(ruling.held_by, expected);
            }
        }
    }

    #[test]
    fn outside_the_allowed_windows_holds_until_one_opens() {
        let calendar = BlackDayCalendar::from_json(
            r#"{"timezone": "Europe/Berlin", "allowed_windows": [
                {"name": "Business hours", "weekly": {"days": ["Mon-Thu"], "from": "09:00", "to": "17:00"}}]}"#,
        )
        .unwrap();
        // Monday 2026-11-23 18:00 Berlin.
        let evening: DateTime<Utc> = "2026-11-23T17:00:00Z".parse().unwrap();
        let facts = Facts {
            calendar: Ok(Snapshot {
                name: "default".into(),
                calendar,
                stale: None,
            }),
            now: evening,
            expires: evening + Duration::days(7),
        };
        let ruling = decide(&facts, &rules(Inside::Hold));
        let reason = ruling.decision.explanation();
        assert!(reason.starts_with("outside the allowed windows"), "{reason}");
        assert!(
            reason.contains("2026-11-24 09:00 Europe/Berlin (08:00 UTC)"),
            "{reason}"
        );
    }
}
