//! A typed async client for the Talk Zone API: REST on reqwest, WebSocket on
//! tokio-tungstenite. The end-to-end tests and the load generator speak to the server only
//! through this, so it is also a worked example of the protocol.
//!
//! One method per route, in a file per resource (`auth.rs`, `admin.rs`, `conversations.rs`,
//! `rooms.rs`, `escalations.rs`, `desk.rs`, `directory.rs`, `canned.rs`, `privacy.rs`, `returning.rs`, `moderation.rs`,
//! `surveys.rs`, `health.rs`, `ws.rs`). Each takes the caller's access token first, then path
//! ids, then the request type of the contract; each answers the contract's response type (or
//! `()` where the server answers `{}` or 204) and fails with [`ClientError`]. [`Client::request`]
//! and [`Client::raw`] remain for what the typed methods do not cover (a status to check, a
//! malformed body).
//!
//! # Routes
//!
//! Every route the server has, and the method that calls it. The test at the foot of this file
//! reads the server's routers (`server/src/http/`) and this table, and fails if a route is
//! missing here or a method named here does not exist. The web pages (`/`, `/console`,
//! `/survey`, `/admin`, `/web/{name}`) are HTML for browsers, not API: fetch them with
//! [`Client::raw`].
//!
//! | Route | Method |
//! |---|---|
//! | `POST /v1/auth/anonymous` | [`Client::anonymous`] |
//! | `POST /v1/auth/login` | [`Client::login`] |
//! | `POST /v1/auth/login/second-factor` | [`Client::login_second_factor`] |
//! | `POST /v1/auth/login/passkey/start` | [`Client::login_passkey_start`] |
//! | `POST /v1/auth/login/passkey` | [`Client::login_passkey`] |
//! | `POST /v1/auth/refresh` | [`Client::refresh`] |
//! | `POST /v1/auth/logout` | [`Client::logout`] |
//! | `GET /v1/auth/sso/start` | [`Client::sso_start`] |
//! | `GET /v1/auth/sso/callback` | [`Client::sso_callback`] |
//! | `POST /v1/auth/password-reset` | [`Client::reset_password`] |
//! | `GET /v1/me` | [`Client::me`] |
//! | `POST /v1/me/password` | [`Client::change_password`] |
//! | `POST /v1/ws-ticket` | [`Client::ws_ticket`] |
//! | `GET /v1/me/sessions` | [`Client::my_sessions`] |
//! | `DELETE /v1/me/sessions` | [`Client::end_my_other_sessions`] |
//! | `DELETE /v1/me/sessions/{id}` | [`Client::end_my_session`] |
//! | `GET /v1/me/passkeys` | [`Client::my_passkeys`] |
//! | `POST /v1/me/passkeys/registration` | [`Client::start_passkey_registration`] |
//! | `POST /v1/me/passkeys` | [`Client::add_passkey`] |
//! | `DELETE /v1/me/passkeys/{id}` | [`Client::remove_passkey`] |
//! | `POST /v1/auth/device` | [`Client::sign_in_with_device`] |
//! | `POST /v1/auth/recover` | [`Client::recover`] |
//! | `GET /v1/me/device-credentials` | [`Client::device_credentials`] |
//! | `POST /v1/me/device-credentials` | [`Client::create_device_credential`] |
//! | `DELETE /v1/me/device-credentials/{id}` | [`Client::forget_device_credential`] |
//! | `POST /v1/me/recovery-phrase` | [`Client::create_recovery_phrase`] |
//! | `DELETE /v1/me/recovery-phrase` | [`Client::remove_recovery_phrase`] |
//! | `GET /v1/push/web-push-key` | [`Client::web_push_key`] |
//! | `GET /v1/me/push-subscriptions` | [`Client::push_subscriptions`] |
//! | `POST /v1/me/push-subscriptions` | [`Client::create_push_subscription`] |
//! | `DELETE /v1/me/push-subscriptions/{id}` | [`Client::delete_push_subscription`] |
//! | `GET /v1/admin/users` | [`Client::list_staff`] |
//! | `POST /v1/admin/users` | [`Client::create_user`] |
//! | `PUT /v1/admin/users/{id}/capacity` | [`Client::set_capacity`] |
//! | `GET /v1/admin/users/{id}/sessions` | [`Client::user_sessions`] |
//! | `DELETE /v1/admin/users/{id}/sessions` | [`Client::end_user_sessions`] |
//! | `DELETE /v1/admin/users/{id}/sessions/{session_id}` | [`Client::end_user_session`] |
//! | `POST /v1/admin/users/{id}/suspend` | [`Client::suspend_user`] |
//! | `POST /v1/admin/users/{id}/reactivate` | [`Client::reactivate_user`] |
//! | `POST /v1/admin/users/{id}/second-factor/reset` | [`Client::reset_second_factor`] |
//! | `POST /v1/admin/users/{id}/offboard` | [`Client::offboard_user`] |
//! | `PUT /v1/admin/users/{id}/role` | [`Client::change_role`] |
//! | `POST /v1/admin/users/{id}/password-reset` | [`Client::issue_password_reset`] |
//! | `GET /v1/admin/moderation/policy` | [`Client::moderation_policy`] |
//! | `PUT /v1/admin/moderation/policy` | [`Client::replace_moderation_policy`] |
//! | `GET /v1/admin/moderation/policy/versions` | [`Client::moderation_policy_versions`] |
//! | `POST /v1/admin/moderation/policy/versions/{version}/restore` | [`Client::restore_moderation_policy`] |
//! | `GET /v1/admin/monitoring-notice/versions` | [`Client::monitoring_notice_versions`] |
//! | `PUT /v1/admin/monitoring-notice` | [`Client::replace_monitoring_notice`] |
//! | `POST /v1/messages/{id}/verdict-mark` | [`Client::mark_verdict`] |
//! | `GET /v1/admin/verdict-marks/report` | [`Client::verdict_mark_report`] |
//! | `GET /v1/admin/verdict-marks/export` | [`Client::verdict_mark_export`] |
//! | `GET /v1/admin/service-report` | [`Client::service_report`] |
//! | `GET /v1/admin/service-report.csv` | [`Client::service_report_csv`] |
//! | `GET /v1/admin/service-summary` | [`Client::service_summary`] |
//! | `POST /v1/conversations` | [`Client::open_conversation`] |
//! | `GET /v1/conversations` | [`Client::list_conversations`], [`Client::list_conversations_with`] |
//! | `GET /v1/conversations/{id}` | [`Client::conversation`] |
//! | `GET /v1/conversations/{id}/messages` | [`Client::messages`] |
//! | `POST /v1/conversations/{id}/accept` | [`Client::accept`] |
//! | `POST /v1/conversations/{id}/join` | [`Client::join_conversation`] |
//! | `POST /v1/conversations/{id}/transfer` | [`Client::transfer_conversation`] |
//! | `POST /v1/conversations/{id}/requeue` | [`Client::requeue_conversation`] |
//! | `POST /v1/conversations/{id}/close` | [`Client::close_conversation`] |
//! | `POST /v1/conversations/{id}/end` | [`Client::end_conversation`] |
//! | `POST /v1/conversations/{id}/abuse` | [`Client::mark_abuse`] |
//! | `PUT /v1/conversations/{id}/tags` | [`Client::set_tags`] |
//! | `POST /v1/conversations/{id}/notes` | [`Client::add_note`] |
//! | `GET /v1/conversations/{id}/notes` | [`Client::list_notes`] |
//! | `GET /v1/outcomes` | [`Client::list_outcomes`] |
//! | `GET /v1/conversations/{id}/earlier` | [`Client::earlier_chats`] |
//! | `GET /v1/canned-replies` | [`Client::list_canned_replies`] |
//! | `POST /v1/canned-replies` | [`Client::create_canned_reply`] |
//! | `PUT /v1/canned-replies/{id}` | [`Client::update_canned_reply`] |
//! | `DELETE /v1/canned-replies/{id}` | [`Client::delete_canned_reply`] |
//! | `POST /v1/rooms` | [`Client::create_room`] |
//! | `GET /v1/rooms` | [`Client::list_rooms`] |
//! | `POST /v1/rooms/{id}/join` | [`Client::join_room`] |
//! | `POST /v1/rooms/{id}/leave` | [`Client::leave_room`] |
//! | `POST /v1/conversations/{id}/escalations` | [`Client::raise_escalation`] |
//! | `GET /v1/escalations` | [`Client::list_escalations`] |
//! | `GET /v1/escalations/{id}` | [`Client::escalation`] |
//! | `POST /v1/escalations/{id}/acknowledge` | [`Client::acknowledge_escalation`] |
//! | `POST /v1/escalations/{id}/actions` | [`Client::add_escalation_action`] |
//! | `POST /v1/escalations/{id}/resolve` | [`Client::resolve_escalation`] |
//! | `GET /v1/escalations/{id}/audit` | [`Client::escalation_audit`] |
//! | `PUT /v1/me/duty` | [`Client::set_duty`] |
//! | `GET /v1/desk` | [`Client::desk`] |
//! | `GET /v1/rota/shifts` | [`Client::rota`] |
//! | `POST /v1/rota/shifts` | [`Client::add_shift`] |
//! | `DELETE /v1/rota/shifts/{id}` | [`Client::remove_shift`] |
//! | `GET /v1/services` | [`Client::search_services`] |
//! | `POST /v1/services` | [`Client::create_service`] |
//! | `GET /v1/services/{id}` | [`Client::service`] |
//! | `PUT /v1/services/{id}` | [`Client::update_service`] |
//! | `POST /v1/services/{id}/retire` | [`Client::retire_service`] |
//! | `POST /v1/conversations/{id}/service-cards` | [`Client::share_service`] |
//! | `GET /v1/me/monitoring-notice` | [`Client::monitoring_notice`] |
//! | `POST /v1/me/monitoring-notice/acknowledge` | [`Client::acknowledge_notice`] |
//! | `GET /v1/me/export` | [`Client::export_my_data`] |
//! | `DELETE /v1/me` | [`Client::delete_me`] |
//! | `POST /v1/conversations/{id}/hold` | [`Client::place_hold`] |
//! | `POST /v1/conversations/{id}/hold/release` | [`Client::lift_hold`] |
//! | `GET /v1/admin/audit` | [`Client::audit_log`] |
//! | `POST /v1/reports` | [`Client::create_report`] |
//! | `GET /v1/moderation/queue` | [`Client::moderation_queue`] |
//! | `POST /v1/moderation/items/{id}/claim` | [`Client::claim_item`] |
//! | `POST /v1/moderation/items/{id}/decision` | [`Client::decide_item`] |
//! | `GET /v1/moderation/items/{id}/context` | [`Client::moderation_context`] |
//! | `POST /v1/moderation/bulk` | [`Client::decide_bulk`] |
//! | `POST /v1/moderation/items/{id}/appeal` | [`Client::appeal_item`] |
//! | `POST /v1/moderation/items/{id}/appeal/decision` | [`Client::decide_appeal`] |
//! | `POST /v1/moderation/users/{id}/actions` | [`Client::act_on_user`] |
//! | `GET /v1/moderation/log` | [`Client::moderation_log`] |
//! | `GET /v1/intervention-types` | [`Client::list_intervention_types`] |
//! | `POST /v1/intervention-types` | [`Client::create_intervention_type`] |
//! | `POST /v1/intervention-types/{id}/retire` | [`Client::retire_intervention_type`] |
//! | `GET /v1/surveys` | [`Client::list_surveys`] |
//! | `POST /v1/surveys` | [`Client::create_survey`] |
//! | `GET /v1/surveys/{id}` | [`Client::survey`] |
//! | `PUT /v1/surveys/{id}` | [`Client::update_survey`] |
//! | `POST /v1/surveys/{id}/publish` | [`Client::publish_survey`] |
//! | `GET /v1/surveys/{id}/versions/{version}` | [`Client::survey_version`] |
//! | `GET /v1/survey-participants` | [`Client::list_participants`] |
//! | `POST /v1/survey-participants` | [`Client::create_participant`] |
//! | `DELETE /v1/survey-participants/{id}` | [`Client::delete_participant`] |
//! | `POST /v1/survey-assignments` | [`Client::create_assignment`] |
//! | `GET /v1/surveys/{id}/assignments` | [`Client::list_assignments`] |
//! | `GET /v1/surveys/chat-feedback` | [`Client::chat_feedback`] |
//! | `PUT /v1/surveys/chat-feedback` | [`Client::set_chat_feedback`] |
//! | `GET /v1/surveys/{id}/versions/{version}/report` | [`Client::survey_report`] |
//! | `GET /v1/surveys/{id}/versions/{version}/report.csv` | [`Client::survey_report_csv`] |
//! | `GET /v1/surveys/{id}/versions/{version}/questions/{question_id}/chart.svg` | [`Client::question_chart`] |
//! | `GET /v1/surveys/{id}/distance` | [`Client::distance`] |
//! | `GET /v1/surveys/{id}/distance.csv` | [`Client::distance_csv`] |
//! | `GET /v1/surveys/{id}/distance.svg` | [`Client::distance_chart`] |
//! | `GET /v1/me/surveys` | [`Client::my_surveys`] |
//! | `POST /v1/me/surveys/{assignment_id}/responses` | [`Client::submit_my_survey`] |
//! | `GET /v1/survey-access` | [`Client::survey_by_access_code`] |
//! | `POST /v1/survey-access/responses` | [`Client::submit_by_access_code`] |
//! | `GET /healthz` | [`Client::healthz`] |
//! | `GET /readyz` | [`Client::readyz`] |
//! | `GET /metrics` | [`Client::metrics`] |
//! | `GET /v1/openapi.json` | [`Client::openapi`] |
//! | `GET /v1/asyncapi.json` | [`Client::asyncapi`] |
//! | `GET /v1/ws` | [`Client::connect`], [`Client::connect_with_ticket`] |

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{ErrorBody, ErrorCode};

mod admin;
mod auth;
mod canned;
mod conversations;
#[cfg(test)]
mod coverage;
mod desk;
mod directory;
mod escalations;
mod health;
mod moderation;
mod privacy;
mod push;
mod returning;
mod rooms;
mod surveys;
mod ws;

pub use ws::WsConnection;

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status and the protocol's error body.
    #[error("HTTP {status}: {} ({})", body.error.message, body.error.code.as_str())]
    Api { status: u16, body: ErrorBody, retry_after: Option<u64> },
    /// The server answered with an error status and a body that is not the error shape.
    #[error("HTTP {status}: {text}")]
    Status { status: u16, text: String },
    #[error("transport: {0}")]
    Transport(String),
    #[error("decode: {0}")]
    Decode(String),
    #[error("websocket: {0}")]
    WebSocket(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("websocket closed: {0:?}")]
    Closed(Option<(u16, String)>),
    /// The password was right; the sign-in needs a second factor (`login_second_factor`).
    #[error("a second factor is needed ({:?})", .0.kind)]
    SecondFactorRequired(Box<crate::SecondFactorChallenge>),
}

impl ClientError {
    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Protocol error code of an API error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { body, .. } => Some(body.error.code),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// The REST half of the client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: url::Url,
    /// Sent with every request, WebSocket upgrades included ([`Client::with_headers`]).
    headers: HeaderMap,
}

impl Client {
    /// `base` is the server's root, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: &str) -> Result<Self> {
        Self::with_headers(base, HeaderMap::new())
    }

    /// A client that sends `headers` with every request and WebSocket upgrade: a `User-Agent`
    /// naming the app, say, or `X-Forwarded-For` as a proxy in front of the server would (what
    /// tests of per-source limits need).
    pub fn with_headers(base: &str, headers: HeaderMap) -> Result<Self> {
        let base = url::Url::parse(base).map_err(|e| ClientError::Transport(e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .default_headers(headers.clone())
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Self { http, base, headers })
    }

    pub fn base(&self) -> &url::Url {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        let mut s = self.base.as_str().trim_end_matches('/').to_owned();
        s.push_str(path);
        s
    }

    /// A request to `path`, with the bearer token when there is one.
    fn builder(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self.http.request(method, self.url(path));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends a request and returns the status with the decoded body.
    pub async fn request<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<(StatusCode, T)> {
        let mut req = self.builder(method, path, token);
        if let Some(b) = body {
            req = req.json(b);
        }
        decode(send(req).await?).await
    }

    /// Sends raw bytes as a JSON body (for bad-input tests) and returns status and raw text.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(StatusCode, HeaderMap, String)> {
        let req =
            self.builder(method, path, token).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        let resp = send(req).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok((status, headers, text))
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<T> {
        self.request(method, path, token, body).await.map(|(_, t)| t)
    }

    /// A `GET` with the bearer token and no body.
    async fn get<T: DeserializeOwned>(&self, path: &str, token: &str) -> Result<T> {
        self.call::<(), _>(Method::GET, path, Some(token), None).await
    }

    /// A `GET` with query parameters (`None` fields are left out, as the server expects).
    async fn get_query<Q: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        query: &Q,
    ) -> Result<T> {
        json(self.builder(Method::GET, path, Some(token)).query(query)).await
    }

    /// A call whose answer carries nothing to read (`{}` or 204 No Content): only its success.
    async fn call_empty<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<()> {
        let mut req = self.builder(method, path, token);
        if let Some(b) = body {
            req = req.json(b);
        }
        success_bytes(send(req).await?).await.map(|_| ())
    }

    /// A `GET` answered with text that is not JSON (TOML, Prometheus).
    async fn get_text(&self, path: &str, token: Option<&str>) -> Result<String> {
        text(self.builder(Method::GET, path, token)).await
    }

    /// A `GET` with query parameters answered with text that is not JSON (CSV, SVG).
    async fn get_text_query<Q: Serialize + ?Sized>(&self, path: &str, token: &str, query: &Q) -> Result<String> {
        text(self.builder(Method::GET, path, Some(token)).query(query)).await
    }
}

/// Sends a request built by hand (a header, a body that is not JSON) and decodes the answer.
async fn json<T: DeserializeOwned>(req: RequestBuilder) -> Result<T> {
    decode(send(req).await?).await.map(|(_, t)| t)
}

async fn text(req: RequestBuilder) -> Result<String> {
    let (_, bytes) = success_bytes(send(req).await?).await?;
    String::from_utf8(bytes).map_err(|e| ClientError::Decode(e.to_string()))
}

async fn send(req: RequestBuilder) -> Result<reqwest::Response> {
    req.send().await.map_err(|e| ClientError::Transport(e.to_string()))
}

async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> Result<(StatusCode, T)> {
    let (status, bytes) = success_bytes(resp).await?;
    let t = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))?;
    Ok((status, t))
}

/// The body of a successful answer; an error status becomes [`ClientError::Api`] (the
/// protocol's error body) or [`ClientError::Status`] (anything else).
async fn success_bytes(resp: reqwest::Response) -> Result<(StatusCode, Vec<u8>)> {
    let status = resp.status();
    let retry_after =
        resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let bytes = resp.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?;
    if status.is_success() {
        return Ok((status, bytes.into()));
    }
    Err(error_from(status, retry_after, &bytes))
}

fn error_from(status: StatusCode, retry_after: Option<u64>, bytes: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => ClientError::Api { status: status.as_u16(), body, retry_after },
        Err(_) => ClientError::Status { status: status.as_u16(), text: String::from_utf8_lossy(bytes).into_owned() },
    }
}
