//! Real `hitl` processes for the several-instance tests: started on a free port of one
//! database, their output shown with the test's, killed with SIGKILL when a test says so.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use super::common::{ADMIN_PASSWORD, REPO_BOTS_DIR, TOKEN};

/// A running `hitl` process.
pub struct Hitl {
    pub name: String,
    pub child: Child,
    pub addr: SocketAddr,
}

impl Hitl {
    /// Starts the binary on a free port; answers once it says it is listening.
    pub async fn start(name: &str, database_url: &str, bots_dir: &Path) -> Hitl {
        Hitl::start_with(name, database_url, bots_dir, &[]).await
    }

    /// Starts the binary with more arguments.
    pub async fn start_with(
        name: &str,
        database_url: &str,
        bots_dir: &Path,
        more: &[&str],
    ) -> Hitl {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hitl"))
            .arg("--database-url")
            .arg(database_url)
            .args(["--addr", "127.0.0.1:0", "--api-token", TOKEN])
            .args(["--admin-password", ADMIN_PASSWORD, "--bots-dir"])
            .arg(bots_dir)
            .args(more)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the hitl binary starts");
        let (found, listening) = oneshot::channel();
        relay(name, child.stdout.take().expect("piped"), Some(found));
        relay(name, child.stderr.take().expect("piped"), None);
        let addr = tokio::time::timeout(Duration::from_secs(30), listening)
            .await
            .unwrap_or_else(|_| panic!("{name} did not listen within 30 s"))
            .unwrap_or_else(|_| panic!("{name} exited before it listened"));
        Hitl {
            name: name.to_string(),
            child,
            addr,
        }
    }

    /// Fails the test if the process ended on its own (it would show only as refused
    /// connections).
    pub fn assert_running(&mut self) {
        let status = self.child.try_wait().expect("the process can be asked");
        assert!(
            status.is_none(),
            "{} exited on its own: {status:?}",
            self.name
        );
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `kill -9`, then waits for the process to be gone.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL is sent");
        self.child
            .wait()
            .await
            .expect("the killed process is reaped");
    }
}

/// Reads a pipe of the process to its end (so it never fills), shows its lines with the test's
/// output, and hands over the address of the "listening" line.
fn relay(
    name: &str,
    pipe: impl AsyncRead + Unpin + Send + 'static,
    mut found: Option<oneshot::Sender<SocketAddr>>,
) {
    let name = name.to_string();
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("hitl is listening: console at http://") {
                if let Some(found) = found.take() {
                    let addr = rest
                        .trim_end_matches("/modules/hitl")
                        .parse()
                        .unwrap_or_else(|e| panic!("{name}: a bad address in {line:?}: {e}"));
                    let _ = found.send(addr);
                    continue;
                }
            }
            eprintln!("[{name}] {line}");
        }
    });
}

/// `n` instances on one database: the first alone (it runs the migrations and makes the first
/// admin), then the others at once.
pub async fn instances(n: usize, database_url: &str, bots_dir: &Path) -> Vec<Hitl> {
    let first = Hitl::start("hitl-0", database_url, bots_dir).await;
    let others =
        futures::future::join_all((1..n).map(|i| async move {
            Hitl::start(&format!("hitl-{i}"), database_url, bots_dir).await
        }))
        .await;
    std::iter::once(first).chain(others).collect()
}

/// A new database on the tests' PostgreSQL server, and a pool to check it with.
pub async fn database() -> (String, PgPool) {
    let url = server::pg_cluster::shared().fresh_database().await;
    let pool = PgPool::connect(&url)
        .await
        .expect("the test database opens");
    (url, pool)
}

pub fn repo_bots() -> PathBuf {
    PathBuf::from(REPO_BOTS_DIR)
}
