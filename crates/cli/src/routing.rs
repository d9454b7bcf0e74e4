//! `--config FILE`: `start`, `check` and `resolve` through a router of several providers.

use std::path::Path;

use phone_verify::router::Router;
use phone_verify::{Provider, Registry, RoutingConfig};

use crate::exit::Failure;
use crate::target::Context;

/// The configuration in `path` and the router built from it through the registry.
pub(crate) fn load(path: &Path) -> Result<(RoutingConfig, Router), Failure> {
    let text = crate::input::read_file(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let config: RoutingConfig = toml::from_str(&text).map_err(|e| {
        // The message and the place only: toml's own `Display` quotes the offending line,
        // which may hold a credential.
        let place = e.span().map(|span| line_and_column(&text, span.start));
        let place = place.map_or_else(String::new, |(line, column)| format!(":{line}:{column}"));
        Failure::usage(format!(
            "{}{place}: {}",
            path.display(),
            e.message().trim_end()
        ))
    })?;
    let router = Registry::with_builtin()
        .build_router(&config)
        .map_err(|e| Failure::usage(format!("{}: {}", path.display(), e.message())))?;
    Ok((config, router))
}

/// The 1-based line and column of byte `at` in `text`.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_lines_and_columns() {
        let text = "a = 1\nbé = [2]\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        assert_eq!(line_and_column(text, text.find('[').unwrap()), (2, 6));
        assert_eq!(line_and_column(text, 999), (3, 1));
    }
}
