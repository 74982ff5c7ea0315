//! A real OpenID Connect provider for the single sign-on tests: panva's `oidc-provider` in
//! `tests/oidc/provider.js`, one node process per test, on its own port. `npm ci` runs once if
//! its `node_modules` is missing (the versions are the committed `package-lock.json`).
//!
//! The provider's issuer must be in the server's settings, and the server's callback in the
//! provider's client: [`Idp::reserve`] picks the provider's port first (the server reads the
//! discovery document only when a sign-in starts), the server starts, then [`Idp::start`].

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use talkzone_mobile_api::Role;
use talkzone_server::config::SsoConfig;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The client Talk Zone is registered as at the test provider.
pub const CLIENT_ID: &str = "talkzone";
pub const CLIENT_SECRET: &str = "talkzone-test-client-secret-0123456789";

/// Groups the tests' accounts are in, as the council's provider would name them.
pub const WORKERS: &str = "tz-workers";
pub const SUPERVISORS: &str = "tz-supervisors";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// `npm ci`, once per checkout, and not two at once.
fn install() {
    static ONCE: Mutex<bool> = Mutex::new(false);
    let mut done = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    if *done || dir().join("node_modules").join("oidc-provider").exists() {
        *done = true;
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir())
        .status()
        .expect("npm runs (install node and npm: scripts/test.sh does)");
    assert!(status.success(), "npm ci in tests/oidc failed");
    *done = true;
}

/// The port and issuer of a provider not started yet.
pub struct IdpPlan {
    pub port: u16,
    pub issuer: String,
}

impl IdpPlan {
    /// The server's single sign-on settings for this provider: `tz-workers` → duty worker,
    /// `tz-supervisors` → supervisor, from the `groups` claim.
    pub fn sso_config(&self, redirect_base: &str) -> SsoConfig {
        SsoConfig {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_url: format!("{redirect_base}/v1/auth/sso/callback"),
            role_claim: "groups".into(),
            roles: vec![(WORKERS.into(), Role::DutyWorker), (SUPERVISORS.into(), Role::Supervisor)],
        }
    }
}

pub struct Idp {
    pub issuer: String,
    child: tokio::process::Child,
}

impl Idp {
    pub fn reserve() -> IdpPlan {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        IdpPlan { port, issuer: format!("http://127.0.0.1:{port}") }
    }

    /// Starts the provider: `accounts` are `sub → claims`; `extra` is merged into its settings
    /// (`issuer`, `tamper`, `clients` …, see provider.js).
    pub async fn start(plan: &IdpPlan, server_base: &str, accounts: Value, extra: Value) -> Idp {
        tokio::task::spawn_blocking(install).await.expect("npm ci");
        let mut config = json!({
            "port": plan.port,
            "clients": [{
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [format!("{server_base}/v1/auth/sso/callback")],
            }],
            "accounts": accounts,
        });
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        let mut child = tokio::process::Command::new("node")
            .arg("provider.js")
            .current_dir(dir())
            .env("OIDC_TEST_CONFIG", config.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts (install node: scripts/test.sh does)");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let issuer = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(issuer) = line.strip_prefix("listening ") {
                    return issuer.to_owned();
                }
            }
            panic!("the OpenID Connect provider exited before listening");
        })
        .await
        .expect("the provider starts within 30 s");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Idp { issuer, child }
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Plays the browser at the provider: follows the authorization URL (with `login_hint`, which
/// the test provider signs in at once) through its redirects, keeping its cookies, until it
/// sends the browser back to `callback`; returns that query string (`code`, `state`, `iss`).
pub async fn sign_in_at_provider(authorize_url: &str, login_hint: &str, callback: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut cookies: Vec<(String, String)> = Vec::new();
    let mut url = format!("{authorize_url}&login_hint={login_hint}");
    for _ in 0..10 {
        if let Some(query) = url.strip_prefix(&format!("{callback}?")) {
            return query.to_owned();
        }
        let cookie = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let res = http.get(&url).header("cookie", cookie).send().await.expect("the provider answers");
        for set in res.headers().get_all("set-cookie") {
            let pair = set.to_str().expect("cookie").split(';').next().expect("pair");
            if let Some((k, v)) = pair.split_once('=') {
                cookies.retain(|(name, _)| name != k);
                cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        let status = res.status();
        let next = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let Some(next) = next else {
            panic!("the provider stopped at {url}: {status} {}", res.text().await.unwrap_or_default());
        };
        url = reqwest::Url::parse(&url).and_then(|u| u.join(&next)).expect("a redirect").to_string();
    }
    panic!("the provider never sent the browser back");
}

impl Idp {
    /// Changes an account's claims at the provider (its groups, say) for the next sign-in.
    pub async fn set_account(&self, sub: &str, claims: Value) {
        let res = reqwest::Client::new()
            .put(format!("{}/test/accounts/{sub}", self.issuer))
            .body(claims.to_string())
            .send()
            .await
            .expect("the provider answers");
        assert_eq!(res.status().as_u16(), 204);
    }
}
