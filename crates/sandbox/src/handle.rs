//! Starting a sandbox and driving it from Rust: [`Sandbox`] and [`SandboxHandle`].

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::{App, Shared};
use crate::config::{SandboxConfig, check_test_number};
use crate::faults::Fault;
use crate::model::{ControlError, Provider, RequestLog, SentMessage, TotpEnrollment};
use crate::state::Common;
use crate::{control, server, verifykit, verigator};

/// Entry point: starts sandbox servers.
#[derive(Debug, Clone, Copy)]
pub struct Sandbox;

impl Sandbox {
    /// Binds `config.listen` (default: an ephemeral loopback port) and serves in the background
    /// on the current Tokio runtime until the handle is shut down or dropped. A test number of
    /// `config` that [`check_test_number`] refuses is an [`io::ErrorKind::InvalidInput`]
    /// error, before anything is bound.
    pub async fn start(config: SandboxConfig) -> io::Result<SandboxHandle> {
        for (phone, code) in &config.test_numbers {
            check_test_number(phone, code)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        }
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let app = Shared::new(config);
        let router = server::router(&app);
        let (shutdown, signal) = oneshot::channel();
        let task = tokio::spawn(server::serve(listener, router, signal));
        Ok(SandboxHandle {
            addr,
            app,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }
}

/// A running sandbox: its URLs and direct control of its state (no HTTP needed).
/// Dropping it stops the server. Its `Debug` shows the address only: the state holds every
/// message (codes, numbers), TOTP secret and credential.
pub struct SandboxHandle {
    addr: SocketAddr,
    app: App,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stand-in for `https://web-rest.verifykit.com/v1.0`.
    pub fn verifykit_web_rest_url(&self) -> String {
        format!("{}/verifykit/web-rest/v1.0", self.base_url())
    }

    /// Stand-in for `https://api.verifykit.com/v1.0`.
    pub fn verifykit_api_url(&self) -> String {
        format!("{}/verifykit/api/v1.0", self.base_url())
    }

    /// Stand-in for `https://api.verifik.co/v2`.
    pub fn verifik_url(&self) -> String {
        format!("{}/verifik/v2", self.base_url())
    }

    /// Stand-in for `https://api.verigator.com/v1`.
    pub fn verigator_url(&self) -> String {
        format!("{}/verigator/v1", self.base_url())
    }

    /// Stand-in for `https://verify.twilio.com/v2` (HTTP Basic with
    /// [`TWILIO_ACCOUNT_SID`](crate::config::TWILIO_ACCOUNT_SID) and
    /// [`TWILIO_AUTH_TOKEN`](crate::config::TWILIO_AUTH_TOKEN), or the API key pair).
    pub fn twilio_url(&self) -> String {
        format!("{}/twilio/v2", self.base_url())
    }

    /// The control API, `http://127.0.0.1:PORT/_sandbox`.
    pub fn control_url(&self) -> String {
        format!("{}/_sandbox", self.base_url())
    }

    /// The configuration the sandbox runs with (credentials included).
    pub fn config(&self) -> &SandboxConfig {
        &self.app.config
    }

    /// Messages sent to `recipient` (E.164 phone, any common spelling, or e-mail), newest first.
    pub fn messages(&self, recipient: &str) -> Vec<SentMessage> {
        control::messages_for(&self.app, Some(recipient))
    }

    /// Every sent message, newest first.
    pub fn all_messages(&self) -> Vec<SentMessage> {
        control::messages_for(&self.app, None)
    }

    /// The code of the newest message to `recipient` that carries one.
    pub fn latest_code(&self, recipient: &str) -> Option<String> {
        self.messages(recipient).into_iter().find_map(|m| m.code)
    }

    /// The current sandbox time.
    pub fn now(&self) -> OffsetDateTime {
        self.app.common.now()
    }

    /// The sandbox clock as a provider client's clock
    /// ([`HttpConfig::with_clock`](phone_verify_core::http::HttpConfig::with_clock)): a
    /// verifier on it tells expiry, and the dates an answer leaves out, by the sandbox's time,
    /// which [`advance_clock`](Self::advance_clock) moves, as a verifier in production tells
    /// them by a clock close to the provider's. Sleeps are real (Tokio's). It reads the clock
    /// of this sandbox's state, and keeps it alive, after a shutdown too.
    pub fn clock(&self) -> Arc<dyn phone_verify_core::http::Clock> {
        Arc::new(SandboxTime(Arc::clone(&self.app.common)))
    }

    /// Moves the sandbox clock forward; every expiry and TOTP code follows it.
    pub fn advance_clock(&self, by: Duration) {
        control::advance(&self.app, by);
    }

    /// Queues a fault for the next matching requests.
    ///
    /// # Panics
    ///
    /// If the sandbox cannot honour the fault ([`Fault::check`]: `times` of 0, or a status
    /// outside 200 to 599), or 10,000 faults are pending already, which the control API
    /// refuses with 400. A fault made from data
    /// (a provider's documented error, say) is better queued with
    /// [`try_inject_fault`](Self::try_inject_fault).
    pub fn inject_fault(&self, fault: Fault) {
        if let Err(error) = self.try_inject_fault(fault) {
            panic!("fault not injected: {error}");
        }
    }

    /// Queues a fault for the next matching requests, if the sandbox can honour it; else
    /// queues nothing and returns [`Fault::check`]'s error (`times` of 0, or a status outside
    /// 200 to 599), or the error for 10,000 faults pending already, as the control API
    /// answers 400.
    pub fn try_inject_fault(&self, fault: Fault) -> Result<(), ControlError> {
        fault.check()?;
        self.app.common.push_fault(fault)
    }

    /// Drops every pending fault.
    pub fn clear_faults(&self) {
        self.app.common.clear_faults();
    }

    /// Removes the pending faults `provider`'s requests may take (its own, and those that name
    /// no provider) and returns them, in one step: the other providers' stay queued, with the
    /// uses they have left and in their order, and a request in flight meanwhile meets either
    /// the fault or its absence, never a fault counted twice. For a harness that tells whether
    /// its own faults were used on a sandbox it shares.
    pub fn take_faults_for(&self, provider: Provider) -> Vec<Fault> {
        self.app.common.take_faults_for(provider)
    }

    /// Faults not used up yet.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.app.common.pending_faults()
    }

    /// The newest requests that reached a provider (at most
    /// [`SandboxConfig::request_log_capacity`]), with exact counts per `"METHOD path"`.
    pub fn requests(&self) -> RequestLog {
        control::request_log(&self.app, None)
    }

    /// [`requests`](Self::requests) of one provider only.
    pub fn requests_of(&self, provider: Provider) -> RequestLog {
        control::request_log(&self.app, Some(provider))
    }

    /// How many `method` requests to `provider`'s `path` (e.g. `/v1.0/send-otp`) arrived,
    /// including those answered by an injected fault. Counted by path while the provider has
    /// fewer than 10,000 distinct ones, each cut to 256 bytes; past that, new paths are counted
    /// under their route's pattern, and requests that matched no route under
    /// [`RequestLog::UNMATCHED`](crate::RequestLog::UNMATCHED): for those, this is 0.
    pub fn request_count(&self, provider: Provider, method: &str, path: &str) -> usize {
        self.app.common.request_count(provider, method, path)
    }

    /// Completes a VerifyKit WhatsApp/Telegram flow as if `phone` had sent the message;
    /// returns the session id that `check` then reports.
    pub fn complete_reverse_flow(
        &self,
        reference: &str,
        phone: &str,
    ) -> Result<String, ControlError> {
        verifykit::complete_reverse_flow(&self.app.verifykit, reference, phone)
    }

    /// Completes a VerifyKit e-mail flow as if `email` had sent the verification e-mail.
    pub fn complete_email_flow(&self, reference: &str, email: &str) -> Result<(), ControlError> {
        verifykit::complete_email_flow(&self.app.verifykit, reference, email)
    }

    /// Sets a provider's credits (`None` = unlimited). Verigator has no balance and ignores it.
    pub fn set_balance(&self, provider: Provider, credits: Option<u64>) {
        self.app.common.set_balance(provider, credits);
    }

    /// A provider's remaining credits (`None` = unlimited).
    pub fn balance(&self, provider: Provider) -> Option<u64> {
        self.app.common.balance(provider)
    }

    /// Makes `phone` a test number: every provider sends it `code` instead of a random one.
    /// Refused past 10,000 test numbers (the control API answers 400 so too).
    pub fn add_test_number(&self, phone: &str, code: &str) -> Result<(), ControlError> {
        control::store_test_number(&self.app, phone, code).map(|_| ())
    }

    /// Removes a test number; false if it was not one.
    pub fn remove_test_number(&self, phone: &str) -> bool {
        let phone = crate::phone::normalize_query_phone(phone);
        self.app.common.remove_test_number(&phone)
    }

    /// Enrols a Verigator user in the authenticator app (TOTP: SHA1, 6 digits, 30 s).
    pub fn enroll_totp(
        &self,
        service_id: &str,
        user_id: &str,
    ) -> Result<TotpEnrollment, ControlError> {
        verigator::enroll_totp(&self.app.verigator, service_id, user_id)
    }

    /// Registers many users of Verigator service `service_id` at once, each an
    /// (`id_in_service`, phone) pair, as if created through the API (for tests and benchmarks
    /// with large services); returns their user ids in order. Fails, registering none, if the
    /// service does not exist, an `id_in_service` is taken, repeated or over 256 bytes, or
    /// there are more than 200,000 users.
    pub fn seed_verigator_users(
        &self,
        service_id: &str,
        users: impl IntoIterator<Item = (String, phone_verify_core::PhoneNumber)>,
    ) -> Result<Vec<String>, ControlError> {
        verigator::seed_users(&self.app.verigator, service_id, users)
    }

    /// The enrolled Verigator user's current TOTP code (sandbox clock).
    pub fn totp_code(&self, service_id: &str, user_id: &str) -> Result<String, ControlError> {
        verigator::totp_code(&self.app.verigator, service_id, user_id).map(|(code, _)| code)
    }

    /// Forgets everything (flows, messages, log, faults, tokens, services …) and starts over
    /// from the configuration, clock included.
    pub fn reset(&self) {
        self.app.reset();
    }

    /// Stops the server and waits until it has closed its listener and connections.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// [`SandboxHandle::clock`]: the sandbox's time, read from its shared state.
struct SandboxTime(Arc<Common>);

impl std::fmt::Debug for SandboxTime {
    /// The time alone: the shared state holds every message (codes, numbers) and request.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxClock")
            .field("now", &self.0.now())
            .finish()
    }
}

impl phone_verify_core::http::Clock for SandboxTime {
    fn now(&self) -> SystemTime {
        self.0.now().into()
    }

    fn sleep(&self, duration: Duration) -> phone_verify_core::http::Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_clock_a_verifier_takes_follows_the_sandbox_and_its_reset() {
        let sandbox = crate::Sandbox::start(SandboxConfig::default())
            .await
            .unwrap();
        let clock = sandbox.clock();
        let at =
            |clock: &Arc<dyn phone_verify_core::http::Clock>| OffsetDateTime::from(clock.now());
        assert!((at(&clock) - sandbox.now()).abs() < time::Duration::seconds(1));
        sandbox.advance_clock(Duration::from_secs(3600));
        let ahead = at(&clock) - OffsetDateTime::now_utc();
        assert!(ahead >= time::Duration::minutes(59), "{ahead}");
        assert!((at(&clock) - sandbox.now()).abs() < time::Duration::seconds(1));
        sandbox.reset();
        assert!((at(&clock) - OffsetDateTime::now_utc()).abs() < time::Duration::seconds(1));
        // Its `Debug` shows the time, never the state it reads it from (codes, numbers).
        let shown = format!("{clock:?}");
        assert!(shown.starts_with("SandboxClock { now: "), "{shown}");
        assert!(!shown.contains("outbox") && shown.len() < 100, "{shown}");
        // Sleeps are real.
        let before = std::time::Instant::now();
        clock.sleep(Duration::from_millis(20)).await;
        assert!(before.elapsed() >= Duration::from_millis(20));
    }

    #[tokio::test]
    async fn a_bad_test_number_is_refused_before_anything_is_bound() {
        for (phone, code) in [
            ("+90 532 123 45 67", "12"),
            ("+90 532 123 45 67", "abcdef"),
            ("0532 123 45 67", "123456"),
            ("+90 532", "123456"),
        ] {
            let config = SandboxConfig {
                test_numbers: vec![
                    ("+905320000000".into(), "123456".into()),
                    (phone.into(), code.into()),
                ],
                ..SandboxConfig::default()
            };
            let error = Sandbox::start(config).await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{phone} {code}");
            let message = error.to_string();
            assert!(message.contains("test number"), "{message}");
            assert!(!message.contains("123 45 67"), "masked: {message}");
        }
        let good = SandboxConfig {
            test_numbers: vec![(" +90 532 000 00 00 ".into(), " 123456 ".into())],
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(good).await.unwrap();
        assert_eq!(
            sandbox.app.common.test_code("+905320000000").as_deref(),
            Some("123456")
        );
    }

    /// `shutdown` returns once the listener is closed: a new connection is refused at once.
    #[tokio::test]
    async fn shutdown_closes_the_listener_before_it_returns() {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let address = sandbox.addr();
        tokio::net::TcpStream::connect(address)
            .await
            .expect("listening");
        sandbox.shutdown().await;
        assert!(tokio::net::TcpStream::connect(address).await.is_err());
    }

    /// Dropping the handle stops the server: its port is soon refused. (The bound only turns
    /// a server that never stops into a failure.)
    #[tokio::test]
    async fn dropping_the_handle_stops_the_server() {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let address = sandbox.addr();
        drop(sandbox);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(address).await.is_ok() {
            assert!(std::time::Instant::now() < deadline, "still listening");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `config` is the configuration the sandbox was started with, not a default one.
    #[tokio::test]
    async fn the_config_is_the_one_it_runs_with() {
        let config = SandboxConfig {
            verifykit_server_key: "handle-test-key".into(),
            verigator_max_attempts: 7,
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(config).await.unwrap();
        assert_eq!(sandbox.config().verifykit_server_key, "handle-test-key");
        assert_eq!(sandbox.config().verigator_max_attempts, 7);
    }

    /// Holds VerifyKit's lock on the test's own thread (never on a runtime worker: a worker
    /// blocked on a lock can strand the tasks queued behind it) and shows that Verigator is
    /// served and logged meanwhile, then that VerifyKit is served once the lock is free.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(
        clippy::await_holding_lock,
        reason = "holding VerifyKit's lock across a request is the point: it stands for a busy VerifyKit"
    )]
    async fn a_provider_holding_its_lock_does_not_block_another_provider() {
        let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let http = reqwest::Client::new();
        {
            let _busy_verifykit = sb.app.verifykit.lock();
            // The bound only turns a deadlock into a failure; it is not a timing assertion.
            let verigator = tokio::time::timeout(
                Duration::from_secs(60),
                http.post(format!("{}/service/service", sb.verigator_url()))
                    .header("X-Service-Auth", "sandbox:sandbox")
                    .json(&serde_json::json!({"fqdn": "example.com", "name": "Example"}))
                    .send(),
            )
            .await
            .expect("Verigator waited for VerifyKit's lock")
            .unwrap();
            assert_eq!(verigator.status(), 201);
            let verigator_only = sb.requests_of(Provider::Verigator);
            assert_eq!(verigator_only.requests.len(), 1);
            assert_eq!(verigator_only.counts["POST /v1/service/service"], 1);
        }
        let verifykit = http
            .post(format!("{}/send-otp", sb.verifykit_web_rest_url()))
            .header("X-Vfk-Server-Key", "sandbox-server-key")
            .header("X-Vfk-Forwarded-For", "127.0.0.1")
            .json(&serde_json::json!({"phoneNumber": "+905321234567", "countryCode": "TR"}))
            .send()
            .await
            .unwrap();
        assert_eq!(verifykit.status(), 201);
        assert_eq!(
            sb.request_count(Provider::VerifyKit, "POST", "/v1.0/send-otp"),
            1
        );
        assert_eq!(sb.messages("+905321234567").len(), 1);
        assert!(
            !sb.requests_of(Provider::Verigator)
                .counts
                .contains_key("POST /v1.0/send-otp")
        );
    }
}
