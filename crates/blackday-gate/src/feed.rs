//! iCalendar feeds over HTTP(S), with the last good copy kept per container.
//!
//! A feed is read when an approval needs it, unless a good copy younger than [`REUSE_FOR`] is at hand (so a sweep
//! over many approvals reads it once). When the feed cannot be read (network, HTTP error, or an .ics the engine
//! refuses) the last good copy is offered instead, with its age and the problem; `decide` uses it only within
//! `CALENDAR_FEED_MAX_STALE_MINUTES`. The copy lives in the container's memory: a cold container has none, and then
//! an unreadable feed holds (fails closed).
//!
//! A feed that reads but has no events, or far fewer than its last good copy ([`crate::settings::FeedGuard`]), is
//! [`FeedRead::Suspicious`]: the gate holds and says why, rather than approve by a calendar emptied by mistake. It
//! does not replace the last good copy, so the drop is judged against that copy until the feed recovers (or the
//! container is replaced, or the guard is loosened).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blackday_calendar::BlackDayCalendar;
use chrono::{DateTime, Utc};

use hooks_common::address::AddressPolicy;

use crate::settings::{FeedSource, check_feed_url};

const MAX_REDIRECTS: usize = 5;

/// How long a good copy is used without asking the feed again.
pub const REUSE_FOR: Duration = Duration::from_secs(60);
/// The whole request, connection to last byte: a hung calendar server must not eat the invocation.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Far above any real BlackDay calendar (a year of daily events is ~200 KiB); refuses a runaway answer.
const MAX_BYTES: usize = 4 * 1024 * 1024;

/// A calendar read from a feed, and when.
#[derive(Clone, Debug)]
pub struct GoodCopy {
    pub calendar: Arc<BlackDayCalendar>,
    pub fetched_at: DateTime<Utc>,
}

/// What reading a feed gave.
#[derive(Clone, Debug)]
pub enum FeedRead {
    /// Read just now (or within [`REUSE_FOR`]).
    Fresh(GoodCopy),
    /// The feed could not be read; this is the last good copy.
    Stale { copy: GoodCopy, problem: String },
    /// The feed read, but is not trusted (see the module documentation): hold, saying why. `problem` names the feed
    /// by host.
    Suspicious { problem: String },
}

/// An HTTP client for feeds and the address policy it is held to: a feed URL (or a redirect) naming a denied IP
/// address is refused before it is sent, and names resolving only to denied addresses by the client's resolver.
#[derive(Clone)]
pub struct FeedClient {
    http: reqwest::Client,
    policy: AddressPolicy,
}

pub struct FeedCache {
    http: FeedClient,
    copies: Mutex<HashMap<String, GoodCopy>>,
    reuse_for: Duration,
}

/// An HTTP client for feeds: bounded time, a few redirects (calendar hosts redirect to CDNs), each to an
/// address the feed itself could have had: a redirect must not downgrade the read to plain http.
pub fn http_client(policy: &AddressPolicy) -> Result<FeedClient, String> {
    let policy = policy.clone().purpose("calendar feeds");
    let for_redirects = policy.clone();
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        if let Err(denied) = for_redirects.check_url(attempt.url()) {
            return attempt.error(format!("redirected to an address that is refused: {denied}"));
        }
        match check_feed_url(attempt.url().as_str()) {
            Ok(_) => attempt.follow(),
            Err((problem, _)) => attempt.error(format!("redirected to an address that {problem}")),
        }
    });
    let http = policy
        .apply(reqwest::Client::builder())
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(redirects)
        .user_agent(concat!("codepipeline-hooks-blackday/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    Ok(FeedClient { http, policy })
}

impl FeedCache {
    pub fn new(http: FeedClient, reuse_for: Duration) -> FeedCache {
        FeedCache {
            http,
            copies: Mutex::new(HashMap::new()),
            reuse_for,
        }
    }

    fn copy(&self, key: &str) -> Option<GoodCopy> {
        self.copies.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    /// Reads the feed named `key` (the calendar's name); see the module documentation.
    pub async fn read(&self, key: &str, source: &FeedSource) -> Result<FeedRead, String> {
        let last = self.copy(key);
        if let Some(copy) = &last {
            let age = (Utc::now() - copy.fetched_at).to_std().unwrap_or_default();
            if age < self.reuse_for {
                return Ok(FeedRead::Fresh(copy.clone()));
            }
        }
        match fetch(&self.http, source).await {
            Ok(calendar) => {
                let last_count = last.as_ref().map(|copy| copy.calendar.blackouts().len());
                if let Some(problem) = source.guard.suspicion(calendar.blackouts().len(), last_count) {
                    tracing::warn!(calendar = key, %problem, "calendar feed suspicious");
                    return Ok(FeedRead::Suspicious {
                        problem: format!("{}: {problem}", source.label()),
                    });
                }
                let copy = GoodCopy {
                    calendar: Arc::new(calendar),
                    fetched_at: Utc::now(),
                };
                let mut copies = self.copies.lock().unwrap_or_else(|p| p.into_inner());
                copies.insert(key.to_owned(), copy.clone());
                Ok(FeedRead::Fresh(copy))
            }
            Err(problem) => {
                tracing::warn!(calendar = key, %problem, has_copy = last.is_some(), "calendar feed not read");
                match last {
                    Some(copy) => Ok(FeedRead::Stale { copy, problem }),
                    None => Err(problem),
                }
            }
        }
    }
}

/// Reads and parses a feed. Errors name the feed by host (see [`FeedSource::label`]).
pub async fn fetch(http: &FeedClient, source: &FeedSource) -> Result<BlackDayCalendar, String> {
    let text = fetch_text(http, &source.url)
        .await
        .map_err(|problem| format!("{}: {problem}", source.label()))?;
    BlackDayCalendar::from_ics(&text, source.zone).map_err(|e| format!("{}: {e}", source.label()))
}

/// The body of a 2xx answer as text, at most [`MAX_BYTES`]. Errors never include the URL.
pub async fn fetch_text(client: &FeedClient, url: &reqwest::Url) -> Result<String, String> {
    client
        .policy
        .check_url(url)
        .map_err(|denied| format!("not read: {denied}"))?;
    let mut response = client
        .http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("request failed: {}", describe(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("answered HTTP {}", status.as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("answer cut off: {}", describe(&e)))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(format!("answer is larger than {} MiB", MAX_BYTES / 1024 / 1024));
        }
    }
    String::from_utf8(body).map_err(|_| "answer is not UTF-8 text".to_owned())
}

/// reqwest's error without the URL, with its cause (connection refused, timed out, ...).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({cause})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::FeedGuard;
    use std::sync::atomic::{AtomicU16, Ordering};

    /// The tests' feeds listen on 127.0.0.1, which the default policy refuses.
    fn loopback() -> AddressPolicy {
        AddressPolicy::allowing(&["127.0.0.1/32".parse().unwrap()])
    }

    use axum::Router;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::get;

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n\
        DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261227\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    /// A valid feed without events: what an emptied calendar, or the wrong account's, exports.
    const EMPTY: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n";

    /// A feed on 127.0.0.1 answering with the status in `status` (200 serves [`ICS`], 298 [`EMPTY`], 299 junk).
    async fn serve(status: Arc<AtomicU16>) -> FeedSource {
        let app = Router::new()
            .route(
                "/cal.ics",
                get(|State(status): State<Arc<AtomicU16>>| async move {
                    match status.load(Ordering::SeqCst) {
                        200 => (StatusCode::OK, ICS.to_owned()),
                        298 => (StatusCode::OK, EMPTY.to_owned()),
                        299 => (StatusCode::OK, "<html>login</html>".to_owned()),
                        code => (StatusCode::from_u16(code).unwrap(), String::new()),
                    }
                }),
            )
            .with_state(status);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        FeedSource {
            url: format!("http://{addr}/cal.ics?key=SECRET").parse().unwrap(),
            zone: blackday_calendar::Zone::named("Europe/Berlin").unwrap(),
            guard: FeedGuard::default(),
        }
    }

    #[tokio::test]
    async fn keeps_the_last_good_copy_when_the_feed_fails() {
        let status = Arc::new(AtomicU16::new(503));
        let source = serve(status.clone()).await;
        let cache = FeedCache::new(http_client(&loopback()).unwrap(), Duration::ZERO);

        let err = cache.read("retail", &source).await.unwrap_err();
        assert!(err.contains("feed at 127.0.0.1: answered HTTP 503"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");

        status.store(200, Ordering::SeqCst);
        let FeedRead::Fresh(copy) = cache.read("retail", &source).await.unwrap() else {
            panic!("fresh")
        };
        assert_eq!(copy.calendar.blackouts()[0].name(), "Christmas");

        for (code, problem) in [(500, "answered HTTP 500"), (299, "BEGIN:VCALENDAR")] {
            status.store(code, Ordering::SeqCst);
            let FeedRead::Stale {
                copy: stale,
                problem: why,
            } = cache.read("retail", &source).await.unwrap()
            else {
                panic!("stale")
            };
            assert_eq!(stale.fetched_at, copy.fetched_at);
            assert!(why.contains(problem), "{why}");
        }
    }

    #[tokio::test]
    async fn an_empty_feed_is_suspicious_and_keeps_the_last_good_copy() {
        let status = Arc::new(AtomicU16::new(298));
        let source = serve(status.clone()).await;
        let cache = FeedCache::new(http_client(&loopback()).unwrap(), Duration::ZERO);
        let FeedRead::Suspicious { problem } = cache.read("retail", &source).await.unwrap() else {
            panic!("suspicious")
        };
        assert!(
            problem.starts_with("feed at 127.0.0.1: the feed has 0 event(s)"),
            "{problem}"
        );
        assert!(!problem.contains("SECRET"), "{problem}");

        status.store(200, Ordering::SeqCst);
        assert!(matches!(
            cache.read("retail", &source).await.unwrap(),
            FeedRead::Fresh(_)
        ));
        status.store(298, Ordering::SeqCst);
        assert!(matches!(
            cache.read("retail", &source).await.unwrap(),
            FeedRead::Suspicious { .. }
        ));
        // The good copy is still the one judged against, and used again once the feed recovers.
        status.store(200, Ordering::SeqCst);
        let FeedRead::Fresh(copy) = cache.read("retail", &source).await.unwrap() else {
            panic!("fresh")
        };
        assert_eq!(copy.calendar.blackouts().len(), 1);

        let lenient = FeedSource {
            guard: FeedGuard {
                min_events: 0,
                max_drop_percent: 100,
            },
            ..source
        };
        status.store(298, Ordering::SeqCst);
        assert!(matches!(
            cache.read("retail", &lenient).await.unwrap(),
            FeedRead::Fresh(_)
        ));
    }

    #[tokio::test]
    async fn a_young_copy_is_reused_without_asking() {
        let status = Arc::new(AtomicU16::new(200));
        let source = serve(status.clone()).await;
        let cache = FeedCache::new(http_client(&loopback()).unwrap(), Duration::from_secs(60));
        cache.read("retail", &source).await.unwrap();
        status.store(500, Ordering::SeqCst);
        assert!(matches!(
            cache.read("retail", &source).await.unwrap(),
            FeedRead::Fresh(_)
        ));
    }

    #[tokio::test]
    async fn a_redirect_to_plain_http_is_not_followed() {
        let app = Router::new()
            .route(
                "/cal.ics",
                get(|| async {
                    (
                        StatusCode::FOUND,
                        [(
                            axum::http::header::LOCATION,
                            "http://calendar.example.com/cal.ics?key=SECRET",
                        )],
                    )
                }),
            )
            .route(
                "/hop",
                get(|| async { (StatusCode::FOUND, [(axum::http::header::LOCATION, "/hop")]) }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = http_client(&loopback()).unwrap();

        let err = fetch_text(&http, &format!("http://{addr}/cal.ics").parse().unwrap())
            .await
            .unwrap_err();
        assert!(err.contains("redirected to an address that is plain http"), "{err}");
        assert!(!err.contains("SECRET") && !err.contains("example.com"), "{err}");

        let err = fetch_text(&http, &format!("http://{addr}/hop").parse().unwrap())
            .await
            .unwrap_err();
        assert!(err.contains("more than 5 redirects"), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_feed_says_so_without_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let source = FeedSource {
            url: format!("http://{addr}/cal.ics?key=SECRET").parse().unwrap(),
            zone: blackday_calendar::Zone::UTC,
            guard: FeedGuard::default(),
        };
        let err = fetch(&http_client(&loopback()).unwrap(), &source).await.unwrap_err();
        assert!(err.contains("could not connect"), "{err}");
        assert!(!err.contains("SECRET") && !err.contains("/cal.ics"), "{err}");
    }

    #[tokio::test]
    async fn a_feed_at_a_denied_address_is_not_read() {
        let client = http_client(&AddressPolicy::allowing(&[])).unwrap();
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
        ] {
            let err = fetch_text(&client, &url.parse().unwrap()).await.unwrap_err();
            assert!(
                err.contains("not read") && err.contains("calendar feeds"),
                "{url}: {err}"
            );
        }
    }
}
