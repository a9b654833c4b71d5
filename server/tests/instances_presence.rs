//! Several real `hitl` processes on one PostgreSQL database: an agent's presence is the same on
//! every instance. A console on one instance makes them online on the others (their team lists,
//! their dispatchers); each change is told to the bot once, whichever instances saw it; and when
//! the instance holding their console is killed they go offline after the grace period, told by
//! a survivor, which then hands their conversation back to the queue. Failed sign-ins count on
//! every instance alike.

pub mod common;
pub mod processes;

use std::path::Path;
use std::time::Duration;

use common::{Events, TOKEN};
use processes::{database, Hitl};
use serde_json::{json, Value};
use tokio::time::Instant;

const TEAM_BOT: &str = "team-bot";
const GRACE_SECS: u64 = 2;

/// A bots folder with a bot that assigns conversations in turn and requeues those of an agent
/// offline for a second.
fn team_bots(dir: &Path) -> std::path::PathBuf {
    let bots = dir.join("bots");
    std::fs::create_dir(&bots).unwrap();
    let file = "name = \"Team Bot\"\n\n[handoffs]\nassignment = \"round_robin\"\n\
                offline_action = \"requeue\"\noffline_after_secs = 1\n";
    std::fs::write(bots.join(format!("{TEAM_BOT}.toml")), file).unwrap();
    bots
}

async fn call(method: reqwest::Method, url: String, token: &str, body: Option<Value>) -> Value {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method, &url)
        .bearer_auth(token)
        .timeout(Duration::from_secs(20));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

fn events_url(hitl: &Hitl) -> String {
    format!("ws://{}/api/v1/bots/{TEAM_BOT}/mod/hitl/events", hitl.addr)
}

/// Ada as the team list of `hitl` has her.
async fn ada_on(hitl: &Hitl, ada: i64) -> Value {
    let list = call(
        reqwest::Method::GET,
        format!("{}/api/v1/bots/{TEAM_BOT}/agents", hitl.base()),
        TOKEN,
        None,
    )
    .await;
    list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == ada)
        .cloned()
        .expect("Ada is listed")
}

/// Ada's status events up to and including one that says `status`.
async fn until_ada(watch: &mut Events, ada: i64, status: &str) -> Vec<String> {
    watch
        .until(|e| {
            e["type"] == "agent.status" && e["agent"]["id"] == ada && e["agent"]["status"] == status
        })
        .await
        .into_iter()
        .filter(|e| e["type"] == "agent.status" && e["agent"]["id"] == ada)
        .map(|e| e["agent"]["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_instances_see_one_presence_and_tell_each_change_once() {
    let dir = tempfile::tempdir().unwrap();
    let bots = team_bots(dir.path());
    let (url, _pool) = database().await;
    let grace = GRACE_SECS.to_string();
    let more = ["--presence-grace-secs", grace.as_str()];
    let a = Hitl::start_with("hitl-a", &url, &bots, &more).await;
    let b = Hitl::start_with("hitl-b", &url, &bots, &more).await;
    let c = Hitl::start_with("hitl-c", &url, &bots, &more).await;

    let made = call(
        reqwest::Method::POST,
        format!("{}/api/v1/users", c.base()),
        TOKEN,
        Some(json!({
            "email": "ada@test.local", "name": "Ada", "role": "agent",
            "bots": [TEAM_BOT], "password": "a long enough password"
        })),
    )
    .await;
    let ada = made["user"]["viewer"]["id"].as_i64().expect("Ada's id");
    let token = call(
        reqwest::Method::POST,
        format!("{}/api/v1/tokens", c.base()),
        TOKEN,
        Some(json!({ "name": "Ada's console", "userId": ada })),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_string();

    // An admin watches the bot on C; Ada opens her console on A.
    let mut watch = Events::open(&events_url(&c), TOKEN).await;
    watch.next().await;
    let mut told = Vec::new();
    let mut console = Events::open(&events_url(&a), &token).await;
    console.next().await;
    told.extend(until_ada(&mut watch, ada, "online").await);
    for other in [&b, &c] {
        let row = ada_on(other, ada).await;
        assert_eq!(
            (row["status"].as_str(), row["consoles"].as_i64()),
            (Some("online"), Some(1)),
            "{} sees Ada as {row}",
            other.name
        );
    }

    // A user asks B for a person: the conversation is Ada's, whoever assigned it.
    let said = call(
        reqwest::Method::POST,
        format!("{}/api/v1/bots/{TEAM_BOT}/converse/rosa", b.base()),
        TOKEN,
        Some(json!({ "type": "text", "text": "a person, please" })),
    )
    .await;
    let session = said["sessionId"].as_i64().unwrap();
    call(
        reqwest::Method::POST,
        format!(
            "{}/api/v1/bots/{TEAM_BOT}/mod/hitl/sessions/{session}/pause",
            b.base()
        ),
        TOKEN,
        None,
    )
    .await;
    let assigned = watch
        .until(|e| {
            e["type"] == "session.updated"
                && e["session"]["id"] == session
                && e["session"]["handoff"]["state"] == "assigned"
        })
        .await;
    told.extend(
        assigned
            .iter()
            .filter(|e| e["type"] == "agent.status")
            .map(|e| e["agent"]["status"].as_str().unwrap().to_string()),
    );
    assert_eq!(
        assigned.last().unwrap()["session"]["handoff"]["assignee"]["id"],
        ada
    );

    // Her instance dies under her: a survivor says she is offline after the grace period,
    // then hands her conversation back to the queue.
    a.kill().await;
    let killed = Instant::now();
    drop(console);
    told.extend(until_ada(&mut watch, ada, "offline").await);
    let offline_after = killed.elapsed();
    assert!(
        offline_after >= Duration::from_millis(GRACE_SECS * 1000 / 2),
        "offline {offline_after:?} after the kill, before the grace period"
    );
    let requeued = watch
        .until(|e| {
            e["type"] == "session.updated"
                && e["session"]["id"] == session
                && e["session"]["handoff"]["state"] == "queued"
        })
        .await;
    told.extend(
        requeued
            .iter()
            .filter(|e| e["type"] == "agent.status" && e["agent"]["id"] == ada)
            .map(|e| e["agent"]["status"].as_str().unwrap().to_string()),
    );

    // Back on B, then busy by a request to C.
    let mut console = Events::open(&events_url(&b), &token).await;
    console.next().await;
    told.extend(until_ada(&mut watch, ada, "online").await);
    call(
        reqwest::Method::PUT,
        format!("{}/api/v1/me/status", c.base()),
        &token,
        Some(json!({ "status": "busy" })),
    )
    .await;
    told.extend(until_ada(&mut watch, ada, "busy").await);
    let row = ada_on(&c, ada).await;
    assert_eq!(
        (row["status"].as_str(), row["consoles"].as_i64()),
        (Some("busy"), Some(1)),
        "the dead instance's console no longer counts: {row}"
    );
    assert_eq!(
        told,
        ["online", "offline", "online", "busy"],
        "each change told once"
    );
    drop(console);
}

/// Signs in on `hitl` with the form; answers where it sends the browser.
async fn sign_in(hitl: &Hitl, email: &str, password: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("{}/login", hitl.base()))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("the sign-in is answered");
    assert_eq!(response.status(), 303, "a sign-in redirects");
    response.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_instances_throttle_failed_sign_ins_together() {
    let dir = tempfile::tempdir().unwrap();
    let bots = team_bots(dir.path());
    let (url, _pool) = database().await;
    let mut all = Vec::new();
    for name in ["hitl-a", "hitl-b", "hitl-c"] {
        all.push(Hitl::start(name, &url, &bots).await);
    }
    call(
        reqwest::Method::POST,
        format!("{}/api/v1/users", all[0].base()),
        TOKEN,
        Some(json!({
            "email": "ada@test.local", "name": "Ada", "role": "agent",
            "bots": [TEAM_BOT], "password": "a long enough password"
        })),
    )
    .await;
    // Five wrong passwords, spread over the instances: no instance saw more than two.
    for i in 0..5 {
        let to = sign_in(&all[i % 3], "ada@test.local", "not her password").await;
        assert!(to.starts_with("/login?error=credentials"), "{to}");
    }
    // The right one is refused now on every instance, for the account's limit is reached.
    for hitl in &all {
        let to = sign_in(hitl, "ada@test.local", "a long enough password").await;
        assert!(
            to.starts_with("/login?error=throttled"),
            "{}: {to}",
            hitl.name
        );
    }
}
