//! [`Verigator`]: the [`PhoneVerifier`] of Messente Verigator; [`VerigatorBuilder::build`]
//! makes one.

mod cache;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use phone_verify_core::secrecy::SecretString;
use phone_verify_core::{
    Capabilities, Channel, CheckOutcome, CheckRequest, Error, ErrorKind, PhoneNumber,
    PhoneVerifier, ProviderId, Result, StartRequest, Verification, Verified,
};

use crate::client::VerigatorClient;
use crate::config::{
    DEFAULT_USER_CACHE_CAPACITY, IdScheme, PROVIDER, VerigatorBuilder, check_id, invalid,
};
use crate::errors;
use crate::wire::{AuthMethod, AuthStarted, PinStatus, User};

use cache::UserCache;

/// The handle extra holding the service id (ServiceID) the user belongs to.
pub const EXTRA_SERVICE_ID: &str = "service_id";
/// The handle extra holding the user id (UserID); the handle's reference is the same id.
pub const EXTRA_USER_ID: &str = "user_id";
/// The handle extra holding the method Verigator used, `sms` or `totp`, present only when its
/// answer named it.
pub const EXTRA_METHOD: &str = "method";
/// The handle extra holding the method asked for, present when Verigator used another one (a
/// `totp` request that fell back to `sms`) or did not say which one it used.
pub const EXTRA_REQUESTED_METHOD: &str = "requested_method";

/// Messente Verigator as a [`PhoneVerifier`]. Cheap to clone; `Debug` never shows the
/// credentials.
///
/// | request | Verigator |
/// |---|---|
/// | `StartRequest::sms(phone)` | find or register the service's user for `phone` (see [`IdScheme`]), then `POST …/users/{UserId}/auth` with `method: "sms"`; check with `PUT …/auth` |
/// | `StartRequest::otp(Channel::Totp, phone)` | the same with `method: "totp"`: the user types the code of the Verigator app. Without the app set up, Verigator sends an SMS instead: the handle's channel is then [`Channel::Sms`], its [`EXTRA_METHOD`] `sms` and its [`EXTRA_REQUESTED_METHOD`] `totp` |
///
/// Finding the user for `phone` (its `id_in_service` is `id_scheme.id_for(phone)`) takes
/// constant time, whatever the number of users, for a new phone and for a phone in the cache;
/// a returning phone not in the cache (after a restart, an eviction, or registered by another
/// process) is found by a scan of the user list, in time linear in the number of users:
///
/// 1. a phone this verifier has seen: the user id from its cache (bounded, least recently used
///    out; [`VerigatorBuilder::user_cache_capacity`]), no request;
/// 2. otherwise register the user (`POST …/users`) and cache its id;
/// 3. the registration answers 409 (the user exists: registered by another process, or before
///    a restart): find it with [`VerigatorClient::find_user`], the user list streamed and
///    scanned (constant memory, no size cap; linear time; at most
///    [`MAX_CONCURRENT_SCANS`](crate::MAX_CONCURRENT_SCANS) scans at once, a further one waits
///    within its overall timeout, then fails with `ProviderUnavailable`, nothing sent),
///    and cache its id;
/// 4. starting the authentication of a cached user answers 404 (the user was deleted): forget
///    it and go to 2, once. Nothing was sent: a 404 means there was no user to send to.
///
/// Two processes starting the same new phone at once both register; one gets 201, the other
/// 409 and then finds the first one's user. Both start an authentication of that one user, and
/// Verigator keeps one pending authentication per user, so the earlier PIN is replaced: its
/// check is `Rejected(WrongCode)` (or `NotFound` once the later one was verified). That is
/// the same for any two starts of one phone, in one process or two.
///
/// The handle's reference is the user id and its extras hold [`EXTRA_SERVICE_ID`],
/// [`EXTRA_USER_ID`] and [`EXTRA_METHOD`], so another process, with any service configured,
/// can check it. When Verigator's answer names no method (no body, `"method": null`, the older
/// `auth_id` shape, a method this crate does not know such as `"push"`, a value that is not a
/// string), the handle does not guess: its channel is the one asked for, which a `totp`
/// request may not have got (the user may have received an SMS), it has
/// [`EXTRA_REQUESTED_METHOD`] and no [`EXTRA_METHOD`], and its check sends the PIN alone,
/// as the official SDKs do.
///
/// A check of an authentication whose PIN already verified, including one whose answer was
/// lost (`OutcomeUnknown`), is `Rejected(NotFound)`: Verigator clears an authentication once
/// its PIN verifies, so it is already used. After `OutcomeUnknown`, start a new verification
/// rather than check the handle again. A 404 that Verigator did not write (a body neither
/// empty nor a JSON object: a proxy's page, a base URL without `/v1`) is the `NotFound`
/// error, not a rejection.
///
/// `check` reports the phone the handle holds (Verigator's answer names none): a handle that a
/// client holds (a browser, a mobile app) must be sealed
/// ([`Verification::seal`](phone_verify_core::Verification::seal)), or the client could pair
/// its own user's reference with another phone and have that phone reported verified.
///
/// Verigator has no sessions: this type does not implement
/// [`SessionResolver`](phone_verify_core::SessionResolver), and its capabilities say
/// `session_resolution: false`.
#[derive(Clone)]
pub struct Verigator {
    inner: Arc<Inner>,
}

struct Inner {
    client: VerigatorClient,
    service_id: String,
    id_scheme: IdScheme,
    pin_validity: Option<Duration>,
    users: UserCache,
}

impl fmt::Debug for Verigator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verigator")
            .field("client", &self.inner.client)
            .field("service_id", &self.inner.service_id)
            .field("id_scheme", &self.inner.id_scheme)
            .field("pin_validity", &self.inner.pin_validity)
            .field("cached_users", &self.inner.users.len())
            .finish()
    }
}

impl VerigatorBuilder {
    /// Builds the verifier; it needs a [`service_id`](Self::service_id).
    pub fn build(&self) -> Result<Verigator> {
        let config = self.config()?;
        let service_id = config.require_service_id()?;
        let (id_scheme, pin_validity, user_cache_capacity) = (
            config.id_scheme.clone(),
            config.pin_validity,
            config.user_cache_capacity,
        );
        let client = VerigatorClient::new(config)?;
        Ok(Verigator::from_parts(
            client,
            service_id,
            id_scheme,
            pin_validity,
            user_cache_capacity,
        ))
    }
}

impl Verigator {
    /// A verifier of the users of `service_id`, with the default [`IdScheme`], no PIN
    /// validity and a user cache of [`DEFAULT_USER_CACHE_CAPACITY`] phones. Fails with [`ErrorKind::InvalidInput`] if the service id is malformed.
    pub fn new(client: VerigatorClient, service_id: &str) -> Result<Self> {
        let service_id = check_id("service id", service_id.trim())?.to_owned();
        Ok(Self::from_parts(
            client,
            service_id,
            IdScheme::default(),
            None,
            DEFAULT_USER_CACHE_CAPACITY,
        ))
    }

    fn from_parts(
        client: VerigatorClient,
        service_id: String,
        id_scheme: IdScheme,
        pin_validity: Option<Duration>,
        user_cache_capacity: usize,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                service_id,
                id_scheme,
                pin_validity,
                users: UserCache::new(user_cache_capacity),
            }),
        }
    }

    /// A builder for Verigator's production host with the Messente API `username` and
    /// `password`.
    pub fn builder(
        username: impl Into<SecretString>,
        password: impl Into<SecretString>,
    ) -> VerigatorBuilder {
        VerigatorBuilder::new(username, password)
    }

    /// A verifier configured from the environment (see [`VerigatorBuilder::from_lookup`]).
    pub fn from_env() -> Result<Self> {
        VerigatorBuilder::from_env()?.build()
    }

    /// The typed client of every endpoint, for what the trait does not cover (services, user
    /// administration).
    pub fn client(&self) -> &VerigatorClient {
        &self.inner.client
    }

    /// The service whose users this verifier registers and authenticates.
    pub fn service_id(&self) -> &str {
        &self.inner.service_id
    }

    /// How phone numbers become users' `id_in_service`.
    pub fn id_scheme(&self) -> &IdScheme {
        &self.inner.id_scheme
    }

    /// What Verigator can do through this crate: codes by SMS and TOTP; no reverse flows, QR
    /// codes, sessions or localized messages.
    pub fn capabilities() -> Capabilities {
        Capabilities::new()
            .with_otp_channel(Channel::Sms)
            .with_otp_channel(Channel::Totp)
            .with_qr_code(false)
            .with_session_resolution(false)
            .with_check_returns_session(false)
            .with_localized_messages(false)
    }

    /// The service's user for `phone`, if it is registered: one `GET …/users`, streamed and
    /// scanned ([`VerigatorClient::find_user`]). A user found is cached.
    pub async fn find_user(&self, phone: &PhoneNumber) -> Result<Option<User>> {
        let id_in_service = self.inner.id_scheme.id_for(phone)?;
        let found = self
            .inner
            .client
            .find_user(&self.inner.service_id, &id_in_service)
            .await?;
        if let Some(user) = &found {
            self.inner.users.put(&id_in_service, &user.id);
        }
        Ok(found)
    }

    /// The service's user for `phone`, registered with `phone` if it was not: what
    /// [`start`](PhoneVerifier::start) does before it starts an authentication (see the type's
    /// documentation). A user from the cache has only its id and `id_in_service`.
    pub async fn user_for(&self, phone: &PhoneNumber) -> Result<User> {
        let id_in_service = self.inner.id_scheme.id_for(phone)?;
        if let Some(id) = self.inner.users.get(&id_in_service) {
            return Ok(User::known(id, id_in_service));
        }
        self.register(phone, &id_in_service).await
    }

    /// Registers the user for `phone`, or finds it if it exists (409); caches its id.
    async fn register(&self, phone: &PhoneNumber, id_in_service: &str) -> Result<User> {
        let service = &self.inner.service_id;
        let user = match self
            .inner
            .client
            .create_user(service, id_in_service, phone)
            .await
        {
            Ok(user) => user,
            // Registered before (another process, an earlier run): find it.
            Err(err) if err.kind() == ErrorKind::Conflict => {
                match self.inner.client.find_user(service, id_in_service).await? {
                    Some(user) => user,
                    None => {
                        return Err(Error::new(
                            ErrorKind::Conflict,
                            "create-user: Verigator says the user exists, but the service's \
                             user list does not show it",
                        )
                        .with_provider(PROVIDER)
                        .with_source(err));
                    }
                }
            }
            Err(err) => return Err(err),
        };
        self.inner.users.put(id_in_service, &user.id);
        Ok(user)
    }

    /// Starts an authentication of the user for `phone`; a cached user that is gone (404) is
    /// forgotten and registered again, once.
    async fn start_auth(
        &self,
        phone: &PhoneNumber,
        requested: AuthMethod,
    ) -> Result<(User, AuthStarted)> {
        let id_in_service = self.inner.id_scheme.id_for(phone)?;
        let service = &self.inner.service_id;
        let client = &self.inner.client;
        if let Some(id) = self.inner.users.get(&id_in_service) {
            match client
                .start_auth_for(service, &id, requested, Some(phone))
                .await
            {
                Ok(started) => return Ok((User::known(id, id_in_service), started)),
                // No such user (deleted): nothing was sent.
                Err(err) if err.kind() == ErrorKind::NotFound => {
                    tracing::debug!("a cached Verigator user is gone; registering it again");
                    self.inner.users.forget(&id_in_service, &id);
                }
                Err(err) => return Err(err),
            }
        }
        let user = self.register(phone, &id_in_service).await?;
        let started = client
            .start_auth_for(service, &user.id, requested, Some(phone))
            .await?;
        Ok((user, started))
    }
}

#[async_trait]
impl PhoneVerifier for Verigator {
    fn provider(&self) -> ProviderId {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Self::capabilities()
    }

    async fn start(&self, request: &StartRequest) -> Result<Verification> {
        request.validate(&Self::capabilities())?;
        let (Some(phone), Some(requested)) =
            (&request.phone, AuthMethod::for_channel(&request.channel))
        else {
            return Err(Error::unsupported(format!(
                "Verigator does not verify on channel {}",
                request.channel
            ))
            .with_provider(PROVIDER));
        };
        let (user, started) = self.start_auth(phone, requested).await?;
        let service = &self.inner.service_id;
        // An answer without a method (no body, `null`, the older `auth_id` shape, a method
        // unknown to this crate) does not say whether a `totp` request fell back to SMS: the
        // handle keeps the requested method, as requested only, and its check sends the PIN
        // alone.
        let channel = started.method.unwrap_or(requested).channel();
        let mut handle = Verification::new(PROVIDER, user.id.clone(), channel)
            .with_phone(phone.clone())
            .with_extra(EXTRA_SERVICE_ID, service.as_str())
            .with_extra(EXTRA_USER_ID, user.id.as_str());
        if let Some(method) = started.method {
            handle = handle.with_extra(EXTRA_METHOD, method.as_str());
        }
        if started.method != Some(requested) {
            tracing::debug!(
                requested = requested.as_str(),
                used = started.method.map_or("unknown", AuthMethod::as_str),
                "Verigator used another authentication method, or did not say which"
            );
            handle = handle.with_extra(EXTRA_REQUESTED_METHOD, requested.as_str());
        }
        if let Some(validity) = self.inner.pin_validity {
            handle = handle.with_expires_in(validity);
        }
        Ok(handle)
    }

    async fn check(
        &self,
        verification: &Verification,
        request: &CheckRequest,
    ) -> Result<CheckOutcome> {
        verification.ensure_provider(&PROVIDER)?;
        let code = request.require_code()?;
        let target = Target::of(verification)?;
        let answer = self
            .inner
            .client
            .verify_pin(target.service_id, target.user_id, code, target.method)
            .await;
        let verified = match answer {
            Ok(verified) => verified,
            Err(err) => return errors::check_outcome(&err).ok_or(err),
        };
        if !verified.verified {
            return Ok(CheckOutcome::Rejected(errors::rejection(
                verified.status.as_ref(),
            )));
        }
        // `verified: true` with a refusal's detail (expired, invalid, throttled) contradicts
        // itself: Verigator took the PIN, what it did with it is unknown. So does a status
        // that cannot be read: it may be a refusal in a shape this crate does not know.
        if verified
            .status
            .as_ref()
            .is_some_and(PinStatus::is_unreadable)
        {
            return Err(Error::new(
                ErrorKind::OutcomeUnknown,
                "verify-pin answered verified with a status that cannot be read; the PIN may \
                 have been used, start a new authentication",
            )
            .with_provider(PROVIDER));
        }
        if let Some(detail) = verified.status.as_ref().and_then(PinStatus::detail) {
            return Err(Error::new(
                ErrorKind::OutcomeUnknown,
                format!(
                    "verify-pin answered verified with the status {detail:?}; the PIN may have \
                     been used, start a new authentication"
                ),
            )
            .with_provider(PROVIDER));
        }
        let channel = verified
            .method
            .or(target.method)
            .map_or_else(|| verification.channel.clone(), AuthMethod::channel);
        Ok(CheckOutcome::Verified(
            Verified::new(channel).with_phone(verification.phone.clone()),
        ))
    }
}

/// Where a handle's PIN is checked.
struct Target<'a> {
    service_id: &'a str,
    user_id: &'a str,
    /// The method Verigator used ([`EXTRA_METHOD`]), sent with the PIN; `None` when the handle
    /// does not know it, and the PIN is sent alone.
    method: Option<AuthMethod>,
}

impl<'a> Target<'a> {
    fn of(handle: &'a Verification) -> Result<Self> {
        let service_id = handle
            .extra_str(EXTRA_SERVICE_ID)
            .ok_or_else(|| invalid("this Verigator handle has no service id"))?;
        let user_id = handle.reference.as_str();
        if handle
            .extra_str(EXTRA_USER_ID)
            .is_some_and(|extra| extra != user_id)
        {
            return Err(invalid(
                "this Verigator handle names two different users (reference and user_id)",
            ));
        }
        let method = match handle.extra_str(EXTRA_METHOD) {
            Some(name) => Some(name.parse().map_err(|_| {
                invalid(format!(
                    "this Verigator handle names an unknown method {name:?}"
                ))
            })?),
            // The channel may be only the one asked for (see `start`): not sent as the method.
            None if AuthMethod::for_channel(&handle.channel).is_some() => None,
            None => {
                return Err(invalid(format!(
                    "Verigator has no verification on channel {}",
                    handle.channel
                )));
            }
        };
        Ok(Self {
            service_id: check_id("service id", service_id)?,
            user_id: check_id("user id", user_id)?,
            method,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle() -> Verification {
        Verification::new(PROVIDER, "u-1", Channel::Sms)
            .with_extra(EXTRA_SERVICE_ID, "s-1")
            .with_extra(EXTRA_USER_ID, "u-1")
            .with_extra(EXTRA_METHOD, "sms")
    }

    #[test]
    fn targets_come_from_handles() {
        let h = handle();
        let target = Target::of(&h).unwrap();
        assert_eq!(
            (target.service_id, target.user_id, target.method),
            ("s-1", "u-1", Some(AuthMethod::Sms))
        );
        // Without the method Verigator used, the channel (maybe only the one asked for) is
        // not taken for it.
        let mut bare =
            Verification::new(PROVIDER, "u-2", Channel::Totp).with_extra(EXTRA_SERVICE_ID, "s-1");
        assert_eq!(Target::of(&bare).unwrap().method, None);
        bare.channel = Channel::Voice;
        assert!(Target::of(&bare).is_err());

        let bad = |h: Verification| {
            let err = Target::of(&h).map(|_| ()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
        };
        let mut no_service = handle();
        no_service.extras.remove(EXTRA_SERVICE_ID);
        bad(no_service);
        bad(handle().with_extra(EXTRA_USER_ID, "u-9"));
        bad(handle().with_extra(EXTRA_METHOD, "voice"));
        bad(handle().with_extra(EXTRA_SERVICE_ID, "../x"));
        let mut odd_reference = handle();
        odd_reference.reference = "u/1".into();
        odd_reference.extras.remove(EXTRA_USER_ID);
        bad(odd_reference);
    }

    #[test]
    fn capabilities_have_no_sessions() {
        let caps = Verigator::capabilities();
        assert_eq!(caps.otp_channels, [Channel::Sms, Channel::Totp]);
        assert!(caps.reverse_channels.is_empty());
        assert!(!caps.session_resolution && !caps.check_returns_session && !caps.qr_code);
    }
}
