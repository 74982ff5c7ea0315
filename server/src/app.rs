//! Building the shared state and running the server: opens the database, starts the writers,
//! the broker and the scheduler, and serves HTTP and WebSocket until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::limits::Limits;
use crate::realtime::broker::{Broker, LocalBroker};
use crate::realtime::hub::Hub;
use crate::state::AppState;
use crate::{
    auth, batch, config, group_commit, http, ids, jobs, moderation, policies, privacy, push, realtime, store, telemetry,
};

/// Opens the database (applying migrations) and builds the shared state.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    // The metrics recorder must exist before the first thing is counted.
    let _ = telemetry::metrics_handle();
    let sessions = store::SessionLimits {
        lock_timeout_ms: config.limits.db_lock_timeout_ms,
        idle_in_transaction_timeout_ms: config.limits.db_idle_in_transaction_timeout_ms,
    };
    let store = store::connect_with(&config.database_url, sessions)
        .await
        .with_context(|| format!("cannot open the database at {}", config::mask_url(&config.database_url)))?;
    store.migrate().await.context("cannot apply database migrations")?;
    // The learned stage of moderation: never run on the rules alone.
    let model = moderation::load_model(config.moderation_model.as_deref())
        .map_err(|e| anyhow::anyhow!("configuration: moderation-model: {e}"))?;
    // Policies an earlier version kept as files become stored versions, once.
    policies::adopt_policy_file(store.as_ref(), &config.data_dir, clock.now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("configuration: moderation policy: {e}"))?;
    privacy::notice::adopt_file(store.as_ref(), &config.data_dir, clock.now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("monitoring notice: {e}"))?;
    let shutdown = CancellationToken::new();
    let node: Arc<str> = Arc::from(ids::random_id());
    let hub = Hub::new();
    let broker: Arc<dyn Broker> = match &config.redis_url {
        None => Arc::new(LocalBroker),
        Some(url) => {
            realtime::broker::redis::RedisBroker::start(url, node.to_string(), Arc::downgrade(&hub), shutdown.clone())
                .await
                .with_context(|| format!("cannot reach the broker at {}", config::mask_url(url)))?
        }
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
    let auth = Arc::new(
        Auth::new(&secret, config.access_token_ttl, store.clone(), clock.clone(), hub.clone(), config.second_factor)
            .with_sso(config.sso.clone())
            .with_passkeys(&config.allowed_origins),
    );
    let limits = Arc::new(Limits::new(config.limits.clone(), clock.clone()).with_source_secret(&secret));
    let providers = push::Providers::from_config(&config.push, &config.data_dir)
        .map_err(|e| anyhow::anyhow!("configuration: push: {e}"))?;
    let push = push::Pusher::start(config.push.clone(), providers, store.clone(), clock.clone());
    let state = AppState {
        node,
        config: Arc::new(config),
        store,
        auth,
        messages,
        conversation_cache: Default::default(),
        read_audit,
        presence_touches,
        hub,
        broker,
        limits,
        clock,
        moderation: Arc::new(moderation::ModerationService::new(model)),
        push,
        shutdown,
    };
    // The policy in force before the first message is classified.
    policies::refresh(&state).await.map_err(|e| anyhow::anyhow!("cannot read the moderation policy: {e}"))?;
    Ok(state)
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
    let router = http::router(state.clone());
    let shutdown = state.shutdown.clone();
    let header_timeout = state.config.limits.http_header_timeout;
    crate::on_call::warn_at_start(&state);
    jobs::spawn(state.clone());
    tokio::spawn(state.auth.clone().watch_ended_sessions(state.shutdown.clone()));
    let task = tokio::spawn(serve(listener, router, shutdown, header_timeout));
    Ok(RunningServer { addr, state, task })
}

/// Serves HTTP/1.1 (and WebSocket upgrades) until `shutdown`, then lets open requests finish.
/// axum's own `serve` has no timeouts, so a client could hold a connection open for minutes
/// by sending a request slowly or not at all: here the request head must arrive within
/// `header_timeout` (hyper's timer), which also ends a kept-alive connection that sends
/// nothing more for that long; the body's own timeout is a layer of the router
/// (`http::router`). The peer's address reaches handlers as `ConnectInfo`.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
    header_timeout: std::time::Duration,
) -> std::io::Result<()> {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt as _;

    // HTTP/1.1 only (as before): hyper-util's version-sniffing builder reads the first bytes
    // before any timer runs, so a client that sends nothing would never time out.
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1.timer(TokioTimer::new()).header_read_timeout(header_timeout);
    let connections = tokio_util::task::TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // One connection that failed before it was accepted; the next may be fine.
                Err(e) if is_connection_error(&e) => continue,
                // Out of file descriptors, say: wait rather than spin.
                Err(e) => {
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        without_nagle(&tcp);
        let service = router.clone().map_request(move |mut req: axum::extract::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let connection = http1.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service)).with_upgrades();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = shutdown.cancelled() => {
                    // Finish the request in hand, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Nagle's algorithm off on an accepted socket. With it on, a small frame (an `ack`, a
/// delivery) waits until the client's TCP acknowledges the previous one, which a client that
/// has nothing to say delays until its next send: 20 ms late at 50 messages a second in
/// docs/benchmarks.md (2026-11-24, morning).
fn without_nagle(tcp: &tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
    }
}

/// Builds the state and serves with the system clock.
pub async fn start_with_config(config: Config) -> anyhow::Result<RunningServer> {
    let state = build_state(config, Arc::new(SystemClock)).await?;
    start(state).await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn accepted_sockets_send_small_frames_at_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::net::TcpStream::connect(addr);
        let (accepted, _client) = tokio::join!(listener.accept(), client);
        let (io, _) = accepted.unwrap();
        super::without_nagle(&io);
        assert!(io.nodelay().unwrap(), "Nagle's algorithm is still on for accepted sockets");
    }
}
