//! Verigator's state: its services and their users, bounded.

use std::sync::Arc;

use super::records::{Service, User};
use crate::bounded::{BoundedMap, SeqLog};

/// User registrations Verigator keeps, across all its services: past it, each registration
/// forgets the user of the oldest one (if still registered). Room for the 100,000 users of the
/// benchmark of large services (`cargo xtask bench -- --phases verigator-scale`) and more.
pub(crate) const MAX_USERS: usize = 200_000;

/// Verigator's services and their users. Services keep at most
/// [`SandboxConfig::records_capacity`](crate::SandboxConfig::records_capacity) entries,
/// forgetting the oldest first with its users; users are kept for the newest [`MAX_USERS`]
/// registrations, whatever their service. Each user keeps only its latest authentication.
#[derive(Debug)]
pub(crate) struct VerigatorState {
    /// Services by id.
    services: BoundedMap<Arc<str>, Service>,
    /// The service of each user registration, by the registration's sequence number (the
    /// user's in [`Users`](super::records::Users)).
    registrations: SeqLog<Arc<str>>,
}

impl VerigatorState {
    /// Empty state keeping at most `capacity` services and [`MAX_USERS`] user registrations.
    pub(crate) fn new(capacity: usize) -> Self {
        Self::with_user_capacity(capacity, MAX_USERS)
    }

    /// Empty state keeping at most `services` services and `users` user registrations.
    fn with_user_capacity(services: usize, users: usize) -> Self {
        Self {
            services: BoundedMap::new(services),
            registrations: SeqLog::new(users),
        }
    }

    /// The service `sid`, if it exists.
    pub(super) fn service(&self, sid: &str) -> Option<&Service> {
        self.services.get(sid)
    }

    /// The service `sid`, mutably, if it exists.
    pub(super) fn service_mut(&mut self, sid: &str) -> Option<&mut Service> {
        self.services.get_mut(sid)
    }

    /// Whether a service has this `fqdn` (ASCII case ignored).
    pub(super) fn fqdn_taken(&self, fqdn: &str) -> bool {
        self.services
            .values()
            .any(|s| s.fqdn.eq_ignore_ascii_case(fqdn))
    }

    /// Adds `service` (its id must be new); forgets the oldest service, with its users, past
    /// the capacity.
    pub(super) fn add_service(&mut self, service: Service) {
        self.services.insert(Arc::clone(&service.id), service);
    }

    /// Deletes the service `sid` with its users; `false` when there is no such service.
    pub(super) fn remove_service(&mut self, sid: &str) -> bool {
        self.services.remove(sid).is_some()
    }

    /// Registers `user` in service `sid` (its `id_in_service` must be new there); past
    /// [`MAX_USERS`] registrations, forgets the user of the oldest. `false`, registering
    /// nothing, when there is no such service.
    pub(super) fn add_user(&mut self, sid: &str, user: User) -> bool {
        let Some(key) = self.services.get(sid).map(|s| Arc::clone(&s.id)) else {
            return false;
        };
        let (seq, forgotten) = self.registrations.push(Arc::clone(&key));
        for (old_seq, old_sid) in forgotten {
            if let Some(service) = self.services.get_mut(&*old_sid) {
                service.users.forget(old_seq);
            }
        }
        if let Some(service) = self.services.get_mut(&*key) {
            service.users.insert(seq, user);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::verigator::records::Users;

    fn service(id: &str, fqdn: &str) -> Service {
        Service {
            id: Arc::from(id),
            name: "Shop".to_owned(),
            fqdn: fqdn.to_owned(),
            ctime: OffsetDateTime::UNIX_EPOCH,
            users: Users::default(),
        }
    }

    fn user(n: u32) -> User {
        User::new(
            format!("u{n}"),
            format!("name{n}"),
            format!("+3725{n:07}"),
            OffsetDateTime::UNIX_EPOCH,
        )
    }

    fn has_user(state: &mut VerigatorState, sid: &str, n: u32) -> bool {
        state
            .service_mut(sid)
            .is_some_and(|s| s.users.get_mut(&format!("u{n}")).is_some())
    }

    #[test]
    fn services_past_the_capacity_forget_the_oldest_with_its_users() {
        let mut state = VerigatorState::with_user_capacity(2, 10);
        state.add_service(service("a", "a.example"));
        assert!(state.add_user("a", user(1)));
        state.add_service(service("b", "b.example"));
        state.add_service(service("c", "c.example"));
        assert!(state.service("a").is_none(), "the oldest went first");
        assert!(!state.fqdn_taken("A.example"), "its fqdn is free again");
        assert!(state.service("b").is_some() && state.service("c").is_some());
        assert!(
            !state.add_user("a", user(2)),
            "no service, nothing registered"
        );
        assert!(state.remove_service("b"));
        assert!(!state.remove_service("b"));
        assert!(state.fqdn_taken("C.EXAMPLE"));
    }

    #[test]
    fn registrations_past_the_capacity_forget_the_oldest_user_of_any_service() {
        let mut state = VerigatorState::with_user_capacity(10, 3);
        state.add_service(service("a", "a.example"));
        state.add_service(service("b", "b.example"));
        assert!(state.add_user("a", user(1)));
        assert!(state.add_user("b", user(2)));
        assert!(state.add_user("a", user(3)));
        assert!(state.add_user("b", user(4)));
        assert!(
            !has_user(&mut state, "a", 1),
            "the oldest registration went first"
        );
        assert!(has_user(&mut state, "b", 2) && has_user(&mut state, "a", 3));
        assert!(has_user(&mut state, "b", 4));
        let a = state.service("a").unwrap();
        assert_eq!(a.users.len(), 1);
        assert!(
            !a.users.contains_id_in_service("name1"),
            "its id_in_service is free"
        );

        // A deleted user's registration still counts until it is the oldest: forgetting it
        // then removes nothing.
        assert!(state.service_mut("b").unwrap().users.remove("u2"));
        assert!(state.add_user("a", user(5)));
        assert!(has_user(&mut state, "a", 3) && has_user(&mut state, "b", 4));
        assert!(state.add_user("b", user(6)));
        assert!(!has_user(&mut state, "a", 3));
        let listed: Vec<&str> = state
            .service("b")
            .unwrap()
            .users
            .iter()
            .map(|u| u.id.as_str())
            .collect();
        assert_eq!(listed, ["u4", "u6"], "in registration order");
    }
}
