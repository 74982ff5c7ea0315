//! Signing in and the caller's own account: `/v1/auth/*`, `/v1/me`, `/v1/me/password`,
//! `/v1/ws-ticket`.

use reqwest::Method;

use super::{Client, Result};
use crate::{
    AnonymousRequest, LoginRequest, PasswordChange, PasswordResetRequest, RefreshRequest, SessionList, SessionsEnded,
    TokenResponse, UserView, WsTicketResponse,
};

impl Client {
    /// `POST /v1/auth/anonymous`.
    pub async fn anonymous(&self) -> Result<TokenResponse> {
        self.call(Method::POST, "/v1/auth/anonymous", None, Some(&AnonymousRequest {})).await
    }

    /// `POST /v1/auth/login`.
    pub async fn login(&self, username: &str, password: &str) -> Result<TokenResponse> {
        let req = LoginRequest { username: username.into(), password: password.into() };
        self.call(Method::POST, "/v1/auth/login", None, Some(&req)).await
    }

    /// `POST /v1/auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse> {
        let req = RefreshRequest { refresh_token: refresh_token.into() };
        self.call(Method::POST, "/v1/auth/refresh", None, Some(&req)).await
    }

    /// `POST /v1/auth/logout`: ends the refresh token's session.
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let req = RefreshRequest { refresh_token: refresh_token.into() };
        let _: serde_json::Value = self.call(Method::POST, "/v1/auth/logout", None, Some(&req)).await?;
        Ok(())
    }

    /// `POST /v1/auth/password-reset`: a new password with an admin's one-time code.
    pub async fn reset_password(&self, code: &str, new_password: &str) -> Result<()> {
        let req = PasswordResetRequest { code: code.into(), new_password: new_password.into() };
        self.call_empty(Method::POST, "/v1/auth/password-reset", None, Some(&req)).await
    }

    /// `GET /v1/me`.
    pub async fn me(&self, token: &str) -> Result<UserView> {
        self.call::<(), _>(Method::GET, "/v1/me", Some(token), None).await
    }

    /// `POST /v1/me/password`: every session of the account ends (sign in again).
    pub async fn change_password(&self, token: &str, req: &PasswordChange) -> Result<()> {
        self.call_empty(Method::POST, "/v1/me/password", Some(token), Some(req)).await
    }

    /// `POST /v1/ws-ticket`.
    pub async fn ws_ticket(&self, token: &str) -> Result<WsTicketResponse> {
        self.call::<(), _>(Method::POST, "/v1/ws-ticket", Some(token), None).await
    }

    /// `GET /v1/me/sessions`: the caller's live sessions.
    pub async fn my_sessions(&self, token: &str) -> Result<SessionList> {
        self.get("/v1/me/sessions", token).await
    }

    /// `DELETE /v1/me/sessions`: ends every session of the caller but the current one.
    pub async fn end_my_other_sessions(&self, token: &str) -> Result<SessionsEnded> {
        self.call::<(), _>(Method::DELETE, "/v1/me/sessions", Some(token), None).await
    }

    /// `DELETE /v1/me/sessions/{id}`: ends one of the caller's sessions.
    pub async fn end_my_session(&self, token: &str, session_id: &str) -> Result<()> {
        self.call_empty::<()>(Method::DELETE, &format!("/v1/me/sessions/{session_id}"), Some(token), None).await
    }
}
