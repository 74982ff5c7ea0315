//! Single sign-on for staff through the council's OpenID Connect identity provider: the
//! authorization code flow with PKCE, state and nonce (`openidconnect` checks the ID token's
//! signature, issuer, audience, expiry and nonce). The state is single use: it is kept here
//! (hashed, with the nonce and the PKCE verifier, 10 minutes) and taken once by the callback.
//! The role comes from a claim at every sign-in (`config::SsoConfig::roles`); an account is
//! made at the first sign-in only for a mapped role, bound to the provider's subject.
//!
//! The second factor: the identity provider's own (the council's conditional access requires
//! MFA for the app); Talk Zone does not ask for its TOTP after a single sign-on (see
//! docs/security.md).

use std::time::{Duration, Instant};

use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use talkzone_mobile_api::{Role, SsoPage, TokenResponse};
use tokio::sync::Mutex;

use super::{hash_secret, random_token, Auth, SignInContext};
use crate::config::SsoConfig;
use crate::error::ApiError;
use crate::model::{AuditAction, AuditTarget};
use crate::store::{AccountChange, NewUser, UserRecord};

/// How long a staff member has to sign in at the identity provider.
const LOGIN_TTL_MS: i64 = 10 * 60 * 1000;
/// How long the provider's discovery document and keys are kept before they are read again
/// (a rotated signing key is picked up within this).
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// The page a single sign-on returns to, and its tag in the state.
pub trait SsoPagePath {
    fn path(self) -> &'static str;
}

impl SsoPagePath for SsoPage {
    fn path(self) -> &'static str {
        match self {
            SsoPage::Console => "/console",
            SsoPage::Admin => "/admin",
        }
    }
}

fn tag(page: SsoPage) -> &'static str {
    match page {
        SsoPage::Console => "c",
        SsoPage::Admin => "a",
    }
}

pub struct Sso {
    config: SsoConfig,
    http: reqwest::Client,
    metadata: Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

/// A finished single sign-on: the session's tokens and the page to go back to.
pub struct SsoSignedIn {
    pub tokens: TokenResponse,
    pub page: SsoPage,
}

const EXPIRED: ApiError =
    ApiError::Unauthorized("this sign-in has expired or was used already: start again from the sign-in page");

impl Sso {
    pub fn new(config: SsoConfig) -> Self {
        // No redirects: a provider's answer is read as it is (the openidconnect crate's advice,
        // against being led to other addresses).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self { config, http, metadata: Mutex::new(None) }
    }

    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        ApiError,
    > {
        let unreachable = |e: String| {
            tracing::warn!(error = %e, "single sign-on: the identity provider's discovery failed");
            ApiError::Unavailable(
                "the council's sign-in service cannot be reached or is not set up as configured: try again, or \
                 sign in with your Talk Zone password"
                    .into(),
            )
        };
        let metadata = {
            let mut cached = self.metadata.lock().await;
            match cached.as_ref() {
                Some((m, at)) if at.elapsed() < METADATA_TTL => m.clone(),
                _ => {
                    let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| unreachable(e.to_string()))?;
                    // Discovery checks the document's issuer is exactly the configured one.
                    let m = CoreProviderMetadata::discover_async(issuer, &self.http)
                        .await
                        .map_err(|e| unreachable(format!("{e:?}")))?;
                    *cached = Some((m.clone(), Instant::now()));
                    m
                }
            }
        };
        let redirect = RedirectUrl::new(self.config.redirect_url.clone()).map_err(|e| unreachable(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// The role the claim gives: the first configured value the claim holds.
    fn role_from(&self, payload: &serde_json::Value) -> Option<Role> {
        let held: Vec<&str> = match payload.get(&self.config.role_claim) {
            Some(serde_json::Value::String(s)) => vec![s.as_str()],
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
            _ => vec![],
        };
        self.config.roles.iter().find(|(value, _)| held.contains(&value.as_str())).map(|(_, role)| *role)
    }
}

/// The claims of an ID token that `openidconnect` has verified (the payload, read as JSON).
fn payload_of(jwt: &str) -> Option<serde_json::Value> {
    let body = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl Auth {
    fn sso(&self) -> Result<&Sso, ApiError> {
        self.sso.as_ref().ok_or(ApiError::NotFound)
    }

    pub fn sso_configured(&self) -> bool {
        self.sso.is_some()
    }

    /// Starts a single sign-on: the identity provider's authorization URL to send the browser
    /// to, with a new state, nonce and PKCE challenge (kept here until the callback).
    pub async fn sso_start(&self, page: SsoPage) -> Result<String, ApiError> {
        let sso = self.sso()?;
        let client = sso.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        // The page to return to rides in the state, which is kept here hashed: it cannot be
        // changed on the way.
        let state = format!("{}.{}", random_token(), tag(page));
        let nonce = random_token();
        let (url, _, _) = {
            let (state, nonce) = (state.clone(), nonce.clone());
            client
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    move || CsrfToken::new(state),
                    move || Nonce::new(nonce),
                )
                .add_scope(Scope::new("profile".into()))
                .set_pkce_challenge(challenge)
                .url()
        };
        let now = self.clock.now_ms();
        self.store.create_oidc_login(&hash_secret(&state), &nonce, verifier.secret(), now, now + LOGIN_TTL_MS).await?;
        Ok(url.to_string())
    }

    /// Finishes a single sign-on: takes the state (once), exchanges the code with the PKCE
    /// verifier, verifies the ID token, and signs the account in (making it the first time, for
    /// a mapped role; following the claim's role every time).
    pub async fn sso_finish(&self, code: &str, state: &str, from: &SignInContext) -> Result<SsoSignedIn, ApiError> {
        let sso = self.sso()?;
        let (nonce, verifier) =
            self.store.take_oidc_login(&hash_secret(state), self.clock.now_ms()).await?.ok_or(EXPIRED)?;
        let page = if state.ends_with(".a") { SsoPage::Admin } else { SsoPage::Console };
        let client = sso.client().await?;
        let not_confirmed = |e: String| {
            tracing::warn!(error = %e, "single sign-on: the code exchange failed");
            ApiError::Unauthorized("the council's sign-in service did not confirm this sign-in: start again")
        };
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| not_confirmed(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&sso.http)
            .await
            .map_err(|e| not_confirmed(format!("{e:?}")))?;
        let id_token = answer.id_token().ok_or_else(|| not_confirmed("no ID token".into()))?;
        let claims = id_token.claims(&client.id_token_verifier(), &Nonce::new(nonce)).map_err(|e| {
            tracing::warn!(error = %e, "single sign-on: the ID token was refused");
            match e {
                ClaimsVerificationError::InvalidIssuer(_) => {
                    ApiError::Unauthorized("the sign-in came from an identity provider this service does not trust")
                }
                ClaimsVerificationError::InvalidAudience(_) => {
                    ApiError::Unauthorized("the sign-in was made for another application, not Talk Zone")
                }
                ClaimsVerificationError::Expired(_) => {
                    ApiError::Unauthorized("the sign-in had expired when it arrived: start again")
                }
                ClaimsVerificationError::InvalidNonce(_) => {
                    ApiError::Unauthorized("the sign-in does not belong to this attempt: start again")
                }
                _ => ApiError::Unauthorized("the sign-in could not be verified: start again"),
            }
        })?;
        let subject = format!("{}|{}", sso.config.issuer, claims.subject().as_str());
        let payload = payload_of(&id_token.to_string()).ok_or_else(|| not_confirmed("unreadable ID token".into()))?;
        let role = sso.role_from(&payload);
        let name = payload
            .get("name")
            .or_else(|| payload.get("preferred_username"))
            .and_then(|v| v.as_str())
            .map(|s| s.chars().filter(|c| !c.is_control()).take(80).collect::<String>())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "Staff member".into());
        let user = self.sso_account(&subject, role, &name).await?;
        let tokens = self.start_session(&user, "oidc", from).await?;
        Ok(SsoSignedIn { tokens, page })
    }

    /// The account a verified single sign-on signs in as: refused (and audited) without a mapped
    /// role or when suspended or offboarded; made at the first sign-in; its role made the
    /// claim's (audited, and its other sessions end: they carry the old role).
    async fn sso_account(&self, subject: &str, role: Option<Role>, name: &str) -> Result<UserRecord, ApiError> {
        let now = self.clock.now_ms();
        let existing = self.store.user_by_oidc_subject(subject).await?;
        let refuse = |why: &str| {
            crate::audit::event(
                now,
                existing.as_ref().map(|u| u.id.as_str()),
                AuditAction::SsoRefused,
                AuditTarget::User,
                existing.as_ref().map_or(subject, |u| u.id.as_str()),
                Some(format!("{why} ({subject})")),
            )
        };
        if let Some(u) = existing.as_ref().filter(|u| !u.is_active()) {
            tracing::info!(user = %u.id, "single sign-on refused: account suspended or offboarded");
            self.store.append_audit(refuse("account suspended or offboarded")).await?;
            return Err(ApiError::Forbidden(
                "this Talk Zone account is suspended or offboarded: ask a YOT admin if you think it should not be",
            ));
        }
        let Some(role) = role else {
            self.store.append_audit(refuse("no mapped role in the claim")).await?;
            return Err(ApiError::ForbiddenBecause(
                "your council account has no Talk Zone role: ask a YOT admin to add you to one of the Talk Zone \
                 groups, then sign in again"
                    .into(),
            ));
        };
        match existing {
            Some(u) if u.role == role => Ok(u),
            Some(u) => {
                let audit = crate::audit::event(
                    now,
                    None,
                    AuditAction::RoleChanged,
                    AuditTarget::User,
                    &u.id,
                    Some(format!("{} -> {}: the identity provider's claim", u.role.as_str(), role.as_str())),
                );
                self.store.change_account(&u.id, AccountChange::Role(role), now, audit).await?;
                self.account_sessions_ended(&u.id);
                self.store.user(&u.id).await?.ok_or(ApiError::NotFound)
            }
            None => {
                let id = crate::ids::random_id();
                let audit = crate::audit::event(
                    now,
                    None,
                    AuditAction::UserCreated,
                    AuditTarget::User,
                    &id,
                    Some(format!("{}: first single sign-on ({subject})", role.as_str())),
                );
                let new = NewUser {
                    id: id.clone(),
                    role,
                    username: None,
                    password_hash: None,
                    display_name: name.to_owned(),
                    created_at: now,
                };
                self.store.create_user(new, Some(audit)).await?;
                self.store.bind_oidc_subject(&id, subject).await?;
                self.store.user(&id).await?.ok_or(ApiError::NotFound)
            }
        }
    }
}
