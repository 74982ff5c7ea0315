//! Presence of staff, shared by every node through the database: each node refreshes
//! `seen_at` for the staff connected to it every [`HEARTBEAT`], and on connect and
//! disconnect. Routing and "someone is available" count workers seen in the last few seconds;
//! chats of a worker gone longer than the grace period return to the queue. Young people's
//! presence is never recorded: nothing needs it (data minimisation), and it keeps a durable
//! write off every young person's connect.

use std::time::Duration;

use crate::auth::AuthUser;
use crate::state::AppState;

pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// Records that a staff member is connected now (on connect and on disconnect: "last seen").
pub async fn seen(state: &AppState, user: &AuthUser) {
    if !user.role.is_staff() {
        return;
    }
    // Batched with others connecting at the same moment (a reconnect storm).
    if let Err(e) = state.presence_touches.write(user.id.0.clone()).await {
        tracing::warn!(error = %e, "presence update failed");
    }
}

/// Refreshes every connected staff member of this node (the scheduler calls it every
/// [`HEARTBEAT`]).
pub async fn heartbeat(state: &AppState) {
    let ids: Vec<String> = state.hub.connected_staff().into_iter().map(|u| u.0).collect();
    if ids.is_empty() {
        return;
    }
    if let Err(e) = state.store.touch_seen(&ids, state.clock.now_ms()).await {
        tracing::warn!(error = %e, "presence heartbeat failed");
    }
}
