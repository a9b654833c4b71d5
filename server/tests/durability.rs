//! What the API has acknowledged survives a crash: the real `hitl` binary is killed (SIGKILL)
//! right after it answers, restarted on the same database file, and still has the message; a
//! message on its way to Messenger when the process dies is sent after the restart.

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
    /// Starts the binary on `database_url` with the repository's bots and waits until
    /// `/healthz` answers.
    async fn start(dir: &Path, database_url: &str, run: u32) -> Hitl {
        Hitl::start_with_bots(dir, database_url, run, Path::new(BOTS_DIR)).await
    }

    async fn start_with_bots(dir: &Path, database_url: &str, run: u32, bots: &Path) -> Hitl {
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
                bots.to_str().expect("a UTF-8 path"),
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

/// Group commit answers many writers with one transaction: each must still be on disk when it is
/// answered. Many senders at once; the server is killed while requests are in flight.
#[tokio::test]
async fn every_message_acknowledged_by_concurrent_senders_survives_a_crash() {
    const SENDERS: usize = 32;
    const BEFORE_CRASH: usize = 400;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database_url = format!("sqlite://{}", dir.path().join("hitl.db").display());
    let client = reqwest::Client::new();
    let hitl = Hitl::start(dir.path(), &database_url, 1).await;

    let (acked, mut acks) = tokio::sync::mpsc::unbounded_channel::<(usize, i64, i64, String)>();
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let (client, url, acked) = (
            client.clone(),
            hitl.url(&format!(
                "/api/v1/bots/welcome-bot/converse/sender-{sender}"
            )),
            acked.clone(),
        );
        senders.push(tokio::spawn(async move {
            for n in 0.. {
                let text = format!("sender {sender} message {n}");
                let sent = client
                    .post(&url)
                    .bearer_auth(TOKEN)
                    .json(&json!({ "type": "text", "text": text }))
                    .send()
                    .await;
                // The server is gone: what it did not answer is not promised.
                let Ok(response) = sent else { return };
                let Ok(answer) = response.json::<Value>().await else {
                    return;
                };
                let (Some(session), Some(message)) =
                    (answer["sessionId"].as_i64(), answer["messageId"].as_i64())
                else {
                    return;
                };
                if acked.send((sender, session, message, text)).is_err() {
                    return;
                }
            }
        }));
    }
    drop(acked);
    let mut promised = Vec::new();
    while promised.len() < BEFORE_CRASH {
        promised.push(acks.recv().await.expect("the senders go on"));
    }
    hitl.crash().await;
    for sender in senders {
        sender.await.expect("a sender ends");
    }
    // Answers that were on their way when the process died count as acknowledged too.
    while let Ok(ack) = acks.try_recv() {
        promised.push(ack);
    }

    let hitl = Hitl::start(dir.path(), &database_url, 2).await;
    let mut sessions: Vec<i64> = promised.iter().map(|p| p.1).collect();
    sessions.sort_unstable();
    sessions.dedup();
    assert_eq!(sessions.len(), SENDERS, "every sender has its conversation");
    let mut stored = std::collections::HashMap::new();
    for session in sessions {
        let page: Value = client
            .get(hitl.url(&format!(
                "/api/v1/bots/welcome-bot/mod/hitl/sessions/{session}/messages?limit=200"
            )))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("hitl answers")
            .json()
            .await
            .expect("a JSON answer");
        for m in page["messages"].as_array().expect("messages") {
            stored.insert(
                m["id"].as_i64().unwrap(),
                m["text"].as_str().unwrap().to_string(),
            );
        }
    }
    for (sender, _, message, text) in &promised {
        assert_eq!(
            stored.get(message),
            Some(text),
            "sender {sender}'s acknowledged message {message} is on disk"
        );
    }
}

/// A fake Graph API: the first Send API call never gets an answer (the process is killed while
/// it waits); once `answering` is set, calls are accepted and passed on to the test.
#[derive(Clone)]
struct Graph {
    calls: tokio::sync::mpsc::UnboundedSender<Value>,
    answering: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

async fn send_api(
    axum::extract::State(graph): axum::extract::State<Graph>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let answering = graph.answering.load(std::sync::atomic::Ordering::SeqCst);
    let _ = graph.calls.send(body);
    if !answering {
        std::future::pending::<()>().await;
    }
    axum::Json(json!({ "recipient_id": "psid-1", "message_id": "mid.out" }))
}

#[tokio::test]
async fn a_messenger_message_on_its_way_when_hitl_dies_is_sent_after_the_restart() {
    let (calls, mut called) = tokio::sync::mpsc::unbounded_channel();
    let graph = Graph {
        calls,
        answering: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let graph_url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/me/messages", axum::routing::post(send_api))
        .route(
            "/{psid}",
            axum::routing::get(|| async { axum::Json(json!({})) }),
        )
        .with_state(graph.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("a temporary directory");
    let bots = dir.path().join("bots");
    std::fs::create_dir(&bots).unwrap();
    let rules = std::fs::read_to_string(Path::new(BOTS_DIR).join("welcome-bot.toml")).unwrap();
    std::fs::write(
        bots.join("fb-bot.toml"),
        format!(
            "{rules}\n[messenger]\npage_access_token = \"page\"\napp_secret = \"secret\"\n\
             verify_token = \"verify\"\ngraph_api_url = \"{graph_url}\"\n"
        ),
    )
    .unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("hitl.db").display());
    let hitl = Hitl::start_with_bots(dir.path(), &database_url, 1, &bots).await;
    let body = json!({ "object": "page", "entry": [{ "id": "page", "time": 1, "messaging": [
        { "sender": { "id": "psid-1" }, "recipient": { "id": "page" }, "timestamp": 1,
          "message": { "mid": "m.1", "text": "where is my parcel" } }
    ]}]})
    .to_string();
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(b"secret").unwrap();
    hmac::Mac::update(&mut mac, body.as_bytes());
    let signature = format!(
        "sha256={}",
        hex::encode(hmac::Mac::finalize(mac).into_bytes())
    );
    let delivered = reqwest::Client::new()
        .post(hitl.url("/api/v1/bots/fb-bot/mod/channel-messenger/webhook"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .expect("hitl answers");
    assert_eq!(delivered.status(), 200);
    // The bot's answer is committed and its Send API call is in flight: the process dies now.
    let first = called.recv().await.expect("the Send API was called");
    assert_eq!(first["message"]["text"], "You said: where is my parcel");
    hitl.crash().await;

    graph
        .answering
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let _hitl = Hitl::start_with_bots(dir.path(), &database_url, 2, &bots).await;
    let again = tokio::time::timeout(START_DEADLINE, called.recv())
        .await
        .expect("the answer is sent after the restart")
        .expect("the fake Graph API runs");
    assert_eq!(again["recipient"]["id"], "psid-1");
    assert_eq!(again["message"]["text"], "You said: where is my parcel");
}
