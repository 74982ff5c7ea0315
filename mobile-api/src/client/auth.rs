//! Signing in and the caller's own account: `/v1/auth/*`, `/v1/me`, `/v1/me/password`,
//! `/v1/ws-ticket`.

use reqwest::{Method, StatusCode};

use super::{Client, Result};
use crate::{
    AnonymousRequest, LoginAnswer, LoginRequest, PasskeyList, PasskeyOptions, PasskeyRegistrationFinish,
    PasskeyRegistrationStarted, PasskeySignInFinish, PasskeySignInStart, PasskeyView, PasswordChange,
    PasswordResetRequest, RefreshRequest, SecondFactorRequest, SessionList, SessionsEnded, SsoPage, TokenResponse,
    UserView, WsTicketResponse,
};

impl Client {
    /// `POST /v1/auth/anonymous`.
    pub async fn anonymous(&self) -> Result<TokenResponse> {
        self.call(Method::POST, "/v1/auth/anonymous", None, Some(&AnonymousRequest {})).await
    }

    /// `POST /v1/auth/login`: the tokens, or [`ClientError::SecondFactorRequired`] with the
    /// challenge to answer with [`Client::login_second_factor`].
    ///
    /// [`ClientError::SecondFactorRequired`]: super::ClientError::SecondFactorRequired
    pub async fn login(&self, username: &str, password: &str) -> Result<TokenResponse> {
        let req = LoginRequest { username: username.into(), password: password.into() };
        match self.call(Method::POST, "/v1/auth/login", None, Some(&req)).await? {
            LoginAnswer::Tokens(tokens) => Ok(tokens),
            LoginAnswer::SecondFactor(step) => {
                Err(super::ClientError::SecondFactorRequired(Box::new(step.second_factor)))
            }
        }
    }

    /// `POST /v1/auth/login/second-factor`: a code from the authenticator (or a recovery code)
    /// for the challenge `login` gave; on enrolment the answer carries the recovery codes.
    pub async fn login_second_factor(&self, challenge: &str, code: &str) -> Result<TokenResponse> {
        let req = SecondFactorRequest { challenge: challenge.into(), code: code.into() };
        self.call(Method::POST, "/v1/auth/login/second-factor", None, Some(&req)).await
    }

    /// `POST /v1/auth/login/passkey/start`: the options for a passkey (WebAuthn `get`) for the
    /// challenge `login` gave, when it said `passkey`.
    pub async fn login_passkey_start(&self, challenge: &str) -> Result<PasskeyOptions> {
        let req = PasskeySignInStart { challenge: challenge.into() };
        self.call(Method::POST, "/v1/auth/login/passkey/start", None, Some(&req)).await
    }

    /// `POST /v1/auth/login/passkey`: the passkey's assertion (the `PublicKeyCredential` as
    /// JSON) for the challenge; the session's tokens.
    pub async fn login_passkey(&self, challenge: &str, credential: serde_json::Value) -> Result<TokenResponse> {
        let req = PasskeySignInFinish { challenge: challenge.into(), credential };
        self.call(Method::POST, "/v1/auth/login/passkey", None, Some(&req)).await
    }

    /// `GET /v1/me/passkeys`: the caller's passkeys (staff).
    pub async fn my_passkeys(&self, token: &str) -> Result<PasskeyList> {
        self.get("/v1/me/passkeys", token).await
    }

    /// `POST /v1/me/passkeys/registration`: the options for a new passkey (WebAuthn `create`).
    pub async fn start_passkey_registration(&self, token: &str) -> Result<PasskeyRegistrationStarted> {
        self.call::<(), _>(Method::POST, "/v1/me/passkeys/registration", Some(token), None).await
    }

    /// `POST /v1/me/passkeys`: the new passkey's attestation for a registration.
    pub async fn add_passkey(&self, token: &str, req: &PasskeyRegistrationFinish) -> Result<PasskeyView> {
        self.call(Method::POST, "/v1/me/passkeys", Some(token), Some(req)).await
    }

    /// `DELETE /v1/me/passkeys/{id}`: removes one of the caller's passkeys.
    pub async fn remove_passkey(&self, token: &str, id: &str) -> Result<()> {
        self.call_empty::<()>(Method::DELETE, &format!("/v1/me/passkeys/{id}"), Some(token), None).await
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

    /// `GET /v1/auth/sso/start`: where the browser is sent to sign in at the identity provider
    /// (the `Location` of the `303`), or the refusal (its page, HTML, as the error's text).
    pub async fn sso_start(&self, page: SsoPage) -> Result<String> {
        let page = match page {
            SsoPage::Console => "console",
            SsoPage::Admin => "admin",
        };
        let (status, location, body) = self.unfollowed(&format!("/v1/auth/sso/start?page={page}")).await?;
        match location {
            Some(to) if status == StatusCode::SEE_OTHER => Ok(to),
            _ => Err(match serde_json::from_str(&body) {
                Ok(body) => super::ClientError::Api { status: status.as_u16(), body, retry_after: None },
                Err(_) => super::ClientError::Status { status: status.as_u16(), text: body },
            }),
        }
    }

    /// `GET /v1/auth/sso/callback?{query}`: as the identity provider sends the browser back.
    /// The answer as a browser sees it: a `303` to the page (the session's refresh token in its
    /// fragment), or the refusal's status with its page (HTML).
    pub async fn sso_callback(&self, query: &str) -> Result<(StatusCode, Option<String>, String)> {
        self.unfollowed(&format!("/v1/auth/sso/callback?{query}")).await
    }

    /// A GET whose redirect is answered, not followed.
    async fn unfollowed(&self, path: &str) -> Result<(StatusCode, Option<String>, String)> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(self.headers.clone())
            .build()
            .map_err(|e| super::ClientError::Transport(e.to_string()))?;
        let url = self.base.join(path).map_err(|e| super::ClientError::Transport(e.to_string()))?;
        let res = http.get(url).send().await.map_err(|e| super::ClientError::Transport(e.to_string()))?;
        let status = res.status();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = res.text().await.map_err(|e| super::ClientError::Transport(e.to_string()))?;
        Ok((status, location, body))
    }
}
