//! The CBOR side of Smithy RPC v2: a small value tree that requests decode into and responses encode from.
//!
//! Decoding accepts everything the protocol allows a client to send: definite and indefinite maps, arrays and
//! strings, integers of any width, half/single/double floats, and tag 1 (epoch-seconds) timestamps. Encoding
//! writes what AWS writes and the SDK reads: definite lengths, doubles as 64-bit floats, timestamps as tag 1
//! around epoch seconds (an integer when whole, else a double carrying milliseconds).

use chrono::{DateTime, Utc};
use minicbor::data::{IanaTag, Tag, Type};
use minicbor::{Decoder, Encoder};

/// A decoded (or to-be-encoded) CBOR item. Map keys are text, as they always are in RPC v2 CBOR.
#[derive(Clone, Debug, PartialEq)]
pub enum Cbor {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    Array(Vec<Cbor>),
    Map(Vec<(String, Cbor)>),
    /// Tag 1: seconds since the epoch.
    Timestamp(f64),
    /// Any other tag, kept so a validator can name it.
    Tag(u64, Box<Cbor>),
}

/// Nesting deeper than this is refused rather than recursed into (the SDK's own decoder stops at 128).
const MAX_DEPTH: u32 = 64;

impl Cbor {
    /// Decodes one complete CBOR item; trailing bytes are an error, as they are for the SDK.
    pub fn decode(bytes: &[u8]) -> Result<Cbor, String> {
        let mut decoder = Decoder::new(bytes);
        let value = decode_item(&mut decoder, 0)?;
        if decoder.position() != bytes.len() {
            return Err(format!(
                "unexpected data after the CBOR item at byte {}",
                decoder.position()
            ));
        }
        Ok(value)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut encoder = Encoder::new(Vec::new());
        encode_item(&mut encoder, self);
        encoder.into_writer()
    }

    /// A map of the members that are present: `Null` members are left out, as the protocol prefers.
    pub fn map<K: Into<String>>(members: impl IntoIterator<Item = (K, Cbor)>) -> Cbor {
        Cbor::Map(
            members
                .into_iter()
                .filter(|(_, value)| *value != Cbor::Null)
                .map(|(key, value)| (key.into(), value))
                .collect(),
        )
    }

    pub fn text(value: impl Into<String>) -> Cbor {
        Cbor::Text(value.into())
    }

    pub fn opt_text(value: Option<&str>) -> Cbor {
        value.map_or(Cbor::Null, Cbor::text)
    }

    pub fn timestamp(at: DateTime<Utc>) -> Cbor {
        Cbor::Timestamp(at.timestamp_millis() as f64 / 1000.0)
    }

    pub fn list<T>(items: impl IntoIterator<Item = T>, each: impl Fn(T) -> Cbor) -> Cbor {
        Cbor::Array(items.into_iter().map(each).collect())
    }

    /// The member `name` of a map, `None` when absent, null, or when `self` is not a map.
    pub fn get(&self, name: &str) -> Option<&Cbor> {
        match self {
            Cbor::Map(members) => members
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value)
                .filter(|value| **value != Cbor::Null),
            _ => None,
        }
    }

    /// What kind of item this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Cbor::Null => "null",
            Cbor::Bool(_) => "boolean",
            Cbor::Int(_) => "integer",
            Cbor::Float(_) => "float",
            Cbor::Text(_) => "text string",
            Cbor::Bytes(_) => "byte string",
            Cbor::Array(_) => "array",
            Cbor::Map(_) => "map",
            Cbor::Timestamp(_) => "timestamp",
            Cbor::Tag(..) => "tagged item",
        }
    }
}

fn decode_item(d: &mut Decoder<'_>, depth: u32) -> Result<Cbor, String> {
    if depth > MAX_DEPTH {
        return Err("CBOR nesting too deep".into());
    }
    let err = |e: minicbor::decode::Error| e.to_string();
    let value = match d.datatype().map_err(err)? {
        Type::Bool => Cbor::Bool(d.bool().map_err(err)?),
        Type::Null | Type::Undefined => {
            d.skip().map_err(err)?;
            Cbor::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            Cbor::Int(i128::from(d.int().map_err(err)?))
        }
        Type::F16 => {
            // Read by hand: minicbor decodes half floats only with its `half` feature.
            let at = d.position();
            let bytes = d.input().get(at + 1..at + 3).ok_or("truncated half float")?;
            let bits = u16::from_be_bytes([bytes[0], bytes[1]]);
            d.set_position(at + 3);
            Cbor::Float(half_to_f64(bits))
        }
        Type::F32 | Type::F64 => Cbor::Float(d.f64().map_err(err)?),
        Type::String | Type::StringIndef => {
            let mut text = String::new();
            for chunk in d.str_iter().map_err(err)? {
                text.push_str(chunk.map_err(err)?);
            }
            Cbor::Text(text)
        }
        Type::Bytes | Type::BytesIndef => {
            let mut bytes = Vec::new();
            for chunk in d.bytes_iter().map_err(err)? {
                bytes.extend_from_slice(chunk.map_err(err)?);
            }
            Cbor::Bytes(bytes)
        }
        Type::Array | Type::ArrayIndef => {
            let mut items = Vec::new();
            match d.array().map_err(err)? {
                Some(len) => {
                    for _ in 0..len {
                        items.push(decode_item(d, depth + 1)?);
                    }
                }
                None => {
                    while d.datatype().map_err(err)? != Type::Break {
                        items.push(decode_item(d, depth + 1)?);
                    }
                    d.skip().map_err(err)?;
                }
            }
            Cbor::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let mut members = Vec::new();
            let mut member = |d: &mut Decoder<'_>| -> Result<(), String> {
                let key = match decode_item(d, depth + 1)? {
                    Cbor::Text(key) => key,
                    other => return Err(format!("a map key is a {}, not a text string", other.kind())),
                };
                members.push((key, decode_item(d, depth + 1)?));
                Ok(())
            };
            match d.map().map_err(err)? {
                Some(len) => {
                    for _ in 0..len {
                        member(d)?;
                    }
                }
                None => {
                    while d.datatype().map_err(err)? != Type::Break {
                        member(d)?;
                    }
                    d.skip().map_err(err)?;
                }
            }
            Cbor::Map(members)
        }
        Type::Tag => {
            let tag = d.tag().map_err(err)?;
            let inner = decode_item(d, depth + 1)?;
            if tag == Tag::from(IanaTag::Timestamp) {
                match inner {
                    Cbor::Int(seconds) => Cbor::Timestamp(seconds as f64),
                    Cbor::Float(seconds) => Cbor::Timestamp(seconds),
                    other => return Err(format!("a tag 1 timestamp holds a {}, not a number", other.kind())),
                }
            } else {
                Cbor::Tag(tag.as_u64(), Box::new(inner))
            }
        }
        other => return Err(format!("unexpected CBOR item: {other}")),
    };
    Ok(value)
}

/// IEEE 754 binary16 to f64.
fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + fraction / 1024.0) * 2f64.powi(e - 15),
    }
}

const INFALLIBLE: &str = "writing CBOR to a Vec cannot fail";

fn encode_item(e: &mut Encoder<Vec<u8>>, value: &Cbor) {
    match value {
        Cbor::Null => {
            e.null().expect(INFALLIBLE);
        }
        Cbor::Bool(b) => {
            e.bool(*b).expect(INFALLIBLE);
        }
        Cbor::Int(n) => {
            let n = i64::try_from(*n).unwrap_or(if *n < 0 { i64::MIN } else { i64::MAX });
            e.i64(n).expect(INFALLIBLE);
        }
        Cbor::Float(x) => {
            e.f64(*x).expect(INFALLIBLE);
        }
        Cbor::Text(s) => {
            e.str(s).expect(INFALLIBLE);
        }
        Cbor::Bytes(b) => {
            e.bytes(b).expect(INFALLIBLE);
        }
        Cbor::Array(items) => {
            e.array(items.len() as u64).expect(INFALLIBLE);
            for item in items {
                encode_item(e, item);
            }
        }
        Cbor::Map(members) => {
            e.map(members.len() as u64).expect(INFALLIBLE);
            for (key, item) in members {
                e.str(key).expect(INFALLIBLE);
                encode_item(e, item);
            }
        }
        Cbor::Timestamp(seconds) => {
            e.tag(IanaTag::Timestamp).expect(INFALLIBLE);
            if seconds.fract() == 0.0 && seconds.abs() < 9.0e15 {
                e.i64(*seconds as i64).expect(INFALLIBLE);
            } else {
                e.f64(*seconds).expect(INFALLIBLE);
            }
        }
        Cbor::Tag(tag, inner) => {
            e.tag(Tag::new(*tag)).expect(INFALLIBLE);
            encode_item(e, inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        let value = Cbor::map([
            ("null", Cbor::Bool(false)),
            ("int", Cbor::Int(-300)),
            ("float", Cbor::Float(1.5)),
            ("text", Cbor::text("héllo")),
            ("bytes", Cbor::Bytes(vec![0, 1, 2])),
            ("list", Cbor::Array(vec![Cbor::Int(1), Cbor::Null])),
            ("whole", Cbor::Timestamp(1_700_000_000.0)),
            ("millis", Cbor::Timestamp(1_700_000_000.123)),
            ("tagged", Cbor::Tag(42, Box::new(Cbor::Int(7)))),
        ]);
        assert_eq!(Cbor::decode(&value.encode()), Ok(value));
    }

    #[test]
    fn reads_indefinite_lengths_and_small_floats() {
        // {_ "a": [_ 1, 2], "b": (_ "x", "y"), "h": 1.5 (f16), "s": 0.25 (f32), "t": 1(1700000000) }
        let mut bytes = vec![0xbf, 0x61, b'a', 0x9f, 0x01, 0x02, 0xff];
        bytes.extend([0x61, b'b', 0x7f, 0x61, b'x', 0x61, b'y', 0xff]);
        bytes.extend([0x61, b'h', 0xf9, 0x3e, 0x00]);
        bytes.extend([0x61, b's', 0xfa, 0x3e, 0x80, 0x00, 0x00]);
        bytes.extend([0x61, b't', 0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00]);
        bytes.push(0xff);
        let value = Cbor::decode(&bytes).unwrap();
        assert_eq!(value.get("a"), Some(&Cbor::Array(vec![Cbor::Int(1), Cbor::Int(2)])));
        assert_eq!(value.get("b"), Some(&Cbor::text("xy")));
        assert_eq!(value.get("h"), Some(&Cbor::Float(1.5)));
        assert_eq!(value.get("s"), Some(&Cbor::Float(0.25)));
        assert_eq!(value.get("t"), Some(&Cbor::Timestamp(1_700_000_000.0)));
    }

    #[test]
    fn refuses_trailing_bytes_and_non_text_keys() {
        assert!(Cbor::decode(&[0xa0, 0x00]).is_err());
        assert!(Cbor::decode(&[0xa1, 0x01, 0x02]).is_err());
        assert!(Cbor::decode(&[0xbf]).is_err());
    }
}
