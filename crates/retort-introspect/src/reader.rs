//! The one way the introspectors talk to a database: bulk catalog queries,
//! counted, whose rows are decoded and handed on one at a time as they
//! arrive.
//!
//! Streaming rather than `fetch_all` is what keeps introspection's memory
//! flat: at 5,000 tables the column query alone returns 50,000 rows, and
//! holding them all (sqlx's row buffers, then the decoded rows) beside the
//! schema being built cost more than the schema itself.

use crate::IntrospectError;
use futures_util::TryStreamExt;
use sqlx::query::Query;
use sqlx::{Database, Executor, IntoArguments};

/// Runs catalog queries on one connection, counting them: the count proves
/// that the number of queries does not grow with the table count.
pub(crate) struct CatalogReader<'c, DB: Database> {
    conn: &'c mut DB::Connection,
    statements: usize,
}

impl<'c, DB> CatalogReader<'c, DB>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
{
    pub(crate) fn new(conn: &'c mut DB::Connection) -> Self {
        CatalogReader {
            conn,
            statements: 0,
        }
    }

    /// How many queries this reader has sent.
    #[cfg(test)]
    pub(crate) fn statements(&self) -> usize {
        self.statements
    }

    /// Runs `query` and passes each row through `decode`, then `sink`, as it
    /// arrives; no row outlives its turn. A failed query or an undecodable
    /// row is reported as [`IntrospectError::Query`] naming `what`; an error
    /// from `sink` is returned as it is.
    pub(crate) async fn for_each<'q, A, T>(
        &mut self,
        what: &'static str,
        query: Query<'q, DB, A>,
        decode: impl Fn(&DB::Row) -> Result<T, sqlx::Error>,
        mut sink: impl FnMut(T) -> Result<(), IntrospectError>,
    ) -> Result<(), IntrospectError>
    where
        A: 'q + Send + IntoArguments<DB>,
    {
        self.statements += 1;
        let failed = |source| IntrospectError::Query { what, source };
        let mut rows = query.fetch(&mut *self.conn);
        while let Some(row) = rows.try_next().await.map_err(failed)? {
            sink(decode(&row).map_err(failed)?)?;
        }
        Ok(())
    }
}
