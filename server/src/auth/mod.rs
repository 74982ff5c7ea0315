//! Authentication: access tokens (JWT), rotating refresh tokens with reuse detection,
//! single-use WebSocket tickets, staff passwords, and [`AuthUser`], the authenticated caller
//! (its extractor is in the HTTP layer, `http::extract`).

pub mod jwt;
pub mod passwords;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use talkzone_mobile_api::{Role, TokenResponse, UserId, UserView, WsTicketResponse};

use crate::clock::Clock;
use crate::error::ApiError;
use crate::model::{AuditAction, AuditTarget};
use crate::store::{RotateOutcome, Store, UserRecord};
use jwt::{Claims, JwtKeys};

/// Refresh tokens last this long unless used.
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// WebSocket tickets last this long (protocol: 30 s).
pub const TICKET_TTL: Duration = Duration::from_secs(30);

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
    pub display_name: String,
}

impl AuthUser {
    pub fn view(&self) -> UserView {
        UserView { id: self.id.clone(), role: self.role, display_name: self.display_name.clone() }
    }

    /// Refuses callers whose role is not in `allowed`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("your role may not do this"))
        }
    }
}

pub struct Auth {
    keys: JwtKeys,
    access_ttl: Duration,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

/// A random secret, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Secrets are stored only as hashes: a database leak does not leak live tokens.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// The signing key: from configuration, or made once and kept in the data directory.
pub fn load_or_create_secret(configured: Option<&str>, data_dir: &Path) -> std::io::Result<Vec<u8>> {
    if let Some(s) = configured {
        return Ok(s.as_bytes().to_vec());
    }
    let path = data_dir.join("jwt.key");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => Ok(s.trim().as_bytes().to_vec()),
        _ => {
            let key = format!("{}{}", random_token(), random_token());
            std::fs::write(&path, &key)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(key.into_bytes())
        }
    }
}

impl Auth {
    pub fn new(secret: &[u8], access_ttl: Duration, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { keys: JwtKeys::hs256(secret), access_ttl, store, clock }
    }

    fn access_token(&self, user: &UserRecord) -> Result<String, ApiError> {
        let now_ms = self.clock.now_ms();
        let now = (now_ms / 1000).max(0) as u64;
        let claims = Claims {
            iat_ms: now_ms,
            sub: user.id.clone(),
            role: user.role.as_str().to_owned(),
            iat: now,
            exp: now + self.access_ttl.as_secs(),
            jti: crate::ids::random_id(),
            aud: jwt::AUDIENCE.into(),
            iss: jwt::ISSUER.into(),
        };
        self.keys.sign(&claims).map_err(|e| ApiError::Internal(format!("signing failed: {e}")))
    }

    fn response(&self, user: &UserRecord, refresh_token: String) -> Result<TokenResponse, ApiError> {
        Ok(TokenResponse {
            access_token: self.access_token(user)?,
            refresh_token,
            expires_in: self.access_ttl.as_secs(),
            user: user_view(user)?,
        })
    }

    /// Starts a new session (a new refresh-token family).
    pub async fn start_session(&self, user: &UserRecord) -> Result<TokenResponse, ApiError> {
        let refresh = random_token();
        let now = self.clock.now_ms();
        self.store
            .create_refresh_token(None, &user.id, &hash_secret(&refresh), now, now + REFRESH_TTL.as_millis() as i64)
            .await?;
        self.response(user, refresh)
    }

    /// Starts a new session for an account found by something other than a password (a device
    /// credential, a recovery phrase); a suspended account cannot sign in.
    pub async fn start_session_for(&self, user_id: &str) -> Result<TokenResponse, ApiError> {
        let user = self.active_user(user_id).await?;
        self.start_session(&user).await
    }

    /// Rotates a refresh token. Reuse of a spent token revokes its family.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, ApiError> {
        let next = random_token();
        let now = self.clock.now_ms();
        let outcome = self
            .store
            .rotate_refresh_token(
                &hash_secret(refresh_token),
                &hash_secret(&next),
                now,
                now + REFRESH_TTL.as_millis() as i64,
            )
            .await?;
        match outcome {
            RotateOutcome::Rotated { user_id } => {
                let user = self.active_user(&user_id).await?;
                self.response(&user, next)
            }
            RotateOutcome::Reused { user_id } => {
                crate::audit::record(
                    self.store.as_ref(),
                    self.clock.now_ms(),
                    Some(&user_id),
                    AuditAction::RefreshTokenReused,
                    AuditTarget::User,
                    &user_id,
                    Some("a spent refresh token was presented; the session was revoked".into()),
                )
                .await;
                Err(ApiError::Unauthorized("this session has ended; please sign in again"))
            }
            RotateOutcome::Invalid => Err(ApiError::Unauthorized("this session has ended; please sign in again")),
        }
    }

    /// Signs the user out everywhere: every refresh token revoked, every access token issued so
    /// far refused and every device credential forgotten. Returns the user, so the caller can close their sockets.
    pub async fn logout(&self, refresh_token: &str) -> Result<Option<String>, ApiError> {
        let now = self.clock.now_ms();
        let user = self.store.revoke_refresh_family(&hash_secret(refresh_token), now).await?;
        if let Some(u) = &user {
            self.store.end_sessions(u, None, now, None).await?;
            // Signed out everywhere: no device remembers them either (the recovery phrase,
            // written down, stays their way back).
            self.store.delete_device_credentials(u).await?;
        }
        Ok(user)
    }

    /// Changes a password after checking the current one, and ends every session.
    pub async fn change_password(&self, user: &AuthUser, current: &str, new: &str) -> Result<(), ApiError> {
        passwords::check_strength(new)?;
        let record = self.active_user(user.id.as_str()).await?;
        if !passwords::verify(current.to_owned(), record.password_hash.clone()).await {
            return Err(ApiError::Unauthorized("the current password is not right"));
        }
        let hash = passwords::hash_blocking(new.to_owned()).await?;
        let now = self.clock.now_ms();
        let entry = crate::audit::event(
            now,
            Some(user.id.as_str()),
            AuditAction::PasswordChanged,
            AuditTarget::User,
            user.id.as_str(),
            None,
        );
        self.store.end_sessions(user.id.as_str(), Some(&hash), now, Some(entry)).await?;
        Ok(())
    }

    /// Checks a username and password.
    pub async fn login(&self, username: &str, password: &str) -> Result<TokenResponse, ApiError> {
        let user = self.store.user_by_username(username).await?;
        let ok = passwords::verify(password.to_owned(), user.as_ref().and_then(|u| u.password_hash.clone())).await;
        match user {
            Some(u) if ok && u.suspended_at.is_none() => self.start_session(&u).await,
            _ => Err(ApiError::Unauthorized("wrong username or password")),
        }
    }

    /// Verifies an access token and loads its user (a suspended user is refused even with a
    /// valid token, since JWTs cannot be revoked).
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser, ApiError> {
        let claims = self.keys.verify(token).map_err(|_| ApiError::Unauthorized("invalid or expired access token"))?;
        let user = self.active_user(&claims.sub).await?;
        if user.role.as_str() != claims.role {
            return Err(ApiError::Unauthorized("invalid or expired access token"));
        }
        // Signed out everywhere (or password changed) after this token was issued.
        if user.tokens_valid_after.is_some_and(|t| claims.iat_ms < t) {
            return Err(ApiError::Unauthorized("this session has ended; please sign in again"));
        }
        auth_user(&user)
    }

    async fn active_user(&self, id: &str) -> Result<UserRecord, ApiError> {
        match self.store.user(id).await? {
            Some(u) if u.suspended_at.is_none() => Ok(u),
            _ => Err(ApiError::Unauthorized("this account cannot sign in")),
        }
    }

    pub async fn issue_ticket(&self, user: &AuthUser) -> Result<WsTicketResponse, ApiError> {
        let ticket = random_token();
        let expires = self.clock.now_ms() + TICKET_TTL.as_millis() as i64;
        self.store.create_ws_ticket(&hash_secret(&ticket), user.id.as_str(), expires).await?;
        Ok(WsTicketResponse { ticket, expires_in: TICKET_TTL.as_secs() })
    }

    pub async fn redeem_ticket(&self, ticket: &str) -> Result<AuthUser, ApiError> {
        let user_id = self
            .store
            .consume_ws_ticket(&hash_secret(ticket), self.clock.now_ms())
            .await?
            .ok_or(ApiError::Unauthorized("invalid, used or expired ticket"))?;
        auth_user(&self.active_user(&user_id).await?)
    }
}

pub fn user_view(u: &UserRecord) -> Result<UserView, ApiError> {
    let role = u.role;
    Ok(UserView { id: UserId(u.id.clone()), role, display_name: u.display_name.clone() })
}

fn auth_user(u: &UserRecord) -> Result<AuthUser, ApiError> {
    let v = user_view(u)?;
    Ok(AuthUser { id: v.id, role: v.role, display_name: v.display_name })
}
