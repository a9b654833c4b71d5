//! `hitl --migrate-to postgres://…`: copies a SQLite database into an empty PostgreSQL one,
//! table by table in the order their references need, and checks the copy by counting.
//!
//! The two schemas name their tables and columns alike; what only one side has is left out
//! (SQLite's full-text tables are PostgreSQL's generated columns; the list counts and the log's
//! heads are made again from the rows).

use std::str::FromStr;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Postgres, QueryBuilder, Row, SqlitePool};

use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::store::{Durability, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the PostgreSQL database already holds conversations: copy into an empty one")]
    NotEmpty,
    #[error("{table} has {source_rows} rows in SQLite but {target_rows} in PostgreSQL")]
    Miscounted {
        table: &'static str,
        source_rows: i64,
        target_rows: i64,
    },
    #[error("{0} could not be read")]
    Unreadable(String),
}

impl From<sqlx::Error> for CopyError {
    fn from(e: sqlx::Error) -> Self {
        CopyError::Store(e.into())
    }
}

type Result<T> = std::result::Result<T, CopyError>;

/// The tables copied, each after those it refers to.
const TABLES: &[&str] = &[
    "bots",
    "bot_settings",
    "sessions",
    "messages",
    "pause_history",
    "users",
    "user_bots",
    "login_sessions",
    "notifications",
    "events",
    "api_tokens",
    "settings",
    "webhook_seen",
    "web_visitors",
    "audit_log",
    "outbox",
    "handoffs",
    "agent_settings",
    "timers",
];

/// Rows per insert statement, at most (PostgreSQL takes up to 65,535 parameters).
const BATCH: usize = 500;

/// One table's rows on both sides after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: &'static str,
    pub source: i64,
    pub target: i64,
}

/// A column as PostgreSQL types it, for reading the SQLite value the right way.
enum Kind {
    Int,
    Bool,
    Text,
}

/// Copies everything of the SQLite database at `from` into the empty PostgreSQL database at
/// `to`; answers the counts of each table on both sides (an error when any differ).
pub async fn copy(from: &str, to: &str) -> Result<Vec<Copied>> {
    // Both schemas brought up to date first, by the stores themselves.
    SqliteStore::open(from, Durability::Normal)
        .await?
        .close()
        .await;
    PgStore::open(to, Durability::Normal).await?.close().await;
    let options = SqliteConnectOptions::from_str(from)?.read_only(true);
    let source = SqlitePool::connect_with(options).await?;
    let target = PgPoolOptions::new().max_connections(1).connect(to).await?;
    let taken: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&target)
        .await?;
    if taken > 0 {
        return Err(CopyError::NotEmpty);
    }
    let mut tx = target.begin().await?;
    // A fresh database holds only what hitl made at start (bots, settings): the copy's own.
    for table in TABLES.iter().rev() {
        sqlx::query(&format!("delete from {table}"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("delete from event_log_heads")
        .execute(&mut *tx)
        .await?;
    for table in TABLES {
        copy_table(&source, &mut tx, table).await?;
    }
    // What PostgreSQL keeps of its own: each bot's head, and the ids to hand out next.
    sqlx::query(
        "insert into event_log_heads (bot_id, last_seq) \
         select b.id, coalesce((select max(seq) from events e where e.bot_id = b.id), 0) \
         from bots b",
    )
    .execute(&mut *tx)
    .await?;
    for table in TABLES {
        let has_id: bool = sqlx::query_scalar(
            "select exists (select 1 from information_schema.columns \
             where table_schema = current_schema() and table_name = $1 \
               and column_name = 'id' and is_identity = 'YES')",
        )
        .bind(table)
        .fetch_one(&mut *tx)
        .await?;
        if has_id {
            sqlx::query(&format!(
                "select setval(pg_get_serial_sequence('{table}', 'id'), \
                               coalesce(max(id), 0) + 1, false) from {table}"
            ))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    let mut counts = Vec::new();
    for table in TABLES {
        let count = format!("select count(*) from {table}");
        counts.push(Copied {
            table,
            source: sqlx::query_scalar(&count).fetch_one(&source).await?,
            target: sqlx::query_scalar(&count).fetch_one(&target).await?,
        });
    }
    source.close().await;
    target.close().await;
    if let Some(c) = counts.iter().find(|c| c.source != c.target) {
        return Err(CopyError::Miscounted {
            table: c.table,
            source_rows: c.source,
            target_rows: c.target,
        });
    }
    Ok(counts)
}

async fn copy_table(source: &SqlitePool, tx: &mut sqlx::PgConnection, table: &str) -> Result<()> {
    let in_sqlite: Vec<String> = sqlx::query_scalar("select name from pragma_table_info(?1)")
        .bind(table)
        .fetch_all(source)
        .await?;
    let in_postgres: Vec<(String, String)> = sqlx::query_as(
        "select column_name::text, data_type::text from information_schema.columns \
         where table_schema = current_schema() and table_name = $1 and is_generated = 'NEVER' \
         order by ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    let columns: Vec<(String, Kind)> = in_postgres
        .into_iter()
        .filter(|(name, _)| in_sqlite.contains(name))
        .map(|(name, kind)| {
            let kind = match kind.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Int,
                "boolean" => Kind::Bool,
                _ => Kind::Text,
            };
            (name, kind)
        })
        .collect();
    let names = columns
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!("select {names} from {table} order by rowid"))
        .fetch_all(source)
        .await?;
    for chunk in rows.chunks(BATCH) {
        let mut insert: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("insert into {table} ({names}) "));
        let mut failed = None;
        insert.push_values(chunk, |mut values, row| {
            for (name, kind) in &columns {
                let read = match kind {
                    Kind::Int => row
                        .try_get::<Option<i64>, _>(name.as_str())
                        .map(|v| values.push_bind(v)),
                    Kind::Bool => row
                        .try_get::<Option<i64>, _>(name.as_str())
                        .map(|v| values.push_bind(v.map(|v| v != 0))),
                    Kind::Text => row
                        .try_get::<Option<String>, _>(name.as_str())
                        .map(|v| values.push_bind(v)),
                };
                if let Err(e) = read {
                    failed = Some(format!("{table}.{name} ({e})"));
                }
            }
        });
        if let Some(e) = failed {
            return Err(CopyError::Unreadable(e));
        }
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}
