//! The Redis store over TLS (`rediss://`, feature `redis-tls`) against a real `redis-server`
//! serving TLS only, with a CA and certificates made by each test.

mod common;

use std::time::Duration;

use common::RedisServer;
use phone_verify_guard::store::{Algorithm, Counter, Decision, HitId, StoreError};
use phone_verify_guard::{GuardStore, RedisStore, RedisStoreBuilder};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use secrecy::SecretSlice;

/// Generous timeouts: these tests check what connects, not how fast.
const TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A certificate authority of one test, and what it issued.
struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate chain and its private key, in PEM.
struct Issued {
    chain: String,
    key: String,
}

impl Pki {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { ca }
    }

    fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A certificate for `names` (DNS names or IP addresses), for a server or a client.
    fn issue(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Issued {
        let names: Vec<String> = names.iter().map(|&n| n.to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "phone-verify test");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.ca).unwrap();
        Issued {
            chain: certificate.pem(),
            key: key.serialize_pem(),
        }
    }

    /// A `redis-server` serving TLS only, with a certificate for 127.0.0.1 from this CA; it
    /// asks clients for a certificate from this CA when `client_auth` is set.
    fn server(&self, client_auth: bool) -> RedisServer {
        self.server_with(client_auth, &[])
    }

    /// [`server`](Self::server) with more arguments.
    fn server_with(&self, client_auth: bool, extra: &[&str]) -> RedisServer {
        let server = self.issue(
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        RedisServer::start_tls(
            &server.chain,
            &server.key,
            &self.ca_pem(),
            client_auth,
            extra,
        )
    }
}

fn builder(url: impl Into<String>) -> RedisStoreBuilder {
    RedisStore::builder(url)
        .prefix("pvg-tls")
        .connection_timeout(TEST_TIMEOUT)
        .response_timeout(TEST_TIMEOUT)
}

fn counter(key: &str, max: u64) -> [Counter; 1] {
    [Counter {
        key: key.into(),
        window: Duration::from_secs(3600),
        max,
        cost: 1,
        algorithm: Algorithm::FixedWindow,
    }]
}

/// Decisions over TLS count in Redis: the second of a limit of one is refused. The server
/// serves TLS only, so nothing could pass in the clear.
async fn counts(store: &RedisStore, key: &str) {
    let limit = counter(key, 1);
    let first = store.hit(&limit, HitId::random()).await.unwrap();
    assert!(matches!(first, Decision::Allowed(_)), "{first:?}");
    let second = store.hit(&limit, HitId::random()).await.unwrap();
    assert!(matches!(second, Decision::Denied { .. }), "{second:?}");
}

/// A `rediss://` store whose CA certificates vouch for the server connects, and its decisions
/// count. (TLS was not built in: `rediss://` was refused, so a managed Redis that requires TLS
/// could not be used.)
#[tokio::test]
async fn a_store_connects_over_tls_to_a_server_its_ca_vouches_for() {
    let pki = Pki::new("phone-verify test CA");
    let server = pki.server(false);
    assert!(server.url().starts_with("rediss://"), "{}", server.url());
    let store = builder(server.url())
        .tls_root_certificates(pki.ca_pem())
        .connect()
        .await
        .expect("connects over TLS");
    counts(&store, "over-tls").await;
    // In the clear, the TLS-only port does not answer as Redis.
    let plain = builder(server.url().replace("rediss://", "redis://"))
        .connect()
        .await
        .unwrap_err();
    assert!(!matches!(plain, StoreError::Config(_)), "{plain:?}");
}

/// A server certificate that no trusted root vouches for (the system's roots, or another CA)
/// is refused at connect, as a configuration error: retrying will not help. With the
/// default timeouts (1 s to connect, 200 ms a command) too: the connection is tried once, so
/// the refusal comes before `connect`'s bound. (It was retried after a second or more of
/// backoff, and `connect` mostly reported a timeout, a passing outage.)
#[tokio::test]
async fn a_server_certificate_no_trusted_root_vouches_for_is_refused() {
    let pki = Pki::new("phone-verify test CA");
    let server = pki.server(false);
    let system_roots = builder(server.url()).connect().await.unwrap_err();
    let other_ca = RedisStore::builder(server.url())
        .tls_root_certificates(Pki::new("another CA").ca_pem())
        .connect()
        .await
        .unwrap_err();
    for err in [system_roots, other_ca] {
        assert!(matches!(err, StoreError::Config(_)), "{err:?}");
        assert!(!err.may_still_count());
        assert!(err.to_string().contains("certificate"), "{err}");
    }
}

/// A server that asks for a client certificate (mutual TLS) lets in the store that shows one
/// from the CA it trusts, and refuses the store that shows none: an authentication error.
#[tokio::test]
async fn mutual_tls_lets_in_the_store_with_a_client_certificate() {
    let pki = Pki::new("phone-verify test CA");
    let server = pki.server(true);
    let client = pki.issue(&["guard"], ExtendedKeyUsagePurpose::ClientAuth);
    let key = SecretSlice::from(client.key.clone().into_bytes());
    let with = builder(server.url())
        .tls_root_certificates(pki.ca_pem())
        .tls_client_certificate(client.chain.clone(), key.clone());
    let shown = format!("{with:?}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    let store = with.connect().await.expect("mutual TLS");
    counts(&store, "mutual-tls").await;
    // With the default timeouts: the refusal comes before `connect`'s bound.
    let without = RedisStore::builder(server.url())
        .tls_root_certificates(pki.ca_pem())
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(without, StoreError::Auth(_)), "{without:?}");
    assert!(!without.may_still_count());
    assert!(
        !format!("{without:?}").contains("PRIVATE KEY"),
        "{without:?}"
    );
}

/// A server speaking TLS 1.2 only answers a missing client certificate with a handshake
/// failure (TLS 1.3 has an alert of its own): an authentication error too, not an outage.
#[tokio::test]
async fn a_tls_1_2_server_refusing_a_missing_client_certificate_is_an_authentication_error() {
    let pki = Pki::new("phone-verify test CA");
    let server = pki.server_with(true, &["--tls-protocols", "TLSv1.2"]);
    let without = builder(server.url())
        .tls_root_certificates(pki.ca_pem())
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(without, StoreError::Auth(_)), "{without:?}");
    let client = pki.issue(&["guard"], ExtendedKeyUsagePurpose::ClientAuth);
    let store = builder(server.url())
        .tls_root_certificates(pki.ca_pem())
        .tls_client_certificate(client.chain, SecretSlice::from(client.key.into_bytes()))
        .connect()
        .await
        .expect("mutual TLS 1.2");
    counts(&store, "tls-1.2").await;
}

/// Certificates that cannot work are configuration errors before any connection, and never
/// show a key: a CA file without a certificate, a client key that is no key or not the
/// certificate's, a client chain without a certificate, certificates for a `redis://` URL,
/// and a `rediss://` URL asking to skip the server's certificate (`#insecure`: refused by
/// the store itself, whatever redis-rs's features).
#[tokio::test]
async fn certificates_that_cannot_work_are_configuration_errors() {
    let pki = Pki::new("phone-verify test CA");
    let client = pki.issue(&["guard"], ExtendedKeyUsagePurpose::ClientAuth);
    let not_a_key = SecretSlice::from(b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n".to_vec());
    let another_key = SecretSlice::from(
        pki.issue(&["other"], ExtendedKeyUsagePurpose::ClientAuth)
            .key
            .into_bytes(),
    );
    // Nothing listens: a configuration error is found before any connection.
    let url = "rediss://:hunter2@127.0.0.1:1/0";
    let cases = [
        (
            "no certificate",
            builder(url).tls_root_certificates("not PEM"),
        ),
        (
            "a key that is none",
            builder(url)
                .tls_root_certificates(pki.ca_pem())
                .tls_client_certificate(client.chain.clone(), not_a_key),
        ),
        (
            "a key that is not the certificate's",
            builder(url)
                .tls_root_certificates(pki.ca_pem())
                .tls_client_certificate(client.chain.clone(), another_key),
        ),
        (
            "no client certificate",
            builder(url)
                .tls_root_certificates(pki.ca_pem())
                .tls_client_certificate(pki.ca_pem().replace("CERTIFICATE", "X"), {
                    SecretSlice::from(client.key.clone().into_bytes())
                }),
        ),
        (
            "redis://",
            builder("redis://127.0.0.1:1/0").tls_root_certificates(pki.ca_pem()),
        ),
        (
            "#insecure",
            builder("rediss://127.0.0.1:1/0#insecure").tls_root_certificates(pki.ca_pem()),
        ),
        (
            "#insecure, system roots",
            builder("rediss://127.0.0.1:1/0#insecure"),
        ),
    ];
    for (case, builder) in cases {
        let err = builder.connect().await.unwrap_err();
        assert!(matches!(err, StoreError::Config(_)), "{case}: {err:?}");
        let shown = format!("{err} {err:?}");
        for secret in ["hunter2", "c2VjcmV0", "PRIVATE KEY"] {
            assert!(!shown.contains(secret), "{case}: {shown}");
        }
    }
}

/// Settings naming the TLS files (here from the environment) build a guard that decides in a
/// Redis serving mutual TLS only; a client certificate without its key, and a CA that does not
/// vouch for the server, are refused as `InvalidInput` when the guard is built.
#[tokio::test]
async fn settings_with_tls_files_build_a_guard_over_tls() {
    use std::sync::Arc;

    use phone_verify_core::{ErrorKind, PhoneVerifier, StartRequest};
    use phone_verify_guard::{ENV_PREFIX, ENV_SECRET, GuardSettings};
    use phone_verify_testkit::memory::InMemoryVerifier;

    let pki = Pki::new("phone-verify test CA");
    let server = pki.server(true);
    let client = pki.issue(&["guard"], ExtendedKeyUsagePurpose::ClientAuth);
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, pem: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path.display().to_string()
    };
    let ca = file("ca.pem", &pki.ca_pem());
    let other_ca = file("other-ca.pem", &Pki::new("another CA").ca_pem());
    let chain = file("client.pem", &client.chain);
    let key = file("client.key", &client.key);
    let settings = |ca: &str, key: Option<&str>| {
        let variables = [
            ("STORE", Some("redis")),
            ("STORE_TIMEOUT_MS", Some("5000")),
            ("REDIS_TLS_CA_FILE", Some(ca)),
            ("REDIS_TLS_CLIENT_CERT_FILE", Some(chain.as_str())),
            ("REDIS_TLS_CLIENT_KEY_FILE", key),
        ]
        .map(|(name, value)| (format!("{ENV_PREFIX}{name}"), value.map(str::to_owned)));
        GuardSettings::from_lookup(|name| {
            variables
                .iter()
                .find(|(variable, _)| variable == name)
                .and_then(|(_, value)| value.clone())
        })
        .unwrap()
    };
    let url = server.url();
    let lookup = |name: &str| match name {
        phone_verify_guard::ENV_REDIS_URL => Some(url.clone()),
        ENV_SECRET => Some("redis-tls-test-secret-0123".to_owned()),
        _ => None,
    };
    let provider = InMemoryVerifier::new();
    let build = |settings: GuardSettings| {
        let inner: Arc<dyn PhoneVerifier> = Arc::new(provider.clone_fresh());
        async move { settings.build_with_lookup(inner, None, lookup).await }
    };
    let guard = build(settings(&ca, Some(&key)))
        .await
        .expect("a guard over mutual TLS");
    guard
        .start(&StartRequest::sms("+905321110301".parse().unwrap()))
        .await
        .expect("a start the guard decided in Redis");
    for (case, settings) in [
        ("no key", settings(&ca, None)),
        ("another CA", settings(&other_ca, Some(&key))),
    ] {
        let err = build(settings).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{case}: {err}");
        assert!(!err.to_string().contains("PRIVATE KEY"), "{case}: {err}");
    }
}
