//! Judging one answer against a check's expectations: a pure function from (expectations, answer) to what
//! did not match.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::pointer::MAX_COMPARED_BYTES;
use crate::pointer::{Found, lookup};
use crate::suite::Expect;

/// What came back from one attempt, as far as the expectations care.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub status: u16,
    /// Header names and values as received (names in any case).
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced), up to the engine's read limit.
    pub body: String,
    pub latency: Duration,
}

/// One expectation the answer did not meet: what was expected and what came back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    Status {
        expected: Vec<u16>,
        got: u16,
    },
    BodyMissing {
        expected: String,
    },
    /// `got` is `None` when nothing is at the pointer.
    Json {
        pointer: String,
        expected: Value,
        got: Option<Value>,
    },
    /// JSON expectations, but the body does not parse as JSON.
    NotJson,
    /// The value at the pointer is more JSON text than a check compares ([`MAX_COMPARED_BYTES`]); `bytes` is its
    /// size.
    JsonTooLarge {
        pointer: String,
        expected: Value,
        bytes: usize,
    },
    HeaderMissing {
        header: String,
    },
    TooSlow {
        max_ms: u64,
        got_ms: u64,
    },
}

/// Every expectation `observed` does not meet, in the order the suite lists them; empty means it passed. JSON
/// expectations read the body as a stream and build only the values they compare (at most
/// [`MAX_COMPARED_BYTES`] of JSON text each).
pub fn evaluate(expect: &Expect, observed: &Observed) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if !expect.status.contains(observed.status) {
        mismatches.push(Mismatch::Status {
            expected: expect.status.0.clone(),
            got: observed.status,
        });
    }
    for needle in &expect.body_contains {
        if !observed.body.contains(needle.as_str()) {
            mismatches.push(Mismatch::BodyMissing {
                expected: needle.clone(),
            });
        }
    }
    if !expect.json.is_empty() {
        let pointers: Vec<&str> = expect.json.iter().map(|want| want.pointer.as_str()).collect();
        match lookup(&observed.body, &pointers) {
            Err(_) => mismatches.push(Mismatch::NotJson),
            Ok(found) => {
                for (want, found) in expect.json.iter().zip(found) {
                    let got = match found {
                        Found::Value(got) if json_equal(&got, &want.equals) => continue,
                        Found::Value(got) => Some(got),
                        Found::Missing => None,
                        Found::TooLarge(bytes) => {
                            mismatches.push(Mismatch::JsonTooLarge {
                                pointer: want.pointer.clone(),
                                expected: want.equals.clone(),
                                bytes,
                            });
                            continue;
                        }
                    };
                    mismatches.push(Mismatch::Json {
                        pointer: want.pointer.clone(),
                        expected: want.equals.clone(),
                        got,
                    });
                }
            }
        }
    }
    for header in &expect.headers_present {
        if !observed
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(header))
        {
            mismatches.push(Mismatch::HeaderMissing { header: header.clone() });
        }
    }
    if let Some(max_ms) = expect.max_latency_ms {
        let got_ms = millis(observed.latency);
        if got_ms > max_ms {
            mismatches.push(Mismatch::TooSlow { max_ms, got_ms });
        }
    }
    mismatches
}

/// JSON equality where numbers compare by value (`1` equals `1.0`), recursively.
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (integer(x), integer(y)) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn integer(n: &serde_json::Number) -> Option<i128> {
    n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
