//! Feedback surveys on YOT interventions (docs/surveys.md): definitions and versions, the
//! managed list of intervention types, pseudonymous participants, assignments, responses and
//! suppressed reports (`/v1/surveys*`, `/v1/intervention-types*`, `/v1/survey-*`, `/v1/me/surveys*`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ConversationId, UserId};

/// Who a survey is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyAudience {
    YoungPerson,
    ParentCarer,
}

/// A question's type, which fixes what an answer may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// An integer 1–5 shown as faces (1 = very unhappy, 5 = very happy).
    EmojiScale,
    /// `true` or `false`.
    YesNo,
    /// One of `options` (a string).
    SingleChoice,
    /// One or more distinct `options` (an array of strings).
    MultipleChoice,
    /// An integer 0–10.
    #[serde(rename = "scale_0_10")]
    Scale0To10,
    /// A string of 1 to `max_length` characters.
    FreeText,
}

/// One question of a survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyQuestion {
    /// Stable key within the survey (letters, digits, `_`, `-`; up to 40). Keep it when
    /// editing so distance travelled can pair answers across versions.
    pub id: String,
    pub kind: QuestionKind,
    /// The question as staff write it.
    pub text: String,
    /// Child-friendly wording shown to the respondent instead of `text` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_text: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// For single and multiple choice: 2 to 20 distinct options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// For free text: the longest answer in characters (default 500, at most 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// A survey's content: the body of `POST /v1/surveys` and `PUT /v1/surveys/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    pub title: String,
    pub audience: SurveyAudience,
    /// Child-friendly introduction shown before the first question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    pub questions: Vec<SurveyQuestion>,
}

/// A survey: its editable draft and its latest published version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyView {
    pub id: String,
    pub draft: SurveyDefinition,
    /// Latest published version number (`None` until first published).
    pub latest_version: Option<i64>,
    /// Whether the draft differs from the latest published version.
    pub unpublished_changes: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /v1/surveys` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyList {
    pub surveys: Vec<SurveyView>,
}

/// A frozen, published version of a survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SurveyVersionView {
    pub survey_id: String,
    pub version: i64,
    pub published_at: String,
    pub definition: SurveyDefinition,
}

/// An intervention type of the managed list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InterventionTypeView {
    pub id: String,
    pub name: String,
    pub retired: bool,
}

/// `GET /v1/intervention-types` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InterventionTypeList {
    pub intervention_types: Vec<InterventionTypeView>,
}

/// `POST /v1/intervention-types`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInterventionTypeRequest {
    pub name: String,
}

/// The five ONS ethnic groups, plus prefer not to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ethnicity {
    White,
    MixedOrMultiple,
    AsianOrAsianBritish,
    /// Black, Black British, Caribbean or African.
    BlackBlackBritishCaribbeanAfrican,
    OtherEthnicGroup,
    PreferNotToSay,
}

impl Ethnicity {
    pub fn as_str(self) -> &'static str {
        match self {
            Ethnicity::White => "white",
            Ethnicity::MixedOrMultiple => "mixed_or_multiple",
            Ethnicity::AsianOrAsianBritish => "asian_or_asian_british",
            Ethnicity::BlackBlackBritishCaribbeanAfrican => "black_black_british_caribbean_african",
            Ethnicity::OtherEthnicGroup => "other_ethnic_group",
            Ethnicity::PreferNotToSay => "prefer_not_to_say",
        }
    }
}

/// Looked-after (in care) status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookedAfter {
    LookedAfter,
    NotLookedAfter,
    PreferNotToSay,
}

impl LookedAfter {
    pub fn as_str(self) -> &'static str {
        match self {
            LookedAfter::LookedAfter => "looked_after",
            LookedAfter::NotLookedAfter => "not_looked_after",
            LookedAfter::PreferNotToSay => "prefer_not_to_say",
        }
    }
}

/// `POST /v1/survey-participants`: a young person on an intervention, under a pseudonymous
/// reference (never a name). Equality fields are optional.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateParticipantRequest {
    /// Pseudonymous case reference, e.g. `YOT-2024-0193` (letters, digits, `-`, `_`, `/`).
    pub reference: String,
    /// An id from `GET /v1/intervention-types`.
    pub intervention_type: String,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    #[serde(default)]
    pub end_date: Option<String>,
    /// One of `10-12`, `13-15`, `16-17`, `18+`, `prefer_not_to_say`.
    #[serde(default)]
    pub age_band: Option<String>,
    /// One of `female`, `male`, `non_binary`, `other`, `prefer_not_to_say`.
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub ethnicity: Option<Ethnicity>,
    #[serde(default)]
    pub looked_after: Option<LookedAfter>,
}

/// A participant record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParticipantView {
    pub id: String,
    pub reference: String,
    pub intervention_type: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<Ethnicity>,
    pub looked_after: Option<LookedAfter>,
    pub created_at: String,
}

/// `GET /v1/survey-participants` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParticipantList {
    pub participants: Vec<ParticipantView>,
}

/// `DELETE /v1/survey-participants/{id}` answer: the participant is gone, with their
/// assignments and answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParticipantDeleted {
    pub id: String,
    /// Assignments deleted with the participant (answered or not).
    pub assignments_deleted: u64,
}

/// When in an intervention a survey is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyStage {
    Start,
    Middle,
    End,
    FollowUp,
}

impl SurveyStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyStage::Start => "start",
            SurveyStage::Middle => "middle",
            SurveyStage::End => "end",
            SurveyStage::FollowUp => "follow_up",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "start" => Some(SurveyStage::Start),
            "middle" => Some(SurveyStage::Middle),
            "end" => Some(SurveyStage::End),
            "follow_up" => Some(SurveyStage::FollowUp),
            _ => None,
        }
    }
}

/// Who answers an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AssignmentRespondent {
    /// A young person's account; the survey appears in their `GET /v1/me/surveys`.
    YoungPerson { user_id: UserId },
    /// A parent or carer without an account: the answer carries a single-use access code.
    ParentCarer,
}

/// `POST /v1/survey-assignments`: send the latest published version of a survey.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssignmentRequest {
    pub survey_id: String,
    pub participant_id: String,
    pub stage: SurveyStage,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    pub respondent: AssignmentRespondent,
    /// Parent/carer codes: days until the code stops working (default 28, at most 90).
    #[serde(default)]
    pub access_code_valid_days: Option<u32>,
}

/// An assignment's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    Pending,
    InProgress,
    Completed,
}

/// An assignment as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssignmentView {
    pub id: String,
    pub survey_id: String,
    pub version: i64,
    pub participant_id: String,
    pub stage: SurveyStage,
    pub due_date: String,
    pub status: AssignmentStatus,
    pub respondent: AssignmentRespondent,
    pub access_code_expires_at: Option<String>,
}

/// `POST /v1/survey-assignments` answer. `access_code` is shown once (parent/carer only):
/// only its hash is stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedAssignment {
    pub assignment: AssignmentView,
    pub access_code: Option<String>,
}

/// One answer: `value` must fit the question's kind (see [`QuestionKind`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswer {
    pub question_id: String,
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

/// A survey waiting for the respondent, with what they saved so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingSurvey {
    pub assignment_id: String,
    pub stage: SurveyStage,
    pub due_date: String,
    pub status: AssignmentStatus,
    pub survey: SurveyVersionView,
    pub saved_answers: Vec<SurveyAnswer>,
    /// Set when this is the feedback survey offered after that support chat closed (absent
    /// otherwise; older servers never send it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
}

/// One assignment in the staff list (`GET /v1/surveys/{id}/assignments`). Chat feedback
/// carries no participant, account or conversation: only `chat_feedback: true`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffAssignmentView {
    pub id: String,
    pub version: i64,
    /// The participant's pseudonymous case reference (`null` for chat feedback).
    pub participant_reference: Option<String>,
    /// `young_person` or `parent_carer`.
    pub respondent_kind: String,
    pub stage: SurveyStage,
    pub due_date: String,
    pub status: AssignmentStatus,
    pub chat_feedback: bool,
    pub created_at: String,
    pub completed_at: Option<String>,
    /// With `answers=true`: the answers saved so far (free text with personal information
    /// redacted); otherwise `null`.
    pub answers: Option<Vec<SurveyAnswer>>,
    pub submitted_at: Option<String>,
}

/// `GET /v1/surveys/{id}/assignments` answer, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffAssignmentList {
    pub assignments: Vec<StaffAssignmentView>,
}

/// `GET`/`PUT /v1/surveys/chat-feedback`: the survey offered to a young person after a
/// support chat closes (`null`: none is offered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatFeedbackSetting {
    pub survey_id: Option<String>,
}

/// `GET /v1/me/surveys` answer: the caller's surveys not yet completed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PendingSurveyList {
    pub surveys: Vec<PendingSurvey>,
}

/// Body of a submission. `final: false` saves part-way (only the answers given are checked
/// and they replace earlier ones); `final: true` also requires every required question.
/// Retrying with the same `submission_id` returns the same response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitSurveyRequest {
    /// Client-chosen id (1–64 characters) for this submission.
    pub submission_id: String,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub answers: Vec<SurveyAnswer>,
}

/// The response to an assignment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyResponseView {
    pub response_id: String,
    pub assignment_id: String,
    pub version: i64,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub submission_id: Option<String>,
    pub answers: Vec<SurveyAnswer>,
    pub submitted_at: Option<String>,
}

/// A number in a report: `value` is `null` and `suppressed` is `true` when it is hidden.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportCell {
    pub value: Option<i64>,
    pub suppressed: bool,
}

/// One bar of a question's distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DistributionCell {
    pub label: String,
    pub count: Option<i64>,
    pub suppressed: bool,
}

/// One question's results.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionReport {
    pub question_id: String,
    pub kind: QuestionKind,
    pub text: String,
    /// How many final responses answered it.
    pub answered: ReportCell,
    pub distribution: Vec<DistributionCell>,
    /// Scales only; `null` when suppressed.
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub stats_suppressed: bool,
    /// Free text only: answers with personal information redacted.
    pub free_text: Option<Vec<String>>,
    pub free_text_suppressed: bool,
}

/// A report on one survey version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyReport {
    pub survey_id: String,
    pub version: i64,
    pub title: String,
    /// Counts under this are suppressed.
    pub threshold: i64,
    /// The whole report is withheld (every number `null`); `suppression_reason` says why.
    pub suppressed: bool,
    pub suppression_reason: Option<String>,
    pub assigned: ReportCell,
    pub completed: ReportCell,
    pub response_rate: Option<f64>,
    pub questions: Vec<QuestionReport>,
}

/// A count and its share of the pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DistanceCell {
    pub count: Option<i64>,
    pub share: Option<f64>,
    pub suppressed: bool,
}

/// Distance travelled on one scale question between two stages (paired by participant).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DistanceReport {
    pub survey_id: String,
    pub question_id: String,
    pub from_stage: SurveyStage,
    pub to_stage: SurveyStage,
    pub threshold: i64,
    pub suppressed: bool,
    pub suppression_reason: Option<String>,
    /// Participants who answered at both stages.
    pub pairs: ReportCell,
    /// Mean of (later − earlier); higher is better on every scale.
    pub mean_change: Option<f64>,
    pub improved: DistanceCell,
    pub same: DistanceCell,
    pub worse: DistanceCell,
}
