//! Storage for feedback surveys (docs/surveys.md): the SQL lives here, written once as
//! [`impl_surveys_sql!`] and instantiated for `SqliteStore` and `PostgresStore` (same
//! statements for both, like the other parts of the store: `sql.rs`). Tables:
//! `server/migrations/*/0003_surveys.sql`.

use async_trait::async_trait;

use super::{AuditEvent, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InterventionTypeRecord {
    pub id: String,
    pub name: String,
    pub retired: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SurveyRecord {
    pub id: String,
    /// JSON `SurveyDefinition`.
    pub draft: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SurveyVersionRecord {
    pub id: String,
    pub survey_id: String,
    pub version: i64,
    /// JSON `SurveyDefinition`, frozen.
    pub definition: String,
    pub published_by: String,
    pub published_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ParticipantRecord {
    pub id: String,
    pub reference: String,
    pub intervention_type_id: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub looked_after: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssignmentRecord {
    pub id: String,
    pub survey_id: String,
    pub survey_version_id: String,
    /// `None` for chat feedback (no participant record: the young person may be anonymous).
    pub participant_id: Option<String>,
    /// `young_person` or `parent_carer`.
    pub respondent_kind: String,
    pub respondent_user_id: Option<String>,
    pub code_selector: Option<String>,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<i64>,
    pub stage: String,
    pub due_date: String,
    /// `pending`, `in_progress` or `completed`.
    pub status: String,
    pub created_by: String,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    /// Set for the feedback survey offered after this support chat closed.
    pub conversation_id: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResponseRecord {
    pub id: String,
    pub assignment_id: String,
    pub survey_version_id: String,
    pub submission_id: Option<String>,
    /// JSON array of `SurveyAnswer`.
    pub answers: String,
    pub is_final: i64,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
}

/// One assignment with its participant and (final) answers: the raw material of reports.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub assignment_id: String,
    pub survey_version_id: String,
    /// `None` for chat feedback, which has no participant (and so no intervention type or
    /// equality fields: any such filter leaves it out).
    pub participant_id: Option<String>,
    pub respondent_kind: String,
    pub stage: String,
    pub due_date: String,
    pub intervention_type_id: Option<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub looked_after: Option<String>,
    /// Answers of the final response; `None` when not completed.
    pub answers: Option<String>,
    pub submitted_at: Option<i64>,
}

/// One assignment as the staff list shows it: with the participant's pseudonymous reference
/// and the response (if any).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffAssignmentRow {
    pub id: String,
    pub survey_version_id: String,
    pub version: i64,
    pub participant_reference: Option<String>,
    pub respondent_kind: String,
    pub stage: String,
    pub due_date: String,
    pub status: String,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub chat_feedback: i64,
    pub answers: Option<String>,
    pub submitted_at: Option<i64>,
}

/// A save of a response: inserted if none exists, else updated when still at `expected_revision`
/// and not final.
#[derive(Debug, Clone)]
pub struct ResponseSave {
    pub new_id: String,
    pub assignment_id: String,
    pub survey_version_id: String,
    pub submission_id: String,
    pub answers: String,
    pub is_final: bool,
    /// `None` when no response existed when the caller read it.
    pub expected_revision: Option<i64>,
    pub now: i64,
}

#[derive(Debug, Clone)]
pub enum SaveOutcome {
    Saved(ResponseRecord),
    /// Already final: nothing changed; here is what is stored.
    AlreadyFinal(ResponseRecord),
    /// Someone else saved in between: read again and retry.
    Raced,
}

/// Feedback surveys: intervention types, surveys and their versions, participants,
/// assignments, responses, settings and report releases.
#[async_trait]
pub trait Surveys: Send + Sync + 'static {
    async fn intervention_types(&self) -> Result<Vec<InterventionTypeRecord>>;
    // Each change below writes its audit entry in its own transaction, and only if it happened.
    async fn create_intervention_type(&self, id: &str, name: &str, now: i64, audit: AuditEvent) -> Result<()>;
    async fn retire_intervention_type(&self, id: &str, audit: AuditEvent) -> Result<bool>;

    async fn create_survey(&self, r: &SurveyRecord, audit: AuditEvent) -> Result<()>;
    async fn update_survey_draft(&self, id: &str, draft: &str, now: i64, audit: AuditEvent) -> Result<bool>;
    async fn survey(&self, id: &str) -> Result<Option<SurveyRecord>>;
    async fn surveys(&self) -> Result<Vec<SurveyRecord>>;
    /// Freezes the current draft as the next version, unless it equals the latest version
    /// (then that one is returned). One transaction, with the audit entry `audit` makes from
    /// the version before (if any) and the version returned.
    async fn publish_survey(
        &self,
        survey_id: &str,
        by: &str,
        now: i64,
        audit: &(dyn for<'v> Fn(Option<i64>, &'v SurveyVersionRecord) -> AuditEvent + Sync),
    ) -> Result<Option<SurveyVersionRecord>>;
    async fn survey_version(&self, id: &str) -> Result<Option<SurveyVersionRecord>>;
    async fn survey_version_number(&self, survey_id: &str, version: i64) -> Result<Option<SurveyVersionRecord>>;
    async fn latest_version(&self, survey_id: &str) -> Result<Option<SurveyVersionRecord>>;
    async fn survey_versions(&self, survey_id: &str) -> Result<Vec<SurveyVersionRecord>>;

    async fn create_participant(&self, r: &ParticipantRecord, audit: AuditEvent) -> Result<()>;
    async fn participant(&self, id: &str) -> Result<Option<ParticipantRecord>>;
    async fn participants(&self) -> Result<Vec<ParticipantRecord>>;
    /// Deletes a participant with their assignments and answers, and writes `audit` in the
    /// same transaction. `None` (and no entry) if there is no such participant; otherwise how
    /// many assignments went with them.
    async fn delete_participant(&self, id: &str, audit: crate::store::AuditEvent) -> Result<Option<u64>>;

    async fn create_assignment(&self, r: &AssignmentRecord, audits: &[AuditEvent]) -> Result<()>;
    async fn assignment(&self, id: &str) -> Result<Option<AssignmentRecord>>;
    async fn open_assignments_for_user(&self, user_id: &str) -> Result<Vec<AssignmentRecord>>;
    /// Every assignment of a young person's account, completed or not (their data export).
    async fn assignments_of_user(&self, user_id: &str) -> Result<Vec<AssignmentRecord>>;
    /// The staff list of one survey's assignments, newest first, at most `limit`.
    async fn staff_assignments(
        &self,
        survey_id: &str,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StaffAssignmentRow>>;
    async fn assignments_by_selector(&self, selector: &str) -> Result<Vec<AssignmentRecord>>;

    async fn response_for_assignment(&self, assignment_id: &str) -> Result<Option<ResponseRecord>>;
    async fn save_response(&self, s: &ResponseSave) -> Result<SaveOutcome>;

    /// Deletes a young person's assignments and answers (their erasure request), except chat
    /// feedback about a conversation under a safeguarding hold. Returns how many assignments.
    async fn erase_respondent(&self, user_id: &str) -> Result<u64>;
    /// Retention: deletes assignments made before `before` whose answers (if any) were last
    /// saved before it, with those answers, except chat feedback about a conversation under a
    /// safeguarding hold. Returns how many assignments.
    async fn apply_retention(&self, before: i64) -> Result<u64>;

    /// A run-time survey setting (`survey_settings`).
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Sets (`Some`) or clears (`None`) a setting.
    async fn set_setting(&self, key: &str, value: Option<&str>, by: &str, now: i64, audit: AuditEvent) -> Result<()>;

    /// Every assignment of the survey with its participant and final answers.
    async fn report_rows(&self, survey_id: &str) -> Result<Vec<ReportRow>>;
    /// Records a release of `population` in `scope` unless `refuse` says yes to an earlier
    /// release's population and cells (`None` for releases recorded before cells were; the
    /// newest `limit` are checked). One transaction that holds the
    /// survey row's write lock, so concurrent reports on one survey are checked one at a
    /// time. The same population twice is recorded once. `false` = refused.
    async fn release_checked(
        &self,
        survey_id: &str,
        release: &Release<'_>,
        limit: i64,
        refuse: &(dyn for<'x> Fn(&'x str, Option<&'x str>) -> bool + Send + Sync),
    ) -> Result<bool>;
}

pub use super::releases::Release;

pub(crate) const ASSIGNMENT_COLUMNS: &str = "id, survey_id, survey_version_id, participant_id, respondent_kind, \
    respondent_user_id, code_selector, code_hash, code_expires_at, stage, due_date, status, created_by, created_at, completed_at, \
    conversation_id";

pub(crate) const RESPONSE_COLUMNS: &str = "id, assignment_id, survey_version_id, submission_id, answers, is_final, \
    revision, created_at, updated_at, submitted_at";

pub(crate) const PARTICIPANT_COLUMNS: &str = "id, reference, intervention_type_id, start_date, end_date, age_band, \
    gender, ethnicity, looked_after, created_by, created_at";

pub(crate) const VERSION_COLUMNS: &str = "id, survey_id, version, definition, published_by, published_at";

macro_rules! impl_surveys_sql {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::Surveys for $store {
            async fn intervention_types(&self) -> $crate::store::Result<Vec<$crate::store::surveys::InterventionTypeRecord>> {
                Ok(sqlx::query_as("SELECT id, name, retired FROM intervention_types ORDER BY name")
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn create_intervention_type(
                &self,
                id: &str,
                name: &str,
                now: i64,
                audit: $crate::store::AuditEvent,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                let res = sqlx::query("INSERT INTO intervention_types (id, name, retired, created_at) VALUES ($1, $2, 0, $3)")
                    .bind(id)
                    .bind(name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await;
                match res {
                    Ok(_) => commit_with_audits(tx, &[audit]).await,
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                        Err($crate::store::StoreError::Conflict("an intervention type with that name already exists"))
                    }
                    Err(e) => Err(e.into()),
                }
            }

            async fn retire_intervention_type(&self, id: &str, audit: $crate::store::AuditEvent) -> $crate::store::Result<bool> {
                let mut tx = self.writer().begin().await?;
                let found = sqlx::query("UPDATE intervention_types SET retired = 1 WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if found {
                    commit_with_audits(tx, &[audit]).await?;
                }
                Ok(found)
            }

            async fn create_survey(&self, r: &$crate::store::surveys::SurveyRecord, audit: $crate::store::AuditEvent) -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query("INSERT INTO surveys (id, draft, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&r.id)
                    .bind(&r.draft)
                    .bind(&r.created_by)
                    .bind(r.created_at)
                    .bind(r.updated_at)
                    .execute(&mut *tx)
                    .await?;
                commit_with_audits(tx, &[audit]).await
            }

            async fn update_survey_draft(
                &self,
                id: &str,
                draft: &str,
                now: i64,
                audit: $crate::store::AuditEvent,
            ) -> $crate::store::Result<bool> {
                let mut tx = self.writer().begin().await?;
                let found = sqlx::query("UPDATE surveys SET draft = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(draft)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if found {
                    commit_with_audits(tx, &[audit]).await?;
                }
                Ok(found)
            }

            async fn survey(&self, id: &str) -> $crate::store::Result<Option<$crate::store::surveys::SurveyRecord>> {
                Ok(sqlx::query_as("SELECT id, draft, created_by, created_at, updated_at FROM surveys WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn surveys(&self) -> $crate::store::Result<Vec<$crate::store::surveys::SurveyRecord>> {
                Ok(sqlx::query_as("SELECT id, draft, created_by, created_at, updated_at FROM surveys ORDER BY created_at, id LIMIT 1000")
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn publish_survey(
                &self,
                survey_id: &str,
                by: &str,
                now: i64,
                audit: &(dyn for<'v> Fn(Option<i64>, &'v $crate::store::surveys::SurveyVersionRecord) -> $crate::store::AuditEvent + Sync),
            ) -> $crate::store::Result<Option<$crate::store::surveys::SurveyVersionRecord>> {
                use $crate::store::surveys::{SurveyVersionRecord, VERSION_COLUMNS};
                let mut tx = self.writer().begin().await?;
                // Take the survey row's write lock first so two publishes queue up.
                let draft: Option<(String,)> = sqlx::query_as("UPDATE surveys SET updated_at = updated_at WHERE id = $1 RETURNING draft")
                    .bind(survey_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some((draft,)) = draft else {
                    return Ok(None);
                };
                let sql = format!("SELECT {VERSION_COLUMNS} FROM survey_versions WHERE survey_id = $1 ORDER BY version DESC LIMIT 1");
                let latest: Option<SurveyVersionRecord> = sqlx::query_as(&sql).bind(survey_id).fetch_optional(&mut *tx).await?;
                let before = latest.as_ref().map(|l| l.version);
                if let Some(unchanged) = latest.filter(|l| l.definition == draft) {
                    commit_with_audits(tx, &[audit(before, &unchanged)]).await?;
                    return Ok(Some(unchanged));
                }
                let record = SurveyVersionRecord {
                    id: $crate::ids::random_id(),
                    survey_id: survey_id.to_owned(),
                    version: before.map_or(1, |v| v + 1),
                    definition: draft,
                    published_by: by.to_owned(),
                    published_at: now,
                };
                sqlx::query(
                    "INSERT INTO survey_versions (id, survey_id, version, definition, published_by, published_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&record.id)
                .bind(&record.survey_id)
                .bind(record.version)
                .bind(&record.definition)
                .bind(&record.published_by)
                .bind(record.published_at)
                .execute(&mut *tx)
                .await?;
                commit_with_audits(tx, &[audit(before, &record)]).await?;
                Ok(Some(record))
            }

            async fn survey_version(&self, id: &str) -> $crate::store::Result<Option<$crate::store::surveys::SurveyVersionRecord>> {
                let sql = format!("SELECT {} FROM survey_versions WHERE id = $1", $crate::store::surveys::VERSION_COLUMNS);
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await?)
            }

            async fn survey_version_number(
                &self,
                survey_id: &str,
                version: i64,
            ) -> $crate::store::Result<Option<$crate::store::surveys::SurveyVersionRecord>> {
                let sql = format!(
                    "SELECT {} FROM survey_versions WHERE survey_id = $1 AND version = $2",
                    $crate::store::surveys::VERSION_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(survey_id).bind(version).fetch_optional(self.reader()).await?)
            }

            async fn latest_version(&self, survey_id: &str) -> $crate::store::Result<Option<$crate::store::surveys::SurveyVersionRecord>> {
                let sql = format!(
                    "SELECT {} FROM survey_versions WHERE survey_id = $1 ORDER BY version DESC LIMIT 1",
                    $crate::store::surveys::VERSION_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(survey_id).fetch_optional(self.reader()).await?)
            }

            async fn survey_versions(&self, survey_id: &str) -> $crate::store::Result<Vec<$crate::store::surveys::SurveyVersionRecord>> {
                let sql = format!(
                    "SELECT {} FROM survey_versions WHERE survey_id = $1 ORDER BY version",
                    $crate::store::surveys::VERSION_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(survey_id).fetch_all(self.reader()).await?)
            }

            async fn create_participant(
                &self,
                r: &$crate::store::surveys::ParticipantRecord,
                audit: $crate::store::AuditEvent,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                let res = sqlx::query(
                    "INSERT INTO survey_participants (id, reference, intervention_type_id, start_date, end_date, age_band, \
                     gender, ethnicity, looked_after, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&r.id)
                .bind(&r.reference)
                .bind(&r.intervention_type_id)
                .bind(&r.start_date)
                .bind(&r.end_date)
                .bind(&r.age_band)
                .bind(&r.gender)
                .bind(&r.ethnicity)
                .bind(&r.looked_after)
                .bind(&r.created_by)
                .bind(r.created_at)
                .execute(&mut *tx)
                .await;
                match res {
                    Ok(_) => commit_with_audits(tx, &[audit]).await,
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                        Err($crate::store::StoreError::Conflict("a participant with that reference already exists"))
                    }
                    Err(e) => Err(e.into()),
                }
            }

            async fn participant(&self, id: &str) -> $crate::store::Result<Option<$crate::store::surveys::ParticipantRecord>> {
                let sql = format!("SELECT {} FROM survey_participants WHERE id = $1", $crate::store::surveys::PARTICIPANT_COLUMNS);
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await?)
            }

            async fn delete_participant(&self, id: &str, audit: $crate::store::AuditEvent) -> $crate::store::Result<Option<u64>> {
                let mut tx = self.writer().begin().await?;
                sqlx::query("DELETE FROM survey_responses WHERE assignment_id IN (SELECT id FROM survey_assignments WHERE participant_id = $1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let assignments = sqlx::query("DELETE FROM survey_assignments WHERE participant_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let found = sqlx::query("DELETE FROM survey_participants WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
                if found == 0 {
                    tx.rollback().await?;
                    return Ok(None);
                }
                commit_with_audits(tx, std::slice::from_ref(&audit)).await?;
                Ok(Some(assignments))
            }

            async fn participants(&self) -> $crate::store::Result<Vec<$crate::store::surveys::ParticipantRecord>> {
                let sql = format!(
                    "SELECT {} FROM survey_participants ORDER BY created_at, id LIMIT 5000",
                    $crate::store::surveys::PARTICIPANT_COLUMNS
                );
                Ok(sqlx::query_as(&sql).fetch_all(self.reader()).await?)
            }

            async fn create_assignment(
                &self,
                r: &$crate::store::surveys::AssignmentRecord,
                audits: &[$crate::store::AuditEvent],
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query(
                    "INSERT INTO survey_assignments (id, survey_id, survey_version_id, participant_id, respondent_kind, \
                     respondent_user_id, code_selector, code_hash, code_expires_at, stage, due_date, status, created_by, \
                     created_at, completed_at, conversation_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(&r.id)
                .bind(&r.survey_id)
                .bind(&r.survey_version_id)
                .bind(&r.participant_id)
                .bind(&r.respondent_kind)
                .bind(&r.respondent_user_id)
                .bind(&r.code_selector)
                .bind(&r.code_hash)
                .bind(r.code_expires_at)
                .bind(&r.stage)
                .bind(&r.due_date)
                .bind(&r.status)
                .bind(&r.created_by)
                .bind(r.created_at)
                .bind(r.completed_at)
                .bind(&r.conversation_id)
                .execute(&mut *tx)
                .await?;
                commit_with_audits(tx, audits).await
            }

            async fn assignment(&self, id: &str) -> $crate::store::Result<Option<$crate::store::surveys::AssignmentRecord>> {
                let sql = format!("SELECT {} FROM survey_assignments WHERE id = $1", $crate::store::surveys::ASSIGNMENT_COLUMNS);
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await?)
            }

            async fn open_assignments_for_user(
                &self,
                user_id: &str,
            ) -> $crate::store::Result<Vec<$crate::store::surveys::AssignmentRecord>> {
                let sql = format!(
                    "SELECT {} FROM survey_assignments WHERE respondent_user_id = $1 AND status <> 'completed' \
                     ORDER BY due_date, id LIMIT 200",
                    $crate::store::surveys::ASSIGNMENT_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(self.reader()).await?)
            }

            async fn assignments_by_selector(
                &self,
                selector: &str,
            ) -> $crate::store::Result<Vec<$crate::store::surveys::AssignmentRecord>> {
                let sql = format!(
                    "SELECT {} FROM survey_assignments WHERE code_selector = $1 LIMIT 50",
                    $crate::store::surveys::ASSIGNMENT_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(selector).fetch_all(self.reader()).await?)
            }

            async fn response_for_assignment(
                &self,
                assignment_id: &str,
            ) -> $crate::store::Result<Option<$crate::store::surveys::ResponseRecord>> {
                let sql = format!("SELECT {} FROM survey_responses WHERE assignment_id = $1", $crate::store::surveys::RESPONSE_COLUMNS);
                Ok(sqlx::query_as(&sql).bind(assignment_id).fetch_optional(self.reader()).await?)
            }

            async fn save_response(
                &self,
                s: &$crate::store::surveys::ResponseSave,
            ) -> $crate::store::Result<$crate::store::surveys::SaveOutcome> {
                use $crate::store::surveys::{ResponseRecord, SaveOutcome, RESPONSE_COLUMNS};
                let mut tx = self.writer().begin().await?;
                let final_flag: i64 = if s.is_final { 1 } else { 0 };
                let submitted_at = if s.is_final { Some(s.now) } else { None };
                let changed = match s.expected_revision {
                    None => sqlx::query(
                        "INSERT INTO survey_responses (id, assignment_id, survey_version_id, submission_id, answers, is_final, \
                         revision, created_at, updated_at, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8) \
                         ON CONFLICT (assignment_id) DO NOTHING",
                    )
                    .bind(&s.new_id)
                    .bind(&s.assignment_id)
                    .bind(&s.survey_version_id)
                    .bind(&s.submission_id)
                    .bind(&s.answers)
                    .bind(final_flag)
                    .bind(s.now)
                    .bind(submitted_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                    Some(rev) => sqlx::query(
                        "UPDATE survey_responses SET submission_id = $2, answers = $3, is_final = $4, revision = revision + 1, \
                         updated_at = $5, submitted_at = $6 WHERE assignment_id = $1 AND revision = $7 AND is_final = 0",
                    )
                    .bind(&s.assignment_id)
                    .bind(&s.submission_id)
                    .bind(&s.answers)
                    .bind(final_flag)
                    .bind(s.now)
                    .bind(submitted_at)
                    .bind(rev)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                };
                let sql = format!("SELECT {RESPONSE_COLUMNS} FROM survey_responses WHERE assignment_id = $1");
                let current: Option<ResponseRecord> = sqlx::query_as(&sql).bind(&s.assignment_id).fetch_optional(&mut *tx).await?;
                let Some(current) = current else {
                    return Ok(SaveOutcome::Raced);
                };
                if changed == 0 {
                    tx.rollback().await?;
                    return Ok(if current.is_final == 1 { SaveOutcome::AlreadyFinal(current) } else { SaveOutcome::Raced });
                }
                let status = if s.is_final { "completed" } else { "in_progress" };
                sqlx::query("UPDATE survey_assignments SET status = $2, completed_at = $3 WHERE id = $1")
                    .bind(&s.assignment_id)
                    .bind(status)
                    .bind(submitted_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(SaveOutcome::Saved(current))
            }

            async fn assignments_of_user(
                &self,
                user_id: &str,
            ) -> $crate::store::Result<Vec<$crate::store::surveys::AssignmentRecord>> {
                let sql = format!(
                    "SELECT {} FROM survey_assignments WHERE respondent_user_id = $1 ORDER BY created_at, id",
                    $crate::store::surveys::ASSIGNMENT_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(self.reader()).await?)
            }

            async fn staff_assignments(
                &self,
                survey_id: &str,
                status: Option<&str>,
                limit: i64,
            ) -> $crate::store::Result<Vec<$crate::store::surveys::StaffAssignmentRow>> {
                Ok(sqlx::query_as(
                    "SELECT a.id, a.survey_version_id, v.version, p.reference AS participant_reference, a.respondent_kind, \
                     a.stage, a.due_date, a.status, a.created_at, a.completed_at, \
                     CAST(CASE WHEN a.conversation_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS chat_feedback, \
                     r.answers, r.submitted_at \
                     FROM survey_assignments a JOIN survey_versions v ON v.id = a.survey_version_id \
                     LEFT JOIN survey_participants p ON p.id = a.participant_id \
                     LEFT JOIN survey_responses r ON r.assignment_id = a.id \
                     WHERE a.survey_id = $1 AND ($2 IS NULL OR a.status = $2) \
                     ORDER BY a.created_at DESC, a.id LIMIT $3",
                )
                .bind(survey_id)
                .bind(status)
                .bind(limit)
                .fetch_all(self.reader())
                .await?)
            }

            async fn erase_respondent(&self, user_id: &str) -> $crate::store::Result<u64> {
                // Chat feedback about a conversation under a safeguarding hold is kept with it.
                const DOOMED: &str = "SELECT a.id FROM survey_assignments a WHERE a.respondent_user_id = $1 AND NOT EXISTS \
                     (SELECT 1 FROM conversations c WHERE c.id = a.conversation_id AND c.hold_reason IS NOT NULL)";
                let mut tx = self.writer().begin().await?;
                sqlx::query(&format!("DELETE FROM survey_responses WHERE assignment_id IN ({DOOMED})"))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                let n = sqlx::query(&format!("DELETE FROM survey_assignments WHERE id IN ({DOOMED})"))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(n)
            }

            async fn apply_retention(&self, before: i64) -> $crate::store::Result<u64> {
                // Old assignments whose answers were last touched before the cut-off, except
                // chat feedback about a held conversation. Responses first, explicitly, rather
                // than relying on the cascade.
                const DOOMED: &str = "SELECT a.id FROM survey_assignments a WHERE a.created_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM survey_responses r WHERE r.assignment_id = a.id \
                         AND COALESCE(r.submitted_at, r.updated_at) >= $1) \
                     AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = a.conversation_id AND c.hold_reason IS NOT NULL)";
                let mut tx = self.writer().begin().await?;
                sqlx::query(&format!("DELETE FROM survey_responses WHERE assignment_id IN ({DOOMED})"))
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                let n = sqlx::query(&format!("DELETE FROM survey_assignments WHERE id IN ({DOOMED})"))
                    .bind(before)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(n)
            }

            async fn setting(&self, key: &str) -> $crate::store::Result<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as("SELECT value FROM survey_settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(row.map(|r| r.0))
            }

            async fn set_setting(
                &self,
                key: &str,
                value: Option<&str>,
                by: &str,
                now: i64,
                audit: $crate::store::AuditEvent,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                match value {
                    Some(v) => sqlx::query(
                        "INSERT INTO survey_settings (key, value, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(key)
                    .bind(v)
                    .bind(by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?,
                    None => sqlx::query("DELETE FROM survey_settings WHERE key = $1").bind(key).execute(&mut *tx).await?,
                };
                commit_with_audits(tx, &[audit]).await
            }

            async fn report_rows(&self, survey_id: &str) -> $crate::store::Result<Vec<$crate::store::surveys::ReportRow>> {
                Ok(sqlx::query_as(
                    "SELECT a.id AS assignment_id, a.survey_version_id, a.participant_id, a.respondent_kind, a.stage, a.due_date, \
                     p.intervention_type_id, p.age_band, p.gender, p.ethnicity, p.looked_after, \
                     CASE WHEN r.is_final = 1 THEN r.answers ELSE NULL END AS answers, r.submitted_at \
                     FROM survey_assignments a LEFT JOIN survey_participants p ON p.id = a.participant_id \
                     LEFT JOIN survey_responses r ON r.assignment_id = a.id \
                     WHERE a.survey_id = $1 ORDER BY a.id",
                )
                .bind(survey_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn release_checked(
                &self,
                survey_id: &str,
                r: &$crate::store::releases::Release<'_>,
                limit: i64,
                refuse: &(dyn for<'x> Fn(&'x str, Option<&'x str>) -> bool + Send + Sync),
            ) -> $crate::store::Result<bool> {
                let mut tx = self.writer().begin().await?;
                sqlx::query("UPDATE surveys SET updated_at = updated_at WHERE id = $1")
                    .bind(survey_id)
                    .execute(&mut *tx)
                    .await?;
                if !release_unless_refused(&mut *tx, r, limit, refuse).await? {
                    tx.rollback().await?;
                    return Ok(false);
                }
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

pub(crate) use impl_surveys_sql;
