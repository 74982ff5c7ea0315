//! Feedback surveys on YOT interventions (docs/surveys.md): definitions and frozen versions,
//! the managed list of intervention types, pseudonymous participants, assignments to young
//! people (by account) or parents/carers (by single-assignment access code), validated and
//! idempotent submissions, and reports with small-number suppression ([`reports`]).

pub mod chart;
pub mod csv;
pub mod differencing;
pub mod feedback;
pub mod reports;
pub mod validation;

use subtle::ConstantTimeEq;
use talkzone_mobile_api::{
    AssignmentRespondent, AssignmentStatus, AssignmentView, CreateAssignmentRequest, CreateInterventionTypeRequest,
    CreateParticipantRequest, CreatedAssignment, ExportedAnswer, ExportedSurvey, InterventionTypeView,
    ParticipantDeleted, ParticipantView, PendingSurvey, QuestionKind, Role, StaffAssignmentView, SubmitSurveyRequest,
    SurveyAnswer, SurveyAudience, SurveyDefinition, SurveyResponseView, SurveyStage, SurveyVersionView, SurveyView,
};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget};
use crate::state::AppState;
use crate::store::surveys::{
    AssignmentRecord, ParticipantRecord, ResponseRecord, ResponseSave, SaveOutcome, SurveyRecord, SurveyVersionRecord,
};
use crate::store::AuditEvent;

/// Who may manage surveys and read reports.
pub const ADMIN: &[Role] = &[Role::YotAdmin];

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Parent/carer access codes: 12 characters of Crockford base32 (60 random bits), shown as
/// `XXXX-XXXX-XXXX`. The first 4 are a lookup selector; the whole code is stored hashed.
const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 12;
const SELECTOR_LEN: usize = 4;

/// The audit entry (`GET /v1/admin/audit`) of a survey action, for the store to write in the
/// action's own transaction. `user` is `None` for what the service does by itself (offering
/// chat feedback).
pub(crate) fn audit_event(
    state: &AppState,
    user: Option<&AuthUser>,
    action: AuditAction,
    target_type: AuditTarget,
    target_id: &str,
    details: Option<String>,
) -> AuditEvent {
    crate::audit::event(state.clock.now_ms(), user.map(|u| u.id.as_str()), action, target_type, target_id, details)
}

/// Appends a survey read (a report, an export, a list) to the audit log: there is no
/// transaction to share, so it is written on its own.
pub(crate) async fn audit(
    state: &AppState,
    user: Option<&AuthUser>,
    action: AuditAction,
    target_type: AuditTarget,
    target_id: &str,
    details: Option<String>,
) {
    crate::audit::record(
        state.store.as_ref(),
        state.clock.now_ms(),
        user.map(|u| u.id.as_str()),
        action,
        target_type,
        target_id,
        details,
    )
    .await;
}

pub(crate) fn parse_definition(json: &str) -> ApiResult<SurveyDefinition> {
    serde_json::from_str(json).map_err(|e| ApiError::Internal(format!("stored survey definition: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(|e| ApiError::Internal(e.to_string()))
}

fn version_view(v: &SurveyVersionRecord) -> ApiResult<SurveyVersionView> {
    Ok(SurveyVersionView {
        survey_id: v.survey_id.clone(),
        version: v.version,
        published_at: rfc3339(v.published_at),
        definition: parse_definition(&v.definition)?,
    })
}

async fn survey_view(state: &AppState, s: &SurveyRecord) -> ApiResult<SurveyView> {
    let latest = state.store.latest_version(&s.id).await?;
    Ok(SurveyView {
        id: s.id.clone(),
        draft: parse_definition(&s.draft)?,
        latest_version: latest.as_ref().map(|l| l.version),
        unpublished_changes: latest.as_ref().is_none_or(|l| l.definition != s.draft),
        created_at: rfc3339(s.created_at),
        updated_at: rfc3339(s.updated_at),
    })
}

// Intervention types

pub async fn intervention_types(state: &AppState) -> ApiResult<Vec<InterventionTypeView>> {
    Ok(state
        .store
        .intervention_types()
        .await?
        .into_iter()
        .map(|t| InterventionTypeView { id: t.id, name: t.name, retired: t.retired != 0 })
        .collect())
}

pub async fn create_intervention_type(
    state: &AppState,
    user: &AuthUser,
    req: CreateInterventionTypeRequest,
) -> ApiResult<InterventionTypeView> {
    user.require(ADMIN)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::Validation("name must be 1 to 100 characters".into()));
    }
    let id: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let id = if id.is_empty() { crate::ids::random_id().to_lowercase() } else { id };
    let audit = audit_event(
        state,
        Some(user),
        AuditAction::InterventionTypeCreated,
        AuditTarget::InterventionType,
        &id,
        Some(name.to_owned()),
    );
    state.store.create_intervention_type(&id, name, state.clock.now_ms(), audit).await?;
    Ok(InterventionTypeView { id, name: name.to_owned(), retired: false })
}

pub async fn retire_intervention_type(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<()> {
    user.require(ADMIN)?;
    let audit =
        audit_event(state, Some(user), AuditAction::InterventionTypeRetired, AuditTarget::InterventionType, id, None);
    if state.store.retire_intervention_type(id, audit).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

// Surveys and versions

pub async fn create_survey(state: &AppState, user: &AuthUser, def: SurveyDefinition) -> ApiResult<SurveyView> {
    user.require(ADMIN)?;
    validation::check_definition(&def)?;
    let now = state.clock.now_ms();
    let record = SurveyRecord {
        id: crate::ids::random_id(),
        draft: to_json(&def)?,
        created_by: user.id.0.clone(),
        created_at: now,
        updated_at: now,
    };
    let audit = audit_event(
        state,
        Some(user),
        AuditAction::SurveyCreated,
        AuditTarget::Survey,
        &record.id,
        Some(def.title.clone()),
    );
    state.store.create_survey(&record, audit).await?;
    survey_view(state, &record).await
}

/// Replaces the draft. Published versions never change: publishing again makes a new one.
pub async fn update_survey(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    def: SurveyDefinition,
) -> ApiResult<SurveyView> {
    user.require(ADMIN)?;
    validation::check_definition(&def)?;
    let audit = audit_event(
        state,
        Some(user),
        AuditAction::SurveyDraftUpdated,
        AuditTarget::Survey,
        id,
        Some(def.title.clone()),
    );
    if !state.store.update_survey_draft(id, &to_json(&def)?, state.clock.now_ms(), audit).await? {
        return Err(ApiError::NotFound);
    }
    get_survey(state, user, id).await
}

pub async fn get_survey(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<SurveyView> {
    user.require(ADMIN)?;
    let s = state.store.survey(id).await?.ok_or(ApiError::NotFound)?;
    survey_view(state, &s).await
}

pub async fn list_surveys(state: &AppState, user: &AuthUser) -> ApiResult<Vec<SurveyView>> {
    user.require(ADMIN)?;
    let mut out = Vec::new();
    for s in state.store.surveys().await? {
        out.push(survey_view(state, &s).await?);
    }
    Ok(out)
}

pub async fn publish(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<SurveyVersionView> {
    user.require(ADMIN)?;
    // Version 1 is the first publication; a later number is a new version of a published
    // survey; the same number again means the draft was unchanged and nothing was made.
    let audit = |before: Option<i64>, v: &SurveyVersionRecord| {
        let action = match before {
            None => AuditAction::SurveyPublished,
            Some(b) if b < v.version => AuditAction::SurveyNewVersion,
            Some(_) => AuditAction::SurveyPublishUnchanged,
        };
        audit_event(state, Some(user), action, AuditTarget::Survey, id, Some(format!("version {}", v.version)))
    };
    let v =
        state.store.publish_survey(id, &user.id.0, state.clock.now_ms(), &audit).await?.ok_or(ApiError::NotFound)?;
    version_view(&v)
}

pub async fn get_version(state: &AppState, user: &AuthUser, id: &str, version: i64) -> ApiResult<SurveyVersionView> {
    user.require(ADMIN)?;
    let v = state.store.survey_version_number(id, version).await?.ok_or(ApiError::NotFound)?;
    version_view(&v)
}

// Participants

const AGE_BANDS: &[&str] = &["10-12", "13-15", "16-17", "18+", "prefer_not_to_say"];
const GENDERS: &[&str] = &["female", "male", "non_binary", "other", "prefer_not_to_say"];

fn participant_view(p: ParticipantRecord) -> ParticipantView {
    fn parse<T: serde::de::DeserializeOwned>(s: &Option<String>) -> Option<T> {
        s.as_ref().and_then(|v| serde_json::from_value(serde_json::Value::String(v.clone())).ok())
    }
    ParticipantView {
        ethnicity: parse(&p.ethnicity),
        looked_after: parse(&p.looked_after),
        id: p.id,
        reference: p.reference,
        intervention_type: p.intervention_type_id,
        start_date: p.start_date,
        end_date: p.end_date,
        age_band: p.age_band,
        gender: p.gender,
        created_at: rfc3339(p.created_at),
    }
}

pub async fn create_participant(
    state: &AppState,
    user: &AuthUser,
    req: CreateParticipantRequest,
) -> ApiResult<ParticipantView> {
    user.require(ADMIN)?;
    let reference = req.reference.trim();
    let ref_ok = !reference.is_empty()
        && reference.len() <= 40
        && reference.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'))
        // A pseudonymous reference has at least one digit: a bare word may well be a name.
        && reference.chars().any(|c| c.is_ascii_digit());
    if !ref_ok {
        return Err(ApiError::Validation(
            "reference must be a pseudonymous case reference (1 to 40 letters, digits, '-', '_' or '/', with at least \
             one digit), never a name"
                .into(),
        ));
    }
    let types = state.store.intervention_types().await?;
    match types.iter().find(|t| t.id == req.intervention_type) {
        Some(t) if t.retired == 0 => {}
        Some(_) => {
            return Err(ApiError::Validation(format!("intervention type {:?} is retired", req.intervention_type)))
        }
        None => return Err(ApiError::Validation(format!("unknown intervention type {:?}", req.intervention_type))),
    }
    validation::check_date("start_date", &req.start_date)?;
    if let Some(e) = &req.end_date {
        validation::check_date("end_date", e)?;
        if e < &req.start_date {
            return Err(ApiError::Validation("end_date is before start_date".into()));
        }
    }
    if let Some(a) = &req.age_band {
        if !AGE_BANDS.contains(&a.as_str()) {
            return Err(ApiError::Validation(format!("age_band must be one of {AGE_BANDS:?}")));
        }
    }
    if let Some(g) = &req.gender {
        if !GENDERS.contains(&g.as_str()) {
            return Err(ApiError::Validation(format!("gender must be one of {GENDERS:?}")));
        }
    }
    let record = ParticipantRecord {
        id: crate::ids::random_id(),
        reference: reference.to_owned(),
        intervention_type_id: req.intervention_type,
        start_date: req.start_date,
        end_date: req.end_date,
        age_band: req.age_band,
        gender: req.gender,
        ethnicity: req.ethnicity.map(|e| e.as_str().to_owned()),
        looked_after: req.looked_after.map(|l| l.as_str().to_owned()),
        created_by: user.id.0.clone(),
        created_at: state.clock.now_ms(),
    };
    let audit = audit_event(
        state,
        Some(user),
        AuditAction::SurveyParticipantCreated,
        AuditTarget::SurveyParticipant,
        &record.id,
        None,
    );
    state.store.create_participant(&record, audit).await?;
    Ok(participant_view(record))
}

/// Deletes a participant (a record made in error, or on request) with their assignments and
/// answers; their numbers drop out of reports, and the differencing check keeps a later
/// report from revealing them by difference with an earlier one.
pub async fn delete_participant(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<ParticipantDeleted> {
    user.require(ADMIN)?;
    let audit = crate::audit::event(
        state.clock.now_ms(),
        Some(user.id.as_str()),
        AuditAction::SurveyParticipantDeleted,
        AuditTarget::SurveyParticipant,
        id,
        None,
    );
    match state.store.delete_participant(id, audit).await? {
        Some(assignments_deleted) => Ok(ParticipantDeleted { id: id.to_owned(), assignments_deleted }),
        None => Err(ApiError::NotFound),
    }
}

pub async fn list_participants(state: &AppState, user: &AuthUser) -> ApiResult<Vec<ParticipantView>> {
    user.require(ADMIN)?;
    Ok(state.store.participants().await?.into_iter().map(participant_view).collect())
}

// Assignments

fn status(s: &str) -> AssignmentStatus {
    match s {
        "completed" => AssignmentStatus::Completed,
        "in_progress" => AssignmentStatus::InProgress,
        _ => AssignmentStatus::Pending,
    }
}

fn stage(s: &str) -> ApiResult<SurveyStage> {
    SurveyStage::parse(s).ok_or_else(|| ApiError::Internal(format!("stored stage {s}")))
}

fn assignment_view(a: &AssignmentRecord, version: i64) -> ApiResult<AssignmentView> {
    let respondent = match &a.respondent_user_id {
        Some(u) => AssignmentRespondent::YoungPerson { user_id: u.as_str().into() },
        None => AssignmentRespondent::ParentCarer,
    };
    Ok(AssignmentView {
        id: a.id.clone(),
        survey_id: a.survey_id.clone(),
        version,
        participant_id: a.participant_id.clone().unwrap_or_default(),
        stage: stage(&a.stage)?,
        due_date: a.due_date.clone(),
        status: status(&a.status),
        respondent,
        access_code_expires_at: a.code_expires_at.map(rfc3339),
    })
}

fn new_access_code() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..CODE_LEN).map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char).collect()
}

/// What a person typed, in canonical form: upper case, without spaces or dashes, with the
/// letters Crockford base32 reads as digits (O → 0, I and L → 1).
fn normalise_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

fn display_code(code: &str) -> String {
    code.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
}

pub async fn create_assignment(
    state: &AppState,
    user: &AuthUser,
    req: CreateAssignmentRequest,
) -> ApiResult<CreatedAssignment> {
    user.require(ADMIN)?;
    let survey =
        state.store.survey(&req.survey_id).await?.ok_or_else(|| ApiError::Validation("unknown survey_id".into()))?;
    let version = state
        .store
        .latest_version(&survey.id)
        .await?
        .ok_or_else(|| ApiError::Validation("publish the survey before sending it".into()))?;
    let def = parse_definition(&version.definition)?;
    state
        .store
        .participant(&req.participant_id)
        .await?
        .ok_or_else(|| ApiError::Validation("unknown participant_id".into()))?;
    validation::check_date("due_date", &req.due_date)?;
    let now = state.clock.now_ms();
    let mut record = AssignmentRecord {
        id: crate::ids::random_id(),
        survey_id: survey.id.clone(),
        survey_version_id: version.id.clone(),
        participant_id: Some(req.participant_id.clone()),
        respondent_kind: String::new(),
        respondent_user_id: None,
        code_selector: None,
        code_hash: None,
        code_expires_at: None,
        stage: req.stage.as_str().to_owned(),
        due_date: req.due_date.clone(),
        status: "pending".into(),
        created_by: user.id.0.clone(),
        created_at: now,
        completed_at: None,
        conversation_id: None,
    };
    let mut code = None;
    match (&req.respondent, def.audience) {
        (AssignmentRespondent::YoungPerson { user_id }, SurveyAudience::YoungPerson) => {
            if req.access_code_valid_days.is_some() {
                return Err(ApiError::Validation("access_code_valid_days is only for parent/carer assignments".into()));
            }
            let target = state.store.user(user_id.as_str()).await?;
            if target.is_none_or(|u| u.role != Role::YoungPerson) {
                return Err(ApiError::Validation("respondent.user_id is not a young person's account".into()));
            }
            record.respondent_kind = "young_person".into();
            record.respondent_user_id = Some(user_id.0.clone());
        }
        (AssignmentRespondent::ParentCarer, SurveyAudience::ParentCarer) => {
            let days = i64::from(req.access_code_valid_days.unwrap_or(28));
            if !(1..=90).contains(&days) {
                return Err(ApiError::Validation("access_code_valid_days must be 1 to 90".into()));
            }
            let c = new_access_code();
            record.respondent_kind = "parent_carer".into();
            record.code_selector = Some(c[..SELECTOR_LEN].to_owned());
            record.code_hash = Some(crate::auth::hash_secret(&c));
            record.code_expires_at = Some(now + days * DAY_MS);
            code = Some(display_code(&c));
        }
        (_, audience) => {
            return Err(ApiError::Validation(format!(
                "this survey is written for {}; send it to that respondent",
                match audience {
                    SurveyAudience::YoungPerson => "young people (respondent kind young_person)",
                    SurveyAudience::ParentCarer => "parents and carers (respondent kind parent_carer)",
                }
            )))
        }
    }
    let mut audits = vec![audit_event(
        state,
        Some(user),
        AuditAction::SurveyAssigned,
        AuditTarget::SurveyAssignment,
        &record.id,
        Some(format!(
            "survey {} version {}, stage {}, to a {}",
            survey.id, version.version, record.stage, record.respondent_kind
        )),
    )];
    if let Some(expires) = record.code_expires_at {
        // Never the code itself: only that one was issued, and until when.
        audits.push(audit_event(
            state,
            Some(user),
            AuditAction::SurveyAccessCodeIssued,
            AuditTarget::SurveyAssignment,
            &record.id,
            Some(format!("expires {}", rfc3339(expires))),
        ));
    }
    state.store.create_assignment(&record, &audits).await?;
    if let Some(uid) = &record.respondent_user_id {
        // Live notice to the young person's open connections (the list is the source of truth).
        let frame = talkzone_mobile_api::ServerFrame::Survey(pending_view(state, &record).await?);
        state.hub.publish(crate::realtime::Event::ToUser { user_id: uid.as_str().into(), frame });
        // And to their devices, content-free (off this path: it only queues).
        state.push.notify(uid.as_str(), None, crate::push::Reason::Survey);
    }
    Ok(CreatedAssignment { assignment: assignment_view(&record, version.version)?, access_code: code })
}

/// The one assignment an access code opens. Unknown and expired codes are refused without
/// saying which assignment they might have been; the caller's IP is throttled first.
pub async fn assignment_for_code(state: &AppState, code: &str) -> ApiResult<AssignmentRecord> {
    let code = normalise_code(code);
    if code.len() != CODE_LEN || !code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return Err(ApiError::Unauthorized("that access code is not recognised"));
    }
    let hash = crate::auth::hash_secret(&code);
    let candidates = state.store.assignments_by_selector(&code[..SELECTOR_LEN]).await?;
    let mut found = None;
    for a in candidates {
        let stored = a.code_hash.as_deref().unwrap_or("");
        if bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) {
            found = Some(a);
        }
    }
    let a = found.ok_or(ApiError::Unauthorized("that access code is not recognised"))?;
    if a.code_expires_at.is_none_or(|e| e <= state.clock.now_ms()) {
        return Err(ApiError::Forbidden("that access code has expired; ask the YOT worker for a new one"));
    }
    Ok(a)
}

// The staff list

/// Free-text answers with personal information redacted, as reports show them.
fn redacted(state: &AppState, def: Option<&SurveyDefinition>, answers: Vec<SurveyAnswer>) -> Vec<SurveyAnswer> {
    answers
        .into_iter()
        .map(|mut a| {
            let free = def
                .is_none_or(|d| d.questions.iter().any(|q| q.id == a.question_id && q.kind == QuestionKind::FreeText));
            if let (true, Some(t)) = (free, a.value.as_str()) {
                a.value = serde_json::Value::String(
                    state.moderation.check(t, talkzone_moderation::Context::Support).redacted,
                );
            }
            a
        })
        .collect()
}

/// `GET /v1/surveys/{id}/assignments`: one survey's assignments with their status and, with
/// `answers`, what was answered (free text redacted). Case-work data for the YOT admin only;
/// it carries no equality fields, and chat feedback carries no account or conversation.
pub async fn staff_list(
    state: &AppState,
    user: &AuthUser,
    survey_id: &str,
    status_filter: Option<&str>,
    with_answers: bool,
) -> ApiResult<Vec<StaffAssignmentView>> {
    user.require(ADMIN)?;
    if let Some(s) = status_filter {
        if !matches!(s, "pending" | "in_progress" | "completed") {
            return Err(ApiError::Validation("status must be pending, in_progress or completed".into()));
        }
    }
    state.store.survey(survey_id).await?.ok_or(ApiError::NotFound)?;
    let versions: std::collections::HashMap<String, SurveyDefinition> = state
        .store
        .survey_versions(survey_id)
        .await?
        .iter()
        .map(|v| Ok((v.id.clone(), parse_definition(&v.definition)?)))
        .collect::<ApiResult<_>>()?;
    let rows = state.store.staff_assignments(survey_id, status_filter, 5_000).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let answers = match (with_answers, &r.answers) {
            (true, Some(json)) => Some(redacted(state, versions.get(&r.survey_version_id), parse_answers(json)?)),
            (true, None) => Some(vec![]),
            (false, _) => None,
        };
        out.push(StaffAssignmentView {
            id: r.id,
            version: r.version,
            participant_reference: r.participant_reference,
            respondent_kind: r.respondent_kind,
            stage: stage(&r.stage)?,
            due_date: r.due_date,
            status: status(&r.status),
            chat_feedback: r.chat_feedback != 0,
            created_at: rfc3339(r.created_at),
            completed_at: r.completed_at.map(rfc3339),
            answers,
            submitted_at: r.submitted_at.map(rfc3339),
        });
    }
    audit(
        state,
        Some(user),
        AuditAction::SurveyAssignmentsListed,
        AuditTarget::Survey,
        survey_id,
        Some(if with_answers { "with answers".to_owned() } else { "status only".to_owned() }),
    )
    .await;
    Ok(out)
}

// A young person's own survey data

/// Everything a young person answered or was sent (their data export): their own words,
/// unredacted, with the survey title, version and questions they answered.
pub async fn export_for(state: &AppState, user_id: &str) -> ApiResult<Vec<ExportedSurvey>> {
    let mut out = Vec::new();
    for a in state.store.assignments_of_user(user_id).await? {
        let v = state.store.survey_version(&a.survey_version_id).await?.ok_or(ApiError::NotFound)?;
        let def = parse_definition(&v.definition)?;
        let response = state.store.response_for_assignment(&a.id).await?;
        let answers = match &response {
            Some(r) => parse_answers(&r.answers)?
                .into_iter()
                .map(|ans| {
                    let question = def.questions.iter().find(|q| q.id == ans.question_id);
                    ExportedAnswer {
                        question: question.map(|q| q.child_text.clone().unwrap_or_else(|| q.text.clone())),
                        question_id: ans.question_id,
                        answer: ans.value,
                    }
                })
                .collect(),
            None => vec![],
        };
        out.push(ExportedSurvey {
            assignment_id: a.id,
            survey: def.title,
            version: v.version,
            stage: a.stage,
            status: a.status,
            sent_at: rfc3339(a.created_at),
            about_conversation: a.conversation_id,
            answers,
            submitted_at: response.and_then(|r| r.submitted_at).map(rfc3339),
        });
    }
    Ok(out)
}

// Answering

fn parse_answers(json: &str) -> ApiResult<Vec<SurveyAnswer>> {
    serde_json::from_str(json).map_err(|e| ApiError::Internal(format!("stored answers: {e}")))
}

pub(crate) async fn pending_view(state: &AppState, a: &AssignmentRecord) -> ApiResult<PendingSurvey> {
    let v = state.store.survey_version(&a.survey_version_id).await?.ok_or(ApiError::NotFound)?;
    let saved = match state.store.response_for_assignment(&a.id).await? {
        Some(r) => parse_answers(&r.answers)?,
        None => vec![],
    };
    Ok(PendingSurvey {
        assignment_id: a.id.clone(),
        stage: stage(&a.stage)?,
        due_date: a.due_date.clone(),
        status: status(&a.status),
        survey: version_view(&v)?,
        saved_answers: saved,
        conversation_id: a.conversation_id.clone().map(talkzone_mobile_api::ConversationId),
    })
}

/// `GET /v1/me/surveys`: the caller's surveys not yet completed.
pub async fn my_pending(state: &AppState, user: &AuthUser) -> ApiResult<Vec<PendingSurvey>> {
    user.require(&[Role::YoungPerson])?;
    let mut out = Vec::new();
    for a in state.store.open_assignments_for_user(&user.id.0).await? {
        out.push(pending_view(state, &a).await?);
    }
    Ok(out)
}

/// `GET /v1/survey-access`. Once the answers are sent, the code shows that they were and no
/// longer shows them: whoever picks up the code (a letter, a shared phone) until it expires
/// would otherwise read a parent's answers about their child.
pub async fn view_for_code(state: &AppState, code: &str) -> ApiResult<PendingSurvey> {
    let a = assignment_for_code(state, code).await?;
    let mut view = pending_view(state, &a).await?;
    if view.status == AssignmentStatus::Completed {
        view.saved_answers.clear();
    }
    Ok(view)
}

/// The caller's own assignment (anything else is "not found").
pub async fn my_assignment(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<AssignmentRecord> {
    user.require(&[Role::YoungPerson])?;
    match state.store.assignment(id).await? {
        Some(a) if a.respondent_user_id.as_deref() == Some(user.id.0.as_str()) => Ok(a),
        _ => Err(ApiError::NotFound),
    }
}

fn response_view(r: &ResponseRecord, version: i64) -> ApiResult<SurveyResponseView> {
    Ok(SurveyResponseView {
        response_id: r.id.clone(),
        assignment_id: r.assignment_id.clone(),
        version,
        is_final: r.is_final != 0,
        submission_id: r.submission_id.clone(),
        answers: parse_answers(&r.answers)?,
        submitted_at: r.submitted_at.map(rfc3339),
    })
}

fn already_final(r: &ResponseRecord, req: &SubmitSurveyRequest, version: i64) -> ApiResult<SurveyResponseView> {
    if r.submission_id.as_deref() == Some(req.submission_id.as_str()) {
        response_view(r, version)
    } else {
        Err(ApiError::Conflict("this survey has already been submitted".into()))
    }
}

/// Saves answers to an assignment: validated against its version; part-way (`final: false`)
/// or final; a retried final submission with the same `submission_id` returns the stored
/// response, never a second one.
pub async fn submit(state: &AppState, a: &AssignmentRecord, req: SubmitSurveyRequest) -> ApiResult<SurveyResponseView> {
    let sid_len = req.submission_id.chars().count();
    if sid_len == 0 || sid_len > 64 {
        return Err(ApiError::Validation("submission_id must be 1 to 64 characters".into()));
    }
    let version = state.store.survey_version(&a.survey_version_id).await?.ok_or(ApiError::NotFound)?;
    let def = parse_definition(&version.definition)?;
    validation::check_answers(&def, &req.answers)?;
    for _ in 0..5 {
        let existing = state.store.response_for_assignment(&a.id).await?;
        if let Some(r) = existing.as_ref().filter(|r| r.is_final != 0) {
            return already_final(r, &req, version.version);
        }
        let earlier = match &existing {
            Some(r) => parse_answers(&r.answers)?,
            None => vec![],
        };
        let merged = validation::merge(&def, earlier, &req.answers);
        if req.is_final {
            validation::check_complete(&def, &merged)?;
        }
        let save = ResponseSave {
            new_id: crate::ids::random_id(),
            assignment_id: a.id.clone(),
            survey_version_id: version.id.clone(),
            submission_id: req.submission_id.clone(),
            answers: to_json(&merged)?,
            is_final: req.is_final,
            expected_revision: existing.as_ref().map(|r| r.revision),
            now: state.clock.now_ms(),
        };
        match state.store.save_response(&save).await? {
            SaveOutcome::Saved(r) => return response_view(&r, version.version),
            SaveOutcome::AlreadyFinal(r) => return already_final(&r, &req, version.version),
            SaveOutcome::Raced => continue,
        }
    }
    Err(ApiError::Unavailable("the survey is being saved elsewhere; try again".into()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_normalise_and_display() {
        let c = super::new_access_code();
        assert_eq!(c.len(), super::CODE_LEN);
        let shown = super::display_code(&c);
        assert_eq!(super::normalise_code(&shown.to_lowercase()), c);
        assert_eq!(super::normalise_code("abcd-efgh-ijkl o"), "ABCDEFGH1JK10");
    }
}
