//! Who is asking: the end user's IP address (from a trusted proxy's header when behind one)
//! and user agent (for `RequestContext`), their languages and region, whether the browser is a
//! mobile one, and their session cookie.

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, USER_AGENT};
use axum::http::request::Parts;
use phone_verify::RequestContext;

use crate::state::AppState;

/// The languages the screens are offered in (those VerifyKit's `init` localizes in the sandbox).
pub const LANGUAGES: [(&str, &str); 3] = [("en", "English"), ("tr", "Türkçe"), ("es", "Español")];

/// What a request says about the visitor. Its `Debug` never shows the session cookie.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Visitor {
    /// The end user's IP: the connection's peer address, or from a trusted proxy the address
    /// its forwarding header names
    /// ([`TrustedProxies::visitor_ip`](crate::proxy::TrustedProxies::visitor_ip)); an
    /// IPv4-mapped IPv6 address as its IPv4 address.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The first supported language of `Accept-Language`.
    pub language: Option<String>,
    /// The region of the first `Accept-Language` tag that has one (`tr-TR` → `TR`).
    pub region: Option<String>,
    /// The session cookie ([`Sessions::cookie_name`](crate::Sessions::cookie_name)), when the
    /// request carries exactly one.
    pub session: Option<String>,
}

impl fmt::Debug for Visitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The session cookie is a bearer credential (whoever sends it is the visitor): only
        // whether there is one is shown.
        f.debug_struct("Visitor")
            .field("ip", &self.ip)
            .field("user_agent", &self.user_agent)
            .field("language", &self.language)
            .field("region", &self.region)
            .field("session", &self.session.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Visitor {
    /// The end user's context, passed with every SDK call.
    pub fn context(&self) -> RequestContext {
        let mut context = RequestContext::new();
        if let Some(ip) = self.ip {
            context = context.end_user_ip(ip);
        }
        if let Some(agent) = &self.user_agent {
            context = context.user_agent(agent.clone());
        }
        context
    }

    /// Whether the user agent is a phone or tablet browser: it gets the deeplink button
    /// instead of a QR code.
    pub fn is_mobile(&self) -> bool {
        self.user_agent.as_deref().is_some_and(|ua| {
            ["Mobi", "Android", "iPhone", "iPad", "iPod"]
                .iter()
                .any(|m| ua.contains(m))
        })
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let accept = header(ACCEPT_LANGUAGE).unwrap_or_default();
        let name = state.sessions.cookie_name();
        let mut sessions = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .filter(|c| c.name() == name);
        // Several cookies of that name (one set for a parent domain or a narrower path by
        // someone else, next to this app's): none is believed.
        let session = match (sessions.next(), sessions.next()) {
            (Some(only), None) => Some(only.value().to_owned()),
            _ => None,
        };
        Ok(Self {
            ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| {
                    // An IPv4 visitor of a dual-stack listener is an IPv4 address, not
                    // `::ffff:a.b.c.d`, for the providers and the guard.
                    state
                        .proxies
                        .visitor_ip(peer.ip(), &parts.headers)
                        .to_canonical()
                }),
            user_agent: header(USER_AGENT),
            language: language_of(&accept),
            region: region_of(&accept),
            session,
        })
    }
}

/// The tags of an `Accept-Language` header, in the order given (weights are not re-sorted:
/// browsers list them best first).
fn tags(accept: &str) -> impl Iterator<Item = &str> {
    accept
        .split(',')
        .filter_map(|part| part.split(';').next())
        .map(str::trim)
        .filter(|t| !t.is_empty() && *t != "*")
}

/// The first supported language of an `Accept-Language` header.
pub fn language_of(accept: &str) -> Option<String> {
    tags(accept).find_map(|tag| {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        LANGUAGES
            .iter()
            .any(|(code, _)| *code == primary)
            .then_some(primary)
    })
}

/// The region of the first `Accept-Language` tag that names one.
pub fn region_of(accept: &str) -> Option<String> {
    tags(accept).find_map(|tag| {
        tag.split(['-', '_'])
            .skip(1)
            .find(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase)
    })
}

/// A supported language code for `tag`, or `None`.
pub fn supported_language(tag: &str) -> Option<&'static str> {
    LANGUAGES
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(tag.trim()))
        .map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_gives_language_and_region() {
        let accept = "de-DE,tr-TR;q=0.8,en;q=0.5";
        assert_eq!(language_of(accept).as_deref(), Some("tr"));
        assert_eq!(region_of(accept).as_deref(), Some("DE"));
        assert_eq!(region_of("zh-Hant-TW").as_deref(), Some("TW"));
        assert_eq!(language_of("fr, *"), None);
        assert_eq!(region_of("en"), None);
        assert_eq!(region_of(""), None);
        assert_eq!(supported_language(" ES "), Some("es"));
        assert_eq!(supported_language("fr"), None);
    }

    #[test]
    fn mobile_user_agents_are_recognised() {
        let visitor = |ua: &str| Visitor {
            user_agent: Some(ua.to_owned()),
            ..Visitor::default()
        };
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like \
                       Gecko) Chrome/120.0 Mobile Safari/537.36";
        let desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/120.0 Safari/537.36";
        assert!(visitor(iphone).is_mobile());
        assert!(visitor(android).is_mobile());
        assert!(!visitor(desktop).is_mobile());
        assert!(!Visitor::default().is_mobile());
    }

    #[test]
    fn debug_redacts_the_session_cookie() {
        let visitor = Visitor {
            ip: Some("203.0.113.7".parse().unwrap()),
            user_agent: Some("UA".into()),
            language: Some("tr".into()),
            region: Some("TR".into()),
            session: Some("cookie-canary-0123456789".into()),
        };
        let shown = format!("{visitor:?}");
        assert!(!shown.contains("cookie-canary"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(
            shown.contains("203.0.113.7") && shown.contains("UA"),
            "{shown}"
        );
        let shown = format!("{:?}", Visitor::default());
        assert!(shown.contains("session: None"), "{shown}");
    }

    #[test]
    fn the_context_carries_ip_and_user_agent() {
        let visitor = Visitor {
            ip: Some("203.0.113.7".parse().unwrap()),
            user_agent: Some("UA".into()),
            ..Visitor::default()
        };
        let context = visitor.context();
        assert_eq!(context.end_user_ip, visitor.ip);
        assert_eq!(context.user_agent.as_deref(), Some("UA"));
    }
}
