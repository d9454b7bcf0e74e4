//! [`Mode`]: how [`Verifik`](crate::Verifik)'s `start` creates a validation, manual or in a
//! project flow, with each mode's settings checked as they are set, and again by
//! [`Mode::validate`] when the verifier is built (the fields are public).

use std::time::Duration;

use phone_verify_core::{Channel, Result};

use super::checks::{invalid, require_id, require_title, require_url};
use super::enums::{PhoneGateway, ValidationType, WhatsAppTemplate};

/// How [`Verifik`](crate::Verifik)'s `start` creates a validation.
///
/// ```
/// use phone_verify_core::Channel;
/// use phone_verify_verifik::{Mode, ValidationType};
///
/// let manual = Mode::manual().with_title("Acme")?;
/// let project = Mode::project_flow("507f1f77bcf86cd799439011")?
///     .with_channel(Channel::Sms)?
///     .with_validation_type(ValidationType::Login)?;
/// assert!(manual.is_manual() && !project.is_manual());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// `POST /v2/phone-validations/manual`: a standalone code by SMS or WhatsApp, as the
    /// start request's channel says, without a project.
    Manual(ManualMode),
    /// `POST /v2/phone-validations` in a project: the project flow's gateway, configured in
    /// Verifik's dashboard, carries the code.
    ProjectFlow(ProjectFlowMode),
}

impl Default for Mode {
    fn default() -> Self {
        Self::Manual(ManualMode::default())
    }
}

/// The settings of [`Mode::Manual`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManualMode {
    /// `title`: the brand shown in the message (1 to 15 characters).
    pub title: Option<String>,
    /// `whatsappTemplate` of WhatsApp codes.
    pub whatsapp_template: Option<WhatsAppTemplate>,
    /// `force`: skip Verifik's resend cooldown (about 2 minutes per phone and gateway) on
    /// every start. Without it a second start within the cooldown fails with
    /// `ErrorKind::Conflict` (`otp_recently_sent`); [`Verifik::resend`](crate::Verifik::resend)
    /// always forces.
    pub force: bool,
}

/// The settings of [`Mode::ProjectFlow`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProjectFlowMode {
    /// `project`: the project id.
    pub project: String,
    /// The channel the project flow sends codes on (WhatsApp unless the dashboard says SMS).
    pub channel: Channel,
    /// `type`: `validation`, `login` or `oneTimeLink` (`onboarding` validations are created
    /// for an app registration with the typed client).
    pub validation_type: ValidationType,
    /// How long the code stays valid (`expiresAt` = now + this); Verifik's default otherwise.
    pub validity: Option<Duration>,
    /// `redirectUrl`.
    pub redirect_url: Option<String>,
    /// `webhookUrl`.
    pub webhook_url: Option<String>,
    /// `identityUrl`.
    pub identity_url: Option<String>,
    /// `requires2FA`.
    pub requires_2fa: Option<bool>,
}

impl Mode {
    /// Manual mode with Verifik's defaults.
    pub fn manual() -> Self {
        Self::default()
    }

    /// Project-flow mode for `project`, on WhatsApp, with `type` `validation`.
    pub fn project_flow(project: &str) -> Result<Self> {
        let project = project.trim();
        require_id("project id", project)?;
        Ok(Self::ProjectFlow(ProjectFlowMode {
            project: project.to_owned(),
            channel: Channel::WhatsApp,
            validation_type: ValidationType::Validation,
            validity: None,
            redirect_url: None,
            webhook_url: None,
            identity_url: None,
            requires_2fa: None,
        }))
    }

    /// Whether this is manual mode.
    pub fn is_manual(&self) -> bool {
        matches!(self, Self::Manual(_))
    }

    /// The channels `start` accepts in this mode: none for a project flow whose channel is
    /// not SMS or WhatsApp (set on the public field, past [`with_channel`](Self::with_channel)).
    pub fn channels(&self) -> Vec<Channel> {
        match self {
            Self::Manual(_) => vec![Channel::Sms, Channel::WhatsApp],
            Self::ProjectFlow(project) if check_channel(&project.channel).is_ok() => {
                vec![project.channel.clone()]
            }
            Self::ProjectFlow(_) => Vec::new(),
        }
    }

    /// Checks every setting as the `with_*` methods check it, for a mode whose public fields
    /// were set directly: an [`InvalidInput`](phone_verify_core::ErrorKind::InvalidInput)
    /// error naming the first bad one. Building a verifier or a client checks its mode so, and
    /// so does every `start` of a verifier made by [`Verifik::new`](crate::Verifik::new).
    ///
    /// ```
    /// use phone_verify_core::Channel;
    /// use phone_verify_verifik::Mode;
    ///
    /// let mut mode = Mode::project_flow("507f1f77bcf86cd799439011")?;
    /// mode.validate()?;
    /// if let Mode::ProjectFlow(project) = &mut mode {
    ///     project.channel = Channel::Telegram;
    /// }
    /// assert!(mode.validate().is_err());
    /// # Ok::<(), phone_verify_core::Error>(())
    /// ```
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Manual(manual) => {
                if let Some(title) = &manual.title {
                    require_title(title)?;
                }
                if let Some(template) = &manual.whatsapp_template {
                    check_template(template)?;
                }
            }
            Self::ProjectFlow(project) => {
                require_id("project id", &project.project)?;
                check_channel(&project.channel)?;
                check_validation_type(&project.validation_type)?;
                if let Some(validity) = project.validity {
                    check_validity(validity)?;
                }
                for (what, url) in [
                    ("redirect URL", &project.redirect_url),
                    ("webhook URL", &project.webhook_url),
                    ("identity URL", &project.identity_url),
                ] {
                    if let Some(url) = url {
                        require_url(what, url)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Manual mode: sets the brand shown in the message (1 to 15 characters).
    pub fn with_title(self, title: &str) -> Result<Self> {
        let title = require_title(title)?;
        self.manual_setting("a title", |m| m.title = Some(title))
    }

    /// Manual mode: sets the WhatsApp template.
    pub fn with_whatsapp_template(self, template: WhatsAppTemplate) -> Result<Self> {
        check_template(&template)?;
        self.manual_setting("a WhatsApp template", |m| {
            m.whatsapp_template = Some(template);
        })
    }

    /// Manual mode: skips Verifik's resend cooldown on every start.
    pub fn with_force(self, force: bool) -> Result<Self> {
        self.manual_setting("force", |m| m.force = force)
    }

    /// Project-flow mode: the channel the project flow sends codes on (SMS or WhatsApp).
    pub fn with_channel(self, channel: Channel) -> Result<Self> {
        check_channel(&channel)?;
        self.project_setting("a channel", |p| p.channel = channel)
    }

    /// Project-flow mode: the validations' `type` (`validation`, `login` or `oneTimeLink`).
    pub fn with_validation_type(self, validation_type: ValidationType) -> Result<Self> {
        check_validation_type(&validation_type)?;
        self.project_setting("a validation type", |p| {
            p.validation_type = validation_type;
        })
    }

    /// Project-flow mode: how long codes stay valid (`expiresAt`).
    pub fn with_validity(self, validity: Duration) -> Result<Self> {
        check_validity(validity)?;
        self.project_setting("a validity", |p| p.validity = Some(validity))
    }

    /// Project-flow mode: `redirectUrl`.
    pub fn with_redirect_url(self, url: &str) -> Result<Self> {
        let url = require_url("redirect URL", url)?;
        self.project_setting("a redirect URL", |p| p.redirect_url = Some(url))
    }

    /// Project-flow mode: `webhookUrl`.
    pub fn with_webhook_url(self, url: &str) -> Result<Self> {
        let url = require_url("webhook URL", url)?;
        self.project_setting("a webhook URL", |p| p.webhook_url = Some(url))
    }

    /// Project-flow mode: `identityUrl`.
    pub fn with_identity_url(self, url: &str) -> Result<Self> {
        let url = require_url("identity URL", url)?;
        self.project_setting("an identity URL", |p| p.identity_url = Some(url))
    }

    /// Project-flow mode: `requires2FA`.
    pub fn with_requires_2fa(self, yes: bool) -> Result<Self> {
        self.project_setting("requires2FA", |p| p.requires_2fa = Some(yes))
    }

    fn manual_setting(mut self, what: &str, set: impl FnOnce(&mut ManualMode)) -> Result<Self> {
        match &mut self {
            Self::Manual(manual) => {
                set(manual);
                Ok(self)
            }
            Self::ProjectFlow(_) => Err(invalid(format!(
                "{what} is a setting of manual mode, not of project-flow mode"
            ))),
        }
    }

    fn project_setting(
        mut self,
        what: &str,
        set: impl FnOnce(&mut ProjectFlowMode),
    ) -> Result<Self> {
        match &mut self {
            Self::ProjectFlow(project) => {
                set(project);
                Ok(self)
            }
            Self::Manual(_) => Err(invalid(format!(
                "{what} is a setting of project-flow mode, not of manual mode"
            ))),
        }
    }
}

/// A WhatsApp template Verifik documents: `authentication` or `flow2`.
fn check_template(template: &WhatsAppTemplate) -> Result<()> {
    if matches!(template, WhatsAppTemplate::Other(_)) {
        return Err(invalid(
            "the WhatsApp template must be authentication or flow2",
        ));
    }
    Ok(())
}

/// A channel Verifik sends codes on: SMS or WhatsApp.
fn check_channel(channel: &Channel) -> Result<()> {
    if PhoneGateway::for_channel(channel).is_none() {
        return Err(invalid(format!(
            "Verifik sends codes by SMS or WhatsApp, not {channel}"
        )));
    }
    Ok(())
}

/// A validation type `start` can create: `validation`, `login` or `oneTimeLink`.
fn check_validation_type(validation_type: &ValidationType) -> Result<()> {
    match validation_type {
        ValidationType::Validation | ValidationType::Login | ValidationType::OneTimeLink => Ok(()),
        ValidationType::Onboarding => Err(invalid(
            "onboarding validations belong to an app registration: create them with \
             VerifikClient::create_app_registration_validation",
        )),
        ValidationType::Other(other) => Err(invalid(format!(
            "unknown validation type {other:?}: use validation, login or oneTimeLink"
        ))),
    }
}

/// A code validity: 1 second to a year.
fn check_validity(validity: Duration) -> Result<()> {
    if validity.is_zero() || validity > Duration::from_secs(366 * 86_400) {
        return Err(invalid("the validity must be between 1 second and a year"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_refuse_settings_of_the_other_mode() {
        let project = Mode::project_flow("507f1f77bcf86cd799439011").unwrap();
        assert!(project.clone().with_title("Acme").is_err());
        assert!(project.clone().with_force(true).is_err());
        assert!(project.clone().with_validity(Duration::ZERO).is_err());
        assert!(project.clone().with_channel(Channel::Telegram).is_err());
        assert_eq!(project.channels(), [Channel::WhatsApp]);
        let project = project
            .with_validity(Duration::from_secs(300))
            .unwrap()
            .with_redirect_url("https://acme.test/done")
            .unwrap()
            .with_identity_url("https://acme.test/id")
            .unwrap()
            .with_requires_2fa(true)
            .unwrap();
        let Mode::ProjectFlow(settings) = &project else {
            panic!("project mode expected")
        };
        assert_eq!(settings.validity, Some(Duration::from_secs(300)));
        assert_eq!(settings.requires_2fa, Some(true));
        let manual = Mode::manual();
        assert!(manual.clone().with_channel(Channel::Sms).is_err());
        assert!(manual.clone().with_webhook_url("https://x.test").is_err());
        assert!(manual.clone().with_title("").is_err());
        assert!(manual.clone().with_title("Sixteen chars!!!").is_err());
        assert!(manual.clone().with_title("Fifteen chars!!").is_ok());
        assert_eq!(manual.channels(), [Channel::Sms, Channel::WhatsApp]);
        assert!(Mode::project_flow("").is_err());
        assert!(manual.is_manual() && !project.is_manual());
    }

    /// The fields are public: a setting written there, past the `with_*` checks, is caught by
    /// `validate`, and a project flow on a channel Verifik cannot send on offers none.
    #[test]
    fn validate_catches_settings_written_on_the_fields() {
        let project = Mode::project_flow("507f1f77bcf86cd799439011").unwrap();
        let manual = Mode::manual();
        project.validate().unwrap();
        manual.validate().unwrap();
        let mut bad: Vec<Mode> = Vec::new();
        let mut with_project = |set: &dyn Fn(&mut ProjectFlowMode)| {
            let mut mode = project.clone();
            if let Mode::ProjectFlow(settings) = &mut mode {
                set(settings);
            }
            bad.push(mode);
        };
        with_project(&|p| p.channel = Channel::Telegram);
        with_project(&|p| p.project = "../x".to_owned());
        with_project(&|p| p.validation_type = ValidationType::Onboarding);
        with_project(&|p| p.validity = Some(Duration::ZERO));
        with_project(&|p| p.webhook_url = Some("ftp://x".to_owned()));
        with_project(&|p| p.redirect_url = Some("https://a b".to_owned()));
        with_project(&|p| p.identity_url = Some(String::new()));
        for set in [
            |m: &mut ManualMode| m.title = Some("Sixteen chars!!!".to_owned()),
            |m: &mut ManualMode| m.title = Some(String::new()),
            |m: &mut ManualMode| {
                m.whatsapp_template = Some(WhatsAppTemplate::Other("fancy".to_owned()));
            },
        ] {
            let mut mode = manual.clone();
            if let Mode::Manual(settings) = &mut mode {
                set(settings);
            }
            bad.push(mode);
        }
        for mode in &bad {
            let err = mode.validate().unwrap_err();
            assert_eq!(
                err.kind(),
                phone_verify_core::ErrorKind::InvalidInput,
                "{mode:?}"
            );
        }
        assert_eq!(bad[0].channels(), Vec::<Channel>::new());
    }

    #[test]
    fn validities_run_from_a_second_to_a_year() {
        let project = Mode::project_flow("507f1f77bcf86cd799439011").unwrap();
        let year = Duration::from_secs(366 * 86_400);
        for ok in [Duration::from_secs(1), year] {
            assert!(project.clone().with_validity(ok).is_ok(), "{ok:?}");
        }
        for refused in [Duration::ZERO, year + Duration::from_millis(1)] {
            let err = project
                .clone()
                .with_validity(refused)
                .map(drop)
                .unwrap_err();
            assert_eq!(
                err.kind(),
                phone_verify_core::ErrorKind::InvalidInput,
                "{refused:?}"
            );
        }
    }
}
