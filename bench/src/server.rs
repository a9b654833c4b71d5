//! The server under test: a release `hitl` the benchmark starts on a database of its own (or one
//! already running, given by `--url`), its address, token, memory and start-up time.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::BenchError;

pub const TOKEN: &str = "hitl-bench-token";
pub const ADMIN_EMAIL: &str = "admin@bench.test";
pub const ADMIN_PASSWORD: &str = "hitl-bench-admin-password";
const LISTENING: &str = "hitl is listening: console at http://";

/// How a started server is set up.
#[derive(Debug, Clone)]
pub struct Launch {
    pub binary: PathBuf,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `full` or `normal`.
    pub durability: String,
    pub log: PathBuf,
}

/// The URL of a SQLite database file.
pub fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// A running server: one the benchmark started (with a process to measure), or one at a URL.
pub struct Target {
    pub base: String,
    pub token: String,
    child: Option<Child>,
    /// From spawning the process to its first answered `/healthz`.
    pub startup: Option<Duration>,
}

impl Target {
    pub fn external(url: &str, token: &str) -> Self {
        Target {
            base: url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            child: None,
            startup: None,
        }
    }

    pub async fn start(launch: &Launch) -> Result<Self, BenchError> {
        if !launch.binary.exists() {
            return Err(BenchError::Setup(format!(
                "{} is missing: build it with `cargo leptos build --release`",
                launch.binary.display()
            )));
        }
        let log = std::fs::File::create(&launch.log)?;
        let began = Instant::now();
        let mut child = Command::new(&launch.binary)
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--database-url")
            .arg(&launch.database_url)
            .arg("--durability")
            .arg(&launch.durability)
            .arg("--api-token")
            .arg(TOKEN)
            .arg("--admin-email")
            .arg(ADMIN_EMAIL)
            .arg("--admin-password")
            .arg(ADMIN_PASSWORD)
            // Warnings only: the figures are of hitl, not of its log.
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.try_clone()?)
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let mut log = tokio::fs::File::from_std(log);
        let addr = loop {
            let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
                .await
                .map_err(|_| BenchError::Setup("the server did not start in 60 s".into()))??
                .ok_or_else(|| {
                    BenchError::Setup(format!("the server exited; see {}", launch.log.display()))
                })?;
            log.write_all(line.as_bytes()).await?;
            log.write_all(b"\n").await?;
            if let Some(rest) = line.strip_prefix(LISTENING) {
                break rest.trim_end_matches("/modules/hitl").to_string();
            }
        };
        // The rest of its output goes to the log, so the pipe never fills.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = log.write_all(line.as_bytes()).await;
                let _ = log.write_all(b"\n").await;
            }
        });
        let base = format!("http://{addr}");
        let client = reqwest::Client::new();
        loop {
            let up = client.get(format!("{base}/healthz")).send().await;
            if up.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            if began.elapsed() > Duration::from_secs(60) {
                return Err(BenchError::Setup("/healthz never answered".into()));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(Target {
            base,
            token: TOKEN.to_string(),
            startup: Some(began.elapsed()),
            child: Some(child),
        })
    }

    /// The resident memory of the server process in MiB (a started server only).
    pub fn rss_mib(&self) -> Option<f64> {
        let pid = self.child.as_ref()?.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    }

    /// Stops a started server the way an operator does (SIGTERM) and waits for it.
    pub async fn stop(mut self) -> Result<(), BenchError> {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .await?;
            }
            tokio::time::timeout(Duration::from_secs(30), child.wait())
                .await
                .map_err(|_| BenchError::Setup("the server did not stop in 30 s".into()))??;
        }
        Ok(())
    }
}
