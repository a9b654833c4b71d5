//! Reads at scale: a database filled with many sessions and messages straight through SQL (the
//! fast path: SQLite generates the rows itself), then the latency of what an agent opens.

use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

use crate::load::sequential;
use crate::server::{Target, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::stats::Latency;
use crate::{BenchError, BOT};

/// Words of the generated messages; a word is in about one message in nine.
const WORDS: &str = r#"["order","refund","shipping","invoice","address","parcel","delivery",
"payment","card","charge","return","gift","account","password","login","plan","upgrade","cancel",
"price","discount","coupon","store","hours","canada","tracking","number","late","broken","replace",
"size","colour","warranty","receipt","email","phone","agent","human","help","please","thanks",
"hello","question","problem","error","app","website","checkout","cart","team","today","week",
"month","again"]"#;
/// Rows per transaction while seeding.
const CHUNK: i64 = 100_000;

#[derive(Debug, Clone, Serialize)]
pub struct Seeded {
    pub sessions: i64,
    pub messages: i64,
    pub seconds: f64,
}

/// Adds `sessions` conversations of `messages / sessions` messages each to a stopped server's
/// database (it must have run once, for the schema). Every 7th conversation is paused.
pub async fn seed(database: &Path, sessions: i64, messages: i64) -> Result<Seeded, BenchError> {
    let began = Instant::now();
    let per = (messages / sessions.max(1)).max(1);
    let mut db = SqliteConnectOptions::from_str(&format!("sqlite://{}", database.display()))?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .connect()
        .await?;
    let now = now_ms();
    let t0 = now - 60 * 86_400_000;
    let step = (now - t0) / sessions.max(1);
    let first_session: i64 = sqlx::query_scalar("select coalesce(max(id), 0) from sessions")
        .fetch_one(&mut db)
        .await?;
    let first_message: i64 = sqlx::query_scalar("select coalesce(max(id), 0) from messages")
        .fetch_one(&mut db)
        .await?;
    let mut from = 0;
    while from < sessions {
        let to = (from + CHUNK / per.max(1)).min(sessions);
        let mut tx = db.begin().await?;
        sqlx::query(
            "with recursive n(i) as (select ?1 union all select i + 1 from n where i + 1 < ?2) \
             insert into sessions (id, bot_id, channel, user_id, thread_id, full_name, paused, \
                 waiting, paused_by, created_at, last_event_on, last_heard_on, last_message_id) \
             select ?3 + i + 1, ?4, 'api', 'seed-' || (?3 + i + 1), '', \
                    'Seed User ' || (?3 + i + 1), i % 7 = 0, i % 7 = 0, \
                    case when i % 7 = 0 then 'bot' end, \
                    ?5 + i * ?6, ?5 + i * ?6 + (?7 - 1) * 5000, ?5 + i * ?6 + (?7 - 2) * 5000, \
                    ?8 + (i + 1) * ?7 \
             from n",
        )
        .bind(from)
        .bind(to)
        .bind(first_session)
        .bind(BOT)
        .bind(t0)
        .bind(step)
        .bind(per)
        .bind(first_message)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "with recursive n(i) as (select ?1 union all select i + 1 from n where i + 1 < ?2), \
                  t(i, text) as (select i, \
                      json_extract(?3, '$[' || ((i * 7 + 3) % 53) || ']') || ' ' || \
                      json_extract(?3, '$[' || ((i * 13 + 5) % 53) || ']') || ' ' || \
                      json_extract(?3, '$[' || ((i * 29 + 11) % 53) || ']') || ' ' || \
                      json_extract(?3, '$[' || ((i * 31 + 17) % 53) || ']') || ' ' || \
                      json_extract(?3, '$[' || ((i * 37 + 23) % 53) || ']') || ' #' || i from n) \
             insert into messages (id, session_id, kind, source, direction, text, payload, \
                                   author, created_at) \
             select ?4 + i + 1, ?5 + i / ?6 + 1, 'text', \
                    case when i % 2 = 0 then 'user' else 'bot' end, \
                    case when i % 2 = 0 then 'in' else 'out' end, \
                    text, json_object('type', 'text', 'text', text), null, \
                    ?7 + (i / ?6) * ?8 + (i % ?6) * 5000 \
             from t",
        )
        .bind(from * per)
        .bind(to * per)
        .bind(WORDS)
        .bind(first_message)
        .bind(first_session)
        .bind(per)
        .bind(t0)
        .bind(step)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        from = to;
    }
    // A paused conversation has its open handoff, queued since it was paused.
    sqlx::query(
        "insert into handoffs (session_id, bot_id, state, opened_by_kind, queued_at) \
         select id, bot_id, 'queued', 'bot', last_event_on from sessions \
         where paused = 1 and bot_id = ?1 \
           and id not in (select session_id from handoffs where state <> 'closed')",
    )
    .bind(BOT)
    .execute(&mut db)
    .await?;
    sqlx::query("analyze").execute(&mut db).await?;
    sqlx::query("pragma wal_checkpoint(truncate)")
        .execute(&mut db)
        .await?;
    db.close().await?;
    Ok(Seeded {
        sessions,
        messages: sessions * per,
        seconds: began.elapsed().as_secs_f64(),
    })
}

/// What a database from an earlier run holds.
pub async fn counted(database: &Path) -> Result<Seeded, BenchError> {
    let mut db = SqliteConnectOptions::from_str(&format!("sqlite://{}", database.display()))?
        .connect()
        .await?;
    let (sessions, messages): (i64, i64) =
        sqlx::query_as("select (select count(*) from sessions), (select count(*) from messages)")
            .fetch_one(&mut db)
            .await?;
    db.close().await?;
    Ok(Seeded {
        sessions,
        messages,
        seconds: 0.0,
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The history searches measured: words, a phrase, a prefix.
pub const SEARCHES: &[&str] = &[
    "refund",
    "parcel \"gift cancel\"",
    "receipt cart",
    "cancel*",
];
/// How many of a search's matches are compared between stores: the newest ones, which both rank
/// among themselves first.
const COMPARED: usize = 1_000;

/// The newest matches of one history search, as message ids.
#[derive(Debug, Clone)]
pub struct Matches {
    pub query: String,
    pub messages: BTreeSet<i64>,
}

/// Pages through the first `COMPARED` matches of `query`.
pub async fn matches(target: &Target, query: &str) -> Result<Matches, BenchError> {
    let client = reqwest::Client::new();
    let mut messages = BTreeSet::new();
    let mut cursor: Option<String> = None;
    while messages.len() < COMPARED {
        let mut url = reqwest::Url::parse(&format!("{}/api/v1/history/search", target.base))
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("q", query)
            .append_pair("limit", "500");
        if let Some(c) = &cursor {
            url.query_pairs_mut().append_pair("cursor", c);
        }
        let page: serde_json::Value = client
            .get(url)
            .bearer_auth(&target.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let ids = page["results"].as_array().into_iter().flatten();
        messages.extend(ids.filter_map(|r| r["messageId"].as_i64()));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    Ok(Matches {
        query: query.to_string(),
        messages,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Reads {
    pub sessions_first_page: Latency,
    pub sessions_search: Latency,
    pub sessions_paused: Latency,
    pub newest_messages: Latency,
    pub history_search: Latency,
    pub console_page: Latency,
}

/// Each read `samples` times in a row; answers must be 200 with what was asked for.
pub async fn reads(target: &Target, sessions: i64, samples: usize) -> Result<Reads, BenchError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let api = format!("{}/api/v1/bots/{BOT}/mod/hitl", target.base);
    let token = target.token.clone();
    let get = |url: String, must_hold: &'static str| {
        let client = client.clone();
        let token = token.clone();
        async move {
            let r = client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status();
            let body = r.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() || !body.contains(must_hold) {
                return Err(format!("{url}: {status} {}", &body[..body.len().min(200)]));
            }
            Ok(())
        }
    };
    // Spread over the whole table, so the cache is not always warm for the same rows.
    let session_at = |n: usize| (n as i64 * 7_919) % sessions.max(1) + 1;
    let sessions_first_page = sequential(samples, |_| {
        get(format!("{api}/sessions"), "\"sessions\":[{")
    })
    .await;
    let sessions_search = sequential(samples, |n| {
        get(
            format!("{api}/sessions?searchText=Seed%20User%20{}", session_at(n)),
            "\"sessions\":[{",
        )
    })
    .await;
    let sessions_paused = sequential(samples, |_| {
        get(format!("{api}/sessions?filter=paused"), "\"isPaused\":true")
    })
    .await;
    let newest_messages = sequential(samples, |n| {
        get(
            format!("{api}/sessions/{}/messages", session_at(n)),
            "\"messages\"",
        )
    })
    .await;
    let history_search = sequential(samples, |n| {
        let word = SEARCHES[n % SEARCHES.len()];
        get(
            format!(
                "{}/api/v1/history/search?q={}",
                target.base,
                percent_encoding::utf8_percent_encode(word, percent_encoding::NON_ALPHANUMERIC)
            ),
            "\"results\"",
        )
    })
    .await;
    let cookie = sign_in(&client, &target.base).await?;
    let console_page = sequential(samples, |_| {
        let client = client.clone();
        let url = format!("{}/modules/hitl", target.base);
        let cookie = cookie.clone();
        async move {
            let r = client
                .get(&url)
                .header("cookie", &cookie)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status();
            let body = r.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() || !body.contains("Seed User") {
                return Err(format!("/modules/hitl: {status}"));
            }
            Ok(())
        }
    })
    .await;
    let check = |r: Result<Latency, String>| r.map_err(BenchError::Load);
    Ok(Reads {
        sessions_first_page: check(sessions_first_page)?,
        sessions_search: check(sessions_search)?,
        sessions_paused: check(sessions_paused)?,
        newest_messages: check(newest_messages)?,
        history_search: check(history_search)?,
        console_page: check(console_page)?,
    })
}

/// Signs in with the login form; answers the cookie header a browser would send back.
async fn sign_in(client: &reqwest::Client, base: &str) -> Result<String, BenchError> {
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("next", "/modules/hitl"),
        ])
        .send()
        .await?;
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next().map(str::to_string))
        .collect();
    if r.status() != reqwest::StatusCode::SEE_OTHER || cookies.is_empty() {
        return Err(BenchError::Setup(format!(
            "signing in answered {} (is {ADMIN_EMAIL} the admin of this server?)",
            r.status()
        )));
    }
    Ok(cookies.join("; "))
}
