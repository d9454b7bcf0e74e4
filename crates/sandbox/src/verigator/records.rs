//! What Verigator stores: services, their users (indexed) and a user's pending
//! authentication.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::format::iso_millis;
use crate::otp::PendingCode;

/// A registered service.
#[derive(Debug)]
pub(super) struct Service {
    /// Shared with the service's entries in the state's registration log.
    pub(super) id: Arc<str>,
    pub(super) name: String,
    pub(super) fqdn: String,
    pub(super) ctime: OffsetDateTime,
    pub(super) users: Users,
}

impl Service {
    /// `{"id", "name", "ctime"}`, as Verigator answers a service.
    pub(super) fn to_json(&self) -> Value {
        json!({"id": &*self.id, "name": self.name, "ctime": iso_millis(self.ctime)})
    }
}

/// A service's users, indexed so that creating, finding and deleting one stay O(log n) with
/// any number of users: by registration sequence number (the listing's order), by id, by
/// `id_in_service`.
#[derive(Debug, Default)]
pub(super) struct Users {
    /// The users by registration sequence number: in the listing's order.
    listed: BTreeMap<usize, User>,
    /// Sequence numbers by user id.
    by_id: HashMap<String, usize>,
    /// Sequence numbers by `id_in_service`.
    by_id_in_service: HashMap<String, usize>,
}

impl Users {
    /// Whether a user with this `id_in_service` exists.
    pub(super) fn contains_id_in_service(&self, id_in_service: &str) -> bool {
        self.by_id_in_service.contains_key(id_in_service)
    }

    /// Adds `user` under its registration's sequence number `seq`, greater than any before it
    /// (its `id_in_service` must be new).
    pub(super) fn insert(&mut self, seq: usize, user: User) {
        self.by_id.insert(user.id.clone(), seq);
        self.by_id_in_service
            .insert(user.id_in_service.clone(), seq);
        self.listed.insert(seq, user);
    }

    /// The user with id `uid`.
    pub(super) fn get_mut(&mut self, uid: &str) -> Option<&mut User> {
        let seq = self.by_id.get(uid)?;
        self.listed.get_mut(seq)
    }

    /// Removes the user with id `uid`; `false` if there was none.
    pub(super) fn remove(&mut self, uid: &str) -> bool {
        let Some(&seq) = self.by_id.get(uid) else {
            return false;
        };
        self.forget(seq);
        true
    }

    /// Removes the user of registration `seq`, if it is still here.
    pub(super) fn forget(&mut self, seq: usize) {
        if let Some(user) = self.listed.remove(&seq) {
            self.by_id.remove(&user.id);
            self.by_id_in_service.remove(&user.id_in_service);
        }
    }

    /// The number of users.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.listed.len()
    }

    /// In creation order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &User> {
        self.listed.values()
    }
}

/// A user of a service.
#[derive(Debug)]
pub(super) struct User {
    pub(super) id: String,
    pub(super) id_in_service: String,
    /// E.164.
    pub(super) phone: String,
    pub(super) ctime: OffsetDateTime,
    pub(super) totp_secret: Option<Vec<u8>>,
    /// The TOTP step of the last accepted code (a code is never accepted twice).
    pub(super) last_totp_step: Option<u64>,
    pub(super) auth: Option<PendingAuth>,
}

impl User {
    /// A new user with no authenticator and no pending authentication.
    pub(super) fn new(
        id: String,
        id_in_service: String,
        phone: String,
        ctime: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            id_in_service,
            phone,
            ctime,
            totp_secret: None,
            last_totp_step: None,
            auth: None,
        }
    }

    /// `{"id", "ctime", "id_in_service"}`, as Verigator answers a user.
    pub(super) fn to_json(&self) -> Value {
        user_json(&self.id, self.ctime, &self.id_in_service)
    }
}

/// A user's JSON from its listed fields.
pub(super) fn user_json(id: &str, ctime: OffsetDateTime, id_in_service: &str) -> Value {
    json!({"id": id, "ctime": iso_millis(ctime), "id_in_service": id_in_service})
}

/// A started authentication.
#[derive(Debug)]
pub(super) struct PendingAuth {
    /// `sms` or `totp`: the method actually used.
    pub(super) method: &'static str,
    /// The SMS PIN; for TOTP, a placeholder carrying expiry and attempts.
    pub(super) pin: PendingCode,
}
