//! The duty desk around the queue: the rota (who is expected when), who is on duty now and
//! who is next, and the workers' wellbeing caps (hours on duty per day and per week: warned
//! before, enforced at the cap).

use std::collections::HashSet;
use std::sync::Mutex;

use talkzone_mobile_api::{DeskView, DeskWorker, Role, Rota, ServerFrame, ShiftRequest, ShiftView, UserId};

use crate::auth::{user_view, AuthUser};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget, ConversationState};
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::ShiftRecord;
use crate::{audit, queue};

const DAY_MS: i64 = 24 * 3600 * 1000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// Workers are warned this long before a cap ends their shift.
pub const WARN_BEFORE_MS: i64 = 30 * 60 * 1000;

fn parse_time(name: &str, s: &str) -> ApiResult<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| ApiError::Validation(format!("{name} must be an RFC 3339 time, e.g. 2026-11-23T18:00:00Z")))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

async fn shift_view(state: &AppState, r: &ShiftRecord) -> ApiResult<ShiftView> {
    let user = state.store.user(&r.user_id).await?.ok_or(ApiError::NotFound)?;
    Ok(ShiftView {
        id: r.id.clone(),
        user: user_view(&user)?,
        starts_at: rfc3339(r.starts_at),
        ends_at: rfc3339(r.ends_at),
    })
}

/// `POST /v1/rota/shifts` (yot_admin).
pub async fn add_shift(state: &AppState, user: &AuthUser, req: ShiftRequest) -> ApiResult<ShiftView> {
    user.require(&[Role::YotAdmin])?;
    let starts = parse_time("starts_at", &req.starts_at)?;
    let ends = parse_time("ends_at", &req.ends_at)?;
    if ends <= starts || ends - starts > DAY_MS {
        return Err(ApiError::Validation("a shift ends after it starts and lasts at most 24 hours".into()));
    }
    let worker = state.store.user(req.user_id.as_str()).await?.ok_or(ApiError::NotFound)?;
    if !matches!(worker.role, Role::DutyWorker | Role::Supervisor) {
        return Err(ApiError::Validation("shifts are for duty workers and supervisors".into()));
    }
    let record = ShiftRecord {
        id: crate::ids::random_id(),
        user_id: worker.id.clone(),
        starts_at: starts,
        ends_at: ends,
        created_by: Some(user.id.0.clone()),
        created_at: state.clock.now_ms(),
    };
    let audit = crate::audit::event(
        record.created_at,
        Some(user.id.as_str()),
        AuditAction::ShiftAdded,
        AuditTarget::User,
        &worker.id,
        Some(format!("{} to {}", req.starts_at, req.ends_at)),
    );
    state.store.create_shift(record.clone(), audit).await?;
    shift_view(state, &record).await
}

/// `DELETE /v1/rota/shifts/{id}` (yot_admin).
pub async fn remove_shift(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<()> {
    user.require(&[Role::YotAdmin])?;
    let now = state.clock.now_ms();
    let audit = |worker: &str| {
        crate::audit::event(
            now,
            Some(user.id.as_str()),
            AuditAction::ShiftRemoved,
            AuditTarget::User,
            worker,
            Some(format!("shift {id}")),
        )
    };
    if !state.store.delete_shift(id, &audit).await? {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// `GET /v1/rota?from=&to=` (staff).
pub async fn rota(state: &AppState, user: &AuthUser, from: Option<&str>, to: Option<&str>) -> ApiResult<Rota> {
    if !user.role.is_staff() {
        return Err(ApiError::Forbidden("staff only"));
    }
    let now = state.clock.now_ms();
    let from = match from {
        Some(s) => parse_time("from", s)?,
        None => now - DAY_MS,
    };
    let to = match to {
        Some(s) => parse_time("to", s)?,
        None => now + WEEK_MS,
    };
    let mut shifts = Vec::new();
    for r in state.store.shifts_between(from, to).await? {
        shifts.push(shift_view(state, &r).await?);
    }
    Ok(Rota { shifts })
}

/// `GET /v1/desk` (staff): who is on duty now, who is next, how long the queue is.
pub async fn desk(state: &AppState, user: &AuthUser) -> ApiResult<DeskView> {
    if !user.role.is_staff() {
        return Err(ApiError::Forbidden("staff only"));
    }
    let now = state.clock.now_ms();
    let fresh = state.store.available_staff(now - crate::queue::PRESENCE_FRESH_MS).await?;
    let mut on_duty = Vec::new();
    for id in state.store.on_duty_staff().await? {
        let Some(u) = state.store.user(&id).await? else { continue };
        let load = fresh.iter().find(|s| s.id == id);
        let open_chats = match load {
            Some(l) => l.open_chats,
            None => state
                .store
                .conversations_for_staff(&crate::store::ConversationFilter {
                    state: Some(ConversationState::Assigned),
                    assigned_to: Some(id.clone()),
                    ..Default::default()
                })
                .await?
                .len() as i64,
        };
        let worked = state.store.duty_ms_since(&id, now - DAY_MS, now).await?;
        on_duty.push(DeskWorker {
            user: user_view(&u)?,
            open_chats,
            capacity: u.capacity,
            connected: load.is_some(),
            hours_today: (worked as f64 / 3_600_000.0 * 10.0).round() / 10.0,
        });
    }
    let mut next = Vec::new();
    for r in state.store.shifts_between(now, now + DAY_MS).await? {
        if r.starts_at >= now {
            next.push(shift_view(state, &r).await?);
        }
    }
    let queue_length = crate::queue::entries(state).await?.len() as u32;
    Ok(DeskView {
        on_duty,
        next,
        queue_length,
        max_hours_per_day: state.config.desk.max_duty_per_day.as_secs_f64() / 3600.0,
        max_hours_per_week: state.config.desk.max_duty_per_week.as_secs_f64() / 3600.0,
    })
}

/// `PUT /v1/me/duty` and the `duty` frame.
pub async fn set_duty(state: &AppState, user: &AuthUser, on_duty: bool) -> ApiResult<bool> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    if on_duty {
        check_may_go_on_duty(state, user).await?;
    }
    let now = state.clock.now_ms();
    let action = if on_duty { AuditAction::DutyOn } else { AuditAction::DutyOff };
    let entry = audit::event(now, Some(user.id.as_str()), action, AuditTarget::User, user.id.as_str(), None);
    state.store.set_on_duty(user.id.as_str(), on_duty, now, Some(entry)).await?;
    queue::changed(state).await;
    Ok(on_duty)
}

/// Refuses going on duty past a cap, with a kind reason.
pub async fn check_may_go_on_duty(state: &AppState, user: &AuthUser) -> ApiResult<()> {
    let now = state.clock.now_ms();
    let day = state.store.duty_ms_since(user.id.as_str(), now - DAY_MS, now).await?;
    let week = state.store.duty_ms_since(user.id.as_str(), now - WEEK_MS, now).await?;
    let desk = &state.config.desk;
    let (worked, cap, span) = if day >= desk.max_duty_per_day.as_millis() as i64 {
        (day, desk.max_duty_per_day, "24 hours")
    } else if week >= desk.max_duty_per_week.as_millis() as i64 {
        (week, desk.max_duty_per_week, "7 days")
    } else {
        return Ok(());
    };
    Err(ApiError::ForbiddenBecause(format!(
        "You've been on duty {:.1} hours in the last {span}; the limit is {:.1} hours, to look after you. Please take a break.",
        worked as f64 / 3_600_000.0,
        cap.as_secs_f64() / 3600.0
    )))
}

/// Warnings already sent on this node (worker id), so each is sent once per approach.
#[derive(Default)]
pub struct Wellbeing {
    warned: Mutex<HashSet<String>>,
}

impl Wellbeing {
    /// Warns workers nearing a cap and takes those past it off duty (their chats return to the
    /// queue after the grace period, like anyone going off duty).
    pub async fn check(&self, state: &AppState) -> ApiResult<()> {
        let now = state.clock.now_ms();
        let desk = &state.config.desk;
        for id in state.store.on_duty_staff().await? {
            let day = state.store.duty_ms_since(&id, now - DAY_MS, now).await?;
            let week = state.store.duty_ms_since(&id, now - WEEK_MS, now).await?;
            let left =
                (desk.max_duty_per_day.as_millis() as i64 - day).min(desk.max_duty_per_week.as_millis() as i64 - week);
            let uid = UserId(id.clone());
            if left <= 0 {
                let entry = crate::audit::event(now, None, AuditAction::DutyCapReached, AuditTarget::User, &id, None);
                state.store.set_on_duty(&id, false, now, Some(entry)).await?;
                self.warned.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                state.hub.publish(Event::ToUser { user_id: uid.clone(), frame: ServerFrame::Duty { on_duty: false } });
                state.hub.publish(Event::ToUser {
                    user_id: uid,
                    frame: ServerFrame::Notice {
                        kind: "duty_cap_reached".into(),
                        message: "You've reached the most hours on duty we allow, to look after you, so you're now off duty. Your open chats go back to the queue shortly.".into(),
                        conversation_id: None,
                        message_id: None,
                        client_msg_id: None,
                    },
                });
                crate::queue::changed(state).await;
            } else if left <= WARN_BEFORE_MS && self.warned.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone())
            {
                state.hub.publish(Event::ToUser {
                    user_id: uid,
                    frame: ServerFrame::Notice {
                        kind: "duty_cap_near".into(),
                        message: format!(
                            "You have about {} minutes of duty left today; please start wrapping up.",
                            (left / 60_000).max(1)
                        ),
                        conversation_id: None,
                        message_id: None,
                        client_msg_id: None,
                    },
                });
            }
        }
        Ok(())
    }
}
