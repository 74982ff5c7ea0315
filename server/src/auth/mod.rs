//! Authentication: sessions (one per sign-in, kept as records), access tokens (JWT) that name
//! their session, rotating refresh tokens with reuse detection, single-use WebSocket tickets,
//! staff passwords, and [`AuthUser`], the authenticated caller (its extractor is in the HTTP
//! layer, `http::extract`).

mod common_passwords;
pub mod jwt;
pub mod passkeys;
pub mod passwords;
pub mod second_factor;
mod signin;
pub mod sso;
mod throttle;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use talkzone_mobile_api::{Role, SessionView, TokenResponse, UserId, UserView, WsTicketResponse};

use crate::clock::Clock;
use crate::error::ApiError;
use crate::model::{AuditAction, AuditTarget};
use crate::realtime::{Event, Hub};
use crate::store::{AuditEvent, NewSession, RotateOutcome, SessionRecord, Store, TicketGrant, UserRecord};
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
    /// Sessions that end close their sockets through the hub, on every node.
    hub: Arc<Hub>,
    /// Who is asked for a second factor (`second_factor`).
    second_factor: crate::config::SecondFactorPolicy,
    /// Single sign-on, when an identity provider is configured (`sso`).
    sso: Option<sso::Sso>,
    /// Passkeys (`passkeys`): the relying party, when the server's origin allows one.
    passkeys: Option<webauthn_rs::Webauthn>,
}

/// A caller whose access token names a live session: who, which session, and until when the
/// token is good (a WebSocket opened with it closes then, unless it is given a fresh one).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: AuthUser,
    pub session_id: String,
    /// Milliseconds since the epoch (the service clock).
    pub expires_at: i64,
}

/// Where a sign-in comes from: kept with the session so its person can recognise it.
#[derive(Debug, Clone, Default)]
pub struct SignInContext {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
}

/// The longest user agent kept with a session.
const MAX_USER_AGENT_CHARS: usize = 256;

/// How often each node looks for sessions that ended, and how far back.
pub const ENDED_POLL: Duration = Duration::from_secs(1);
pub const ENDED_LOOKBACK: Duration = Duration::from_secs(10);

/// How often a session's "last seen" is written while it is being used.
const LAST_SEEN_EVERY_MS: i64 = 60_000;

/// Why a session ended, as kept with it.
pub mod end_reason {
    pub const SIGNED_OUT: &str = "signed_out";
    pub const ENDED_BY_USER: &str = "ended_by_user";
    pub const ENDED_BY_ADMIN: &str = "ended_by_admin";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const PASSWORD_RESET: &str = "password_reset";
    pub const ERASED: &str = "erased";
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
    pub fn new(
        secret: &[u8],
        access_ttl: Duration,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        hub: Arc<Hub>,
        second_factor: crate::config::SecondFactorPolicy,
    ) -> Self {
        Self { keys: JwtKeys::hs256(secret), access_ttl, store, clock, hub, second_factor, sso: None, passkeys: None }
    }

    /// Signs staff in through this identity provider too.
    pub fn with_sso(mut self, config: Option<crate::config::SsoConfig>) -> Self {
        self.sso = config.map(sso::Sso::new);
        self
    }

    /// Lets staff use passkeys on the site of the first of `origins` that is on a domain name
    /// (WebAuthn takes no IP address as the RP id); its host is the RP id. None such, or one
    /// WebAuthn cannot use, leaves passkeys off, with a warning.
    pub fn with_passkeys(mut self, origins: &[String]) -> Self {
        let on_a_domain =
            origins.iter().find(|o| url::Url::parse(o).is_ok_and(|u| matches!(u.host(), Some(url::Host::Domain(_)))));
        self.passkeys = match on_a_domain.map(|o| passkeys::relying_party(o)) {
            Some(Ok(rp)) => Some(rp),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "passkeys are off");
                None
            }
            None => {
                tracing::info!("passkeys are off: no allowed origin is on a domain name");
                None
            }
        };
        self
    }

    fn access_token(&self, user: &UserRecord, session_id: &str) -> Result<String, ApiError> {
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
            sid: session_id.to_owned(),
        };
        self.keys.sign(&claims).map_err(|e| ApiError::Internal(format!("signing failed: {e}")))
    }

    fn response(&self, user: &UserRecord, session_id: &str, refresh_token: String) -> Result<TokenResponse, ApiError> {
        Ok(TokenResponse {
            access_token: self.access_token(user, session_id)?,
            refresh_token,
            expires_in: self.access_ttl.as_secs(),
            user: user_view(user)?,
            recovery_codes: None,
        })
    }

    /// Starts a new session (a new refresh-token family) for `user`, signed in by `method`.
    /// Anonymous young people's sessions keep neither the address nor the user agent.
    pub async fn start_session(
        &self,
        user: &UserRecord,
        method: &str,
        from: &SignInContext,
    ) -> Result<TokenResponse, ApiError> {
        let refresh = random_token();
        let now = self.clock.now_ms();
        let keeps_device = user.username.is_some() || user.oidc_subject.is_some();
        let session = NewSession {
            id: crate::ids::random_id(),
            user_id: user.id.clone(),
            created_at: now,
            user_agent: from
                .user_agent
                .as_deref()
                .filter(|_| keeps_device)
                .map(|ua| ua.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT_CHARS).collect()),
            source_ip: from.ip.filter(|_| keeps_device).map(|ip| ip.to_string()),
            method: method.to_owned(),
        };
        self.store.start_session(&session, &hash_secret(&refresh), now + REFRESH_TTL.as_millis() as i64).await?;
        self.response(user, &session.id, refresh)
    }

    /// Starts a new session for an account found by something other than a password (a device
    /// credential, a recovery phrase: `method`); a suspended account cannot sign in.
    pub async fn start_session_for(&self, user_id: &str, method: &str) -> Result<TokenResponse, ApiError> {
        let user = self.active_user(user_id).await?;
        self.start_session(&user, method, &SignInContext::default()).await
    }

    /// Rotates a refresh token. Reuse of a spent token ends its session: its access tokens
    /// are refused and its sockets close.
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
            RotateOutcome::Rotated { user_id, session_id } => {
                let user = self.active_user(&user_id).await?;
                self.response(&user, &session_id, next)
            }
            RotateOutcome::Reused { user_id, session_id } => {
                self.session_ended(&user_id, &session_id);
                crate::audit::record(
                    self.store.as_ref(),
                    self.clock.now_ms(),
                    Some(&user_id),
                    AuditAction::RefreshTokenReused,
                    AuditTarget::User,
                    &user_id,
                    Some("a spent refresh token was presented; the session was ended".into()),
                )
                .await;
                Err(ApiError::Unauthorized("this session has ended; please sign in again"))
            }
            RotateOutcome::Invalid => Err(ApiError::Unauthorized("this session has ended; please sign in again")),
        }
    }

    /// Signs out the session a refresh token belongs to: its refresh tokens, its access tokens
    /// and its sockets end. Other sessions of the account go on.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        let ended = self.store.end_session_of_token(&hash_secret(refresh_token), now, end_reason::SIGNED_OUT).await?;
        if let Some((session_id, user_id)) = ended {
            self.session_ended(&user_id, &session_id);
            // The devices this session registered for push hear nothing more (a subscription
            // of an ended session is also skipped and removed when a notification is sent).
            self.store.delete_push_subscriptions_of_session(&session_id).await?;
        }
        Ok(())
    }

    /// Closes the sockets of a session that ended, on every node.
    pub fn session_ended(&self, user_id: &str, session_id: &str) {
        self.hub
            .publish(Event::DisconnectSession { user_id: UserId(user_id.to_owned()), session_id: session_id.into() });
    }

    /// Closes, on this node, the sockets of sessions that ended in the last
    /// [`ENDED_LOOKBACK`], every [`ENDED_POLL`] until `stop`: sessions ended where no event
    /// reached this node (by `talkzone admin` on the command line, on a node whose event Redis
    /// lost) still close within a second or so. Closing a socket already closed is nothing.
    pub async fn watch_ended_sessions(self: Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(ENDED_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let since = self.clock.now_ms() - ENDED_LOOKBACK.as_millis() as i64;
            match self.store.sessions_ended_since(since).await {
                Ok(ended) => {
                    for (session_id, user_id) in ended {
                        self.hub.deliver_local(&Event::DisconnectSession { user_id: UserId(user_id), session_id });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not look for ended sessions"),
            }
        }
    }

    /// Closes every socket of an account whose sessions all ended, on every node.
    pub fn account_sessions_ended(&self, user_id: &str) {
        self.hub.publish(Event::DisconnectUser { user_id: UserId(user_id.to_owned()) });
    }

    /// The caller's live sessions, newest first.
    pub async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRecord>, ApiError> {
        Ok(self.store.live_sessions_of(user_id, self.clock.now_ms()).await?)
    }

    /// Ends one session of `user_id` (its access tokens refused, its sockets closed), with
    /// `audit`; `NotFound` when the user has no such live session.
    pub async fn end_session(
        &self,
        user_id: &str,
        session_id: &str,
        reason: &str,
        audit: Option<AuditEvent>,
    ) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        if !self.store.end_session(user_id, session_id, now, reason, audit).await? {
            return Err(ApiError::NotFound);
        }
        self.session_ended(user_id, session_id);
        Ok(())
    }

    /// Ends every session of `user_id` but `keep`, with `audit`; how many ended.
    pub async fn end_other_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        reason: &str,
        audit: Option<AuditEvent>,
    ) -> Result<u64, ApiError> {
        let now = self.clock.now_ms();
        let ended = self.store.end_other_sessions(user_id, keep, now, reason, audit).await?;
        match keep {
            // The kept session's sockets stay; the others close as their sessions are found
            // ended (below) on every node.
            Some(_) => {
                for session in self.store.sessions_ended_since(now).await? {
                    if session.1 == user_id && Some(session.0.as_str()) != keep {
                        self.session_ended(user_id, &session.0);
                    }
                }
            }
            None => self.account_sessions_ended(user_id),
        }
        Ok(ended)
    }

    /// Changes a password after checking the current one, and ends every session. Wrong
    /// current passwords are throttled per account and source like sign-ins (a stolen session
    /// cannot guess the password at argon2's pace).
    pub async fn change_password(
        &self,
        user: &AuthUser,
        current: &str,
        new: &str,
        from: &SignInContext,
    ) -> Result<(), ApiError> {
        let source = throttle::source_of(from.ip);
        let guess = throttle::Guess::CurrentPassword;
        self.check_throttle(guess, user.id.as_str(), &source).await?;
        let record = self.active_user(user.id.as_str()).await?;
        let right = match record.password_hash.clone() {
            // No password (an anonymous young person): nothing to verify, nothing to hash.
            None => false,
            Some(stored) => passwords::verify(current.to_owned(), Some(stored)).await,
        };
        if !right {
            self.guessed_wrong(guess, user.id.as_str(), &source).await?;
            return Err(ApiError::Unauthorized("the current password is not right"));
        }
        self.guessed_right(guess, user.id.as_str(), &source).await?;
        passwords::check_strength(new, record.username.as_deref())?;
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
        self.store.end_sessions(user.id.as_str(), Some(&hash), now, end_reason::PASSWORD_CHANGED, Some(entry)).await?;
        self.account_sessions_ended(user.id.as_str());
        Ok(())
    }

    /// Verifies an access token and loads its user and session: a token is refused once its
    /// session has ended (signed out, revoked on reuse, ended by its person or an admin, the
    /// account suspended, offboarded or given another role), since JWTs cannot be revoked.
    pub async fn authenticate_session(&self, token: &str) -> Result<Authenticated, ApiError> {
        const REFUSED: ApiError = ApiError::Unauthorized("invalid or expired access token");
        let claims = self.keys.verify(token).map_err(|_| REFUSED)?;
        if claims.sid.is_empty() {
            return Err(REFUSED);
        }
        let session = self.store.session(&claims.sid).await?.ok_or(REFUSED)?;
        if session.user_id != claims.sub {
            return Err(REFUSED);
        }
        if session.revoked_at.is_some() {
            return Err(ApiError::Unauthorized("this session has ended; please sign in again"));
        }
        let user = self.active_user(&claims.sub).await?;
        if user.role.as_str() != claims.role {
            return Err(REFUSED);
        }
        // Signed out everywhere (or password changed) after this token was issued.
        if user.tokens_valid_after.is_some_and(|t| claims.iat_ms < t) {
            return Err(ApiError::Unauthorized("this session has ended; please sign in again"));
        }
        let now = self.clock.now_ms();
        if session.last_seen_at.is_none_or(|t| now - t >= LAST_SEEN_EVERY_MS) {
            self.store.touch_session(&session.id, now).await?;
        }
        Ok(Authenticated {
            user: auth_user(&user)?,
            session_id: session.id,
            expires_at: (claims.exp as i64).saturating_mul(1000),
        })
    }

    /// [`Auth::authenticate_session`], for callers that need only who it is.
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser, ApiError> {
        Ok(self.authenticate_session(token).await?.user)
    }

    pub(crate) async fn active_user(&self, id: &str) -> Result<UserRecord, ApiError> {
        match self.store.user(id).await? {
            Some(u) if u.is_active() => Ok(u),
            _ => Err(ApiError::Unauthorized("this account cannot sign in")),
        }
    }

    /// A single-use ticket for a browser's WebSocket, in the caller's session; the socket it
    /// opens lives as long as the caller's access token.
    pub async fn issue_ticket(&self, caller: &Authenticated) -> Result<WsTicketResponse, ApiError> {
        let ticket = random_token();
        let expires = self.clock.now_ms() + TICKET_TTL.as_millis() as i64;
        let grant = TicketGrant {
            user_id: caller.user.id.0.clone(),
            session_id: caller.session_id.clone(),
            token_expires_at: caller.expires_at,
        };
        self.store.create_ws_ticket(&hash_secret(&ticket), &grant, expires).await?;
        Ok(WsTicketResponse { ticket, expires_in: TICKET_TTL.as_secs() })
    }

    pub async fn redeem_ticket(&self, ticket: &str) -> Result<Authenticated, ApiError> {
        const REFUSED: ApiError = ApiError::Unauthorized("invalid, used or expired ticket");
        let grant = self.store.consume_ws_ticket(&hash_secret(ticket), self.clock.now_ms()).await?.ok_or(REFUSED)?;
        let session = self.store.session(&grant.session_id).await?.ok_or(REFUSED)?;
        if session.revoked_at.is_some() || session.user_id != grant.user_id {
            return Err(ApiError::Unauthorized("this session has ended; please sign in again"));
        }
        let user = self.active_user(&grant.user_id).await?;
        Ok(Authenticated { user: auth_user(&user)?, session_id: session.id, expires_at: grant.token_expires_at })
    }
}

/// A session as its person (or an admin) sees it; `current` is the caller's own session.
pub fn session_view(s: &SessionRecord, current: Option<&str>) -> SessionView {
    SessionView {
        id: s.id.clone(),
        created_at: crate::clock::rfc3339(s.created_at),
        last_seen_at: s.last_seen_at.map(crate::clock::rfc3339),
        expires_at: crate::clock::rfc3339(s.expires_at),
        user_agent: s.user_agent.clone(),
        source_ip: s.source_ip.clone(),
        method: s.method.clone().unwrap_or_else(|| "password".into()),
        current: current == Some(s.id.as_str()),
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
