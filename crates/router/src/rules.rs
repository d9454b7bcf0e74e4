//! [`Rule`]s: which routes may take a start, and in which order ([`Strategy`]).

use serde::{Deserialize, Serialize};

use phone_verify_core::{Channel, Error, Language, PhoneNumber, Result, StartRequest};

/// How a rule orders its routes for one start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Strategy {
    /// The routes in the order listed: the first is tried, the next on failover.
    #[default]
    Failover,
    /// The first route is picked by weight (smooth weighted round-robin: with weights 70/30,
    /// exactly 7 of every 10 starts go first to the first route); the others follow in the order
    /// listed for failover.
    Weighted,
    /// Each start begins at the next route in turn; the others follow for failover.
    RoundRobin,
}

/// A routing rule: a condition on the start request and the routes that may take it.
///
/// Every condition left empty matches anything; a request must meet all the others. The first
/// rule that matches decides; a request no rule matches is refused with `Unsupported` before
/// any network request. Rules are data: build them in code or read them with serde (TOML:
/// `regions = ["TR"]`, `routes = ["verifykit"]`, `strategy = "weighted"`, `weights = [70, 30]`).
///
/// ```
/// use phone_verify_router::{Rule, Strategy};
///
/// let turkey = Rule::to(["verifykit"]).regions(["TR"]);
/// let rest = Rule::to(["verigator", "verifik"]).strategy(Strategy::Weighted).weights([80, 20]);
/// # let _ = (turkey, rest);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Rule {
    /// ISO 3166 regions of the phone (`TR`, `CO`), as libphonenumber assigns them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Calling codes of the phone, without `+` (`90`, `57`); each must be a calling code of
    /// libphonenumber's metadata (`44`, not `4400`), else the router is not built.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calling_codes: Vec<u16>,
    /// Channels of the start; each must be one a route of the rule offers (for codes or in
    /// reverse), else the router is not built.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Primary language subtags of the start (`tr`, `es`: 2-3 letters, any case; a whole tag
    /// such as `pt-BR` is refused when the router is built); a start without a language matches
    /// only a rule without languages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// The route names, in order.
    pub routes: Vec<String>,
    /// How the routes are ordered for each start.
    #[serde(default)]
    pub strategy: Strategy,
    /// Weights of the routes (same length as `routes`), for [`Strategy::Weighted`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<u32>,
}

impl Rule {
    /// A rule matching every start, over `routes` with ordered failover.
    pub fn to<I, S>(routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            routes: routes.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Matches only phones of these regions.
    #[must_use]
    pub fn regions<I: IntoIterator<Item = S>, S: Into<String>>(mut self, regions: I) -> Self {
        self.regions = regions.into_iter().map(Into::into).collect();
        self
    }

    /// Matches only phones with these calling codes (without `+`).
    #[must_use]
    pub fn calling_codes(mut self, codes: impl IntoIterator<Item = u16>) -> Self {
        self.calling_codes = codes.into_iter().collect();
        self
    }

    /// Matches only starts on these channels (each offered by a route of the rule).
    #[must_use]
    pub fn channels(mut self, channels: impl IntoIterator<Item = Channel>) -> Self {
        self.channels = channels.into_iter().collect();
        self
    }

    /// Matches only starts in these languages (primary subtags: `pt`, not `pt-BR`).
    #[must_use]
    pub fn languages<I: IntoIterator<Item = S>, S: Into<String>>(mut self, languages: I) -> Self {
        self.languages = languages.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the strategy.
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the weights, for [`Strategy::Weighted`].
    #[must_use]
    pub fn weights(mut self, weights: impl IntoIterator<Item = u32>) -> Self {
        self.weights = weights.into_iter().collect();
        self
    }

    /// Whether `request` meets every condition of the rule.
    pub fn matches(&self, request: &StartRequest) -> bool {
        let phone = request.phone.as_ref();
        let region_ok = self.regions.is_empty()
            || phone
                .and_then(|p| p.region())
                .is_some_and(|r| self.regions.iter().any(|x| x.eq_ignore_ascii_case(r)));
        let code_ok = self.calling_codes.is_empty()
            || phone.is_some_and(|p| self.calling_codes.contains(&p.calling_code_number()));
        let channel_ok = self.channels.is_empty() || self.channels.contains(&request.channel);
        let language_ok = self.languages.is_empty()
            || request.language.as_ref().is_some_and(|l| {
                self.languages
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(l.primary()))
            });
        region_ok && code_ok && channel_ok && language_ok
    }

    /// Checks the rule's own consistency (route names are checked by the router); `number`
    /// names it in errors, counted from 1 in the configuration's order.
    pub(crate) fn validate(&self, number: usize) -> Result<()> {
        let bad = |why: String| Err(Error::invalid_input(format!("rule {number}: {why}")));
        if self.routes.is_empty() {
            return bad("lists no routes".into());
        }
        // A region libphonenumber does not know (`UK` for `GB`) would never match.
        if let Some(region) = self
            .regions
            .iter()
            .find(|r| PhoneNumber::region_calling_code(r).is_none())
        {
            return bad(format!(
                "region {:?} is not an ISO 3166-1 alpha-2 region of libphonenumber (e.g. GB, TR)",
                region.chars().take(8).collect::<String>()
            ));
        }
        // Nor would a calling code no number has (`4400` for `44`).
        if let Some(code) = self
            .calling_codes
            .iter()
            .find(|c| !PhoneNumber::is_calling_code(**c))
        {
            return bad(format!(
                "calling code {code} is not a country calling code of libphonenumber (write it \
                 without `+`, e.g. 44 or 90)"
            ));
        }
        // A rule matches a start's primary subtag: `pt-BR` would never match, `pt` matches it.
        if let Some(language) = self.languages.iter().find(|l| !is_primary_subtag(l)) {
            let hint = Language::new(language).map_or_else(
                |_| "one such as \"en\" or \"pt\"".to_owned(),
                |l| format!("{:?}", l.primary()),
            );
            return bad(format!(
                "language {:?} is not a primary language subtag of 2-3 letters (rules match \
                 the start's primary subtag): write {hint}",
                language.chars().take(16).collect::<String>()
            ));
        }
        match self.strategy {
            Strategy::Weighted => {
                if self.weights.len() != self.routes.len() {
                    return bad(format!(
                        "{} weights for {} routes",
                        self.weights.len(),
                        self.routes.len()
                    ));
                }
                if self.weights.iter().all(|w| *w == 0) {
                    return bad("every weight is 0".into());
                }
            }
            Strategy::Failover | Strategy::RoundRobin => {
                if !self.weights.is_empty() {
                    return bad("weights need strategy \"weighted\"".into());
                }
            }
        }
        Ok(())
    }
}

/// Whether `language` is a bare primary language subtag: 2-3 ASCII letters (`pt`, `fil`).
fn is_primary_subtag(language: &str) -> bool {
    (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(phone: &str) -> StartRequest {
        StartRequest::sms(phone.parse().unwrap())
    }

    #[test]
    fn empty_conditions_match_everything() {
        assert!(Rule::to(["a"]).matches(&sms("+905321234567")));
        assert!(Rule::to(["a"]).matches(&StartRequest::reverse(Channel::WhatsApp)));
    }

    #[test]
    fn matches_region_calling_code_channel_and_language() {
        let tr = Rule::to(["a"]).regions(["tr"]);
        assert!(tr.matches(&sms("+905321234567")));
        assert!(!tr.matches(&sms("+573001234567")));
        assert!(!tr.matches(&StartRequest::reverse(Channel::WhatsApp)));
        let co = Rule::to(["a"]).calling_codes([57]);
        assert!(co.matches(&sms("+573001234567")));
        assert!(!co.matches(&sms("+905321234567")));
        let wa = Rule::to(["a"]).channels([Channel::WhatsApp]);
        assert!(!wa.matches(&sms("+905321234567")));
        let es = Rule::to(["a"]).languages(["es"]);
        assert!(!es.matches(&sms("+573001234567")));
        assert!(es.matches(&sms("+573001234567").language(Language::new("es-CO").unwrap())));
    }

    #[test]
    fn validates_regions() {
        assert!(Rule::to(["a"]).regions(["tr", "GB"]).validate(0).is_ok());
        for bad in ["UK", "TUR", "", "001", "Türkiye"] {
            let err = Rule::to(["a"])
                .regions(["TR", bad])
                .validate(3)
                .unwrap_err();
            assert_eq!(err.kind(), phone_verify_core::ErrorKind::InvalidInput);
            assert!(
                err.message().starts_with("rule 3: region ")
                    && err.message().contains("is not an ISO 3166-1"),
                "{err}"
            );
        }
    }

    #[test]
    fn validates_languages() {
        assert!(
            Rule::to(["a"])
                .languages(["pt", "TR", "fil"])
                .validate(0)
                .is_ok()
        );
        let err = Rule::to(["a"])
            .languages(["es", "pt-BR"])
            .validate(2)
            .unwrap_err();
        assert_eq!(err.kind(), phone_verify_core::ErrorKind::InvalidInput);
        assert!(
            err.message().starts_with("rule 2: language \"pt-BR\" ")
                && err.message().contains("write \"pt\""),
            "{err}"
        );
        for bad in ["pt_BR", "e", "engl", "", "en ", "español"] {
            let err = Rule::to(["a"]).languages([bad]).validate(0).unwrap_err();
            assert_eq!(
                err.kind(),
                phone_verify_core::ErrorKind::InvalidInput,
                "{bad}"
            );
            assert!(err.message().starts_with("rule 0: language "), "{err}");
        }
    }

    #[test]
    fn validates_weights() {
        assert!(Rule::to(["a", "b"]).validate(0).is_ok());
        assert!(Rule::to(Vec::<String>::new()).validate(0).is_err());
        let weighted = Rule::to(["a", "b"]).strategy(Strategy::Weighted);
        assert!(weighted.clone().weights([1]).validate(0).is_err());
        assert!(weighted.clone().weights([0, 0]).validate(0).is_err());
        assert!(weighted.weights([70, 30]).validate(0).is_ok());
        assert!(Rule::to(["a"]).weights([1]).validate(0).is_err());
    }

    #[test]
    fn reads_from_toml() {
        let rule: Rule = toml::from_str(
            r#"
            regions = ["CO"]
            channels = ["sms"]
            routes = ["a", "b"]
            strategy = "weighted"
            weights = [70, 30]
            "#,
        )
        .unwrap();
        assert_eq!(
            rule,
            Rule::to(["a", "b"])
                .regions(["CO"])
                .channels([Channel::Sms])
                .strategy(Strategy::Weighted)
                .weights([70, 30])
        );
        assert!(toml::from_str::<Rule>("routes = [\"a\"]\nregion = [\"CO\"]").is_err());
    }
}
