//! Text helpers for the APIs' length limits (Slack blocks, approval summaries, job failure messages).

/// Cuts `text` to at most `max_chars` characters (Unicode scalar values, as AWS and Slack count them),
/// ending with `…` when something was cut.
pub fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    if max_chars == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncates_on_character_boundaries() {
        let cases = [
            ("short", 10, "short"),
            ("exactly10!", 10, "exactly10!"),
            ("eleven char", 10, "eleven ch…"),
            ("ééééé", 3, "éé…"),
            ("anything", 0, ""),
            ("ab", 1, "…"),
        ];
        for (input, max, expected) in cases {
            assert_eq!(truncate(input, max), expected, "truncate({input:?}, {max})");
            assert!(truncate(input, max).chars().count() <= max);
        }
    }
}
