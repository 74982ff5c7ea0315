//! Feedback surveys (docs/surveys.md): `/v1/intervention-types`, `/v1/surveys/*`,
//! `/v1/survey-participants`, `/v1/survey-assignments` and reports (yot_admin);
//! `/v1/me/surveys/*` (young_person); `/v1/survey-access/*` for parents and carers, who have
//! no account and send their access code in the `X-Access-Code` header.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use talkzone_mobile_api::{
    AssignmentListQuery, ChatFeedbackSetting, CreateAssignmentRequest, CreateInterventionTypeRequest,
    CreateParticipantRequest, CreatedAssignment, DistanceQuery, DistanceReport, ErrorBody, InterventionTypeList,
    InterventionTypeView, ParticipantDeleted, ParticipantList, ParticipantView, PendingSurvey, PendingSurveyList,
    ReportFilters, StaffAssignmentList, SubmitSurveyRequest, SurveyDefinition, SurveyList, SurveyReport,
    SurveyResponseView, SurveyVersionView, SurveyView,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget};
use crate::state::AppState;
use crate::surveys::{self, reports};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_intervention_types, create_intervention_type))
        .routes(routes!(retire_intervention_type))
        .routes(routes!(list_surveys, create_survey))
        .routes(routes!(get_survey, update_survey))
        .routes(routes!(publish_survey))
        .routes(routes!(get_version))
        .routes(routes!(list_participants, create_participant))
        .routes(routes!(delete_participant))
        .routes(routes!(create_assignment))
        .routes(routes!(list_assignments))
        .routes(routes!(get_chat_feedback, set_chat_feedback))
        .routes(routes!(version_report))
        .routes(routes!(version_report_csv))
        .routes(routes!(question_chart))
        .routes(routes!(distance))
        .routes(routes!(distance_csv))
        .routes(routes!(distance_chart))
        .routes(routes!(my_surveys))
        .routes(routes!(submit_mine))
        .routes(routes!(access_view))
        .routes(routes!(access_submit))
}

/// `GET /v1/intervention-types`: the managed list (retired ones included, marked).
/// Roles: yot_admin.
#[utoipa::path(get, path = "/v1/intervention-types", tag = "surveys", security(("bearer" = [])),
    responses((status = 200, body = InterventionTypeList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_intervention_types(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<ApiJson<InterventionTypeList>> {
    user.require(surveys::ADMIN)?;
    Ok(ApiJson(InterventionTypeList { intervention_types: surveys::intervention_types(&state).await? }))
}

/// `POST /v1/intervention-types`: add a type; its id is made from the name. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/intervention-types", tag = "surveys", security(("bearer" = [])),
    request_body = CreateInterventionTypeRequest,
    responses((status = 201, body = InterventionTypeView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_intervention_type(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<CreateInterventionTypeRequest>,
) -> ApiResult<(StatusCode, ApiJson<InterventionTypeView>)> {
    Ok((StatusCode::CREATED, ApiJson(surveys::create_intervention_type(&state, &user, req).await?)))
}

/// `POST /v1/intervention-types/{id}/retire`: no new participants on it; old records keep
/// it. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/intervention-types/{id}/retire", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "intervention type id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn retire_intervention_type(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    surveys::retire_intervention_type(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/surveys`. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys", tag = "surveys", security(("bearer" = [])),
    responses((status = 200, body = SurveyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_surveys(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<SurveyList>> {
    Ok(ApiJson(SurveyList { surveys: surveys::list_surveys(&state, &user).await? }))
}

/// `POST /v1/surveys`: a new survey (a draft until published). Roles: yot_admin.
#[utoipa::path(post, path = "/v1/surveys", tag = "surveys", security(("bearer" = [])), request_body = SurveyDefinition,
    responses((status = 201, body = SurveyView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_survey(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(def): ApiJson<SurveyDefinition>,
) -> ApiResult<(StatusCode, ApiJson<SurveyView>)> {
    Ok((StatusCode::CREATED, ApiJson(surveys::create_survey(&state, &user, def).await?)))
}

/// `GET /v1/surveys/{id}`. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/{id}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id")),
    responses((status = 200, body = SurveyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_survey(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<SurveyView>> {
    Ok(ApiJson(surveys::get_survey(&state, &user, &id).await?))
}

/// `PUT /v1/surveys/{id}`: replace the draft. Published versions never change; publish
/// again to make a new version. Roles: yot_admin.
#[utoipa::path(put, path = "/v1/surveys/{id}", tag = "surveys", security(("bearer" = [])), request_body = SurveyDefinition,
    params(("id" = String, Path, description = "survey id")),
    responses((status = 200, body = SurveyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_survey(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(def): ApiJson<SurveyDefinition>,
) -> ApiResult<ApiJson<SurveyView>> {
    Ok(ApiJson(surveys::update_survey(&state, &user, &id, def).await?))
}

/// `POST /v1/surveys/{id}/publish`: freeze the draft as the next version (if the draft equals
/// the latest version, that version is returned). Roles: yot_admin.
#[utoipa::path(post, path = "/v1/surveys/{id}/publish", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id")),
    responses((status = 200, body = SurveyVersionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn publish_survey(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<SurveyVersionView>> {
    Ok(ApiJson(surveys::publish(&state, &user, &id).await?))
}

/// `GET /v1/surveys/{id}/versions/{version}`: a frozen version. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/{id}/versions/{version}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id"), ("version" = i64, Path, description = "version number")),
    responses((status = 200, body = SurveyVersionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_version(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, version)): ApiPath<(String, i64)>,
) -> ApiResult<ApiJson<SurveyVersionView>> {
    Ok(ApiJson(surveys::get_version(&state, &user, &id, version).await?))
}

/// `GET /v1/survey-participants`. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/survey-participants", tag = "surveys", security(("bearer" = [])),
    responses((status = 200, body = ParticipantList), (status = 403, body = ErrorBody)))]
async fn list_participants(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<ParticipantList>> {
    Ok(ApiJson(ParticipantList { participants: surveys::list_participants(&state, &user).await? }))
}

/// `POST /v1/survey-participants`: a young person on an intervention, under a pseudonymous
/// reference. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/survey-participants", tag = "surveys", security(("bearer" = [])),
    request_body = CreateParticipantRequest,
    responses((status = 201, body = ParticipantView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_participant(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<CreateParticipantRequest>,
) -> ApiResult<(StatusCode, ApiJson<ParticipantView>)> {
    Ok((StatusCode::CREATED, ApiJson(surveys::create_participant(&state, &user, req).await?)))
}

/// `DELETE /v1/survey-participants/{id}`: the participant, their assignments and answers.
/// Roles: yot_admin.
#[utoipa::path(delete, path = "/v1/survey-participants/{id}", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "participant id")),
    responses((status = 200, body = ParticipantDeleted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_participant(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ParticipantDeleted>> {
    Ok(ApiJson(surveys::delete_participant(&state, &user, &id).await?))
}

/// `POST /v1/survey-assignments`: send the latest published version to a young person's
/// account or, for parent/carer surveys, make a single-assignment access code (returned
/// once). Roles: yot_admin.
#[utoipa::path(post, path = "/v1/survey-assignments", tag = "surveys", security(("bearer" = [])),
    request_body = CreateAssignmentRequest,
    responses((status = 201, body = CreatedAssignment), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_assignment(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<CreateAssignmentRequest>,
) -> ApiResult<(StatusCode, ApiJson<CreatedAssignment>)> {
    Ok((StatusCode::CREATED, ApiJson(surveys::create_assignment(&state, &user, req).await?)))
}

/// `GET /v1/surveys/{id}/assignments`: who was sent this survey and where each stands, newest
/// first (at most 5000), optionally with the answers. Participants appear by pseudonymous
/// reference; chat feedback shows no account or conversation. Case-work data: not for
/// sharing outside the YOT (use the suppressed reports for that). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/{id}/assignments", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id"), AssignmentListQuery),
    responses((status = 200, body = StaffAssignmentList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_assignments(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AssignmentListQuery>,
) -> ApiResult<ApiJson<StaffAssignmentList>> {
    Ok(ApiJson(StaffAssignmentList {
        assignments: surveys::staff_list(&state, &user, &id, q.status.as_deref(), q.answers).await?,
    }))
}

/// `GET /v1/surveys/chat-feedback`: the survey offered to a young person after a support
/// chat closes (`null`: none). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/chat-feedback", tag = "surveys", security(("bearer" = [])),
    responses((status = 200, body = ChatFeedbackSetting), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn get_chat_feedback(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<ChatFeedbackSetting>> {
    Ok(ApiJson(surveys::feedback::setting(&state, &user).await?))
}

/// `PUT /v1/surveys/chat-feedback`: choose the survey offered after a support chat closes (a
/// published young-person survey of at most 5 questions), or `null` to stop offering one.
/// Roles: yot_admin.
#[utoipa::path(put, path = "/v1/surveys/chat-feedback", tag = "surveys", security(("bearer" = [])),
    request_body = ChatFeedbackSetting,
    responses((status = 200, body = ChatFeedbackSetting), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn set_chat_feedback(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<ChatFeedbackSetting>,
) -> ApiResult<ApiJson<ChatFeedbackSetting>> {
    Ok(ApiJson(surveys::feedback::set(&state, &user, req).await?))
}

/// Records that a report left the server, and whether it carried numbers.
async fn audit_report(
    state: &AppState,
    user: &AuthUser,
    action: AuditAction,
    survey_id: &str,
    what: String,
    withheld: bool,
) {
    let details = format!("{what}; {}", if withheld { "withheld" } else { "released" });
    surveys::audit(state, Some(user), action, AuditTarget::Survey, survey_id, Some(details)).await;
}

/// `GET /v1/surveys/{id}/versions/{version}/report`: counts, response rate, distributions,
/// mean and median per question, with small-number suppression. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/{id}/versions/{version}/report", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id"), ("version" = i64, Path, description = "version number"),
        ReportFilters),
    responses((status = 200, body = SurveyReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn version_report(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, version)): ApiPath<(String, i64)>,
    ApiQuery(filters): ApiQuery<ReportFilters>,
) -> ApiResult<ApiJson<SurveyReport>> {
    let report = reports::version_report(&state, &user, &id, version, &filters).await?;
    audit_report(
        &state,
        &user,
        AuditAction::SurveyReportViewed,
        &id,
        format!("version {version}, {}", filters.describe()),
        report.suppressed,
    )
    .await;
    Ok(ApiJson(report))
}

/// `GET /v1/surveys/{id}/versions/{version}/report.csv`: the same report as CSV (same
/// suppression; no free text). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/{id}/versions/{version}/report.csv", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id"), ("version" = i64, Path, description = "version number"),
        ReportFilters),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn version_report_csv(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, version)): ApiPath<(String, i64)>,
    ApiQuery(filters): ApiQuery<ReportFilters>,
) -> ApiResult<Response> {
    let report = reports::version_report(&state, &user, &id, version, &filters).await?;
    audit_report(
        &state,
        &user,
        AuditAction::SurveyReportExported,
        &id,
        format!("CSV, version {version}, {}", filters.describe()),
        report.suppressed,
    )
    .await;
    Ok(super::download(super::CSV, &format!("survey-{id}-v{version}.csv"), surveys::csv::report_csv(&report)))
}

/// `GET /v1/surveys/{id}/versions/{version}/questions/{question_id}/chart.svg`: a bar chart of
/// one question (suppressed bars drawn empty). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/{id}/versions/{version}/questions/{question_id}/chart.svg", tag = "surveys",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id"), ("version" = i64, Path, description = "version number"),
        ("question_id" = String, Path, description = "question id"), ReportFilters),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn question_chart(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, version, question_id)): ApiPath<(String, i64, String)>,
    ApiQuery(filters): ApiQuery<ReportFilters>,
) -> ApiResult<Response> {
    let report = reports::version_report(&state, &user, &id, version, &filters).await?;
    let q = report.questions.iter().find(|q| q.question_id == question_id).ok_or(ApiError::NotFound)?;
    audit_report(
        &state,
        &user,
        AuditAction::SurveyChartExported,
        &id,
        format!("SVG, version {version}, question {question_id}, {}", filters.describe()),
        report.suppressed,
    )
    .await;
    Ok(svg_image(surveys::chart::question_svg(q, report.threshold, report.suppressed)))
}

/// `GET /v1/surveys/{id}/distance`: distance travelled on a scale question between two
/// stages, paired by participant, with suppression. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/{id}/distance", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id"), DistanceQuery),
    responses((status = 200, body = DistanceReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn distance(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DistanceQuery>,
) -> ApiResult<ApiJson<DistanceReport>> {
    Ok(ApiJson(distance_report(&state, &user, &id, &q, AuditAction::SurveyDistanceViewed, "JSON").await?))
}

/// The distance report for `q`, with its audit entry (`action`, in `format`).
async fn distance_report(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    q: &DistanceQuery,
    action: AuditAction,
    format: &str,
) -> ApiResult<DistanceReport> {
    let report = reports::distance(state, user, id, q).await?;
    let what =
        format!("{format}, question {}, {} to {}", q.question_id, report.from_stage.as_str(), report.to_stage.as_str());
    audit_report(state, user, action, id, what, report.suppressed).await;
    Ok(report)
}

/// `GET /v1/surveys/{id}/distance.csv`: distance travelled as CSV (same parameters and
/// suppression as `/distance`). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/{id}/distance.csv", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id"), DistanceQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn distance_csv(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DistanceQuery>,
) -> ApiResult<Response> {
    let report = distance_report(&state, &user, &id, &q, AuditAction::SurveyDistanceExported, "CSV").await?;
    Ok(super::download(
        super::CSV,
        &format!("survey-{id}-distance-{}.csv", q.question_id),
        surveys::csv::distance_csv(&report),
    ))
}

/// `GET /v1/surveys/{id}/distance.svg`: distance travelled as a bar chart of improved, same
/// and worse (suppressed bars drawn empty). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/surveys/{id}/distance.svg", tag = "surveys", security(("bearer" = [])),
    params(("id" = String, Path, description = "survey id"), DistanceQuery),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn distance_chart(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DistanceQuery>,
) -> ApiResult<Response> {
    let report = distance_report(&state, &user, &id, &q, AuditAction::SurveyDistanceExported, "SVG").await?;
    Ok(svg_image(surveys::chart::distance_svg(&report)))
}

/// A chart, as an SVG image.
fn svg_image(svg: String) -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], svg).into_response()
}

/// `GET /v1/me/surveys`: the caller's surveys not yet completed, with the questions and
/// anything saved part-way. Roles: young_person.
#[utoipa::path(get, path = "/v1/me/surveys", tag = "surveys", security(("bearer" = [])),
    responses((status = 200, body = PendingSurveyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn my_surveys(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<PendingSurveyList>> {
    Ok(ApiJson(PendingSurveyList { surveys: surveys::my_pending(&state, &user).await? }))
}

/// `POST /v1/me/surveys/{assignment_id}/responses`: save answers (`final: false`) or submit
/// (`final: true`); retrying with the same `submission_id` is safe. Roles: young_person (own
/// assignments only; others are 404).
#[utoipa::path(post, path = "/v1/me/surveys/{assignment_id}/responses", tag = "surveys", security(("bearer" = [])),
    params(("assignment_id" = String, Path, description = "assignment id")), request_body = SubmitSurveyRequest,
    responses((status = 200, body = SurveyResponseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn submit_mine(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<SubmitSurveyRequest>,
) -> ApiResult<ApiJson<SurveyResponseView>> {
    let a = surveys::my_assignment(&state, &user, &id).await?;
    Ok(ApiJson(surveys::submit(&state, &a, req).await?))
}

fn access_code(headers: &HeaderMap) -> ApiResult<&str> {
    headers
        .get("x-access-code")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .ok_or(ApiError::Unauthorized("send the access code in the X-Access-Code header"))
}

/// `GET /v1/survey-access`: the one survey an access code opens (parents and carers, no
/// account). Header `X-Access-Code`. Throttled per IP like sign-in.
#[utoipa::path(get, path = "/v1/survey-access", tag = "surveys",
    params(("X-Access-Code" = String, Header, description = "the code given by the YOT, e.g. 7K2M-QX9D-4HTA")),
    responses((status = 200, body = PendingSurvey), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn access_view(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> ApiResult<ApiJson<PendingSurvey>> {
    state.limits.check_auth_ip(ip)?;
    Ok(ApiJson(surveys::view_for_code(&state, access_code(&headers)?).await?))
}

/// `POST /v1/survey-access/responses`: save or submit the answers for the code's assignment.
/// Header `X-Access-Code`. Throttled per IP.
#[utoipa::path(post, path = "/v1/survey-access/responses", tag = "surveys", request_body = SubmitSurveyRequest,
    params(("X-Access-Code" = String, Header, description = "the code given by the YOT")),
    responses((status = 200, body = SurveyResponseView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn access_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SubmitSurveyRequest>,
) -> ApiResult<ApiJson<SurveyResponseView>> {
    state.limits.check_auth_ip(ip)?;
    let a = surveys::assignment_for_code(&state, access_code(&headers)?).await?;
    Ok(ApiJson(surveys::submit(&state, &a, req).await?))
}
