//! The disclosure log (`survey_report_releases`): every report released with small numbers
//! withheld (the survey reports, the service report) records what it showed, so that a later
//! report that could be subtracted from it is refused (`surveys::differencing`). Each report
//! type holds its own lock around the one check-and-record here.

/// A report's population, about to be released.
#[derive(Debug, Clone)]
pub struct Release<'a> {
    pub scope: &'a str,
    pub population: &'a str,
    pub digest: &'a str,
    /// JSON object: the name of each number the report shows → its value.
    pub cells: &'a str,
    pub by: &'a str,
    pub now: i64,
}

/// The log's SQL, the same for both databases (`impl_sql_store!`): a helper the report
/// aggregates call inside their own transaction.
macro_rules! impl_releases_sql {
    ($store:ty) => {
        /// The disclosure log's one decision, for the survey reports and the service report
        /// alike (each holds its own lock first): the newest `limit` releases of the scope are
        /// compared with `r` by `refuse`; none refusing, `r` is recorded. `false` = refused
        /// (nothing written).
        async fn release_unless_refused(
            conn: &mut Conn,
            r: &$crate::store::releases::Release<'_>,
            limit: i64,
            refuse: &(dyn for<'x> Fn(&'x str, Option<&'x str>) -> bool + Send + Sync),
        ) -> $crate::store::Result<bool> {
            let rows: Vec<(String, Option<String>)> = sqlx::query_as(
                "SELECT population, cells FROM survey_report_releases WHERE scope = $1 ORDER BY released_at DESC, id LIMIT $2",
            )
            .bind(r.scope)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
            if rows.iter().any(|(p, c)| refuse(p, c.as_deref())) {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO survey_report_releases (id, scope, population, digest, released_by, released_at, cells) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (scope, digest) DO NOTHING",
            )
            .bind($crate::ids::random_id())
            .bind(r.scope)
            .bind(r.population)
            .bind(r.digest)
            .bind(r.by)
            .bind(r.now)
            .bind(r.cells)
            .execute(&mut *conn)
            .await?;
            Ok(true)
        }
    };
}

pub(crate) use impl_releases_sql;
