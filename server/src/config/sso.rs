//! The single sign-on settings, validated.

use talkzone_mobile_api::Role;

use super::{bad, ConfigError, Settings};

/// Single sign-on through an OpenID Connect identity provider (`auth::sso`).
#[derive(Debug, Clone)]
pub struct SsoConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_url: String,
    /// The ID token claim that carries the role (a string or an array of strings).
    pub role_claim: String,
    /// Claim value → role, in order: the first value the claim holds gives the role.
    pub roles: Vec<(String, Role)>,
}

pub(super) fn sso_config(s: &mut Settings) -> Result<Option<SsoConfig>, ConfigError> {
    let Some(issuer) = s.oidc_issuer.take() else { return Ok(None) };
    url::Url::parse(&issuer).map_err(|e| bad("oidc-issuer", format!("'{issuer}' is not a URL: {e}")))?;
    let need = |v: Option<String>, name: &'static str| {
        v.filter(|v| !v.trim().is_empty()).ok_or_else(|| bad(name, "is needed with oidc-issuer"))
    };
    let client_id = need(s.oidc_client_id.take(), "oidc-client-id")?;
    let client_secret = need(s.oidc_client_secret.take(), "oidc-client-secret")?;
    let redirect_url = need(s.oidc_redirect_url.take(), "oidc-redirect-url")?;
    url::Url::parse(&redirect_url)
        .map_err(|e| bad("oidc-redirect-url", format!("'{redirect_url}' is not a URL: {e}")))?;
    let mut roles = Vec::new();
    for pair in s.oidc_roles.take().map_or_else(Vec::new, |l| l.0) {
        let (value, role) =
            pair.rsplit_once('=').ok_or_else(|| bad("oidc-roles", format!("'{pair}' must be value=role")))?;
        let role = Role::parse(role.trim()).filter(|r| r.is_staff()).ok_or_else(|| {
            bad("oidc-roles", format!("'{role}' must be duty_worker, supervisor, moderator or yot_admin"))
        })?;
        roles.push((value.trim().to_owned(), role));
    }
    if roles.is_empty() {
        return Err(bad("oidc-roles", "is needed with oidc-issuer: without it nobody could sign in"));
    }
    let role_claim = s.oidc_role_claim.take().unwrap_or_else(|| "groups".into());
    Ok(Some(SsoConfig { issuer, client_id, client_secret, redirect_url, role_claim, roles }))
}
