//! The options of the typed client's endpoints: [`StartOptions`], [`SendOtp`], [`App`],
//! [`BlacklistType`].

use std::fmt;

use phone_verify_core::{Language, PhoneNumber};

/// The shortest WhatsApp session message the official SDK lets through.
pub const MIN_WHATSAPP_MESSAGE_CHARS: usize = 10;

/// The messaging app of a [`start`](super::VerifyKitClient::start).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum App {
    /// WhatsApp: a reverse flow, or WhatsApp as OTP when a phone number is given.
    WhatsApp,
    /// Telegram: a reverse flow.
    Telegram,
}

impl App {
    /// VerifyKit's name, `whatsapp` or `telegram`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhatsApp => "whatsapp",
            Self::Telegram => "telegram",
        }
    }
}

impl fmt::Display for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The options of [`VerifyKitClient::start`](super::VerifyKitClient::start).
///
/// VerifyKit's rules for `deeplink` and `qrCode` are enforced before sending: both `false` is
/// refused (VerifyKit would answer `403004`), and both `true` sends only `deeplink`, since
/// VerifyKit then returns only the deeplink anyway.
///
/// ```
/// use phone_verify_verifykit::{App, StartOptions};
///
/// let desktop = StartOptions::new(App::Telegram).qr_code(true).deeplink(false);
/// let whatsapp_otp = StartOptions::whatsapp_otp("+90 532 123 45 67".parse()?);
/// assert!(desktop.qr_code && whatsapp_otp.phone.is_some());
/// # Ok::<(), phone_verify_core::PhoneError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartOptions {
    /// The messaging app.
    pub app: App,
    /// The language of the user's messages (VerifyKit's default is English).
    pub language: Option<Language>,
    /// Ask for a deeplink (for mobile users); VerifyKit's default is `true`.
    pub deeplink: bool,
    /// Ask for a QR code (for desktop users); VerifyKit's default is `false`.
    pub qr_code: bool,
    /// With [`App::WhatsApp`]: the number to send a code to (WhatsApp as OTP).
    pub phone: Option<PhoneNumber>,
}

impl StartOptions {
    /// A reverse flow on `app` with a deeplink (VerifyKit's defaults).
    pub fn new(app: App) -> Self {
        Self {
            app,
            language: None,
            deeplink: true,
            qr_code: false,
            phone: None,
        }
    }

    /// WhatsApp as OTP: VerifyKit sends a code to `phone` on WhatsApp.
    pub fn whatsapp_otp(phone: PhoneNumber) -> Self {
        Self::new(App::WhatsApp).phone(phone)
    }

    /// Sets the language.
    #[must_use]
    pub fn language(mut self, language: Language) -> Self {
        self.language = Some(language);
        self
    }

    /// Asks for a deeplink or not.
    #[must_use]
    pub fn deeplink(mut self, yes: bool) -> Self {
        self.deeplink = yes;
        self
    }

    /// Asks for a QR code or not.
    #[must_use]
    pub fn qr_code(mut self, yes: bool) -> Self {
        self.qr_code = yes;
        self
    }

    /// Sets the phone number (WhatsApp as OTP).
    #[must_use]
    pub fn phone(mut self, phone: PhoneNumber) -> Self {
        self.phone = Some(phone);
        self
    }
}

/// The options of [`VerifyKitClient::send_otp`](super::VerifyKitClient::send_otp).
///
/// ```
/// use phone_verify_verifykit::SendOtp;
///
/// let request = SendOtp::new("+90 532 123 45 67".parse()?).mcc("286").mnc("01");
/// assert_eq!(request.country_code.as_deref(), Some("TR"));
/// # Ok::<(), phone_verify_core::PhoneError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendOtp {
    /// The number to send the code to.
    pub phone: PhoneNumber,
    /// Its ISO 3166-1 alpha-2 country (`countryCode`), by default the number's region.
    pub country_code: Option<String>,
    /// The Mobile Country Code of the user's SIM (VerifyKit's default `999`).
    pub mcc: Option<String>,
    /// The Mobile Network Code of the user's SIM (VerifyKit's default `999`).
    pub mnc: Option<String>,
    /// The language of the SMS.
    pub language: Option<Language>,
}

impl SendOtp {
    /// A code to `phone`, with the number's region as country code.
    pub fn new(phone: PhoneNumber) -> Self {
        let country_code = phone.region().map(str::to_owned);
        Self {
            phone,
            country_code,
            mcc: None,
            mnc: None,
            language: None,
        }
    }

    /// Sets the country code (ISO 3166-1 alpha-2).
    #[must_use]
    pub fn country_code(mut self, country_code: impl Into<String>) -> Self {
        self.country_code = Some(country_code.into());
        self
    }

    /// Sets the MCC of the user's SIM.
    #[must_use]
    pub fn mcc(mut self, mcc: impl Into<String>) -> Self {
        self.mcc = Some(mcc.into());
        self
    }

    /// Sets the MNC of the user's SIM.
    #[must_use]
    pub fn mnc(mut self, mnc: impl Into<String>) -> Self {
        self.mnc = Some(mnc.into());
        self
    }

    /// Sets the language of the SMS.
    #[must_use]
    pub fn language(mut self, language: Language) -> Self {
        self.language = Some(language);
        self
    }
}

/// A VerifyKit blacklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlacklistType {
    /// SMS OTP.
    Otp,
    /// WhatsApp.
    WhatsApp,
    /// Telegram.
    Telegram,
    /// Flash call.
    FlashCall,
}

impl BlacklistType {
    /// VerifyKit's name: `otp`, `whatsapp`, `telegram` or `flashcall`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Otp => "otp",
            Self::WhatsApp => "whatsapp",
            Self::Telegram => "telegram",
            Self::FlashCall => "flashcall",
        }
    }
}

impl fmt::Display for BlacklistType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_country_code_is_the_numbers_region() {
        let country = |phone: &str| SendOtp::new(phone.parse().unwrap()).country_code;
        assert_eq!(country("+90 532 123 45 67").as_deref(), Some("TR"));
        assert_eq!(country("+39 06 1234 5678").as_deref(), Some("IT"));
        // Italy's calling code, the Vatican's leading digits `06698`.
        assert_eq!(country("+39 06 698 12345").as_deref(), Some("VA"));
        assert_eq!(country("+800 1234 5678"), None);
    }

    #[test]
    fn apps_are_shown_by_verifykits_names() {
        assert_eq!(
            [App::WhatsApp, App::Telegram].map(|app| app.to_string()),
            ["whatsapp", "telegram"]
        );
        assert_eq!(
            [
                BlacklistType::Otp,
                BlacklistType::WhatsApp,
                BlacklistType::Telegram,
                BlacklistType::FlashCall,
            ]
            .map(|kind| kind.to_string()),
            ["otp", "whatsapp", "telegram", "flashcall"]
        );
    }
}
