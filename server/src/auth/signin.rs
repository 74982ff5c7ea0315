//! Signing in with a password, and setting a new one with a one-time reset code.

use talkzone_mobile_api::TokenResponse;

use super::{passwords, Auth, SignInContext};
use crate::error::ApiError;
use crate::model::{AuditAction, AuditTarget};

impl Auth {
    /// Checks a username and password; the same answer (and similar time) whether or not the
    /// account exists.
    pub async fn login(&self, username: &str, password: &str, from: &SignInContext) -> Result<TokenResponse, ApiError> {
        let user = self.store.user_by_username(username).await?;
        let ok = passwords::verify(password.to_owned(), user.as_ref().and_then(|u| u.password_hash.clone())).await;
        match user {
            Some(u) if ok && u.is_active() => self.start_session(&u, "password", from).await,
            _ => Err(ApiError::Unauthorized("wrong username or password")),
        }
    }
}

impl Auth {
    /// Sets a new password with a one-time code a YOT admin made
    /// (`accounts::issue_password_reset`); every session of the account ends. The code is
    /// spent only once the new password passes its checks, so a weak one can be tried again.
    pub async fn reset_password(&self, code: &str, new_password: &str) -> Result<(), ApiError> {
        const REFUSED: ApiError =
            ApiError::Unauthorized("this reset code is not valid, used or expired: ask a YOT admin for a new one");
        let hash = super::hash_secret(code);
        let now = self.clock.now_ms();
        let user_id = self.store.password_reset_for(&hash, now).await?.ok_or(REFUSED)?;
        let user = self.active_user(&user_id).await.map_err(|_| REFUSED)?;
        passwords::check_strength(new_password, user.username.as_deref())?;
        let new_hash = passwords::hash_blocking(new_password.to_owned()).await?;
        if self.store.take_password_reset(&hash, now).await?.as_deref() != Some(user_id.as_str()) {
            return Err(REFUSED);
        }
        let audit = crate::audit::event(
            now,
            Some(&user_id),
            AuditAction::PasswordReset,
            AuditTarget::User,
            &user_id,
            Some("with a one-time code".into()),
        );
        self.store.end_sessions(&user_id, Some(&new_hash), now, super::end_reason::PASSWORD_RESET, Some(audit)).await?;
        self.account_sessions_ended(&user_id);
        Ok(())
    }
}
