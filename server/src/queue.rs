//! The support queue as people see it: order, positions, wait estimates, and pushing every
//! change to watching staff (`queue.changed`) and to the waiting young people (`queue`).
//!
//! Order here is by waiting time; risk-first triage and auto-assignment build on this.

use std::collections::HashMap;

use talkzone_mobile_api::{limits, ConversationId, QueueEntry, ServerFrame, Staffing, UserId};

use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::model::ConversationState;
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::ConversationFilter;

/// Typical length of a support chat, for wait estimates until real handling times are kept.
pub const TYPICAL_CHAT_S: u32 = 600;

/// How recently a worker must have been connected to count as available (connected workers
/// are refreshed every [`crate::presence::HEARTBEAT`]).
pub const PRESENCE_FRESH_MS: i64 = 15_000;

/// How far ahead the rota is read for the next shift when nobody is on duty.
const ROTA_LOOKAHEAD_MS: i64 = 7 * 24 * 3600 * 1000;

/// Workers who are on duty, connected (to any node) and below their capacity.
pub async fn available_workers(state: &AppState) -> ApiResult<u32> {
    Ok(desk_now(state).await?.available)
}

/// Who is there to answer waiting chats now: the live desk, and the rota when it is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeskNow {
    /// On duty, connected and below capacity.
    pub available: u32,
    /// On duty and connected, whatever their load.
    pub connected: u32,
    /// With nobody connected: the start of the rota's next shift (ms), within a week.
    pub next_on_duty_at: Option<i64>,
}

/// What a waiting young person is told: an estimate only when someone is on duty to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    pub staffing: Staffing,
    pub estimated_wait_s: Option<u32>,
    pub next_on_duty_at: Option<String>,
}

pub async fn desk_now(state: &AppState) -> ApiResult<DeskNow> {
    let now = state.clock.now_ms();
    let staff = state.store.available_staff(now - PRESENCE_FRESH_MS).await?;
    let available = staff.iter().filter(|s| s.open_chats < s.capacity).count() as u32;
    let connected = staff.len() as u32;
    let next_on_duty_at = if connected == 0 {
        // A shift already running with nobody on duty promises nothing: the next one to start.
        let shifts = state.store.shifts_between(now, now + ROTA_LOOKAHEAD_MS).await?;
        shifts.iter().map(|s| s.starts_at).filter(|&t| t > now).min()
    } else {
        None
    };
    Ok(DeskNow { available, connected, next_on_duty_at })
}

impl DeskNow {
    /// The wait at `position`, each chat taking `chat_s`. Workers all busy: the chats ahead and
    /// this one shared among those on duty (one frees up after about a chat's length).
    pub fn wait(&self, position: u32, chat_s: u32) -> Wait {
        let busy = position.saturating_mul(chat_s).checked_div(self.connected);
        let (staffing, estimate) = if self.available > 0 {
            (Staffing::Available, Some(estimate_wait_s(position, self.available, chat_s)))
        } else if let Some(wait) = busy {
            (Staffing::Busy, Some(wait))
        } else {
            (Staffing::NobodyOnDuty, None)
        };
        Wait { staffing, estimated_wait_s: estimate, next_on_duty_at: self.next_on_duty_at.map(rfc3339) }
    }
}

/// The estimate: the chats ahead shared among the available workers, each taking the mean
/// handling time of the last day's chats (`TYPICAL_CHAT_S` until there are any). With nobody
/// available, at least one chat's length.
pub fn estimate_wait_s(position: u32, available: u32, chat_s: u32) -> u32 {
    let ahead = position.saturating_sub(1);
    ahead.saturating_mul(chat_s) / available.max(1) + if available == 0 { chat_s } else { 0 }
}

/// Mean handling time of the last 24 hours' chats, in seconds.
pub async fn typical_chat_s(state: &AppState) -> ApiResult<u32> {
    let since = state.clock.now_ms() - 24 * 3600 * 1000;
    Ok(match state.store.mean_handling_ms(since).await? {
        Some(ms) if ms > 0 => ((ms / 1000) as u32).clamp(60, 4 * 3600),
        _ => TYPICAL_CHAT_S,
    })
}

/// The waiting support chats, first to be seen first (the store's queue order).
async fn queued(state: &AppState) -> ApiResult<Vec<crate::store::ConversationRecord>> {
    let filter =
        ConversationFilter { state: Some(ConversationState::Queued), support_only: true, ..Default::default() };
    Ok(state.store.conversations_for_staff(&filter).await?)
}

fn entry(position: usize, c: &crate::store::ConversationRecord, previews: &HashMap<String, String>) -> QueueEntry {
    QueueEntry {
        conversation_id: ConversationId(c.id.clone()),
        priority: position as u32 + 1,
        waiting_since: rfc3339(c.created_at),
        risk: c.risk.as_str().to_owned(),
        topic: c.topic.clone(),
        preview: previews.get(&c.id).map(|body| preview_of(body)),
    }
}

/// The start of a first message, on one line, cut at a word where it can be.
fn preview_of(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= limits::QUEUE_PREVIEW_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(limits::QUEUE_PREVIEW_CHARS - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > cut.len() / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{cut}…")
}

/// The waiting chats' entries, first to be seen first, each with its first message's start
/// (read in one query for the whole queue).
async fn entries_of(state: &AppState, rows: &[crate::store::ConversationRecord]) -> ApiResult<Vec<QueueEntry>> {
    let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
    let previews: HashMap<String, String> = state.store.first_messages(&ids).await?.into_iter().collect();
    Ok(rows.iter().enumerate().map(|(i, c)| entry(i, c, &previews)).collect())
}

/// The queue, first to be seen first.
pub async fn entries(state: &AppState) -> ApiResult<Vec<QueueEntry>> {
    entries_of(state, &queued(state).await?).await
}

/// Pushes the current queue to watching staff and each waiting young person's position to
/// them. Failures are logged: the change itself has happened and is already stored.
pub async fn changed(state: &AppState) {
    if let Err(e) = push(state).await.map(drop) {
        tracing::warn!(error = %e, "could not push queue change");
    }
}

/// Tells every waiting young person their place and wait, and queue watchers the queue;
/// returns the desk it told them about. An error means some may not have been told: the
/// caller decides whether to try again.
pub async fn push(state: &AppState) -> ApiResult<DeskNow> {
    let rows = queued(state).await?;
    let desk = desk_now(state).await?;
    let chat_s = typical_chat_s(state).await?;
    for (i, c) in rows.iter().enumerate() {
        let Some(owner) = &c.owner_id else { continue };
        let position = i as u32 + 1;
        let wait = desk.wait(position, chat_s);
        state.hub.publish(Event::ToUser {
            user_id: UserId(owner.clone()),
            frame: ServerFrame::Queue {
                conversation_id: ConversationId(c.id.clone()),
                position,
                estimated_wait_s: wait.estimated_wait_s,
                available_workers: desk.available,
                staffing: wait.staffing,
                next_on_duty_at: wait.next_on_duty_at,
            },
        });
    }
    let entries = entries_of(state, &rows).await?;
    state.hub.publish(Event::ToQueueWatchers { frame: ServerFrame::QueueChanged { entries } });
    Ok(desk)
}

#[cfg(test)]
mod tests {
    #[test]
    fn wait_grows_with_position_and_shrinks_with_workers() {
        assert_eq!(super::estimate_wait_s(1, 1, 600), 0);
        assert!(super::estimate_wait_s(3, 1, 600) > super::estimate_wait_s(2, 1, 600));
        assert!(super::estimate_wait_s(3, 2, 600) < super::estimate_wait_s(3, 1, 600));
        assert!(super::estimate_wait_s(1, 0, 600) > 0, "nobody on duty is never 'no wait'");
        assert_eq!(super::estimate_wait_s(3, 1, 300), 600, "shorter chats, shorter waits");
    }

    #[test]
    fn nobody_on_duty_gets_no_number_and_the_next_shift() {
        use super::{DeskNow, Staffing};
        let empty = DeskNow { available: 0, connected: 0, next_on_duty_at: Some(0) };
        let wait = empty.wait(1, 600);
        assert_eq!((wait.staffing, wait.estimated_wait_s), (Staffing::NobodyOnDuty, None));
        assert_eq!(wait.next_on_duty_at.as_deref(), Some("1970-01-01T00:00:00.000Z"));
        let busy = DeskNow { available: 0, connected: 2, next_on_duty_at: None };
        assert_eq!((busy.wait(1, 600).staffing, busy.wait(1, 600).estimated_wait_s), (Staffing::Busy, Some(300)));
        let open = DeskNow { available: 1, connected: 1, next_on_duty_at: None };
        assert_eq!(open.wait(1, 600).estimated_wait_s, Some(0));
    }

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(super::preview_of("hi,\n  can   someone talk?"), "hi, can someone talk?");
        let long = "word ".repeat(100);
        let p = super::preview_of(&long);
        assert!(p.chars().count() <= talkzone_mobile_api::limits::QUEUE_PREVIEW_CHARS, "{p}");
        assert!(p.ends_with("word…"), "cut at a word: {p}");
        let unbroken = "x".repeat(500);
        assert_eq!(super::preview_of(&unbroken).chars().count(), talkzone_mobile_api::limits::QUEUE_PREVIEW_CHARS);
    }
}
