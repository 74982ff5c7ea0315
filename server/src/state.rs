//! The shared state every handler and connection task gets: one `Clone` value of `Arc`s.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::Config;
use crate::limits::Limits;
use crate::realtime::broker::Broker;
use crate::realtime::hub::Hub;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    /// This process's random name among the nodes (broker envelopes, job leases).
    pub node: Arc<str>,
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub auth: Arc<Auth>,
    pub hub: Arc<Hub>,
    /// Stores participants' messages by group commit and publishes them in commit order.
    pub messages: Arc<crate::group_commit::MessageWriter>,
    /// Copies of support conversations for the send path (see the module for why it is safe).
    pub conversation_cache: Arc<crate::conversation_cache::ConversationCache>,
    /// Audit entries of staff reads, written together (see [`crate::batch`]).
    pub read_audit: Arc<crate::batch::Batcher<crate::store::AuditEvent>>,
    /// Staff connecting and disconnecting ("last seen"), written together.
    pub presence_touches: Arc<crate::batch::Batcher<String>>,
    pub broker: Arc<dyn Broker>,
    pub limits: Arc<Limits>,
    pub clock: Arc<dyn Clock>,
    pub moderation: Arc<crate::moderation::ModerationService>,
    /// Push notifications: a queue off the message path.
    pub push: Arc<crate::push::Pusher>,
    /// Cancelled when the node shuts down: connections close with 1012.
    pub shutdown: CancellationToken,
}
