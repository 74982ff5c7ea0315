//! The end-to-end harness: boots the real server on a random port against a fresh database
//! (SQLite in a temp dir, or a new database in the PostgreSQL instance the test script
//! started), and hands tests a typed client. Also starts the real `talkzone` binary as a
//! child process for tests that kill it.
//!
//! PostgreSQL tests need `TALKZONE_TEST_PG_URL` (the README's test command sets it). They
//! fail with a clear message when it is missing: they never skip silently.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_mobile_api::{CreateUserRequest, Role, TokenResponse};
use talkzone_server::clock::ManualClock;
use talkzone_server::config::Config;
use talkzone_server::RunningServer;
use tokio::io::{AsyncBufReadExt, BufReader};

pub use talkzone_mobile_api as api;

pub mod a11y;
pub mod apns;
pub mod browser;
pub mod cluster;
pub mod fcm;
pub mod oidc;
pub mod passkey;
pub mod push;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn name(backend: Backend)` once per backend, as two tests.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}

/// A fresh, empty database for one test; returns its URL (`None` = SQLite in `dir`).
pub async fn fresh_database(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("talkzone.db").display()),
        Backend::Postgres => {
            let admin_url = std::env::var("TALKZONE_TEST_PG_URL").unwrap_or_else(|_| {
                panic!(
                    "TALKZONE_TEST_PG_URL is not set. PostgreSQL tests need a server: run the README's \
                     test command (scripts/test.sh), which starts a private PostgreSQL and sets it."
                )
            });
            let name = format!("tz_{}", ulid::Ulid::new().to_string().to_lowercase());
            let pool = sqlx::PgPool::connect(&admin_url).await.expect("connect to the test PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.expect("create test database");
            pool.close().await;
            let mut url = url_without_db(&admin_url);
            url.push('/');
            url.push_str(&name);
            url
        }
    }
}

fn url_without_db(url: &str) -> String {
    // postgres://user@host:port/db?params -> postgres://user@host:port
    let (base, _) = url.split_once('?').unwrap_or((url, ""));
    match base.rfind('/') {
        Some(i) if i > "postgres://".len() => base[..i].to_owned(),
        _ => base.to_owned(),
    }
}

/// A temp directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(format!("talkzone-test-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The real server, in this process, on a random port.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub client: Client,
    pub base: String,
    pub backend: Backend,
    pub database_url: String,
    /// Shared with other nodes on the same database (the SQLite file lives here).
    pub dir: Arc<TempDir>,
}

/// How a [`TestServer`] starts: the test configuration ([`Config::for_tests`], with the per-IP
/// sign-in limit lifted) on a fresh database and the system clock, unless the test says
/// otherwise. A test states only what differs:
///
/// ```ignore
/// let s = TestServer::builder(backend).clock(clock.clone()).config(|c| c.desk.chats_per_day = 2).start().await;
/// let b = s.another_node().clock(clock.clone()).start().await;
/// ```
#[must_use = "a builder does nothing until `start`"]
pub struct TestServerBuilder {
    backend: Backend,
    /// `None`: a fresh database in a new temp dir.
    database: Option<(Arc<TempDir>, String)>,
    clock: Option<Arc<ManualClock>>,
    tweaks: Vec<ConfigTweak>,
}

/// One adjustment of the configuration, as given to [`TestServerBuilder::config`].
type ConfigTweak = Box<dyn FnOnce(&mut Config) + Send>;

impl TestServerBuilder {
    /// Adjusts the configuration (limits, origins, desk settings, …); several apply in order.
    pub fn config(mut self, tweak: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    /// A clock the test moves by hand (`ManualClock::advance_ms`): deadlines, expiry, retention
    /// and the rate limits follow it.
    pub fn clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// A database the test provides (its own PostgreSQL server, say) instead of a fresh one.
    pub fn database(mut self, database_url: String) -> Self {
        self.database = Some((Arc::new(TempDir::new()), database_url));
        self
    }

    /// Lifts the per-user and per-connection rates, for tests about delivery, not limits
    /// (those have their own tests).
    pub fn without_message_limits(self) -> Self {
        self.config(|c| {
            c.limits.user_messages_per_sec = 10_000;
            c.limits.user_messages_burst = 10_000;
            c.limits.ws_frames_per_sec = 10_000;
            c.limits.ws_frames_burst = 10_000;
        })
    }

    /// Listens on a port chosen before it starts and allows its own origin: what a browser
    /// opening its pages needs (their WebSocket comes from that origin).
    pub fn own_origin(self) -> Self {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port();
        self.config(move |c| {
            c.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            // localhost too: WebAuthn needs a domain name as the RP id (passkeys.rs).
            c.allowed_origins = vec![format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}")];
        })
    }

    /// New chats go to a worker with room by themselves (`desk.routing = auto`).
    pub fn routing_auto(self) -> Self {
        self.config(|c| c.desk.routing = talkzone_server::config::Routing::Auto)
    }

    pub async fn start(self) -> TestServer {
        let (dir, database_url) = match self.database {
            Some(db) => db,
            None => {
                let dir = Arc::new(TempDir::new());
                let url = fresh_database(self.backend, &dir.0).await;
                (dir, url)
            }
        };
        let mut config = Config::for_tests(&dir.0, Some(database_url.clone()));
        // Tests create many accounts, chats and sockets from 127.0.0.1; the per-IP and
        // per-source limits have their own tests, as has the per-user socket cap.
        config.limits.auth_per_ip_per_min = 10_000;
        config.limits.auth_burst = 10_000;
        config.limits.signups_free_per_source = 1_000_000;
        // Every test client is 127.0.0.1, one source: kept, its chats would queue by turn.
        config.limits.open_chats_per_source = 0;
        config.limits.ws_per_source = 1_000_000;
        config.limits.ws_per_user = 10_000;
        for tweak in self.tweaks {
            tweak(&mut config);
        }
        let clock: Arc<dyn talkzone_server::clock::Clock> = match self.clock {
            Some(c) => c,
            None => Arc::new(talkzone_server::clock::SystemClock),
        };
        let state = talkzone_server::build_state(config, clock).await.expect("state builds");
        let server = talkzone_server::start(state).await.expect("server starts");
        let base = format!("http://{}", server.addr);
        let client = Client::new(&base).expect("client");
        TestServer { server: Some(server), client, base, backend: self.backend, database_url, dir }
    }
}

impl TestServer {
    /// A server to configure before it starts (see [`TestServerBuilder`]).
    pub fn builder(backend: Backend) -> TestServerBuilder {
        TestServerBuilder { backend, database: None, clock: None, tweaks: Vec::new() }
    }

    /// A server with the test configuration on a fresh database: `builder(backend).start()`.
    pub async fn start(backend: Backend) -> TestServer {
        Self::builder(backend).start().await
    }

    /// Another node on this one's database (a second server, or this one after a restart),
    /// with its own configuration and clock: neither is inherited.
    pub fn another_node(&self) -> TestServerBuilder {
        TestServerBuilder {
            database: Some((self.dir.clone(), self.database_url.clone())),
            ..Self::builder(self.backend)
        }
    }

    pub fn state(&self) -> &talkzone_server::state::AppState {
        &self.server.as_ref().expect("running").state
    }

    /// A duty worker on duty and connected for as long as the returned socket lives, so that
    /// new chats do not get the empty-desk message. Tests that count messages use this; the
    /// empty desk has its own test.
    pub async fn staff_the_desk(&self) -> talkzone_mobile_api::client::WsConnection {
        let worker = self.staff(Role::DutyWorker).await;
        self.client.set_duty(&worker.access_token, true).await.expect("on duty");
        let mut ws = self.client.connect(&worker.access_token).await.expect("desk worker connects");
        ws.round_trip().await.expect("desk worker's connection is registered");
        ws
    }

    /// A new anonymous young person.
    pub async fn young_person(&self) -> TokenResponse {
        self.client.anonymous().await.expect("anonymous sign-in")
    }

    /// A new staff account with `role`, signed in.
    pub async fn staff(&self, role: Role) -> TokenResponse {
        let username = format!("{}-{}", role.as_str().replace('_', "-"), ulid::Ulid::new().to_string().to_lowercase());
        self.staff_named(role, &username).await
    }

    /// A new staff account with `role` and `username` (password [`TEST_PASSWORD`]), signed in.
    pub async fn staff_named(&self, role: Role, username: &str) -> TokenResponse {
        let username = username.to_owned();
        let password = TEST_PASSWORD.to_owned();
        let req = CreateUserRequest {
            username: username.clone(),
            password: password.clone(),
            role,
            display_name: Some(format!("Test {}", role.as_str())),
        };
        talkzone_server::accounts::create_account(self.state().store.as_ref(), 0, req, None)
            .await
            .expect("create staff");
        self.client.login(&username, &password).await.expect("staff login")
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(50);

/// What an [`eventually`] check answers: `true`, `Some(value)` or `Ok(value)` once it holds;
/// `false`, `None` or `Err(what it saw)` while it does not (the last `Err` goes into the
/// timeout's message).
pub trait Condition {
    type Value;
    fn holds(self) -> Result<Self::Value, Option<String>>;
}

impl Condition for bool {
    type Value = ();
    fn holds(self) -> Result<(), Option<String>> {
        if self {
            Ok(())
        } else {
            Err(None)
        }
    }
}

impl<T> Condition for Option<T> {
    type Value = T;
    fn holds(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: std::fmt::Debug> Condition for Result<T, E> {
    type Value = T;
    fn holds(self) -> Result<T, Option<String>> {
        self.map_err(|seen| Some(format!("{seen:?}")))
    }
}

/// Runs `check` until it holds (every 50 ms), and returns what it held with; panics after
/// `within`, naming `what` and the last thing `check` saw. For waiting until something happens,
/// never instead of showing that something did not:
///
/// ```ignore
/// eventually(T, "the retention run", || async { store.conversation(&id).await.unwrap().is_none() }).await;
/// ```
pub async fn eventually<C: Condition, F: Future<Output = C>>(
    within: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) -> C::Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let seen = match check().await.holds() {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            match seen {
                Some(seen) => panic!("timed out after {within:?} waiting for {what}; last seen: {seen}"),
                None => panic!("timed out after {within:?} waiting for {what}"),
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A JSON call by hand, for what the typed client cannot express (it has a method for every
/// route): no `Authorization` header, a body or query of the wrong shape, an exact status it
/// does not return, the raw body. `token` `None` is anonymous, a `null` body sends none. Take
/// the answer as it came ([`Reply::parts`]) or as the typed client would ([`Reply::json`]).
/// Say at each use why it is by hand.
pub async fn call(client: &Client, method: Method, path: &str, token: Option<&str>, body: Value) -> Reply {
    let bytes = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    let (status, headers, text) = client.raw(method, path, token, bytes).await.expect("request");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Reply { status, headers, body }
}

/// The answer to a [`call`]: its status, headers and JSON body (`Null` when empty, a string
/// when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The status and the body, whatever the status.
    pub fn parts(self) -> (StatusCode, Value) {
        (self.status, self.body)
    }

    /// As the typed client answers: a success decoded as `T`, an error as [`ClientError`]
    /// (status, code, message, `Retry-After`).
    pub fn json<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        if self.status.is_success() {
            return serde_json::from_value(self.body).map_err(|e| ClientError::Decode(e.to_string()));
        }
        let status = self.status.as_u16();
        let retry_after =
            self.headers.get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        match serde_json::from_value::<api::ErrorBody>(self.body.clone()) {
            Ok(body) => Err(ClientError::Api { status, body, retry_after }),
            Err(_) => Err(ClientError::Status {
                status,
                text: match self.body {
                    Value::String(text) => text,
                    other => other.to_string(),
                },
            }),
        }
    }
}

/// The password of accounts made by [`create_account_in`].
pub const TEST_PASSWORD: &str = "correct horse battery staple";

/// The code an authenticator app shows now for a base32 `secret` (RFC 6238, 30 s steps), at
/// `now_ms` on the server's clock.
pub fn totp_code(secret: &str, now_ms: i64) -> String {
    let raw = totp_rs::Secret::Encoded(secret.into()).to_bytes().expect("base32");
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, raw, None, String::new());
    totp.generate((now_ms.max(0) / 1000) as u64)
}

/// Signs a staff account in for the first time on a server that asks for a second factor (a
/// server run as a process, with the default settings): the password, then enrolment with a
/// code from the secret it offers.
pub async fn sign_in_enrolling(client: &Client, username: &str, password: &str) -> TokenResponse {
    try_sign_in_enrolling(client, username, password)
        .await
        .unwrap_or_else(|e| panic!("{username} could not sign in: {e}"))
}

/// [`sign_in_enrolling`], answering the client's error.
pub async fn try_sign_in_enrolling(
    client: &Client,
    username: &str,
    password: &str,
) -> Result<TokenResponse, ClientError> {
    match client.login(username, password).await {
        Err(ClientError::SecondFactorRequired(step)) => {
            let Some(enrolment) = step.enrolment.as_ref() else { return Err(ClientError::SecondFactorRequired(step)) };
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
            client.login_second_factor(&step.challenge, &totp_code(&enrolment.secret, now as i64)).await
        }
        other => other,
    }
}

/// Makes a staff account straight in a database, as `talkzone admin create-user` would (for
/// servers running as processes, whose state a test cannot reach).
pub async fn create_account_in(database_url: &str, username: &str, role: Role) {
    let store = talkzone_server::store::connect(database_url).await.expect("open the database");
    let req = CreateUserRequest {
        username: username.into(),
        password: TEST_PASSWORD.into(),
        role,
        display_name: Some("Sam".into()),
    };
    talkzone_server::accounts::create_account(store.as_ref(), 0, req, None).await.expect("create the account");
}

/// The `talkzone` binary next to the test executable (`target/<profile>/talkzone`).
pub fn talkzone_binary() -> PathBuf {
    if let Ok(p) = std::env::var("TALKZONE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("talkzone");
    assert!(
        bin.exists(),
        "{} does not exist: build it first (cargo build -p talkzone-server), as the test script does",
        bin.display()
    );
    bin
}

/// The real binary as a child process.
pub struct ProcessServer {
    pub child: tokio::process::Child,
    pub base: String,
    pub client: Client,
}

impl ProcessServer {
    /// Starts `talkzone serve` on a random port with the given database and data dir, and
    /// waits until it prints where it listens.
    pub async fn spawn(database_url: &str, data_dir: &Path) -> ProcessServer {
        Self::spawn_with(database_url, data_dir, &[]).await
    }

    /// As [`spawn`](Self::spawn), with extra `TALKZONE_…` settings (a Redis URL, say).
    pub async fn spawn_with(database_url: &str, data_dir: &Path, env: &[(&str, &str)]) -> ProcessServer {
        let mut child = tokio::process::Command::new(talkzone_binary())
            .arg("serve")
            .env("TALKZONE_LISTEN", "127.0.0.1:0")
            .env("TALKZONE_DATA_DIR", data_dir)
            .env("TALKZONE_DATABASE_URL", database_url)
            .env("TALKZONE_JWT_SECRET", "process-test-secret-process-test-secret-0123")
            .env("TALKZONE_LOG", "warn")
            .env("TALKZONE_AUTH_PER_IP_PER_MIN", "10000")
            .env("TALKZONE_AUTH_BURST", "10000")
            .env("TALKZONE_SIGNUPS_FREE_PER_SOURCE", "1000000")
            .env("TALKZONE_OPEN_CHATS_PER_SOURCE", "0")
            .env("TALKZONE_WS_PER_SOURCE", "1000000")
            .env("TALKZONE_WS_PER_USER", "10000")
            // Process tests are about durability, not limits (those have their own tests).
            .env("TALKZONE_USER_MESSAGES_PER_SEC", "10000")
            .env("TALKZONE_USER_MESSAGES_BURST", "10000")
            .env("TALKZONE_WS_FRAMES_PER_SEC", "10000")
            .env("TALKZONE_WS_FRAMES_BURST", "10000")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn talkzone");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(rest) = line.strip_prefix("Talk Zone is listening on ") {
                    let url = rest.split_whitespace().next().expect("url");
                    return url.to_owned();
                }
            }
            panic!("talkzone exited before listening");
        })
        .await
        .expect("talkzone starts within 30 s");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let client = Client::new(&base).expect("client");
        ProcessServer { child, base, client }
    }

    /// SIGTERM, then waits for the process to drain and exit; returns how it exited.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("still running");
        let sent = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("talkzone exits within 30 s of SIGTERM")
            .expect("wait for talkzone")
    }

    /// `kill -9`: no chance to flush anything.
    pub async fn kill9(mut self) {
        self.child.start_kill().expect("kill");
        let _ = self.child.wait().await;
    }
}

pub mod load;
