//! The web example in a real browser: headless Chromium driven through WebDriver
//! (`chromedriver`), against the app on a free loopback port with its embedded sandbox.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (`.ci/run` installs them); the
//! test fails, saying so, when they are missing. Screenshots go to
//! `target/tmp/web-example-screenshots/`.

use std::error::Error as StdError;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use phone_verify_sandbox::InitTheme;
use phone_verify_web_example::{AppState, Backend, Running, Target, serve};
use serde_json::json;

type Result<T = ()> = std::result::Result<T, Box<dyn StdError + Send + Sync>>;

/// One browser at a time: the machine running the tests may have few cores.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The longest any page may take to show what a step waits for: a bound that turns a hang
/// into a failure, not a timing assertion.
const WAIT: Duration = Duration::from_secs(30);

const INSTALL: &str = "install them with `sudo apt-get install -y chromium chromium-driver` \
                       (Debian packages; `.ci/run` does it in CI)";

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

/// Where an executable is on `PATH`, or the path in `variable`.
fn find(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A chromedriver process, killed when dropped.
struct Driver(Child);

/// What chromedriver prints once it listens, before the port.
const LISTENING_ON: &str = "ChromeDriver was started successfully on port ";

/// The port chromedriver, started with `--port=0`, says it listens on. The kernel picks a free
/// one as chromedriver binds it: a port picked here and freed for chromedriver could go to
/// another test's chromedriver meanwhile (nextest runs tests as processes side by side), whose
/// session this test would then share until that test ends. The rest of `stdout` is drained on
/// the same thread, so chromedriver never blocks on a full pipe.
fn listening_port(stdout: ChildStdout) -> u16 {
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut port_tx = Some(port_tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let port = line
                .strip_prefix(LISTENING_ON)
                .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok());
            if let Some(port) = port
                && let Some(tx) = port_tx.take()
            {
                let _ = tx.send(port);
            }
        }
    });
    match port_rx.recv_timeout(WAIT) {
        Ok(port) => port,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("chromedriver did not say it listens within {WAIT:?}")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("chromedriver ended its output without saying which port it listens on")
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The app, chromedriver and one browser session.
struct Harness {
    app: Running,
    client: Client,
    _driver: Driver,
    name: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Device {
    Desktop,
    Phone,
}

impl Harness {
    async fn start(name: &'static str, device: Device) -> Self {
        let chromedriver = find("CHROMEDRIVER", &["chromedriver"]).unwrap_or_else(|| {
            panic!("chromedriver was not found on PATH (or in $CHROMEDRIVER): {INSTALL}")
        });
        let chromium = find(
            "CHROME_BIN",
            &["chromium", "chromium-browser", "google-chrome"],
        )
        .unwrap_or_else(|| panic!("chromium was not found on PATH (or in $CHROME_BIN): {INSTALL}"));
        let mut child = Command::new(&chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let stdout = child.stdout.take().expect("chromedriver's stdout, piped");
        let driver = Driver(child);
        let port = listening_port(stdout);
        let backend = Backend::start(Target::Embedded(InitTheme::Recommended))
            .await
            .expect("the embedded sandbox and providers");
        let app = serve(
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            AppState::new(backend),
        )
        .await
        .expect("the app listens");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-default-apps".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--no-pings".to_owned(),
            "--disable-client-side-phishing-detection".to_owned(),
            "--disable-features=Translate,OptimizationHints,MediaRouter".to_owned(),
            "--lang=en-US".to_owned(),
        ];
        match device {
            Device::Desktop => args.push("--window-size=1280,1000".to_owned()),
            Device::Phone => {
                args.push("--window-size=390,1100".to_owned());
                args.push(format!("--user-agent={IPHONE}"));
            }
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        // It listens already; a first session may still fail on a loaded machine: retry it.
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Self {
                        app,
                        client,
                        _driver: driver,
                        name,
                    };
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("chromedriver at {url} gave no browser session: {last:?}");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.url())
    }

    async fn goto(&self, path: &str) -> Result {
        Ok(self.client.goto(&self.url(path)).await?)
    }

    async fn wait_for(&self, css: &str) -> Result<fantoccini::elements::Element> {
        Ok(self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await?)
    }

    async fn text(&self, css: &str) -> Result<String> {
        Ok(self.wait_for(css).await?.text().await?)
    }

    async fn exists(&self, css: &str) -> Result<bool> {
        Ok(!self.client.find_all(Locator::Css(css)).await?.is_empty())
    }

    async fn click(&self, css: &str) -> Result {
        self.wait_for(css).await?.click().await?;
        Ok(())
    }

    async fn fill(&self, css: &str, text: &str) -> Result {
        let field = self.wait_for(css).await?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(())
    }

    /// Saves a screenshot of the page as `NAME-STEP.png`.
    async fn screenshot(&self, step: &str) -> Result {
        let png = self.client.screenshot().await?;
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-example-screenshots");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{}-{step}.png", self.name)), png)?;
        Ok(())
    }

    /// Starts an SMS code from the phone form: the country picked, the national number typed,
    /// the provider chosen.
    async fn start_sms(&self, country: &str, national: &str, provider: &str) -> Result {
        self.fill_sms(country, national, provider).await?;
        self.click("#send-code").await
    }

    /// Fills the phone form as [`start_sms`](Self::start_sms) does, without sending it.
    async fn fill_sms(&self, country: &str, national: &str, provider: &str) -> Result {
        self.goto("/").await?;
        self.click(&format!("#country option[value^='{country}:']"))
            .await?;
        self.fill("#phone", national).await?;
        self.click(&format!("#provider option[value='{provider}']"))
            .await
    }

    /// Clicks the button `id` twice in a row, as a double click does, within one script (no
    /// page can load in between); returns whether the button was disabled after the first
    /// click.
    async fn double_click(&self, id: &str) -> Result<bool> {
        let script = "const button = document.getElementById(arguments[0]); button.click(); \
                      const disabled = button.disabled; button.click(); return disabled;";
        let disabled = self.client.execute(script, vec![json!(id)]).await?;
        Ok(disabled == json!(true))
    }

    /// The newest code in the sandbox inbox panel.
    async fn inbox_code(&self) -> Result<String> {
        self.text("#inbox .message .otp-code").await
    }

    /// Ends the browser session and the driver; fails the test with `outcome`'s error after
    /// a screenshot of where it stopped.
    async fn finish(self, outcome: Result) {
        if outcome.is_err() {
            let _ = self.screenshot("failure").await;
        }
        let _ = self.client.close().await;
        let _ = self.app.shutdown().await;
        if let Err(e) = outcome {
            panic!("{}: {e}", self.name);
        }
    }
}

fn ensure(condition: bool, what: impl std::fmt::Display) -> Result {
    if condition {
        Ok(())
    } else {
        Err(what.to_string().into())
    }
}

/// A code that is not `code`: each digit moved by one.
fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| {
            c.to_digit(10).map_or(c, |d| {
                char::from(b'0' + u8::try_from((d + 1) % 10).unwrap())
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_code_to_verified() {
    let _one = ONE_BROWSER.lock().await;
    let h = Harness::start("sms", Device::Desktop).await;
    let outcome = async {
        h.goto("/").await?;
        h.wait_for("button.method[data-app='whatsapp']").await?;
        h.screenshot("home").await?;
        h.start_sms("TR", "532 123 45 67", "verifykit").await?;
        let code_input = h.wait_for("#code").await?;
        ensure(
            code_input.attr("autocomplete").await?.as_deref() == Some("one-time-code"),
            "the code field has autocomplete=one-time-code",
        )?;
        ensure(
            code_input.attr("inputmode").await?.as_deref() == Some("numeric"),
            "the code field has inputmode=numeric",
        )?;
        ensure(
            h.text("label[for='code']").await? == "Verification code",
            "the code field is labelled",
        )?;
        let code = h.inbox_code().await?;
        h.screenshot("code").await?;
        h.fill("#code", &code).await?;
        h.click("#verify-button").await?;
        let phone = h.text("#verified-phone").await?;
        ensure(
            phone == "+90 532 123 45 67",
            format!("verified phone {phone:?}"),
        )?;
        ensure(
            h.text("#verified-route").await? == "VerifyKit",
            "the chosen route verified it",
        )?;
        h.screenshot("done").await
    }
    .await;
    h.finish(outcome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_code_then_right_code() {
    let _one = ONE_BROWSER.lock().await;
    let h = Harness::start("wrong-code", Device::Desktop).await;
    let outcome = async {
        h.start_sms("CO", "300 123 4567", "verifik").await?;
        h.wait_for("#code-form").await?;
        let code = h.inbox_code().await?;
        h.fill("#code", &wrong(&code)).await?;
        h.click("#verify-button").await?;
        let notice = h.text("#notice.error #notice-text").await?;
        ensure(notice.contains("not right"), format!("notice {notice:?}"))?;
        ensure(h.exists("#code-form").await?, "the form is offered again")?;
        h.screenshot("wrong").await?;
        h.fill("#code", &code).await?;
        h.click("#verify-button").await?;
        let phone = h.text("#verified-phone").await?;
        ensure(
            phone == "+57 300 1234567",
            format!("verified phone {phone:?}"),
        )?;
        ensure(
            h.text("#verified-route").await? == "Verifik",
            "Verifik verified it, through the router",
        )
    }
    .await;
    h.finish(outcome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_whatsapp_flow_through_the_inbox_button() {
    let _one = ONE_BROWSER.lock().await;
    let h = Harness::start("whatsapp", Device::Desktop).await;
    let outcome = async {
        h.goto("/").await?;
        h.click("button.method[data-app='whatsapp']").await?;
        let qr = h.wait_for("#qr-code").await?;
        let src = qr.attr("src").await?.unwrap_or_default();
        ensure(src.starts_with("data:image/png;base64,"), "a QR code image")?;
        ensure(
            !h.exists("#deeplink").await?,
            "no deeplink button on a desktop",
        )?;
        // The page polls `check` and says so.
        h.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(
                "//*[@id='progress-text'][contains(., 'checked')]",
            ))
            .await?;
        h.screenshot("waiting").await?;
        h.fill("#reply-phone", "+90 532 765 43 21").await?;
        h.click("#reply-button").await?;
        let phone = h.text("#verified-phone").await?;
        ensure(
            phone == "+90 532 765 43 21",
            format!("the number the message came from, got {phone:?}"),
        )?;
        ensure(
            h.text("#verified-channel").await? == "WhatsApp",
            "verified on WhatsApp",
        )?;
        ensure(
            h.exists("#resolved").await?,
            "the session was resolved on the server",
        )?;
        h.screenshot("done").await
    }
    .await;
    h.finish(outcome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_through_the_sandbox_clock() {
    let _one = ONE_BROWSER.lock().await;
    let h = Harness::start("expiry", Device::Desktop).await;
    let outcome = async {
        h.start_sms("TR", "532 111 22 33", "verifykit").await?;
        h.wait_for("#code-form").await?;
        let code = h.inbox_code().await?;
        h.click("#skip-clock").await?;
        let notice = h.text("#notice.info #notice-text").await?;
        ensure(notice.contains("10 minutes"), format!("notice {notice:?}"))?;
        h.fill("#code", &code).await?;
        h.click("#verify-button").await?;
        let notice = h.text("#notice.error #notice-text").await?;
        ensure(notice.contains("expired"), format!("notice {notice:?}"))?;
        ensure(
            !h.exists("#code-form").await?,
            "no code form for an expired code",
        )?;
        ensure(
            h.text("#restart").await? == "Send a new code",
            "the way out is a new code",
        )?;
        h.screenshot("expired").await
    }
    .await;
    h.finish(outcome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_click_sends_a_form_once() {
    let _one = ONE_BROWSER.lock().await;
    let h = Harness::start("double-click", Device::Desktop).await;
    let outcome = async {
        h.fill_sms("TR", "532 777 88 99", "verifykit").await?;
        ensure(
            h.double_click("send-code").await?,
            "\"Send code\" disabled once its form is sent",
        )?;
        h.wait_for("#code-form").await?;
        let code = h.inbox_code().await?;
        h.fill("#code", &code).await?;
        ensure(
            h.double_click("verify-button").await?,
            "\"Verify\" disabled once its form is sent",
        )?;
        let phone = h.text("#verified-phone").await?;
        ensure(
            phone == "+90 532 777 88 99",
            format!("verified phone {phone:?}"),
        )?;
        let sandbox = h.app.state.backend.sandbox.as_ref().expect("the sandbox");
        ensure(sandbox.all_messages().len() == 1, "one code sent")
    }
    .await;
    h.finish(outcome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_denial_with_a_countdown() {
    let _one = ONE_BROWSER.lock().await;
    let h = Harness::start("guard", Device::Desktop).await;
    let outcome = async {
        h.start_sms("TR", "532 444 55 66", "verifykit").await?;
        h.wait_for("#code-form").await?;
        h.click("#restart").await?;
        h.start_sms("TR", "532 444 55 66", "verifykit").await?;
        let notice = h.text("#notice.warning #notice-text").await?;
        ensure(
            notice.contains("just sent a code"),
            format!("notice {notice:?}"),
        )?;
        let countdown = h.wait_for("#countdown").await?;
        let secs: u64 = countdown
            .attr("data-countdown")
            .await?
            .unwrap_or_default()
            .parse()?;
        ensure((1..=30).contains(&secs), format!("retry after {secs} s"))?;
        let shown = countdown.text().await?;
        ensure(
            shown.starts_with("0:"),
            format!("countdown shown as {shown:?}"),
        )?;
        ensure(
            h.client
                .find_all(Locator::Css("#inbox .message"))
                .await?
                .len()
                == 1,
            "the denied send never reached the provider",
        )?;
        h.screenshot("denied").await
    }
    .await;
    h.finish(outcome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mobile_browser_gets_the_deeplink_not_the_qr_code() {
    let _one = ONE_BROWSER.lock().await;
    let h = Harness::start("mobile", Device::Phone).await;
    let outcome = async {
        h.goto("/").await?;
        h.screenshot("home").await?;
        h.click("button.method[data-app='whatsapp']").await?;
        let link = h.wait_for("#deeplink").await?;
        let href = link.attr("href").await?.unwrap_or_default();
        ensure(href.starts_with("https://"), format!("deeplink {href:?}"))?;
        ensure(!h.exists("#qr-code").await?, "no QR code on a phone")?;
        h.screenshot("deeplink").await?;
        h.click("#reply-button").await?;
        let phone = h.text("#verified-phone").await?;
        ensure(
            phone == "+90 532 123 45 67",
            format!("verified phone {phone:?}"),
        )
    }
    .await;
    h.finish(outcome).await;
}
