//! [`reqwest_builder`]: the `reqwest` settings of the clients phone-verify builds, for a client
//! of the application's own.

use std::time::Duration;

use super::{HttpConfig, Timeouts};

/// The `reqwest` settings of the clients phone-verify builds from `config`: its connect
/// timeout, held under nine tenths of its attempt and overall timeouts ([`Timeouts::connect`]),
/// its user agent, no redirects, and no retries inside reqwest. Every attempt is the SDK's,
/// under its retry policy; reqwest's default policy would also resend an HTTP/2 request the
/// server refused unprocessed, keeping a copy of every request to do so. Start from it to give
/// a provider builder a client of your own
/// ([`ConfigureHttp::reqwest_client`](super::ConfigureHttp::reqwest_client): a proxy, custom
/// roots, a shared pool).
///
/// ```
/// use phone_verify_core::http::{HttpConfig, reqwest_builder};
///
/// let shared = reqwest_builder(&HttpConfig::default()).build()?;
/// # let _ = shared;
/// # Ok::<(), phone_verify_core::reqwest::Error>(())
/// ```
pub fn reqwest_builder(config: &HttpConfig) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout(&config.timeouts))
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .user_agent(config.user_agent.clone())
        .pool_idle_timeout(Duration::from_secs(60))
}

/// The connect timeout of the clients built from `timeouts`: `connect`, but at most nine tenths
/// of `attempt` and of `overall`, so that a connection that cannot be made (DNS, TCP, TLS) ends
/// with reqwest's connect error, known to have sent nothing, before the attempt's deadline,
/// which would leave a send's or a code check's outcome unknown.
fn connect_timeout(timeouts: &Timeouts) -> Duration {
    let share = |timeout: Duration| timeout / 10 * 9;
    timeouts
        .connect
        .min(share(timeouts.attempt))
        .min(share(timeouts.overall))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connect_timeout_stays_under_the_attempt_and_overall_ones() {
        let second = Duration::from_secs(1);
        let timeouts = Timeouts::default();
        assert_eq!(connect_timeout(&timeouts), 5 * second);
        let short = timeouts.with_attempt(3 * second);
        assert_eq!(connect_timeout(&short), Duration::from_millis(2700));
        let shorter = short.with_overall(second);
        assert_eq!(connect_timeout(&shorter), Duration::from_millis(900));
        // Timeouts too long to multiply are not a panic.
        let endless = Timeouts::default()
            .with_attempt(Duration::MAX)
            .with_overall(Duration::MAX);
        assert_eq!(connect_timeout(&endless), 5 * second);
    }
}
