//! `MultiHarness` hands each handle to its provider's harness, adds the counts up, injects
//! faults everywhere and moves the clock it is told to.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use phone_verify_core::{
    Capabilities, CheckOutcome, CheckRequest, ErrorKind, PhoneVerifier, Result, StartRequest,
};
use phone_verify_core::{Channel, Code, PhoneNumber, ProviderId, Verification};
use phone_verify_testkit::memory::{InMemoryHarness, InMemoryState, InMemoryVerifier};
use phone_verify_testkit::{
    Harness, HarnessError, HarnessResult, MultiHarness, RequestCounts, RequestTarget, SendFault,
    Status, async_trait, run,
};

/// A member that records what it was asked, answers with its name, and counts `n` requests.
struct Member {
    name: &'static str,
    channels: Vec<Channel>,
    n: u64,
    log: Arc<Mutex<Vec<String>>>,
    /// Cannot inject send faults.
    no_faults: bool,
}

impl Member {
    fn new(
        name: &'static str,
        channels: &[Channel],
        n: u64,
        log: &Arc<Mutex<Vec<String>>>,
    ) -> Self {
        Self {
            name,
            channels: channels.to_vec(),
            n,
            log: Arc::clone(log),
            no_faults: false,
        }
    }

    fn without_faults(mut self) -> Self {
        self.no_faults = true;
        self
    }

    fn note(&self, what: &str) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{what}", self.name));
    }
}

#[async_trait]
impl Harness for Member {
    async fn fresh_phone(&self) -> HarnessResult<PhoneNumber> {
        self.note("phone");
        Ok("+50760000001".parse().unwrap())
    }

    fn delivers_codes(&self, channel: &Channel) -> bool {
        self.channels.contains(channel)
    }

    async fn delivered_code(&self, _: &Verification) -> HarnessResult<Option<Code>> {
        self.note("code");
        Ok(Some(Code::new(if self.name == "a" {
            "1111"
        } else {
            "2222"
        })?))
    }

    /// Only `b` says a repeated check is harmless.
    fn repeat_check_harmless(&self, _: &Verification) -> bool {
        self.name == "b"
    }

    async fn advance_time(&self, by: Duration) -> HarnessResult<()> {
        self.note(&format!("time {}s", by.as_secs()));
        Ok(())
    }

    async fn request_counts(&self) -> HarnessResult<RequestCounts> {
        Ok(RequestCounts::new(self.n, self.n * 10))
    }

    /// One request, naming the member and the total it was asked about.
    async fn requests_since(&self, before: &RequestCounts) -> HarnessResult<Vec<RequestTarget>> {
        let path = format!("/{}/{}", self.name, before.total);
        Ok(vec![RequestTarget::new("GET", path)])
    }

    async fn inject_send_fault(&self, fault: SendFault) -> HarnessResult<()> {
        if self.no_faults {
            return Err(HarnessError::unsupported("send faults"));
        }
        self.note(&format!("fault {}", fault.name()));
        Ok(())
    }

    async fn clear_faults(&self) -> HarnessResult<()> {
        self.note("clear");
        Ok(())
    }
}

const A: ProviderId = ProviderId::new_static("a");
const B: ProviderId = ProviderId::new_static("b");

fn harness(log: &Arc<Mutex<Vec<String>>>) -> MultiHarness {
    MultiHarness::new()
        .member(A, Member::new("a", &[Channel::Sms], 1, log))
        .member(B, Member::new("b", &[Channel::Totp], 2, log))
}

fn taken(log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[tokio::test]
async fn handles_go_to_their_providers_harness() {
    let log = Arc::default();
    let multi = harness(&log);
    assert_eq!(multi.handle_providers(), Some(vec![A, B]));
    let of_b = Verification::new(B, "ref", Channel::Totp);
    assert_eq!(
        multi.delivered_code(&of_b).await.unwrap().unwrap().expose(),
        "2222"
    );
    // The default wrong code is derived from the member's delivered code.
    assert_eq!(multi.wrong_code(&of_b).await.unwrap().expose(), "3333");
    assert_eq!(taken(&log), ["b:code", "b:code"]);

    let foreign = Verification::new(InMemoryVerifier::PROVIDER, "ref", Channel::Sms);
    let err = multi.delivered_code(&foreign).await.unwrap_err();
    assert!(
        matches!(err, HarnessError::Failed(ref m) if m.contains("provider memory")),
        "{err}"
    );
    // Whether a repeated check is harmless: the handle's member says.
    let of_a = Verification::new(A, "ref", Channel::WhatsApp);
    assert!(multi.repeat_check_harmless(&of_b));
    assert!(!multi.repeat_check_harmless(&of_a));
    assert!(!multi.repeat_check_harmless(&foreign));
    // Reverse flows: the members here cannot complete them.
    let phone: PhoneNumber = "+50760000002".parse().unwrap();
    assert!(matches!(
        multi.complete_reverse_flow(&of_a, &phone).await,
        Err(HarnessError::Unsupported(_))
    ));
}

#[tokio::test]
async fn counts_add_up_and_faults_reach_every_member() {
    let log = Arc::default();
    let multi = harness(&log);
    // In all, and each member's own.
    assert_eq!(
        multi.request_counts().await.unwrap(),
        RequestCounts::new(3, 30)
            .with_provider(A, RequestCounts::new(1, 10))
            .with_provider(B, RequestCounts::new(2, 20))
    );
    multi
        .inject_send_fault(SendFault::ServiceUnavailable)
        .await
        .unwrap();
    multi.clear_faults().await.unwrap();
    assert_eq!(
        taken(&log),
        ["a:fault 503", "b:fault 503", "a:clear", "b:clear"]
    );
    assert!(multi.delivers_codes(&Channel::Sms) && multi.delivers_codes(&Channel::Totp));
    assert!(!multi.delivers_codes(&Channel::Voice));
}

#[tokio::test]
async fn phones_and_time_come_from_the_chosen_members() {
    let log = Arc::default();
    let multi = harness(&log);
    multi.fresh_phone().await.unwrap();
    multi.advance_time(Duration::from_secs(60)).await.unwrap();
    assert_eq!(taken(&log), ["a:phone", "a:time 60s", "b:time 60s"]);

    let multi = harness(&log).phones_from(B).clock_from(B);
    multi.fresh_phone().await.unwrap();
    multi.advance_time(Duration::from_secs(5)).await.unwrap();
    assert_eq!(taken(&log), ["b:phone", "b:time 5s"]);

    assert!(matches!(
        multi.fresh_verifier().await,
        Err(HarnessError::Unsupported(_))
    ));
    let fresh = harness(&log).with_fresh_verifier(|| Arc::new(InMemoryVerifier::new()));
    assert_eq!(
        fresh.fresh_verifier().await.unwrap().provider(),
        InMemoryVerifier::PROVIDER
    );
}

#[tokio::test]
async fn a_send_fault_one_member_cannot_take_is_cleared_from_the_others() {
    let log = Arc::default();
    let multi = MultiHarness::new()
        .member(A, Member::new("a", &[Channel::Sms], 1, &log))
        .member(
            B,
            Member::new("b", &[Channel::Sms], 1, &log).without_faults(),
        )
        .member(
            ProviderId::new_static("c"),
            Member::new("c", &[Channel::Sms], 1, &log),
        );
    let err = multi
        .inject_send_fault(SendFault::ConnectionReset)
        .await
        .unwrap_err();
    assert!(matches!(err, HarnessError::Unsupported(_)), "{err}");
    // `a` was armed, then cleared; `c` was never reached.
    assert_eq!(taken(&log), ["a:fault reset", "a:clear"]);
}

#[tokio::test]
async fn each_members_requests_are_listed_since_its_own_counts() {
    let log = Arc::default();
    let multi = harness(&log);
    let before = multi.request_counts().await.unwrap();
    assert_eq!(
        multi.requests_since(&before).await.unwrap(),
        [
            RequestTarget::new("GET", "/a/10"),
            RequestTarget::new("GET", "/b/20")
        ]
    );
    // Counts of another harness hold no member's own.
    let err = multi
        .requests_since(&RequestCounts::new(3, 30))
        .await
        .unwrap_err();
    assert!(
        matches!(err, HarnessError::Failed(ref m) if m.contains("no entry for member a")),
        "{err}"
    );
}

const SMS_A: ProviderId = ProviderId::new_static("sms-a");
const SMS_B: ProviderId = ProviderId::new_static("sms-b");

/// Two in-memory providers behind one id, as a router with one rule over two routes: a start
/// refused before processing (`ProviderUnavailable`) goes to the second, or, with `again`, to
/// the first once more; handles name the provider that sent the code.
#[derive(Debug)]
struct FailsOver {
    first: InMemoryVerifier,
    second: InMemoryVerifier,
    again: bool,
}

impl FailsOver {
    async fn start_at(&self, provider: ProviderId, request: &StartRequest) -> Result<Verification> {
        let inner = if provider == SMS_A {
            &self.first
        } else {
            &self.second
        };
        let mut handle = inner.start(request).await?;
        handle.provider = provider;
        Ok(handle)
    }
}

#[async_trait]
impl PhoneVerifier for FailsOver {
    fn provider(&self) -> ProviderId {
        ProviderId::new_static("fails-over")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_otp_channel(Channel::Sms)
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        match self.start_at(SMS_A, request).await {
            Err(err) if err.kind() == ErrorKind::ProviderUnavailable => {
                let next = if self.again { SMS_A } else { SMS_B };
                self.start_at(next, request).await
            }
            started => started,
        }
    }

    async fn check(&self, handle: &Verification, request: &CheckRequest) -> Result<CheckOutcome> {
        let inner = if handle.provider == SMS_B {
            &self.second
        } else {
            handle.ensure_provider(&SMS_A)?;
            &self.first
        };
        let mut handle = handle.clone();
        handle.provider = InMemoryVerifier::PROVIDER;
        inner.check(&handle, request).await
    }
}

/// `send.not_retried_after_503[sms]` of a [`FailsOver`] verifier under a `MultiHarness`.
async fn refused_send_check(again: bool) -> (Status, Option<String>) {
    let (a, b) = (InMemoryState::seeded(31), InMemoryState::seeded(32));
    let verifier = FailsOver {
        first: InMemoryVerifier::with_state(a.clone()),
        second: InMemoryVerifier::with_state(b.clone()),
        again,
    };
    let harness = MultiHarness::new()
        .member(SMS_A, InMemoryHarness::for_state(a))
        .member(SMS_B, InMemoryHarness::for_state(b));
    let report = run(&verifier, None, &harness).await;
    let result = report.get("send.not_retried_after_503[sms]").unwrap();
    (result.status, result.detail.clone())
}

#[tokio::test]
async fn a_refused_send_may_go_to_each_provider_once_never_to_one_twice() {
    // Refused before processing by the first, then by the second: one send each, right.
    assert_eq!(refused_send_check(false).await, (Status::Passed, None));
    // Sent to the first again: a retried send.
    let (status, detail) = refused_send_check(true).await;
    assert_eq!(status, Status::Failed);
    assert!(
        detail.as_deref().is_some_and(|d| d.starts_with(
            "provider sms-a received 2 send requests, expected at most 1: a failed send must \
             never be retried"
        )),
        "{detail:?}"
    );
}
