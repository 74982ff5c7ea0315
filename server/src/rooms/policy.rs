//! What a room does with a message (hold, redact, pass), whether a member is muted, and a
//! room's settings as the protocol shows them: used by the send path, below the room use cases.

use talkzone_mobile_api::{PersonalInfoMode, RoomInfo, RoomModeration};
use talkzone_moderation::{Action, Verdict};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::model::Severity;
use crate::state::AppState;
use crate::store::ConversationRecord;

pub fn room_info(c: &ConversationRecord, joined: bool) -> RoomInfo {
    let age_band = c.age_band.clone().unwrap_or_default();
    let moderation =
        if c.moderation_mode == Some(RoomModeration::Pre) { RoomModeration::Pre } else { RoomModeration::Post };
    let personal_info =
        if c.pii_mode == Some(PersonalInfoMode::Redact) { PersonalInfoMode::Redact } else { PersonalInfoMode::Hold };
    let house_rules = house_rules(&age_band, moderation, personal_info);
    RoomInfo { age_band, moderation, personal_info, joined, house_rules }
}

/// A room's rules in plain words, from how it is set up, so that what a young person is told
/// is what the room does.
fn house_rules(age_band: &str, moderation: RoomModeration, personal_info: PersonalInfoMode) -> Vec<String> {
    let mut rules = Vec::new();
    if !age_band.is_empty() {
        rules.push(format!("This group is for young people aged {age_band}."));
    }
    rules.push("Be kind. No bullying, threats, hate or sharing pictures of anyone.".to_owned());
    rules.push(match personal_info {
        PersonalInfoMode::Hold => "Keep yourself safe: never share your address, school, phone number or social media. Messages that do are held for a moderator.".to_owned(),
        PersonalInfoMode::Redact => "Keep yourself safe: never share your address, school, phone number or social media. They are hidden automatically.".to_owned(),
    });
    rules.push(match moderation {
        RoomModeration::Pre => {
            "A moderator checks every message before others see it, so yours may take a little while to appear."
                .to_owned()
        }
        RoomModeration::Post => {
            "Moderators check messages that might break these rules, and can remove them.".to_owned()
        }
    });
    rules.push("Worried about someone here, or about yourself? Press Report on a message, or start a private chat with a worker.".to_owned());
    rules
}

/// What to do with a room message.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// Hold for a moderator, with the reason and severity shown in the queue.
    pub hold: Option<(String, Severity)>,
    /// Deliver with personal information redacted.
    pub redact: bool,
}

/// The one place that decides whether a room message is held, redacted or delivered.
pub fn plan(conv: &ConversationRecord, verdict: &Verdict, action: Action) -> Plan {
    let info = room_info(conv, false);
    let severity = verdict.severity;
    let top_label = verdict.labels.first().map(|c| c.as_str().to_owned());
    if action >= Action::Hold {
        return Plan { hold: Some((top_label.unwrap_or_else(|| "flagged".into()), severity)), redact: false };
    }
    if info.moderation == RoomModeration::Pre {
        return Plan { hold: Some(("pre_moderation".into(), severity)), redact: false };
    }
    if !verdict.pii.is_empty() {
        return match info.personal_info {
            PersonalInfoMode::Hold => Plan { hold: Some(("personal_information".into(), severity)), redact: false },
            PersonalInfoMode::Redact => Plan { hold: None, redact: true },
        };
    }
    Plan { hold: None, redact: false }
}

/// A muted user may not post in rooms until the mute ends. Support chats are never blocked:
/// a young person can always ask a worker for help.
pub async fn check_not_muted(state: &AppState, user: &AuthUser, now: i64) -> ApiResult<()> {
    let record =
        state.store.user(user.id.as_str()).await?.ok_or(ApiError::Unauthorized("this account cannot sign in"))?;
    match record.muted_until {
        Some(until) if until > now => Err(ApiError::ForbiddenBecause(format!(
            "You've been muted in rooms by a moderator until {}. You can still talk to a worker in a support chat.",
            rfc3339(until)
        ))),
        _ => Ok(()),
    }
}
