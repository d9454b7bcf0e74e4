//! `LogCapture` with a subscriber installed. Its own test binary: `tracing` caches callsite
//! interest for the whole process.

use phone_verify_testkit::logs::LogCapture;
use tracing::Level;

#[test]
fn records_the_level_asked_for_and_nothing_below() {
    let capture = LogCapture::new();
    {
        let _default = capture.set_default(Level::INFO);
        tracing::info!(route = "first", "trying the next route");
        tracing::debug!("not recorded");
    }
    tracing::warn!("after the guard dropped");
    let text = capture.text();
    assert!(text.contains("trying the next route"), "{text}");
    assert!(text.contains("route=\"first\""), "{text}");
    assert!(!text.contains("not recorded"), "{text}");
    assert!(!text.contains("after the guard"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colours: {text:?}");
}
