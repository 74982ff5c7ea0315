//! Staff accounts: creating one (the one path for the REST route and `talkzone admin
//! create-user`), listing them, their capacity, their sessions, and their lifecycle: suspend,
//! reactivate, offboard, change role, reset the password (a one-time code) or the second
//! factor. Each lifecycle change is the one path for the REST routes and `talkzone admin …`,
//! audited, and ends every session of the account in the same transaction.

use talkzone_mobile_api::{
    CreateUserRequest, PasswordResetIssued, Role, SessionList, SessionsEnded, StaffAccount, StaffAccountList, UserId,
    UserView,
};

use crate::auth::{end_reason, passwords, user_view, AuthUser};
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget};
use crate::state::AppState;
use crate::store::{AccountChange, NewUser, Store, UserRecord};

/// Every staff account, by name (young people and parents/carers are not listed: they are not
/// staff to manage). Roles: yot_admin.
pub async fn list_staff(state: &AppState, user: &AuthUser) -> ApiResult<StaffAccountList> {
    user.require(&[Role::YotAdmin])?;
    let accounts = state.store.staff_accounts().await?.into_iter().map(staff_account).collect();
    Ok(StaffAccountList { accounts })
}

fn staff_account(u: UserRecord) -> StaffAccount {
    StaffAccount {
        id: UserId(u.id),
        username: u.username,
        role: u.role,
        display_name: u.display_name,
        on_duty: u.on_duty,
        capacity: u.capacity,
        suspended: u.suspended_at.is_some(),
        offboarded: u.offboarded_at.is_some(),
        second_factor: u.totp_secret.is_some(),
        created_at: crate::clock::rfc3339(u.created_at),
    }
}

/// How long a password reset code lasts.
pub const PASSWORD_RESET_TTL_MS: i64 = 24 * 3600 * 1000;

/// Who changes a staff account: a YOT admin over the API (`Some`), or whoever runs `talkzone
/// admin …` on the server (`None`: they hold the database already).
pub type Actor<'a> = Option<&'a AuthUser>;

/// Suspends, reactivates, offboards an account, gives it another staff role or forgets its
/// second factor; audited with `reason`, every session ended (but on reactivation) in the
/// same transaction. Refused: an account that is not staff (404), an offboarded one (409),
/// the admin's own account (409: another admin must do it), and the last active YOT admin
/// (409: the service would have nobody to manage it). The caller closes the account's sockets
/// (`Auth::account_sessions_ended`) when the answer is `Ok`.
pub async fn change_account(
    store: &dyn Store,
    now: i64,
    actor: Actor<'_>,
    id: &str,
    change: AccountChange,
    reason: Option<&str>,
) -> ApiResult<StaffAccount> {
    if let Some(admin) = actor {
        admin.require(&[Role::YotAdmin])?;
    }
    let reason = check_reason(reason)?;
    let target = staff_record(store, id).await?;
    if target.offboarded_at.is_some() {
        return Err(ApiError::Conflict("this account has been offboarded: nothing more can change it".into()));
    }
    if actor.is_some_and(|a| a.id.as_str() == target.id) && change != AccountChange::ResetSecondFactor {
        return Err(ApiError::Conflict("another YOT admin must change your own account".into()));
    }
    let action = match change {
        AccountChange::Suspend => AuditAction::UserSuspended,
        AccountChange::Reactivate => AuditAction::UserReactivated,
        AccountChange::Offboard => AuditAction::UserOffboarded,
        AccountChange::Role(role) => {
            if !role.is_staff() {
                return Err(ApiError::Validation("role must be a staff role".into()));
            }
            AuditAction::RoleChanged
        }
        AccountChange::ResetSecondFactor => AuditAction::SecondFactorReset,
    };
    let leaves_admins = match change {
        AccountChange::Suspend | AccountChange::Offboard => true,
        AccountChange::Role(role) => role != Role::YotAdmin,
        AccountChange::Reactivate | AccountChange::ResetSecondFactor => false,
    };
    if leaves_admins && target.role == Role::YotAdmin && target.is_active() && store.active_admins().await? <= 1 {
        return Err(ApiError::Conflict("this is the last active YOT admin: make another first".into()));
    }
    let details = match change {
        AccountChange::Role(role) => Some(format!("{} -> {}", target.role.as_str(), role.as_str())),
        _ => None,
    };
    let details = match (details, reason) {
        (Some(d), Some(r)) => Some(format!("{d}: {r}")),
        (d, r) => d.or(r),
    };
    let audit = crate::audit::event(now, actor.map(|a| a.id.as_str()), action, AuditTarget::User, &target.id, details);
    if !store.change_account(&target.id, change, now, audit).await? {
        return Err(ApiError::NotFound);
    }
    Ok(staff_account(staff_record(store, id).await?))
}

/// Makes a one-time password reset code for a staff account (any earlier one stops working),
/// shown this once; audited. The person sets a new password with it at `/console#reset=…` (or
/// `POST /v1/auth/password-reset`); every session of the account ends then.
pub async fn issue_password_reset(
    store: &dyn Store,
    now: i64,
    actor: Actor<'_>,
    id: &str,
) -> ApiResult<PasswordResetIssued> {
    if let Some(admin) = actor {
        admin.require(&[Role::YotAdmin])?;
    }
    let target = staff_record(store, id).await?;
    if !target.is_active() || target.username.is_none() {
        return Err(ApiError::Conflict("only an active account can be given a password reset".into()));
    }
    let code = crate::auth::random_token();
    let expires_at = now + PASSWORD_RESET_TTL_MS;
    let audit = crate::audit::event(
        now,
        actor.map(|a| a.id.as_str()),
        AuditAction::PasswordResetIssued,
        AuditTarget::User,
        &target.id,
        None,
    );
    let hash = crate::auth::hash_secret(&code);
    store.create_password_reset(&target.id, &hash, now, expires_at, actor.map(|a| a.id.as_str()), audit).await?;
    Ok(PasswordResetIssued {
        path: format!("/console#reset={code}"),
        code,
        expires_at: crate::clock::rfc3339(expires_at),
    })
}

/// A staff account by id for the lifecycle: `NotFound` unless it is staff.
async fn staff_record(store: &dyn Store, id: &str) -> ApiResult<UserRecord> {
    match store.user(id).await? {
        Some(u) if u.role.is_staff() => Ok(u),
        _ => Err(ApiError::NotFound),
    }
}

/// A staff account by username, for `talkzone admin …`.
pub async fn staff_id_by_username(store: &dyn Store, username: &str) -> ApiResult<String> {
    match store.user_by_username(username).await? {
        Some(u) if u.role.is_staff() => Ok(u.id),
        _ => Err(ApiError::NotFound),
    }
}

fn check_reason(reason: Option<&str>) -> ApiResult<Option<String>> {
    match reason.map(str::trim) {
        None => Ok(None),
        Some(r) if (1..=500).contains(&r.chars().count()) && !r.chars().any(char::is_control) => Ok(Some(r.to_owned())),
        Some(_) => Err(ApiError::Validation("reason must be 1 to 500 printable characters".into())),
    }
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
