//! `routes PHONE --config FILE`: the routes the router would try for a start, in order, and
//! why the others would not be tried. Nothing is sent. The router is built for the command,
//! so every circuit is closed: it cannot show those of a running application.

use phone_verify::router::{RouteStatus, Rule, StartPlan, Strategy};
use phone_verify::{Channel, StartRequest};

use crate::args::RoutesArgs;
use crate::exit::{ERROR, Failure, Outcome, SUCCESS};
use crate::routing;
use crate::target::Context;

/// Prints the plan of a start to `args.phone`: a table, or JSON with `--json`. Exits 0 when a
/// route would take the start, 2 when none would: every route of the matching rule is filtered
/// out by its capabilities, or the router cannot take the start at all (no rule matches the
/// phone, no route offers the channel), which is printed as an error.
pub(crate) fn routes(ctx: &Context, args: &RoutesArgs) -> Outcome {
    let path = ctx.config.as_ref().ok_or_else(|| {
        Failure::usage("routes needs the router's configuration: --config phone-verify.toml")
    })?;
    let (config, router) = routing::load(path)?;
    let channel = args.channel.clone().unwrap_or(Channel::Sms);
    let mut request = StartRequest::otp(channel.clone(), args.phone.clone());
    if let Some(lang) = &args.lang {
        request = request.language(lang.clone());
    }
    let plan = router.plan(&request)?;
    let rule = plan.rule.and_then(|at| config.rules.get(at));
    let phone = args.phone.masked();
    if ctx.json {
        let listed: Vec<serde_json::Value> = plan
            .routes
            .iter()
            .map(|r| {
                serde_json::json!({
                    "route": r.route,
                    "provider": r.provider.as_str(),
                    "status": status_name(&r.status),
                    "why": r.status.to_string(),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "phone": phone,
            "channel": channel.as_str(),
            "rule": plan.rule.map(|at| at + 1),
            "matches": rule.map(conditions),
            "strategy": strategy_name(plan.strategy),
            "routes": listed,
        });
        outjson!("{doc}");
    } else {
        outln!("routes for {phone} by {channel}, from {}", path.display());
        outln!("{}", rule_line(&plan, rule));
        let width = plan.routes.iter().map(|r| r.route.len()).max().unwrap_or(0);
        let mut place = 0;
        for r in &plan.routes {
            let at = if r.status == RouteStatus::Candidate {
                place += 1;
                format!("{place}.")
            } else {
                "-".to_owned()
            };
            outln!(
                "  {at:<3} {:<width$}  {:<10}  {}",
                r.route,
                r.provider.as_str(),
                r.status
            );
        }
    }
    if plan.candidates().next().is_some() {
        Ok(SUCCESS)
    } else {
        if !ctx.json {
            errln!("phone-verify: no route would take this start");
        }
        Ok(ERROR)
    }
}

/// `rule 2 (regions CO; failover)`, or the router's default without rules.
fn rule_line(plan: &StartPlan, rule: Option<&Rule>) -> String {
    let strategy = strategy_name(plan.strategy);
    match (plan.rule, rule) {
        (Some(at), Some(rule)) => format!(
            "rule {} matched ({}; {strategy}): {}",
            at + 1,
            conditions(rule),
            rule.routes.join(", ")
        ),
        _ => format!("no rules: every route in the order configured ({strategy})"),
    }
}

/// A rule's conditions, e.g. `regions TR, channels sms`; `any start` without any.
fn conditions(rule: &Rule) -> String {
    let mut parts = Vec::new();
    if !rule.regions.is_empty() {
        parts.push(format!("regions {}", rule.regions.join(" ")));
    }
    if !rule.calling_codes.is_empty() {
        let codes: Vec<String> = rule.calling_codes.iter().map(|c| format!("+{c}")).collect();
        parts.push(format!("calling codes {}", codes.join(" ")));
    }
    if !rule.channels.is_empty() {
        let channels: Vec<&str> = rule.channels.iter().map(Channel::as_str).collect();
        parts.push(format!("channels {}", channels.join(" ")));
    }
    if !rule.languages.is_empty() {
        parts.push(format!("languages {}", rule.languages.join(" ")));
    }
    if parts.is_empty() {
        "any start".to_owned()
    } else {
        parts.join(", ")
    }
}

fn strategy_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Weighted => "weighted",
        Strategy::RoundRobin => "round_robin",
        _ => "failover",
    }
}

fn status_name(status: &RouteStatus) -> &'static str {
    match status {
        RouteStatus::Candidate => "candidate",
        RouteStatus::CircuitOpen => "circuit_open",
        RouteStatus::CannotTake(_) => "filtered_out",
        _ => "not_in_rule",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_and_statuses_have_their_json_names() {
        assert_eq!(strategy_name(Strategy::Failover), "failover");
        assert_eq!(strategy_name(Strategy::Weighted), "weighted");
        assert_eq!(strategy_name(Strategy::RoundRobin), "round_robin");
        assert_eq!(status_name(&RouteStatus::Candidate), "candidate");
        assert_eq!(status_name(&RouteStatus::CircuitOpen), "circuit_open");
        assert_eq!(
            status_name(&RouteStatus::CannotTake("channel whatsapp".to_owned())),
            "filtered_out"
        );
        assert_eq!(status_name(&RouteStatus::NotInRule), "not_in_rule");
    }
}
