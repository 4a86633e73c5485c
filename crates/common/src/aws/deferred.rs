//! An SDK client built on first use. Building one costs more than the rest of a function's start-up together:
//! each client parses the SDK's partition table and compiles its patterns (about 0.6 M instructions, a fifth of
//! the BlackDay gate's start-up each). A client that most invocations never touch (Secrets Manager and SNS, for
//! notices) is built when the first notice needs it, once per container.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use aws_config::SdkConfig;

pub struct Deferred<C> {
    client: OnceLock<C>,
    build: Option<Builder<C>>,
}

/// The configuration and the SDK's `Client::new` to build a client with.
type Builder<C> = (SdkConfig, fn(&SdkConfig) -> C);

impl<C> Deferred<C> {
    /// `build` (an SDK's `Client::new`) runs on the first use, with `sdk`.
    pub fn new(sdk: &SdkConfig, build: fn(&SdkConfig) -> C) -> Deferred<C> {
        Deferred {
            client: OnceLock::new(),
            build: Some((sdk.clone(), build)),
        }
    }

    /// A client already built (tests' mocks).
    pub fn ready(client: C) -> Deferred<C> {
        Deferred {
            client: OnceLock::from(client),
            build: None,
        }
    }
}

impl<C> From<C> for Deferred<C> {
    fn from(client: C) -> Deferred<C> {
        Deferred::ready(client)
    }
}

impl<C> Deref for Deferred<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.client.get_or_init(|| match &self.build {
            Some((sdk, build)) => build(sdk),
            // `ready` fills the cell, and only `new` leaves it empty, with a builder.
            None => unreachable!("a Deferred client without a builder is built already"),
        })
    }
}

impl<C> fmt::Debug for Deferred<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.client.get().is_some() {
            "Deferred(built)"
        } else {
            "Deferred(not yet built)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_built_on_first_use_and_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static BUILT: AtomicUsize = AtomicUsize::new(0);
        fn build(_: &SdkConfig) -> usize {
            BUILT.fetch_add(1, Ordering::SeqCst) + 41
        }
        let deferred = Deferred::new(&SdkConfig::builder().build(), build);
        assert_eq!(BUILT.load(Ordering::SeqCst), 0, "nothing is built before the first use");
        assert_eq!(format!("{deferred:?}"), "Deferred(not yet built)");
        assert_eq!(*deferred, 41);
        assert_eq!(*deferred, 41);
        assert_eq!(BUILT.load(Ordering::SeqCst), 1);
        assert_eq!(*Deferred::from(7), 7);
    }
}
