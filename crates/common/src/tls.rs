//! The one TLS configuration of every connection a function makes, the SDK's and reqwest's alike: rustls with
//! ring as its only crypto provider, and the roots below.

use std::sync::{Arc, LazyLock};

use rustls::pki_types::CertificateDer;

/// The root certificates every TLS connection of a function trusts: Mozilla's root program compiled in
/// (`webpki-root-certs`), so start-up reads no certificate store and trusts the same roots here, in the simulator
/// and in Lambda's image, whatever its store's layout. Reading the system store cost most of a cold start (on
/// Debian, the bundle and then every file of `/etc/ssl/certs`, about 880 file operations and 5 ms a load). Where
/// `SSL_CERT_FILE` or `SSL_CERT_DIR` is set, the store they name is trusted instead, as `rustls-native-certs`
/// reads it: the way to trust a private CA.
pub fn root_certs() -> &'static [CertificateDer<'static>] {
    static ROOTS: LazyLock<Vec<CertificateDer<'static>>> = LazyLock::new(|| {
        let named = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
        if !named {
            return webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec();
        }
        let loaded = rustls_native_certs::load_native_certs();
        for error in &loaded.errors {
            tracing::warn!(%error, "reading the certificate store SSL_CERT_FILE/SSL_CERT_DIR name");
        }
        // Only certificates that make trust anchors.
        let mut check = rustls::RootCertStore::empty();
        loaded
            .certs
            .into_iter()
            .filter(|cert| check.add(cert.clone()).is_ok())
            .collect()
    });
    &ROOTS
}

/// The TLS configuration of every HTTP client, built once and shared (a clone is a few reference counts): ring's
/// default provider, TLS 1.2 and 1.3, SNI, HTTP/1.1 over ALPN, no client certificate, [`root_certs`] for roots
/// instead of a platform verifier that reads the system store per client. Give it to reqwest with
/// `ClientBuilder::tls_backend_preconfigured`.
pub fn client_config() -> rustls::ClientConfig {
    static CONFIG: LazyLock<Result<rustls::ClientConfig, String>> = LazyLock::new(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(root_certs().iter().cloned());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    });
    match &*CONFIG {
        Ok(config) => config.clone(),
        // ring supports TLS 1.2 and 1.3, so this cannot happen; reqwest would report the same at `build`.
        Err(problem) => panic!("no TLS configuration: {problem}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_root_makes_a_trust_anchor() {
        let roots = root_certs();
        assert!(roots.len() > 100, "{} roots", roots.len());
        let mut store = rustls::RootCertStore::empty();
        assert_eq!(store.add_parsable_certificates(roots.iter().cloned()), (roots.len(), 0));
    }

    #[test]
    fn every_client_shares_one_configuration() {
        let config = client_config();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(config.enable_sni);
        assert!(
            reqwest::Client::builder()
                .tls_backend_preconfigured(config)
                .build()
                .is_ok()
        );
    }
}
