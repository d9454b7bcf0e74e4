//! The checks of the typed client's inputs, made before anything is sent, as the official SDK
//! makes them.

use phone_verify_core::{Language, PhoneNumber, Result, SessionId};

use super::options::MIN_WHATSAPP_MESSAGE_CHARS;
use crate::config::invalid;

/// VerifyKit's `lang`: the primary language subtag (`en`, `tr`, …).
pub(super) fn lang_tag(language: &Language) -> &str {
    language.primary()
}

pub(super) fn require_reference(reference: &str) -> Result<&str> {
    let reference = reference.trim();
    if reference.is_empty() {
        Err(invalid("the verification reference is empty"))
    } else {
        Ok(reference)
    }
}

/// An ISO 3166-1 alpha-2 code, upper-cased.
pub(super) fn require_country(country_code: &str) -> Result<String> {
    let code = country_code.trim();
    if code.is_empty() {
        return Err(invalid("the country code is empty"));
    }
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid(format!(
            "the country code {code:?} is not an ISO 3166-1 alpha-2 code such as \"TR\""
        )));
    }
    Ok(code.to_ascii_uppercase())
}

/// An e-mail address as VerifyKit would accept it: one `@` between a non-empty local part and
/// a dotted domain, no spaces or control characters, at most 254 characters.
pub(super) fn require_email(email: &str) -> Result<&str> {
    let email = email.trim();
    let plausible = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if plausible {
        Ok(email)
    } else {
        Err(invalid("the e-mail address is not valid"))
    }
}

/// An MCC or MNC: 2 or 3 digits.
pub(super) fn require_network_code<'a>(what: &str, value: &'a str) -> Result<&'a str> {
    let value = value.trim();
    if (2..=3).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(invalid(format!("the {what} must be 2 or 3 digits")))
    }
}

/// A session id as the official SDK accepts it: `^[a-zA-Z0-9]+$`.
pub(super) fn require_session(session: &SessionId) -> Result<&str> {
    let id = session.as_str();
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(invalid(
            "a VerifyKit session id has only letters and digits",
        ))
    }
}

/// A WhatsApp session message of at least [`MIN_WHATSAPP_MESSAGE_CHARS`] characters.
pub(super) fn require_message(message: &str) -> Result<&str> {
    if message.trim().chars().count() < MIN_WHATSAPP_MESSAGE_CHARS {
        return Err(invalid(format!(
            "a WhatsApp message needs at least {MIN_WHATSAPP_MESSAGE_CHARS} characters"
        )));
    }
    Ok(message)
}

/// The subject of an e-mail verification (its code), trimmed.
pub(super) fn require_subject(subject: &str) -> Result<&str> {
    let subject = subject.trim();
    if subject.is_empty() {
        return Err(invalid("the e-mail verification's subject (code) is empty"));
    }
    Ok(subject)
}

/// The numbers of a blacklist change: at least one, in E.164.
pub(super) fn require_numbers<'a>(what: &str, numbers: &'a [PhoneNumber]) -> Result<Vec<&'a str>> {
    if numbers.is_empty() {
        return Err(invalid(format!("{what} needs at least one number")));
    }
    Ok(numbers.iter().map(PhoneNumber::e164).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_inputs() {
        assert!(require_reference(" ").is_err());
        assert_eq!(require_reference(" abc ").unwrap(), "abc");
        assert_eq!(require_country("tr").unwrap(), "TR");
        for bad in ["", "TUR", "T1", "  "] {
            assert!(require_country(bad).is_err(), "{bad:?}");
        }
        assert!(require_network_code("MCC", "286").is_ok());
        assert!(require_network_code("MCC", "2a6").is_err());
        assert!(require_network_code("MNC", "1").is_err());
        assert!(require_session(&SessionId::new("QWERTY123456").unwrap()).is_ok());
        assert!(require_session(&SessionId::new("abc-def").unwrap()).is_err());
        assert_eq!(lang_tag(&"pt-BR".parse().unwrap()), "pt");
        assert_eq!(
            require_email(" ada@example.com ").unwrap(),
            "ada@example.com"
        );
        assert!(require_message("too short").is_err());
        assert_eq!(require_message("long enough!").unwrap(), "long enough!");
        // Exactly the minimum, counted in characters after trimming.
        let shortest = "ş".repeat(MIN_WHATSAPP_MESSAGE_CHARS);
        assert_eq!(require_message(&shortest).unwrap(), shortest);
        let short = format!("  {}  ", "ş".repeat(MIN_WHATSAPP_MESSAGE_CHARS - 1));
        assert!(require_message(&short).is_err());
        assert!(require_subject("  ").is_err());
        assert_eq!(require_subject(" verify-1 ").unwrap(), "verify-1");
        assert!(require_numbers("blacklist-add", &[]).is_err());
        let phone: PhoneNumber = "+905321234567".parse().unwrap();
        assert_eq!(
            require_numbers("blacklist-add", &[phone]).unwrap(),
            ["+905321234567"]
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@x.com",
            "a@b@c.com",
        ] {
            assert!(require_email(bad).is_err(), "{bad:?}");
        }
    }
}
