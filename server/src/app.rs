//! Building the shared state and running the server: opens the database, starts the writers,
//! the broker and the scheduler, and serves HTTP and WebSocket until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
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
use crate::{auth, batch, config, group_commit, http, ids, jobs, moderation, realtime, store, telemetry};

/// Opens the database (applying migrations) and builds the shared state.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    // The metrics recorder must exist before the first thing is counted.
    let _ = telemetry::metrics_handle();
    let store = store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database at {}", config::mask_url(&config.database_url)))?;
    store.migrate().await.context("cannot apply database migrations")?;
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
    let auth = Arc::new(Auth::new(&secret, config.access_token_ttl, store.clone(), clock.clone(), hub.clone()));
    let limits = Arc::new(Limits::new(config.limits.clone(), clock.clone()));
    let config_data_dir = config.data_dir.clone();
    Ok(AppState {
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
    let router = http::router(state.clone());
    let shutdown = state.shutdown.clone();
    jobs::spawn(state.clone());
    tokio::spawn(state.auth.clone().watch_ended_sessions(state.shutdown.clone()));
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
