//! Feedback after a support chat (docs/surveys.md, "Feedback after a chat"): when a support chat
//! closes, its young person is offered the survey the YOT admin chose
//! (`PUT /v1/surveys/chat-feedback`), as an ordinary pending assignment tied to the
//! conversation, with no participant record, so an anonymous young person stays anonymous.
//! Nothing is offered until a survey is chosen: the wording put to children is the YOT's
//! decision, not a default of the software.

use talkzone_mobile_api::{ChatFeedbackSetting, Role, SurveyAudience, SurveyStage};

use super::{audit_event, parse_definition, pending_view, ADMIN};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget, ConversationKind};
use crate::state::AppState;
use crate::store::surveys::{AssignmentRecord, SurveyVersionRecord};
use crate::store::ConversationRecord;

/// The `survey_settings` key naming the chat feedback survey.
pub const SETTING: &str = "chat_feedback_survey";
/// A chat feedback survey is short: a young person who has just finished a chat is asked a
/// handful of questions at most.
pub const MAX_QUESTIONS: usize = 5;
/// The due date shown with the offer: a week after the chat closed.
const DUE_DAYS: i64 = 7;

/// Why `version` cannot be offered after a chat, if it cannot.
fn unsuitable(version: &SurveyVersionRecord) -> ApiResult<Option<String>> {
    let def = parse_definition(&version.definition)?;
    Ok(if def.audience != SurveyAudience::YoungPerson {
        Some("a chat feedback survey must be written for young people (audience young_person)".into())
    } else if def.questions.len() > MAX_QUESTIONS {
        Some(format!("a chat feedback survey has at most {MAX_QUESTIONS} questions (keep it short)"))
    } else {
        None
    })
}

/// `GET /v1/surveys/chat-feedback`.
pub async fn setting(state: &AppState, user: &AuthUser) -> ApiResult<ChatFeedbackSetting> {
    user.require(ADMIN)?;
    Ok(ChatFeedbackSetting { survey_id: state.store.setting(SETTING).await? })
}

/// `PUT /v1/surveys/chat-feedback`: choose (or, with `null`, stop) the survey offered after
/// a support chat closes. It must be published, for young people, and short.
pub async fn set(state: &AppState, user: &AuthUser, req: ChatFeedbackSetting) -> ApiResult<ChatFeedbackSetting> {
    user.require(ADMIN)?;
    if let Some(id) = &req.survey_id {
        state.store.survey(id).await?.ok_or_else(|| ApiError::Validation("unknown survey_id".into()))?;
        let version = state
            .store
            .latest_version(id)
            .await?
            .ok_or_else(|| ApiError::Validation("publish the survey before offering it after chats".into()))?;
        if let Some(why) = unsuitable(&version)? {
            return Err(ApiError::Validation(why));
        }
    }
    let now = state.clock.now_ms();
    let details = match &req.survey_id {
        Some(id) => format!("chat feedback survey set to {id}"),
        None => "chat feedback switched off".to_owned(),
    };
    let audit = audit_event(
        state,
        Some(user),
        AuditAction::ChatFeedbackSurveySet,
        AuditTarget::SurveySetting,
        SETTING,
        Some(details),
    );
    state.store.set_setting(SETTING, req.survey_id.as_deref(), &user.id.0, now, audit).await?;
    Ok(req)
}

fn due_date(closed_at_ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(closed_at_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let d = (at + time::Duration::days(DUE_DAYS)).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Called once a support chat has closed. Never fails the close: anything that goes wrong is
/// logged and the chat stays closed without an offer.
pub async fn offer_after_close(state: &AppState, conv: &ConversationRecord) {
    match offer(state, conv).await {
        Ok(Some(id)) => tracing::debug!(conversation = %conv.id, assignment = %id, "chat feedback offered"),
        Ok(None) => {}
        Err(e) => tracing::warn!(conversation = %conv.id, error = %e, "chat feedback could not be offered"),
    }
}

async fn offer(state: &AppState, conv: &ConversationRecord) -> ApiResult<Option<String>> {
    if conv.kind != ConversationKind::Support {
        return Ok(None);
    }
    let Some(survey_id) = state.store.setting(SETTING).await? else {
        return Ok(None);
    };
    let Some(owner) = conv.owner_id.as_deref() else {
        return Ok(None);
    };
    // Only young people are offered it (a chat opened by anyone else gets nothing).
    if state.store.user(owner).await?.is_none_or(|u| u.role != Role::YoungPerson) {
        return Ok(None);
    }
    let Some(version) = state.store.latest_version(&survey_id).await? else {
        tracing::warn!(survey = %survey_id, "the chat feedback survey has no published version (was it deleted?)");
        return Ok(None);
    };
    // A later version may have changed audience or grown: then it is not offered.
    if let Some(why) = unsuitable(&version)? {
        tracing::warn!(survey = %survey_id, "chat feedback not offered: {why}");
        return Ok(None);
    }
    let now = state.clock.now_ms();
    let record = AssignmentRecord {
        id: crate::ids::random_id(),
        survey_id: survey_id.clone(),
        survey_version_id: version.id.clone(),
        participant_id: None,
        respondent_kind: "young_person".into(),
        respondent_user_id: Some(owner.to_owned()),
        code_selector: None,
        code_hash: None,
        code_expires_at: None,
        stage: SurveyStage::End.as_str().to_owned(),
        due_date: due_date(conv.closed_at.unwrap_or(now)),
        status: "pending".into(),
        // Made by the service, not by a member of staff.
        created_by: "system".into(),
        created_at: now,
        completed_at: None,
        conversation_id: Some(conv.id.clone()),
    };
    // Recorded against the survey, not the assignment: the audit log should not become a way
    // to tie one young person's feedback to the chat (and the worker) it is about.
    let audit = audit_event(state, None, AuditAction::ChatFeedbackOffered, AuditTarget::Survey, &survey_id, None);
    state.store.create_assignment(&record, &[audit]).await?;
    let frame = talkzone_mobile_api::ServerFrame::Survey(pending_view(state, &record).await?);
    state.hub.publish(crate::realtime::Event::ToUser { user_id: owner.into(), frame });
    Ok(Some(record.id))
}

#[cfg(test)]
mod tests {
    #[test]
    fn due_a_week_after_closing() {
        // 2025-01-28T23:30:00Z
        assert_eq!(super::due_date(1_738_107_000_000), "2025-02-04");
    }
}
