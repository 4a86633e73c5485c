//! Opaque pagination tokens, one format for every simulated service that pages (CodePipeline's `nextToken`,
//! CloudWatch's `NextToken`): the scope (the query the token belongs to) and a cursor (where the next page
//! starts, in the operation's own terms), hex-encoded. A token only decodes under the scope it was issued for,
//! so a token of another query, or one not issued at all, is refused as the service refuses it.
//!
//! Only the format is shared: what a cursor names (first item of the next page, last item handed out, an
//! offset) and the error for a bad token stay with each operation.

/// An opaque token: the query it belongs to and a cursor, hex-encoded.
pub fn encode_token(scope: &str, cursor: &str) -> String {
    format!("{scope}\n{cursor}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The cursor of `token` if it was issued for `scope`; `None` for a token of another scope or not a token.
pub fn decode_token(token: &str, scope: &str) -> Option<String> {
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (token_scope, cursor) = text.rsplit_once('\n')?;
    (token_scope == scope).then(|| cursor.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_belong_to_their_query() {
        let token = encode_token("scope-a", "alarm-3");
        assert_eq!(decode_token(&token, "scope-a").as_deref(), Some("alarm-3"));
        assert_eq!(decode_token(&token, "scope-b"), None);
        assert_eq!(decode_token("zz", "scope-a"), None);
    }
}
