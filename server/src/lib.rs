//! Talk Zone server: a 24/7 live-chat support service for young people.
//!
//! Layout (one module per concept):
//! - [`config`]: settings from flags, environment and file, validated at start;
//! - [`cli`]: `serve`, `migrate`, `admin create-user`, `moderate`;
//! - [`http`]: the axum router, REST handlers by resource, middleware, OpenAPI;
//! - [`ws`]: the WebSocket upgrade and one task per connection;
//! - [`hub`]: who is subscribed to what on this node; fan-out; [`broker`]: between nodes;
//! - [`conversations`]: the one code path for each chat action, and who may do it;
//! - [`queue`]: queue order, positions, wait estimates and live queue updates;
//! - [`desk`]: the rota, who is on duty, wellbeing caps; [`presence`]: who is connected;
//! - [`escalation`]: safeguarding escalations, deadlines, re-escalation, on-call outbox;
//! - [`store`]: the database (SQLite or PostgreSQL), the only place SQL lives;
//!   [`group_commit`]: concurrent messages stored in one durable commit;
//! - [`auth`]: tokens, passwords, tickets, the `AuthUser` extractor;
//! - [`moderation`]: the current policy and classification of every message;
//! - [`rooms`]: moderated peer rooms; [`moderation_queue`]: holds, reports, decisions,
//!   appeals, actions on users, the moderation log;
//! - [`privacy`]: export, erasure, safeguarding holds, retention, staff-access audit;
//! - [`limits`]: rate limits; [`audit`]: the audit log; [`telemetry`]: logs and metrics;
//! - [`clock`]: injectable time; [`names`]: friendly anonymous names; [`ids`]: random ids.

pub mod audit;
pub mod auth;
pub mod batch;
pub mod broker;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conversation_cache;
pub mod conversations;
pub mod desk;
pub mod directory;
pub mod error;
pub mod escalation;
pub mod group_commit;
pub mod http;
pub mod hub;
pub mod ids;
pub mod input;
pub mod limits;
pub mod moderation;
pub mod moderation_queue;
pub mod names;
pub mod presence;
pub mod privacy;
pub mod queue;
pub mod rooms;
pub mod state;
pub mod store;
pub mod surveys;
pub mod telemetry;
pub mod web;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::broker::{Broker, LocalBroker};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::hub::Hub;
use crate::limits::Limits;
use crate::state::AppState;

pub use http::router as app;

/// Opens the database (applying migrations) and builds the shared state.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    // The metrics recorder must exist before the first thing is counted.
    let _ = telemetry::metrics_handle();
    let (store, surveys) = store::connect_with_surveys(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database at {}", config::mask_url(&config.database_url)))?;
    store.migrate().await.context("cannot apply database migrations")?;
    let shutdown = CancellationToken::new();
    let node: Arc<str> = Arc::from(ids::random_id());
    let hub = Hub::new();
    let broker: Arc<dyn Broker> = match &config.redis_url {
        None => Arc::new(LocalBroker),
        Some(url) => broker::redis::RedisBroker::start(url, node.to_string(), Arc::downgrade(&hub), shutdown.clone())
            .await
            .with_context(|| format!("cannot reach the broker at {}", config::mask_url(url)))?,
    };
    hub.attach_broker(broker.clone());
    let messages = Arc::new(
        group_commit::MessageWriter::start(store.clone(), hub.clone()).context("cannot start the message writers")?,
    );
    let read_audit = {
        let store = store.clone();
        Arc::new(batch::Batcher::start("audit", 256, move |events: Vec<store::AuditEvent>| {
            let store = store.clone();
            async move { store.append_audits(&events).await }
        }))
    };
    let presence_touches = {
        let (store, clock) = (store.clone(), clock.clone());
        Arc::new(batch::Batcher::start("presence", 256, move |mut ids: Vec<String>| {
            let (store, clock) = (store.clone(), clock.clone());
            ids.sort_unstable();
            ids.dedup();
            async move { store.touch_seen(&ids, clock.now_ms()).await }
        }))
    };
    let secret = auth::load_or_create_secret(config.jwt_secret.as_deref(), &config.data_dir)
        .with_context(|| format!("cannot read or create the signing key in {}", config.data_dir.display()))?;
    let auth = Arc::new(Auth::new(&secret, config.access_token_ttl, store.clone(), clock.clone()));
    let limits = Arc::new(Limits::new(config.limits.clone(), clock.clone()));
    let config_data_dir = config.data_dir.clone();
    Ok(AppState {
        node,
        config: Arc::new(config),
        store,
        surveys,
        auth,
        messages,
        conversation_cache: Default::default(),
        read_audit,
        presence_touches,
        hub,
        broker,
        limits,
        clock,
        moderation: Arc::new(
            moderation::ModerationService::load(&config_data_dir)
                .map_err(|e| anyhow::anyhow!("configuration: moderation policy: {e}"))?,
        ),
        shutdown,
    })
}

/// A server running in this process.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, closes sockets with 1012, lets in-flight requests finish.
    pub async fn shutdown(self) {
        self.state.shutdown.cancel();
        let _ = tokio::time::timeout(config::SHUTDOWN_GRACE, self.task).await;
    }

    /// Waits until the server stops (after `state.shutdown` is cancelled).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task failed")?.context("server failed")
    }
}

/// Binds the listen address and serves in the background.
pub async fn start(state: AppState) -> anyhow::Result<RunningServer> {
    let listen = state.config.listen;
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!("configuration: listen: {listen} is already in use (another talkzone, or choose --listen)")
        } else {
            anyhow::anyhow!("configuration: listen: cannot listen on {listen}: {e}")
        }
    })?;
    let addr = listener.local_addr()?;
    let router = app(state.clone());
    let shutdown = state.shutdown.clone();
    // Forget idle rate-limit keys (and so client IPs) every minute.
    let limits = state.limits.clone();
    let sweeper_stop = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = sweeper_stop.cancelled() => break,
                _ = tick.tick() => limits.forget_idle(),
            }
        }
    });
    spawn_scheduler(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(without_nagle(listener), router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    });
    Ok(RunningServer { addr, state, task })
}

/// The listener with Nagle's algorithm off on every accepted socket. With it on, a small frame
/// (an `ack`, a delivery) waits until the client's TCP acknowledges the previous one, which a
/// client that has nothing to say delays until its next send: 20 ms late at 50 messages a
/// second in docs/benchmarks.md (2026-11-24, morning).
fn without_nagle(listener: TcpListener) -> axum::serve::TapIo<TcpListener, fn(&mut tokio::net::TcpStream)> {
    fn nodelay(tcp: &mut tokio::net::TcpStream) {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
        }
    }
    listener.tap_io(nodelay as fn(&mut tokio::net::TcpStream))
}

/// Builds the state and serves with the system clock.
pub async fn start_with_config(config: Config) -> anyhow::Result<RunningServer> {
    let state = build_state(config, Arc::new(SystemClock)).await?;
    start(state).await
}

/// How often retention runs (by the service clock).
const RETENTION_EVERY_MS: i64 = 3_600_000;

/// Each node's timekeeper: fires escalation deadlines, delivers on-call alerts, and returns
/// unanswered assignments to the queue. Every step is a conditional database update, so with
/// several nodes each happens once.
fn spawn_scheduler(state: AppState) {
    tokio::spawn(async move {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        let mut tick = tokio::time::interval(escalation::SCHEDULER_TICK);
        let mut last_beat: Option<std::time::Instant> = None;
        let wellbeing = desk::Wellbeing::default();
        // By the service clock, so that tests moving the clock see retention run.
        let mut last_retention: Option<i64> = None;
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => break,
                _ = tick.tick() => {
                    if let Err(e) = escalation::fire_due(&state).await {
                        tracing::error!(error = %e, "escalation deadlines");
                    }
                    if let Err(e) = escalation::deliver_outbox(&state, &http).await {
                        tracing::error!(error = %e, "on-call outbox");
                    }
                    if let Err(e) = conversations::return_unanswered(&state).await {
                        tracing::error!(error = %e, "assignment timeouts");
                    }
                    if let Err(e) = conversations::return_stranded(&state).await {
                        tracing::error!(error = %e, "chats of workers who went away");
                    }
                    if let Err(e) = queue::auto_assign(&state).await {
                        tracing::error!(error = %e, "auto-assignment");
                    }
                    if last_beat.is_none_or(|t| t.elapsed() >= presence::HEARTBEAT) {
                        last_beat = Some(std::time::Instant::now());
                        presence::heartbeat(&state).await;
                        if let Err(e) = wellbeing.check(&state).await {
                            tracing::error!(error = %e, "wellbeing caps");
                        }
                    }
                    let now = state.clock.now_ms();
                    if last_retention.is_none_or(|t| now - t >= RETENTION_EVERY_MS) {
                        last_retention = Some(now);
                        // One node per round: the lease outlives the run and expires before
                        // the next round, so a node that died does not stop retention.
                        match state.store.take_lease("retention", &state.node, now, now + RETENTION_EVERY_MS - 60_000).await {
                            Ok(true) => {
                                if let Err(e) = privacy::apply_retention(&state).await {
                                    tracing::error!(error = %e, "retention");
                                }
                            }
                            Ok(false) => tracing::debug!("retention: another node runs it this round"),
                            Err(e) => tracing::error!(error = %e, "retention lease"),
                        }
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener as _;

    #[tokio::test]
    async fn accepted_sockets_send_small_frames_at_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = super::without_nagle(listener);
        let client = tokio::net::TcpStream::connect(addr);
        let ((io, _), _client) = tokio::join!(listener.accept(), client);
        assert!(io.nodelay().unwrap(), "Nagle's algorithm is still on for accepted sockets");
    }
}
