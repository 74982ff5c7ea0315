//! This node's copies of support conversations, so that sending a message needs no read
//! before its write.
//!
//! A copy is only ever trusted to *grant* write access, and then only with an
//! [`Expected`](crate::store::Expected): the message's own transaction re-reads the
//! conversation's state and assignee (under its row lock) and stores nothing if either
//! changed, and the sender's access is decided again from a fresh read. Refusals are always
//! decided from a fresh read, and rooms and supervisors (whose access depends on membership,
//! which a copy does not hold) never use one. A stale copy therefore costs a retry, never a
//! wrong answer, and nothing else needs to keep it current.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::model::ConversationKind;
use crate::store::ConversationRecord;

/// Enough for every open support chat of a large service; beyond it the copies are dropped
/// and read again as needed.
const CAPACITY: usize = 50_000;

#[derive(Default)]
pub struct ConversationCache {
    copies: Mutex<HashMap<String, Arc<ConversationRecord>>>,
}

impl ConversationCache {
    pub fn get(&self, id: &str) -> Option<Arc<ConversationRecord>> {
        self.lock().get(id).cloned()
    }

    /// Keeps a copy of a support conversation just read; returns it either way.
    pub fn put(&self, conv: ConversationRecord) -> Arc<ConversationRecord> {
        let conv = Arc::new(conv);
        if conv.kind == ConversationKind::Support {
            let mut copies = self.lock();
            if copies.len() >= CAPACITY && !copies.contains_key(&conv.id) {
                copies.clear();
            }
            copies.insert(conv.id.clone(), conv.clone());
        }
        conv
    }

    /// Changes this node's copy, if it has one (for facts learnt from a write it made).
    pub fn update(&self, id: &str, change: impl FnOnce(&mut ConversationRecord)) {
        if let Some(copy) = self.lock().get_mut(id) {
            change(Arc::make_mut(copy));
        }
    }

    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ConversationRecord>>> {
        // A panic elsewhere while holding the lock leaves only copies, which are safe to use.
        self.copies.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConversationState, Severity};

    fn conv(id: &str, kind: ConversationKind) -> ConversationRecord {
        ConversationRecord {
            id: id.into(),
            kind,
            state: ConversationState::Queued,
            topic: None,
            owner_id: Some("u1".into()),
            owner_name: None,
            assigned_to: None,
            assigned_name: None,
            assigned_role: None,
            created_at: 0,
            assigned_at: None,
            closed_at: None,
            last_seq: 0,
            risk: Severity::None,
            age_band: None,
            moderation_mode: None,
            pii_mode: None,
            risk_rank: 0,
            requeued_at: None,
            first_reply_at: None,
            outcome: None,
            tags: None,
            hold_reason: None,
            closed_reason: None,
        }
    }

    #[test]
    fn keeps_support_chats_only() {
        let cache = ConversationCache::default();
        cache.put(conv("a", ConversationKind::Support));
        cache.put(conv("r", ConversationKind::Room));
        assert!(cache.get("a").is_some());
        assert!(cache.get("r").is_none(), "a room's access depends on membership, which a copy does not hold");
    }

    #[test]
    fn update_and_forget() {
        let cache = ConversationCache::default();
        cache.put(conv("a", ConversationKind::Support));
        cache.update("a", |c| c.first_reply_at = Some(5));
        assert_eq!(cache.get("a").unwrap().first_reply_at, Some(5));
        cache.update("missing", |c| c.first_reply_at = Some(5));
        assert!(cache.get("missing").is_none());
        cache.forget("a");
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn bounded() {
        let cache = ConversationCache::default();
        for i in 0..CAPACITY + 10 {
            cache.put(conv(&i.to_string(), ConversationKind::Support));
        }
        assert!(cache.lock().len() <= CAPACITY);
        assert!(cache.get(&(CAPACITY + 9).to_string()).is_some(), "the newest copy is kept");
    }
}
