//! The append-only audit log: who did what to which record, when and why.

use crate::model::{AuditAction, AuditTarget};
use crate::store::{AuditEvent, Store};

/// An audit entry, for a store method that writes it in the same transaction as the action.
pub fn event(
    at: i64,
    actor_id: Option<&str>,
    action: AuditAction,
    target_type: AuditTarget,
    target_id: &str,
    details: Option<String>,
) -> AuditEvent {
    AuditEvent {
        id: crate::ids::random_id(),
        at,
        actor_id: actor_id.map(str::to_owned),
        action,
        target_type,
        target_id: target_id.to_owned(),
        details,
    }
}

/// Appends an audit event. A failure is logged, never hidden: the action it records has
/// already happened and must not be undone because the log write failed.
pub async fn record(
    store: &dyn Store,
    at: i64,
    actor_id: Option<&str>,
    action: AuditAction,
    target_type: AuditTarget,
    target_id: &str,
    details: Option<String>,
) {
    let event = event(at, actor_id, action, target_type, target_id, details);
    if let Err(e) = store.append_audit(event).await {
        tracing::error!(error = %e, %action, %target_type, target_id, "audit write failed");
    }
}
