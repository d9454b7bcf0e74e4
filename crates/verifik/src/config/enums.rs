//! Verifik's enumerations (`status`, `type`, `validationMethod`, `phoneGateway`,
//! `whatsappTemplate`, `populates[]`): the vocabulary of the settings ([`Mode`](super::Mode))
//! and of the wire format, which [`crate::wire`] re-exports. Each keeps a value this version
//! does not know as `Other`, as Verifik wrote it.

use std::fmt;
use std::str::FromStr;

use phone_verify_core::Channel;
use serde::{Deserialize, Deserializer, Serialize};

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, as Verifik wrote it.
            Other(String),
        }

        impl $name {
            /// The value as Verifik writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(other) => other,
                }
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                let s = s.trim();
                Ok(match s {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let raw = phone_verify_core::kit::lenient::string(d)?;
                Ok(raw.parse().unwrap_or_else(|never: std::convert::Infallible| match never {}))
            }
        }
    };
}

wire_enum! {
    /// The life-cycle status of a phone validation (`status`).
    ValidationStatus {
        /// Created, nothing sent yet (the default, and the `manual` validation method).
        New => "new",
        /// The code was sent.
        Sent => "sent",
        /// The code was confirmed.
        Validated => "validated",
        /// Sending failed.
        Failed => "failed",
    }
}

wire_enum! {
    /// The purpose of a phone validation (`type`).
    ValidationType {
        /// General phone validation.
        Validation => "validation",
        /// Phone verification during a user's login; validating it returns a login token.
        Login => "login",
        /// Phone verification during registration: create it with
        /// [`VerifikClient::create_app_registration_validation`](crate::VerifikClient::create_app_registration_validation).
        Onboarding => "onboarding",
        /// A one-time link.
        OneTimeLink => "oneTimeLink",
    }
}

wire_enum! {
    /// How a project-flow validation is verified (`validationMethod`).
    ValidationMethod {
        /// A code is sent to the phone.
        VerificationCode => "verificationCode",
        /// Verified by hand; nothing is sent.
        Manual => "manual",
    }
}

wire_enum! {
    /// How the code travels (`phoneGateway`).
    PhoneGateway {
        /// A text message.
        Sms => "sms",
        /// A WhatsApp message (Verifik's default).
        WhatsApp => "whatsapp",
        /// No gateway: only as a filter of `PUT /v2/phone-validations`, for validations that
        /// sent nothing.
        None => "none",
    }
}

wire_enum! {
    /// The WhatsApp template of a manual validation (`whatsappTemplate`).
    WhatsAppTemplate {
        /// Meta's authentication template with a copy-code button (Verifik's default).
        Authentication => "authentication",
        /// Verifik's `flow2` template.
        Flow2 => "flow2",
    }
}

wire_enum! {
    /// A reference the list endpoint can expand into its object (`populates[]`).
    Populate {
        /// The Verifik client (account).
        Client => "client",
        /// The project.
        Project => "project",
        /// The project flow.
        ProjectFlow => "projectFlow",
    }
}

impl PhoneGateway {
    /// The core channel of this gateway: SMS or WhatsApp.
    pub fn channel(&self) -> Option<Channel> {
        match self {
            Self::Sms => Some(Channel::Sms),
            Self::WhatsApp => Some(Channel::WhatsApp),
            Self::None | Self::Other(_) => None,
        }
    }

    /// The gateway of a core channel: SMS or WhatsApp.
    pub fn for_channel(channel: &Channel) -> Option<Self> {
        match channel {
            Channel::Sms => Some(Self::Sms),
            Channel::WhatsApp => Some(Self::WhatsApp),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip() {
        for gateway in [
            PhoneGateway::Sms,
            PhoneGateway::WhatsApp,
            PhoneGateway::None,
        ] {
            assert_eq!(gateway.as_str().parse::<PhoneGateway>().unwrap(), gateway);
        }
        assert_eq!(
            PhoneGateway::for_channel(&Channel::WhatsApp),
            Some(PhoneGateway::WhatsApp)
        );
        assert_eq!(PhoneGateway::None.channel(), None);
        assert_eq!(ValidationType::OneTimeLink.to_string(), "oneTimeLink");
        assert_eq!(
            serde_json::to_string(&ValidationMethod::VerificationCode).unwrap(),
            "\"verificationCode\""
        );
    }
}
