//! The end-to-end harness: boots the real server on a random port against a fresh database
//! (SQLite in a temp dir, or a new database in the PostgreSQL instance the test script
//! started), and hands tests a typed client. Also starts the real `talkzone` binary as a
//! child process for tests that kill it.
//!
//! PostgreSQL tests need `TALKZONE_TEST_PG_URL` (the README's test command sets it). They
//! fail with a clear message when it is missing: they never skip silently.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use talkzone_mobile_api::client::Client;
use talkzone_mobile_api::{CreateUserRequest, Role, TokenResponse};
use talkzone_server::clock::ManualClock;
use talkzone_server::config::Config;
use talkzone_server::RunningServer;
use tokio::io::{AsyncBufReadExt, BufReader};

pub use talkzone_mobile_api as api;

pub mod browser;
pub mod cluster;

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
    pub dir: std::sync::Arc<TempDir>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts with a clock the test moves by hand (`ManualClock::advance_ms`).
    pub async fn start_with_clock(backend: Backend, clock: std::sync::Arc<ManualClock>) -> TestServer {
        Self::start_inner(backend, |_| {}, Some(clock)).await
    }

    /// Starts with a hand-moved clock and an adjusted configuration.
    pub async fn start_with_clock_and(
        backend: Backend,
        clock: std::sync::Arc<ManualClock>,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        Self::start_inner(backend, tweak, Some(clock)).await
    }

    /// Another node on the same database (a second server, or this one after a restart).
    pub async fn node_on_same_database(
        &self,
        clock: Option<std::sync::Arc<ManualClock>>,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        Self::boot(self.backend, self.dir.clone(), self.database_url.clone(), tweak, clock).await
    }

    /// Starts on a database the test provides (its own PostgreSQL server, say).
    pub async fn start_on_database(
        backend: Backend,
        database_url: String,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        Self::boot(backend, std::sync::Arc::new(TempDir::new()), database_url, tweak, None).await
    }

    /// Starts with a configuration adjusted by `tweak` (limits, origins, …).
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_inner(backend, tweak, None).await
    }

    async fn start_inner(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        clock: Option<std::sync::Arc<ManualClock>>,
    ) -> TestServer {
        let dir = std::sync::Arc::new(TempDir::new());
        let database_url = fresh_database(backend, &dir.0).await;
        Self::boot(backend, dir, database_url, tweak, clock).await
    }

    async fn boot(
        backend: Backend,
        dir: std::sync::Arc<TempDir>,
        database_url: String,
        tweak: impl FnOnce(&mut Config),
        clock: Option<std::sync::Arc<ManualClock>>,
    ) -> TestServer {
        let mut config = Config::for_tests(&dir.0, Some(database_url.clone()));
        // Tests create many accounts from 127.0.0.1; the per-IP limit has its own test.
        config.limits.auth_per_ip_per_min = 10_000;
        config.limits.auth_burst = 10_000;
        tweak(&mut config);
        let clock: std::sync::Arc<dyn talkzone_server::clock::Clock> = match clock {
            Some(c) => c,
            None => std::sync::Arc::new(talkzone_server::clock::SystemClock),
        };
        let state = talkzone_server::build_state(config, clock).await.expect("state builds");
        let server = talkzone_server::start(state).await.expect("server starts");
        let base = format!("http://{}", server.addr);
        let client = Client::new(&base).expect("client");
        TestServer { server: Some(server), client, base, backend, database_url, dir }
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

/// Lifts the per-user and per-connection rates for tests about delivery, not limits (those
/// have their own tests).
pub fn without_message_limits(c: &mut Config) {
    c.limits.user_messages_per_sec = 10_000;
    c.limits.user_messages_burst = 10_000;
    c.limits.ws_frames_per_sec = 10_000;
    c.limits.ws_frames_burst = 10_000;
}

/// The password of accounts made by [`create_account_in`].
pub const TEST_PASSWORD: &str = "correct horse battery staple";

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
