//! Support chats: `/v1/conversations/*` (opening, the queue, history, handing over, closing,
//! tags and notes) and `/v1/outcomes`.

use reqwest::{Method, StatusCode};

use super::{Client, Result};
use crate::{
    CloseRequest, ConversationId, ConversationList, ConversationListQuery, ConversationState, ConversationView,
    CreateConversationRequest, EarlierChatList, EndChatRequest, MarkAbuseRequest, MessagesPage, NoteList, NoteRequest,
    NoteView, OutcomeList, RequeueRequest, TagsRequest, TransferRequest,
};

impl Client {
    /// `POST /v1/conversations`: 201 for a new conversation, 200 for the caller's open one.
    pub async fn open_conversation(
        &self,
        token: &str,
        req: &CreateConversationRequest,
    ) -> Result<(StatusCode, ConversationView)> {
        self.request(Method::POST, "/v1/conversations", Some(token), Some(req)).await
    }

    /// `GET /v1/conversations` with optional `state` filter.
    pub async fn list_conversations(&self, token: &str, state: Option<ConversationState>) -> Result<ConversationList> {
        let path = match state {
            Some(s) => format!("/v1/conversations?state={}", s.as_str()),
            None => "/v1/conversations".to_owned(),
        };
        self.call::<(), _>(Method::GET, &path, Some(token), None).await
    }

    /// `GET /v1/conversations` with every filter and paging (`next_offset`).
    pub async fn list_conversations_with(
        &self,
        token: &str,
        query: &ConversationListQuery,
    ) -> Result<ConversationList> {
        self.get_query("/v1/conversations", token, query).await
    }

    /// `GET /v1/conversations/{id}`.
    pub async fn conversation(&self, token: &str, id: &ConversationId) -> Result<ConversationView> {
        self.call::<(), _>(Method::GET, &format!("/v1/conversations/{id}"), Some(token), None).await
    }

    /// `GET /v1/conversations/{id}/messages`.
    pub async fn messages(
        &self,
        token: &str,
        id: &ConversationId,
        after_seq: i64,
        limit: Option<u32>,
    ) -> Result<MessagesPage> {
        let mut path = format!("/v1/conversations/{id}/messages?after_seq={after_seq}");
        if let Some(l) = limit {
            path.push_str(&format!("&limit={l}"));
        }
        self.call::<(), _>(Method::GET, &path, Some(token), None).await
    }

    /// `POST /v1/conversations/{id}/accept` (duty_worker, supervisor).
    pub async fn accept(&self, token: &str, id: &ConversationId) -> Result<ConversationView> {
        self.call::<(), _>(Method::POST, &format!("/v1/conversations/{id}/accept"), Some(token), None).await
    }

    /// `POST /v1/conversations/{id}/join` (supervisor): join a support chat as a second staff member.
    pub async fn join_conversation(&self, token: &str, id: &ConversationId) -> Result<ConversationView> {
        self.call::<(), _>(Method::POST, &format!("/v1/conversations/{id}/join"), Some(token), None).await
    }

    /// `POST /v1/conversations/{id}/transfer`: hand the chat to another worker.
    pub async fn transfer_conversation(
        &self,
        token: &str,
        id: &ConversationId,
        req: &TransferRequest,
    ) -> Result<ConversationView> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/transfer"), Some(token), Some(req)).await
    }

    /// `POST /v1/conversations/{id}/requeue`: put the chat back in the queue.
    pub async fn requeue_conversation(
        &self,
        token: &str,
        id: &ConversationId,
        req: &RequeueRequest,
    ) -> Result<ConversationView> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/requeue"), Some(token), Some(req)).await
    }

    /// `POST /v1/conversations/{id}/abuse`: close the chat as abuse and block its source for a
    /// while (supervisors).
    pub async fn mark_abuse(
        &self,
        token: &str,
        id: &ConversationId,
        req: &MarkAbuseRequest,
    ) -> Result<ConversationView> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/abuse"), Some(token), Some(req)).await
    }

    /// `POST /v1/conversations/{id}/close`, with one of the outcomes of [`Client::list_outcomes`].
    pub async fn close_conversation(
        &self,
        token: &str,
        id: &ConversationId,
        req: &CloseRequest,
    ) -> Result<ConversationView> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/close"), Some(token), Some(req)).await
    }

    /// `POST /v1/conversations/{id}/end` (the chat's young person): end one's own chat.
    pub async fn end_conversation(
        &self,
        token: &str,
        id: &ConversationId,
        req: &EndChatRequest,
    ) -> Result<ConversationView> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/end"), Some(token), Some(req)).await
    }

    /// `PUT /v1/conversations/{id}/tags` (staff): replaces the chat's tags.
    pub async fn set_tags(&self, token: &str, id: &ConversationId, req: &TagsRequest) -> Result<ConversationView> {
        self.call(Method::PUT, &format!("/v1/conversations/{id}/tags"), Some(token), Some(req)).await
    }

    /// `POST /v1/conversations/{id}/notes` (staff; never shown to the young person).
    pub async fn add_note(&self, token: &str, id: &ConversationId, req: &NoteRequest) -> Result<NoteView> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/notes"), Some(token), Some(req)).await
    }

    /// `GET /v1/conversations/{id}/notes` (staff).
    pub async fn list_notes(&self, token: &str, id: &ConversationId) -> Result<NoteList> {
        self.get(&format!("/v1/conversations/{id}/notes"), token).await
    }

    /// `GET /v1/conversations/{id}/earlier` (staff who may read the chat): the young person's
    /// other support chats, newest first, as summaries.
    pub async fn earlier_chats(&self, token: &str, id: &ConversationId) -> Result<EarlierChatList> {
        self.get(&format!("/v1/conversations/{id}/earlier"), token).await
    }

    /// `GET /v1/outcomes` (staff): the outcomes a chat may close with.
    pub async fn list_outcomes(&self, token: &str) -> Result<OutcomeList> {
        self.get("/v1/outcomes", token).await
    }
}
