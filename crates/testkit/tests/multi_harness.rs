//! `MultiHarness` hands each handle to its provider's harness, adds the counts up, injects
//! faults everywhere and moves the clock it is told to.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use phone_verify_core::{Channel, Code, PhoneNumber, ProviderId, Verification};
use phone_verify_testkit::memory::InMemoryVerifier;
use phone_verify_testkit::{
    Harness, HarnessError, HarnessResult, MultiHarness, RequestCounts, SendFault, async_trait,
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
    assert_eq!(
        multi.request_counts().await.unwrap(),
        RequestCounts::new(3, 30)
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
