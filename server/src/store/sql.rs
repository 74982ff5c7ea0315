//! The SQL both backends share. SQLite (3.35+) and PostgreSQL accept the same statements
//! (`$n` parameters, `RETURNING`, `ON CONFLICT`, partial indexes), so each aggregate's part of
//! the [`Store`](super::Store) (`users.rs`, `conversations.rs`, …) is written once as a macro,
//! and [`impl_sql_store!`] instantiates them all for each concrete store type, which provides
//! `reader()`, `writer()`, `backend_name()` and `run_migrations()`.
//!
//! The macros expand in the store type's own module (`sqlite.rs`, `postgres.rs`), so the
//! helpers some of them define for the others (`insert_audit_rows`, `commit_step`,
//! `insert_message_row`, `insert_escalation_row`, `insert_item_row`) and the connection and
//! query types below are that module's, typed for its database. Each puts its `impl` in a
//! `const _: () = { … };` block, which keeps its own `use`s and private helpers to itself.

/// Implements every part of the [`Store`](super::Store) for a store type.
macro_rules! impl_sql_store {
    ($store:ty) => {
        type Conn = <<$store as $crate::store::backend::Backend>::Db as sqlx::Database>::Connection;
        type Query<'q> = sqlx::query::Query<
            'q,
            <$store as $crate::store::backend::Backend>::Db,
            <<$store as $crate::store::backend::Backend>::Db as sqlx::Database>::Arguments<'q>,
        >;

        $crate::store::database::impl_database_sql!($store);
        $crate::store::audit::impl_audit_sql!($store);
        $crate::store::users::impl_users_sql!($store);
        $crate::store::sessions::impl_sessions_sql!($store);
        $crate::store::credentials::impl_credentials_sql!($store);
        $crate::store::desk::impl_desk_sql!($store);
        $crate::store::directory::impl_directory_sql!($store);
        $crate::store::conversations::impl_conversations_sql!($store);
        $crate::store::messages::impl_messages_sql!($store);
        $crate::store::moderation::impl_moderation_sql!($store);
        $crate::store::escalations::impl_escalations_sql!($store);
        $crate::store::privacy::impl_privacy_sql!($store);
        $crate::store::releases::impl_releases_sql!($store);
        $crate::store::surveys::impl_surveys_sql!($store);
        $crate::store::policies::impl_policies_sql!($store);
        $crate::store::verdict_marks::impl_verdict_marks_sql!($store);
        $crate::store::canned::impl_canned_sql!($store);
        $crate::store::returning::impl_returning_sql!($store);
        $crate::store::push::impl_push_sql!($store);
        $crate::store::passkeys::impl_passkeys_sql!($store);
        $crate::store::service_reports::impl_service_reports_sql!($store);
    };
}

pub(crate) use impl_sql_store;
