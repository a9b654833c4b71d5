//! `hitl-bench`: measures a hitl server end to end (ingest, live fan-out, reads at scale, memory,
//! start-up and bundle sizes), prints a table and writes the figures as JSON.

mod bundle;
mod cluster;
mod converse;
mod fanout;
mod load;
mod report;
mod scale;
mod server;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use cluster::PgReport;
use report::{Ingest, Memory, Report, Scale};
use server::{sqlite_url, Launch, Target};

/// The demo bot every started server has (its echo rule answers every text).
pub const BOT: &str = "welcome-bot";

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Setup(String),
    #[error("load: {0}")]
    Load(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Parser)]
#[command(name = "hitl-bench", about = "Measures a hitl server end to end")]
struct Args {
    /// A running server to measure instead of starting one (memory, start-up and the seeded
    /// database are then not measured).
    #[arg(long)]
    url: Option<String>,
    /// The API token of `--url`.
    #[arg(long, default_value = server::TOKEN)]
    token: String,
    /// The release binary to start.
    #[arg(long, default_value = "target/release/hitl")]
    server_bin: PathBuf,
    /// Where the release bundle is.
    #[arg(long, default_value = "target/site/pkg")]
    pkg_dir: PathBuf,
    /// Seconds each ingest step runs.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Durability settings to measure ingest with (`full`, `normal`).
    #[arg(long, value_delimiter = ',', default_value = "full,normal")]
    durability: Vec<String>,
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Messages per second during the fan-out.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    #[arg(long, default_value_t = 10.0)]
    fanout_seconds: f64,
    #[arg(long, default_value_t = 100_000)]
    sessions: i64,
    #[arg(long, default_value_t = 1_000_000)]
    messages: i64,
    /// The database of the at-scale part, kept after the run (seeded only when it is new); by
    /// default a temporary one.
    #[arg(long)]
    database: Option<PathBuf>,
    /// Requests per read measured at scale.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Where the JSON report goes.
    #[arg(long, default_value = "target/hitl-bench.json")]
    json: PathBuf,
    /// A load of seconds, to check that the benchmark works (CI).
    #[arg(long)]
    tiny: bool,
    /// Parts to leave out: `ingest`, `fanout`, `scale`, `postgres` (all of its parts).
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// A running PostgreSQL server (a URL without a database, of a role that may create
    /// databases) for the PostgreSQL parts; by default a private one in a temporary folder.
    #[arg(long)]
    postgres_url: Option<String>,
    /// Instances of one PostgreSQL database the ingest is spread over, in turn.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    instances: Vec<usize>,
}

impl Args {
    fn runs(&self, part: &str) -> bool {
        !self.skip.iter().any(|s| s == part)
    }

    fn shrink(mut self) -> Self {
        if self.tiny {
            self.seconds = 0.5;
            self.concurrency = vec![1, 4];
            self.durability.truncate(1);
            self.subscribers = 20;
            self.fanout_seconds = 1.0;
            self.sessions = 1_000;
            self.messages = 10_000;
            self.samples = 10;
            self.instances = vec![1, 2];
        }
        self
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse().shrink();
    match run(&args).await {
        Ok(report) => {
            report.print();
            match report.write(&args.json) {
                Ok(()) => {
                    println!("\nJSON: {}", args.json.display());
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hitl-bench: cannot write {}: {e}", args.json.display());
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("hitl-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<Report, BenchError> {
    let dir = tempfile::tempdir()?;
    let launch = |name: &str, durability: &str| Launch {
        binary: args.server_bin.clone(),
        database_url: sqlite_url(&dir.path().join(format!("{name}.db"))),
        durability: durability.to_string(),
        log: dir.path().join(format!("{name}.log")),
    };
    let pg_launch = |name: &str, database_url: String| Launch {
        binary: args.server_bin.clone(),
        database_url,
        durability: "full".to_string(),
        log: dir.path().join(format!("{name}.log")),
    };
    let mut report = Report::new();
    let step = Duration::from_secs_f64(args.seconds);

    let Some(url) = &args.url else {
        let durabilities = if args.runs("ingest") || args.runs("fanout") {
            args.durability.as_slice()
        } else {
            &[]
        };
        for (i, durability) in durabilities.iter().enumerate() {
            eprintln!("ingest, durability {durability}…");
            let target =
                Target::start(&launch(&format!("ingest-{durability}"), durability)).await?;
            if i == 0 {
                report
                    .memory
                    .push(Memory::new("idle, fresh database", target.rss_mib()));
            }
            let ingest = if args.runs("ingest") {
                ingest(&target, durability, &args.concurrency, step).await?
            } else {
                Ingest::new(durability)
            };
            if i == 0 && args.runs("ingest") {
                report
                    .memory
                    .push(Memory::new("under ingest (peak)", ingest.peak_rss_mib));
            }
            if i == 0 && args.runs("fanout") {
                eprintln!("fan-out to {} subscribers…", args.subscribers);
                let fan = fanout::run(
                    &[&target],
                    &target,
                    args.subscribers,
                    args.rate,
                    Duration::from_secs_f64(args.fanout_seconds),
                )
                .await?
                .remove(0);
                report.memory.push(Memory::new(
                    &format!("with {} sockets", args.subscribers),
                    fan.rss_mib_with_sockets,
                ));
                report.fanout = Some(fan);
            }
            if args.runs("ingest") {
                report.ingest.push(ingest);
            }
            target.stop().await?;
        }
        let pg = if args.runs("postgres") {
            Some(cluster::server(args)?)
        } else {
            None
        };
        if let Some(pg) = &pg {
            let mut measured = PgReport {
                ingest: Vec::new(),
                fanout: None,
                scale: None,
            };
            if args.runs("ingest") {
                measured.ingest = cluster::ingest(args, pg, &pg_launch).await?;
            }
            if args.runs("fanout") {
                measured.fanout = Some(cluster::fanout(args, pg, &pg_launch).await?);
            }
            report.postgres = Some(measured);
        }
        if !args.runs("scale") {
            return Ok(report);
        }

        eprintln!(
            "at scale: seeding {} sessions, {} messages…",
            args.sessions, args.messages
        );
        let big_file = args
            .database
            .clone()
            .unwrap_or_else(|| dir.path().join("scale.db"));
        let reused = big_file.exists();
        let mut big = launch("scale", "full");
        big.database_url = sqlite_url(&big_file);
        let seeded = if reused {
            scale::counted(&big_file).await?
        } else {
            Target::start(&big).await?.stop().await?;
            scale::seed(&big_file, args.sessions, args.messages).await?
        };
        let target = Target::start(&big).await?;
        let startup = target.startup;
        let idle = target.rss_mib();
        let reads = scale::reads(&target, seeded.sessions, args.samples).await?;
        let mut matches = Vec::new();
        if pg.is_some() {
            for query in scale::SEARCHES {
                matches.push(scale::matches(&target, query).await?);
            }
        }
        report
            .memory
            .push(Memory::new("idle, large database", idle));
        report
            .memory
            .push(Memory::new("after the reads at scale", target.rss_mib()));
        target.stop().await?;
        if let (Some(pg), Some(measured)) = (&pg, &mut report.postgres) {
            measured.scale = Some(
                cluster::scale(args, pg, &pg_launch, &big_file, seeded.sessions, &matches).await?,
            );
        }
        report.scale = Some(Scale {
            seeded,
            startup_ms: startup.map(|d| d.as_secs_f64() * 1000.0),
            reads,
        });
        report.bundle = bundle::loads(&args.pkg_dir)?;
        return Ok(report);
    };

    let target = Target::external(url, &args.token);
    report
        .ingest
        .push(ingest(&target, "as configured", &args.concurrency, step).await?);
    report.fanout = fanout::run(
        &[&target],
        &target,
        args.subscribers,
        args.rate,
        Duration::from_secs_f64(args.fanout_seconds),
    )
    .await?
    .pop();
    Ok(report)
}

/// Converse round trips and `/healthz` at each concurrency, on the same server.
async fn ingest(
    target: &Target,
    durability: &str,
    concurrencies: &[usize],
    step: Duration,
) -> Result<Ingest, BenchError> {
    let client = reqwest::Client::new();
    let mut result = Ingest::new(durability);
    for &c in concurrencies {
        let converse = converse::round_trips(
            &client,
            std::slice::from_ref(&target.base),
            &target.token,
            c,
            step,
        );
        let (converse, peak) = sample_rss_while(target, converse).await;
        result.peak_rss_mib = max_option(result.peak_rss_mib, peak);
        if let Some(e) = &converse.first_error {
            return Err(BenchError::Load(e.clone()));
        }
        let (client2, base) = (client.clone(), target.base.clone());
        let health = load::closed_loop(c, step, move |_, _| {
            let request = client2.get(format!("{base}/healthz")).send();
            async move {
                let r = request.await.map_err(|e| e.to_string())?;
                let status = r.status();
                r.bytes().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!("healthz: {status}"));
                }
                Ok(())
            }
        })
        .await;
        result.push(converse, health);
    }
    Ok(result)
}

/// Runs the load while reading the server's memory every 100 ms; answers the highest seen.
async fn sample_rss_while<T>(
    target: &Target,
    load: impl std::future::Future<Output = T>,
) -> (T, Option<f64>) {
    let mut peak = target.rss_mib();
    let mut every = tokio::time::interval(Duration::from_millis(100));
    tokio::pin!(load);
    loop {
        tokio::select! {
            done = &mut load => return (done, max_option(peak, target.rss_mib())),
            _ = every.tick() => peak = max_option(peak, target.rss_mib()),
        }
    }
}

fn max_option(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
