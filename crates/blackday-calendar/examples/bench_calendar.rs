//! The calendar engine's speed budget (issue 13), measured side by side in one run on the build it is run from:
//!
//! | workload | budget |
//! |---|---|
//! | 50 recurring events starting five years back, one check | 5 ms |
//! | ten HOURLY rules starting in 1900, one check | 50 ms |
//! | a 1 MB feed, read and checked | 50 ms |
//!
//! A check is what the gate does per approval: [`BlackDayCalendar::verdict`] (which also finds the next BlackDay or
//! the end of the blocking run). Each row is the median of the runs; the exit status is 1 when a row misses its
//! budget. `--quick` runs each workload 5 times instead of 21 (for CI); measure budgets on the release build:
//! `cargo run --release -p blackday-calendar --example bench_calendar`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use blackday_calendar::{BlackDayCalendar, Zone};
use chrono::{DateTime, Datelike, TimeDelta, Utc};

/// The instant every check asks about: a fixed Wednesday morning, so runs compare.
const NOW: &str = "2026-12-02T09:17:00Z";

struct Row {
    name: &'static str,
    budget: Duration,
    /// Builds what the timed part needs (outside the timing), then returns the timed part.
    run: Box<dyn Fn() -> Box<dyn Fn()>>,
}

fn main() {
    let quick = std::env::args().skip(1).any(|arg| arg == "--quick");
    let runs = if quick { 5 } else { 21 };
    let now: DateTime<Utc> = NOW.parse().expect("a valid instant");
    let recurring = recurring_feed(now);
    let hourly = hourly_feed();
    let big = big_feed(now);
    println!(
        "calendar benchmark: median of {runs} runs at {NOW} ({} build)",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    println!(
        "feeds: recurring {} B, hourly {} B, big {} B",
        recurring.len(),
        hourly.len(),
        big.len()
    );
    let rows = [
        Row {
            name: "50 recurring events from five years back, per check",
            budget: Duration::from_millis(5),
            run: Box::new(move || {
                let calendar = parse(&recurring);
                Box::new(move || {
                    std::hint::black_box(calendar.verdict(now));
                })
            }),
        },
        Row {
            name: "ten HOURLY rules from 1900, per check",
            budget: Duration::from_millis(50),
            run: Box::new(move || {
                let calendar = parse(&hourly);
                Box::new(move || {
                    std::hint::black_box(calendar.verdict(now));
                })
            }),
        },
        Row {
            name: "a 1 MB feed, read and checked",
            budget: Duration::from_millis(50),
            run: Box::new(move || {
                let text = big.clone();
                Box::new(move || {
                    std::hint::black_box(parse(&text).verdict(now));
                })
            }),
        },
    ];
    let mut failed = 0;
    println!("{:<56} {:>12} {:>10}  result", "workload", "median", "budget");
    for row in &rows {
        let timed = (row.run)();
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                timed();
                started.elapsed()
            })
            .collect();
        times.sort();
        let median = times[times.len() / 2];
        let pass = median <= row.budget;
        failed += usize::from(!pass);
        println!(
            "{:<56} {:>9.3} ms {:>7} ms  {}",
            row.name,
            median.as_secs_f64() * 1000.0,
            row.budget.as_millis(),
            if pass { "pass" } else { "FAIL" }
        );
    }
    if failed > 0 {
        println!("{failed} row(s) over budget");
        std::process::exit(1);
    }
}

fn parse(text: &str) -> BlackDayCalendar {
    let berlin = Zone::named("Europe/Berlin").expect("a zone of the database");
    BlackDayCalendar::from_ics(text, berlin).unwrap_or_else(|e| panic!("the bench feed: {e}"))
}

fn feed(events: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n{events}END:VCALENDAR\r\n")
}

/// 50 recurring events of every common kind, each starting five years before `now`, in three zones.
fn recurring_feed(now: DateTime<Utc>) -> String {
    let start_year = now.year() - 5;
    let rules = [
        "FREQ=DAILY;BYHOUR=2",
        "FREQ=WEEKLY;BYDAY=FR",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24",
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=WEEKLY;BYDAY=SA,SU",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=HOURLY;INTERVAL=6",
    ];
    let zones = ["Europe/Berlin", "America/New_York", "Australia/Adelaide"];
    let mut events = String::new();
    for i in 0..50 {
        let rule = rules[i % rules.len()];
        let zone = zones[i % zones.len()];
        let month = 1 + i % 12;
        let minute = (i * 7) % 60;
        let _ = write!(
            events,
            "BEGIN:VEVENT\r\nUID:recurring-{i}\r\nSUMMARY:Recurring {i}\r\n\
             DTSTART;TZID={zone}:{start_year}{month:02}01T020{}00\r\nDURATION:PT{}M\r\nRRULE:{rule}\r\nEND:VEVENT\r\n",
            minute % 10,
            20 + i
        );
    }
    feed(&events)
}

/// Ten HOURLY rules starting on 1900-01-01, a few minutes each.
fn hourly_feed() -> String {
    let mut events = String::new();
    for i in 0..10 {
        let _ = write!(
            events,
            "BEGIN:VEVENT\r\nUID:hourly-{i}\r\nSUMMARY:Hourly {i}\r\nDTSTART:19000101T{:02}{:02}00Z\r\n\
             DURATION:PT5M\r\nRRULE:FREQ=HOURLY;INTERVAL={}\r\nEND:VEVENT\r\n",
            i,
            i * 5,
            1 + i % 4
        );
    }
    feed(&events)
}

/// About 1 MB: a large organisation's feed of one-off freezes over ten years, with weekly and monthly series,
/// exceptions, long descriptions and folded lines.
fn big_feed(now: DateTime<Utc>) -> String {
    let mut events = String::new();
    let mut i = 0;
    let description = "Change freeze agreed by the release board; see the runbook for the exception process and \
                       who to call. No deploys, no config changes, no schema migrations.";
    while events.len() < 1_000_000 {
        let day = now - TimeDelta::days(3650) + TimeDelta::hours(17 * i64::from(i));
        let start = day.format("%Y%m%dT%H%M00");
        let _ = write!(
            events,
            "BEGIN:VEVENT\r\nUID:big-{i}@bench.example.com\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Freeze {i}\r\n\
             DESCRIPTION:{description}\r\n  (event {i})\r\n"
        );
        match i % 10 {
            0 => {
                let _ = write!(
                    events,
                    "DTSTART;TZID=Europe/Berlin:{start}\r\nDURATION:PT2H\r\nRRULE:FREQ=WEEKLY;BYDAY=TU\r\n\
                     EXDATE;TZID=Europe/Berlin:{}\r\n",
                    (day + TimeDelta::days(7)).format("%Y%m%dT%H%M00")
                );
            }
            1 => {
                let _ = write!(
                    events,
                    "DTSTART;VALUE=DATE:{}\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=24\r\n",
                    day.format("%Y%m%d")
                );
            }
            _ => {
                let _ = write!(
                    events,
                    "DTSTART;TZID=America/New_York:{start}\r\nDTEND;TZID=America/New_York:{}\r\n",
                    (day + TimeDelta::hours(3)).format("%Y%m%dT%H%M00")
                );
            }
        }
        events.push_str("END:VEVENT\r\n");
        i += 1;
    }
    feed(&events)
}
