//! Signing in with a password.

use talkzone_mobile_api::TokenResponse;

use super::{passwords, Auth, SignInContext};
use crate::error::ApiError;

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
