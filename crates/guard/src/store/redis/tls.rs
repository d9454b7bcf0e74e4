//! TLS to Redis (feature `redis-tls`): what a `rediss://` connection trusts, and the client
//! certificate it shows.

use std::fmt;

use redis::{ClientTlsConfig, ConnectionAddr, ConnectionInfo, TlsCertificates};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
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
    /// Certificates given for a `redis://` URL, or PEM without a certificate or key, are
    /// [`StoreError::Config`].
    pub(super) fn client(&self, info: ConnectionInfo) -> Result<redis::Client, StoreError> {
        let tls = matches!(info.addr, ConnectionAddr::TcpTls { .. });
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

/// The failure at connect of a TLS handshake whose certificates were refused, else `None`:
/// [`StoreError::Config`] when the store refused the server's certificate (no trusted root
/// vouches for it, expired, for another name), [`StoreError::Auth`] when the server refused
/// the store's (none shown, or one it does not trust). Retrying helps neither.
pub(super) fn refused(err: &redis::RedisError) -> Option<StoreError> {
    use rustls::AlertDescription as Alert;
    let io = std::error::Error::source(err)?.downcast_ref::<std::io::Error>()?;
    let tls = io.get_ref()?.downcast_ref::<rustls::Error>()?;
    match tls {
        rustls::Error::InvalidCertificate(_) => Some(StoreError::Config(format!(
            "redis: the server's TLS certificate was refused: {tls}"
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
