//! `phone-verify-web-example`: the verification screens on http://127.0.0.1:3000, against an
//! embedded sandbox unless `--live`. See the crate's README.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use phone_verify_sandbox::InitTheme;
use phone_verify_web_example::{
    AppState, Backend, Inner, ProxyHeader, Sessions, Target, TrustedProxies, serve,
};

/// The reference web integration of phone-verify.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    addr: IpAddr,
    /// The port to listen on (0: any free port).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Use the real providers from the environment (VERIFYKIT_SERVER_KEY, and VERIFIK_TOKEN,
    /// VERIGATOR_USERNAME/_PASSWORD/_SERVICE_ID, TWILIO_ACCOUNT_SID/_AUTH_TOKEN or
    /// TWILIO_API_KEY_SID/_SECRET with TWILIO_SERVICE_SID when set) instead of the embedded
    /// sandbox.
    #[arg(long)]
    live: bool,
    /// The app is served over HTTPS (a reverse proxy terminating TLS in front of it, say): the
    /// session cookie is `Secure` and named `__Host-pv_session`. Not for plain HTTP, where
    /// browsers would not keep it. `SECURE_COOKIE=true` sets it too.
    #[arg(long, env = "SECURE_COOKIE")]
    secure_cookie: bool,
    /// The shape of the sandbox's VerifyKit `init` answer: `recommended` (SMS among the
    /// methods) or `basic` (SMS as the alternative below them).
    #[arg(long, default_value = "recommended", conflicts_with = "live")]
    init_theme: InitTheme,
    /// The reverse proxies or load balancers in front of the app, as IP addresses and CIDR
    /// networks separated by commas (`10.0.0.0/8,192.168.1.5,::1`): from these peers the
    /// visitor's IP is read from `--proxy-header`. None by default: the peer is the visitor.
    #[arg(long, env = "TRUSTED_PROXIES", value_name = "LIST")]
    trusted_proxies: Option<TrustedProxies>,
    /// The header the trusted proxies name the visitor in: `x-forwarded-for` or `forwarded`
    /// (RFC 7239). Only that one is read.
    #[arg(
        long,
        env = "PROXY_HEADER",
        value_name = "HEADER",
        default_value = "x-forwarded-for"
    )]
    proxy_header: ProxyHeader,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let target = if args.live {
        Target::Live
    } else {
        Target::Embedded(args.init_theme)
    };
    let backend = match Backend::start(target).await {
        Ok(backend) => backend,
        Err(err) => {
            eprintln!("phone-verify-web-example: {err}");
            return ExitCode::FAILURE;
        }
    };
    let proxies = args
        .trusted_proxies
        .unwrap_or_default()
        .with_header(args.proxy_header);
    let trusted = if proxies.is_empty() {
        proxies.to_string()
    } else {
        format!("{proxies}, naming the visitor in {}", proxies.header())
    };
    let sessions = Sessions::default().secure_cookie(args.secure_cookie);
    let cookie = if sessions.is_cookie_secure() {
        format!("{}, Secure", sessions.cookie_name())
    } else {
        sessions.cookie_name().to_owned()
    };
    let state = AppState::from(Inner {
        backend,
        sessions,
        proxies,
    });
    let running = match serve(SocketAddr::new(args.addr, args.port), state).await {
        Ok(running) => running,
        Err(err) => {
            eprintln!(
                "phone-verify-web-example: cannot listen on {}:{}: {err}",
                args.addr, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let mode = if args.live {
        "live providers: real messages are sent"
    } else {
        "embedded sandbox: no real message is sent"
    };
    println!(
        "phone-verify web example on {} ({mode}); trusted proxies: {trusted}; session cookie: \
         {cookie}; Ctrl-C stops it",
        running.url()
    );
    let _ = tokio::signal::ctrl_c().await;
    match running.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("phone-verify-web-example: {err}");
            ExitCode::FAILURE
        }
    }
}
