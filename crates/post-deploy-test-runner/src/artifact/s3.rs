//! S3's `GetObject`, the one S3 call the runner makes: the object's URL, the request signed with the job's
//! artifact credentials by the SDK's own SigV4 signer (`aws-sigv4`, with the settings the S3 client signs with),
//! and S3's XML error read for its code and message. Not the S3 SDK client: it cost 0.7 MB of the runner's zip
//! (a third of it for a GET), most of it the tables of every CRC algorithm its checksum library knows, linked
//! whole although a GET of a CodePipeline artifact validates none (README, "What it costs").

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use hooks_common::settings::Env;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::credentials::ArtifactCredentials;
use super::locate::S3Location;

/// Where `GetObject` requests go: AWS's S3 endpoint for the function's region, or an endpoint override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Endpoint {
    region: String,
    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (a local S3 stand-in): buckets go in the path.
    endpoint_override: Option<String>,
    fips: bool,
    dual_stack: bool,
}

/// What a key's path segments keep unencoded: S3's (and SigV4's) unreserved characters.
const KEY_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

impl S3Endpoint {
    /// From the environment Lambda gives the function (`AWS_REGION`), as the SDK would read it.
    pub fn from_env(env: &Env) -> S3Endpoint {
        let flag = |name: &str| env.optional(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        S3Endpoint {
            region: env
                .optional("AWS_REGION")
                .or_else(|| env.optional("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".to_owned()),
            endpoint_override: env
                .optional("AWS_ENDPOINT_URL_S3")
                .or_else(|| env.optional("AWS_ENDPOINT_URL"))
                .map(|url| url.trim_end_matches('/').to_owned()),
            fips: flag("AWS_USE_FIPS_ENDPOINT"),
            dual_stack: flag("AWS_USE_DUALSTACK_ENDPOINT"),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The object's URL. Against AWS, virtual-hosted style (`https://bucket.s3.<region>.amazonaws.com/key`) as
    /// S3 asks; path style (`https://s3.<region>.amazonaws.com/bucket/key`) for a bucket name that cannot be a
    /// host name under S3's certificate (dots, capitals, underscores), as the SDK does; path style always
    /// against an endpoint override, which has no host per bucket.
    pub fn object_url(&self, location: &S3Location) -> String {
        let key: Vec<String> = location
            .key
            .split('/')
            .map(|segment| utf8_percent_encode(segment, KEY_SEGMENT).to_string())
            .collect();
        let key = key.join("/");
        if let Some(base) = &self.endpoint_override {
            return format!("{base}/{}/{key}", location.bucket);
        }
        let host = format!(
            "s3{}{}.{}.{}",
            if self.fips { "-fips" } else { "" },
            if self.dual_stack { ".dualstack" } else { "" },
            self.region,
            dns_suffix(&self.region)
        );
        if virtual_hostable(&location.bucket) {
            format!("https://{}.{host}/{key}", location.bucket)
        } else {
            format!("https://{host}/{}/{key}", location.bucket)
        }
    }

    /// A signed `GetObject` of `url` at `now`: the headers to send with it (`x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token`, `authorization`).
    pub fn sign_get(
        &self,
        url: &str,
        credentials: &ArtifactCredentials,
        now: SystemTime,
    ) -> Result<Vec<(String, String)>, String> {
        let (access_key_id, secret_access_key, session_token) = credentials.parts();
        let identity = Credentials::new(
            access_key_id,
            secret_access_key,
            Some(session_token.to_owned()),
            None,
            "codepipeline-job-artifact-credentials",
        )
        .into();
        // S3's signing: the path as sent (no normalising, no second encoding) and the payload hash as a header.
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| format!("cannot sign the request: {e}"))?
            .into();
        let request = SignableRequest::new("GET", url, std::iter::empty(), SignableBody::UnsignedPayload)
            .map_err(|e| format!("cannot sign the request for the artifact's URL: {e}"))?;
        let (instructions, _signature) = sign(request, &params)
            .map_err(|e| format!("cannot sign the request: {e}"))?
            .into_parts();
        let (headers, _query) = instructions.into_parts();
        Ok(headers
            .into_iter()
            .map(|header| (header.name().to_owned(), header.value().to_owned()))
            .collect())
    }
}

/// The DNS suffix of the region's partition.
fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else if region.starts_with("us-isob-") {
        "sc2s.sgov.gov"
    } else if region.starts_with("us-iso-") {
        "c2s.ic.gov"
    } else if region.starts_with("eusc-") {
        "amazonaws.eu"
    } else {
        "amazonaws.com"
    }
}

/// Whether the bucket can be a host name under S3's wildcard certificate: 3 to 63 lower-case letters, digits and
/// hyphens, starting and ending with a letter or digit (a dot would need a second level of wildcard).
fn virtual_hostable(bucket: &str) -> bool {
    let bytes = bucket.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// S3's error answer (`<Error><Code>NoSuchKey</Code><Message>…</Message>…</Error>`): its code and message, and
/// nothing else of the body.
pub fn error_code_and_message(body: &str) -> (Option<String>, Option<String>) {
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = start + body[start..].find(&format!("</{name}>"))?;
        let text = unescape(&body[start..end]);
        (!text.is_empty()).then_some(text)
    };
    (element("Code"), element("Message"))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn location(bucket: &str, key: &str) -> S3Location {
        S3Location {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    #[test]
    fn the_url_of_an_object() {
        let env = |pairs: &[(&str, &str)]| S3Endpoint::from_env(&Env::from_pairs(pairs));
        let eu = [("AWS_REGION", "eu-west-1")];
        let cases = [
            (
                env(&eu),
                location("codepipeline-eu-west-1-1234", "shop/Source/abc.zip"),
                "https://codepipeline-eu-west-1-1234.s3.eu-west-1.amazonaws.com/shop/Source/abc.zip",
            ),
            (
                env(&eu),
                location("artifacts.example.com", "a b+c/ü~.zip"),
                "https://s3.eu-west-1.amazonaws.com/artifacts.example.com/a%20b%2Bc/%C3%BC~.zip",
            ),
            (
                env(&[("AWS_REGION", "cn-north-1")]),
                location("store", "k"),
                "https://store.s3.cn-north-1.amazonaws.com.cn/k",
            ),
            (
                env(&[
                    ("AWS_REGION", "us-gov-west-1"),
                    ("AWS_USE_FIPS_ENDPOINT", "true"),
                    ("AWS_USE_DUALSTACK_ENDPOINT", "TRUE"),
                ]),
                location("store", "k"),
                "https://store.s3-fips.dualstack.us-gov-west-1.amazonaws.com/k",
            ),
            (
                env(&[
                    ("AWS_REGION", "eu-west-1"),
                    ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/"),
                ]),
                location("store", "shop/k.zip"),
                "http://127.0.0.1:4566/store/shop/k.zip",
            ),
            (
                env(&[
                    ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
                    ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2"),
                ]),
                location("store", "k"),
                "http://127.0.0.1:2/store/k",
            ),
            (
                env(&[]),
                location("store", "k"),
                "https://store.s3.us-east-1.amazonaws.com/k",
            ),
        ];
        for (endpoint, location, url) in cases {
            assert_eq!(endpoint.object_url(&location), url, "{location}");
        }
    }

    #[test]
    fn only_lower_case_dns_names_are_virtual_hosted() {
        for (bucket, hostable) in [
            ("abc", true),
            ("codepipeline-us-east-1-1", true),
            ("ab", false),
            ("a.b.c", false),
            ("Upper", false),
            ("under_score", false),
            ("-leading", false),
            ("trailing-", false),
            (&"a".repeat(64), false),
        ] {
            assert_eq!(virtual_hostable(bucket), hostable, "{bucket}");
        }
    }

    #[test]
    fn a_get_is_signed_for_s3_with_the_jobs_keys() {
        let endpoint = S3Endpoint::from_env(&Env::from_pairs(&[("AWS_REGION", "eu-west-1")]));
        let credentials =
            ArtifactCredentials::new(Some("ASIAJOB".into()), Some("secret".into()), Some("token".into())).unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let url = endpoint.object_url(&location("store", "a b.zip"));
        let headers = endpoint.sign_get(&url, &credentials, at).unwrap();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
        };
        assert_eq!(header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
        assert_eq!(header("x-amz-security-token"), "token");
        assert_eq!(header("x-amz-date"), "20261118T110640Z");
        let authorization = header("authorization");
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=ASIAJOB/20261118/eu-west-1/s3/aws4_request, \
                 SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="
            ),
            "{authorization}"
        );
        assert!(!authorization.contains("secret"));
        // The same request signed again is signed the same; another key signs it differently.
        assert_eq!(endpoint.sign_get(&url, &credentials, at).unwrap(), headers);
        let other =
            ArtifactCredentials::new(Some("ASIAJOB".into()), Some("other".into()), Some("token".into())).unwrap();
        assert_ne!(endpoint.sign_get(&url, &other, at).unwrap(), headers);
    }

    #[test]
    fn an_error_answer_gives_its_code_and_message_only() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified \
                    key does not exist &amp; never did</Message><Key>shop/k.zip</Key><RequestId>1</RequestId></Error>";
        assert_eq!(
            error_code_and_message(body),
            (
                Some("NoSuchKey".into()),
                Some("The specified key does not exist & never did".into())
            )
        );
        assert_eq!(error_code_and_message(""), (None, None));
        assert_eq!(error_code_and_message("<Error><Code></Code>"), (None, None));
        assert_eq!(error_code_and_message("<html>bad gateway</html>"), (None, None));
    }
}
