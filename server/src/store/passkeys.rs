//! Staff passkeys (WebAuthn) and the ceremonies under way (a registration, the passkey step of a
//! sign-in): single use, expiring.

use async_trait::async_trait;

use super::{AuditEvent, PasskeyRecord, Result};

/// What a ceremony under way is for: a ceremony of one kind cannot finish the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Adding a passkey to a signed-in account.
    Register,
    /// The passkey step of a sign-in.
    SignIn,
}

impl CeremonyKind {
    /// The value stored in `passkey_ceremonies.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Register => "register",
            CeremonyKind::SignIn => "sign_in",
        }
    }
}

/// Passkeys and WebAuthn ceremonies.
#[async_trait]
pub trait Passkeys: Send + Sync + 'static {
    /// Stores a ceremony under way (its state as the WebAuthn library gives it), in place of any
    /// with the same key; expired ceremonies are forgotten first.
    async fn put_passkey_ceremony(
        &self,
        token_hash: &str,
        user_id: &str,
        kind: CeremonyKind,
        state: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()>;
    /// Takes (deletes) a live ceremony of `kind` for `user_id`: its state, once; `None` if it is
    /// unknown, another's, used or expired.
    async fn take_passkey_ceremony(
        &self,
        token_hash: &str,
        user_id: &str,
        kind: CeremonyKind,
        now: i64,
    ) -> Result<Option<String>>;
    /// Stores a new passkey, with `audit`; `false` (nothing written) if that credential is
    /// registered already.
    async fn add_passkey(&self, p: &PasskeyRecord, audit: AuditEvent) -> Result<bool>;
    /// The user's passkeys, oldest first.
    async fn passkeys_of(&self, user_id: &str) -> Result<Vec<PasskeyRecord>>;
    /// Records a use of a passkey: its new state and counter, unless the counter went backwards
    /// (a counter that is not 0 must grow): `false` then, and nothing is written (a possible
    /// clone of the authenticator).
    async fn use_passkey(&self, id: &str, passkey: &str, sign_count: i64, now: i64) -> Result<bool>;
    /// Removes one of the user's passkeys, with `audit`; `false` if they have none with that id.
    async fn delete_passkey(&self, user_id: &str, id: &str, audit: AuditEvent) -> Result<bool>;
}

/// The SQL of [`Passkeys`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_passkeys_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::{AuditEvent, CeremonyKind, PasskeyRecord};

            const COLUMNS: &str = "id, user_id, credential_id, name, passkey, sign_count, created_at, last_used_at";

            #[async_trait::async_trait]
            impl $crate::store::Passkeys for $store {
                async fn put_passkey_ceremony(
                    &self,
                    token_hash: &str,
                    user_id: &str,
                    kind: CeremonyKind,
                    state: &str,
                    now: i64,
                    expires_at: i64,
                ) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1")
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO passkey_ceremonies (token_hash, user_id, kind, state, expires_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO UPDATE SET \
                         user_id = $2, kind = $3, state = $4, expires_at = $5",
                    )
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(kind.as_str())
                    .bind(state)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn take_passkey_ceremony(
                    &self,
                    token_hash: &str,
                    user_id: &str,
                    kind: CeremonyKind,
                    now: i64,
                ) -> $crate::store::Result<Option<String>> {
                    // Deleted as it is read: two answers to one challenge cannot both use it.
                    let row: Option<(String,)> = sqlx::query_as(
                        "DELETE FROM passkey_ceremonies WHERE token_hash = $1 AND user_id = $2 AND kind = $3 \
                         AND expires_at > $4 RETURNING state",
                    )
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(kind.as_str())
                    .bind(now)
                    .fetch_optional(self.writer())
                    .await?;
                    Ok(row.map(|(s,)| s))
                }

                async fn add_passkey(&self, p: &PasskeyRecord, audit: AuditEvent) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let done = sqlx::query(
                        "INSERT INTO passkeys (id, user_id, credential_id, name, passkey, sign_count, created_at, \
                         last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (credential_id) DO NOTHING",
                    )
                    .bind(&p.id)
                    .bind(&p.user_id)
                    .bind(&p.credential_id)
                    .bind(&p.name)
                    .bind(&p.passkey)
                    .bind(p.sign_count)
                    .bind(p.created_at)
                    .bind(p.last_used_at)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn passkeys_of(&self, user_id: &str) -> $crate::store::Result<Vec<PasskeyRecord>> {
                    Ok(sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
                    ))
                    .bind(user_id)
                    .fetch_all(self.writer())
                    .await?)
                }

                async fn use_passkey(
                    &self,
                    id: &str,
                    passkey: &str,
                    sign_count: i64,
                    now: i64,
                ) -> $crate::store::Result<bool> {
                    let done = sqlx::query(
                        "UPDATE passkeys SET passkey = $2, sign_count = $3, last_used_at = $4 \
                         WHERE id = $1 AND ($3 > sign_count OR ($3 = 0 AND sign_count = 0))",
                    )
                    .bind(id)
                    .bind(passkey)
                    .bind(sign_count)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_passkey(
                    &self,
                    user_id: &str,
                    id: &str,
                    audit: AuditEvent,
                ) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
                        .bind(id)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                    tx.commit().await?;
                    Ok(true)
                }
            }
        };
    };
}

pub(crate) use impl_passkeys_sql;
