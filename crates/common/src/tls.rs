//! The one TLS configuration of every connection a function makes, the SDK's and reqwest's alike: rustls with
//! ring as its only crypto provider, and the roots below.

use std::sync::{Arc, LazyLock};

/// The roots every TLS connection of a function trusts: Mozilla's root program compiled in as trust anchors
/// (`webpki-roots`: names and keys, not whole certificates, so nothing to parse at the first connection and a
/// fifth of the bytes), so start-up reads no certificate store and trusts the same roots here, in the simulator
/// and in Lambda's image, whatever its store's layout. Reading the system store cost most of a cold start (on
/// Debian, the bundle and then every file of `/etc/ssl/certs`, about 880 file operations and 5 ms a load). Where
/// `SSL_CERT_FILE` or `SSL_CERT_DIR` is set, the store they name is trusted instead, as `rustls-native-certs`
/// reads it: the way to trust a private CA.
pub fn root_store() -> rustls::RootCertStore {
    static ROOTS: LazyLock<rustls::RootCertStore> = LazyLock::new(|| {
        let named = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
        if !named {
            return compiled_in();
        }
        let loaded = rustls_native_certs::load_native_certs();
        for error in &loaded.errors {
            tracing::warn!(%error, "reading the certificate store SSL_CERT_FILE/SSL_CERT_DIR name");
        }
        let mut store = rustls::RootCertStore::empty();
        let (_, unusable) = store.add_parsable_certificates(loaded.certs);
        if unusable > 0 {
            tracing::warn!(
                unusable,
                "certificates in SSL_CERT_FILE/SSL_CERT_DIR that cannot be trust anchors"
            );
        }
        store
    });
    ROOTS.clone()
}

/// Mozilla's root program, as `webpki-roots` carries it.
fn compiled_in() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// The TLS configuration of every HTTP client, built once and shared (a clone is a few reference counts): ring's
/// default provider, TLS 1.2 and 1.3, SNI, HTTP/1.1 over ALPN, no client certificate, [`root_store`] for roots
/// instead of a platform verifier that reads the system store per client. Give it to reqwest with
/// `ClientBuilder::tls_backend_preconfigured`.
pub fn client_config() -> rustls::ClientConfig {
    static CONFIG: LazyLock<Result<rustls::ClientConfig, String>> = LazyLock::new(|| {
        let roots = root_store();
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
    fn mozillas_roots_are_compiled_in() {
        assert!(compiled_in().len() > 100, "{} roots", compiled_in().len());
        // Whichever store the environment picks, it is not empty.
        assert!(!root_store().is_empty());
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
