//! Staff accounts: creating one (the one path for the REST route and `talkzone admin
//! create-user`), listing them, and their capacity.

use talkzone_mobile_api::{
    CreateUserRequest, Role, SessionList, SessionsEnded, StaffAccount, StaffAccountList, UserId, UserView,
};

use crate::auth::{end_reason, passwords, user_view, AuthUser};
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget};
use crate::state::AppState;
use crate::store::NewUser;

/// Every staff account, by name (young people and parents/carers are not listed: they are not
/// staff to manage). Roles: yot_admin.
pub async fn list_staff(state: &AppState, user: &AuthUser) -> ApiResult<StaffAccountList> {
    user.require(&[Role::YotAdmin])?;
    let mut accounts = Vec::new();
    for u in state.store.staff_accounts().await? {
        let role = u.role;
        accounts.push(StaffAccount {
            id: UserId(u.id),
            username: u.username,
            role,
            display_name: u.display_name,
            on_duty: u.on_duty,
            capacity: u.capacity,
            suspended: u.suspended_at.is_some(),
            created_at: crate::clock::rfc3339(u.created_at),
        });
    }
    Ok(StaffAccountList { accounts })
}

/// How many chats a worker takes at once (1 to 20); audited. Roles: yot_admin.
pub async fn set_capacity(state: &AppState, user: &AuthUser, id: &str, capacity: i64) -> ApiResult<()> {
    user.require(&[Role::YotAdmin])?;
    if !(1..=20).contains(&capacity) {
        return Err(ApiError::Validation("capacity must be between 1 and 20".into()));
    }
    let entry = crate::audit::event(
        state.clock.now_ms(),
        Some(user.id.as_str()),
        AuditAction::CapacitySet,
        AuditTarget::User,
        id,
        Some(capacity.to_string()),
    );
    if !state.store.set_capacity(id, capacity, entry).await? {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// A staff account an admin may manage: `NotFound` for an unknown id or an account that is not
/// staff (young people and parents/carers are not managed here, and a denial leaks nothing).
async fn staff_target(state: &AppState, id: &str) -> ApiResult<crate::store::UserRecord> {
    match state.store.user(id).await? {
        Some(u) if u.role.is_staff() => Ok(u),
        _ => Err(ApiError::NotFound),
    }
}

/// `GET /v1/admin/users/{id}/sessions`: a staff account's live sessions. Roles: yot_admin.
pub async fn list_sessions(state: &AppState, admin: &AuthUser, id: &str) -> ApiResult<SessionList> {
    admin.require(&[Role::YotAdmin])?;
    let target = staff_target(state, id).await?;
    let sessions = state.auth.sessions_of(&target.id).await?;
    Ok(SessionList { sessions: sessions.iter().map(|s| crate::auth::session_view(s, None)).collect() })
}

/// `DELETE /v1/admin/users/{id}/sessions/{session_id}`: ends one session of a staff account;
/// audited. Roles: yot_admin.
pub async fn end_session(state: &AppState, admin: &AuthUser, id: &str, session_id: &str) -> ApiResult<()> {
    admin.require(&[Role::YotAdmin])?;
    let target = staff_target(state, id).await?;
    let audit = crate::audit::event(
        state.clock.now_ms(),
        Some(admin.id.as_str()),
        AuditAction::SessionEnded,
        AuditTarget::User,
        &target.id,
        Some(format!("session {session_id}")),
    );
    state.auth.end_session(&target.id, session_id, end_reason::ENDED_BY_ADMIN, Some(audit)).await
}

/// `DELETE /v1/admin/users/{id}/sessions`: ends every session of a staff account (it can sign
/// in again); audited. Roles: yot_admin.
pub async fn end_all_sessions(state: &AppState, admin: &AuthUser, id: &str) -> ApiResult<SessionsEnded> {
    admin.require(&[Role::YotAdmin])?;
    let target = staff_target(state, id).await?;
    let audit = crate::audit::event(
        state.clock.now_ms(),
        Some(admin.id.as_str()),
        AuditAction::SessionsEnded,
        AuditTarget::User,
        &target.id,
        None,
    );
    let ended = state.auth.end_other_sessions(&target.id, None, end_reason::ENDED_BY_ADMIN, Some(audit)).await?;
    Ok(SessionsEnded { ended })
}

/// Usernames: 3 to 64 of `a-z 0-9 . _ -`, so they are unambiguous in logs and audits.
pub fn validate_username(u: &str) -> Result<(), ApiError> {
    let ok = (3..=64).contains(&u.len())
        && u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Validation("username must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-'".into()))
    }
}

pub fn validate_display_name(n: &str) -> Result<(), ApiError> {
    let len = n.trim().chars().count();
    if len == 0 || len > 64 || n.chars().any(char::is_control) {
        return Err(ApiError::Validation("display_name must be 1 to 64 printable characters".into()));
    }
    Ok(())
}

/// Creates an account (the one path for the REST route and `talkzone admin create-user`),
/// with its `user_created` audit entry in the same transaction; `actor` is the admin, or
/// `None` from the command line.
pub async fn create_account(
    state_store: &dyn crate::store::Store,
    now: i64,
    req: CreateUserRequest,
    actor: Option<&str>,
) -> ApiResult<UserView> {
    validate_username(&req.username)?;
    passwords::check_strength(&req.password, Some(&req.username))?;
    let display_name = req.display_name.unwrap_or_else(|| req.username.clone());
    validate_display_name(&display_name)?;
    let hash = passwords::hash_blocking(req.password).await?;
    let id = crate::ids::random_id();
    let audit = crate::audit::event(
        now,
        actor,
        AuditAction::UserCreated,
        AuditTarget::User,
        &id,
        Some(format!("role {}", req.role.as_str())),
    );
    let user = state_store
        .create_user(
            NewUser {
                id,
                role: req.role,
                username: Some(req.username),
                password_hash: Some(hash),
                display_name: display_name.trim().to_owned(),
                created_at: now,
            },
            Some(audit),
        )
        .await?;
    user_view(&user)
}
