//! TLS to Redis (feature `redis-tls`): what a `rediss://` connection trusts, and the client
//! certificate it shows.

use std::fmt;
use std::sync::Arc;

use redis::{ClientTlsConfig, ConnectionAddr, ConnectionInfo, TlsCertificates};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::{ExposeSecret, SecretSlice};

use super::StoreError;

/// The certificates of a `rediss://` connection beyond the defaults (the system's roots, no
/// client certificate).
#[derive(Clone, Default)]
pub(super) struct Tls {
    /// CA certificates (PEM) that replace the system's roots.
    pub(super) roots: Option<Vec<u8>>,
    /// A client certificate chain and its private key (PEM), for mutual TLS.
    pub(super) client: Option<(Vec<u8>, SecretSlice<u8>)>,
}

/// Says which certificates are set, never their bytes.
impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("roots", &self.roots.is_some())
            .field("client", &self.client.is_some())
            .finish()
    }
}

impl Tls {
    /// A client for `info` with these certificates. A `rediss://` URL gets rustls's *ring*
    /// provider installed as the process's default when the application installed none.
    /// Certificates given for a `redis://` URL, PEM without a certificate or key, a key that
    /// is not the certificate's, and a URL asking to skip the server's certificate
    /// (`#insecure`) are [`StoreError::Config`].
    pub(super) fn client(&self, info: ConnectionInfo) -> Result<redis::Client, StoreError> {
        let tls = match info.addr {
            // Refused here, whatever redis-rs's features: another crate of the application
            // turning on its `tls-rustls-insecure` would otherwise make it work.
            ConnectionAddr::TcpTls { insecure: true, .. } => {
                return Err(config(
                    "the URL asks to skip the check of the server's certificate (`#insecure`), \
                     which the guard's store does not do: give the CA that signed it instead",
                ));
            }
            ConnectionAddr::TcpTls { .. } => true,
            _ => false,
        };
        if tls {
            install_ring();
        }
        if self.roots.is_none() && self.client.is_none() {
            return redis::Client::open(info).map_err(|e| super::connect_failed(&e));
        }
        if !tls {
            return Err(config(
                "TLS certificates are set, yet the URL is not `rediss://`",
            ));
        }
        if let Some(roots) = &self.roots {
            let certificates = CertificateDer::pem_slice_iter(roots).take_while(Result::is_ok);
            if certificates.count() == 0 {
                return Err(config("the CA certificates hold no PEM certificate"));
            }
        }
        if let Some((chain, key)) = &self.client {
            check_client_certificate(chain, key)?;
        }
        let certificates = TlsCertificates {
            client_tls: self.client.as_ref().map(|(chain, key)| ClientTlsConfig {
                client_cert: chain.clone(),
                client_key: key.expose_secret().to_vec(),
            }),
            root_cert: self.roots.clone(),
        };
        // Every failure here is in the certificates given (redis-rs parses them now), and its
        // messages name the PEM section, never its bytes.
        redis::Client::build_with_tls(info, certificates)
            .map_err(|e| StoreError::Config(format!("redis: TLS certificates: {e}")))
    }
}

/// Refuses, before any connection, a client certificate chain without a certificate, a key
/// that is none, or one that is not the certificate's (redis-rs would find these only at
/// connect, and report them as a failed connection).
fn check_client_certificate(chain: &[u8], key: &SecretSlice<u8>) -> Result<(), StoreError> {
    let certificates = CertificateDer::pem_slice_iter(chain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config(&format!("the client certificate chain: {e}")))?;
    if certificates.is_empty() {
        return Err(config(
            "the client certificate chain holds no PEM certificate",
        ));
    }
    // PEM errors name the section or the offset, never the key's bytes.
    let key = PrivateKeyDer::from_pem_slice(key.expose_secret())
        .map_err(|e| config(&format!("the client key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config(&format!("TLS: {e}")))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(certificates, key)
        .map_err(|e| config(&format!("the client certificate and key: {e}")))?;
    Ok(())
}

fn config(message: &str) -> StoreError {
    StoreError::Config(format!("redis: {message}"))
}

/// Installs rustls's *ring* provider as the process's default if none is installed: redis-rs
/// builds its TLS settings from the default, and rustls finds none by itself when the build
/// has more than one provider. An application's own choice, installed first, is kept.
fn install_ring() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err: another thread installed one meanwhile, which is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The failure at connect of a TLS handshake that cannot succeed, else `None`:
/// [`StoreError::Config`] when the store refused the server's certificate (no trusted root
/// vouches for it, expired, for another name) or the two sides share no TLS version or
/// security level, [`StoreError::Auth`] when the server refused the store's certificate (none
/// shown, or one it does not trust; over TLS 1.2 a server answers a missing one with a
/// handshake failure, which may also mean no common cipher). Retrying helps none of them.
pub(super) fn refused(err: &redis::RedisError) -> Option<StoreError> {
    use rustls::AlertDescription as Alert;
    let io = std::error::Error::source(err)?.downcast_ref::<std::io::Error>()?;
    let tls = io.get_ref()?.downcast_ref::<rustls::Error>()?;
    match tls {
        rustls::Error::InvalidCertificate(_) => Some(StoreError::Config(format!(
            "redis: the server's TLS certificate was refused: {tls}"
        ))),
        rustls::Error::PeerIncompatible(_)
        | rustls::Error::AlertReceived(Alert::ProtocolVersion | Alert::InsufficientSecurity) => {
            Some(StoreError::Config(format!(
                "redis: the server and the store share no TLS version or security level: {tls}"
            )))
        }
        rustls::Error::AlertReceived(Alert::HandshakeFailure) => Some(StoreError::Auth(format!(
            "redis: the server refused the TLS handshake: it may require a client \
             certificate, or share no cipher with the store: {tls}"
        ))),
        rustls::Error::AlertReceived(
            Alert::CertificateRequired
            | Alert::BadCertificate
            | Alert::UnsupportedCertificate
            | Alert::CertificateRevoked
            | Alert::CertificateExpired
            | Alert::CertificateUnknown
            | Alert::UnknownCA
            | Alert::AccessDenied,
        ) => Some(StoreError::Auth(format!(
            "redis: the server refused the TLS client certificate: {tls}"
        ))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use redis::IntoConnectionInfo;

    use super::*;

    /// `#insecure` is refused by the store itself, before redis-rs sees it: whether redis-rs
    /// would refuse it too depends on features another crate may turn on.
    #[test]
    fn a_url_skipping_the_server_certificate_check_is_refused_here() {
        for tls in [
            Tls::default(),
            Tls {
                roots: Some(b"-----BEGIN CERTIFICATE-----".to_vec()),
                client: None,
            },
        ] {
            let info = "rediss://127.0.0.1:6380/0#insecure"
                .into_connection_info()
                .unwrap();
            let err = tls.client(info).unwrap_err();
            assert!(matches!(err, StoreError::Config(_)), "{err:?}");
            assert!(err.to_string().contains("#insecure"), "{err}");
        }
        let checked = "rediss://127.0.0.1:6380/0".into_connection_info().unwrap();
        assert!(Tls::default().client(checked).is_ok());
    }
}
