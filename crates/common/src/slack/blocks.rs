//! Block Kit pieces that respect Slack's limits by construction, and mrkdwn escaping for text that
//! comes from users (commit messages, error details).

use serde_json::{Value, json};

use crate::text::truncate;

pub const MAX_BLOCKS: usize = 50;
const HEADER_TEXT: usize = 150;
const SECTION_TEXT: usize = 3000;
const FIELDS: usize = 10;
const FIELD_TEXT: usize = 2000;
const CONTEXT_ELEMENTS: usize = 10;

/// Escapes the three characters Slack's mrkdwn gives meaning to, so user text cannot forge links or mentions.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A mrkdwn link; `None` when the URL could break out of the link syntax or is not http(s).
pub fn link(url: &str, label: &str) -> Option<String> {
    let safe = (url.starts_with("https://") || url.starts_with("http://")) && !url.contains(['|', '>', '<', ' ', '\n']);
    safe.then(|| format!("<{url}|{}>", escape(label)))
}

pub fn header(text: &str) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_TEXT), "emoji": true}})
}

/// A section of mrkdwn text; the caller escapes user-provided parts.
pub fn section(mrkdwn: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(mrkdwn, SECTION_TEXT)}})
}

/// A section of label/value fields, two columns in Slack; values are mrkdwn the caller escaped.
pub fn fields(pairs: &[(&str, String)]) -> Value {
    let fields: Vec<Value> = pairs
        .iter()
        .take(FIELDS)
        .map(|(label, value)| json!({"type": "mrkdwn", "text": truncate(&format!("*{label}*\n{value}"), FIELD_TEXT)}))
        .collect();
    json!({"type": "section", "fields": fields})
}

pub fn context(elements: &[String]) -> Value {
    let elements: Vec<Value> = elements
        .iter()
        .take(CONTEXT_ELEMENTS)
        .map(|text| json!({"type": "mrkdwn", "text": truncate(text, FIELD_TEXT)}))
        .collect();
    json!({"type": "context", "elements": elements})
}

pub fn divider() -> Value {
    json!({"type": "divider"})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_user_text() {
        assert_eq!(
            escape("fix <!channel> & <http://x|y>"),
            "fix &lt;!channel&gt; &amp; &lt;http://x|y&gt;"
        );
    }

    #[test]
    fn links_only_safe_urls() {
        assert_eq!(
            link("https://x.test/a?b=1", "run <1>"),
            Some("<https://x.test/a?b=1|run &lt;1&gt;>".into())
        );
        for bad in [
            "javascript:alert(1)",
            "https://x.test/a|b",
            "https://x.test/>",
            "ftp://x",
        ] {
            assert_eq!(link(bad, "l"), None, "{bad}");
        }
    }

    #[test]
    fn blocks_stay_within_slack_limits() {
        let long = "x".repeat(10_000);
        assert_eq!(
            header(&long)["text"]["text"].as_str().unwrap().chars().count(),
            HEADER_TEXT
        );
        assert_eq!(
            section(&long)["text"]["text"].as_str().unwrap().chars().count(),
            SECTION_TEXT
        );
        let many: Vec<(&str, String)> = (0..15).map(|_| ("label", long.clone())).collect();
        let f = fields(&many);
        assert_eq!(f["fields"].as_array().unwrap().len(), FIELDS);
        assert!(f["fields"][0]["text"].as_str().unwrap().chars().count() <= FIELD_TEXT);
        let c = context(&vec![long.clone(); 12]);
        assert_eq!(c["elements"].as_array().unwrap().len(), CONTEXT_ELEMENTS);
    }
}
