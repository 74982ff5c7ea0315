//! One task per WebSocket connection: reads and answers client frames, writes what the hub
//! queues for it, sends heartbeats, and closes on shutdown (1012), on an oversize frame
//! (1009), when it is too slow to keep up (1013: reconnect and resume), when its session ends
//! (4001: sign in again), or when its access token expires without an `auth` frame bringing a
//! fresh one (4002: refresh, reconnect and resume).
//!
//! Delivery is exactly-once and in order per conversation, as the client sees it: the task
//! remembers the last `seq` it delivered for each subscription, drops what it has already
//! sent, and on a gap re-reads the missing messages from the database.
//!
//! A `send` waits for the database (its durable write) beside the connection's loop, not in it:
//! while it waits (a lock held by a frozen node, a slow disk) pings are answered, other
//! frames handled and other conversations delivered. Sends are stored one at a time, in the
//! order they came, each `ack` before its own message's delivery, as when they were awaited
//! in the loop.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use talkzone_mobile_api::{AckStatus, ClientFrame, ConversationId, ErrorCode, Role, ServerFrame};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthUser, Authenticated};
use crate::conversations;
use crate::error::ApiError;
use crate::limits::{ConnectionLimiter, Limits};
use crate::model::{ConversationKind, ConversationState};
use crate::queue;
use crate::realtime::hub::{Outbound, Registrant, Registration};
use crate::state::AppState;
use crate::telemetry;

/// How often the server pings, and how long a silent client is kept.
const HEARTBEAT: Duration = Duration::from_secs(15);
const IDLE_TIMEOUT: Duration = Duration::from_secs(45);
/// A write that takes longer than this means the client is gone or too slow.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Backlog page size when catching a subscription up from the database.
const CATCH_UP_PAGE: u32 = 500;
/// Sends waiting behind the one being stored; with this many, the socket is not read until
/// one is stored.
const MAX_QUEUED_SENDS: usize = 32;
/// How long a send being stored at shutdown may still take to get its `ack`.
const SHUTDOWN_SEND_GRACE: Duration = Duration::from_secs(5);

pub mod close_code {
    /// The frame was larger than the configured limit.
    pub const TOO_BIG: u16 = 1009;
    /// The node is shutting down: reconnect (to another node).
    pub const RESTART: u16 = 1012;
    /// The connection could not keep up: reconnect and resume.
    pub const TRY_AGAIN: u16 = 1013;
    /// The session ended (signed out, ended by its person or an admin, the account suspended,
    /// offboarded or given another role): sign in again.
    pub const SESSION_ENDED: u16 = 4001;
    /// The access token the socket was opened with expired and no fresh one came in an `auth`
    /// frame: refresh it, reconnect and resume.
    pub const TOKEN_EXPIRED: u16 = 4002;
}

/// The connection is over; stop the task.
struct Closed;

struct Connection {
    state: AppState,
    user: AuthUser,
    /// The session the socket belongs to; an `auth` frame must name the same one.
    session_id: String,
    /// When the access token it holds expires (service clock, ms): the socket closes then.
    expires_at: i64,
    registration: Registration,
    sink: SplitSink<WebSocket, Message>,
    limiter: ConnectionLimiter,
    /// Per subscribed conversation: the last `seq` delivered, and whether it is a room
    /// (whose senders are shown by pseudonym).
    delivered: HashMap<ConversationId, Subscription>,
    watching_queue: bool,
    watching_moderation: bool,
    /// What a resync last sent per item (conversation state, escalation), so that repeated
    /// resyncs during a broker outage send only what changed.
    resynced: HashMap<String, String>,
    /// Sends waiting for the one being stored: (conversation, client_msg_id, body).
    queued_sends: VecDeque<(ConversationId, String, String)>,
    /// The conversation of the send being stored, and what the hub queued for it meanwhile:
    /// delivered after that send's `ack`.
    storing: Option<ConversationId>,
    held_back: Vec<Outbound>,
}

/// A send being stored, beside the loop.
type Storing = Pin<Box<dyn Future<Output = Stored> + Send>>;

/// What storing a send came to.
struct Stored {
    conversation_id: ConversationId,
    client_msg_id: String,
    result: Result<conversations::Sent, ApiError>,
}

#[derive(Clone, Copy)]
struct Subscription {
    last: i64,
    in_room: bool,
}

struct ConnectionGauge;

impl ConnectionGauge {
    fn new() -> Self {
        metrics::gauge!(telemetry::WS_CONNECTIONS).increment(1.0);
        Self
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        metrics::gauge!(telemetry::WS_CONNECTIONS).decrement(1.0);
    }
}

pub async fn run(state: AppState, caller: Authenticated, socket: WebSocket) {
    let _gauge = ConnectionGauge::new();
    let (sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel(state.config.limits.ws_outbound_buffer);
    let close = CancellationToken::new();
    let signed_out = Arc::new(AtomicBool::new(false));
    let Authenticated { user, session_id, expires_at } = caller;
    let who = Registrant {
        user_id: user.id.clone(),
        role: user.role,
        session_id: session_id.clone(),
        signed_out: signed_out.clone(),
    };
    let registration = state.hub.register(who, tx, close.clone());
    crate::presence::seen(&state, &user).await;
    let limiter = state.limits.connection_limiter();
    let shutdown = state.shutdown.clone();
    let mut conn = Connection {
        state,
        user,
        session_id,
        expires_at,
        registration,
        sink,
        limiter,
        delivered: HashMap::new(),
        watching_queue: false,
        watching_moderation: false,
        resynced: HashMap::new(),
        queued_sends: VecDeque::new(),
        storing: None,
        held_back: Vec::new(),
    };
    tracing::debug!(conn = conn.registration.id, user = %conn.user.id, "websocket connected");

    // Each connection pings at its own phase: connections opened together (a node's start, a
    // reconnect storm) would otherwise all ping in the same instant every 15 s.
    let first_ping = HEARTBEAT / 2 + HEARTBEAT.mul_f64(rand::random::<f64>());
    let mut heartbeat = tokio::time::interval_at(Instant::now() + first_ping, HEARTBEAT);
    let mut last_heard = Instant::now();
    let mut storing: Option<Storing> = None;
    loop {
        if storing.is_none() {
            storing = conn.next_send();
        }
        let step = tokio::select! {
            biased;
            _ = shutdown.cancelled() => {
                // A send already being stored still gets its answer, if it comes soon.
                if let Some(send) = storing.take() {
                    if let Ok(stored) = tokio::time::timeout(SHUTDOWN_SEND_GRACE, send).await {
                        let _ = Box::pin(conn.stored(stored)).await;
                    }
                }
                conn.close(close_code::RESTART, "server restarting; reconnect").await;
                break;
            }
            _ = close.cancelled() => {
                if signed_out.load(Ordering::Relaxed) {
                    conn.close(close_code::SESSION_ENDED, "the session has ended; sign in again").await;
                } else {
                    conn.close(close_code::TRY_AGAIN, "reconnect and resume").await;
                }
                break;
            }
            stored = async { storing.as_mut().expect("polled only while storing").await }, if storing.is_some() => {
                storing = None;
                // Boxed like `handle_text`: answering writes frames and what was held back.
                Box::pin(conn.stored(stored)).await
            }
            out = rx.recv() => match out {
                Some(out) => conn.deliver_or_hold(out).await,
                None => break,
            },
            // While sends wait to be stored, the socket is not read: the client is held back
            // by TCP, as when each send was stored before the next frame was read.
            incoming = stream.next(), if conn.queued_sends.len() < MAX_QUEUED_SENDS => match incoming {
                None => break,
                Some(Err(e)) => {
                    if is_too_big(e) {
                        conn.close(close_code::TOO_BIG, "frame too large").await;
                    }
                    break;
                }
                Some(Ok(msg)) => {
                    last_heard = Instant::now();
                    if conn.token_expired() {
                        conn.close(close_code::TOKEN_EXPIRED, "the access token expired; refresh it and reconnect").await;
                        break;
                    }
                    match msg {
                        // Boxed: handling a frame can await deep call chains whose state
                        // would otherwise sit inline in every idle connection's task (KiBs each).
                        Message::Text(text) => Box::pin(conn.handle_text(text.as_str())).await,
                        Message::Binary(_) => conn.handle_binary().await,
                        Message::Close(_) => break,
                        Message::Ping(_) | Message::Pong(_) => Ok(()),
                    }
                }
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > IDLE_TIMEOUT {
                    tracing::debug!(conn = conn.registration.id, "no sign of life: closing");
                    break;
                }
                // Checked here too, so that a socket that only listens closes within a
                // heartbeat of its token's expiry.
                if conn.token_expired() {
                    conn.close(close_code::TOKEN_EXPIRED, "the access token expired; refresh it and reconnect").await;
                    break;
                }
                conn.write(Message::Ping(Default::default())).await
            }
        };
        if step.is_err() {
            break;
        }
    }
    crate::presence::seen(&conn.state, &conn.user).await;
    tracing::debug!(conn = conn.registration.id, "websocket closed");
}

fn is_too_big(e: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error as WsError;
    matches!(e.into_inner().downcast_ref::<WsError>(), Some(WsError::Capacity(_)))
}

impl Connection {
    /// Starts storing the next queued send, if any.
    fn next_send(&mut self) -> Option<Storing> {
        let (conversation_id, client_msg_id, body) = self.queued_sends.pop_front()?;
        self.storing = Some(conversation_id.clone());
        let (state, user) = (self.state.clone(), self.user.clone());
        Some(Box::pin(async move {
            let result = conversations::send_message(&state, &user, &conversation_id, &client_msg_id, &body).await;
            Stored { conversation_id, client_msg_id, result }
        }))
    }

    /// Answers a stored send (`ack`, or the `error` that refers to it), then delivers what
    /// was held back meanwhile.
    async fn stored(&mut self, stored: Stored) -> Result<(), Closed> {
        self.storing = None;
        let Stored { conversation_id, client_msg_id, result } = stored;
        let answered = match result {
            Ok(sent) => {
                let status = if sent.seq.is_some() { AckStatus::Delivered } else { AckStatus::Held };
                let ack = ServerFrame::Ack {
                    client_msg_id,
                    conversation_id,
                    message_id: sent.message_id,
                    seq: sent.seq,
                    status,
                };
                self.send_frame(&ack).await
            }
            Err(e) => self.error(e, &client_msg_id).await,
        };
        answered?;
        for out in std::mem::take(&mut self.held_back) {
            self.deliver(out).await?;
        }
        Ok(())
    }

    /// Delivers what the hub queued, except messages of the conversation a send is being
    /// stored in: those wait for that send's `ack` (bounded like the hub's queue).
    async fn deliver_or_hold(&mut self, out: Outbound) -> Result<(), Closed> {
        if let (Some(storing), Outbound::Message(m)) = (&self.storing, &out) {
            if &m.conversation_id == storing {
                if self.held_back.len() >= self.state.config.limits.ws_outbound_buffer {
                    metrics::counter!(telemetry::SLOW_CONSUMERS).increment(1);
                    self.close(close_code::TRY_AGAIN, "reconnect and resume").await;
                    return Err(Closed);
                }
                self.held_back.push(out);
                return Ok(());
            }
        }
        self.deliver(out).await
    }

    fn token_expired(&self) -> bool {
        self.state.clock.now_ms() >= self.expires_at
    }

    async fn write(&mut self, msg: Message) -> Result<(), Closed> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.sink.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Closed),
        }
    }

    async fn send_frame(&mut self, frame: &ServerFrame) -> Result<(), Closed> {
        let json = serde_json::to_string(frame).map_err(|_| Closed)?;
        self.write(Message::Text(json.into())).await
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        let _ = self.write(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
    }

    /// Answers a frame with an `error` and keeps the connection open.
    async fn refuse(&mut self, e: ApiError, code: ErrorCode, reference: Option<String>) -> Result<(), Closed> {
        let mut frame = super::error_frame(&e, reference);
        if let ServerFrame::Error { code: c, .. } = &mut frame {
            if *c == ErrorCode::BadRequest {
                *c = code;
            }
        }
        self.send_frame(&frame).await
    }

    async fn error(&mut self, e: ApiError, reference: &str) -> Result<(), Closed> {
        self.refuse(e, ErrorCode::BadFrame, Some(reference.to_owned())).await
    }

    async fn handle_binary(&mut self) -> Result<(), Closed> {
        match Limits::check_connection(&self.limiter) {
            Err(limit) => self.refuse(limit, ErrorCode::RateLimited, None).await,
            Ok(()) => {
                self.refuse(ApiError::BadRequest("send text frames with JSON".into()), ErrorCode::BadFrame, None).await
            }
        }
    }

    async fn handle_text(&mut self, text: &str) -> Result<(), Closed> {
        // Every frame counts against the connection's rate, parsable or not, so a flood of
        // garbage costs the sender as much as a flood of real frames.
        let limited = Limits::check_connection(&self.limiter).err();
        let frame: ClientFrame = match super::decode_frame(text) {
            Ok(f) => f,
            Err(e) => {
                if let Some(limit) = limited {
                    return self.refuse(limit, ErrorCode::RateLimited, None).await;
                }
                let msg = format!("not a valid frame: {e}");
                return self.refuse(ApiError::BadRequest(msg), ErrorCode::BadFrame, None).await;
            }
        };
        let reference = match &frame {
            ClientFrame::Send { client_msg_id, .. } => client_msg_id.clone(),
            other => other.type_name().to_owned(),
        };
        if let Some(e) = limited {
            return self.error(e, &reference).await;
        }
        match self.dispatch(frame).await {
            Ok(()) => Ok(()),
            Err(Failure::Api(e)) => self.error(e, &reference).await,
            Err(Failure::Closed) => Err(Closed),
        }
    }

    async fn dispatch(&mut self, frame: ClientFrame) -> Result<(), Failure> {
        let state = self.state.clone();
        match frame {
            ClientFrame::Subscribe { conversation_id, after_seq } => {
                if after_seq < 0 {
                    return Err(ApiError::Validation("after_seq must be 0 or more".into()).into());
                }
                let conv = conversations::load_readable(&state, &self.user, &conversation_id).await?;
                if conv.kind == ConversationKind::Support {
                    crate::privacy::staff_read(&state, &self.user, &conv.id, "subscribe").await;
                }
                // Subscribe before reading: anything stored from now on is queued for us, and
                // what the backlog read also returns is dropped by `seq`.
                if conversations::triage_only(&self.user, &conv) {
                    state.hub.subscribe_triage(self.registration.id, &conversation_id);
                    // An accept that committed before we subscribed has already ended triage.
                    if conversations::load_readable(&state, &self.user, &conversation_id).await.is_err() {
                        state.hub.unsubscribe(self.registration.id, &conversation_id);
                        return Err(ApiError::NotFound.into());
                    }
                } else {
                    state.hub.subscribe(self.registration.id, &conversation_id);
                }
                let sub = Subscription { last: after_seq, in_room: conv.kind == ConversationKind::Room };
                self.delivered.insert(conversation_id.clone(), sub);
                self.catch_up(&conversation_id).await?;
                let last_seq = self.delivered.get(&conversation_id).map_or(after_seq, |s| s.last);
                self.send_frame(&ServerFrame::Subscribed { conversation_id, last_seq }).await?;
            }
            ClientFrame::Unsubscribe { conversation_id } => {
                state.hub.unsubscribe(self.registration.id, &conversation_id);
                self.delivered.remove(&conversation_id);
            }
            ClientFrame::Send { conversation_id, client_msg_id, body } => {
                // Stored beside the loop (`next_send`), answered when it is (`stored`).
                self.queued_sends.push_back((conversation_id, client_msg_id, body));
            }
            ClientFrame::Typing { conversation_id } => {
                conversations::typing(&state, &self.user, &conversation_id).await?;
            }
            ClientFrame::Read { conversation_id, seq } => {
                conversations::mark_read(&state, &self.user, &conversation_id, seq).await?;
            }
            ClientFrame::Accept { conversation_id } => {
                // The `conversation` frame that follows comes through the hub, to every
                // connection of the worker and of the young person.
                conversations::accept(&state, &self.user, &conversation_id).await?;
            }
            ClientFrame::Duty { on_duty } => {
                let on_duty = crate::desk::set_duty(&state, &self.user, on_duty).await?;
                self.send_frame(&ServerFrame::Duty { on_duty }).await?;
            }
            ClientFrame::QueueWatch => {
                self.user.require(&[Role::DutyWorker, Role::Supervisor])?;
                state.hub.watch_queue(self.registration.id);
                self.watching_queue = true;
                let entries = queue::entries(&state).await?;
                self.send_frame(&ServerFrame::QueueSnapshot { entries }).await?;
            }
            ClientFrame::ModerationWatch => {
                if !crate::moderation_queue::may_watch(&self.user) {
                    return Err(
                        ApiError::Forbidden("only moderators and supervisors watch the moderation queue").into()
                    );
                }
                state.hub.watch_moderation(self.registration.id);
                self.watching_moderation = true;
                let queue = crate::moderation_queue::queue(&state, &self.user, "watch").await?;
                for item in queue.items {
                    self.send_frame(&ServerFrame::ModerationChanged { item }).await?;
                }
            }
            ClientFrame::Ping { nonce } => {
                self.send_frame(&ServerFrame::Pong { nonce }).await?;
            }
            ClientFrame::Auth { access_token } => {
                // A refreshed token of this socket's own session keeps it open past the old
                // token's expiry; any other token is refused and changes nothing.
                let fresh = state.auth.authenticate_session(&access_token).await?;
                if fresh.session_id != self.session_id || fresh.user.id != self.user.id {
                    return Err(ApiError::Unauthorized("present a token of this connection's own session").into());
                }
                self.expires_at = fresh.expires_at;
                let expires_in = ((fresh.expires_at - state.clock.now_ms()) / 1000).max(0) as u64;
                self.send_frame(&ServerFrame::Authenticated { expires_in }).await?;
            }
        }
        Ok(())
    }

    /// Sends what the hub queued. Messages are checked against the subscription's `seq`.
    async fn deliver(&mut self, out: Outbound) -> Result<(), Closed> {
        match out {
            Outbound::Frame(json) => self.write(Message::Text(json.as_ref().into())).await,
            Outbound::ModerationItem(shown) => {
                // Recorded before it is shown, like every staff read; boxed like `handle_text`.
                Box::pin(crate::moderation_queue::shown(&self.state, &self.user, &[shown.item_id.as_str()], "live"))
                    .await;
                self.write(Message::Text(shown.json.as_ref().into())).await
            }
            // Boxed like `handle_text`: a rare path whose state should not sit in every task.
            Outbound::Resync => match Box::pin(self.resync()).await {
                Ok(()) => Ok(()),
                Err(Failure::Closed) => Err(Closed),
                Err(Failure::Api(e)) => {
                    // The database is unreachable too: the client reconnects and resumes.
                    tracing::warn!(error = %e, "resync failed; closing so the client resumes");
                    Err(Closed)
                }
            },
            Outbound::Message(delivery) => {
                let (conversation_id, seq, json) = (&delivery.conversation_id, delivery.seq, &delivery.json);
                let Some(sub) = self.delivered.get_mut(conversation_id) else { return Ok(()) };
                let last = sub.last;
                if seq <= last {
                    Ok(())
                } else if seq == last + 1 {
                    sub.last = seq;
                    self.write(Message::Text(json.as_ref().into())).await?;
                    metrics::counter!(telemetry::MESSAGES_DELIVERED).increment(1);
                    Ok(())
                } else {
                    // A gap: something was missed (or published out of order). The database
                    // has everything up to `seq`, because a seq commits after all smaller ones.
                    // Boxed, like `handle_text`: the rare catch-up stays out of the task's size.
                    match Box::pin(self.catch_up(conversation_id)).await {
                        Ok(()) => Ok(()),
                        Err(Failure::Closed) => Err(Closed),
                        Err(Failure::Api(e)) => {
                            tracing::warn!(error = %e, "catch-up failed; asking the client to resubscribe");
                            Err(Closed)
                        }
                    }
                }
            }
        }
    }

    /// Re-reads from the database what this connection follows, after events between nodes
    /// may have been lost: messages after each subscription's last `seq`, the state of each
    /// subscribed chat and of the user's own chats, the queue, the moderation queue, and open
    /// escalations for supervisors.
    /// State frames are sent only when they differ from what the last resync sent.
    async fn resync(&mut self) -> Result<(), Failure> {
        let state = self.state.clone();
        let subscribed: Vec<ConversationId> = self.delivered.keys().cloned().collect();
        for id in subscribed {
            self.catch_up(&id).await?;
            match conversations::load_readable(&state, &self.user, &id).await {
                Ok(conv) => {
                    let view = conversations::view(&state, &self.user, &conv).await?;
                    self.send_if_changed(format!("c:{}", id.as_str()), &ServerFrame::Conversation(view)).await?;
                }
                // Access ended while events were lost (the chat went to someone else).
                Err(_) => {
                    state.hub.unsubscribe(self.registration.id, &id);
                    self.delivered.remove(&id);
                }
            }
        }
        // Chats that became this user's while events were lost (assigned on another node, a
        // young person's chat accepted) are announced as `conversation` frames.
        let own = if self.user.role.is_staff() {
            let filter = crate::store::ConversationFilter {
                state: Some(ConversationState::Assigned),
                assigned_to: Some(self.user.id.0.clone()),
                ..Default::default()
            };
            state.store.conversations_for_staff(&filter).await?
        } else {
            state.store.conversations_of_owner(self.user.id.as_str()).await?
        };
        for conv in own.iter().filter(|c| c.state != ConversationState::Closed) {
            let view = conversations::view(&state, &self.user, conv).await?;
            self.send_if_changed(format!("c:{}", conv.id), &ServerFrame::Conversation(view)).await?;
        }
        if self.watching_queue {
            let entries = queue::entries(&state).await?;
            self.send_if_changed("queue".into(), &ServerFrame::QueueSnapshot { entries }).await?;
        }
        if self.watching_moderation {
            for item in crate::moderation_queue::queue(&state, &self.user, "resync").await?.items {
                let key = format!("m:{}", item.id);
                self.send_if_changed(key, &ServerFrame::ModerationChanged { item }).await?;
            }
        }
        if crate::escalation::SUPERVISORS.contains(&self.user.role) {
            for e in crate::escalation::unresolved(&state).await? {
                self.send_if_changed(format!("e:{}", e.id), &ServerFrame::Escalation(e)).await?;
            }
        }
        Ok(())
    }

    async fn send_if_changed(&mut self, key: String, frame: &ServerFrame) -> Result<(), Closed> {
        let json = serde_json::to_string(frame).map_err(|_| Closed)?;
        if self.resynced.get(&key) == Some(&json) {
            return Ok(());
        }
        self.write(Message::Text(json.clone().into())).await?;
        self.resynced.insert(key, json);
        Ok(())
    }

    /// Sends every stored message after the subscription's last delivered `seq`.
    async fn catch_up(&mut self, conversation_id: &ConversationId) -> Result<(), Failure> {
        loop {
            let Some(sub) = self.delivered.get(conversation_id).copied() else { return Ok(()) };
            let rows = self.state.store.messages_after(conversation_id.as_str(), sub.last, CATCH_UP_PAGE).await?;
            let n = rows.len();
            for m in rows {
                let Some(view) = crate::views::message_view_for(&self.user, &m, sub.in_room) else { continue };
                let seq = view.seq;
                self.send_frame(&ServerFrame::Message(view)).await?;
                if let Some(s) = self.delivered.get_mut(conversation_id) {
                    s.last = seq;
                }
                metrics::counter!(telemetry::MESSAGES_DELIVERED).increment(1);
            }
            if n < CATCH_UP_PAGE as usize {
                return Ok(());
            }
        }
    }
}

/// Why a frame could not be handled: an error to tell the client, or a dead connection.
enum Failure {
    Api(ApiError),
    Closed,
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure::Api(e.into())
    }
}

impl From<Closed> for Failure {
    fn from(_: Closed) -> Self {
        Failure::Closed
    }
}
