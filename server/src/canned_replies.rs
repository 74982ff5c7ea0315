//! Canned replies: short texts the YOT admin keeps (`/v1/canned-replies*`) for duty workers and
//! supervisors to put into a chat, with variables (`{worker_name}`, `{young_person_name}`) the
//! console fills in before the worker reads it over and sends it. Nothing is sent from here:
//! a canned reply becomes a message only through the worker's own send.

use talkzone_mobile_api::{limits, CannedReplyList, CannedReplyRequest, CannedReplyView, Role, CANNED_REPLY_VARIABLES};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget};
use crate::state::AppState;
use crate::store::CannedReplyRecord;

const ADMIN: &[Role] = &[Role::YotAdmin];
/// Who may read them: the desk, and the admin who keeps them.
const READERS: &[Role] = &[Role::DutyWorker, Role::Supervisor, Role::YotAdmin];

fn view(r: CannedReplyRecord) -> CannedReplyView {
    CannedReplyView { id: r.id, title: r.title, body: r.body, updated_at: rfc3339(r.updated_at) }
}

/// `GET /v1/canned-replies`: every one, by title.
pub async fn list(state: &AppState, user: &AuthUser) -> ApiResult<CannedReplyList> {
    user.require(READERS)?;
    Ok(CannedReplyList { canned_replies: state.store.canned_replies().await?.into_iter().map(view).collect() })
}

/// The title and body as stored (trimmed), or why not: lengths, no control characters but
/// line breaks in the body, and no `{…}` that is not a known variable.
fn check(req: CannedReplyRequest) -> ApiResult<(String, String)> {
    let title = req.title.trim();
    let body = req.body.trim();
    let n = title.chars().count();
    if n == 0 || n > limits::MAX_CANNED_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(ApiError::Validation(format!(
            "title must be 1 to {} characters on one line",
            limits::MAX_CANNED_TITLE_CHARS
        )));
    }
    let n = body.chars().count();
    if n == 0 || n > limits::MAX_CANNED_BODY_CHARS || body.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::Validation(format!(
            "body must be 1 to {} characters (line breaks allowed, no other control characters)",
            limits::MAX_CANNED_BODY_CHARS
        )));
    }
    check_variables(body)?;
    Ok((title.to_owned(), body.to_owned()))
}

/// Every `{` opens a known variable and is closed: a typo such as `{worker}` would otherwise
/// reach a young person as braces.
fn check_variables(body: &str) -> ApiResult<()> {
    let known = || CANNED_REPLY_VARIABLES.iter().map(|(name, _)| format!("{{{name}}}")).collect::<Vec<_>>().join(", ");
    let mut rest = body;
    while let Some(open) = rest.find(['{', '}']) {
        let after = &rest[open..];
        let name = after.strip_prefix('{').and_then(|a| a.split_once('}')).map(|(name, _)| name);
        match name {
            Some(name) if CANNED_REPLY_VARIABLES.iter().any(|(v, _)| *v == name) => {
                rest = &after[name.len() + 2..];
            }
            _ => {
                return Err(ApiError::Validation(format!(
                    "the body may use only these variables, in braces: {}",
                    known()
                )))
            }
        }
    }
    Ok(())
}

/// `POST /v1/canned-replies` (yot_admin). At most [`limits::MAX_CANNED_REPLIES`]: a list
/// longer than that is no help to a worker picking one at 3 a.m.
pub async fn create(state: &AppState, user: &AuthUser, req: CannedReplyRequest) -> ApiResult<CannedReplyView> {
    user.require(ADMIN)?;
    let (title, body) = check(req)?;
    if state.store.canned_replies().await?.len() >= limits::MAX_CANNED_REPLIES {
        return Err(ApiError::Conflict(format!(
            "there are already {} canned replies: delete one first",
            limits::MAX_CANNED_REPLIES
        )));
    }
    let now = state.clock.now_ms();
    let record = CannedReplyRecord {
        id: crate::ids::random_id(),
        title,
        body,
        created_by: Some(user.id.0.clone()),
        created_at: now,
        updated_at: now,
    };
    let audit = crate::audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::CannedReplyCreated,
        AuditTarget::CannedReply,
        &record.id,
        Some(record.title.clone()),
    );
    state.store.create_canned_reply(&record, audit).await?;
    Ok(view(record))
}

/// `PUT /v1/canned-replies/{id}` (yot_admin): replaces its title and body.
pub async fn update(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    req: CannedReplyRequest,
) -> ApiResult<CannedReplyView> {
    user.require(ADMIN)?;
    let (title, body) = check(req)?;
    let now = state.clock.now_ms();
    let record =
        CannedReplyRecord { id: id.to_owned(), title, body, created_by: None, created_at: now, updated_at: now };
    let audit = crate::audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::CannedReplyUpdated,
        AuditTarget::CannedReply,
        id,
        Some(record.title.clone()),
    );
    if !state.store.update_canned_reply(&record, audit).await? {
        return Err(ApiError::NotFound);
    }
    state.store.canned_reply(id).await?.map(view).ok_or(ApiError::NotFound)
}

/// `DELETE /v1/canned-replies/{id}` (yot_admin).
pub async fn delete(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<()> {
    user.require(ADMIN)?;
    let audit = crate::audit::event(
        state.clock.now_ms(),
        Some(user.id.as_str()),
        AuditAction::CannedReplyDeleted,
        AuditTarget::CannedReply,
        id,
        None,
    );
    if state.store.delete_canned_reply(id, audit).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::check_variables;

    #[test]
    fn only_known_variables_in_braces() {
        assert!(check_variables("Hi {young_person_name}, I'm {worker_name}.").is_ok());
        assert!(check_variables("no variables at all").is_ok());
        for bad in ["Hi {worker}", "Hi {worker_name", "Hi worker_name}", "{}", "{{worker_name}}", "a } b"] {
            assert!(check_variables(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
