//! What the API has acknowledged survives a crash: the real `hitl` binary is killed (SIGKILL)
//! right after it answers, restarted on the same database file, and still has the message.

use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::process::{Child, Command};

const TOKEN: &str = "durability-test-token";
const BOTS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../bots");
const START_DEADLINE: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_millis(25);

/// A `hitl` process serving on its own port.
struct Hitl {
    child: Child,
    address: String,
    log: std::path::PathBuf,
}

impl Hitl {
    /// Starts the binary on `database_url` and waits until `/healthz` answers.
    async fn start(dir: &Path, database_url: &str, run: u32) -> Hitl {
        let addr = format!("127.0.0.1:{}", free_port());
        let log = dir.join(format!("hitl-{run}.log"));
        let output = std::fs::File::create(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_hitl"))
            .args([
                "--addr",
                &addr,
                "--database-url",
                database_url,
                "--api-token",
                TOKEN,
                "--bots-dir",
                BOTS_DIR,
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("a log handle"))
            .stderr(output)
            .kill_on_drop(true)
            .spawn()
            .expect("hitl starts");
        let mut hitl = Hitl {
            child,
            address: format!("http://{addr}"),
            log,
        };
        hitl.wait_until_ready().await;
        hitl
    }

    async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("the process can be polled") {
                panic!(
                    "hitl exited with {status} before it was ready:\n{}",
                    self.log_text()
                );
            }
            let health = client.get(format!("{}/healthz", self.address)).send().await;
            if health.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "hitl was not ready in time:\n{}",
                self.log_text()
            );
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Ends the process at once, as a crash or `kill -9` would (`kill` sends SIGKILL and waits).
    async fn crash(mut self) {
        self.child.kill().await.expect("the process can be killed");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

#[tokio::test]
async fn a_message_acknowledged_before_a_crash_is_still_there_after_restart() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database_url = format!("sqlite://{}", dir.path().join("hitl.db").display());
    let client = reqwest::Client::new();

    let hitl = Hitl::start(dir.path(), &database_url, 1).await;
    let response = client
        .post(hitl.url("/api/v1/bots/welcome-bot/converse/crash-user"))
        .bearer_auth(TOKEN)
        .json(&json!({ "type": "text", "text": "remember me" }))
        .send()
        .await
        .expect("hitl answers");
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("a JSON answer");
    hitl.crash().await;

    let hitl = Hitl::start(dir.path(), &database_url, 2).await;
    let session_id = answer["sessionId"].as_i64().expect("a session id");
    let response = client
        .get(hitl.url(&format!(
            "/api/v1/bots/welcome-bot/mod/hitl/sessions/{session_id}/messages"
        )))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("hitl answers");
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.expect("a JSON answer");
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["remember me", "You said: remember me"]);
    let remembered = &page["messages"][0];
    assert_eq!(remembered["id"], answer["messageId"]);
    assert_eq!(remembered["source"], "user");
}
