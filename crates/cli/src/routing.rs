//! `--config FILE`: `start`, `check` and `resolve` through a router of several providers.

use std::path::Path;

use phone_verify::router::Router;
use phone_verify::{Provider, Registry, RoutingConfig};

use crate::exit::Failure;
use crate::target::Context;

/// The configuration in `path` and the router built from it through the registry, without
/// the file's guard: [`router`] puts it in front, and `routes` sends nothing.
pub(crate) fn load(path: &Path) -> Result<(RoutingConfig, Router), Failure> {
    let text = crate::input::read_file(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    // The place (`line:column: `) and toml's message only, never the offending line, which
    // may hold a credential: `FILE:LINE:COLUMN: message`, or `FILE: message` without a place.
    let config = RoutingConfig::from_toml(&text).map_err(|e| {
        let message = e.message();
        let placed = message.starts_with(|c: char| c.is_ascii_digit());
        let separator = if placed { ":" } else { ": " };
        Failure::usage(format!("{}{separator}{message}", path.display()))
    })?;
    let mut unguarded = config.clone();
    unguarded.guard = None;
    let router = Registry::with_builtin()
        .build_router(&unguarded)
        .map_err(|e| Failure::usage(format!("{}: {}", path.display(), e.message())))?;
    Ok((config, router))
}

/// The router of `--config`, built through the registry as an application would and guarded
/// by the file's `[guard]` table or `--guard` (not both); `None` without `--config`.
pub(crate) async fn router(ctx: &Context) -> Result<Option<Provider>, Failure> {
    let Some(path) = &ctx.config else {
        return Ok(None);
    };
    let (config, router) = load(path)?;
    if !ctx.json {
        let names: Vec<&str> = router
            .routes()
            .map(phone_verify::router::Route::name)
            .collect();
        errln!(
            "phone-verify: router from {} (routes {})",
            path.display(),
            names.join(", ")
        );
    }
    let provider = Provider::from(router);
    let guard = match (&ctx.guard, &config.guard) {
        (Some(_), Some(_)) => {
            return Err(Failure::usage(format!(
                "--guard and the [guard] table of {} both give the guard's rules: keep one",
                path.display()
            )));
        }
        (Some(settings), None) | (None, Some(settings)) => Some(settings),
        (None, None) => None,
    };
    Ok(Some(match guard {
        Some(settings) => provider.guarded(settings).await?,
        None => provider,
    }))
}

/// The options that continue this command's verification in another process.
pub(crate) fn next_args(ctx: &Context) -> String {
    ctx.config
        .as_ref()
        .map(|path| format!(" --config {}", path.display()))
        .unwrap_or_default()
}
