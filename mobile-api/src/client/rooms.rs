//! Peer rooms: `/v1/rooms*`.

use reqwest::Method;

use super::{Client, Result};
use crate::{ConversationId, ConversationView, CreateRoomRequest, RoomList};

impl Client {
    /// `POST /v1/rooms` (yot_admin).
    pub async fn create_room(&self, token: &str, req: &CreateRoomRequest) -> Result<ConversationView> {
        self.call(Method::POST, "/v1/rooms", Some(token), Some(req)).await
    }

    /// `GET /v1/rooms`: the rooms the caller may see.
    pub async fn list_rooms(&self, token: &str) -> Result<RoomList> {
        self.get("/v1/rooms", token).await
    }

    /// `POST /v1/rooms/{id}/join`.
    pub async fn join_room(&self, token: &str, id: &ConversationId) -> Result<ConversationView> {
        self.call::<(), _>(Method::POST, &format!("/v1/rooms/{id}/join"), Some(token), None).await
    }

    /// `POST /v1/rooms/{id}/leave`.
    pub async fn leave_room(&self, token: &str, id: &ConversationId) -> Result<ConversationView> {
        self.call::<(), _>(Method::POST, &format!("/v1/rooms/{id}/leave"), Some(token), None).await
    }
}
