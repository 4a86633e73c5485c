//! JSON Pointer (RFC 6901) lookups in a body without building the whole document.
//!
//! A `serde_json::Value` of a 1 MiB array of small numbers takes some 30 MiB; with 64 checks at once that is
//! more than a function has. Instead the body is read once, as a stream: the parts no pointer leads into are
//! skipped (checked for syntax, never kept), and only the values pointers name are built, each up to
//! [`MAX_COMPARED_BYTES`] of JSON text. The answers are the ones `Value::pointer` would give (the last of
//! duplicate keys wins; array indices are canonical decimals), and a body that is not JSON is an error.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// The most JSON text of one value a check compares; a larger value is reported, not built.
pub const MAX_COMPARED_BYTES: usize = 64 * 1024;

/// What a document holds at one pointer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Found {
    Value(Value),
    Missing,
    /// A value is there, of this many bytes of JSON text: more than [`MAX_COMPARED_BYTES`].
    TooLarge(usize),
}

/// What `body` holds at each of `pointers`, in order; an error when `body` is not one JSON value.
pub(crate) fn lookup(body: &str, pointers: &[&str]) -> Result<Vec<Found>, serde_json::Error> {
    let tokens: Vec<Option<Vec<String>>> = pointers.iter().map(|p| parse(p)).collect();
    let wanted: Vec<Want> = tokens
        .iter()
        .enumerate()
        .filter_map(|(slot, tokens)| tokens.as_deref().map(|rest| Want { slot, rest }))
        .collect();
    let mut found = vec![Found::Missing; pointers.len()];
    select(body, &wanted, &mut found)?;
    Ok(found)
}

/// A pointer's reference tokens, unescaped; `None` for text that is not a pointer (it names nothing).
fn parse(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

/// One pointer still being followed: where its answer goes, and the tokens left below the current value.
#[derive(Clone, Copy)]
struct Want<'p> {
    slot: usize,
    rest: &'p [String],
}

fn select(json: &str, wanted: &[Want<'_>], found: &mut [Found]) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    Select { wanted, found }.deserialize(&mut deserializer)?;
    deserializer.end()
}

struct Select<'a, 'p> {
    wanted: &'a [Want<'p>],
    found: &'a mut [Found],
}

impl<'de> DeserializeSeed<'de> for Select<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if !self.wanted.iter().any(|w| w.rest.is_empty()) {
            return deserializer.deserialize_any(self);
        }
        // A pointer ends here: this value is wanted whole. Deeper pointers are answered from it, or, when it is
        // too large to build, by reading its text again.
        let raw = <&RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        if text.len() <= MAX_COMPARED_BYTES {
            let value: Value = serde_json::from_str(text).map_err(de::Error::custom)?;
            for want in self.wanted {
                self.found[want.slot] = answer(&value, want.rest);
            }
            return Ok(());
        }
        let deeper: Vec<Want> = self.wanted.iter().copied().filter(|w| !w.rest.is_empty()).collect();
        for want in self.wanted.iter().filter(|w| w.rest.is_empty()) {
            self.found[want.slot] = Found::TooLarge(text.len());
        }
        select(text, &deeper, self.found).map_err(de::Error::custom)
    }
}

fn answer(value: &Value, rest: &[String]) -> Found {
    let mut at = value;
    for token in rest {
        let next = match at {
            Value::Object(map) => map.get(token),
            Value::Array(items) => index(token).and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(next) => at = next,
            None => return Found::Missing,
        }
    }
    Found::Value(at.clone())
}

/// An array index as RFC 6901 and `Value::pointer` take it: decimal digits, no leading zero, no sign.
fn index(token: &str) -> Option<usize> {
    let canonical =
        !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) && !(token.len() > 1 && token.starts_with('0'));
    canonical.then(|| token.parse().ok()).flatten()
}

/// The pointers that continue into the member or element named by a token `matches` accepts, one token further
/// down. Their earlier answers are cleared: a later duplicate key replaces an earlier one, as in a `Value`.
fn below<'p>(wanted: &[Want<'p>], found: &mut [Found], matches: impl Fn(&str) -> bool) -> Vec<Want<'p>> {
    let below: Vec<Want<'p>> = wanted
        .iter()
        .filter(|w| w.rest.first().is_some_and(|t| matches(t)))
        .map(|w| Want {
            slot: w.slot,
            rest: &w.rest[1..],
        })
        .collect();
    for want in &below {
        found[want.slot] = Found::Missing;
    }
    below
}

impl<'de> Visitor<'de> for Select<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let below = below(self.wanted, self.found, |token| token == key);
            if below.is_empty() {
                map.next_value::<IgnoredAny>()?;
            } else {
                map.next_value_seed(Select {
                    wanted: &below,
                    found: &mut *self.found,
                })?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            let below = below(self.wanted, self.found, |token| index(token) == Some(i));
            let more = if below.is_empty() {
                seq.next_element::<IgnoredAny>()?.is_some()
            } else {
                seq.next_element_seed(Select {
                    wanted: &below,
                    found: &mut *self.found,
                })?
                .is_some()
            };
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }

    // A scalar has nothing below it: pointers that go deeper find nothing.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Every answer must be the one `Value::pointer` gives on the whole document.
    #[test]
    fn answers_are_those_of_a_whole_value() {
        let body = r#"{"a": {"b": [10, {"c~/d": true}, null], "e": "x"}, "a2": 1, "dup": 1, "dup": {"k": 2},
                       "big": [1, 2, 3], "": {"": "empty keys"}, "n": 1.5}"#;
        let document: Value = serde_json::from_str(body).unwrap();
        let pointers = [
            "",
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/1/c~0~1d",
            "/a/b/2",
            "/a/b/3",
            "/a/b/01",
            "/a/b/+1",
            "/a/e/x",
            "/dup",
            "/dup/k",
            "/missing",
            "/",
            "//",
            "no-slash",
            "/big/2",
            "/n",
            "/a/b/-",
        ];
        let found = lookup(body, &pointers).unwrap();
        for (pointer, found) in pointers.iter().zip(found) {
            let expected = document.pointer(pointer).cloned().map_or(Found::Missing, Found::Value);
            assert_eq!(found, expected, "{pointer:?}");
        }
    }

    #[test]
    fn a_large_value_is_reported_while_what_lies_inside_it_is_still_found() {
        let items: Vec<u32> = (0..40_000).collect();
        let body = json!({"items": items, "status": "ok"}).to_string();
        let found = lookup(&body, &["/items", "/items/39999", "/status", ""]).unwrap();
        let items_len = json!(items).to_string().len();
        assert!(items_len > MAX_COMPARED_BYTES);
        assert_eq!(found[0], Found::TooLarge(items_len));
        assert_eq!(found[1], Found::Value(json!(39999)));
        assert_eq!(found[2], Found::Value(json!("ok")));
        assert_eq!(found[3], Found::TooLarge(body.len()));
    }

    #[test]
    fn a_body_that_is_not_one_json_value_is_an_error() {
        for body in ["", "{", "[1,]", "{\"a\": 1} trailing", "nul", "{\"a\" 1}", "[1] [2]"] {
            assert!(lookup(body, &["/a"]).is_err(), "{body:?}");
            assert!(lookup(body, &[""]).is_err(), "{body:?}");
        }
        assert_eq!(
            lookup(" 7 ", &["", "/x"]).unwrap(),
            [Found::Value(json!(7)), Found::Missing]
        );
    }
}
