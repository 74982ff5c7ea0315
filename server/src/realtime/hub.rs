//! Who is connected to this node and what they subscribed to; fans events out to them.
//!
//! Every outgoing queue is bounded. The hub never waits for a connection: if its queue is
//! full, the connection is a slow consumer and is told to close (the client reconnects and
//! resumes from its last `seq`, losing nothing, because the database is the truth).
//!
//! Events are published to the [`Broker`](super::broker::Broker) as well, so that other
//! nodes deliver them to their own connections.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use talkzone_mobile_api::{ConversationId, MessageView, Role, ServerFrame, UserId};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::broker::Broker;
use super::Event;

pub type ConnId = u64;

/// What a connection task receives.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A message, its JSON made once and shared by every recipient. Behind one pointer so
    /// that `Outbound` stays small: each connection's queue allocates room for 32 of them
    /// up front, whether or not it is ever used.
    Message(Arc<Delivery>),
    Frame(Arc<str>),
    /// A moderation item (its evidence) for a watching moderator: the connection records
    /// that its user was shown it.
    ModerationItem(Arc<ItemShown>),
    /// Events may have been lost between nodes: re-read what the connection follows from the
    /// database.
    Resync,
}

/// A moderation item as watching moderators get it.
#[derive(Debug)]
pub struct ItemShown {
    pub item_id: String,
    pub json: Arc<str>,
}

/// One message as its recipients get it (staff and others may get different JSON).
#[derive(Debug)]
pub struct Delivery {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub json: Arc<str>,
}

struct Conn {
    user_id: UserId,
    /// The session it was opened in: it closes when that session ends.
    session_id: Box<str>,
    /// Set before `close` when the connection closes because its session ended (the client
    /// must sign in again, not just reconnect).
    signed_out: Arc<AtomicBool>,
    /// Staff see moderation verdicts on messages; supervisors get escalations.
    role: Role,
    tx: mpsc::Sender<Outbound>,
    /// Cancelled to make the connection close itself (slow consumer, revoked user).
    close: CancellationToken,
    /// What it is subscribed to, so that removing it touches only those (a reconnect storm
    /// would otherwise scan every subscription once per connection).
    conversations: HashSet<ConversationId>,
}

#[derive(Default)]
struct Inner {
    conns: HashMap<ConnId, Conn>,
    by_conversation: HashMap<ConversationId, HashSet<ConnId>>,
    by_user: HashMap<UserId, HashSet<ConnId>>,
    queue_watchers: HashSet<ConnId>,
    moderation_watchers: HashSet<ConnId>,
    /// Subscriptions allowed only while the conversation is queued (a worker triaging).
    triage: HashMap<ConversationId, HashSet<ConnId>>,
}

pub struct Hub {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    /// Set once at start; the Redis broker needs the hub to exist first (it delivers to it).
    broker: OnceLock<Arc<dyn Broker>>,
    /// Counts [`Event::PolicyChanged`] seen here: the scheduler reloads policies when it moves.
    policy_changes: AtomicU64,
}

/// Who a connection is: its user, role and session, and the flag the hub sets when it closes
/// the connection because that session ended.
pub struct Registrant {
    pub user_id: UserId,
    pub role: Role,
    pub session_id: String,
    pub signed_out: Arc<AtomicBool>,
}

/// Removes the connection from the hub however its task ends.
pub struct Registration {
    pub id: ConnId,
    hub: Arc<Hub>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.remove(self.id);
    }
}

/// How often [`Hub::resync_spread`] asks its next share of connections to re-read.
pub const SPREAD_STEP: Duration = Duration::from_millis(100);
/// The most connections a node asks to re-read in a second, so that recovering from a lost
/// event cannot also overload the database.
pub const MAX_RESYNCS_PER_SEC: usize = 2_000;

/// The shortest time in which `connections` may all re-read ([`MAX_RESYNCS_PER_SEC`]).
pub fn resync_time(connections: usize) -> Duration {
    Duration::from_secs_f64(connections as f64 / MAX_RESYNCS_PER_SEC as f64)
}

fn to_json(frame: &ServerFrame) -> Arc<str> {
    // Serialising our own frame types cannot fail: they hold only strings, numbers and JSON.
    Arc::from(serde_json::to_string(frame).unwrap_or_else(|_| "{}".into()))
}

impl Hub {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner::default()),
            next_id: AtomicU64::new(1),
            broker: OnceLock::new(),
            policy_changes: AtomicU64::new(0),
        })
    }

    /// Connects the hub to the other nodes. Until then (and with the in-process broker)
    /// events are delivered on this node only.
    pub fn attach_broker(&self, broker: Arc<dyn Broker>) {
        let _ = self.broker.set(broker);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain maps behind, still consistent enough
        // to keep serving; recover rather than take the node down.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn register(
        self: &Arc<Self>,
        who: Registrant,
        tx: mpsc::Sender<Outbound>,
        close: CancellationToken,
    ) -> Registration {
        let Registrant { user_id, role, session_id, signed_out } = who;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.lock();
        inner.by_user.entry(user_id.clone()).or_default().insert(id);
        inner.conns.insert(
            id,
            Conn { user_id, session_id: session_id.into(), signed_out, role, tx, close, conversations: HashSet::new() },
        );
        Registration { id, hub: self.clone() }
    }

    fn remove(&self, id: ConnId) {
        let mut inner = self.lock();
        let Some(conn) = inner.conns.remove(&id) else { return };
        if let Some(set) = inner.by_user.get_mut(&conn.user_id) {
            set.remove(&id);
            if set.is_empty() {
                inner.by_user.remove(&conn.user_id);
            }
        }
        for conversation_id in &conn.conversations {
            forget(&mut inner.by_conversation, conversation_id, id);
            forget(&mut inner.triage, conversation_id, id);
        }
        inner.queue_watchers.remove(&id);
        inner.moderation_watchers.remove(&id);
    }

    pub fn subscribe(&self, id: ConnId, conversation_id: &ConversationId) {
        let mut inner = self.lock();
        let Some(conn) = inner.conns.get_mut(&id) else { return };
        conn.conversations.insert(conversation_id.clone());
        inner.by_conversation.entry(conversation_id.clone()).or_default().insert(id);
    }

    /// Subscribes for triage: the subscription ends when the conversation leaves the queue
    /// ([`Event::EndTriage`]).
    pub fn subscribe_triage(&self, id: ConnId, conversation_id: &ConversationId) {
        self.subscribe(id, conversation_id);
        self.lock().triage.entry(conversation_id.clone()).or_default().insert(id);
    }

    pub fn unsubscribe(&self, id: ConnId, conversation_id: &ConversationId) {
        let mut inner = self.lock();
        if let Some(conn) = inner.conns.get_mut(&id) {
            conn.conversations.remove(conversation_id);
        }
        forget(&mut inner.triage, conversation_id, id);
        forget(&mut inner.by_conversation, conversation_id, id);
    }

    pub fn watch_queue(&self, id: ConnId) {
        self.lock().queue_watchers.insert(id);
    }

    pub fn watch_moderation(&self, id: ConnId) {
        self.lock().moderation_watchers.insert(id);
    }

    /// Number of live connections of a user on this node.
    pub fn connections_of(&self, user_id: &UserId) -> usize {
        self.lock().by_user.get(user_id).map_or(0, HashSet::len)
    }

    /// Staff with at least one connection on this node (each once).
    pub fn connected_staff(&self) -> Vec<UserId> {
        let inner = self.lock();
        inner
            .by_user
            .iter()
            .filter(|(_, ids)| ids.iter().any(|id| inner.conns.get(id).is_some_and(|c| c.role.is_staff())))
            .map(|(user, _)| user.clone())
            .collect()
    }

    pub fn connection_count(&self) -> usize {
        self.lock().conns.len()
    }

    /// Delivers here and on every other node.
    pub fn publish(&self, event: Event) {
        self.deliver_local(&event);
        if let Some(broker) = self.broker.get() {
            broker.publish(&event);
        }
    }

    /// Asks every connection on this node to re-read from the database each time `requests`
    /// is notified (events from other nodes may have been lost), at most
    /// [`MAX_RESYNCS_PER_SEC`] connections a second: a node of 19,000 connections re-reading
    /// at once would queue every message's write behind 19,000 reads just as Redis comes back.
    /// Requests that come during a pass make one more pass after it, so every connection
    /// re-reads after the latest loss; a message lost in a chat that goes on is found sooner,
    /// by the gap in `seq` of the next one. Runs until `stop` or the hub goes.
    pub async fn resync_on_request(
        hub: std::sync::Weak<Hub>,
        requests: Arc<tokio::sync::Notify>,
        stop: CancellationToken,
    ) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = requests.notified() => {}
            }
            let Some(connections) = hub.upgrade().map(|h| h.connection_count()) else { return };
            Hub::resync_spread(&hub, resync_time(connections), &stop).await;
        }
    }

    /// Tells every connection on this node to re-read, spread evenly over `over` (in steps of
    /// [`SPREAD_STEP`]) instead of all at once: while the broker is away the node re-reads on
    /// every poll, and thousands of connections reading at the same instant would queue every
    /// other read behind theirs. Each connection there at the start is asked once; one that
    /// has gone is skipped, and one that arrives meanwhile read everything when it subscribed.
    /// Returns after `over`, or at once when the hub goes or `stop` is cancelled.
    pub async fn resync_spread(hub: &std::sync::Weak<Hub>, over: Duration, stop: &CancellationToken) {
        let Some(ids) = hub.upgrade().map(|h| h.lock().conns.keys().copied().collect::<Vec<_>>()) else { return };
        let steps = (over.as_millis() / SPREAD_STEP.as_millis()).max(1) as usize;
        let per_step = ids.len().div_ceil(steps).max(1);
        let started = tokio::time::Instant::now();
        let mut chunks = ids.chunks(per_step);
        for step in 0..steps {
            if let Some(chunk) = chunks.next() {
                let Some(hub) = hub.upgrade() else { return };
                let inner = hub.lock();
                for id in chunk {
                    offer(&inner, *id, Outbound::Resync);
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep_until(started + SPREAD_STEP * (step as u32 + 1)) => {}
            }
        }
    }

    /// Delivers to this node's connections only (the broker's listener calls this).
    pub fn deliver_local(&self, event: &Event) {
        match event {
            Event::Message(m) => {
                let delivery =
                    |json| Arc::new(Delivery { conversation_id: m.conversation_id.clone(), seq: m.seq, json });
                let staff_json = delivery(to_json(&ServerFrame::Message(m.clone())));
                let public_json = if m.moderation.is_some() {
                    delivery(to_json(&ServerFrame::Message(MessageView { moderation: None, ..m.clone() })))
                } else {
                    staff_json.clone()
                };
                let inner = self.lock();
                if let Some(set) = inner.by_conversation.get(&m.conversation_id) {
                    for id in set {
                        let staff = inner.conns.get(id).is_some_and(|c| c.role.is_staff());
                        let json = if staff { staff_json.clone() } else { public_json.clone() };
                        offer(&inner, *id, Outbound::Message(json));
                    }
                }
            }
            Event::ToConversation { conversation_id, frame, except_user } => {
                let out = Outbound::Frame(to_json(frame));
                let inner = self.lock();
                if let Some(set) = inner.by_conversation.get(conversation_id) {
                    for id in set {
                        let skip =
                            except_user.as_ref().is_some_and(|u| inner.conns.get(id).is_some_and(|c| &c.user_id == u));
                        if !skip {
                            offer(&inner, *id, out.clone());
                        }
                    }
                }
            }
            Event::ToUser { user_id, frame } => {
                let out = Outbound::Frame(to_json(frame));
                let inner = self.lock();
                if let Some(set) = inner.by_user.get(user_id) {
                    for id in set {
                        offer(&inner, *id, out.clone());
                    }
                }
            }
            Event::ToQueueWatchers { frame } => {
                let out = Outbound::Frame(to_json(frame));
                let inner = self.lock();
                for id in &inner.queue_watchers {
                    offer(&inner, *id, out.clone());
                }
            }
            Event::EndTriage { conversation_id, keep_user } => {
                let mut inner = self.lock();
                let inner = &mut *inner;
                let Some(triaging) = inner.triage.remove(conversation_id) else { return };
                for id in triaging {
                    let Some(conn) = inner.conns.get_mut(&id) else { continue };
                    if &conn.user_id != keep_user {
                        conn.conversations.remove(conversation_id);
                        forget(&mut inner.by_conversation, conversation_id, id);
                    }
                }
            }
            Event::ToModerationWatchers { frame } => {
                let out = match frame {
                    ServerFrame::ModerationChanged { item } => {
                        Outbound::ModerationItem(Arc::new(ItemShown { item_id: item.id.clone(), json: to_json(frame) }))
                    }
                    other => Outbound::Frame(to_json(other)),
                };
                let inner = self.lock();
                for id in &inner.moderation_watchers {
                    offer(&inner, *id, out.clone());
                }
            }
            Event::ToRoles { roles, frame } => {
                let out = Outbound::Frame(to_json(frame));
                let inner = self.lock();
                for (id, conn) in &inner.conns {
                    if roles.contains(&conn.role) {
                        offer(&inner, *id, out.clone());
                    }
                }
            }
            Event::DisconnectUser { user_id } => self.sign_out(user_id, None),
            Event::DisconnectSession { user_id, session_id } => self.sign_out(user_id, Some(session_id)),
            Event::PolicyChanged { .. } => {
                self.policy_changes.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Hub {
    /// Asks a user's connections on this node to reconnect (1013), as a dropped network would:
    /// their sessions go on. For shedding a node's load, and for tests of reconnection.
    pub fn drop_connections_of(&self, user_id: &UserId) {
        let inner = self.lock();
        for id in inner.by_user.get(user_id).into_iter().flatten() {
            if let Some(c) = inner.conns.get(id) {
                c.close.cancel();
            }
        }
    }

    /// Closes the connections of a user (of one session of theirs, if named) as signed out.
    fn sign_out(&self, user_id: &UserId, session_id: Option<&str>) {
        let inner = self.lock();
        let Some(set) = inner.by_user.get(user_id) else { return };
        for id in set {
            let Some(c) = inner.conns.get(id) else { continue };
            if session_id.is_none_or(|s| *c.session_id == *s) {
                c.signed_out.store(true, Ordering::Relaxed);
                c.close.cancel();
            }
        }
    }

    /// How many policy changes this node has heard of (see [`Event::PolicyChanged`]).
    pub fn policy_changes(&self) -> u64 {
        self.policy_changes.load(Ordering::Relaxed)
    }
}

/// Takes a connection out of one conversation's set, dropping the set when it empties.
fn forget(sets: &mut HashMap<ConversationId, HashSet<ConnId>>, conversation_id: &ConversationId, id: ConnId) {
    if let Some(set) = sets.get_mut(conversation_id) {
        set.remove(&id);
        if set.is_empty() {
            sets.remove(conversation_id);
        }
    }
}

/// Queues without waiting; a full queue marks a slow consumer, which closes itself.
fn offer(inner: &Inner, id: ConnId, out: Outbound) {
    let Some(conn) = inner.conns.get(&id) else { return };
    if let Err(mpsc::error::TrySendError::Full(_)) = conn.tx.try_send(out) {
        if !conn.close.is_cancelled() {
            metrics::counter!(crate::telemetry::SLOW_CONSUMERS).increment(1);
            tracing::info!(conn = id, "slow consumer: closing its connection");
        }
        conn.close.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::broker::LocalBroker;

    fn conn(hub: &Arc<Hub>, user: &str, role: Role) -> (Registration, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(8);
        let who = Registrant {
            user_id: UserId(user.into()),
            role,
            session_id: format!("s-{user}"),
            signed_out: Default::default(),
        };
        (hub.register(who, tx, CancellationToken::new()), rx)
    }

    /// Subscriptions, triage and removal keep every index consistent: nothing is left behind
    /// when connections go, and ended triage removes only the others.
    #[tokio::test]
    async fn subscriptions_are_forgotten_with_their_connection() {
        let hub = Hub::new();
        hub.attach_broker(Arc::new(LocalBroker));
        let c = ConversationId("c1".into());
        let (a, _ra) = conn(&hub, "w1", Role::DutyWorker);
        let (b, mut rb) = conn(&hub, "w2", Role::DutyWorker);
        hub.subscribe_triage(a.id, &c);
        hub.subscribe_triage(b.id, &c);
        hub.publish(Event::EndTriage { conversation_id: c.clone(), keep_user: UserId("w2".into()) });
        {
            let inner = hub.lock();
            assert_eq!(inner.by_conversation.get(&c).map(|s| s.len()), Some(1), "w1 lost access, w2 kept it");
            assert!(inner.triage.is_empty());
            assert!(inner.conns[&a.id].conversations.is_empty());
        }
        hub.publish(Event::ToConversation {
            conversation_id: c.clone(),
            frame: ServerFrame::Pong { nonce: None },
            except_user: None,
        });
        assert!(matches!(rb.try_recv(), Ok(Outbound::Frame(_))));
        hub.unsubscribe(b.id, &c);
        hub.subscribe(b.id, &c);
        drop(a);
        drop(b);
        let inner = hub.lock();
        assert!(inner.conns.is_empty() && inner.by_user.is_empty());
        assert!(inner.by_conversation.is_empty() && inner.triage.is_empty());
    }

    /// How many requests to re-read the connections have been sent since last asked.
    fn asked(conns: &mut [(Registration, mpsc::Receiver<Outbound>)]) -> usize {
        conns
            .iter_mut()
            .map(|(_, rx)| std::iter::from_fn(|| rx.try_recv().ok()).filter(|o| matches!(o, Outbound::Resync)).count())
            .sum()
    }

    /// A spread re-read asks each connection once, a share at each step, and is over when its
    /// time is: 50 connections over 1 s are 5 a step.
    #[tokio::test(start_paused = true)]
    async fn a_spread_resync_asks_everyone_once_a_share_at_a_time() {
        let hub = Hub::new();
        let mut conns: Vec<_> = (0..50).map(|i| conn(&hub, &format!("u{i}"), Role::YoungPerson)).collect();
        let weak = Arc::downgrade(&hub);
        let stop = CancellationToken::new();
        let started = tokio::time::Instant::now();
        let spread = tokio::spawn(async move { Hub::resync_spread(&weak, Duration::from_secs(1), &stop).await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(asked(&mut conns), 5, "the first share at once");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(asked(&mut conns), 5, "the next share one step later");
        spread.await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_secs(1), "over when its time is");
        assert_eq!(asked(&mut conns), 40, "the rest, each once");
    }

    /// Requests to re-read are spread at [`MAX_RESYNCS_PER_SEC`], and those that come during
    /// a pass make exactly one more.
    #[tokio::test(start_paused = true)]
    async fn requested_resyncs_are_spread_and_coalesced() {
        let hub = Hub::new();
        let mut conns: Vec<_> = (0..4_000).map(|i| conn(&hub, &format!("u{i}"), Role::YoungPerson)).collect();
        let requests = Arc::new(tokio::sync::Notify::new());
        let stop = CancellationToken::new();
        let task = tokio::spawn(Hub::resync_on_request(Arc::downgrade(&hub), requests.clone(), stop.clone()));
        requests.notify_one();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(asked(&mut conns), 200, "4,000 connections over 2 s: 200 in the first step");
        requests.notify_one();
        requests.notify_one();
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(asked(&mut conns), 3_800 + 4_000, "the rest of the first pass, then one more for both requests");
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(asked(&mut conns), 0, "nothing more without a request");
        stop.cancel();
        task.await.unwrap();
    }

    /// A spread stops when told to (the node is shutting down).
    #[tokio::test(start_paused = true)]
    async fn a_spread_resync_stops_when_told() {
        let hub = Hub::new();
        let mut conns: Vec<_> = (0..20).map(|i| conn(&hub, &format!("u{i}"), Role::YoungPerson)).collect();
        let stop = CancellationToken::new();
        let (weak, stopper) = (Arc::downgrade(&hub), stop.clone());
        let spread = tokio::spawn(async move { Hub::resync_spread(&weak, Duration::from_secs(2), &stopper).await });
        tokio::time::sleep(Duration::from_millis(150)).await;
        stop.cancel();
        spread.await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let asked: usize = conns.iter_mut().map(|(_, rx)| std::iter::from_fn(|| rx.try_recv().ok()).count()).sum();
        assert_eq!(asked, 2, "one a step for the two steps before the stop");
    }

    /// Ending one session closes its connections only, marked as signed out; ending a user's
    /// sessions closes all of theirs; nobody else's is touched.
    #[tokio::test]
    async fn ending_a_session_closes_its_connections_only() {
        let hub = Hub::new();
        let open = |session: &str| {
            let (tx, rx) = mpsc::channel(8);
            let flag = Arc::new(AtomicBool::new(false));
            let close = CancellationToken::new();
            let who = Registrant {
                user_id: UserId("w1".into()),
                role: Role::DutyWorker,
                session_id: session.into(),
                signed_out: flag.clone(),
            };
            (hub.register(who, tx, close.clone()), rx, flag, close)
        };
        let (_a, _ra, a_out, a_close) = open("s1");
        let (_b, _rb, b_out, b_close) = open("s2");
        let (_o, _ro) = conn(&hub, "w2", Role::DutyWorker);
        hub.publish(Event::DisconnectSession { user_id: UserId("w1".into()), session_id: "s1".into() });
        assert!(a_close.is_cancelled() && a_out.load(Ordering::Relaxed));
        assert!(!b_close.is_cancelled() && !b_out.load(Ordering::Relaxed), "the other session goes on");
        hub.publish(Event::DisconnectSession { user_id: UserId("w2".into()), session_id: "s2".into() });
        assert!(!b_close.is_cancelled(), "a session id is the user's own");
        hub.publish(Event::DisconnectUser { user_id: UserId("w1".into()) });
        assert!(b_close.is_cancelled() && b_out.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn connected_staff_lists_each_staff_member_once() {
        let hub = Hub::new();
        let (_a, _ra) = conn(&hub, "w1", Role::DutyWorker);
        let (_b, _rb) = conn(&hub, "w1", Role::DutyWorker);
        let (_c, _rc) = conn(&hub, "yp", Role::YoungPerson);
        assert_eq!(hub.connected_staff(), vec![UserId("w1".into())]);
    }
}
