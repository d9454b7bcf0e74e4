//! `start`, `check`, `resolve`, `methods`, `countries`, `verifik login` and `sandbox`.

use std::fs;
use std::io::{IsTerminal as _, Write as _};
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use phone_verify::providers::verifik::{self, VerifikBuilder, VerifikPhone};
use phone_verify::providers::verifykit::{VerifyKitBuilder, VerifyKitSetting};
use phone_verify::providers::{twilio, verigator};
use phone_verify::{
    Channel, CheckRequest, Code, ErrorKind, PhoneVerifier, RequestContext, SessionResolver,
    StartRequest, Verification,
};
use phone_verify_sandbox::{Sandbox, SandboxConfig};
use tokio::time::Instant;

use crate::args::{
    CheckArgs, CountriesArgs, LoginArgs, MethodsArgs, ResolveArgs, SandboxArgs, StartArgs,
};
use crate::exit::{Failure, Outcome, REJECTED, SUCCESS};
use crate::input;
use crate::output::{self, Spinner};
use crate::target::{Context, ProviderName, Target};

/// The end user's context of a request: `--end-user-ip`, or on a sandbox without it the
/// loopback address (no end user is behind a sandbox run).
fn end_user_context(ctx: &Context) -> RequestContext {
    let context = ctx.request_context();
    if context.end_user_ip.is_none() && ctx.target.is_sandbox() && ctx.config.is_none() {
        context.end_user_ip(Ipv4Addr::LOCALHOST.into())
    } else {
        context
    }
}

/// VerifyKit asks for the end user's IP on every web REST request: live, without
/// `--end-user-ip` or `VERIFYKIT_FALLBACK_END_USER_IP`, the command is refused before anything
/// is sent.
fn require_end_user_ip(ctx: &Context, provider: ProviderName) -> Result<(), Failure> {
    let fallback_ip = VerifyKitSetting::FallbackEndUserIp.name();
    let fallback = std::env::var(fallback_ip).is_ok_and(|v| !v.trim().is_empty());
    if provider == ProviderName::VerifyKit
        && end_user_context(ctx).end_user_ip.is_none()
        && !fallback
    {
        return Err(Failure::usage(format!(
            "live VerifyKit needs the end user's IP address on every request: pass \
             --end-user-ip IP (or set {fallback_ip})"
        )));
    }
    Ok(())
}

/// Prints `value` as one JSON document on stdout.
fn print_json(value: &serde_json::Value) {
    outjson!("{value}");
}

/// `start`: sends a code or opens a reverse flow; the handle goes to stdout or `--out`.
pub(crate) async fn start(ctx: &mut Context, args: StartArgs) -> Outcome {
    let channel = args.channel.clone().unwrap_or(if args.reverse {
        Channel::WhatsApp
    } else {
        Channel::Sms
    });
    let mut request = match (&args.phone, args.reverse) {
        (Some(phone), false) => StartRequest::otp(channel, phone.clone()),
        (None, true) => StartRequest::reverse(channel),
        (None, false) => {
            return Err(Failure::usage(
                "start needs --phone, or --reverse for a reverse flow",
            ));
        }
        (Some(_), true) => return Err(Failure::usage("--reverse takes no --phone")),
    };
    if let Some(lang) = &args.lang {
        request = request.language(lang.clone());
    }
    request = request.context(end_user_context(ctx));
    if ctx.config.is_some() && args.service_id.is_some() {
        return Err(Failure::usage(
            "--service-id and --config: the settings of a --config route name its service \
             (service_id for Verigator, service_sid for Twilio)",
        ));
    }

    let built = if let Some(router) = crate::routing::router(ctx).await? {
        router
    } else {
        let provider = ctx.provider_or_default()?;
        if !matches!(provider, ProviderName::Verigator | ProviderName::Twilio)
            && args.service_id.is_some()
        {
            return Err(Failure::usage(
                "--service-id applies to --provider verigator and twilio",
            ));
        }
        let built = ctx.build(provider, args.service_id.as_deref()).await?;
        require_end_user_ip(ctx, provider)?;
        ctx.banner(provider);
        built
    };
    // Opened before the send: a handle that cannot be saved must not cost a code.
    let out = args.out.as_deref().map(HandleFile::open).transpose()?;
    let mut handle = match built.verifier.start(&request).await {
        Ok(handle) => handle,
        Err(err) => {
            if let Some(out) = out {
                out.discard();
            }
            return Err(Failure::call(err));
        }
    };
    // Where it was started, so that `check` on another target (or with `--config` against
    // without it) is refused rather than answered "not found" there, and the number sent to a
    // sandbox.
    let started_on = match ctx.config {
        Some(_) => CONFIG_TARGET.to_owned(),
        None => ctx.target.to_string(),
    };
    handle = handle.with_extra(EXTRA_TARGET, started_on);
    let pretty = handle.to_json_pretty()?;
    if let Some(out) = out {
        out.write(&pretty)?;
    }
    if ctx.json {
        let document = handle.to_json()?;
        match &args.out {
            // Saved: a stdout that does not take the document must not read as a failed
            // start, which a wrapper would start again (a second code).
            Some(path) => print_saved_handle(&document, path),
            None => print_handle(&document, &pretty)?,
        }
        return Ok(SUCCESS);
    }
    if args.out.is_none() {
        print_handle(&pretty, &pretty)?;
    }
    errln!("{}", output::started(&handle));
    if let Some(reverse) = &handle.reverse {
        if let Some(link) = &reverse.deeplink {
            errln!("open on the phone: {link}");
            if let Some(qr) = output::qr_code(link, "  ") {
                errln!("or scan it:\n{qr}");
            }
        } else if reverse.qr_code.is_some() {
            errln!("the handle's reverse.qr_code holds the QR code (PNG, base64)");
        }
    }
    if let Some(phone) = &handle.phone
        && let Some(message) = ctx.sandbox_message(phone.e164()).await
    {
        errln!(
            "the sandbox received instead of {}: {} {:?}",
            phone.e164(),
            message.channel.as_str(),
            message.text
        );
    }
    let file = args
        .out
        .as_deref()
        .map_or_else(|| "HANDLE.json".to_owned(), |p| p.display().to_string());
    let target = match &ctx.target {
        _ if ctx.config.is_some() => crate::routing::next_args(ctx),
        Target::Embedded => {
            errln!(
                "note: the embedded sandbox stops with this command, so no other command can \
                 check this handle; run `phone-verify sandbox` and pass --target \
                 sandbox:{} to start and check",
                crate::target::DEFAULT_SANDBOX_URL
            );
            return Ok(SUCCESS);
        }
        other => format!(" --target {other}"),
    };
    let how = if handle.reverse.is_some() {
        "--wait".to_owned()
    } else {
        "--code CODE".to_owned()
    };
    let options = ctx.continuing_options();
    errln!("next: phone-verify check{target}{options} --handle {file} {how}");
    Ok(SUCCESS)
}

/// The extra of a handle `start` wrote: the target it was started on (`live`,
/// `sandbox:URL`, or [`CONFIG_TARGET`]), which `check` must use too.
pub(crate) const EXTRA_TARGET: &str = "cli_target";

/// The [`EXTRA_TARGET`] of a handle started with `--config`, whose route (the router's
/// `route` extra) says where it went.
pub(crate) const CONFIG_TARGET: &str = "config";

/// `start --out FILE`, opened before anything is sent.
struct HandleFile<'a> {
    path: &'a Path,
    file: fs::File,
    /// Whether this command created it (and removes it when nothing was started).
    created: bool,
}

impl<'a> HandleFile<'a> {
    /// Opens (or creates) `path` for writing, leaving what it holds until the handle replaces
    /// it; a file that cannot be opened stops the command before anything is sent.
    fn open(path: &'a Path) -> Result<Self, Failure> {
        let created = !path.exists();
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map(|file| Self {
                path,
                file,
                created,
            })
            .map_err(|e| {
                Failure::usage(format!(
                    "cannot write {}: {e} (nothing was sent)",
                    path.display()
                ))
            })
    }

    /// Removes the file if this command created it: nothing was started, so there is no handle
    /// to keep, and no empty file is left behind.
    fn discard(self) {
        if self.created {
            drop(self.file);
            let _ = fs::remove_file(self.path);
        }
    }

    /// Replaces the file's content with the handle. When that fails, the handle goes to
    /// stderr, so that the verification just started can still be checked.
    fn write(mut self, pretty: &str) -> Result<(), Failure> {
        // Only a regular file is emptied first: a device or a pipe (`/dev/stdout`, `>(jq .)`)
        // cannot be truncated, and has nothing to empty.
        let emptied = match self.file.metadata() {
            Ok(meta) if meta.is_file() => self.file.set_len(0),
            Ok(_) => Ok(()),
            Err(err) => Err(err),
        };
        let written = emptied
            .and_then(|()| self.file.write_all(format!("{pretty}\n").as_bytes()))
            .and_then(|()| self.file.flush());
        written.map_err(|e| {
            errln!("phone-verify: the handle, which could not be saved:\n{pretty}");
            Failure::other(format!(
                "cannot write {}: {e}; the code was sent, and its handle is printed above",
                self.path.display()
            ))
        })
    }
}

/// Writes the handle to stdout as `document`. When stdout does not take it (a full disk, a
/// closed pipe), the handle goes to stderr as `pretty`, so that the verification just started
/// can still be checked, and the command fails.
fn print_handle(document: &str, pretty: &str) -> Result<(), Failure> {
    output::write_document(&mut std::io::stdout().lock(), document).map_err(|e| {
        errln!("phone-verify: the handle, which could not be written to stdout:\n{pretty}");
        Failure::other(format!(
            "cannot write the handle to stdout: {e}; the code was sent, and its handle is \
             printed above"
        ))
    })
}

/// Writes the handle `--out` saved in `path` to stdout as `document` (`--json`). When stdout
/// does not take it, a warning on stderr names the file, and the command still succeeds: the
/// verification was started and its handle is kept.
fn print_saved_handle(document: &str, path: &Path) {
    if let Err(e) = output::write_document(&mut std::io::stdout().lock(), document) {
        errln!(
            "phone-verify: warning: cannot write the handle to stdout: {e}; the handle is \
             saved in {}",
            path.display()
        );
    }
}

/// Reads a handle from `path`, or stdin for `-`.
fn read_handle(path: &Path) -> Result<Verification, Failure> {
    let text = if path.as_os_str() == "-" {
        input::read_stdin()
            .map_err(|e| Failure::usage(format!("cannot read the handle from stdin: {e}")))?
    } else {
        input::read_file(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?
    };
    Verification::from_json(&text)
        .map_err(|e| Failure::usage(format!("{}: {}", path.display(), e.message())))
}

/// `check`: checks a code or polls a reverse flow, in a process other than `start`'s.
pub(crate) async fn check(ctx: &mut Context, args: CheckArgs) -> Outcome {
    if ctx.target == Target::Embedded && ctx.config.is_none() {
        return Err(Failure::usage(
            "check continues a verification of another process, which the embedded sandbox \
             cannot: pass the target that started it (--target sandbox:URL, or --live)",
        ));
    }
    if ctx.reads_stdin() && args.handle.as_os_str() == "-" {
        return Err(Failure::usage(
            "--key-stdin and --handle - both read stdin: put the handle in a file",
        ));
    }
    let handle = read_handle(&args.handle)?;
    refuse_other_target(ctx, &handle)?;
    let verifier = if let Some(router) = crate::routing::router(ctx).await? {
        router.verifier
    } else {
        let provider = ProviderName::parse(handle.provider.as_str())?;
        if let Some(given) = ctx.provider.filter(|p| *p != provider) {
            return Err(Failure::usage(format!(
                "the handle belongs to provider {}, not {}",
                provider.as_str(),
                given.as_str()
            )));
        }
        let service = match provider {
            ProviderName::Twilio => handle.extra_str(twilio::EXTRA_SERVICE_SID),
            _ => handle.extra_str(verigator::EXTRA_SERVICE_ID),
        }
        .map(str::to_owned);
        let built = ctx.build(provider, service.as_deref()).await?;
        require_end_user_ip(ctx, provider)?;
        ctx.banner(provider);
        built.verifier
    };
    let mut request = args
        .code
        .clone()
        .map_or_else(CheckRequest::poll, CheckRequest::code);
    request = request.context(end_user_context(ctx));

    let outcome = if args.wait {
        wait(verifier.as_ref(), &handle, &request, &args, ctx.json).await?
    } else {
        verifier
            .check(&handle, &request)
            .await
            .map_err(Failure::call)?
    };
    let (line, code) = output::outcome(&outcome);
    if ctx.json {
        print_json(&serde_json::to_value(&outcome).unwrap_or_default());
    } else {
        outln!("{line}");
        let reason = outcome.rejection().map(|r| r.reason);
        if reason == Some(phone_verify::RejectReason::NotFound)
            && ctx.config.is_none()
            && handle.extra_str(EXTRA_TARGET).is_none()
        {
            // The handle (not written by `start`) does not say where it was started: a live
            // handle checked on a sandbox (or the other way round) is unknown there.
            errln!(
                "phone-verify: checked on {}; if `start` ran on another target (--live, \
                 --target sandbox:URL), check there before starting again",
                ctx.target
            );
        }
    }
    Ok(code)
}

/// Refuses, before any request, a handle that `start` made elsewhere: with `--config` one
/// started on a target (its routes may point at another provider or a sandbox), without it one
/// started with `--config` or on another target (a live number would go to a sandbox, and a
/// sandbox handle answer "not found" live). One started on the embedded sandbox cannot be
/// checked by any other command. A handle made by the library records nothing.
fn refuse_other_target(ctx: &Context, handle: &Verification) -> Result<(), Failure> {
    let Some(started) = handle.extra_str(EXTRA_TARGET) else {
        return Ok(());
    };
    if started == Target::Embedded.to_string() {
        // Not "check it there": the embedded sandbox lives for one command only.
        return Err(Failure::usage(format!(
            "the handle was started on the embedded sandbox, which stopped with that command, \
             so no other command can check it: run `phone-verify sandbox` and start again with \
             --target sandbox:{} (or --live), then check there",
            crate::target::DEFAULT_SANDBOX_URL
        )));
    }
    let message = match (&ctx.config, started == CONFIG_TARGET) {
        (Some(_), true) => return Ok(()),
        (Some(_), false) => format!(
            "the handle was started on {started} without --config: check it there (--target \
             {started}, without --config)"
        ),
        (None, true) => "the handle was started with --config: check it with the same --config \
                         FILE"
            .to_owned(),
        (None, false) if started == ctx.target.to_string() => return Ok(()),
        (None, false) => format!(
            "the handle was started on {started}, not {}: check it there (--target {started})",
            ctx.target
        ),
    };
    Err(Failure::usage(message))
}

/// Polls until the outcome is not pending, as `PhoneVerifierExt::wait_for_outcome_with` does,
/// with a spinner: past the handle's `expires_at` a flow still pending is `Rejected(Expired)`;
/// the last poll comes at `--timeout`, and its outcome (pending) is the answer.
async fn wait(
    verifier: &dyn PhoneVerifier,
    handle: &Verification,
    request: &CheckRequest,
    args: &CheckArgs,
    json: bool,
) -> Result<phone_verify::CheckOutcome, Failure> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.timeout);
    let interval = Duration::from_secs_f64(args.interval);
    let expiry = handle.expires_at.map(|at| {
        let left = at - time::OffsetDateTime::now_utc();
        started + Duration::try_from(left).unwrap_or(Duration::ZERO)
    });
    let mut spinner = Spinner::new(!json);
    loop {
        let outcome = verifier.check(handle, request).await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(err) => {
                spinner.clear();
                return Err(Failure::call(err));
            }
        };
        let now = Instant::now();
        if outcome.is_pending() && expiry.is_some_and(|at| now >= at) {
            spinner.clear();
            return Ok(phone_verify::CheckOutcome::Rejected(
                phone_verify::Rejection::new(phone_verify::RejectReason::Expired)
                    .with_message("the verification expired before the user completed it"),
            ));
        }
        if !outcome.is_pending() || now >= deadline {
            spinner.clear();
            return Ok(outcome);
        }
        // The next poll comes after the interval, or at the expiry or `--timeout` if sooner: a
        // flow completed between the last interval and the timeout is seen.
        let next = expiry
            .map_or(now + interval, |at| (now + interval).min(at))
            .min(deadline);
        while Instant::now() < next {
            spinner.tick(&format!(
                "waiting for the user to send the message… {}s",
                started.elapsed().as_secs()
            ));
            let left = next.saturating_duration_since(Instant::now());
            tokio::time::sleep(Duration::from_millis(100).min(left)).await;
        }
    }
}

/// `resolve`: a session id into the verified phone.
pub(crate) async fn resolve(ctx: &mut Context, args: ResolveArgs) -> Outcome {
    if ctx.target == Target::Embedded && ctx.config.is_none() {
        return Err(Failure::usage(
            "resolve reads a session of another process, which the embedded sandbox cannot: \
             pass the target that verified it (--target sandbox:URL, or --live)",
        ));
    }
    let built = if let Some(router) = crate::routing::router(ctx).await? {
        router
    } else {
        let provider = ctx.provider_or_default()?;
        if matches!(provider, ProviderName::Verigator | ProviderName::Twilio) {
            return Err(Failure::usage(format!(
                "{} has no sessions: resolve works with verifykit and verifik",
                provider.title()
            )));
        }
        let built = ctx.build(provider, None).await?;
        ctx.banner(provider);
        built
    };
    let resolver = built.require_resolver()?;
    match resolver
        .resolve(&args.session, &end_user_context(ctx))
        .await
    {
        Ok(phone) => {
            if ctx.json {
                print_json(&serde_json::to_value(&phone).unwrap_or_default());
            } else {
                outln!("{}", output::verified_phone(&phone));
            }
            Ok(SUCCESS)
        }
        Err(err) if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::Expired) => {
            let failure = Failure::from(err);
            errln!("phone-verify: not resolved: {failure}");
            if ctx.json {
                print_json(&failure.to_json());
            }
            Ok(REJECTED)
        }
        Err(err) => Err(Failure::call(err)),
    }
}

/// The VerifyKit client for `methods` and `countries`.
async fn verifykit_client(
    ctx: &mut Context,
    command: &str,
) -> Result<phone_verify::providers::verifykit::VerifyKitClient, Failure> {
    if ctx.provider.is_some_and(|p| p != ProviderName::VerifyKit) {
        return Err(Failure::usage(format!(
            "{command} is a VerifyKit command: drop --provider or use --provider verifykit"
        )));
    }
    let vars = ctx.variables(ProviderName::VerifyKit).await?;
    let client =
        VerifyKitBuilder::from_secret_lookup(|name| vars.get(name).cloned())?.build_client()?;
    require_end_user_ip(ctx, ProviderName::VerifyKit)?;
    ctx.banner(ProviderName::VerifyKit);
    Ok(client)
}

/// `methods`: VerifyKit's `init`.
pub(crate) async fn methods(ctx: &mut Context, args: MethodsArgs) -> Outcome {
    let client = verifykit_client(ctx, "methods").await?;
    let list = client
        .init(args.lang.as_ref(), &end_user_context(ctx))
        .await
        .map_err(Failure::call)?;
    if ctx.json {
        let methods: Vec<serde_json::Value> = list
            .list
            .iter()
            .map(|m| serde_json::json!({ "app": m.app, "name": m.name, "text": m.text }))
            .collect();
        print_json(&serde_json::json!({
            "methods": methods,
            "description": list.description,
            "alternative_validation": list.alternative_validation,
            "offers_otp": list.offers_otp(),
        }));
        return Ok(SUCCESS);
    }
    if let Some(description) = &list.description {
        outln!("{description}");
    }
    for method in &list.list {
        outln!(
            "  {:<10} {:<10} {}",
            method.app,
            method.name.as_deref().unwrap_or(""),
            method.text.as_deref().unwrap_or("")
        );
    }
    if let Some(alternative) = &list.alternative_validation {
        outln!(
            "  {alternative:<10} (alternative) {}",
            list.alternative_validation_description
                .as_deref()
                .unwrap_or("")
        );
    }
    Ok(SUCCESS)
}

/// `countries`: VerifyKit's `country`.
pub(crate) async fn countries(ctx: &mut Context, args: CountriesArgs) -> Outcome {
    let client = verifykit_client(ctx, "countries").await?;
    let countries = client
        .country(
            args.country.as_deref(),
            args.lang.as_ref(),
            &end_user_context(ctx),
        )
        .await
        .map_err(Failure::call)?;
    if ctx.json {
        let list: Vec<serde_json::Value> = countries
            .iter()
            .map(|c| {
                serde_json::json!({
                    "country_code": c.country_code,
                    "phone_code": c.phone_code,
                    "title": c.title,
                })
            })
            .collect();
        print_json(&serde_json::Value::Array(list));
        return Ok(SUCCESS);
    }
    for country in &countries {
        outln!(
            "{:<3} {:<6} {}",
            country.country_code,
            country.phone_code.as_deref().unwrap_or(""),
            country.title.as_deref().unwrap_or("")
        );
    }
    Ok(SUCCESS)
}

/// `verifik login`: phone login, then the access token.
pub(crate) async fn verifik_login(ctx: &mut Context, args: LoginArgs) -> Outcome {
    if ctx.provider.is_some_and(|p| p != ProviderName::Verifik) {
        return Err(Failure::usage(
            "verifik login is a Verifik command: drop --provider",
        ));
    }
    if ctx.reads_stdin() {
        return Err(Failure::usage(
            "verifik login obtains a token and reads the code from stdin: it takes no \
             --key-stdin",
        ));
    }
    if ctx.target == Target::Embedded && (args.send_only || args.code.is_some()) {
        return Err(Failure::usage(
            "--send-only and --code split the login over two commands, which the embedded \
             sandbox cannot: use --target sandbox:URL or --live",
        ));
    }
    let mut builder = VerifikBuilder::without_token();
    if let Some(url) = ctx.sandbox_url().await? {
        builder = builder.sandbox_url(&url);
    } else {
        let vars = ctx.variables(ProviderName::Verifik).await?;
        if let Some(url) = vars.get(&verifik::VerifikSetting::BaseUrl.to_string()) {
            builder = builder.base_url(phone_verify::secrecy::ExposeSecret::expose_secret(url));
        }
    }
    let client = builder.build_client()?;
    ctx.banner(ProviderName::Verifik);
    let account = VerifikPhone::new(args.phone.calling_code(), args.phone.national_number())?;
    let code = if let Some(code) = args.code.clone() {
        code
    } else {
        client.phone_login(&account).await?;
        if args.send_only {
            if ctx.json {
                print_json(&serde_json::json!({ "sent": true, "phone": args.phone.e164() }));
            } else {
                errln!(
                    "sent a login code to {} by WhatsApp; confirm it with: phone-verify \
                     verifik login --target {} --phone {} --code CODE",
                    args.phone.e164(),
                    ctx.target,
                    args.phone.e164()
                );
            }
            return Ok(SUCCESS);
        }
        if let Some(message) = ctx.sandbox_message(args.phone.e164()).await {
            errln!(
                "the sandbox received instead of {}: {:?}",
                args.phone.e164(),
                message.text
            );
        }
        read_code().await?
    };
    let token = match client.phone_login_confirm(&account, &code).await {
        Ok(token) => token,
        // Verifik refused the code itself (400 "Invalid OTP code."): a rejection.
        Err(err) if err.kind() == ErrorKind::InvalidInput && err.http_status().is_some() => {
            let failure = Failure::from(err);
            errln!("phone-verify: rejected: {failure}");
            if ctx.json {
                print_json(&failure.to_json());
            }
            return Ok(REJECTED);
        }
        Err(err) => return Err(err.into()),
    };
    let secret = phone_verify::secrecy::ExposeSecret::expose_secret(token.secret()).to_owned();
    let expires = output::timestamp(token.expires_at());
    if let Some(path) = &args.out {
        write_private(path, &format!("{secret}\n"))?;
        if ctx.json {
            print_json(&serde_json::json!({
                "token_file": path.display().to_string(),
                "token_type": token.token_type(),
                "expires_at": expires,
            }));
        } else {
            errln!(
                "wrote the access token to {} (valid until {expires})",
                path.display()
            );
        }
    } else if ctx.json {
        let document = serde_json::json!({
            "access_token": secret,
            "token_type": token.token_type(),
            "expires_at": expires,
        });
        print_token(&document.to_string(), true)?;
    } else {
        print_token(&secret, false)?;
        errln!("the access token above is valid until {expires}: keep it secret");
    }
    Ok(SUCCESS)
}

/// Writes the access token to stdout: `text` is the token, or with `document` the JSON document
/// that holds it. When stdout does not take it, the command fails: the token is a credential,
/// so it is not shown on stderr instead, and the code that obtained it is used up.
fn print_token(text: &str, document: bool) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    let written = if document {
        output::write_document(&mut stdout, text)
    } else {
        output::write_line(&mut stdout, text).and_then(|()| stdout.flush())
    };
    written.map_err(|e| {
        Failure::other(format!(
            "cannot write the access token to stdout: {e}; log in again, with --out FILE to \
             write the token to a file"
        ))
    })
}

/// Reads the login code from stdin, prompting on a terminal.
async fn read_code() -> Result<Code, Failure> {
    let line = tokio::task::spawn_blocking(|| {
        if std::io::stdin().is_terminal() {
            err!("the code Verifik sent by WhatsApp: ");
        }
        input::read_stdin_line()
    })
    .await
    .map_err(|e| Failure::other(format!("cannot read the code: {e}")))?
    .map_err(|e| Failure::other(format!("cannot read the code from stdin: {e}")))?;
    if line.trim().is_empty() {
        return Err(Failure::usage(
            "no code on stdin: type the code Verifik sent, or pass --code",
        ));
    }
    Code::new(&line).map_err(|e| Failure::usage(format!("the code: {}", e.message())))
}

/// Writes a secret to a file readable only by its owner (on Unix): a new file is created with
/// mode 600, and a file that existed is made mode 600 before anything is written to it.
fn write_private(path: &Path, contents: &str) -> Result<(), Failure> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| {
            #[cfg(unix)]
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            file.write_all(contents.as_bytes())
        })
        .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))
}

/// `sandbox`: serves the sandbox until Ctrl-C.
pub(crate) async fn sandbox(args: SandboxArgs, json: bool) -> Outcome {
    let config = SandboxConfig {
        listen: args.listen,
        seed: args.seed,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|e| Failure::other(format!("cannot listen on {}: {e}", args.listen)))?;
    let url = sandbox.base_url();
    let c = sandbox.config();
    if json {
        print_json(&serde_json::json!({
            "base_url": url,
            "target": format!("sandbox:{url}"),
            "verifykit_web_rest_url": sandbox.verifykit_web_rest_url(),
            "verifykit_api_url": sandbox.verifykit_api_url(),
            "verifik_url": sandbox.verifik_url(),
            "verigator_url": sandbox.verigator_url(),
            "twilio_url": sandbox.twilio_url(),
            "control_url": sandbox.control_url(),
        }));
    } else {
        outln!("phone-verify sandbox listening on {url}: no real message is sent");
        outln!("  use it with   phone-verify --target sandbox:{url} start --phone +905321234567");
        outln!(
            "  VerifyKit     {}  (X-Vfk-Server-Key: {})",
            sandbox.verifykit_web_rest_url(),
            c.verifykit_server_key
        );
        outln!("                {}", sandbox.verifykit_api_url());
        outln!(
            "  Verifik       {}  (Authorization: Bearer {})",
            sandbox.verifik_url(),
            c.verifik_token
        );
        outln!(
            "  Verigator     {}  (X-Service-Auth: {})",
            sandbox.verigator_url(),
            c.verigator_service_auth()
        );
        outln!(
            "  Twilio        {}  (Basic {}:{}, service {})",
            sandbox.twilio_url(),
            twilio::SANDBOX_ACCOUNT_SID,
            twilio::SANDBOX_AUTH_TOKEN,
            twilio::SANDBOX_SERVICE_SID
        );
        outln!(
            "  sent messages {}/messages   (Ctrl-C stops the sandbox)",
            sandbox.control_url()
        );
    }
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::other(format!("cannot wait for Ctrl-C: {e}")))?;
    sandbox.shutdown().await;
    Ok(SUCCESS)
}

#[cfg(test)]
mod tests {
    use phone_verify::{Capabilities, CheckOutcome, ProviderId, RejectReason, StartRequest};

    use super::*;

    /// A reverse flow that never completes, whatever the handle's expiry says.
    #[derive(Debug)]
    struct AlwaysPending;

    #[phone_verify::async_trait]
    impl PhoneVerifier for AlwaysPending {
        fn provider(&self) -> ProviderId {
            ProviderId::new_static("pending")
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::new().with_reverse_channel(Channel::WhatsApp)
        }

        async fn start(&self, _: &StartRequest) -> phone_verify::Result<Verification> {
            unreachable!("the wait only polls")
        }

        async fn check(
            &self,
            _: &Verification,
            _: &CheckRequest,
        ) -> phone_verify::Result<CheckOutcome> {
            Ok(CheckOutcome::Pending)
        }
    }

    fn args(timeout: f64) -> CheckArgs {
        CheckArgs {
            handle: "handle.json".into(),
            code: None,
            wait: true,
            timeout,
            interval: 0.1,
        }
    }

    #[tokio::test]
    async fn a_wait_ends_at_the_handles_expiry_as_a_rejection() {
        let handle = Verification::new(ProviderId::new_static("pending"), "r", Channel::WhatsApp)
            .with_expires_at(time::OffsetDateTime::now_utc() + time::Duration::milliseconds(300));
        let started = Instant::now();
        let outcome = wait(
            &AlwaysPending,
            &handle,
            &CheckRequest::poll(),
            &args(60.0),
            true,
        )
        .await
        .unwrap();
        assert_eq!(
            outcome.rejection().map(|r| r.reason),
            Some(RejectReason::Expired)
        );
        // Well before the 60 s timeout.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );

        // Without an expiry, the timeout ends it: the last outcome, pending.
        let open = Verification::new(ProviderId::new_static("pending"), "r", Channel::WhatsApp);
        let outcome = wait(
            &AlwaysPending,
            &open,
            &CheckRequest::poll(),
            &args(0.3),
            true,
        )
        .await
        .unwrap();
        assert!(outcome.is_pending());
    }
}
