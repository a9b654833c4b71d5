//! Web chat visitors.

use sqlx::SqlitePool;

use crate::sql_rows::now_ms;
use crate::store::{Result, StoreError, Visitor};

pub async fn create(pool: &SqlitePool, visitor: &Visitor) -> Result<()> {
    sqlx::query(
        "insert into web_visitors (id, bot_id, secret_hash, name, created_at) \
         values (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&visitor.id)
    .bind(&visitor.bot_id)
    .bind(&visitor.secret_hash)
    .bind(&visitor.name)
    .bind(now_ms())
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get(pool: &SqlitePool, id: &str) -> Result<Option<Visitor>> {
    let row = sqlx::query_as::<_, (String, String, String, Option<String>)>(
        "select id, bot_id, secret_hash, name from web_visitors where id = ?1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, bot_id, secret_hash, name)| Visitor {
        id,
        bot_id,
        secret_hash,
        name,
    }))
}

pub async fn set_name(pool: &SqlitePool, id: &str, name: Option<&str>) -> Result<()> {
    let done = sqlx::query("update web_visitors set name = ?2 where id = ?1")
        .bind(id)
        .bind(name)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("visitor"));
    }
    Ok(())
}
