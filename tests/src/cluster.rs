//! The pieces of a several-node deployment, real and private to one test: a Redis server, a
//! PostgreSQL server that can be restarted, and a small TCP proxy that spreads connections
//! over the nodes the way the proxy in `docker/compose.yaml` does.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::TempDir;

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

async fn wait_for_port(port: u16, what: &str) {
    let what = format!("{what} to listen on port {port}");
    crate::eventually(Duration::from_secs(10), &what, || async {
        TcpStream::connect(("127.0.0.1", port)).await.is_ok()
    })
    .await;
}

/// `redis-server` on a free port, without persistence (pub/sub keeps nothing anyway).
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    pub async fn start() -> RedisServer {
        let port = free_port();
        let mut redis = RedisServer { child: None, port };
        redis.spawn().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run redis-server ({e}): install it (apt-get install redis-server), as the README's test command does")
            });
        self.child = Some(child);
        wait_for_port(self.port, "redis-server").await;
    }

    /// Kills Redis (every subscription drops, queued pub/sub messages are lost).
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) {
        self.kill().await;
        self.spawn().await;
    }
}

/// A PostgreSQL server of the test's own, so the test can stop and start it without
/// disturbing the shared one. Runs as the `postgres` user when the tests run as root.
pub struct PgServer {
    bin: PathBuf,
    dir: TempDir,
    pub port: u16,
}

impl PgServer {
    pub async fn start() -> PgServer {
        let bin = std::env::var("TALKZONE_TEST_PG_BIN").map(PathBuf::from).unwrap_or_else(|_| {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                .expect("PostgreSQL is not installed: run the README's test command, which installs it")
                .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .filter(|p| p.join("initdb").exists())
                .collect();
            dirs.sort();
            dirs.pop().expect("no PostgreSQL server binaries under /usr/lib/postgresql")
        });
        let dir = TempDir::new();
        let pg = PgServer { bin, dir, port: free_port() };
        pg.run("initdb", &["-D", &pg.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8"]).await;
        pg.start_again().await;
        pg
    }

    fn data(&self) -> String {
        self.dir.0.join("data").display().to_string()
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    async fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if is_root() {
            let _ = std::process::Command::new("chown").args(["-R", "postgres"]).arg(&self.dir.0).status();
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        let out = cmd.args(args).stdin(Stdio::null()).output().await.expect("run a PostgreSQL tool");
        assert!(out.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// (Re)starts the server on its port with durable commits.
    pub async fn start_again(&self) {
        let log = self.dir.0.join("log").display().to_string();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=100 -c synchronous_commit=on",
            self.port,
            self.dir.0.display()
        );
        self.run("pg_ctl", &["-D", &self.data(), "-l", &log, "-w", "-t", "60", "start", "-o", &opts]).await;
    }

    /// Stops at once, as a crash would (`-m immediate`): no checkpoint, clients cut off.
    pub async fn crash(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]).await;
    }
}

fn is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            std::process::Command::new(pg_ctl)
        };
        let _ = cmd
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A TCP proxy that hands each new connection to the next node in turn, skipping nodes that
/// refuse (a killed node): what the WebSocket load balancer in front of the nodes does.
/// Bytes are copied as they are, so WebSocket upgrades pass through untouched.
pub struct TcpProxy {
    pub addr: SocketAddr,
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    task: JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(backends: Vec<SocketAddr>) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let backends = Arc::new(Mutex::new(backends));
        let next = Arc::new(AtomicUsize::new(0));
        let list = backends.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                let list = list.clone();
                let next = next.clone();
                tokio::spawn(async move {
                    let candidates: Vec<SocketAddr> = list.lock().map(|l| l.clone()).unwrap_or_default();
                    let start = next.fetch_add(1, Ordering::Relaxed);
                    for i in 0..candidates.len() {
                        let target = candidates[(start + i) % candidates.len()];
                        if let Ok(mut upstream) = TcpStream::connect(target).await {
                            // As the server does: small frames leave at once.
                            let _ = client.set_nodelay(true);
                            let _ = upstream.set_nodelay(true);
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                            return;
                        }
                    }
                });
            }
        });
        TcpProxy { addr, backends, task }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends new connections only to these nodes from now on.
    pub fn set_backends(&self, backends: Vec<SocketAddr>) {
        if let Ok(mut l) = self.backends.lock() {
            *l = backends;
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
