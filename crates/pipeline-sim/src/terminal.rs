//! Renders a Slack Block Kit message as plain text, the way a person would read it in the channel.

use serde_json::Value;

/// `<url|label>` → `label (url)`, and the three mrkdwn escapes back to characters.
fn unmrkdwn(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else { break };
        let inner = &rest[start + 1..start + end];
        match inner.split_once('|') {
            Some((url, label)) => out.push_str(&format!("{label} ({url})")),
            None => out.push_str(inner),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    // Bold markers and code fences read as noise in a terminal.
    out.replace("```", "")
        .replace('*', "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn render_slack(body: &Value) -> String {
    let mut lines = Vec::new();
    for block in body["blocks"].as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("header") => lines.push(format!("# {}", block["text"]["text"].as_str().unwrap_or_default())),
            Some("section") => {
                if let Some(text) = block["text"]["text"].as_str() {
                    lines.push(unmrkdwn(text));
                }
                for field in block["fields"].as_array().into_iter().flatten() {
                    let text = unmrkdwn(field["text"].as_str().unwrap_or_default());
                    lines.push(format!("  {}", text.replacen('\n', ": ", 1)));
                }
            }
            Some("context") => {
                for element in block["elements"].as_array().into_iter().flatten() {
                    lines.push(unmrkdwn(element["text"].as_str().unwrap_or_default()));
                }
            }
            Some("divider") => lines.push("─".repeat(40)),
            _ => {}
        }
    }
    lines.push(format!(
        "(notification text: {})",
        body["text"].as_str().unwrap_or_default()
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_links_and_escapes() {
        let body = json!({"text": "t", "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Title"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "see <https://x|the run> &lt;ok&gt;"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "*A*\nb"}]}
        ]});
        assert_eq!(
            render_slack(&body),
            "# Title\nsee the run (https://x) <ok>\n  A: b\n(notification text: t)"
        );
    }
}
