//! Push notifications: content-free "New message" notifications to a young person's devices
//! when someone replies while the app or page is closed (docs/protocol.md, "Push
//! notifications").
//!
//! - `subscriptions.rs`: registering a device, with the checks (an https endpoint, valid keys,
//!   bounded sizes, at most [`MAX_PUSH_SUBSCRIPTIONS`] per account);
//! - `webpush.rs`: VAPID and the RFC 8291 payload encryption;
//! - `providers.rs`: the one interface every push service is reached through ([`Provider`]):
//!   Web Push, FCM HTTP v1, APNs.
//!
//! Sending never happens on the message path: [`Pusher::notify`] puts the job on a bounded
//! queue and returns at once (a full queue drops the notification, never the message); a worker
//! sends it with retries and exponential backoff, each request bounded by a timeout.

mod providers;
mod subscriptions;
pub mod webpush;

use std::sync::Arc;
use std::time::Duration;

use talkzone_mobile_api::{PushKind, PushPayload, MAX_PUSH_SUBSCRIPTIONS};
use tokio::sync::{mpsc, Semaphore};

use crate::clock::Clock;
use crate::config::PushConfig;
use crate::store::{PushSubscriptionRecord, Store};

pub use providers::{Outcome, Provider, Providers};
pub use subscriptions::{create, delete, list, web_push_key};
pub use webpush::Vapid;

/// Notifications waiting to be sent; beyond this they are dropped (and counted).
const QUEUE: usize = 1024;
/// Deliveries under way at once.
const CONCURRENCY: usize = 16;
/// Tries per device, and the first wait between them (doubled each time: 1 s, 2 s, 4 s, 8 s).
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// Why a young person is being notified (for logs and metrics only: the notification itself
/// says the same thing whatever the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A worker accepted their waiting chat.
    Accepted,
    /// Staff wrote in their chat while they had no socket open.
    Reply,
    /// A survey was sent to them.
    Survey,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Accepted => "accepted",
            Reason::Reply => "reply",
            Reason::Survey => "survey",
        }
    }
}

struct Job {
    user_id: String,
    /// The chat the window is kept for (`None`: not about a chat, e.g. a survey).
    conversation_id: Option<String>,
    reason: Reason,
}

/// The push sender: a queue and its worker.
pub struct Pusher {
    tx: mpsc::Sender<Job>,
    pub(crate) providers: Arc<Providers>,
}

impl Pusher {
    /// Starts the worker (it stops when the queue's last sender, this, is dropped).
    pub fn start(
        config: PushConfig,
        providers: Providers,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Arc<Pusher> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let providers = Arc::new(providers);
        tokio::spawn(worker(rx, config, providers.clone(), store, clock));
        Arc::new(Pusher { tx, providers })
    }

    /// Asks for a notification to the user's devices. Never waits: a full queue drops it.
    pub fn notify(&self, user_id: &str, conversation_id: Option<&str>, reason: Reason) {
        let job = Job { user_id: user_id.to_owned(), conversation_id: conversation_id.map(str::to_owned), reason };
        if self.tx.try_send(job).is_err() {
            metrics::counter!("talkzone_push_dropped_total").increment(1);
            tracing::warn!(reason = reason.as_str(), "push queue full: a notification was dropped");
        }
    }
}

async fn worker(
    mut rx: mpsc::Receiver<Job>,
    config: PushConfig,
    providers: Arc<Providers>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    while let Some(job) = rx.recv().await {
        let (store, clock, providers) = (store.clone(), clock.clone(), providers.clone());
        let window = config.window;
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = send_job(&job, window, &providers, store.as_ref(), clock.as_ref()).await {
                tracing::warn!(error = %e, reason = job.reason.as_str(), "push notification not sent");
            }
        });
    }
}

async fn send_job(
    job: &Job,
    window: Duration,
    providers: &Providers,
    store: &dyn Store,
    clock: &dyn Clock,
) -> crate::store::Result<()> {
    let subs = store.push_subscriptions(&job.user_id).await?;
    if subs.is_empty() {
        return Ok(());
    }
    if let Some(chat) = &job.conversation_id {
        let now = clock.now_ms();
        if !store.claim_push_window(chat, now - window.as_millis() as i64, now).await? {
            metrics::counter!("talkzone_push_coalesced_total").increment(1);
            return Ok(());
        }
    }
    let payload = PushPayload::default();
    let deliveries =
        subs.into_iter().take(MAX_PUSH_SUBSCRIPTIONS).map(|sub| deliver(sub, &payload, providers, store, clock));
    futures_util::future::join_all(deliveries).await;
    Ok(())
}

/// One device: tries until the service takes it, says it is gone, or the tries run out.
async fn deliver(
    sub: PushSubscriptionRecord,
    payload: &PushPayload,
    providers: &Providers,
    store: &dyn Store,
    clock: &dyn Clock,
) {
    let Some(kind) = PushKind::parse(&sub.kind) else { return };
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        match providers.send(kind, &sub, payload, clock.now_ms() / 1000).await {
            Outcome::Sent => {
                metrics::counter!("talkzone_push_sent_total", "kind" => kind.as_str()).increment(1);
                let _ = store.mark_push_success(&sub.id, clock.now_ms()).await;
                return;
            }
            Outcome::Gone => {
                metrics::counter!("talkzone_push_gone_total", "kind" => kind.as_str()).increment(1);
                let _ = store.forget_push_subscription(&sub.id).await;
                return;
            }
            Outcome::Rejected(why) => {
                tracing::warn!(kind = kind.as_str(), %why, "push service refused a notification");
                return;
            }
            Outcome::NotConfigured => return,
            Outcome::Retry(why) => {
                metrics::counter!("talkzone_push_retries_total", "kind" => kind.as_str()).increment(1);
                tracing::info!(kind = kind.as_str(), attempt, %why, "push failed; will retry");
                if attempt < ATTEMPTS {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
    }
    metrics::counter!("talkzone_push_failed_total", "kind" => kind.as_str()).increment(1);
}
