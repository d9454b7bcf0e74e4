//! Checks and readings of VerifyKit requests: the server key and rate limit, active methods and
//! the language.

use std::collections::VecDeque;
use std::net::IpAddr;

use super::error::VkError;
use super::slot::VerifyKitSlot as State;
use super::state::window_start;
use crate::body::Input;
use crate::config::SandboxConfig;
use crate::otp::constant_time_eq;
use crate::texts::Lang;

/// Checks the server key (`403038`) and the optional per-IP rate limit (`429001`).
pub(super) fn guard(
    state: &mut State,
    config: &SandboxConfig,
    input: &Input,
) -> Result<(), VkError> {
    let key_ok = input
        .header("x-vfk-server-key")
        .is_some_and(|key| constant_time_eq(key, &config.verifykit_server_key));
    if !key_ok {
        return Err(VkError::UNDEFINED_APPLICATION);
    }
    if let Some(limit) = config.verifykit_rate_limit {
        let now = state.now();
        // Counted per end-user IP; a request without one (the api host does not insist), or
        // with a header that is no IP address, counts under "-", so a key's size is bounded.
        let ip = input
            .header("x-vfk-forwarded-for")
            .and_then(|v| v.parse::<IpAddr>().ok())
            .map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        let hits = state.verifykit.hits.get_or_insert_with(ip, VecDeque::new);
        let cutoff = window_start(now, limit.window);
        if let Some(cutoff) = cutoff {
            while hits.front().is_some_and(|t| *t <= cutoff) {
                hits.pop_front();
            }
        }
        if hits.len() >= limit.max_requests as usize {
            let retry = match (hits.front(), cutoff) {
                (Some(first), Some(cutoff)) => (*first - cutoff).whole_seconds() + 1,
                _ => 3600,
            };
            return Err(VkError::rate_limited(retry));
        }
        hits.push_back(now);
    }
    Ok(())
}

/// Whether the validation type `method` is active in the configuration.
pub(super) fn method_active(config: &SandboxConfig, method: &str) -> bool {
    config
        .verifykit_methods
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// The `lang` of a request (body field or query parameter).
pub(super) fn lang(input: &Input) -> Lang {
    Lang::from_tag(input.str_or_query("lang").as_deref())
}
