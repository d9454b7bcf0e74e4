//! Localized texts (English, Turkish, Spanish) of sent messages and of VerifyKit's `init`.

/// A supported language; anything else falls back to English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// English.
    En,
    /// Turkish.
    Tr,
    /// Spanish.
    Es,
}

impl Lang {
    /// The language for a `lang` value such as `tr`, `es-CO` or `EN`; unknown or missing → `En`.
    pub(crate) fn from_tag(tag: Option<&str>) -> Self {
        let primary = tag
            .unwrap_or("en")
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "tr" => Self::Tr,
            "es" => Self::Es,
            _ => Self::En,
        }
    }

    /// The ISO 639-1 code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Tr => "tr",
            Self::Es => "es",
        }
    }
}

/// The text of a message carrying a one-time code.
pub(crate) fn otp_message(lang: Lang, brand: &str, code: &str, minutes: u64) -> String {
    match lang {
        Lang::En => format!(
            "{brand}: your verification code is {code}. It expires in {minutes} minutes. Do not share it."
        ),
        Lang::Tr => format!(
            "{brand}: doğrulama kodunuz {code}. Kod {minutes} dakika geçerlidir. Kimseyle paylaşmayın."
        ),
        Lang::Es => format!(
            "{brand}: tu código de verificación es {code}. Caduca en {minutes} minutos. No lo compartas."
        ),
    }
}

/// The text a user sends to VerifyKit's WhatsApp/Telegram account in a reverse flow.
pub(crate) fn reverse_flow_message(lang: Lang, reference: &str) -> String {
    match lang {
        Lang::En => format!(
            "Verification reference: {reference}. Send this message to verify your phone number."
        ),
        Lang::Tr => format!(
            "Doğrulama referansı: {reference}. Telefon numaranızı doğrulamak için bu mesajı gönderin."
        ),
        Lang::Es => format!(
            "Referencia de verificación: {reference}. Envía este mensaje para verificar tu número de teléfono."
        ),
    }
}

/// Button text of a VerifyKit validation method (`whatsapp`, `telegram`, `otp`).
pub(crate) fn method_button(lang: Lang, app: &str) -> String {
    match (lang, app) {
        (Lang::En, "otp") => "Click to verify via SMS".to_owned(),
        (Lang::Tr, "otp") => "SMS ile doğrulamak için tıklayın".to_owned(),
        (Lang::Es, "otp") => "Haz clic para verificar por SMS".to_owned(),
        (Lang::En, _) => format!("Verify via {}", app_name(app)),
        (Lang::Tr, _) => format!("{} ile doğrula", app_name(app)),
        (Lang::Es, _) => format!("Verificar con {}", app_name(app)),
    }
}

/// Display name of a VerifyKit validation method.
pub(crate) fn app_name(app: &str) -> &'static str {
    match app {
        "whatsapp" => "WhatsApp",
        "telegram" => "Telegram",
        _ => "Sms",
    }
}

/// VerifyKit's `init` description.
pub(crate) fn init_description(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "Please tap on your preferred messaging app and send us the code appearing on the screen."
        }
        Lang::Tr => {
            "Lütfen tercih ettiğiniz mesajlaşma uygulamasına dokunun ve ekranda görünen kodu bize gönderin."
        }
        Lang::Es => {
            "Toca tu aplicación de mensajería preferida y envíanos el código que aparece en la pantalla."
        }
    }
}

/// VerifyKit's `alternativeValidationDescription` (Basic theme).
pub(crate) fn alternative_description(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Don't use any of these apps?",
        Lang::Tr => "Bu uygulamalardan hiçbirini kullanmıyor musunuz?",
        Lang::Es => "¿No usas ninguna de estas aplicaciones?",
    }
}

/// VerifyKit's `localizationList` entries.
pub(crate) fn localization_list(lang: Lang) -> Vec<(&'static str, &'static str)> {
    let choose = match lang {
        Lang::En => "Select a messaging app to verify your phone number.",
        Lang::Tr => "Telefon numaranızı doğrulamak için bir mesajlaşma uygulaması seçin.",
        Lang::Es => "Selecciona una aplicación de mensajería para verificar tu número de teléfono.",
    };
    let enter_code = match lang {
        Lang::En => "Enter the verification code we sent to your phone.",
        Lang::Tr => "Telefonunuza gönderdiğimiz doğrulama kodunu girin.",
        Lang::Es => "Introduce el código de verificación que enviamos a tu teléfono.",
    };
    let phone = match lang {
        Lang::En => "Enter your phone number.",
        Lang::Tr => "Telefon numaranızı girin.",
        Lang::Es => "Introduce tu número de teléfono.",
    };
    vec![
        ("validation.description", init_description(lang)),
        ("validation.chooseAppText", choose),
        ("otp.enterCode", enter_code),
        ("otp.enterPhoneNumber", phone),
    ]
}

/// The body of a Verifik e-mail login message.
pub(crate) fn email_login_message(lang: Lang, code: &str) -> String {
    match lang {
        Lang::En => format!("Your Verifik login code is {code}. It expires in 10 minutes."),
        Lang::Tr => format!("Verifik giriş kodunuz {code}. Kod 10 dakika geçerlidir."),
        Lang::Es => format!("Tu código de acceso a Verifik es {code}. Caduca en 10 minutos."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_fall_back_to_english() {
        assert_eq!(Lang::from_tag(Some("tr")), Lang::Tr);
        assert_eq!(Lang::from_tag(Some("es-CO")), Lang::Es);
        assert_eq!(Lang::from_tag(Some("ES")), Lang::Es);
        assert_eq!(Lang::from_tag(Some("de")), Lang::En);
        assert_eq!(Lang::from_tag(None), Lang::En);
        assert_eq!(Lang::Tr.code(), "tr");
    }

    #[test]
    fn otp_texts_carry_the_code_in_each_language() {
        for lang in [Lang::En, Lang::Tr, Lang::Es] {
            let text = otp_message(lang, "VerifyKit", "042137", 5);
            assert!(text.contains("042137"), "{text}");
            assert!(text.starts_with("VerifyKit"));
        }
        assert!(otp_message(Lang::Tr, "X", "1", 5).contains("doğrulama"));
        assert!(otp_message(Lang::Es, "X", "1", 5).contains("código"));
        assert!(method_button(Lang::Tr, "whatsapp").contains("WhatsApp"));
        assert!(reverse_flow_message(Lang::Es, "REF1").contains("REF1"));
    }
}
