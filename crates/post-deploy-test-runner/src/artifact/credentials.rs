//! The job's artifact credentials: temporary STS keys CodePipeline hands each job to read its artifacts. They are
//! secrets, so the type shows only that it holds them, and they leave it only to sign the job's S3 requests.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct ArtifactCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
}

impl ArtifactCredentials {
    /// `None` unless all three parts are present: partial keys could only fail later, less clearly.
    pub fn new(
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        session_token: Option<String>,
    ) -> Option<ArtifactCredentials> {
        let present = |part: Option<String>| part.filter(|p| !p.is_empty());
        Some(ArtifactCredentials {
            access_key_id: present(access_key_id)?,
            secret_access_key: present(secret_access_key)?,
            session_token: present(session_token)?,
        })
    }

    /// The access key id, secret and session token, to sign the job's S3 requests with and for nothing else.
    pub(crate) fn parts(&self) -> (&str, &str, &str) {
        (&self.access_key_id, &self.secret_access_key, &self.session_token)
    }
}

impl fmt::Debug for ArtifactCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ArtifactCredentials(** redacted **)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_of_the_keys_shows() {
        let credentials =
            ArtifactCredentials::new(Some("ASIAKEYID".into()), Some("s3cr3t".into()), Some("t0k3n".into())).unwrap();
        let shown = format!("{credentials:?} {:?}", Some(&credentials));
        for secret in ["ASIAKEYID", "s3cr3t", "t0k3n"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn all_three_parts_or_none() {
        let part = |s: &str| Some(s.to_owned());
        assert!(ArtifactCredentials::new(part("a"), part("b"), part("c")).is_some());
        assert!(ArtifactCredentials::new(part("a"), part("b"), None).is_none());
        assert!(ArtifactCredentials::new(part("a"), part(""), part("c")).is_none());
    }
}
