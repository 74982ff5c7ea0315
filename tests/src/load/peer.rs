//! One simulated client: a young person's or a worker's app with one WebSocket. It connects,
//! subscribes to its conversation, sends at its rate, and records what it receives. When its
//! socket dies (or it is told to drop it) it reconnects, to the next server URL if there are
//! several, resubscribes from the last `seq` it holds without a gap, and resends what was
//! never acknowledged with the same `client_msg_id`s: what a real app does.
//!
//! The send time of each message travels in its `client_msg_id`, so the receiving peer stops
//! the clock without any lookup shared between tasks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use talkzone_mobile_api::client::{Client, WsConnection};
use talkzone_mobile_api::{AckStatus, ClientFrame, ConversationId, ServerFrame};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use super::delivery::{Arrival, SeqSet};
use super::schedule::Schedule;

/// How long one connection attempt, one subscribe or one greeting may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a peer keeps trying to reconnect before it gives up.
const RECONNECT_PATIENCE: Duration = Duration::from_secs(60);
/// Ordinary words: nothing that moderation would hold or redact (numbers can look like phone
/// numbers), so that every message is delivered at once.
const BODIES: [&str; 4] =
    ["hello, how is your day going", "fine thanks and you", "that is good to hear", "talk again later then"];

/// What the run tells every peer; peers follow changes as they come.
#[derive(Debug, Clone, Copy, Default)]
pub struct Control {
    /// Send new messages at the peer's rate.
    pub sending: bool,
    /// Raised to make every peer drop its socket at once and reconnect (a reconnect storm).
    pub drop_epoch: u32,
    /// The run is over: close and hand in what was seen.
    pub done: bool,
}

/// Live totals for the progress line and for knowing when every delivery has arrived.
#[derive(Debug, Default)]
pub struct Counters {
    pub connected: AtomicI64,
    pub ready: AtomicU64,
    pub gave_up: AtomicU64,
    pub sent: AtomicU64,
    pub resent: AtomicU64,
    pub acked: AtomicU64,
    pub held: AtomicU64,
    pub refused: AtomicU64,
    /// Sent and neither acknowledged nor refused yet.
    pub unresolved: AtomicI64,
    /// Deliveries of acknowledged messages the run waits for (each to every other member).
    pub expected: AtomicU64,
    pub delivered: AtomicU64,
    /// The slowest delivery since the progress line last took it (microseconds).
    pub slowest_us: AtomicU64,
    pub reconnects: AtomicU64,
    pub connect_failures: AtomicU64,
}

/// What every peer of a run shares.
pub struct Shared {
    /// Tags this run's `client_msg_id`s.
    pub run: String,
    /// One REST/WebSocket client per server URL.
    pub clients: Vec<Client>,
    /// Message send times are microseconds since this instant.
    pub epoch: Instant,
    pub control: watch::Receiver<Control>,
    /// Bounds concurrent first connections, until each is answered (reconnects are not
    /// bounded: a storm is a storm).
    pub gate: Semaphore,
    pub counters: Counters,
    /// Per conversation (by index): how many other peers receive each message.
    pub recipients: Vec<u64>,
    /// Every peer's send times.
    pub schedule: Schedule,
}

/// A conversation a peer takes part in.
#[derive(Debug, Clone)]
pub struct Chat {
    pub id: ConversationId,
    /// Index into [`Shared::recipients`].
    pub index: usize,
}

#[derive(Debug, Clone)]
pub struct PeerSpec {
    pub index: u32,
    pub token: String,
    /// The server URL (index into [`Shared::clients`]) to connect to first.
    pub home: usize,
    /// `None`: an idle connection that subscribes to nothing.
    pub chat: Option<Chat>,
    /// New messages per second (0: only receives).
    pub rate: f64,
    /// Send one reply before the run starts: an assigned worker must answer within the
    /// assignment timeout or the chat goes back to the queue.
    pub greet: bool,
}

/// What a peer saw, handed in at the end.
#[derive(Debug)]
pub struct PeerOutcome {
    pub index: u32,
    pub chat: Option<usize>,
    /// Every `seq` of its conversation it received.
    pub seen: SeqSet,
    /// The `seq` of each of its own messages acknowledged as delivered.
    pub acked: Vec<i64>,
    /// End-to-end latency of each message from another peer, in microseconds.
    pub latencies_us: Vec<u64>,
    /// From the scheduled send of each of its own messages to its `ack`, in microseconds.
    pub ack_latencies_us: Vec<u64>,
    /// How late each of its own sends left against its schedule (this process's timer and
    /// CPU), in microseconds: a part of every latency above.
    pub send_lags_us: Vec<u64>,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// Sends refused with an `error` frame, by code.
    pub refused: BTreeMap<String, u64>,
    /// Other `error` frames, by code.
    pub errors: BTreeMap<String, u64>,
    /// Time from losing the socket to being subscribed again, per reconnect, in microseconds.
    pub resumes_us: Vec<u64>,
    /// Never connected again within the patience.
    pub gave_up: bool,
}

/// Why a session ended.
enum End {
    /// The socket died (or was dropped on purpose) at this instant.
    Lost(Instant),
    Done,
}

/// A `client_msg_id` of this run: `run.peer.n.micros`.
fn message_id(run: &str, peer: u32, n: u64, micros: u64) -> String {
    format!("{run}.{peer}.{n}.{micros}")
}

/// The sender, number and send time of one of this run's messages.
fn parse_message_id(run: &str, id: &str) -> Option<(u32, u64, u64)> {
    let mut parts = id.split('.');
    if parts.next()? != run {
        return None;
    }
    let peer = parts.next()?.parse().ok()?;
    let n = parts.next()?.parse().ok()?;
    let micros = parts.next()?.parse().ok()?;
    Some((peer, n, micros))
}

pub struct Peer {
    spec: PeerSpec,
    shared: Arc<Shared>,
    control: watch::Receiver<Control>,
    url: usize,
    next_n: u64,
    /// Sent, not yet acknowledged or refused: resent after a reconnect.
    pending: BTreeMap<u64, String>,
    /// Scheduled send times, while sending.
    ticks: Option<UnboundedReceiver<Instant>>,
    drop_epoch: u32,
    ready: bool,
    out: PeerOutcome,
}

impl Peer {
    pub fn new(spec: PeerSpec, shared: Arc<Shared>) -> Self {
        let control = shared.control.clone();
        let out = PeerOutcome {
            index: spec.index,
            chat: spec.chat.as_ref().map(|c| c.index),
            seen: SeqSet::default(),
            acked: Vec::new(),
            latencies_us: Vec::new(),
            ack_latencies_us: Vec::new(),
            send_lags_us: Vec::new(),
            duplicated: 0,
            out_of_order: 0,
            refused: BTreeMap::new(),
            errors: BTreeMap::new(),
            resumes_us: Vec::new(),
            gave_up: false,
        };
        let url = spec.home % shared.clients.len();
        Self {
            spec,
            shared,
            control,
            url,
            next_n: 0,
            pending: BTreeMap::new(),
            ticks: None,
            drop_epoch: 0,
            ready: false,
            out,
        }
    }

    pub async fn run(mut self) -> PeerOutcome {
        let mut lost_at: Option<Instant> = None;
        loop {
            // The first connection holds a setup slot until the server has answered it (not
            // just upgraded it), so that setup never runs ahead of what the server has taken
            // in. Reconnects take no slot: a storm is a storm.
            let shared = self.shared.clone();
            let slot = if self.ready { None } else { shared.gate.acquire().await.ok() };
            let Some(mut ws) = self.connect().await else {
                self.out.gave_up = lost_at.is_some() || !self.control.borrow().done;
                if self.out.gave_up {
                    self.shared.counters.gave_up.fetch_add(1, Ordering::Relaxed);
                }
                break;
            };
            self.shared.counters.connected.fetch_add(1, Ordering::Relaxed);
            let started = self.start_session(&mut ws).await;
            drop(slot);
            let end = match started {
                Ok(()) => {
                    if let Some(at) = lost_at.take() {
                        self.out.resumes_us.push(at.elapsed().as_micros() as u64);
                        self.shared.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    if !self.ready {
                        self.ready = true;
                        self.shared.counters.ready.fetch_add(1, Ordering::Relaxed);
                    }
                    self.session(&mut ws).await
                }
                Err(()) => End::Lost(lost_at.unwrap_or_else(Instant::now)),
            };
            self.shared.counters.connected.fetch_sub(1, Ordering::Relaxed);
            match end {
                End::Done => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close()).await;
                    break;
                }
                End::Lost(at) => {
                    ws.abort();
                    // Keep the first instant of an outage across failed attempts.
                    lost_at = Some(lost_at.unwrap_or(at));
                    // A dead node answers nothing: try the next one.
                    self.url = (self.url + 1) % self.shared.clients.len();
                }
            }
        }
        self.out
    }

    /// Connects, trying every URL in turn with backoff. `None` when the run ended or the
    /// server stayed unreachable for [`RECONNECT_PATIENCE`].
    async fn connect(&mut self) -> Option<WsConnection> {
        let give_up = Instant::now() + RECONNECT_PATIENCE;
        let mut backoff = Duration::from_millis(50);
        loop {
            if self.control.borrow().done {
                return None;
            }
            let attempt =
                tokio::time::timeout(STEP_TIMEOUT, self.shared.clients[self.url].connect(&self.spec.token)).await;
            if let Ok(Ok(ws)) = attempt {
                return Some(ws);
            }
            self.shared.counters.connect_failures.fetch_add(1, Ordering::Relaxed);
            if Instant::now() > give_up {
                return None;
            }
            self.url = (self.url + 1) % self.shared.clients.len();
            // Jitter spreads the retries of many clients that failed together.
            let jitter = rand::thread_rng().gen_range(0.5..1.5);
            tokio::time::sleep(backoff.mul_f64(jitter)).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    /// Subscribes from the last contiguous `seq` (or checks that the server has registered an
    /// idle connection), greets once, and resends whatever is unacknowledged.
    async fn start_session(&mut self, ws: &mut WsConnection) -> Result<(), ()> {
        self.drop_epoch = self.control.borrow_and_update().drop_epoch;
        let Some(chat) = self.spec.chat.clone() else {
            return tokio::time::timeout(STEP_TIMEOUT, ws.round_trip()).await.map_err(|_| ())?.map_err(|_| ());
        };
        let after_seq = self.out.seen.contiguous();
        ws.send(&ClientFrame::Subscribe { conversation_id: chat.id.clone(), after_seq }).await.map_err(|_| ())?;
        self.until(ws, |f| matches!(f, ServerFrame::Subscribed { conversation_id, .. } if *conversation_id == chat.id))
            .await?;
        if self.spec.greet && !self.ready {
            let client_msg_id = format!("{}.hello.{}", self.shared.run, self.spec.index);
            let frame = ClientFrame::Send {
                conversation_id: chat.id.clone(),
                client_msg_id: client_msg_id.clone(),
                body: BODIES[0].into(),
            };
            ws.send(&frame).await.map_err(|_| ())?;
            self.until(ws, |f| matches!(f, ServerFrame::Ack { client_msg_id: c, .. } if *c == client_msg_id)).await?;
        }
        for (n, client_msg_id) in self.pending.clone() {
            let body = BODIES[n as usize % BODIES.len()].into();
            ws.send(&ClientFrame::Send { conversation_id: chat.id.clone(), client_msg_id, body })
                .await
                .map_err(|_| ())?;
            self.shared.counters.resent.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Handles frames until one matches `pred`.
    async fn until(&mut self, ws: &mut WsConnection, pred: impl Fn(&ServerFrame) -> bool) -> Result<(), ()> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let frame = tokio::time::timeout_at(deadline, ws.recv()).await.map_err(|_| ())?.map_err(|_| ())?;
            let matched = pred(&frame);
            self.handle(frame);
            if matched {
                return Ok(());
            }
        }
    }

    /// Receives, sends on schedule and follows the run's control until the socket dies or the
    /// run ends.
    async fn session(&mut self, ws: &mut WsConnection) -> End {
        self.follow_sending();
        loop {
            tokio::select! {
                changed = self.control.changed() => {
                    let control = *self.control.borrow_and_update();
                    if changed.is_err() || control.done {
                        return End::Done;
                    }
                    if control.drop_epoch != self.drop_epoch {
                        return End::Lost(Instant::now());
                    }
                    self.follow_sending();
                }
                frame = ws.recv() => match frame {
                    Ok(frame) => self.handle(frame),
                    Err(_) => return End::Lost(Instant::now()),
                },
                scheduled = next_tick(&mut self.ticks) => {
                    if self.send_new(ws, scheduled).await.is_err() {
                        return End::Lost(Instant::now());
                    }
                }
            }
        }
    }

    /// Starts or stops the send schedule as the run says. A started schedule survives
    /// reconnects: ticks due while disconnected wait and are sent at once afterwards, stamped
    /// with their scheduled time, so latency counts the outage as a user would.
    fn follow_sending(&mut self) {
        let sending = self.control.borrow().sending && self.spec.rate > 0.0 && self.spec.chat.is_some();
        match (sending, self.ticks.is_some()) {
            (true, false) => {
                let period = Duration::from_secs_f64(1.0 / self.spec.rate);
                // A random phase keeps thousands of peers from sending in lockstep.
                let phase = period.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
                self.ticks = Some(self.shared.schedule.every(self.spec.index, Instant::now() + phase, period));
            }
            (false, true) => self.stop_sending(),
            _ => {}
        }
    }

    fn stop_sending(&mut self) {
        self.shared.schedule.stop(self.spec.index);
        self.ticks = None;
    }

    async fn send_new(&mut self, ws: &mut WsConnection, scheduled: Instant) -> Result<(), ()> {
        let Some(chat) = &self.spec.chat else { return Ok(()) };
        // Count the send as unresolved *before* looking at the stop flag, and the run sets
        // the flag before it reads the count: either the run's drain waits for this send, or
        // this peer sees the stop and sends nothing (a tick can be ready in the same instant
        // as the stop).
        self.shared.counters.unresolved.fetch_add(1, Ordering::SeqCst);
        if !self.control.borrow().sending {
            self.shared.counters.unresolved.fetch_sub(1, Ordering::SeqCst);
            self.stop_sending();
            return Ok(());
        }
        let n = self.next_n;
        self.next_n += 1;
        let micros = scheduled.saturating_duration_since(self.shared.epoch).as_micros() as u64;
        let client_msg_id = message_id(&self.shared.run, self.spec.index, n, micros);
        self.pending.insert(n, client_msg_id.clone());
        self.shared.counters.sent.fetch_add(1, Ordering::Relaxed);
        let body = BODIES[n as usize % BODIES.len()].into();
        self.out.send_lags_us.push(scheduled.elapsed().as_micros() as u64);
        ws.send(&ClientFrame::Send { conversation_id: chat.id.clone(), client_msg_id, body }).await.map_err(|_| ())
    }

    /// This peer's own message number, if `client_msg_id` is one of its messages.
    fn own(&self, client_msg_id: &str) -> Option<u64> {
        match parse_message_id(&self.shared.run, client_msg_id) {
            Some((peer, n, _)) if peer == self.spec.index => Some(n),
            _ => None,
        }
    }

    fn handle(&mut self, frame: ServerFrame) {
        let counters = &self.shared.counters;
        match frame {
            ServerFrame::Ack { client_msg_id, seq, status, .. } => {
                let Some(n) = self.own(&client_msg_id) else { return };
                // A resend's ack repeats the first one: count each message once.
                if self.pending.remove(&n).is_none() {
                    return;
                }
                counters.acked.fetch_add(1, Ordering::Relaxed);
                counters.unresolved.fetch_sub(1, Ordering::Relaxed);
                if let Some((_, _, micros)) = parse_message_id(&self.shared.run, &client_msg_id) {
                    let now = self.shared.epoch.elapsed().as_micros() as u64;
                    self.out.ack_latencies_us.push(now.saturating_sub(micros));
                }
                match (status, seq, &self.spec.chat) {
                    (AckStatus::Delivered, Some(seq), Some(chat)) => {
                        self.out.acked.push(seq);
                        counters.expected.fetch_add(self.shared.recipients[chat.index], Ordering::Relaxed);
                    }
                    _ => {
                        counters.held.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            ServerFrame::Message(m) => {
                let Some(chat) = &self.spec.chat else { return };
                if m.conversation_id != chat.id {
                    return;
                }
                match self.out.seen.insert(m.seq) {
                    Arrival::Duplicate => {
                        self.out.duplicated += 1;
                        return;
                    }
                    Arrival::OutOfOrder => self.out.out_of_order += 1,
                    Arrival::InOrder => {}
                }
                let sent = m.client_msg_id.as_deref().and_then(|id| parse_message_id(&self.shared.run, id));
                if let Some((sender, _, micros)) = sent {
                    if sender != self.spec.index {
                        let now = self.shared.epoch.elapsed().as_micros() as u64;
                        let latency = now.saturating_sub(micros);
                        self.out.latencies_us.push(latency);
                        counters.delivered.fetch_add(1, Ordering::Relaxed);
                        counters.slowest_us.fetch_max(latency, Ordering::Relaxed);
                    }
                }
            }
            ServerFrame::Error { code, reference, .. } => {
                let own = reference.as_deref().and_then(|r| self.own(r));
                if own.is_some_and(|n| self.pending.remove(&n).is_some()) {
                    counters.refused.fetch_add(1, Ordering::Relaxed);
                    counters.unresolved.fetch_sub(1, Ordering::Relaxed);
                    *self.out.refused.entry(code.as_str().to_owned()).or_default() += 1;
                } else {
                    *self.out.errors.entry(code.as_str().to_owned()).or_default() += 1;
                }
            }
            _ => {}
        }
    }
}

/// The next scheduled send, or never when not sending.
async fn next_tick(ticks: &mut Option<UnboundedReceiver<Instant>>) -> Instant {
    match ticks {
        Some(t) => match t.recv().await {
            Some(at) => at,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_round_trip_and_fit_the_protocol() {
        let id = message_id("k3j9x2", 19_999, 123_456, 3_600_000_000);
        assert!(id.len() <= 64);
        assert_eq!(parse_message_id("k3j9x2", &id), Some((19_999, 123_456, 3_600_000_000)));
        assert_eq!(parse_message_id("other", &id), None);
        assert_eq!(parse_message_id("k3j9x2", "k3j9x2.hello.4"), None);
    }
}
