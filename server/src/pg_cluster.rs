//! A private PostgreSQL server for tests and the benchmark: a cluster made in a temporary
//! folder with Debian's `initdb`, started on a free loopback port, and stopped and removed when
//! the process that asked for it exits (a small shell guard holds it: when the pipe to it
//! closes, however the process ended, it stops the server and deletes the folder).
//!
//! `HITL_TEST_POSTGRES` names a server that is already running (a URL without a database, of a
//! role that may create databases); without it each process starts its own.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sqlx::Connection;

/// Where Debian keeps the server's programs.
const BIN_DIRS: &[&str] = &[
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
];

/// Whether the server writes through to the disk. Tests need no crash safety from it; a
/// benchmark that compares it with SQLite's `--durability full` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disk {
    Scratch,
    Durable,
}

/// A running server: its URL without a database name.
pub struct PgServer {
    pub url: String,
    /// The guard that stops it (held open for the process's life).
    _guard: Option<Child>,
}

/// The server of this process: the one `HITL_TEST_POSTGRES` names, or one started on first use.
pub fn shared() -> &'static PgServer {
    static SERVER: OnceLock<PgServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("HITL_TEST_POSTGRES") {
            return PgServer::running(&url);
        }
        PgServer::start(Disk::Scratch).unwrap_or_else(|e| {
            panic!("could not start PostgreSQL for the tests ({e}); run scripts/setup.sh")
        })
    })
}

impl PgServer {
    /// A server that is already running, at `url` (without a database name).
    pub fn running(url: &str) -> PgServer {
        PgServer {
            url: url.trim_end_matches('/').to_string(),
            _guard: None,
        }
    }

    /// Makes and starts a cluster; answers once it takes connections.
    pub fn start(disk: Disk) -> io::Result<PgServer> {
        let bin = BIN_DIRS
            .iter()
            .map(PathBuf::from)
            .find(|d| d.join("initdb").exists())
            .ok_or_else(|| io::Error::other("PostgreSQL's initdb is not installed"))?;
        let dir = tempfile::Builder::new()
            .prefix("hitl-pg-")
            .tempdir()?
            .keep();
        let data = dir.join("data");
        let as_root = is_root();
        if as_root {
            // The server refuses to run as root: the cluster belongs to `postgres`.
            run(Command::new("chown").arg("postgres:").arg(&dir))?;
        }
        let user = |program: &Path| {
            let mut c = if as_root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            };
            c.stdout(Stdio::null()).stderr(Stdio::piped());
            c
        };
        run(user(&bin.join("initdb"))
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8"])
            .args(["--locale=C", "--no-sync", "-D"])
            .arg(&data))?;
        let port = free_port()?;
        let scratch = match disk {
            Disk::Scratch => "-c fsync=off -c full_page_writes=off",
            Disk::Durable => "",
        };
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} \
             {scratch} -c max_connections=300 -c shared_buffers=128MB",
            dir.display()
        );
        // The guard: starts the server, waits for its stdin to close, then stops it and
        // removes the folder.
        let mut script = String::new();
        let su = if as_root {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let pg_ctl = bin.join("pg_ctl");
        script.push_str(&format!(
            "{su}'{ctl}' -D '{data}' -l '{dir}/log' -o '{options}' -w start >/dev/null || exit 1\n\
             echo started\n\
             cat >/dev/null\n\
             {su}'{ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1\n\
             rm -rf '{dir}'\n",
            ctl = pg_ctl.display(),
            data = data.display(),
            dir = dir.display(),
        ));
        let mut guard = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut line = String::new();
        let stdout = guard.stdout.take().expect("piped");
        io::BufRead::read_line(&mut io::BufReader::new(stdout), &mut line)?;
        if line.trim() != "started" {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            return Err(io::Error::other(format!("PostgreSQL did not start: {log}")));
        }
        Ok(PgServer {
            url: format!("postgres://postgres@127.0.0.1:{port}"),
            _guard: Some(guard),
        })
    }

    /// A new, empty database on the server; answers its URL.
    pub async fn fresh_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "hitl_{}_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_millis(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let made = async {
                let mut admin =
                    sqlx::PgConnection::connect(&format!("{}/postgres", self.url)).await?;
                sqlx::query(&format!("create database {name}"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            };
            match made.await {
                Ok(()) => return format!("{}/{name}", self.url),
                // Two `create database` at once may collide on the template: try again.
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(error = %e, "create database failed; again");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("could not create a test database: {e}"),
            }
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run(command: &mut Command) -> io::Result<()> {
    let output = command.output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
