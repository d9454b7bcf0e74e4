//! Twilio's state: its services and verifications, bounded.

use time::OffsetDateTime;

use super::records::{Service, Verification};
use crate::bounded::BoundedMap;

/// Twilio's services and verifications. Services created through the API and verifications
/// each keep at most [`SandboxConfig::records_capacity`](crate::SandboxConfig::records_capacity)
/// entries, forgetting the oldest first; the default service is never forgotten.
#[derive(Debug)]
pub(crate) struct TwilioState {
    /// [`TWILIO_SERVICE_SID`](crate::config::TWILIO_SERVICE_SID), which exists from the start.
    pub(super) default_service: Service,
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
            default_service: Service::sandbox_default(OffsetDateTime::now_utc()),
            services: BoundedMap::new(capacity),
            verifications: BoundedMap::new(capacity),
            latest: BoundedMap::new(capacity),
        }
    }

    /// The service `sid`, if it exists.
    pub(super) fn service(&self, sid: &str) -> Option<&Service> {
        if sid == self.default_service.sid {
            Some(&self.default_service)
        } else {
            self.services.get(sid)
        }
    }
}
