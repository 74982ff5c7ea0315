//! Query parameters of the HTTP routes (each refuses a parameter it does not know, but for
//! `/v1/ws`, which always ignored them).

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// `GET /v1/ws` query: browsers, which cannot set a header on a WebSocket, pass a ticket from
/// `POST /v1/ws-ticket`; native clients send `Authorization: Bearer` instead.
/// Other parameters are ignored, as they always were.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WsQuery {
    pub ticket: Option<String>,
}

/// `GET /v1/conversations` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConversationListQuery {
    /// Staff only: `queued`, `assigned` or `closed`.
    pub state: Option<String>,
    /// Staff only: a worker's user id.
    pub assigned_to: Option<String>,
    /// Staff only: page size, 1–500 (default 500).
    pub limit: Option<u32>,
    /// Staff only: rows to skip (from `next_offset` of the previous page).
    pub offset: Option<u32>,
}

/// `GET /v1/conversations/{id}/messages` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Only messages with a larger `seq` (default 0: from the start).
    pub after_seq: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

/// `GET /v1/surveys/{id}/assignments` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentListQuery {
    /// Only assignments with this status: `pending`, `in_progress` or `completed`.
    pub status: Option<String>,
    /// Include the answers (free text with personal information redacted). Default false.
    #[serde(default)]
    pub answers: bool,
}

/// `GET /v1/escalations` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EscalationListQuery {
    /// `open`, `acknowledged` or `resolved`.
    pub state: Option<String>,
    /// Page size, 1–500 (default 500).
    pub limit: Option<u32>,
    /// Rows to skip (from `next_offset` of the previous page).
    pub offset: Option<u32>,
}

/// `GET /v1/rota/shifts` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RotaQuery {
    /// RFC 3339; default a day ago.
    pub from: Option<String>,
    /// RFC 3339; default a week ahead.
    pub to: Option<String>,
}

/// `GET /v1/admin/audit` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// How many days back (default 7).
    pub days: Option<u32>,
}

/// `GET /v1/services` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ServiceSearchQuery {
    /// Text to find in the name, category, description or area (any case), up to 100 characters.
    pub q: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// YOT admins only: list retired entries too.
    pub include_retired: Option<bool>,
}

/// Filters on a report (all optional; each narrows the selection).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportFilters {
    /// Intervention type id.
    pub intervention_type: Option<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    /// e.g. `white`, `black_black_british_caribbean_african`.
    pub ethnicity: Option<String>,
    /// `looked_after`, `not_looked_after` or `prefer_not_to_say`.
    pub looked_after: Option<String>,
    /// Only assignments at this stage (`start`, `middle`, `end`, `follow_up`).
    pub stage: Option<String>,
    /// Assignments due on or after this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Assignments due on or before this date (`YYYY-MM-DD`).
    pub to: Option<String>,
}

impl ReportFilters {
    /// The filters set, as `name=value` pairs (for the audit log).
    pub fn describe(&self) -> String {
        let pairs = [
            ("intervention_type", &self.intervention_type),
            ("age_band", &self.age_band),
            ("gender", &self.gender),
            ("ethnicity", &self.ethnicity),
            ("looked_after", &self.looked_after),
            ("stage", &self.stage),
            ("from", &self.from),
            ("to", &self.to),
        ];
        let set: Vec<String> = pairs.iter().filter_map(|(n, v)| v.as_ref().map(|v| format!("{n}={v}"))).collect();
        if set.is_empty() {
            "no filters".to_owned()
        } else {
            set.join("&")
        }
    }
}

/// `GET /v1/surveys/{id}/distance` parameters: a scale question, two stages, and filters.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DistanceQuery {
    pub question_id: String,
    /// Earlier stage (default `start`).
    pub from_stage: Option<String>,
    /// Later stage (default `end`).
    pub to_stage: Option<String>,
    pub intervention_type: Option<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub looked_after: Option<String>,
    /// Later-stage assignments due on or after this date.
    pub from: Option<String>,
    /// Later-stage assignments due on or before this date.
    pub to: Option<String>,
}

/// The staff page a single sign-on returns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SsoPage {
    #[default]
    Console,
    Admin,
}

/// `GET /v1/auth/sso/start` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SsoStartQuery {
    /// The page to come back to, signed in: `console` (default) or `admin`.
    pub page: Option<SsoPage>,
}

/// `GET /v1/auth/sso/callback` query: what the identity provider sends the browser back with.
/// Unknown parameters (`iss`, `session_state` …) are ignored: providers add their own.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SsoCallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The provider's refusal (`access_denied` …), in place of a code.
    pub error: Option<String>,
}
