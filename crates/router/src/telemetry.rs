//! Metrics through the `metrics` facade (feature `metrics`); without it, these do nothing.
//!
//! Names: `phone_verify_router_started_total`, `_verified_total`, `_rejected_total` (label
//! `reason`), `_failed_over_total` (label `reason`: the error kind, e.g. `quota_exhausted`), `_circuit_opened_total`,
//! and the histogram `phone_verify_router_call_seconds` (label `operation`). Every series has
//! the labels `route`, `provider` and, where known, `channel` (a channel this version has no
//! name for is `other`: a handle's channel is any string, and must not make new series);
//! never a phone.

use std::time::Duration;

use phone_verify_core::Channel;

/// The `channel` label of `channel`: its name, or `other` for a channel without one here.
pub(crate) fn channel_label(channel: &Channel) -> &str {
    match channel {
        Channel::Other(_) => "other",
        known => known.as_str(),
    }
}

/// Labels of one route call.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) struct Labels<'a> {
    pub(crate) route: &'a str,
    pub(crate) provider: &'a str,
    pub(crate) channel: &'a str,
}

#[cfg(feature = "metrics")]
mod imp {
    use super::{Duration, Labels};

    fn base(l: Labels<'_>) -> Vec<(&'static str, String)> {
        vec![
            ("route", l.route.to_owned()),
            ("provider", l.provider.to_owned()),
            ("channel", l.channel.to_owned()),
        ]
    }

    fn with(l: Labels<'_>, key: &'static str, value: &str) -> Vec<(&'static str, String)> {
        let mut labels = base(l);
        labels.push((key, value.to_owned()));
        labels
    }

    pub(crate) fn started(l: Labels<'_>) {
        metrics::counter!("phone_verify_router_started_total", &base(l)).increment(1);
    }
    pub(crate) fn verified(l: Labels<'_>) {
        metrics::counter!("phone_verify_router_verified_total", &base(l)).increment(1);
    }
    pub(crate) fn rejected(l: Labels<'_>, reason: &str) {
        let labels = with(l, "reason", reason);
        metrics::counter!("phone_verify_router_rejected_total", &labels).increment(1);
    }
    pub(crate) fn failed_over(l: Labels<'_>, reason: &str) {
        let labels = with(l, "reason", &reason.replace(' ', "_"));
        metrics::counter!("phone_verify_router_failed_over_total", &labels).increment(1);
    }
    pub(crate) fn circuit_opened(l: Labels<'_>) {
        metrics::counter!("phone_verify_router_circuit_opened_total", &base(l)).increment(1);
    }
    pub(crate) fn latency(l: Labels<'_>, operation: &str, took: Duration) {
        let labels = with(l, "operation", operation);
        metrics::histogram!("phone_verify_router_call_seconds", &labels).record(took.as_secs_f64());
    }
}

#[cfg(not(feature = "metrics"))]
mod imp {
    use super::{Duration, Labels};

    pub(crate) fn started(_: Labels<'_>) {}
    pub(crate) fn verified(_: Labels<'_>) {}
    pub(crate) fn rejected(_: Labels<'_>, _: &str) {}
    pub(crate) fn failed_over(_: Labels<'_>, _: &str) {}
    pub(crate) fn circuit_opened(_: Labels<'_>) {}
    pub(crate) fn latency(_: Labels<'_>, _: &str, _: Duration) {}
}

pub(crate) use imp::{circuit_opened, failed_over, latency, rejected, started, verified};
