//! `phone-verify`: phone-number verification from the shell, through VerifyKit, Verifik,
//! Messente Verigator and Twilio Verify, against an embedded sandbox unless told otherwise. See the crate's
//! README and `phone-verify --help`.

/// `println!` that ignores a closed stdout (`phone-verify countries | head -1`) instead of
/// panicking, and writes control characters as U+FFFD ([`output::write_line`]): provider
/// text must not drive the terminal.
macro_rules! outln {
    ($($arg:tt)*) => {{
        let line = format!($($arg)*);
        let _ = crate::output::write_line(&mut std::io::stdout().lock(), &line);
    }};
}

/// `println!` of a JSON document or a handle, as it is ([`output::write_document`]): its text
/// must read back the same. Ignores a closed stdout; what must not be lost (a handle, a token)
/// is written with `write_document` itself, which says whether it got there.
macro_rules! outjson {
    ($($arg:tt)*) => {{
        let document = format!($($arg)*);
        let _ = crate::output::write_document(&mut std::io::stdout().lock(), &document);
    }};
}

/// `eprintln!` that ignores a closed stderr, control characters written as U+FFFD.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let text = crate::output::terminal_safe(&line);
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }};
}

/// `eprint!` that ignores a closed stderr, and flushes; control characters written as U+FFFD.
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let text = crate::output::terminal_safe(&line);
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{text}");
        let _ = stderr.flush();
    }};
}

mod args;
mod commands;
mod demo;
mod exit;
mod guard;
mod input;
mod output;
mod routes;
mod routing;
mod target;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind as ClapErrorKind;

use crate::args::{Cli, Command, GuardCommand, VerifikCommand};
use crate::exit::{ERROR, Failure, Outcome, SUCCESS, USAGE};
use crate::target::Context;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        errln!("phone-verify: internal error: {message}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            if matches!(
                err.kind(),
                ClapErrorKind::DisplayHelp | ClapErrorKind::DisplayVersion
            ) {
                return ExitCode::from(SUCCESS);
            }
            // `--json` promises one JSON document on stdout, for a refused command line too.
            if std::env::args_os().any(|arg| arg == "--json") {
                outjson!("{}", Failure::usage(usage_message(&err)).to_json());
            }
            return ExitCode::from(USAGE);
        }
    };
    init_tracing();
    let json = cli.global.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            errln!("phone-verify: error: cannot start the async runtime: {err}");
            return ExitCode::from(ERROR);
        }
    };
    match block_on_caught(&runtime, run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            errln!("phone-verify: error: {failure}");
            if let Some(hint) = failure.hint() {
                errln!("phone-verify: {hint}");
            }
            if json {
                outjson!("{}", failure.to_json());
            }
            ExitCode::from(failure.code())
        }
    }
}

async fn run(cli: Cli) -> Outcome {
    let global = cli.global;
    match cli.command {
        Command::Demo => {
            no_target("demo", &global)?;
            demo::run(global.json).await
        }
        Command::Sandbox(args) => {
            no_target("sandbox", &global)?;
            commands::sandbox(args, global.json).await
        }
        Command::Start(args) => commands::start(&mut Context::new(&global)?, args).await,
        Command::Check(args) => commands::check(&mut Context::new(&global)?, args).await,
        Command::Resolve(args) => commands::resolve(&mut Context::new(&global)?, args).await,
        Command::Methods(args) => commands::methods(&mut Context::new(&global)?, args).await,
        Command::Countries(args) => commands::countries(&mut Context::new(&global)?, args).await,
        Command::Guard(GuardCommand::Status(args)) => {
            guard::status(&mut Context::new(&global)?, args).await
        }
        Command::Routes(args) => routes::routes(&Context::new(&global)?, &args),
        Command::Verifik(VerifikCommand::Login(args)) => {
            commands::verifik_login(&mut Context::new(&global)?, args).await
        }
    }
}

/// Runs `command` to its end on `runtime`. A panic on the way (a bug, which the hook has
/// described on stderr) ends it as [`Failure::Internal`], so that `--json` still gets its one
/// document; a panic in a task the command spawned is the failure of that task already.
fn block_on_caught(
    runtime: &tokio::runtime::Runtime,
    command: impl Future<Output = Outcome>,
) -> Outcome {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(command)))
        .unwrap_or(Err(Failure::Internal))
}

/// The first line of clap's error, without its `error: ` prefix.
fn usage_message(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid command line");
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// `demo` and `sandbox` run their own sandbox: the target options make no sense there.
fn no_target(command: &str, global: &args::Global) -> Result<(), Failure> {
    let given = global.live
        || global.target.is_some()
        || global.sandbox_url.is_some()
        || global.base_url.is_some()
        || global.key_stdin;
    if given {
        return Err(Failure::usage(format!(
            "{command} runs its own sandbox: it takes no --target, --live, --sandbox-url, \
             --base-url or --key-stdin"
        )));
    }
    Ok(())
}

/// Logs to stderr when `RUST_LOG` asks for them; silent otherwise.
fn init_tracing() {
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_command_ends_it_as_an_internal_failure_without_its_message() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let outcome = block_on_caught(&runtime, async {
            panic!("the phone +905321234567 and the code 123456");
        });
        let failure = outcome.unwrap_err();
        assert!(matches!(failure, Failure::Internal), "{failure:?}");
        let json = failure.to_json().to_string();
        assert!(
            !json.contains("+905321234567") && !json.contains("123456"),
            "{json}"
        );
        // The runtime still runs what comes after.
        assert_eq!(
            block_on_caught(&runtime, async { Ok(SUCCESS) }).unwrap(),
            SUCCESS
        );
    }
}
