//! The directory of local services, and sharing an entry into a chat as a `service_card`
//! (`/v1/services*`, `/v1/conversations/{id}/service-cards`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::MessageId;

/// A local service in the directory (`GET /v1/services`). Shared into a chat, it is the
/// `body` of a `service_card` message, as a JSON object in a string: a snapshot of the entry
/// when it was shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceView {
    pub id: String,
    pub name: String,
    /// A short lowercase tag chosen by the YOT, e.g. `prevention`, `diversion`, `health`.
    pub category: String,
    pub description: String,
    /// Where it works, e.g. a town or "county-wide".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `https://` or `http://` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Opening times, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// Retired entries are listed only to YOT admins (`include_retired=true`).
    #[serde(default)]
    pub retired: bool,
}

/// `GET /v1/services` answer: at most 100, by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceList {
    pub services: Vec<ServiceView>,
}

/// `POST /v1/services` and `PUT /v1/services/{id}` (the whole entry).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    pub name: String,
    pub category: String,
    pub description: String,
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub hours: Option<String>,
    #[serde(default)]
    pub min_age: Option<u32>,
    #[serde(default)]
    pub max_age: Option<u32>,
}

/// `POST /v1/conversations/{id}/service-cards`: share a directory entry into a chat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareServiceRequest {
    pub service_id: String,
    /// As for `send`: the same id again is answered with the first message, not a second.
    pub client_msg_id: String,
}

/// The `service_card` message a share stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceCardSent {
    pub message_id: MessageId,
    pub seq: i64,
    pub card: ServiceView,
}
