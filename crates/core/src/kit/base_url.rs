//! [`BaseUrl`]: where a provider lives; `https` only, except on loopback.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{Error, Result};

/// A provider's base URL, such as `https://api.verifik.co/v2` or a sandbox's
/// `http://127.0.0.1:8025/verifik/v2`.
///
/// Only `https` is accepted, except for loopback hosts (`localhost`, `127.0.0.0/8`, `::1`) used
/// by tests and the sandbox. Credentials, queries and fragments in the URL are refused.
///
/// ```
/// use phone_verify_core::kit::BaseUrl;
///
/// let base = BaseUrl::parse("https://web-rest.verifykit.com/v1.0")?;
/// assert_eq!(base.join("send-otp").as_str(), "https://web-rest.verifykit.com/v1.0/send-otp");
/// assert!(BaseUrl::parse("http://127.0.0.1:8025/verifykit/web-rest/v1.0").is_ok());
/// assert!(BaseUrl::parse("http://web-rest.verifykit.com/v1.0").is_err());
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Parses and checks a base URL.
    pub fn parse(input: &str) -> Result<Self> {
        let mut url = Url::parse(input.trim())
            .map_err(|e| Error::invalid_input(format!("invalid base URL: {e}")).with_source(e))?;
        check_allowed(&url)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid_input(
                "base URL must not have a query or fragment",
            ));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Self(url))
    }

    /// The URL of `path` (relative, without a leading `/`) under this base, for the fixed paths
    /// of a provider's API (`"send-otp"`, `"blacklist/add"`).
    ///
    /// `path` is taken as URL text: its `/` separate segments, and `.` and `..` segments
    /// (`%2e%2e` too) and `\` are resolved as a URL parser resolves them, so a path with them
    /// may leave the base (`items/%2e%2e/%2e%2e/admin` under `https://api.acme.test/v1` is
    /// `https://api.acme.test/admin`). Keeping it to fixed text is the caller's duty: a value
    /// from outside (an id, a reference, a handle's field) goes in a path through
    /// [`join_segments`](Self::join_segments), which keeps it one segment under the base.
    pub fn join(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let joined = format!("{}{}", self.0.path(), path.trim_start_matches('/'));
        url.set_path(&joined);
        url
    }

    /// The URL of `segments` under this base, each one path segment whatever it holds: `/`,
    /// `\`, `%` and the like are percent-encoded (`a/b` is `a%2Fb`), so a value from outside
    /// (an id, a reference) cannot leave the base. An empty, `.` or `..` segment is refused
    /// ([`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)), before any request.
    ///
    /// ```
    /// use phone_verify_core::kit::BaseUrl;
    ///
    /// let base = BaseUrl::parse("https://api.acme.test/v1")?;
    /// let url = base.join_segments(&["Services", "VA1/../admin"])?;
    /// assert_eq!(url.as_str(), "https://api.acme.test/v1/Services/VA1%2F..%2Fadmin");
    /// assert!(base.join_segments(&["Services", ".."]).is_err());
    /// # Ok::<(), phone_verify_core::Error>(())
    /// ```
    pub fn join_segments(&self, segments: &[&str]) -> Result<Url> {
        for segment in segments {
            let refused = match *segment {
                "" => "an empty path segment",
                "." => "a `.` path segment",
                ".." => "a `..` path segment",
                _ => continue,
            };
            return Err(Error::invalid_input(format!(
                "refusing {refused} under the base URL"
            )));
        }
        let mut url = self.0.clone();
        // A base URL has a host, so its path can take segments.
        if let (Ok(mut path), false) = (url.path_segments_mut(), segments.is_empty()) {
            path.pop_if_empty().extend(segments);
        }
        Ok(url)
    }

    /// The base URL itself (with a trailing `/`).
    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

/// The URLs of a provider's fixed paths under one base, joined once when a client is built:
/// a request then clones a ready [`Url`] instead of joining and re-parsing its path.
///
/// ```
/// use phone_verify_core::kit::{BaseUrl, JoinedUrls};
///
/// let urls = JoinedUrls::new(BaseUrl::parse("https://web-rest.verifykit.com/v1.0")?, &["check-otp"]);
/// assert_eq!(urls.url("check-otp").as_str(), "https://web-rest.verifykit.com/v1.0/check-otp");
/// assert_eq!(urls.url("other").as_str(), "https://web-rest.verifykit.com/v1.0/other");
/// # Ok::<(), phone_verify_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct JoinedUrls {
    base: BaseUrl,
    joined: Vec<(&'static str, Url)>,
}

impl JoinedUrls {
    /// `paths` (relative, as for [`BaseUrl::join`]) joined to `base`.
    pub fn new(base: BaseUrl, paths: &[&'static str]) -> Self {
        let joined = paths.iter().map(|path| (*path, base.join(path))).collect();
        Self { base, joined }
    }

    /// The URL of `path`: a copy of the joined one, or [`BaseUrl::join`] for a path not given
    /// to [`new`](Self::new).
    pub fn url(&self, path: &str) -> Url {
        self.joined
            .iter()
            .find(|(known, _)| *known == path)
            .map_or_else(|| self.base.join(path), |(_, url)| url.clone())
    }

    /// Whether `path` was joined in [`new`](Self::new), so that [`url`](Self::url) copies it
    /// rather than joining it again: a client's tests hold every endpoint to that.
    pub fn contains(&self, path: &str) -> bool {
        self.joined.iter().any(|(known, _)| *known == path)
    }

    /// The base URL.
    pub fn base(&self) -> &BaseUrl {
        &self.base
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({self})")
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// The base URL of a provider that a phone-verify sandbox at `sandbox` emulates under `path`:
/// `{sandbox}/{path}`, spaces and trailing `/` of `sandbox` dropped.
///
/// ```
/// use phone_verify_core::kit::sandbox_url;
///
/// assert_eq!(sandbox_url(" http://127.0.0.1:8025/ ", "verifik/v2"), "http://127.0.0.1:8025/verifik/v2");
/// ```
pub fn sandbox_url(sandbox: &str, path: &str) -> String {
    let base = sandbox.trim().trim_end_matches('/');
    format!("{base}/{}", path.trim_start_matches('/'))
}

/// Gives a provider builder its two base-URL setters, written once for every provider:
/// `base_url(url)` stores `url` (trimmed) in the builder's `String` field `$field`, and
/// `sandbox_url(sandbox)` stores [`sandbox_url`](crate::kit::sandbox_url)`(sandbox, $path)`,
/// the provider's base URL in a phone-verify sandbox. The builder checks the URL with
/// [`BaseUrl::parse`](crate::kit::BaseUrl::parse) when it builds. A provider with more than one
/// host (VerifyKit) writes its own setters.
///
/// ```
/// pub struct AcmeBuilder {
///     base_url: String,
/// }
///
/// phone_verify_core::base_url_setters!(AcmeBuilder { base_url, sandbox: "acme/v1" });
///
/// let builder = AcmeBuilder { base_url: String::new() }.sandbox_url("http://127.0.0.1:8025");
/// assert_eq!(builder.base_url, "http://127.0.0.1:8025/acme/v1");
/// assert_eq!(builder.base_url(" https://eu.acme.test/v1 ").base_url, "https://eu.acme.test/v1");
/// ```
#[macro_export]
macro_rules! base_url_setters {
    ($builder:ty { $field:ident, sandbox: $path:literal }) => {
        impl $builder {
            /// Sets the base URL (the provider's production host by default), to which the
            /// API's paths are joined; checked (`https`, or `http` on loopback only) when the
            /// builder builds.
            #[must_use]
            pub fn base_url(mut self, url: &str) -> Self {
                self.$field = url.trim().to_owned();
                self
            }

            #[doc = concat!(
                "Points the client at a phone-verify sandbox at `base_url` (e.g. ",
                "`http://127.0.0.1:8025`): `{base_url}/", $path, "`. The credentials are left ",
                "as they are."
            )]
            #[must_use]
            pub fn sandbox_url(mut self, base_url: &str) -> Self {
                self.$field = $crate::kit::sandbox_url(base_url, $path);
                self
            }
        }
    };
}

/// Whether the URL's host is a loopback address, or `localhost` itself. Not a name under
/// `.localhost`: the system's resolver (glibc, musl) does not keep those on the machine, and a
/// search domain may take `api.localhost` to a routable host. (The URL parser has already
/// lowercased a domain.)
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => matches!(name, "localhost" | "localhost."),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Refuses URLs this library never sends a request to.
pub(crate) fn check_allowed(url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => {
            return Err(Error::invalid_input(format!(
                "refusing plain http to {}: use https (http is allowed only for loopback hosts)",
                url.host_str().unwrap_or_default()
            )));
        }
        other => {
            return Err(Error::invalid_input(format!(
                "unsupported URL scheme {other:?}"
            )));
        }
    }
    if url.host().is_none() {
        return Err(Error::invalid_input("URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input("URL must not contain credentials"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http() {
        for ok in [
            "https://api.verifik.co/v2",
            "https://api.verifik.co/v2/",
            "http://localhost:8080/x",
            "http://LocalHost./x",
            "http://127.0.0.1:1/verifik/v2",
            "http://127.8.9.10/",
            "http://[::1]:9000/verigator/v1",
        ] {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_the_rest() {
        for bad in [
            "http://api.verifik.co/v2",
            "http://10.0.0.1/",
            "http://api.localhost/v1",
            "http://localhost.example.com/v1",
            "http://localhost..:8025/v1",
            "http://192.168.1.1/",
            "ftp://127.0.0.1/",
            "https://user:pass@api.verifik.co/v2",
            "https://user@api.verifik.co/v2",
            "https://:pass@api.verifik.co/v2",
            "https://api.verifik.co/v2?x=1",
            "https://api.verifik.co/v2#frag",
            "not a url",
            "",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn joins_paths_under_the_base() {
        let base = BaseUrl::parse("http://127.0.0.1:1/verifykit/api/v1.0").unwrap();
        assert_eq!(
            base.join("result").as_str(),
            "http://127.0.0.1:1/verifykit/api/v1.0/result"
        );
        assert_eq!(
            base.join("/blacklist/add").path(),
            "/verifykit/api/v1.0/blacklist/add"
        );
        assert_eq!(base.to_string(), "http://127.0.0.1:1/verifykit/api/v1.0");
        assert_eq!(
            format!("{base:?}"),
            "BaseUrl(http://127.0.0.1:1/verifykit/api/v1.0)"
        );

        let urls = JoinedUrls::new(base, &["result", "/blacklist/add"]);
        assert!(urls.contains("result") && urls.contains("/blacklist/add"));
        assert!(!urls.contains("check") && !urls.contains("/result"));
        // A path joined in advance and one joined on the way are the same URL.
        assert_eq!(
            urls.url("result").as_str(),
            "http://127.0.0.1:1/verifykit/api/v1.0/result"
        );
        assert_eq!(
            urls.url("check").as_str(),
            "http://127.0.0.1:1/verifykit/api/v1.0/check"
        );
        assert_eq!(
            urls.base().to_string(),
            "http://127.0.0.1:1/verifykit/api/v1.0"
        );
    }

    #[test]
    fn joined_segments_stay_under_the_base() {
        let base = BaseUrl::parse("https://api.acme.test/v1").unwrap();
        let path = |segments: &[&str]| base.join_segments(segments).unwrap().path().to_owned();
        assert_eq!(path(&["items", "42"]), "/v1/items/42");
        assert_eq!(path(&["a/b"]), "/v1/a%2Fb");
        assert_eq!(
            path(&["items", "%2e%2e", "%2e%2e", "admin"]),
            "/v1/items/%252e%252e/%252e%252e/admin"
        );
        assert_eq!(path(&["..\\..\\admin"]), "/v1/..%5C..%5Cadmin");
        assert_eq!(path(&["a?b#c"]), "/v1/a%3Fb%23c");
        assert_eq!(path(&[]), "/v1/");
        let url = base.join_segments(&["a?b#c"]).unwrap();
        assert_eq!((url.query(), url.fragment()), (None, None));
        for refused in [&["items", ".."][..], &["."], &[""], &["items", ""]] {
            let err = base.join_segments(refused).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{refused:?}");
        }
        // Under a base at the host's root too.
        let root = BaseUrl::parse("http://127.0.0.1:1").unwrap();
        assert_eq!(root.join_segments(&["x"]).unwrap().path(), "/x");
    }

    // The macro writes `pub` setters, for a provider's public builder.
    #[allow(unreachable_pub)]
    mod builder {
        pub struct Builder {
            pub url: String,
        }

        crate::base_url_setters!(Builder {
            url,
            sandbox: "acme/v2"
        });
    }
    use builder::Builder;

    #[test]
    fn setters_store_the_url_or_the_sandbox_path() {
        let builder = Builder { url: String::new() };
        let sandboxed = builder.sandbox_url(" http://127.0.0.1:8025// ");
        assert_eq!(sandboxed.url, "http://127.0.0.1:8025/acme/v2");
        assert!(BaseUrl::parse(&sandboxed.url).is_ok());
        let direct = sandboxed.base_url(" https://api.acme.test/v2 ");
        assert_eq!(direct.url, "https://api.acme.test/v2");
        assert_eq!(
            sandbox_url("http://[::1]:1", "/x/v1"),
            "http://[::1]:1/x/v1"
        );
    }
}
