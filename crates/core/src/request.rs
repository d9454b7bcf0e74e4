//! What a caller asks for: [`StartRequest`], [`CheckRequest`] and their [`RequestContext`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::phone::PhoneNumber;
use crate::provider::Capabilities;

/// A language tag for the user's messages, e.g. `en`, `tr` or `pt-BR` (letters, a primary
/// subtag of 2-3 letters, optional subtags).
///
/// ```
/// use phone_verify_core::Language;
///
/// let lang: Language = "pt-BR".parse()?;
/// assert_eq!(lang.primary(), "pt");
/// assert!("english please".parse::<Language>().is_err());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    /// Validates a language tag.
    pub fn new(tag: &str) -> Result<Self> {
        let tag = tag.trim().replace('_', "-");
        let mut parts = tag.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if primary_ok && rest_ok {
            let mut normalized = primary.to_ascii_lowercase();
            normalized.push_str(&tag[primary.len()..]);
            Ok(Self(normalized))
        } else {
            Err(Error::invalid_input(format!(
                "{tag:?} is not a language tag such as \"en\" or \"pt-BR\""
            )))
        }
    }

    /// English, the providers' default.
    pub fn english() -> Self {
        Self("en".to_owned())
    }

    /// The whole tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag, e.g. `pt` for `pt-BR`.
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl FromStr for Language {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for Language {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::new(&value)
    }
}

impl From<Language> for String {
    fn from(value: Language) -> Self {
        value.0
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Facts about the end user that some providers require on every request (VerifyKit's
/// `X-Vfk-Forwarded-For`) or use for fraud checks. They belong to a request, not to a client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestContext {
    /// The end user's IP address.
    pub end_user_ip: Option<IpAddr>,
    /// The end user's `User-Agent`.
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the end user's IP address.
    #[must_use]
    pub fn end_user_ip(mut self, ip: IpAddr) -> Self {
        self.end_user_ip = Some(ip);
        self
    }

    /// Sets the end user's `User-Agent`.
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }
}

/// A request to start a verification.
///
/// ```
/// use phone_verify_core::{Channel, PhoneNumber, StartRequest};
///
/// let phone: PhoneNumber = "+90 532 123 45 67".parse()?;
/// let sms = StartRequest::sms(phone).language("tr".parse()?);
/// let reverse = StartRequest::reverse(Channel::WhatsApp).qr_code(true);
/// assert_eq!(sms.channel, Channel::Sms);
/// assert!(reverse.phone.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartRequest {
    /// The number to verify; `None` for reverse flows, where the provider learns it from the
    /// user's message.
    pub phone: Option<PhoneNumber>,
    /// The channel to verify on.
    pub channel: Channel,
    /// The language of the user's message.
    pub language: Option<Language>,
    /// For reverse flows: ask for a QR code (for desktop users) rather than a deeplink. A
    /// request with a phone number (a code) and a QR code is refused.
    pub qr_code: bool,
    /// The end user's IP address and user agent.
    pub context: RequestContext,
}

impl StartRequest {
    /// A request on `channel` to `phone`.
    pub fn new(channel: Channel, phone: Option<PhoneNumber>) -> Self {
        Self {
            phone,
            channel,
            language: None,
            qr_code: false,
            context: RequestContext::default(),
        }
    }

    /// A code sent by SMS.
    pub fn sms(phone: PhoneNumber) -> Self {
        Self::new(Channel::Sms, Some(phone))
    }

    /// A code sent on `channel` (WhatsApp, voice, TOTP, …).
    pub fn otp(channel: Channel, phone: PhoneNumber) -> Self {
        Self::new(channel, Some(phone))
    }

    /// A reverse flow: the user sends a message from a deeplink or QR code.
    pub fn reverse(channel: Channel) -> Self {
        Self::new(channel, None)
    }

    /// Sets the language of the user's message.
    #[must_use]
    pub fn language(mut self, language: Language) -> Self {
        self.language = Some(language);
        self
    }

    /// Asks for a QR code in a reverse flow ([`validate`](Self::validate) refuses it with a
    /// phone number).
    #[must_use]
    pub fn qr_code(mut self, yes: bool) -> Self {
        self.qr_code = yes;
        self
    }

    /// Sets the end user's context.
    #[must_use]
    pub fn context(mut self, context: RequestContext) -> Self {
        self.context = context;
        self
    }

    /// Sets the end user's IP address.
    #[must_use]
    pub fn end_user_ip(mut self, ip: IpAddr) -> Self {
        self.context.end_user_ip = Some(ip);
        self
    }

    /// Checks the request against a verifier's capabilities. With a phone number, the channel
    /// must be an OTP channel and no QR code is asked for (a code is sent, nothing is drawn);
    /// without one, a reverse channel (a channel can be both, like VerifyKit's WhatsApp).
    /// Provider crates call this before any request is sent.
    pub fn validate(&self, capabilities: &Capabilities) -> Result<()> {
        if !capabilities.supports(&self.channel) {
            return Err(Error::unsupported(format!(
                "channel {} is not supported by this provider",
                self.channel
            )));
        }
        if self.phone.is_some() {
            if !capabilities.is_otp(&self.channel) {
                return Err(Error::invalid_input(format!(
                    "{} is a reverse flow here: the user sends the message, so leave the phone \
                     number out",
                    self.channel
                )));
            }
            if self.qr_code {
                return Err(Error::unsupported(
                    "a QR code is only for reverse flows; a code is sent without one",
                ));
            }
        } else if !capabilities.is_reverse(&self.channel) {
            return Err(Error::invalid_input(format!(
                "a phone number is required to send a code by {}",
                self.channel
            )));
        } else if self.qr_code && !capabilities.qr_code {
            return Err(Error::unsupported("this provider does not return QR codes"));
        }
        Ok(())
    }

    /// Whether this request is a reverse flow for a verifier with `capabilities`: a reverse
    /// channel and no phone number.
    pub fn is_reverse(&self, capabilities: &Capabilities) -> bool {
        self.phone.is_none() && capabilities.is_reverse(&self.channel)
    }
}

/// A request to check a verification: with the code the user typed, or without one to poll a
/// reverse flow.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CheckRequest {
    /// The code the user typed; `None` to poll a reverse flow.
    pub code: Option<Code>,
    /// The end user's context.
    pub context: RequestContext,
}

impl CheckRequest {
    /// Check `code`.
    pub fn code(code: Code) -> Self {
        Self {
            code: Some(code),
            context: RequestContext::default(),
        }
    }

    /// Poll a reverse flow.
    pub fn poll() -> Self {
        Self::default()
    }

    /// Sets the end user's context.
    #[must_use]
    pub fn context(mut self, context: RequestContext) -> Self {
        self.context = context;
        self
    }

    /// The code, or an [`InvalidInput`](crate::ErrorKind::InvalidInput) error for flows that
    /// need one.
    pub fn require_code(&self) -> Result<&Code> {
        self.code.as_ref().ok_or_else(|| {
            Error::invalid_input("this verification needs the code the user received")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn languages() {
        assert_eq!(Language::new("EN").unwrap().as_str(), "en");
        assert_eq!(Language::new("pt_BR").unwrap().as_str(), "pt-BR");
        assert_eq!(Language::new("pt_BR").unwrap().primary(), "pt");
        assert_eq!(Language::new("tr").unwrap().primary(), "tr");
        let language: Language = "pt_BR".parse().unwrap();
        assert_eq!(language.to_string(), "pt-BR");
        assert_eq!(String::from(language), "pt-BR");
        assert_eq!(Language::try_from("EN".to_owned()).unwrap().as_str(), "en");
        for bad in ["", "e", "english", "e1", "en--US", "en-"] {
            assert!(Language::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_context_keeps_the_end_users_ip_and_user_agent() {
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let context = RequestContext::new()
            .end_user_ip(ip)
            .user_agent("Mozilla/5.0 Test");
        assert_eq!(context.end_user_ip, Some(ip));
        assert_eq!(context.user_agent.as_deref(), Some("Mozilla/5.0 Test"));
        assert_eq!(RequestContext::new(), RequestContext::default());
        // A check carries its context, with a code or without (a poll).
        let with_code = CheckRequest::code(Code::new("123456").unwrap()).context(context.clone());
        assert_eq!(with_code.context, context);
        assert_eq!(with_code.require_code().unwrap().expose(), "123456");
        let poll = CheckRequest::poll().context(context.clone());
        assert_eq!((poll.code, poll.context), (None, context));
    }

    #[test]
    fn validates_against_capabilities() {
        let caps = Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_reverse_channel(Channel::WhatsApp);
        let phone = PhoneNumber::parse("+905321234567").unwrap();
        assert!(StartRequest::sms(phone.clone()).validate(&caps).is_ok());
        assert!(
            StartRequest::reverse(Channel::WhatsApp)
                .validate(&caps)
                .is_ok()
        );
        let no_phone = StartRequest::new(Channel::Sms, None)
            .validate(&caps)
            .unwrap_err();
        assert_eq!(no_phone.kind(), ErrorKind::InvalidInput);
        let voice = StartRequest::otp(Channel::Voice, phone)
            .validate(&caps)
            .unwrap_err();
        assert_eq!(voice.kind(), ErrorKind::Unsupported);
        let qr = StartRequest::reverse(Channel::WhatsApp)
            .qr_code(true)
            .validate(&caps)
            .unwrap_err();
        assert_eq!(qr.kind(), ErrorKind::Unsupported);
    }

    #[test]
    fn a_phone_on_a_reverse_only_channel_is_refused() {
        // Telegram is only a reverse channel: the phone would be dropped by a reverse flow.
        let caps = Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_reverse_channel(Channel::Telegram);
        let phone = PhoneNumber::parse("+905321234567").unwrap();
        let request = StartRequest::otp(Channel::Telegram, phone);
        assert!(!request.is_reverse(&caps));
        let err = request.validate(&caps).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("leave the phone number out"),
            "{err}"
        );
        let reverse = StartRequest::reverse(Channel::Telegram);
        assert!(reverse.validate(&caps).is_ok() && reverse.is_reverse(&caps));
    }

    #[test]
    fn a_qr_code_is_refused_for_a_code() {
        // Even from a provider that draws QR codes, on a channel that is also a reverse one.
        let caps = Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_otp_channel(Channel::WhatsApp)
            .with_reverse_channel(Channel::WhatsApp)
            .with_qr_code(true);
        let phone = PhoneNumber::parse("+905321234567").unwrap();
        for channel in [Channel::Sms, Channel::WhatsApp] {
            let err = StartRequest::otp(channel.clone(), phone.clone())
                .qr_code(true)
                .validate(&caps)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{channel}");
            assert!(err.to_string().contains("only for reverse flows"), "{err}");
        }
        let reverse = StartRequest::reverse(Channel::WhatsApp).qr_code(true);
        assert!(reverse.validate(&caps).is_ok());
    }

    #[test]
    fn a_channel_can_be_both_otp_and_reverse() {
        let caps = Capabilities::new()
            .with_otp_channel(Channel::WhatsApp)
            .with_reverse_channel(Channel::WhatsApp)
            .with_qr_code(true);
        let phone = PhoneNumber::parse("+905321234567").unwrap();
        let otp = StartRequest::otp(Channel::WhatsApp, phone);
        let reverse = StartRequest::reverse(Channel::WhatsApp).qr_code(true);
        assert!(otp.validate(&caps).is_ok() && !otp.is_reverse(&caps));
        assert!(reverse.validate(&caps).is_ok() && reverse.is_reverse(&caps));
    }

    #[test]
    fn check_request_requires_code() {
        assert_eq!(
            CheckRequest::poll().require_code().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let code = Code::new("123456").unwrap();
        assert_eq!(
            CheckRequest::code(code.clone()).require_code().unwrap(),
            &code
        );
    }
}
