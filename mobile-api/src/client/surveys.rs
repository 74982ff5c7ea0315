//! Feedback surveys: intervention types, surveys and their versions, participants,
//! assignments, reports (`/v1/intervention-types*`, `/v1/surveys*`, `/v1/survey-participants*`,
//! `/v1/survey-assignments`), and answering them (`/v1/me/surveys*`, `/v1/survey-access*`).

use reqwest::Method;

use super::{json, Client, Result};
use crate::{
    AssignmentListQuery, ChatFeedbackSetting, CreateAssignmentRequest, CreateInterventionTypeRequest,
    CreateParticipantRequest, CreatedAssignment, DistanceQuery, DistanceReport, InterventionTypeList,
    InterventionTypeView, ParticipantDeleted, ParticipantList, ParticipantView, PendingSurvey, PendingSurveyList,
    ReportFilters, StaffAssignmentList, SubmitSurveyRequest, SurveyDefinition, SurveyList, SurveyReport,
    SurveyResponseView, SurveyVersionView, SurveyView,
};

/// The header a parent or carer sends their access code in (they have no account).
const ACCESS_CODE_HEADER: &str = "X-Access-Code";

impl Client {
    /// `GET /v1/intervention-types` (yot_admin): the managed list, retired ones marked.
    pub async fn list_intervention_types(&self, token: &str) -> Result<InterventionTypeList> {
        self.get("/v1/intervention-types", token).await
    }

    /// `POST /v1/intervention-types` (yot_admin).
    pub async fn create_intervention_type(
        &self,
        token: &str,
        req: &CreateInterventionTypeRequest,
    ) -> Result<InterventionTypeView> {
        self.call(Method::POST, "/v1/intervention-types", Some(token), Some(req)).await
    }

    /// `POST /v1/intervention-types/{id}/retire` (yot_admin).
    pub async fn retire_intervention_type(&self, token: &str, id: &str) -> Result<()> {
        self.call_empty::<()>(Method::POST, &format!("/v1/intervention-types/{id}/retire"), Some(token), None).await
    }

    /// `GET /v1/surveys` (yot_admin).
    pub async fn list_surveys(&self, token: &str) -> Result<SurveyList> {
        self.get("/v1/surveys", token).await
    }

    /// `POST /v1/surveys` (yot_admin): a draft until published.
    pub async fn create_survey(&self, token: &str, req: &SurveyDefinition) -> Result<SurveyView> {
        self.call(Method::POST, "/v1/surveys", Some(token), Some(req)).await
    }

    /// `GET /v1/surveys/{id}` (yot_admin).
    pub async fn survey(&self, token: &str, id: &str) -> Result<SurveyView> {
        self.get(&format!("/v1/surveys/{id}"), token).await
    }

    /// `PUT /v1/surveys/{id}` (yot_admin): replaces the draft.
    pub async fn update_survey(&self, token: &str, id: &str, req: &SurveyDefinition) -> Result<SurveyView> {
        self.call(Method::PUT, &format!("/v1/surveys/{id}"), Some(token), Some(req)).await
    }

    /// `POST /v1/surveys/{id}/publish` (yot_admin): freezes the draft as the next version.
    pub async fn publish_survey(&self, token: &str, id: &str) -> Result<SurveyVersionView> {
        self.call::<(), _>(Method::POST, &format!("/v1/surveys/{id}/publish"), Some(token), None).await
    }

    /// `GET /v1/surveys/{id}/versions/{version}` (yot_admin).
    pub async fn survey_version(&self, token: &str, id: &str, version: i64) -> Result<SurveyVersionView> {
        self.get(&format!("/v1/surveys/{id}/versions/{version}"), token).await
    }

    /// `GET /v1/survey-participants` (yot_admin).
    pub async fn list_participants(&self, token: &str) -> Result<ParticipantList> {
        self.get("/v1/survey-participants", token).await
    }

    /// `POST /v1/survey-participants` (yot_admin).
    pub async fn create_participant(&self, token: &str, req: &CreateParticipantRequest) -> Result<ParticipantView> {
        self.call(Method::POST, "/v1/survey-participants", Some(token), Some(req)).await
    }

    /// `DELETE /v1/survey-participants/{id}` (yot_admin): with their assignments and answers.
    pub async fn delete_participant(&self, token: &str, id: &str) -> Result<ParticipantDeleted> {
        self.call::<(), _>(Method::DELETE, &format!("/v1/survey-participants/{id}"), Some(token), None).await
    }

    /// `POST /v1/survey-assignments` (yot_admin): a parent/carer's access code is in the
    /// answer, once.
    pub async fn create_assignment(&self, token: &str, req: &CreateAssignmentRequest) -> Result<CreatedAssignment> {
        self.call(Method::POST, "/v1/survey-assignments", Some(token), Some(req)).await
    }

    /// `GET /v1/surveys/{id}/assignments` (yot_admin).
    pub async fn list_assignments(
        &self,
        token: &str,
        survey: &str,
        query: &AssignmentListQuery,
    ) -> Result<StaffAssignmentList> {
        self.get_query(&format!("/v1/surveys/{survey}/assignments"), token, query).await
    }

    /// `GET /v1/surveys/chat-feedback` (yot_admin).
    pub async fn chat_feedback(&self, token: &str) -> Result<ChatFeedbackSetting> {
        self.get("/v1/surveys/chat-feedback", token).await
    }

    /// `PUT /v1/surveys/chat-feedback` (yot_admin).
    pub async fn set_chat_feedback(&self, token: &str, req: &ChatFeedbackSetting) -> Result<ChatFeedbackSetting> {
        self.call(Method::PUT, "/v1/surveys/chat-feedback", Some(token), Some(req)).await
    }

    /// `GET /v1/surveys/{id}/versions/{version}/report` (yot_admin), with suppression.
    pub async fn survey_report(
        &self,
        token: &str,
        survey: &str,
        version: i64,
        filters: &ReportFilters,
    ) -> Result<SurveyReport> {
        self.get_query(&format!("/v1/surveys/{survey}/versions/{version}/report"), token, filters).await
    }

    /// `GET /v1/surveys/{id}/versions/{version}/report.csv` (yot_admin): the report as CSV.
    pub async fn survey_report_csv(
        &self,
        token: &str,
        survey: &str,
        version: i64,
        filters: &ReportFilters,
    ) -> Result<String> {
        self.get_text_query(&format!("/v1/surveys/{survey}/versions/{version}/report.csv"), token, filters).await
    }

    /// `GET /v1/surveys/{id}/versions/{version}/questions/{question_id}/chart.svg` (yot_admin).
    pub async fn question_chart(
        &self,
        token: &str,
        survey: &str,
        version: i64,
        question_id: &str,
        filters: &ReportFilters,
    ) -> Result<String> {
        let path = format!("/v1/surveys/{survey}/versions/{version}/questions/{question_id}/chart.svg");
        self.get_text_query(&path, token, filters).await
    }

    /// `GET /v1/surveys/{id}/distance` (yot_admin): distance travelled between two stages.
    pub async fn distance(&self, token: &str, survey: &str, query: &DistanceQuery) -> Result<DistanceReport> {
        self.get_query(&format!("/v1/surveys/{survey}/distance"), token, query).await
    }

    /// `GET /v1/surveys/{id}/distance.csv` (yot_admin).
    pub async fn distance_csv(&self, token: &str, survey: &str, query: &DistanceQuery) -> Result<String> {
        self.get_text_query(&format!("/v1/surveys/{survey}/distance.csv"), token, query).await
    }

    /// `GET /v1/surveys/{id}/distance.svg` (yot_admin).
    pub async fn distance_chart(&self, token: &str, survey: &str, query: &DistanceQuery) -> Result<String> {
        self.get_text_query(&format!("/v1/surveys/{survey}/distance.svg"), token, query).await
    }

    /// `GET /v1/me/surveys` (young_person): surveys not yet completed.
    pub async fn my_surveys(&self, token: &str) -> Result<PendingSurveyList> {
        self.get("/v1/me/surveys", token).await
    }

    /// `POST /v1/me/surveys/{assignment_id}/responses` (young_person): save or submit.
    pub async fn submit_my_survey(
        &self,
        token: &str,
        assignment_id: &str,
        req: &SubmitSurveyRequest,
    ) -> Result<SurveyResponseView> {
        self.call(Method::POST, &format!("/v1/me/surveys/{assignment_id}/responses"), Some(token), Some(req)).await
    }

    /// `GET /v1/survey-access`: the survey an access code opens (parents and carers; no token).
    pub async fn survey_by_access_code(&self, access_code: &str) -> Result<PendingSurvey> {
        json(self.builder(Method::GET, "/v1/survey-access", None).header(ACCESS_CODE_HEADER, access_code)).await
    }

    /// `POST /v1/survey-access/responses`: save or submit the code's assignment (no token).
    pub async fn submit_by_access_code(
        &self,
        access_code: &str,
        req: &SubmitSurveyRequest,
    ) -> Result<SurveyResponseView> {
        let req = self
            .builder(Method::POST, "/v1/survey-access/responses", None)
            .header(ACCESS_CODE_HEADER, access_code)
            .json(req);
        json(req).await
    }
}

impl Client {
    /// `GET /v1/admin/service-report` (supervisor, yot_admin): the service's figures over a
    /// period, with small numbers withheld.
    pub async fn service_report(&self, token: &str, q: &crate::ServiceReportQuery) -> Result<crate::ServiceReport> {
        self.get_query("/v1/admin/service-report", token, q).await
    }

    /// `GET /v1/admin/service-report.csv` (supervisor, yot_admin): the same report as CSV.
    pub async fn service_report_csv(&self, token: &str, q: &crate::ServiceReportQuery) -> Result<String> {
        self.get_text_query("/v1/admin/service-report.csv", token, q).await
    }

    /// `GET /v1/admin/service-summary` (yot_admin): the summary document of a period (the
    /// service report and the surveys' distance travelled), one printable HTML page.
    pub async fn service_summary(&self, token: &str, q: &crate::ServiceReportQuery) -> Result<String> {
        self.get_text_query("/v1/admin/service-summary", token, q).await
    }
}
