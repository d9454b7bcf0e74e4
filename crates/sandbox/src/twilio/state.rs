//! Twilio's state: its services and verifications (with their send attempts), bounded.

use time::OffsetDateTime;

use super::records::{Attempt, Service, Status, Verification};
use crate::bounded::BoundedMap;

/// Twilio's services and verifications. Services created through the API and verifications
/// each keep at most [`SandboxConfig::records_capacity`](crate::SandboxConfig::records_capacity)
/// entries, forgetting the oldest first; the default service is never forgotten (only
/// deleted through the API, until a reset). A verification's send attempts (at most 5) live
/// in its record: the Attempt resources are listed as long as it is kept, also once the
/// verification is gone for the API.
#[derive(Debug)]
pub(crate) struct TwilioState {
    /// [`TWILIO_SERVICE_SID`](crate::config::TWILIO_SERVICE_SID), which exists from the start
    /// (`None` once deleted through `DELETE /v2/Services/{Sid}`).
    pub(super) default_service: Option<Service>,
    /// Services created through `POST /v2/Services`, by SID.
    pub(super) services: BoundedMap<String, Service>,
    /// Verifications by SID.
    pub(super) verifications: BoundedMap<String, Verification>,
    /// The newest verification SID per (service SID, `To`).
    pub(super) latest: BoundedMap<(String, String), String>,
}

impl TwilioState {
    /// The default service and nothing else, keeping at most `capacity` records of each kind.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            default_service: Some(Service::sandbox_default(OffsetDateTime::now_utc())),
            services: BoundedMap::new(capacity),
            verifications: BoundedMap::new(capacity),
            latest: BoundedMap::new(capacity),
        }
    }

    /// The service `sid`, if it exists.
    pub(super) fn service(&self, sid: &str) -> Option<&Service> {
        match &self.default_service {
            Some(default) if default.sid == sid => Some(default),
            _ => self.services.get(sid),
        }
    }

    /// The service `sid`, mutably, if it exists.
    pub(super) fn service_mut(&mut self, sid: &str) -> Option<&mut Service> {
        match &mut self.default_service {
            Some(default) if default.sid == sid => Some(default),
            _ => self.services.get_mut(sid),
        }
    }

    /// Every service, in the order they are listed: by SID, so that a page token (the last
    /// SID of a page) marks a place in the list that deletes and creates do not move.
    pub(super) fn services_by_sid(&self) -> Vec<&Service> {
        let mut all: Vec<&Service> = self
            .default_service
            .iter()
            .chain(self.services.values())
            .collect();
        all.sort_unstable_by(|a, b| a.sid.cmp(&b.sid));
        all
    }

    /// Deletes the service `sid` with its verifications, as Twilio does; `false` when there is
    /// no such service. The verifications are gone for the API (canceled, unless approved, and
    /// no longer the newest of their number), but their records stay until forgotten, so that
    /// their attempts are still listed.
    pub(super) fn delete_service(&mut self, sid: &str) -> bool {
        let deleted = match &self.default_service {
            Some(default) if default.sid == sid => self.default_service.take().is_some(),
            _ => self.services.remove(sid).is_some(),
        };
        if deleted {
            let gone: Vec<(String, String)> = self
                .verifications
                .values()
                .filter(|v| v.service_sid == sid)
                .map(|v| (v.sid.clone(), v.to.clone()))
                .collect();
            for (verification, to) in gone {
                if let Some(v) = self.verifications.get_mut(&verification)
                    && !v.status.is_gone()
                {
                    v.status = Status::Canceled;
                }
                self.latest.remove(&(sid.to_owned(), to));
            }
        }
        deleted
    }

    /// Every send attempt the state keeps, with its verification, in no particular order.
    pub(super) fn attempts(&self) -> impl Iterator<Item = (&Verification, &Attempt)> {
        self.verifications
            .values()
            .flat_map(|v| v.attempts.iter().map(move |a| (v, a)))
    }

    /// The send attempt `sid`, with its verification.
    pub(super) fn attempt(&self, sid: &str) -> Option<(&Verification, &Attempt)> {
        self.attempts().find(|(_, a)| a.sid == sid)
    }
}
