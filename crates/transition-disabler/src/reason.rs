//! The `DisableStageTransition` reason: what a person reads in the console, and the marker by which this function
//! knows a transition it closed. The API takes 1 to 300 characters of `[a-zA-Z0-9!@ ()\.\*\?\-]` only, so alarm
//! names and times are written in those characters; nothing this function sends is refused for its characters.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Every reason this function writes starts with this; with `lastChangedBy` naming this function, it is how a
/// transition this function closed is told from one a person closed.
pub const MARKER: &str = "Closed by the transition disabler";

pub const MAX_REASON_CHARS: usize = 300;

/// Whether CodePipeline accepts `c` in a transition's reason.
pub fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!@ ().*?-".contains(c)
}

/// `text` in the reason's characters: anything else becomes `-` (`_ : / , #` included), runs of replaced
/// characters and blanks collapse, and the result is cut to `max` characters.
pub fn sanitize(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if allowed(c) { c } else { '-' };
        let repeat = (c == '-' || c == ' ') && out.ends_with(c);
        if !repeat {
            out.push(c);
        }
    }
    let out = out.trim();
    out.chars().take(max).collect::<String>().trim_end().to_owned()
}

/// A time in the reason's characters: `2026-12-02 06.25 UTC`.
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H.%M UTC").to_string()
}

/// A duration as people read it, in the reason's characters: `10 min`, `90 s` (seconds under two minutes,
/// whole minutes from there).
pub fn span(duration: Duration) -> String {
    let seconds = duration.as_secs_f64().round() as u64;
    if seconds < 120 && !seconds.is_multiple_of(60) || seconds == 0 {
        format!("{seconds} s")
    } else {
        format!("{} min", seconds / 60)
    }
}

/// The reason for closing because `alarm` is in `state` since `since`.
pub fn closing(alarm: &str, state: &str, since: DateTime<Utc>, cooldown: Duration) -> String {
    let tail = format!(
        " is {} since {}. Reopens by itself after {} of all alarms OK.",
        sanitize(state, 20),
        time(since),
        span(cooldown)
    );
    let head = format!("{MARKER} (alarm ");
    let room = MAX_REASON_CHARS.saturating_sub(head.chars().count() + tail.chars().count() + 1);
    let reason = format!("{head}{}){tail}", sanitize(alarm, room));
    debug_assert!(reason.chars().count() <= MAX_REASON_CHARS && reason.chars().all(allowed));
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_fit_the_api_whatever_the_alarm_is_called() {
        let since: DateTime<Utc> = "2026-12-02T06:25:17Z".parse().unwrap();
        let long = "x".repeat(400);
        let cases = [
            (
                "shop-canary-production",
                "(alarm shop-canary-production) is ALARM since 2026-12-02 06.25 UTC",
            ),
            ("shop_canary:prod/eu,#1", "(alarm shop-canary-prod-eu-1)"),
            ("Prod 5xx > 1% über <script>", "(alarm Prod 5xx - 1- -ber -script-)"),
            ("\n\t\u{7}", "(alarm -)"),
            (long.as_str(), "xxxx) is ALARM"),
        ];
        for (alarm, expected) in cases {
            let reason = closing(alarm, "ALARM", since, Duration::from_secs(600));
            assert!(reason.starts_with(MARKER), "{reason}");
            assert!(reason.contains(expected), "{alarm:?}: {reason}");
            assert!(reason.chars().count() <= MAX_REASON_CHARS, "{}", reason.len());
            assert!(reason.chars().all(allowed), "{reason}");
            assert!(reason.ends_with("after 10 min of all alarms OK."), "{reason}");
        }
    }

    #[test]
    fn sanitize_collapses_and_cuts() {
        assert_eq!(sanitize("a__b  c", 10), "a-b c");
        assert_eq!(sanitize("abcdef", 3), "abc");
        assert_eq!(sanitize("ab  cd", 3), "ab");
        assert!(MARKER.chars().all(allowed));
        assert_eq!(span(Duration::from_secs(600)), "10 min");
        assert_eq!(span(Duration::from_secs(6)), "6 s");
        assert_eq!(span(Duration::ZERO), "0 s");
        assert_eq!(span(Duration::from_secs(90)), "90 s");
        assert_eq!(span(Duration::from_secs(2070)), "34 min");
    }
}
