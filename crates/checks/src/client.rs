//! The HTTP client checks are sent with, and the address policy that says where checks may go
//! ([`hooks_common::address`]): the client's resolver drops denied DNS answers, and the engine refuses URLs
//! written with a denied IP address before sending (reqwest connects to those without resolving).

use hooks_common::address::{AddressPolicy, Denied};
use hooks_common::settings::Env;
use reqwest::Client;

/// Why a client for checks could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// `TARGET_ALLOW_CIDRS` or `TARGET_DENY_PRIVATE` does not parse; the message names the variable and the fix.
    #[error(transparent)]
    Setting(#[from] hooks_common::Error),
    /// reqwest could not build a client (its TLS set-up failed): nothing a setting fixes.
    #[error("cannot build the HTTP client for checks: {0}")]
    Build(#[source] reqwest::Error),
}

/// For a function's start-up: a bad setting stays the setting error it is (`SettingError`, naming the variable
/// and the fix); a client that cannot be built is `StartupFailed`.
impl From<ClientError> for hooks_common::Error {
    fn from(error: ClientError) -> hooks_common::Error {
        match error {
            ClientError::Setting(setting) => setting,
            ClientError::Build(build) => {
                let mut text = format!("cannot build the HTTP client for checks: {build}");
                let mut source = std::error::Error::source(&build);
                while let Some(cause) = source {
                    text.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                hooks_common::Error::Startup(text)
            }
        }
    }
}

/// A client for checks under the address policy of the process environment (`TARGET_ALLOW_CIDRS`,
/// `TARGET_DENY_PRIVATE`); a bad setting is an error here, at start-up. See [`http_client_with`].
pub fn http_client() -> Result<Client, ClientError> {
    http_client_with(&AddressPolicy::from_env(&Env::process())?)
}

/// A client fit for checks: DNS answers filtered by `policy`, no redirects followed (a check sees exactly what
/// its URL answers; expect 301/302 to test a redirect), and a user agent that names the engine. Per-attempt
/// timeouts come from the suite. Run suites with the same policy ([`crate::Suite::run_with`]) so URLs written
/// with an IP address are held to it too.
pub fn http_client_with(policy: &AddressPolicy) -> Result<Client, ClientError> {
    let builder = Client::builder()
        .tls_backend_preconfigured(hooks_common::tls::client_config())
        .user_agent(concat!("codepipeline-hooks-checks/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none());
    policy.apply(builder).build().map_err(ClientError::Build)
}

/// The policy [`crate::Suite::run`] holds checks to: the process environment's, read on each run so it is the one
/// [`http_client`] was built with. A bad setting becomes the reason every check is refused: never a pass.
pub(crate) fn process_policy() -> Result<AddressPolicy, String> {
    AddressPolicy::from_env(&Env::process()).map_err(|e| e.to_string())
}

/// The policy's refusal inside a transport error, when the resolver refused every address of a name.
pub(crate) fn denial(error: &reqwest::Error) -> Option<&Denied> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(denied) = cause.downcast_ref::<Denied>() {
            return Some(denied);
        }
        source = cause.source();
    }
    None
}
