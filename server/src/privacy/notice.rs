//! The monitoring notice (docs/privacy.md, "Monitoring is transparent"): a young person is
//! told in plain words, at the start of a support chat, that a supervisor may read it. The
//! notice is versioned; the young person acknowledges the version they read, and a new
//! version is shown again until it too is acknowledged.
//!
//! The text and version come from `monitoring-notice.toml` in the data directory when it
//! exists (read on every use, so a new version takes effect without a restart), else from the
//! built-in notice below.
//!
//! Routes (in `http::notice`): `GET /v1/me/monitoring-notice` and
//! `POST /v1/me/monitoring-notice/acknowledge`.

use talkzone_mobile_api::{ConversationId, MonitoringNotice, Role, ServerFrame, UserId};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget};
use crate::state::AppState;

/// The built-in notice's version. Raise it whenever the built-in text changes in meaning.
pub const BUILTIN_VERSION: u32 = 1;

/// The built-in notice, for readers of about ten and up.
pub const BUILTIN_TEXT: &str = "Before we start: this chat is between you and the Talk Zone team. \
A supervisor (a senior member of our team) may read this chat, to check you are getting good help \
and to keep you safe. If we are worried that you or someone else could be hurt, we may need to tell \
people who can help, and we will try to talk to you about it first. Nobody else can read your chat.";

/// Longest notice text, in characters.
const MAX_TEXT_CHARS: usize = 2_000;

/// The file in the data directory that replaces the built-in notice.
pub fn notice_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("monitoring-notice.toml")
}

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

    /// Checks a configured notice: a version from 1 and a plain-text body of sensible length.
    pub fn parse(src: &str) -> Result<Notice, String> {
        let n: Notice = toml::from_str(src).map_err(|e| e.to_string())?;
        if n.version == 0 {
            return Err("version must be 1 or more".into());
        }
        let len = n.text.trim().chars().count();
        if len == 0 || len > MAX_TEXT_CHARS {
            return Err(format!("text must be 1 to {MAX_TEXT_CHARS} characters"));
        }
        Ok(Notice { version: n.version, text: n.text.trim().to_owned() })
    }
}

/// The notice in force: the data directory's file if there is a valid one, else the built-in
/// notice (a broken file is logged and ignored, so young people are never shown nothing).
pub fn current(state: &AppState) -> Notice {
    let path = notice_path(&state.config.data_dir);
    match std::fs::read_to_string(&path) {
        Ok(src) => Notice::parse(&src).unwrap_or_else(|e| {
            tracing::error!(path = %path.display(), error = %e, "monitoring notice file not valid; using the built-in notice");
            Notice::builtin()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Notice::builtin(),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot read the monitoring notice file; using the built-in notice");
            Notice::builtin()
        }
    }
}

/// The notice in force as `user` sees it: with whether they acknowledged this version.
pub async fn view_for(state: &AppState, user_id: &str) -> ApiResult<MonitoringNotice> {
    let n = current(state);
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
    let n = current(state);
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
