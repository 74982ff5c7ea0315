//! The services directory.

use async_trait::async_trait;

use super::{AuditEvent, Result, ServiceRecord};

pub(crate) const SERVICE_COLUMNS: &str = "id, name, category, description, area, phone, url, hours, min_age, max_age, \
    retired, created_by, created_at, updated_at";

/// What a directory search looks in: the entry's words, lowercased here (SQLite's `LOWER()`
/// folds only ASCII), joined by line breaks so that a search does not run from one field
/// into the next.
pub(crate) fn service_search_text(r: &ServiceRecord) -> String {
    [Some(&r.name), Some(&r.category), Some(&r.description), r.area.as_ref()]
        .into_iter()
        .flatten()
        .map(|t| t.to_lowercase())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The services directory.
#[async_trait]
pub trait Directory: Send + Sync + 'static {
    /// Adds a directory entry, with `audit` in the same transaction; a name already used is
    /// a conflict.
    async fn create_service(&self, r: &ServiceRecord, audit: AuditEvent) -> Result<()>;
    /// Replaces an entry's details (not its id, creator or retirement), with `audit`; `false`
    /// (and no entry) if there is no such service.
    async fn update_service(&self, r: &ServiceRecord, audit: AuditEvent) -> Result<bool>;
    /// Retires an entry, with `audit`; `false` (and no entry) if there is no such service
    /// or it was retired already.
    async fn retire_service(&self, id: &str, audit: AuditEvent) -> Result<bool>;
    async fn service(&self, id: &str) -> Result<Option<ServiceRecord>>;
    /// Entries by name, at most `limit`: those whose name, category, description or area
    /// contains `text` (any case), in `category` if given, and retired ones only if asked.
    async fn services(
        &self,
        text: Option<&str>,
        category: Option<&str>,
        include_retired: bool,
        limit: i64,
    ) -> Result<Vec<ServiceRecord>>;
}

/// The SQL of [`Directory`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_directory_sql {
    ($store:ty) => {
        const _: () = {
            #[async_trait::async_trait]
            impl $crate::store::Directory for $store {
                async fn create_service(&self, r: &$crate::store::ServiceRecord, audit: AuditEvent) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    let res = bind_service(sqlx::query(
                        "INSERT INTO services (id, name, category, description, area, phone, url, hours, min_age, max_age, \
                         search_text, retired, created_by, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14)",
                    ), r)
                    .bind(&r.created_by)
                    .bind(r.created_at)
                    .bind(r.updated_at)
                    .execute(&mut *tx)
                    .await;
                    match res {
                        Ok(_) => commit_step(tx, Some(()), &audit).await.map(|_| ()),
                        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                            Err(StoreError::Conflict("a service with that name is already in the directory"))
                        }
                        Err(e) => Err(e.into()),
                    }
                }

                async fn update_service(&self, r: &$crate::store::ServiceRecord, audit: AuditEvent) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let res = bind_service(sqlx::query(
                        "UPDATE services SET name = $2, category = $3, description = $4, area = $5, phone = $6, url = $7, \
                         hours = $8, min_age = $9, max_age = $10, search_text = $11, updated_at = $12 WHERE id = $1",
                    ), r)
                    .bind(r.updated_at)
                    .execute(&mut *tx)
                    .await;
                    match res {
                        Ok(done) => Ok(commit_step(tx, (done.rows_affected() == 1).then_some(()), &audit).await?.is_some()),
                        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                            Err(StoreError::Conflict("a service with that name is already in the directory"))
                        }
                        Err(e) => Err(e.into()),
                    }
                }

                async fn retire_service(&self, id: &str, audit: AuditEvent) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let done = sqlx::query("UPDATE services SET retired = 1 WHERE id = $1 AND retired = 0").bind(id).execute(&mut *tx).await?;
                    Ok(commit_step(tx, (done.rows_affected() == 1).then_some(()), &audit).await?.is_some())
                }

                async fn service(&self, id: &str) -> $crate::store::Result<Option<$crate::store::ServiceRecord>> {
                    Ok(sqlx::query_as(&format!("SELECT {} FROM services WHERE id = $1", $crate::store::directory::SERVICE_COLUMNS))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await?)
                }

                async fn services(
                    &self,
                    text: Option<&str>,
                    category: Option<&str>,
                    include_retired: bool,
                    limit: i64,
                ) -> $crate::store::Result<Vec<$crate::store::ServiceRecord>> {
                    // `LIKE` on the stored lowercase text, with the query lowercased the same way
                    // and its own wildcards escaped: case-blind alike on both databases.
                    let pattern = text.map(|t| {
                        let escaped = t.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                        format!("%{escaped}%")
                    });
                    let sql = format!(
                        "SELECT {} FROM services WHERE ($1 OR retired = 0) AND ($2 IS NULL OR category = $2) \
                         AND ($3 IS NULL OR search_text LIKE $3 ESCAPE '\\') ORDER BY name LIMIT $4",
                        $crate::store::directory::SERVICE_COLUMNS
                    );
                    Ok(sqlx::query_as(&sql).bind(include_retired).bind(category).bind(pattern).bind(limit).fetch_all(self.reader()).await?)
                }
            }

            /// Binds a directory entry's id, its details and its search text ($1 to $11), in the
            /// order both of its writes use.
            fn bind_service<'q>(q: Query<'q>, r: &'q $crate::store::ServiceRecord) -> Query<'q> {
                q.bind(&r.id)
                    .bind(&r.name)
                    .bind(&r.category)
                    .bind(&r.description)
                    .bind(&r.area)
                    .bind(&r.phone)
                    .bind(&r.url)
                    .bind(&r.hours)
                    .bind(r.min_age)
                    .bind(r.max_age)
                    .bind($crate::store::directory::service_search_text(r))
            }
        };
    };
}

pub(crate) use impl_directory_sql;
