//! The monitoring notice (docs/privacy.md, "Monitoring is transparent"): a young person is
//! told in plain words, at the start of a support chat, that a supervisor may read it. The
//! notice is versioned; the young person acknowledges the version they read, and a new
//! version is shown again until it too is acknowledged.
//!
//! The text and version are the newest stored version (`policies`: an admin puts a new one in
//! force with `PUT /v1/admin/monitoring-notice`, read on every use, so every node shows it at
//! once), else the built-in notice below.
//!
//! Routes (in `http::notice`): `GET /v1/me/monitoring-notice` and
//! `POST /v1/me/monitoring-notice/acknowledge`.

use talkzone_mobile_api::{ConversationId, MonitoringNotice, PolicyInForce, Role, ServerFrame, UserId};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget, PolicyKind};
use crate::policies;
use crate::state::AppState;
use crate::store::Store;

/// The built-in notice's version. Raise it whenever the built-in text changes in meaning.
pub const BUILTIN_VERSION: u32 = 1;

/// The built-in notice, for readers of about ten and up.
pub const BUILTIN_TEXT: &str = "Before we start: this chat is between you and the Talk Zone team. \
A supervisor (a senior member of our team) may read this chat, to check you are getting good help \
and to keep you safe. If we are worried that you or someone else could be hurt, we may need to tell \
people who can help, and we will try to talk to you about it first. Nobody else can read your chat.";

/// Longest notice text, in characters.
const MAX_TEXT_CHARS: usize = 2_000;

/// The notice in force.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub version: u32,
    pub text: String,
}

impl Notice {
    fn builtin() -> Notice {
        Notice { version: BUILTIN_VERSION, text: BUILTIN_TEXT.to_owned() }
    }

    /// Checks a notice file of the kind the service used to read from its data directory: a
    /// version from 1 and a plain-text body of sensible length.
    pub fn parse(src: &str) -> Result<Notice, String> {
        let n: Notice = toml::from_str(src).map_err(|e| e.to_string())?;
        if n.version == 0 {
            return Err("version must be 1 or more".into());
        }
        Ok(Notice { version: n.version, text: check_text(&n.text)? })
    }
}

/// A notice's text as kept: trimmed, 1 to [`MAX_TEXT_CHARS`] characters.
pub fn check_text(text: &str) -> Result<String, String> {
    let len = text.trim().chars().count();
    if len == 0 || len > MAX_TEXT_CHARS {
        return Err(format!("text must be 1 to {MAX_TEXT_CHARS} characters"));
    }
    Ok(text.trim().to_owned())
}

/// Where an admin's notice used to be kept (taken in by [`adopt_file`]).
pub fn legacy_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("monitoring-notice.toml")
}

/// At start: a notice file an earlier version of the service kept in the data directory
/// becomes the first stored version, keeping its version number (young people acknowledged
/// that number). A broken file is logged and left, as it always was.
pub async fn adopt_file(store: &dyn Store, data_dir: &std::path::Path, now: i64) -> Result<(), String> {
    if store.latest_policy_version(PolicyKind::MonitoringNotice).await.map_err(|e| e.to_string())?.is_some() {
        return Ok(());
    }
    let path = legacy_path(data_dir);
    let Ok(src) = std::fs::read_to_string(&path) else { return Ok(()) };
    match Notice::parse(&src) {
        Ok(n) => {
            let note = Some(format!("taken in from {}", path.display()));
            let action = AuditAction::MonitoringNoticeReplaced;
            let floor = i64::from(n.version) - 1;
            policies::store_next(store, PolicyKind::MonitoringNotice, &n.text, now, None, note, action, floor)
                .await
                .map_err(|e| e.to_string())?;
        }
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "old monitoring notice file not valid; not taken in")
        }
    }
    Ok(())
}

/// Stores a new notice; every young person sees it (again) at their next chat until they
/// acknowledge it. Roles: yot_admin.
pub async fn replace(state: &AppState, user: &AuthUser, text: &str) -> ApiResult<PolicyInForce> {
    user.require(&[Role::YotAdmin])?;
    let text = check_text(text).map_err(ApiError::Validation)?;
    // The notice in force sent again is no change: no new version for everyone to acknowledge.
    let in_force = current(state).await?;
    if in_force.text == text {
        return Ok(PolicyInForce { status: "in_force".into(), version: i64::from(in_force.version) });
    }
    // Numbered after the built-in notice, whose version young people may have acknowledged.
    let floor = i64::from(BUILTIN_VERSION);
    let (at, by) = (state.clock.now_ms(), Some(user.id.as_str()));
    let action = AuditAction::MonitoringNoticeReplaced;
    let version =
        policies::store_next(state.store.as_ref(), PolicyKind::MonitoringNotice, &text, at, by, None, action, floor)
            .await?;
    Ok(PolicyInForce { status: "in_force".into(), version })
}

/// The notice in force: the newest stored version, else the built-in notice.
pub async fn current(state: &AppState) -> ApiResult<Notice> {
    Ok(match policies::latest(state, PolicyKind::MonitoringNotice).await? {
        Some((version, text)) => {
            Notice { version: u32::try_from(version).map_err(|_| ApiError::Internal("notice version".into()))?, text }
        }
        None => Notice::builtin(),
    })
}

/// The notice in force as `user` sees it: with whether they acknowledged this version.
pub async fn view_for(state: &AppState, user_id: &str) -> ApiResult<MonitoringNotice> {
    let n = current(state).await?;
    let at = state.store.notice_acknowledged_at(user_id, i64::from(n.version)).await?;
    Ok(MonitoringNotice {
        version: n.version,
        text: n.text,
        acknowledged: at.is_some(),
        acknowledged_at: at.map(rfc3339),
    })
}

/// At the start of a support chat: tell the young person (every connection of theirs) unless
/// they already acknowledged the version in force. The same notice is in the conversation's
/// `monitoring_notice` for clients that are not connected yet.
pub async fn announce(state: &AppState, owner_id: &str, conversation_id: &str) -> ApiResult<()> {
    let notice = view_for(state, owner_id).await?;
    if !notice.acknowledged {
        state.hub.publish(crate::realtime::Event::ToUser {
            user_id: UserId(owner_id.to_owned()),
            frame: ServerFrame::MonitoringNotice {
                conversation_id: ConversationId(conversation_id.to_owned()),
                version: notice.version,
                text: notice.text,
            },
        });
    }
    Ok(())
}

/// The young person read this version of the notice: only the version in force counts (an old
/// or unknown one is refused, so that they see the current words); acknowledging again keeps
/// the first time. Audited.
pub async fn acknowledge(state: &AppState, user: &AuthUser, version: u32) -> ApiResult<MonitoringNotice> {
    user.require(&[Role::YoungPerson])?;
    let n = current(state).await?;
    if version != n.version {
        return Err(ApiError::Validation(format!(
            "version {} is not the notice in force (version {}): read it again and acknowledge that one",
            version, n.version
        )));
    }
    let now = state.clock.now_ms();
    let entry = crate::audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::MonitoringNoticeAcknowledged,
        AuditTarget::User,
        user.id.as_str(),
        Some(format!("version {}", n.version)),
    );
    let at = state.store.acknowledge_notice(user.id.as_str(), i64::from(n.version), now, entry).await?;
    Ok(MonitoringNotice { version: n.version, text: n.text, acknowledged: true, acknowledged_at: Some(rfc3339(at)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_notices_are_checked() {
        let ok = Notice::parse("version = 2\ntext = \"  A supervisor may read this chat.  \"\n").expect("valid");
        assert_eq!(ok, Notice { version: 2, text: "A supervisor may read this chat.".into() });
        for bad in [
            "version = 0\ntext = \"x\"",
            "version = 1\ntext = \"   \"",
            "text = \"x\"",
            "version = 1\ntext = \"x\"\nextra = 1",
        ] {
            assert!(Notice::parse(bad).is_err(), "{bad}");
        }
        let long = format!("version = 1\ntext = \"{}\"", "a".repeat(MAX_TEXT_CHARS + 1));
        assert!(Notice::parse(&long).is_err());
        assert!(Notice::builtin().text.chars().count() <= MAX_TEXT_CHARS);
    }
}
