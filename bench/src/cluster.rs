//! The PostgreSQL parts: ingest summed over several instances of one database, fan-out to
//! consoles on the instance that took the message and on another one, and the reads at scale on
//! a copy of the SQLite database that `hitl --migrate-to` made (the same corpus, so the searches
//! must find the same messages).

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use server::pg_cluster::{Disk, PgServer};

use crate::fanout::{self, FanOut};
use crate::load::Throughput;
use crate::scale::{self, Matches, Reads};
use crate::server::{sqlite_url, Launch, Target};
use crate::{converse, Args, BenchError};

#[derive(Debug, Serialize)]
pub struct PgReport {
    pub ingest: Vec<ClusterIngest>,
    pub fanout: Option<CrossFanOut>,
    pub scale: Option<PgScale>,
}

/// Converse round trips summed over `instances` instances of one database.
#[derive(Debug, Serialize)]
pub struct ClusterIngest {
    pub instances: usize,
    pub steps: Vec<Throughput>,
}

/// One sender instance; half the consoles on it, half on another.
#[derive(Debug, Serialize)]
pub struct CrossFanOut {
    pub same_instance: FanOut,
    pub cross_instance: FanOut,
}

#[derive(Debug, Serialize)]
pub struct PgScale {
    /// `hitl --migrate-to` of the SQLite database, start to exit.
    pub copy_seconds: f64,
    pub startup_ms: Option<f64>,
    pub reads: Reads,
    pub searches: Vec<SameMatches>,
}

/// One history search on both stores: how many of the newest matches each found, and whether
/// they are the same messages.
#[derive(Debug, Serialize)]
pub struct SameMatches {
    pub query: String,
    pub sqlite: usize,
    pub postgres: usize,
    pub same: bool,
}

/// The PostgreSQL server of the run: `--postgres-url`, or a private durable one.
pub fn server(args: &Args) -> Result<PgServer, BenchError> {
    match &args.postgres_url {
        Some(url) => Ok(PgServer::running(url)),
        None => PgServer::start(Disk::Durable)
            .map_err(|e| BenchError::Setup(format!("PostgreSQL: {e} (run scripts/setup.sh)"))),
    }
}

/// Starts `n` instances on one fresh database, one after the other (the first migrates it).
async fn instances(
    pg: &PgServer,
    launch: &dyn Fn(&str, String) -> Launch,
    name: &str,
    n: usize,
) -> Result<Vec<Target>, BenchError> {
    let database = pg.fresh_database().await;
    let mut started = Vec::with_capacity(n);
    for i in 0..n {
        started.push(Target::start(&launch(&format!("{name}-{i}"), database.clone())).await?);
    }
    Ok(started)
}

async fn stop_all(targets: Vec<Target>) -> Result<(), BenchError> {
    for t in targets {
        t.stop().await?;
    }
    Ok(())
}

pub async fn ingest(
    args: &Args,
    pg: &PgServer,
    launch: &dyn Fn(&str, String) -> Launch,
) -> Result<Vec<ClusterIngest>, BenchError> {
    let client = reqwest::Client::new();
    let step = Duration::from_secs_f64(args.seconds);
    let mut all = Vec::new();
    for &n in &args.instances {
        eprintln!("PostgreSQL ingest, {n} instance(s)…");
        let targets = instances(pg, launch, &format!("pg-ingest-{n}"), n).await?;
        let bases: Vec<String> = targets.iter().map(|t| t.base.clone()).collect();
        let mut steps = Vec::new();
        for &c in &args.concurrency {
            let t = converse::round_trips(&client, &bases, &targets[0].token, c, step).await;
            if let Some(e) = &t.first_error {
                return Err(BenchError::Load(e.clone()));
            }
            steps.push(t);
        }
        stop_all(targets).await?;
        all.push(ClusterIngest {
            instances: n,
            steps,
        });
    }
    Ok(all)
}

pub async fn fanout(
    args: &Args,
    pg: &PgServer,
    launch: &dyn Fn(&str, String) -> Launch,
) -> Result<CrossFanOut, BenchError> {
    eprintln!(
        "PostgreSQL fan-out to {} subscribers on two instances…",
        args.subscribers
    );
    let targets = instances(pg, launch, "pg-fanout", 2).await?;
    let mut groups = fanout::run(
        &[&targets[0], &targets[1]],
        &targets[0],
        args.subscribers,
        args.rate,
        Duration::from_secs_f64(args.fanout_seconds),
    )
    .await?
    .into_iter();
    stop_all(targets).await?;
    let (Some(same_instance), Some(cross_instance)) = (groups.next(), groups.next()) else {
        unreachable!("one result per group");
    };
    Ok(CrossFanOut {
        same_instance,
        cross_instance,
    })
}

/// Copies the SQLite database of the reads at scale into a fresh PostgreSQL one with
/// `hitl --migrate-to`, then measures the same reads and compares the searches.
pub async fn scale(
    args: &Args,
    pg: &PgServer,
    launch: &dyn Fn(&str, String) -> Launch,
    sqlite_file: &Path,
    sessions: i64,
    sqlite_matches: &[Matches],
) -> Result<PgScale, BenchError> {
    eprintln!("PostgreSQL at scale: hitl --migrate-to…");
    let database = pg.fresh_database().await;
    let began = Instant::now();
    let copied = tokio::process::Command::new(&args.server_bin)
        .arg("--database-url")
        .arg(sqlite_url(sqlite_file))
        .arg("--migrate-to")
        .arg(&database)
        .env("RUST_LOG", "warn")
        .output()
        .await?;
    if !copied.status.success() {
        return Err(BenchError::Setup(format!(
            "hitl --migrate-to failed: {}",
            String::from_utf8_lossy(&copied.stderr)
        )));
    }
    let copy_seconds = began.elapsed().as_secs_f64();
    let target = Target::start(&launch("pg-scale", database)).await?;
    let startup_ms = target.startup.map(|d| d.as_secs_f64() * 1000.0);
    let reads = scale::reads(&target, sessions, args.samples).await?;
    let mut searches = Vec::new();
    for sqlite in sqlite_matches {
        let postgres = scale::matches(&target, &sqlite.query).await?;
        searches.push(SameMatches {
            query: sqlite.query.clone(),
            sqlite: sqlite.messages.len(),
            postgres: postgres.messages.len(),
            same: sqlite.messages == postgres.messages,
        });
    }
    target.stop().await?;
    Ok(PgScale {
        copy_seconds,
        startup_ms,
        reads,
        searches,
    })
}
