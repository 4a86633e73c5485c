//! Continuation tokens that cannot be forged or moved: `<HMAC-SHA256 in hex>.<progress>`, the MAC keyed with the
//! deployment's `CONTINUATION_TOKEN_KEY` over the progress and the soak it belongs to (pipeline, stage, action,
//! pipeline execution and the action's `UserParameters`, as `GetJobDetails` tells them). A token changed by anyone,
//! written for another soak, or written with another key is refused before any of it is read.
//!
//! Without a key no soak runs (a `ConfigurationError` naming the setting): a soak whose verdict rests on a token
//! anyone could write would be no verdict. Single runs need no key. HMAC-SHA256 comes from the `hmac` and `sha2`
//! crates the SDK's request signing already links.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The setting holding the key: at least 32 bytes, written as hex (`openssl rand -hex 32`).
pub const KEY_VAR: &str = "CONTINUATION_TOKEN_KEY";
pub const MIN_KEY_BYTES: usize = 32;
const MAX_KEY_BYTES: usize = 256;
/// The signature's length in a token: 32 bytes in hex.
pub const SIGNATURE_CHARS: usize = 64;
/// Keeps a MAC made for these tokens from meaning anything anywhere else.
const DOMAIN: &[u8] = b"codepipeline-hooks post-deploy-test-runner continuation token v1";

type HmacSha256 = Hmac<Sha256>;

/// The key continuation tokens are signed with. Its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey(Vec<u8>);

impl TokenKey {
    /// Reads the key from its hex form; the error says what is wrong and never quotes the value.
    pub fn from_hex(text: &str) -> Result<TokenKey, String> {
        let text = text.trim();
        if !text.len().is_multiple_of(2) || !text.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "is not hex ({} characters; only 0-9 and a-f, two per byte)",
                text.chars().count()
            ));
        }
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
            .collect();
        if !(MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&bytes.len()) {
            return Err(format!(
                "holds {} bytes; a key has {MIN_KEY_BYTES} to {MAX_KEY_BYTES}",
                bytes.len()
            ));
        }
        Ok(TokenKey(bytes))
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(** redacted **)")
    }
}

/// The soak a token belongs to, as `GetJobDetails` tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope<'a> {
    pub pipeline: &'a str,
    pub stage: &'a str,
    pub action: &'a str,
    pub execution_id: &'a str,
    pub user_parameters: &'a str,
}

impl Scope<'_> {
    /// Each part length-prefixed, so no two scopes hash alike.
    fn digest(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        for part in [
            self.pipeline,
            self.stage,
            self.action,
            self.execution_id,
            self.user_parameters,
        ] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        hash.finalize().into()
    }
}

/// Signs and opens the tokens of one soak.
#[derive(Clone, PartialEq, Eq)]
pub struct Seal {
    key: TokenKey,
    scope: [u8; 32],
}

impl fmt::Debug for Seal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seal(** redacted **)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Seal {
    pub fn new(key: &TokenKey, scope: &Scope<'_>) -> Seal {
        Seal {
            key: key.clone(),
            scope: scope.digest(),
        }
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        // Any key length is valid for HMAC; the key was checked to be 32 to 256 bytes.
        let mut mac = HmacSha256::new_from_slice(&self.key.0).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
        mac.update(DOMAIN);
        mac.update(&self.scope);
        mac.update(payload.as_bytes());
        mac
    }

    /// `<signature>.<payload>`.
    pub fn sign(&self, payload: &str) -> String {
        format!("{}.{payload}", hex(&self.mac(payload).finalize().into_bytes()))
    }

    /// The payload of a token this seal signed; otherwise why it cannot be read (never quoting the token).
    pub fn open<'t>(&self, token: &'t str) -> Result<&'t str, String> {
        let unsigned = || {
            format!(
                "the continuation token is not signed ({} characters, not `<{SIGNATURE_CHARS} hex digits>.<progress>`): \
                 this runner signs every token it writes, so it did not write this one",
                token.chars().count()
            )
        };
        let (signature, payload) = token.split_once('.').ok_or_else(unsigned)?;
        let valid_hex = signature.len() == SIGNATURE_CHARS && signature.chars().all(|c| c.is_ascii_hexdigit());
        if !valid_hex {
            return Err(unsigned());
        }
        let bytes: Vec<u8> = (0..SIGNATURE_CHARS)
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&signature[i..i + 2], 16).ok())
            .collect();
        // Compared in constant time.
        self.mac(payload).verify_slice(&bytes).map_err(|_| {
            format!(
                "the continuation token's signature does not match: it was changed after this runner wrote it, \
                 written for another soak (another pipeline, stage, action, execution or UserParameters), or \
                 signed with another {KEY_VAR}"
            )
        })?;
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn scope() -> Scope<'static> {
        Scope {
            pipeline: "storefront",
            stage: "Test",
            action: "Soak",
            execution_id: "exec-1",
            user_parameters: r#"{"soak": {"every_seconds": 60, "for_minutes": 30}}"#,
        }
    }

    fn seal() -> Seal {
        Seal::new(&TokenKey::from_hex(KEY).unwrap(), &scope())
    }

    #[test]
    fn keys_are_hex_of_32_to_256_bytes_and_never_shown() {
        assert!(TokenKey::from_hex(&KEY.to_uppercase()).is_ok());
        assert!(TokenKey::from_hex(&format!(" {KEY}\n")).is_ok());
        // (key, text of the refusal)
        let cases = [
            (KEY[..62].to_owned(), "holds 31 bytes"),
            (KEY[..63].to_owned(), "is not hex (63 characters"),
            (String::new(), "holds 0 bytes"),
            ("zz".repeat(32), "is not hex"),
            // Base64 of a 32-byte key: this setting is hex only.
            ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(), "is not hex"),
            ("00".repeat(257), "holds 257 bytes"),
        ];
        for (key, text) in cases {
            let err = TokenKey::from_hex(&key).unwrap_err();
            assert!(err.contains(text), "{key}: {text:?} not in {err}");
            assert!(key.len() < 8 || !err.contains(&key), "{err}");
        }
        let shown = format!("{:?} {:?}", TokenKey::from_hex(KEY).unwrap(), seal());
        assert!(!shown.contains("0001") && shown.contains("redacted"), "{shown}");
    }

    #[test]
    fn a_signed_token_opens_with_the_same_key_and_scope_only() {
        let payload = r#"{"v":1,"run":"job-1","t0":1795000000000,"r":0,"fr":0,"p":0,"f":0}"#;
        let token = seal().sign(payload);
        assert_eq!(token.len(), SIGNATURE_CHARS + 1 + payload.len());
        assert_eq!(seal().open(&token), Ok(payload));

        let other_key = Seal::new(&TokenKey::from_hex(&KEY.replace("1f", "ff")).unwrap(), &scope());
        let moved = |change: fn(&mut Scope<'static>)| {
            let mut scope = scope();
            change(&mut scope);
            Seal::new(&TokenKey::from_hex(KEY).unwrap(), &scope)
        };
        let others = [
            other_key,
            moved(|s| s.pipeline = "payments"),
            moved(|s| s.stage = "Test2"),
            moved(|s| s.action = "Smoke"),
            moved(|s| s.execution_id = "exec-2"),
            moved(|s| s.user_parameters = r#"{"soak": {"every_seconds": 60, "for_minutes": 300}}"#),
            // Parts cannot be shifted from one into the next.
            moved(|s| {
                s.pipeline = "storefrontT";
                s.stage = "est";
            }),
        ];
        for other in others {
            let err = other.open(&token).unwrap_err();
            assert!(err.contains("signature does not match"), "{err}");
        }
    }

    #[test]
    fn changed_or_unsigned_tokens_are_refused() {
        let payload = r#"{"v":1,"run":"job-1","t0":1795000000000,"r":3,"fr":0,"p":3,"f":0}"#;
        let token = seal().sign(payload);
        let (signature, _) = token.split_once('.').unwrap();
        // (token, text of the refusal)
        let cases = [
            (token.replace(r#""fr":0"#, r#""fr":1"#), "signature does not match"),
            (
                format!("{signature}.{}", payload.replace("\"r\":3", "\"r\":30")),
                "signature does not match",
            ),
            (
                format!("{}.{payload}", "0".repeat(SIGNATURE_CHARS)),
                "signature does not match",
            ),
            (format!("{}.{payload}", signature.to_uppercase()), ""),
            (payload.to_owned(), "is not signed"),
            (format!("{}.{payload}", &signature[..62]), "is not signed"),
            (
                format!("{}.{payload}", signature.replace(|c: char| c.is_ascii_digit(), "g")),
                "is not signed",
            ),
            (String::new(), "is not signed (0 characters"),
        ];
        for (tampered, text) in cases {
            match seal().open(&tampered) {
                // Hex is hex in either case: the same signature.
                Ok(_) => assert!(text.is_empty(), "{tampered} opened"),
                Err(err) => {
                    assert!(
                        !text.is_empty() && err.contains(text),
                        "{tampered}: {text:?} not in {err}"
                    );
                    assert!(!err.contains(payload), "{err}");
                }
            }
        }
    }
}
