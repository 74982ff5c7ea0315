//! A conversation as each viewer may see it (queue position and wait while queued, room
//! details, the staff record, the monitoring notice), and telling its parties when it changes.

use talkzone_mobile_api::{ConversationId, ConversationState, ConversationView, Role, ServerFrame, UserId, UserView};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::model::ConversationKind;
use crate::queue;
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::ConversationRecord;
use crate::views::{kind_and_state, tags_of, user_of};

/// The conversation as the API shows it to `viewer`, with queue position and wait while
/// queued, and room details for rooms.
pub async fn view(state: &AppState, viewer: &AuthUser, c: &ConversationRecord) -> ApiResult<ConversationView> {
    let room = if c.kind == ConversationKind::Room {
        let joined = state.store.membership(&c.id, viewer.id.as_str()).await?.is_some();
        Some(crate::rooms::policy::room_info(c, joined))
    } else {
        None
    };
    let (kind, state_enum) = kind_and_state(c)?;
    // Risk, outcome and tags are the service's safeguarding record of a support chat: staff only.
    let staff_record = viewer.role.is_staff() && c.kind == ConversationKind::Support;
    let (queue_position, wait) = if state_enum == ConversationState::Queued {
        match state.store.queue_position(&c.id).await? {
            Some(p) => {
                let desk = queue::desk_now(state).await?;
                (Some(p), Some(desk.wait(p, queue::typical_chat_s(state).await?)))
            }
            None => (None, None),
        }
    } else {
        (None, None)
    };
    Ok(ConversationView {
        id: ConversationId(c.id.clone()),
        kind,
        state: state_enum,
        topic: c.topic.clone(),
        created_at: rfc3339(c.created_at),
        young_person: user_of(&c.owner_id, &c.owner_name, Role::YoungPerson),
        assigned_to: c.assigned_to.as_ref().map(|id| UserView {
            id: UserId(id.clone()),
            role: c.assigned_role.unwrap_or(Role::DutyWorker),
            display_name: c.assigned_name.clone().unwrap_or_default(),
        }),
        queue_position,
        estimated_wait_s: wait.as_ref().and_then(|w| w.estimated_wait_s),
        staffing: wait.as_ref().map(|w| w.staffing),
        next_on_duty_at: wait.and_then(|w| w.next_on_duty_at),
        last_seq: c.last_seq,
        risk: staff_record.then(|| c.risk.as_str().to_owned()),
        outcome: c.outcome.clone().filter(|_| staff_record),
        closed_reason: c.closed_reason.filter(|_| staff_record),
        tags: if staff_record { tags_of(c) } else { Vec::new() },
        room,
        // Monitoring is transparent: the young person sees who may read their chat, in plain
        // words, with whether they acknowledged this version of the notice.
        monitoring_notice: if c.kind == ConversationKind::Support && c.owner_id.as_deref() == Some(viewer.id.as_str()) {
            Some(crate::privacy::notice::view_for(state, viewer.id.as_str()).await?)
        } else {
            None
        },
        first_reply_due_at: first_reply_due_at(state, c).filter(|_| staff_record).map(rfc3339),
    })
}

/// While an assigned chat waits for its worker's first reply: when it goes back to the queue
/// (`crate::conversations::return_unanswered` uses the same timeout).
fn first_reply_due_at(state: &AppState, c: &ConversationRecord) -> Option<i64> {
    if c.state != crate::model::ConversationState::Assigned || c.first_reply_at.is_some() {
        return None;
    }
    Some(c.assigned_at? + state.config.desk.assignment_timeout.as_millis() as i64)
}

/// Tells the supervisors who joined a support chat that it changed (it closed): they follow it
/// like its worker does, but are not its assigned party.
pub async fn tell_joined_supervisors(state: &AppState, record: &ConversationRecord) -> ApiResult<()> {
    let mut joined = state.store.participants_as(&record.id, "supervisor").await?;
    joined.retain(|s| Some(s.as_str()) != record.assigned_to.as_deref());
    let parties: Vec<Option<&str>> = joined.iter().map(|s| Some(s.as_str())).collect();
    tell_parties(state, record, parties).await
}

/// Tells every connected supervisor that a live support chat changed (its risk rose), as staff
/// see it: their list of every live chat and the escalations beside it show it at once.
pub async fn tell_supervisors(state: &AppState, record: &ConversationRecord) -> ApiResult<()> {
    let viewer = AuthUser { id: UserId("supervisors".into()), role: Role::Supervisor, display_name: String::new() };
    let frame = ServerFrame::Conversation(view(state, &viewer, record).await?);
    state.hub.publish(Event::ToRoles { roles: vec![Role::Supervisor], frame });
    Ok(())
}
/// Sends a support chat's new state to each of its parties' connections, each as they may see
/// it: the young person without the staff record (risk, outcome, tags), with their monitoring
/// notice. A view depends only on who the viewer is and whether they are staff.
pub async fn tell_parties<'a>(
    state: &AppState,
    record: &ConversationRecord,
    parties: impl IntoIterator<Item = Option<&'a str>>,
) -> ApiResult<()> {
    for uid in parties.into_iter().flatten() {
        let viewer = if record.owner_id.as_deref() == Some(uid) {
            AuthUser {
                id: UserId(uid.to_owned()),
                role: Role::YoungPerson,
                display_name: record.owner_name.clone().unwrap_or_default(),
            }
        } else {
            AuthUser { id: UserId(uid.to_owned()), role: Role::DutyWorker, display_name: String::new() }
        };
        let frame = ServerFrame::Conversation(view(state, &viewer, record).await?);
        state.hub.publish(Event::ToUser { user_id: viewer.id, frame });
    }
    Ok(())
}
