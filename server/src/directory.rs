//! The services directory: the YOT's and partners' local services (prevention, diversion,
//! health, …). Everyone signed in can search it; YOT admins keep it; staff in a chat share an
//! entry into it as a `service_card` message, whose body is the entry as JSON at that moment.

use talkzone_mobile_api::{
    ConversationId, MessageKind, Role, ServiceCardSent, ServiceList, ServiceRequest, ServiceView, ShareServiceRequest,
};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget};
use crate::state::AppState;
use crate::store::ServiceRecord;

const ADMIN: &[Role] = &[Role::YotAdmin];
/// Who may share an entry into a chat they can write in.
const SHARERS: &[Role] = &[Role::DutyWorker, Role::Supervisor];
/// At most this many entries in one answer.
const MAX_LISTED: i64 = 100;

/// `GET /v1/services?q=&category=&include_retired=`: entries by name. Retired entries only for
/// YOT admins who ask for them.
pub async fn search(
    state: &AppState,
    user: &AuthUser,
    q: Option<&str>,
    category: Option<&str>,
    include_retired: bool,
) -> ApiResult<ServiceList> {
    if include_retired {
        user.require(ADMIN)?;
    }
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    // No control characters: the stored search text separates fields with line breaks.
    if q.is_some_and(|q| q.chars().count() > 100 || q.chars().any(char::is_control)) {
        return Err(ApiError::Validation("q must be at most 100 characters, without control characters".into()));
    }
    if let Some(c) = category {
        check_category(c)?;
    }
    let rows = state.store.services(q, category, include_retired, MAX_LISTED).await?;
    Ok(ServiceList { services: rows.into_iter().map(view).collect() })
}

/// `GET /v1/services/{id}`.
pub async fn get(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<ServiceView> {
    let r = state.store.service(id).await?.ok_or(ApiError::NotFound)?;
    if r.retired != 0 && user.role != Role::YotAdmin {
        return Err(ApiError::NotFound);
    }
    Ok(view(r))
}

/// `POST /v1/services` (yot_admin).
pub async fn create(state: &AppState, user: &AuthUser, req: ServiceRequest) -> ApiResult<ServiceView> {
    user.require(ADMIN)?;
    let now = state.clock.now_ms();
    let record = record(crate::ids::random_id(), req, Some(user.id.0.clone()), now)?;
    let audit = crate::audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::ServiceCreated,
        AuditTarget::Service,
        &record.id,
        Some(record.name.clone()),
    );
    state.store.create_service(&record, audit).await?;
    Ok(view(record))
}

/// `PUT /v1/services/{id}` (yot_admin): replaces the entry's details. Cards already shared
/// keep what they showed.
pub async fn update(state: &AppState, user: &AuthUser, id: &str, req: ServiceRequest) -> ApiResult<ServiceView> {
    user.require(ADMIN)?;
    let now = state.clock.now_ms();
    let record = record(id.to_owned(), req, None, now)?;
    let audit = crate::audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::ServiceUpdated,
        AuditTarget::Service,
        id,
        Some(record.name.clone()),
    );
    if !state.store.update_service(&record, audit).await? {
        return Err(ApiError::NotFound);
    }
    state.store.service(id).await?.map(view).ok_or(ApiError::NotFound)
}

/// `POST /v1/services/{id}/retire` (yot_admin): hidden from search and from sharing.
pub async fn retire(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<()> {
    user.require(ADMIN)?;
    let audit = crate::audit::event(
        state.clock.now_ms(),
        Some(user.id.as_str()),
        AuditAction::ServiceRetired,
        AuditTarget::Service,
        id,
        None,
    );
    if state.store.retire_service(id, audit).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// `POST /v1/conversations/{id}/service-cards` (a duty worker or supervisor who can write in
/// the chat): shares an entry as a `service_card` message, through the same path as any
/// message (durable before the answer, delivered live, idempotent on `client_msg_id`).
pub async fn share(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    req: ShareServiceRequest,
) -> ApiResult<ServiceCardSent> {
    user.require(SHARERS)?;
    let card = match state.store.service(&req.service_id).await? {
        Some(r) if r.retired == 0 => view(r),
        _ => return Err(ApiError::Validation("no such service in the directory (or it was retired)".into())),
    };
    let body = serde_json::to_string(&card).map_err(|e| ApiError::Internal(e.to_string()))?;
    let sent = crate::conversations::send::send(
        state,
        user,
        conversation_id,
        &req.client_msg_id,
        &body,
        MessageKind::ServiceCard,
    )
    .await?;
    // Cards are never held for review: a `seq` is always given.
    let seq = sent.seq.ok_or_else(|| ApiError::Internal("a service card was held".into()))?;
    Ok(ServiceCardSent { message_id: sent.message_id, seq, card })
}

fn view(r: ServiceRecord) -> ServiceView {
    ServiceView {
        id: r.id,
        name: r.name,
        category: r.category,
        description: r.description,
        area: r.area,
        phone: r.phone,
        url: r.url,
        hours: r.hours,
        min_age: r.min_age.and_then(|a| u32::try_from(a).ok()),
        max_age: r.max_age.and_then(|a| u32::try_from(a).ok()),
        retired: r.retired != 0,
    }
}

/// A checked entry: every text trimmed and within its length, without direction overrides, a
/// lowercase category tag, a web address that is what it looks like ([`check_link`]: a card
/// is a link young people tap), a phone number of digits, spaces and `+()-`, and a sensible
/// age range.
fn record(id: String, req: ServiceRequest, created_by: Option<String>, now: i64) -> ApiResult<ServiceRecord> {
    let text = |name: &str, value: &str, max: usize| -> ApiResult<String> {
        let v = value.trim();
        let refused = |c: char| (c.is_control() && c != '\n') || crate::input::is_bidi_control(c);
        if v.is_empty() || v.chars().count() > max || v.chars().any(refused) {
            return Err(ApiError::Validation(format!(
                "{name} must be 1 to {max} characters, without control or direction-override characters"
            )));
        }
        Ok(v.to_owned())
    };
    let optional = |name: &str, value: Option<String>, max: usize| -> ApiResult<Option<String>> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => text(name, v, max).map(Some),
        }
    };
    let category = req.category.trim().to_owned();
    check_category(&category)?;
    let phone = optional("phone", req.phone, 30)?;
    if phone.as_deref().is_some_and(|p| !p.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c))) {
        return Err(ApiError::Validation("phone may hold digits, spaces and + ( ) - only".into()));
    }
    let url = optional("url", req.url, 300)?;
    if let Some(u) = &url {
        check_link(u)?;
    }
    let age = |a: Option<u32>| a.filter(|a| *a <= 30);
    if age(req.min_age) != req.min_age || age(req.max_age) != req.max_age {
        return Err(ApiError::Validation("ages must be 0 to 30".into()));
    }
    if let (Some(lo), Some(hi)) = (req.min_age, req.max_age) {
        if lo > hi {
            return Err(ApiError::Validation("min_age must not be above max_age".into()));
        }
    }
    Ok(ServiceRecord {
        id,
        name: text("name", &req.name, 100)?,
        category,
        description: text("description", &req.description, 1000)?,
        area: optional("area", req.area, 100)?,
        phone,
        url,
        hours: optional("hours", req.hours, 200)?,
        min_age: req.min_age.map(i64::from),
        max_age: req.max_age.map(i64::from),
        retired: 0,
        created_by,
        created_at: now,
        updated_at: now,
    })
}

/// A link that goes where it reads: `http://` or `https://` and then a host, in plain ASCII,
/// as written. Refused: a user name before the host (`https://good.example@evil.example`
/// opens evil.example), no host where one is written (`https:///evil.example`, which
/// browsers read as a host after all), backslashes (read as slashes), and spaces, control,
/// invisible or direction characters (a right-to-left override makes an address read as
/// another). Non-ASCII hosts are written in their `xn--` form, so look-alike letters show.
fn check_link(u: &str) -> ApiResult<()> {
    let bad = || {
        ApiError::Validation(
            "url must be an http:// or https:// address with a host, without a user name (…@), backslashes, \
             spaces or invisible characters"
                .into(),
        )
    };
    if u.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\' || crate::input::is_invisible(c)) {
        return Err(bad());
    }
    let lower = u.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).ok_or_else(bad)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || !authority.is_ascii() {
        return Err(bad());
    }
    let parsed = url::Url::parse(u).map_err(|_| bad())?;
    if parsed.host_str().is_none_or(str::is_empty) || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad());
    }
    Ok(())
}

fn check_category(c: &str) -> ApiResult<()> {
    let n = c.chars().count();
    if n == 0 || n > 40 || !c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_') {
        return Err(ApiError::Validation("category must be 1 to 40 of a-z and _ (for example mental_health)".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_link;

    #[test]
    fn links_go_where_they_read() {
        for ok in ["https://www.childline.org.uk", "http://example.org/path?q=1#top", "https://xn--bcher-kva.example/"]
        {
            assert!(check_link(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://good.example@evil.example",
            "https://user:pw@good.example/",
            "https://@good.example",
            "https:///evil.example",
            "https://",
            "https:?x",
            "http:evil.example",
            "javascript:alert(1)",
            "https://good.example\\@evil.example",
            "https://good.example/\u{202E}gpj.exe",
            "https://good\u{200B}.example",
            "https://bücher.example",
            "https://good.example /x",
        ] {
            assert!(check_link(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
