//! `guard status PHONE|IP`: the counters of the `--guard` rules for a phone or an IP.

use std::net::IpAddr;

use phone_verify::guard::{RuleStatus, StoreKind, Subject};
use phone_verify::{
    Capabilities, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneNumber, PhoneVerifier,
    ProviderId, StartRequest, Verification,
};

use crate::args::GuardStatusArgs;
use crate::exit::{Failure, Outcome, SUCCESS};
use crate::target::Context;

/// Prints the counters of `args.subject`: a table, or JSON with `--json`.
pub(crate) async fn status(ctx: &mut Context, args: GuardStatusArgs) -> Outcome {
    let settings = ctx.guard.take().ok_or_else(|| {
        Failure::usage("guard status needs the guard's rules: --guard guard.toml")
    })?;
    // Shown as it was parsed (a phone masked): `Subject` may grow, so it is not matched again.
    let (subject, shown) = if let Ok(ip) = args.subject.trim().parse::<IpAddr>() {
        (Subject::Ip(ip), ip.to_string())
    } else {
        let phone = PhoneNumber::parse(&args.subject).map_err(|e| {
            Failure::usage(format!(
                "{:?} is neither an IP address nor a phone number: {e}",
                args.subject
            ))
        })?;
        let shown = phone.masked();
        (Subject::Phone(phone), shown)
    };
    if settings.store == StoreKind::Memory {
        errln!(
            "phone-verify: warning: a memory store's counters live inside the process that \
             counts them, so this one's are empty; store = \"redis\" shares them"
        );
    }
    let guard = settings
        .build(std::sync::Arc::new(CountersOnly), None)
        .await?;
    let counters = guard.status(&subject).await?;
    if ctx.json {
        let rules: Vec<serde_json::Value> = counters.iter().map(to_json).collect();
        let doc =
            serde_json::json!({ "subject": shown, "store": settings.store, "counters": rules });
        outjson!("{doc}");
    } else {
        outln!("guard counters of {shown} ({:?} store)", settings.store);
        outln!("  {:<30} {:>7} {:>7}  resets in", "rule", "count", "max");
        for c in &counters {
            let resets = c
                .resets_in
                .map_or_else(|| "-".to_owned(), |d| format!("{}s", d.as_secs()));
            outln!(
                "  {:<30} {:>7} {:>7}  {resets}",
                c.rule.as_str(),
                c.count,
                c.max
            );
        }
    }
    Ok(SUCCESS)
}

fn to_json(status: &RuleStatus) -> serde_json::Value {
    serde_json::json!({
        "rule": status.rule.as_str(),
        "count": status.count,
        "max": status.max,
        "resets_in_secs": status.resets_in.map(|d| d.as_secs()),
    })
}

/// What the guard of `guard status` wraps: that command only reads the shared counters, so
/// it builds no provider (no credentials needed, no sandbox service created) and sends nothing.
#[derive(Debug)]
struct CountersOnly;

impl CountersOnly {
    fn refused() -> Error {
        Error::new(ErrorKind::Unsupported, "guard status sends nothing")
    }
}

#[phone_verify::async_trait]
impl PhoneVerifier for CountersOnly {
    fn provider(&self) -> ProviderId {
        ProviderId::new_static("guard-status")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    async fn start(&self, _request: &StartRequest) -> phone_verify::Result<Verification> {
        Err(Self::refused())
    }

    async fn check(
        &self,
        _verification: &Verification,
        _request: &CheckRequest,
    ) -> phone_verify::Result<CheckOutcome> {
        Err(Self::refused())
    }
}
