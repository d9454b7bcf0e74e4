//! What the visitor reads when something did not work: SDK errors and rejections turned into
//! clear messages (the guard's denials with their retry-after countdown).

use std::time::Duration;

use phone_verify::guard::{Denial, Rule};
use phone_verify::{Error, ErrorKind, RejectReason, Rejection};

use crate::session::Notice;

/// The message for a failed `start` or `check`.
pub fn for_error(err: &Error) -> Notice {
    // The guard's store failing (sends refused, fail closed) is an outage, not the visitor's
    // doing: it reads as one, below.
    if let Some(denial) = Denial::of(err)
        && denial.rule != Rule::Store
    {
        return for_denial(denial, err);
    }
    let text = match err.kind() {
        ErrorKind::InvalidInput => format!("Please check what you entered: {}.", err.message()),
        ErrorKind::Unsupported => format!("That is not possible here: {}.", err.message()),
        ErrorKind::Blocked => "We cannot send a code to this number.".to_owned(),
        ErrorKind::RateLimited => {
            "Too many requests. Please wait a moment and try again.".to_owned()
        }
        ErrorKind::MaybeSent => {
            "We could not tell whether that worked. Please try again.".to_owned()
        }
        ErrorKind::OutcomeUnknown => "We could not tell whether that code was right, and it \
                                      cannot be checked again. Please ask for a new code."
            .to_owned(),
        _ => "The verification service is not available right now. Please try again later."
            .to_owned(),
    };
    Notice {
        retry_after: retry_secs(err),
        ..Notice::error(text)
    }
}

/// The message for a code check whose previous check was cut short (its visitor closed the
/// connection): as for a lost answer ([`ErrorKind::OutcomeUnknown`]), the code may have been
/// used, and it is not checked again.
pub fn check_cut_short() -> Notice {
    Notice::error(
        "Your last check of this code was interrupted, and the code may have been used: it \
         cannot be checked again. Please ask for a new code.",
    )
}

/// The message for a failed send of a code to a phone: as [`for_error`], except when the
/// code may have gone out ([`ErrorKind::MaybeSent`]). That code cannot be used (no handle came
/// back to check it with), and a new send waits for the guard's resend `cooldown`, which the
/// lost send started: the notice counts it down.
pub fn for_code_send_error(err: &Error, cooldown: Option<Duration>) -> Notice {
    if err.kind() != ErrorKind::MaybeSent {
        return for_error(err);
    }
    let text = if cooldown.is_some() {
        "A code may have reached your phone but cannot be used here. Ask for a new one when the \
         countdown ends, and use only the newest."
    } else {
        "A code may have reached your phone but cannot be used here. Ask for a new one, and use \
         only the newest."
    };
    Notice {
        retry_after: cooldown
            .map(|d| d.as_secs().max(1))
            .or_else(|| retry_secs(err)),
        ..Notice::error(text)
    }
}

fn for_denial(denial: &Denial, err: &Error) -> Notice {
    let text = match denial.rule {
        Rule::ResendCooldown => "We just sent a code to this number. You can ask for a new one \
                                 when the countdown ends."
            .to_owned(),
        Rule::Region => "We do not send codes to numbers of this country.".to_owned(),
        Rule::NumberType => "We do not send codes to this kind of number.".to_owned(),
        Rule::WrongCodesPerPhone => {
            "Too many wrong codes for this number. Please try again later.".to_owned()
        }
        _ => "Too many verification requests. Please try again later.".to_owned(),
    };
    Notice {
        level: "warning",
        text,
        retry_after: denial
            .retry_after
            .map(|d| d.as_secs().max(1))
            .or_else(|| retry_secs(err)),
    }
}

fn retry_secs(err: &Error) -> Option<u64> {
    err.retry_after().map(|d| d.as_secs().max(1))
}

/// The message for a rejected code, and whether the same verification can still succeed.
pub fn for_rejection(rejection: &Rejection) -> (Notice, bool) {
    match rejection.reason {
        RejectReason::WrongCode => (
            Notice::error("That code is not right. Check the message and try again."),
            true,
        ),
        RejectReason::Expired => (
            Notice::error("This code has expired. Ask for a new one."),
            false,
        ),
        RejectReason::TooManyAttempts => (
            Notice::error("Too many wrong codes. Ask for a new one."),
            false,
        ),
        _ => (
            Notice::error("This verification is no longer pending. Please start again."),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_say_what_happened_and_whether_to_retry() {
        let (wrong, retry) = for_rejection(&Rejection::new(RejectReason::WrongCode));
        assert!(retry);
        assert!(wrong.text.contains("not right"));
        let (expired, retry) = for_rejection(&Rejection::new(RejectReason::Expired));
        assert!(!retry);
        assert!(expired.text.contains("expired"));
        let (locked, retry) = for_rejection(&Rejection::new(RejectReason::TooManyAttempts));
        assert!(!retry);
        assert!(locked.text.contains("Too many wrong codes"));
        let (gone, _) = for_rejection(&Rejection::new(RejectReason::NotFound));
        assert!(gone.text.contains("no longer pending"));
    }

    #[test]
    fn a_code_that_may_have_been_sent_is_not_offered_and_the_cooldown_is_counted_down() {
        let cooldown = Some(std::time::Duration::from_secs(30));
        let err = Error::new(ErrorKind::MaybeSent, "the answer was lost");
        let notice = for_code_send_error(&err, cooldown);
        assert_eq!(notice.retry_after, Some(30));
        assert!(
            notice.text.contains("cannot be used here"),
            "{}",
            notice.text
        );
        assert!(notice.text.contains("countdown"), "{}", notice.text);
        let without = for_code_send_error(&err, None);
        assert_eq!(without.retry_after, None);
        assert!(!without.text.contains("countdown"), "{}", without.text);
        // Any other error reads as it does everywhere.
        let invalid = Error::new(ErrorKind::InvalidInput, "bad phone");
        assert_eq!(for_code_send_error(&invalid, cooldown), for_error(&invalid));
    }

    #[test]
    fn a_guard_store_failure_reads_as_an_outage_not_as_too_many_requests() {
        let denial = Denial::new(Rule::Store, None);
        let err = Error::new(ErrorKind::ProviderUnavailable, "guard rule store: down")
            .with_source(denial);
        let notice = for_error(&err);
        assert!(!notice.text.contains("Too many"), "{}", notice.text);
        let outage = for_error(&Error::new(ErrorKind::ProviderUnavailable, "provider down"));
        assert_eq!(notice, outage);
    }

    #[test]
    fn errors_keep_their_retry_after() {
        let err = Error::new(ErrorKind::RateLimited, "slow down")
            .with_retry_after(std::time::Duration::from_secs(42));
        let notice = for_error(&err);
        assert_eq!(notice.retry_after, Some(42));
        assert_eq!(notice.level, "error");
        let invalid = for_error(&Error::new(ErrorKind::InvalidInput, "bad phone"));
        assert!(invalid.text.contains("bad phone"));
        assert_eq!(invalid.retry_after, None);
    }
}
