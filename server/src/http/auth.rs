//! `/v1/auth/*`: anonymous accounts, staff login, refresh and logout. Every route here is
//! rate limited per client IP; login also per account.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use talkzone_mobile_api::{
    AnonymousRequest, ErrorBody, LoginAnswer, LoginRequest, PasskeyOptions, PasskeySignInFinish, PasskeySignInStart,
    PasswordResetRequest, RefreshRequest, Role, SecondFactorRequest, SsoCallbackQuery, SsoStartQuery, TokenResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiQuery, ClientIp, SignInFrom};
use crate::auth::sso::SsoPagePath as _;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::NewUser;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_anonymous_session))
        .routes(routes!(login))
        .routes(routes!(login_second_factor))
        .routes(routes!(login_passkey_start))
        .routes(routes!(login_passkey))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(reset_password))
        .routes(routes!(sso_start))
        .routes(routes!(sso_callback))
}

/// `GET /v1/auth/sso/start`: single sign-on for staff (the sign-in page's "Sign in with your
/// council account" link): `303` to the council's identity provider (OpenID Connect,
/// authorization code with PKCE; state, nonce and verifier kept here, single use, 10 minutes).
/// Refusals are a page (HTML) saying why, as the person arrived by a link: `404` when no
/// identity provider is configured, `503` when it cannot be reached (or its discovery document
/// names another issuer than the configured one). Roles: anyone. Rate limited per IP.
#[utoipa::path(get, path = "/v1/auth/sso/start", tag = "auth", params(SsoStartQuery),
    responses((status = 303, description = "to the identity provider (`Location`)"),
        (status = 400, description = "an unknown page", body = ErrorBody),
        (status = 404, description = "no identity provider is configured", content_type = "text/html", body = String),
        (status = 429, description = "too many requests", content_type = "text/html", body = String),
        (status = 503, description = "the identity provider cannot be reached", content_type = "text/html", body = String)))]
async fn sso_start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiQuery(q): ApiQuery<SsoStartQuery>,
) -> Response {
    let started = async {
        state.limits.check_auth_ip(ip)?;
        state.auth.sso_start(q.page.unwrap_or_default()).await
    };
    match started.await {
        Ok(to) => see_other(&to),
        Err(e) => {
            super::error::log(&e);
            refusal_page(super::error::status(&e), &e.to_string())
        }
    }
}

/// `GET /v1/auth/sso/callback`: where the identity provider sends the browser back. The state is
/// taken (once), the code exchanged with the PKCE verifier, the ID token verified (signature,
/// issuer, audience, expiry, nonce); the account is the one bound to the provider's subject, made
/// at the first sign-in only for a mapped role, its role following the claim. `303` to the page
/// with the new session's refresh token in the URL's fragment (`#sso=…`, never sent to a
/// server; the page spends it at once on `POST /v1/auth/refresh`). Refusals are a page (HTML)
/// saying why: `400` without a code or state, `401` for a state unknown, used or expired and for
/// a sign-in that does not verify, `403` without a mapped role or for a suspended or offboarded
/// account (both audited `sso_refused`). Roles: anyone. Rate limited per IP.
#[utoipa::path(get, path = "/v1/auth/sso/callback", tag = "auth", params(SsoCallbackQuery),
    responses((status = 303, description = "to the page, signed in (`Location`)"),
        (status = 400, description = "no code or state", content_type = "text/html", body = String),
        (status = 401, description = "refused", content_type = "text/html", body = String),
        (status = 403, description = "refused", content_type = "text/html", body = String),
        (status = 404, description = "no identity provider is configured", content_type = "text/html", body = String),
        (status = 429, description = "too many requests", content_type = "text/html", body = String),
        (status = 503, description = "the identity provider cannot be reached", content_type = "text/html", body = String)))]
async fn sso_callback(
    State(state): State<AppState>,
    SignInFrom { ip, context: from }: SignInFrom,
    ApiQuery(q): ApiQuery<SsoCallbackQuery>,
) -> Response {
    let finished = async {
        state.limits.check_auth_ip(ip)?;
        if q.error.is_some() {
            return Err(ApiError::Unauthorized("the council's sign-in service did not sign you in: start again"));
        }
        let (Some(code), Some(sso_state)) = (q.code.as_deref(), q.state.as_deref()) else {
            return Err(ApiError::BadRequest("this sign-in link is incomplete (no code or state): start again".into()));
        };
        state.auth.sso_finish(code, sso_state, &from).await
    };
    match finished.await {
        Ok(done) => see_other(&format!("{}#sso={}", done.page.path(), done.tokens.refresh_token)),
        Err(e) => {
            super::error::log(&e);
            refusal_page(super::error::status(&e), &e.to_string())
        }
    }
}

fn see_other(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v), (header::CACHE_CONTROL, no_store())]).into_response(),
        Err(_) => ApiError::Internal("a redirect that is not a header".into()).into_response(),
    }
}

fn no_store() -> HeaderValue {
    HeaderValue::from_static("no-store")
}

/// A refused single sign-on, as a page the person can read (they arrived by a redirect, not from
/// a script): why, and the way back.
fn refusal_page(status: StatusCode, why: &str) -> Response {
    let why: String = why
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>Sign-in refused: Talk Zone</title>\
         <link rel=\"stylesheet\" href=\"/web/talkzone.css\"></head><body><main><h1>You are not signed in</h1>\
         <p id=\"sso-refused\">{why}</p><p><a href=\"/console\">Back to the sign-in page</a></p></main></body></html>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::web::PAGE_POLICY)),
            (header::CACHE_CONTROL, no_store()),
        ],
        html,
    )
        .into_response()
}

/// `POST /v1/auth/password-reset`: a new password with the one-time code a YOT admin gave;
/// every session of the account ends (sign in again). `401` for a code that is not valid, used
/// or expired; `422` for a password that does not pass the checks (the code still works).
/// Roles: anyone with a code. Rate limited per IP.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth", request_body = PasswordResetRequest,
    responses((status = 200, description = "set; sign in with it"), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    state.limits.check_auth_ip(ip)?;
    state.auth.reset_password(&req.code, &req.new_password).await?;
    Ok(ApiJson(serde_json::json!({})))
}

/// `POST /v1/auth/anonymous`: creates a pseudonymous young person with a friendly random
/// display name and no personal data. Roles: anyone. Rate limited per IP; past a few free
/// sign-ups an address waits longer before each next one (429 with `Retry-After`); refused
/// (403) from an address blocked after one of its chats was marked as abuse.
#[utoipa::path(post, path = "/v1/auth/anonymous", tag = "auth", request_body = AnonymousRequest,
    responses((status = 201, body = TokenResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn create_anonymous_session(
    State(state): State<AppState>,
    SignInFrom { ip, context: from }: SignInFrom,
    ApiJson(_req): ApiJson<AnonymousRequest>,
) -> ApiResult<(StatusCode, ApiJson<TokenResponse>)> {
    state.limits.check_auth_ip(ip)?;
    if state.store.source_blocked_until(&state.limits.source_key(ip), state.clock.now_ms()).await?.is_some() {
        return Err(ApiError::ForbiddenBecause(
            "We can't start a new chat account from the network you're on right now. If you're in danger now, call \
             999. Childline is free on 0800 1111, any time, or text SHOUT to 85258."
                .into(),
        ));
    }
    state.limits.check_signup(ip)?;
    let user = state
        .store
        .create_user(
            NewUser {
                id: crate::ids::random_id(),
                role: Role::YoungPerson,
                username: None,
                password_hash: None,
                display_name: crate::names::friendly_name(),
                created_at: state.clock.now_ms(),
            },
            None,
        )
        .await?;
    Ok((StatusCode::CREATED, ApiJson(state.auth.start_session(&user, "anonymous", &from).await?)))
}

/// `POST /v1/auth/login`: staff and registered users; starts a session, or (staff, under the
/// second-factor setting) answers the challenge of the second step. Roles: anyone. Rate
/// limited per IP; failures throttled per account and source together, with growing waits
/// (429 with `Retry-After`), so nobody else's failures refuse the right password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginAnswer, description = "the tokens, or `second_factor`: the challenge of the second step"),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    SignInFrom { ip, context: from }: SignInFrom,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<ApiJson<LoginAnswer>> {
    state.limits.check_auth_ip(ip)?;
    Ok(ApiJson(state.auth.login(&req.username, &req.password, &from).await?))
}

/// `POST /v1/auth/login/second-factor`: the second step: a code from the authenticator app
/// (or a recovery code) for the challenge the password step gave; on enrolment, a code from the
/// secret it offered, and the answer carries the recovery codes (shown once). `401` for a
/// wrong, used or replayed code and for an expired challenge (or one tried too often); `429`
/// while this source must wait. Roles: holder of a challenge. Rate limited per IP.
#[utoipa::path(post, path = "/v1/auth/login/second-factor", tag = "auth", request_body = SecondFactorRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login_second_factor(
    State(state): State<AppState>,
    SignInFrom { ip, context: from }: SignInFrom,
    ApiJson(req): ApiJson<SecondFactorRequest>,
) -> ApiResult<ApiJson<TokenResponse>> {
    state.limits.check_auth_ip(ip)?;
    Ok(ApiJson(state.auth.second_factor(&req.challenge, &req.code, &from).await?))
}

/// `POST /v1/auth/login/passkey/start`: the passkey step of a sign-in (when the password step
/// said `passkey: true`): the options for `navigator.credentials.get`, bound to the challenge
/// the password step gave (a try at it; asking again replaces the options). `401` for an
/// expired challenge (or one tried too often); `400` when the account has no passkey; `503`
/// when this server's origin allows no passkeys. Roles: holder of a challenge. Rate limited
/// per IP.
#[utoipa::path(post, path = "/v1/auth/login/passkey/start", tag = "auth", request_body = PasskeySignInStart,
    responses((status = 200, body = PasskeyOptions), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn login_passkey_start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<PasskeySignInStart>,
) -> ApiResult<ApiJson<PasskeyOptions>> {
    state.limits.check_auth_ip(ip)?;
    Ok(ApiJson(state.auth.start_passkey_sign_in(&req.challenge).await?))
}

/// `POST /v1/auth/login/passkey`: the passkey's assertion for the sign-in's challenge; the
/// session's tokens, as after a code. The options work once: `401` for an assertion that does
/// not verify (another account's passkey, a forged or replayed one, a signature counter that
/// went backwards: audited `passkey_counter_regressed`), for options used or expired and for an
/// expired challenge; wrong answers are throttled like wrong codes (`429`). Roles: holder of a
/// challenge. Rate limited per IP.
#[utoipa::path(post, path = "/v1/auth/login/passkey", tag = "auth", request_body = PasskeySignInFinish,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn login_passkey(
    State(state): State<AppState>,
    SignInFrom { ip, context: from }: SignInFrom,
    ApiJson(req): ApiJson<PasskeySignInFinish>,
) -> ApiResult<ApiJson<TokenResponse>> {
    state.limits.check_auth_ip(ip)?;
    Ok(ApiJson(state.auth.finish_passkey_sign_in(&req.challenge, req.credential, &from).await?))
}

/// `POST /v1/auth/refresh`: rotates the refresh token; reusing a spent one revokes the
/// session. Roles: holder of a refresh token.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<ApiJson<TokenResponse>> {
    state.limits.check_auth_ip(ip)?;
    Ok(ApiJson(state.auth.refresh(&req.refresh_token).await?))
}

/// `POST /v1/auth/logout`: ends the session the refresh token belongs to: its refresh tokens
/// revoked, its access tokens refused, its open WebSockets closed (4001) at once. The
/// account's other sessions go on. Roles: holder of a refresh token.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "signed out"), (status = 429, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    state.limits.check_auth_ip(ip)?;
    state.auth.logout(&req.refresh_token).await?;
    Ok(ApiJson(serde_json::json!({})))
}
