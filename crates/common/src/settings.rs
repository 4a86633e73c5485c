//! Deployment-wide settings from environment variables, read once at start-up with errors that name the
//! variable, say what was wrong, and how to fix it.

use std::collections::HashMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::Error;

type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where settings come from: the process environment in Lambda, a table in tests.
#[derive(Clone)]
pub struct Env {
    lookup: Lookup,
}

impl Env {
    pub fn process() -> Env {
        Env {
            lookup: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Env {
            lookup: Arc::new(move |name| map.get(name).cloned()),
        }
    }

    /// The variable's value, treating empty or blank as unset (CloudFormation passes empty parameters as "").
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str, fix: &str) -> Result<String, Error> {
        self.optional(name).ok_or_else(|| Error::Setting {
            name: name.to_owned(),
            problem: "is not set".to_owned(),
            fix: fix.to_owned(),
        })
    }

    /// As [`Env::json`], for a setting whose values may be secrets: an error names the path and what was expected,
    /// never the value it found (nor a line of the text: serde's positions are kept, its quotes are not).
    pub fn json_withholding_values<T: DeserializeOwned>(&self, name: &str, fix: &str) -> Result<Option<T>, Error> {
        let Some(raw) = self.optional(name) else {
            return Ok(None);
        };
        let deserializer = &mut serde_json::Deserializer::from_str(&raw);
        serde_path_to_error::deserialize(deserializer).map(Some).map_err(|e| {
            let path = e.path().to_string();
            let inner = withhold_values(&e.into_inner().to_string());
            Error::Setting {
                name: name.to_owned(),
                problem: if path == "." {
                    format!("is not valid JSON of the expected shape: {inner}")
                } else {
                    format!("at `{path}`: {inner}")
                },
                fix: fix.to_owned(),
            }
        })
    }

    /// Parses a JSON setting; errors name the path inside the document (`[1].secret_id`).
    pub fn json<T: DeserializeOwned>(&self, name: &str, fix: &str) -> Result<Option<T>, Error> {
        let Some(raw) = self.optional(name) else {
            return Ok(None);
        };
        parse_json(&raw).map(Some).map_err(|problem| Error::Setting {
            name: name.to_owned(),
            problem,
            fix: fix.to_owned(),
        })
    }
}

/// What serde says of a value it refused, with the value itself withheld: `invalid type: string "https://…",
/// expected …` becomes `invalid type: string (value withheld), expected …`, and an unknown variant's text likewise.
/// Field and variant names the type expects (`unknown field `colour``, `expected one of `hold``) stay: they are
/// the schema's words, and the fix. For settings that carry secrets (private feed URLs).
fn withhold_values(problem: &str) -> String {
    let mut told = String::with_capacity(problem.len());
    let mut rest = problem;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[start] as char;
        let Some(length) = rest[start + 1..].find(quote) else {
            break;
        };
        let end = start + 1 + length + 1;
        let is_value = quote == '"' || rest[..start].ends_with("variant ");
        told.push_str(&rest[..start]);
        if is_value {
            told.push_str("(value withheld)");
        } else {
            told.push_str(&rest[start..end]);
        }
        rest = &rest[end..];
    }
    told.push_str(rest);
    told
}

/// Deserializes JSON text, describing a failure by where it happened (`routes[0].pipeline: missing field`).
pub fn parse_json<T: DeserializeOwned>(raw: &str) -> Result<T, String> {
    let deserializer = &mut serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            format!("is not valid JSON of the expected shape: {inner}")
        } else {
            format!("at `{path}`: {inner}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_setting_names_the_path_but_never_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Feed {
            zone: u8,
        }
        let env = Env::from_pairs(&[(
            "FEEDS",
            r#"{"retail": "https://cal.example.com/private/KEY123.ics", "b": {"zone": "KEY456"}}"#,
        )]);
        let err = env
            .json_withholding_values::<std::collections::BTreeMap<String, Feed>>("FEEDS", "fix it")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`retail`") && err.contains("expected"), "{err}");
        assert!(!err.contains("KEY123") && !err.contains("KEY456"), "{err}");
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Route {
        pipeline: String,
        secret_id: String,
    }

    #[test]
    fn required_names_the_variable_and_the_fix() {
        let env = Env::from_pairs(&[("BLANK", "  ")]);
        for name in ["MISSING", "BLANK"] {
            let err = env
                .required(name, "set it to the secret's name")
                .unwrap_err()
                .to_string();
            assert!(err.contains(name), "{err}");
            assert!(err.contains("is not set"), "{err}");
            assert!(err.contains("set it to the secret's name"), "{err}");
        }
        assert_eq!(Env::from_pairs(&[("X", " v ")]).required("X", "").unwrap(), "v");
    }

    #[test]
    fn json_errors_point_inside_the_document() {
        let cases = [
            (r#"[{"pipeline": "a"}]"#, "at `[0]`: missing field `secret_id`"),
            (
                r#"[{"pipeline": "a", "secret_id": 3}]"#,
                "at `[0].secret_id`: invalid type: integer",
            ),
            (
                r#"[{"pipeline": "a", "secret_id": "s", "colour": 1}]"#,
                "unknown field `colour`",
            ),
            ("{not json", "is not valid JSON"),
        ];
        for (raw, expected) in cases {
            let env = Env::from_pairs(&[("ROUTES", raw)]);
            let err = env.json::<Vec<Route>>("ROUTES", "see README").unwrap_err().to_string();
            assert!(err.starts_with("setting ROUTES: "), "{err}");
            assert!(err.contains(expected), "{raw}: {err}");
        }
    }

    #[test]
    fn json_unset_is_none_and_valid_parses() {
        let env = Env::from_pairs(&[("ROUTES", r#"[{"pipeline": "p-*", "secret_id": "s"}]"#)]);
        assert_eq!(env.json::<Vec<Route>>("UNSET", "").unwrap(), None);
        let routes = env.json::<Vec<Route>>("ROUTES", "").unwrap().unwrap();
        assert_eq!(
            routes,
            vec![Route {
                pipeline: "p-*".into(),
                secret_id: "s".into()
            }]
        );
    }
}
