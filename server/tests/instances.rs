//! Several real `hitl` processes on one PostgreSQL database, as a team runs them behind a load
//! balancer: nothing acknowledged is lost and nothing is stored twice when instances are killed
//! (`kill -9`) and restarted, consoles that reconnect to any instance with `since` miss and repeat
//! no event (even while the instances' LISTEN/NOTIFY hints are cut), every console ends with the
//! sessions as they are, and a Converse poller gets each answer once whichever instance made it.

pub mod common;
pub mod processes;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{bot_path, text, welcome, PATIENCE, TOKEN, WELCOME_BOT};
use futures::StreamExt;
use hmac::{Hmac, Mac};
use processes::{database, instances, repo_bots, Hitl};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::PgPool;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// One test at a time: each runs several servers, and they share the machine's cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a client waits, at the end, for what it must have seen by then.
const CATCH_UP: Duration = Duration::from_secs(20);

/// The last `seq` the welcome bot's log handed out.
async fn head(pool: &PgPool) -> i64 {
    sqlx::query_scalar::<_, i64>("select last_seq from event_log_heads where bot_id = $1")
        .bind(WELCOME_BOT)
        .fetch_optional(pool)
        .await
        .expect("the heads are readable")
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// HTTP.

/// A client of the REST API with the test token, that never waits for ever.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
}

impl Api {
    fn new() -> Api {
        Api {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// The status and JSON body (`Null` when empty), or why there was no answer.
    async fn call(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let mut request = self.client.request(method, &url).bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok((status, body))
    }

    /// A request that must be answered with `status`; answers the body.
    async fn expect(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let (got, body) = self
            .call(method, url.clone(), body)
            .await
            .unwrap_or_else(|e| panic!("no answer: {e}"));
        assert_eq!(got, status, "{url}: unexpected status; body: {body}");
        body
    }

    async fn get(&self, base: &str, path: &str) -> Value {
        self.expect(reqwest::Method::GET, format!("{base}{path}"), None, 200)
            .await
    }

    async fn post(&self, base: &str, path: &str, body: Value, status: u16) -> Value {
        self.expect(
            reqwest::Method::POST,
            format!("{base}{path}"),
            Some(body),
            status,
        )
        .await
    }

    /// A text to the welcome bot through the Converse API; asserts 200.
    async fn say(&self, base: &str, user: &str, words: &str) -> Value {
        self.post(
            base,
            &welcome(&format!("/converse/{user}")),
            text(words),
            200,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Consoles: the welcome bot's event socket, followed across reconnections.

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the welcome bot's event socket on `addr` with the token in the header.
async fn open_events(addr: SocketAddr, since: Option<i64>) -> Result<Ws, String> {
    let query = since.map(|s| format!("?since={s}")).unwrap_or_default();
    let url = format!("ws://{addr}{}{query}", welcome("/mod/hitl/events"));
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| e.to_string())?;
    let bearer = HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("a header value");
    request.headers_mut().insert("authorization", bearer);
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(ws)
}

/// The next JSON frame; `None` once the socket is closed or broken.
async fn next_frame(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.next().await? {
            Ok(WsMessage::Text(text)) => {
                return Some(serde_json::from_str(text.as_str()).expect("each frame is JSON"))
            }
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

fn seq_of(frame: &Value) -> i64 {
    frame["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("a frame with a seq: {frame}"))
}

/// What one console saw.
#[derive(Default)]
struct Seen {
    /// The `seq` of the opening `resync` of its first connection.
    first: Option<i64>,
    /// The last `seq` it took in: what it passes as `since` when it reconnects.
    last: Option<i64>,
    /// Every logged event's `seq`, in the order received.
    seqs: Vec<i64>,
    connections: usize,
    /// `resync` frames after the first connection's.
    resyncs: usize,
    /// What a console would trip on (a repeated or backward `seq`, a socket that did not open).
    problems: Vec<String>,
    /// The last snapshot (`session.created` / `session.updated`) of each session.
    sessions: HashMap<i64, Value>,
}

impl Seen {
    fn take(&mut self, frame: Value, at: SocketAddr) {
        let kind = frame["type"].as_str().unwrap_or_default().to_string();
        match kind.as_str() {
            // Not logged: never moves `since`.
            "viewers" => {}
            "resync" => {
                let seq = seq_of(&frame);
                if self.first.is_none() && self.connections == 1 {
                    self.first = Some(seq);
                } else {
                    self.resyncs += 1;
                    self.problems.push(format!(
                        "a resync at {seq} from {at} (since {:?}, connection {})",
                        self.last, self.connections
                    ));
                }
                self.last = Some(seq);
            }
            _ => {
                let seq = seq_of(&frame);
                if let Some(last) = self.last {
                    if seq <= last {
                        self.problems.push(format!(
                            "{kind} at seq {seq} after {last} from {at} (connection {})",
                            self.connections
                        ));
                    }
                }
                self.seqs.push(seq);
                self.last = Some(seq);
                if kind == "session.created" || kind == "session.updated" {
                    let session = frame["session"].clone();
                    let id = session["id"].as_i64().expect("a session id");
                    self.sessions.insert(id, session);
                }
            }
        }
    }
}

/// A console: connects to one of `addrs` at random (without `since` the first time, then with
/// the last `seq` it saw), and with `reconnect` leaves after a random time in that range (ms)
/// to connect again. Once `target` holds a `seq` and it has seen it, it stops.
struct Console {
    seen: Arc<Mutex<Seen>>,
    task: JoinHandle<()>,
}

impl Console {
    fn start(
        addrs: Arc<RwLock<Vec<SocketAddr>>>,
        reconnect: Option<Range<u64>>,
        seed: u64,
        target: watch::Receiver<Option<i64>>,
        connected: mpsc::UnboundedSender<()>,
    ) -> Console {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let task = tokio::spawn(follow(
            addrs,
            reconnect,
            seed,
            target,
            connected,
            seen.clone(),
        ));
        Console { seen, task }
    }
}

async fn follow(
    addrs: Arc<RwLock<Vec<SocketAddr>>>,
    reconnect: Option<Range<u64>>,
    seed: u64,
    mut target: watch::Receiver<Option<i64>>,
    connected: mpsc::UnboundedSender<()>,
    seen: Arc<Mutex<Seen>>,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let reached = |seen: &Arc<Mutex<Seen>>, target: &watch::Receiver<Option<i64>>| {
        let last = seen.lock().unwrap().last;
        matches!((*target.borrow(), last), (Some(t), Some(l)) if l >= t)
    };
    loop {
        let addr = {
            let addrs = addrs.read().unwrap();
            addrs[rng.random_range(0..addrs.len())]
        };
        let since = seen.lock().unwrap().last;
        let mut ws = match open_events(addr, since).await {
            Ok(ws) => ws,
            Err(e) => {
                seen.lock()
                    .unwrap()
                    .problems
                    .push(format!("did not open: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let first_connection = {
            let mut seen = seen.lock().unwrap();
            seen.connections += 1;
            seen.connections == 1
        };
        let leave_at = reconnect
            .as_ref()
            .map(|range| Instant::now() + Duration::from_millis(rng.random_range(range.clone())));
        loop {
            if reached(&seen, &target) {
                return;
            }
            tokio::select! {
                frame = next_frame(&mut ws) => match frame {
                    Some(frame) => {
                        let is_resync = frame["type"] == "resync";
                        seen.lock().unwrap().take(frame, addr);
                        if first_connection && is_resync {
                            let _ = connected.send(());
                        }
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(leave_at.unwrap_or_else(Instant::now)), if leave_at.is_some() => break,
                _ = target.changed() => {}
            }
        }
        // As a tab that goes away: no closing handshake.
        drop(ws);
    }
}

/// Waits until `count` consoles have their opening `resync`.
async fn all_connected(connected: &mut mpsc::UnboundedReceiver<()>, count: usize) {
    for _ in 0..count {
        tokio::time::timeout(PATIENCE, connected.recv())
            .await
            .expect("every console connects in time")
            .expect("the consoles run");
    }
}

/// Tells the consoles the head they must reach, and waits for all of them to reach it.
async fn catch_up(consoles: &mut [Console], target: &watch::Sender<Option<i64>>, head: i64) {
    target.send_replace(Some(head));
    let waiting = futures::future::join_all(consoles.iter_mut().map(|c| &mut c.task));
    let Ok(ended) = tokio::time::timeout(CATCH_UP, waiting).await else {
        let stuck: Vec<String> = consoles
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let seen = c.seen.lock().unwrap();
                format!(
                    "console {i}: last {:?}, problems {:?}",
                    seen.last, seen.problems
                )
            })
            .collect();
        panic!("the consoles did not reach the head {head} within {CATCH_UP:?}: {stuck:#?}");
    };
    for (i, ended) in ended.into_iter().enumerate() {
        ended.unwrap_or_else(|e| panic!("console {i} failed: {e}"));
    }
}

/// The welcome bot's logged `seq`s in `(after, up_to]`, as the database holds them.
async fn logged_seqs(pool: &PgPool, after: i64, up_to: i64) -> Vec<i64> {
    sqlx::query_scalar::<_, i64>(
        "select seq from events where bot_id = $1 and seq > $2 and seq <= $3 order by seq",
    )
    .bind(WELCOME_BOT)
    .bind(after)
    .bind(up_to)
    .fetch_all(pool)
    .await
    .expect("the event log is readable")
}

// ---------------------------------------------------------------------------------------------
// A fake Graph API for the Messenger channel.

const PAGE_TOKEN: &str = "page-token";
const APP_SECRET: &str = "app-secret";
const VERIFY: &str = "verify-me";
const FB_BOT: &str = "fb-bot";

/// Starts a Graph API that takes every Send API call; answers its URL and the calls as
/// `(recipient, text)`.
async fn fake_graph() -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    let (sent, calls) = mpsc::unbounded_channel::<(String, String)>();
    let app = Router::new()
        .route(
            "/me/messages",
            post(
                |State(sent): State<mpsc::UnboundedSender<(String, String)>>,
                 Json(body): Json<Value>| async move {
                    let to = body["recipient"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let text = body["message"]["text"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let _ = sent.send((to, text));
                    Json(json!({ "message_id": "mid.out" }))
                },
            ),
        )
        .route(
            "/{psid}",
            get(|UrlPath(psid): UrlPath<String>| async move {
                Json(json!({ "id": psid, "first_name": "Mark", "last_name": psid }))
            }),
        )
        .with_state(sent);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), calls)
}

/// A bots folder with the welcome bot and `fb-bot` (the same rules, with Messenger on `graph`).
fn bots_with_messenger(dir: &Path, graph: &str) -> PathBuf {
    let bots = dir.join("bots");
    std::fs::create_dir(&bots).unwrap();
    let rules = std::fs::read_to_string(repo_bots().join("welcome-bot.toml")).unwrap();
    std::fs::write(bots.join("welcome-bot.toml"), &rules).unwrap();
    let file = format!(
        "{rules}\n[messenger]\npage_access_token = \"{PAGE_TOKEN}\"\napp_secret = \"{APP_SECRET}\"\n\
         verify_token = \"{VERIFY}\"\ngraph_api_url = \"{graph}\"\n"
    );
    std::fs::write(bots.join(format!("{FB_BOT}.toml")), file).unwrap();
    bots
}

fn sign(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A Messenger delivery of one text; `mid` is its delivery key.
fn delivery(psid: &str, mid: &str, text: &str) -> String {
    json!({ "object": "page", "entry": [{ "id": "page", "time": 1, "messaging": [
        { "sender": { "id": psid }, "recipient": { "id": "page" }, "timestamp": 1,
          "message": { "mid": mid, "text": text } }
    ]}]})
    .to_string()
}

/// Posts a signed delivery to an instance; answers the status, or `None` without an answer.
async fn deliver(client: &reqwest::Client, base: &str, body: &str) -> Option<u16> {
    client
        .post(format!(
            "{base}{}",
            bot_path(FB_BOT, "/mod/channel-messenger/webhook")
        ))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(body))
        .body(body.to_string())
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

// ---------------------------------------------------------------------------------------------
// 1. Nothing acknowledged is lost, nothing is stored twice, while instances are killed.

/// The base URLs of the instances now up (`None` while one is down), for clients to pick from.
type Alive = Arc<RwLock<Vec<Option<String>>>>;

/// The instance at `slot` if it is up, else the next one that is.
fn pick(alive: &Alive, slot: usize) -> Option<String> {
    let alive = alive.read().unwrap();
    (0..alive.len()).find_map(|i| alive[(slot + i) % alive.len()].clone())
}

/// A message a sender sent, and what it was told.
struct Sent {
    user: String,
    text: String,
    /// `Ok(messageId)` for a 200, else what went wrong.
    outcome: Result<i64, String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_instances_keep_every_acknowledged_message_once_while_each_is_killed() {
    let _one = ONE_AT_A_TIME.lock().await;
    const SENDERS: usize = 64;
    /// Senders of Messenger deliveries, beside them.
    const MESSENGER_SENDERS: usize = 4;
    /// Acknowledged messages between two kills.
    const BETWEEN_KILLS: usize = 150;

    let (graph, mut graph_calls) = fake_graph().await;
    let dir = tempfile::tempdir().unwrap();
    let bots = bots_with_messenger(dir.path(), &graph);
    let (url, pool) = database().await;
    let mut running: Vec<Option<Hitl>> = instances(3, &url, &bots)
        .await
        .into_iter()
        .map(Some)
        .collect();
    let alive: Alive = Arc::new(RwLock::new(
        running.iter().map(|h| h.as_ref().map(Hitl::base)).collect(),
    ));
    let api = Api::new();
    let stop = Arc::new(AtomicBool::new(false));
    let (acked_tx, mut acked) = watch::channel(0usize);
    let acked_tx = Arc::new(acked_tx);

    // The senders: user `s{i}` sends `s{i} n{k}` to instance (i + k) % 3, or the next one up.
    let senders: Vec<JoinHandle<Vec<Sent>>> = (0..SENDERS)
        .map(|i| {
            let (alive, api, stop, acked_tx) =
                (alive.clone(), api.clone(), stop.clone(), acked_tx.clone());
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(i as u64);
                let user = format!("s{i}");
                let mut sent = Vec::new();
                let mut k = 0;
                while !stop.load(Ordering::Relaxed) {
                    let words = format!("s{i} n{k}");
                    let Some(base) = pick(&alive, i + k) else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    let url = format!("{base}{}", welcome(&format!("/converse/{user}")));
                    let outcome = match api
                        .call(reqwest::Method::POST, url, Some(text(&words)))
                        .await
                    {
                        Ok((200, body)) => {
                            assert_eq!(
                                body["responses"],
                                json!([{ "type": "text", "text": format!("You said: {words}") }]),
                                "the answer of a 200: {body}"
                            );
                            acked_tx.send_modify(|n| *n += 1);
                            Ok(body["messageId"].as_i64().expect("a message id"))
                        }
                        Ok((status, body)) => Err(format!("{status}: {body}")),
                        Err(e) => Err(e),
                    };
                    sent.push(Sent {
                        user: user.clone(),
                        text: words,
                        outcome,
                    });
                    k += 1;
                    // Pace: about 64 messages in flight, not a flood on two cores.
                    tokio::time::sleep(Duration::from_millis(rng.random_range(0..30))).await;
                }
                sent
            })
        })
        .collect();

    // Messenger: each delivery twice, to two instances at once (`mid` is its delivery key).
    let messenger: Vec<JoinHandle<Vec<(String, String, bool)>>> = (0..MESSENGER_SENDERS)
        .map(|t| {
            let (alive, stop) = (alive.clone(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(20))
                    .build()
                    .unwrap();
                // (psid, text, whether an instance answered 200)
                let mut delivered = Vec::new();
                let mut j = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (psid, words) = (format!("psid-{t}-{}", j % 2), format!("fb {t} {j}"));
                    let body = delivery(&psid, &format!("mid.{t}.{j}"), &words);
                    let (Some(a), Some(b)) = (pick(&alive, t + j), pick(&alive, t + j + 1)) else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    let (first, second) =
                        tokio::join!(deliver(&client, &a, &body), deliver(&client, &b, &body));
                    delivered.push((psid, words, first == Some(200) || second == Some(200)));
                    j += 1;
                }
                delivered
            })
        })
        .collect();

    // Each instance in turn: `kill -9` with requests in flight, then a restart on a new port.
    for round in 0..=running.len() {
        let wanted = (round + 1) * BETWEEN_KILLS;
        let reached =
            tokio::time::timeout(Duration::from_secs(30), acked.wait_for(|n| *n >= wanted))
                .await
                .is_ok_and(|r| r.is_ok());
        if !reached {
            running.iter_mut().flatten().for_each(Hitl::assert_running);
            panic!(
                "{} of {wanted} messages acknowledged within 30 s (round {round})",
                *acked.borrow()
            );
        }
        let Some(slot) = running.get_mut(round) else {
            break;
        };
        slot.take().unwrap().kill().await;
        alive.write().unwrap()[round] = None;
        let restarted = Hitl::start(&format!("hitl-{round}'"), &url, &bots).await;
        alive.write().unwrap()[round] = Some(restarted.base());
        *slot = Some(restarted);
    }
    stop.store(true, Ordering::Relaxed);
    let mut sent = Vec::new();
    for sender in senders {
        sent.extend(sender.await.expect("a sender does not panic"));
    }
    let mut delivered = Vec::new();
    for sender in messenger {
        delivered.extend(sender.await.expect("a Messenger sender does not panic"));
    }
    running.iter_mut().flatten().for_each(Hitl::assert_running);
    let failed = sent.iter().filter(|s| s.outcome.is_err()).count();
    eprintln!(
        "{} messages sent, {} acknowledged, {failed} failed; {} Messenger deliveries",
        sent.len(),
        sent.len() - failed,
        delivered.len()
    );
    assert!(
        failed > 0,
        "the kills broke requests in flight (else they tested nothing)"
    );

    // Every acknowledged message (and the answer it got) is stored once; no message is
    // stored twice.
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "select s.user_id, m.source, m.text, count(*) from messages m \
         join sessions s on s.id = m.session_id where s.bot_id = $1 \
         group by s.user_id, m.source, m.text",
    )
    .bind(WELCOME_BOT)
    .fetch_all(&pool)
    .await
    .unwrap();
    let stored: HashMap<(String, String, String), i64> = rows
        .into_iter()
        .map(|(user, source, text, n)| ((user, source, text), n))
        .collect();
    let count = |user: &str, source: &str, text: &str| {
        stored
            .get(&(user.to_string(), source.to_string(), text.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let mut wrong = Vec::new();
    for s in &sent {
        let reply = format!("You said: {}", s.text);
        let (mine, answer) = (
            count(&s.user, "user", &s.text),
            count(&s.user, "bot", &reply),
        );
        match &s.outcome {
            Ok(_) if (mine, answer) != (1, 1) => wrong.push(format!(
                "{} {:?} was acknowledged: stored {mine} times, its answer {answer} times",
                s.user, s.text
            )),
            Err(e) if mine > 1 || answer > 1 => wrong.push(format!(
                "{} {:?} failed ({e}): stored {mine} times, its answer {answer} times",
                s.user, s.text
            )),
            _ => {}
        }
    }
    let sent_texts: HashSet<(&str, &str)> = sent
        .iter()
        .map(|s| (s.user.as_str(), s.text.as_str()))
        .collect();
    for ((user, source, text), n) in &stored {
        if source == "user" && !sent_texts.contains(&(user.as_str(), text.as_str())) {
            wrong.push(format!(
                "{user} {text:?} is stored ({n} times) but was never sent"
            ));
        }
    }
    assert!(wrong.is_empty(), "{} wrong: {wrong:#?}", wrong.len());
    // The message ids answered are those of the stored messages.
    let ids: Vec<i64> = sent.iter().filter_map(|s| s.outcome.clone().ok()).collect();
    let by_id: HashMap<i64, String> =
        sqlx::query_as::<_, (i64, String)>("select id, text from messages where id = any($1)")
            .bind(&ids)
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    for s in &sent {
        if let Ok(id) = s.outcome {
            assert_eq!(
                by_id.get(&id),
                Some(&s.text),
                "the messageId answered to {} {:?}",
                s.user,
                s.text
            );
        }
    }

    // Each Messenger delivery is stored once (at most once when no instance took it), however
    // many instances got it at the same time.
    let fb_rows: Vec<(String, i64)> = sqlx::query_as(
        "select m.text, count(*) from messages m join sessions s on s.id = m.session_id \
         where s.bot_id = $1 and m.source = 'user' group by m.text",
    )
    .bind(FB_BOT)
    .fetch_all(&pool)
    .await
    .unwrap();
    let fb_stored: HashMap<String, i64> = fb_rows.into_iter().collect();
    let mut fb_wrong = Vec::new();
    for (_, words, taken) in &delivered {
        let n = fb_stored.get(words).copied().unwrap_or(0);
        if (*taken && n != 1) || n > 1 {
            fb_wrong.push(format!("{words:?} (taken: {taken}) is stored {n} times"));
        }
    }
    assert!(fb_wrong.is_empty(), "Messenger deliveries: {fb_wrong:#?}");
    assert!(
        delivered.iter().any(|d| d.2),
        "some Messenger delivery was taken"
    );
    // And each user whose message was taken gets its answer through the Send API.
    let mut owed: HashSet<(String, String)> = delivered
        .iter()
        .filter(|d| d.2)
        .map(|(psid, words, _)| (psid.clone(), format!("You said: {words}")))
        .collect();
    let deadline = Instant::now() + CATCH_UP;
    while !owed.is_empty() {
        match tokio::time::timeout_at(deadline, graph_calls.recv()).await {
            Ok(Some(call)) => {
                owed.remove(&call);
            }
            _ => panic!("answers never sent to Messenger users: {owed:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Consoles that keep reconnecting to any instance miss nothing and repeat nothing.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_instances_give_reconnecting_consoles_every_event_once_even_without_hints() {
    let _one = ONE_AT_A_TIME.lock().await;
    const CONSOLES: usize = 30;
    const WRITERS: usize = 8;
    const MESSAGES: usize = 40;

    let (url, pool) = database().await;
    let mut hitls = instances(3, &url, &repo_bots()).await;
    let addrs = Arc::new(RwLock::new(
        hitls.iter().map(|h| h.addr).collect::<Vec<_>>(),
    ));
    let bases: Arc<Vec<String>> = Arc::new(hitls.iter().map(Hitl::base).collect());
    let api = Api::new();
    // Some history before the consoles come.
    api.say(&bases[0], "early", "before the consoles").await;

    let seed: u64 = rand::random();
    eprintln!("seed {seed}");
    let (target, target_rx) = watch::channel(None);
    let (connected_tx, mut connected) = mpsc::unbounded_channel();
    let mut consoles: Vec<Console> = (0..CONSOLES)
        .map(|i| {
            Console::start(
                addrs.clone(),
                Some(1000..3000),
                seed.wrapping_add(i as u64),
                target_rx.clone(),
                connected_tx.clone(),
            )
        })
        .collect();
    all_connected(&mut connected, CONSOLES).await;

    // Writers through random instances; halfway, every instance's hints are cut.
    let (done_tx, mut done) = watch::channel(0usize);
    let done_tx = Arc::new(done_tx);
    let writers: Vec<JoinHandle<()>> = (0..WRITERS)
        .map(|w| {
            let (api, bases, done_tx) = (api.clone(), bases.clone(), done_tx.clone());
            let mut rng = StdRng::seed_from_u64(seed ^ (w as u64 + 1000));
            tokio::spawn(async move {
                for n in 0..MESSAGES {
                    let base = &bases[rng.random_range(0..bases.len())];
                    api.say(base, &format!("w{w}"), &format!("w{w} n{n}")).await;
                    done_tx.send_modify(|d| *d += 1);
                    tokio::time::sleep(Duration::from_millis(rng.random_range(20..80))).await;
                }
            })
        })
        .collect();
    done.wait_for(|d| *d >= WRITERS * MESSAGES / 2)
        .await
        .unwrap();
    let cut: Vec<i32> = sqlx::query_scalar(
        "select pg_terminate_backend(pid)::int from pg_stat_activity \
         where application_name = 'hitl-hints'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        cut.len(),
        hitls.len(),
        "each instance had one hints connection to cut: {cut:?}"
    );
    for writer in writers {
        writer.await.expect("a writer does not panic");
    }

    let head = head(&pool).await;
    catch_up(&mut consoles, &target, head).await;
    for (i, console) in consoles.iter().enumerate() {
        // Its task has ended: what it saw is final.
        let seen = std::mem::take(&mut *console.seen.lock().unwrap());
        let first = seen.first.expect("an opening resync");
        assert!(
            seen.problems.is_empty(),
            "console {i}: {:#?}",
            seen.problems
        );
        assert_eq!(
            seen.resyncs, 0,
            "console {i}: resyncs after the first connection"
        );
        assert!(seen.connections >= 2, "console {i} reconnected");
        assert!(
            seen.seqs.windows(2).all(|w| w[0] < w[1]),
            "console {i}: seqs increase"
        );
        let logged = logged_seqs(&pool, first, head).await;
        assert_eq!(
            seen.seqs, logged,
            "console {i} (first resync at {first}, {} connections) saw the log's seqs exactly",
            seen.connections
        );
    }
    hitls.iter_mut().for_each(Hitl::assert_running);
}

// ---------------------------------------------------------------------------------------------
// 3. Agents on one instance, users on another: every console ends with the sessions as stored.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_instances_leave_every_console_with_the_sessions_as_they_are() {
    let _one = ONE_AT_A_TIME.lock().await;
    const SESSIONS: usize = 10;
    const TURNS: usize = 8;

    let (url, pool) = database().await;
    let mut hitls = instances(3, &url, &repo_bots()).await;
    let (a, b, c) = (hitls[0].base(), hitls[1].base(), hitls[2].base());
    let api = Api::new();

    let (target, target_rx) = watch::channel(None);
    let (connected_tx, mut connected) = mpsc::unbounded_channel();
    let mut consoles: Vec<Console> = hitls
        .iter()
        .map(|h| {
            Console::start(
                Arc::new(RwLock::new(vec![h.addr])),
                None,
                0,
                target_rx.clone(),
                connected_tx.clone(),
            )
        })
        .collect();
    all_connected(&mut connected, consoles.len()).await;

    // The users come through B; the agents pause each conversation through A.
    let mut ids = Vec::new();
    for i in 0..SESSIONS {
        let answer = api.say(&b, &format!("u{i}"), "hello").await;
        ids.push(answer["sessionId"].as_i64().expect("a session id"));
    }
    for id in &ids {
        let paused = api
            .post(
                &a,
                &welcome(&format!("/mod/hitl/sessions/{id}/pause")),
                json!({}),
                200,
            )
            .await;
        assert_eq!(paused["isPaused"], true);
    }
    // At once on each conversation: the agent's replies through A, the user's messages
    // through B.
    let mut work = Vec::new();
    for (i, id) in ids.iter().copied().enumerate() {
        let (api_a, a) = (api.clone(), a.clone());
        work.push(tokio::spawn(async move {
            for n in 0..TURNS {
                let path = welcome(&format!("/mod/hitl/sessions/{id}/message"));
                let reply = api_a
                    .post(
                        &a,
                        &path,
                        json!({ "message": format!("agent {i} n{n}") }),
                        200,
                    )
                    .await;
                assert_eq!(reply["source"], "agent");
            }
        }));
        let (api_b, b) = (api.clone(), b.clone());
        work.push(tokio::spawn(async move {
            for n in 0..TURNS {
                let answer = api_b
                    .say(&b, &format!("u{i}"), &format!("user {i} n{n}"))
                    .await;
                assert_eq!(answer["paused"], true);
                assert_eq!(answer["responses"], json!([]));
            }
        }));
    }
    for task in work {
        task.await.expect("the agents and users get their answers");
    }

    let head = head(&pool).await;
    catch_up(&mut consoles, &target, head).await;
    let fields = [
        "lastMessage",
        "unreadCount",
        "isPaused",
        "waiting",
        "lastEventOn",
    ];
    let pick_fields = |session: &Value| -> Value {
        json!({
            "lastMessage": session["lastMessage"]["id"],
            "unreadCount": session["unreadCount"],
            "isPaused": session["isPaused"],
            "waiting": session["waiting"],
            "lastEventOn": session["lastEventOn"],
        })
    };
    let mut wrong = Vec::new();
    for id in &ids {
        let now = pick_fields(
            &api.get(&c, &welcome(&format!("/mod/hitl/sessions/{id}")))
                .await,
        );
        assert!(
            now["lastMessage"].is_i64(),
            "session {id} has a last message: {now}"
        );
        for (i, console) in consoles.iter().enumerate() {
            let seen = console.seen.lock().unwrap();
            assert!(
                seen.problems.is_empty(),
                "console {i}: {:#?}",
                seen.problems
            );
            let shown = seen.sessions.get(id).map(pick_fields);
            if shown.as_ref() != Some(&now) {
                wrong.push(format!(
                    "session {id}: console of instance {i} shows {shown:?}, the API answers {now}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the consoles' last snapshot ({fields:?}) differs from the session: {wrong:#?}"
    );
    hitls.iter_mut().for_each(Hitl::assert_running);
}

// ---------------------------------------------------------------------------------------------
// 4. A Converse poller on one instance gets every answer once, whoever produced it.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_instances_give_a_converse_poller_every_answer_exactly_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    const PRODUCERS: usize = 4;
    const EACH: usize = 16;
    const USER: &str = "poller";

    let (url, pool) = database().await;
    let mut hitls = instances(3, &url, &repo_bots()).await;
    let bases: Vec<String> = hitls.iter().map(Hitl::base).collect();
    let api = Api::new();
    let first = api.say(&bases[0], USER, "hello").await;
    let session_id = first["sessionId"].as_i64().expect("a session id");

    // The poller, on the third instance, from the start of the conversation.
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (api, base, stop) = (api.clone(), bases[2].clone(), stop.clone());
        tokio::spawn(async move {
            let mut got: Vec<Value> = Vec::new();
            let mut after = 0;
            loop {
                // Read `stop` first: a poll after it was set sees everything stored before.
                let last_round = stop.load(Ordering::SeqCst);
                let page = api
                    .get(
                        &base,
                        &welcome(&format!("/converse/{USER}/messages?after={after}")),
                    )
                    .await;
                let messages = page["messages"]
                    .as_array()
                    .expect("a messages array")
                    .clone();
                if let Some(last) = messages.last() {
                    after = last["id"].as_i64().expect("a message id");
                }
                let empty = messages.is_empty();
                got.extend(messages);
                if empty {
                    if last_round {
                        return got;
                    }
                    // A Converse client's poll interval.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        })
    };

    // The bot's answers made through the first two instances at once: answers to the user's
    // messages and messages the bot pushes.
    let mut expected: Vec<String> = vec!["You said: hello".into()];
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let (api, base) = (api.clone(), bases[p % 2].clone());
        for n in 0..EACH {
            expected.push(if n % 2 == 0 {
                format!("You said: p{p} n{n}")
            } else {
                format!("push p{p} n{n}")
            });
        }
        producers.push(tokio::spawn(async move {
            for n in 0..EACH {
                if n % 2 == 0 {
                    api.say(&base, USER, &format!("p{p} n{n}")).await;
                } else {
                    let path = welcome(&format!("/mod/hitl/channel/api/user/{USER}/messages"));
                    api.post(&base, &path, text(&format!("push p{p} n{n}")), 201)
                        .await;
                }
            }
        }));
    }
    for producer in producers {
        producer.await.expect("the producers get their answers");
    }
    // Everything is stored: the poller's next empty poll ends it.
    stop.store(true, Ordering::SeqCst);
    let got = tokio::time::timeout(CATCH_UP, poller)
        .await
        .expect("the poller comes to the end")
        .expect("the poller does not panic");

    let ids: Vec<i64> = got.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    assert!(
        got.iter()
            .all(|m| m["direction"] == "out" && m["sessionId"] == session_id),
        "only what was sent to the user, of the session"
    );
    let stored: Vec<i64> = sqlx::query_scalar(
        "select id from messages where session_id = $1 and direction = 'out' order by id",
    )
    .bind(session_id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        ids, stored,
        "the poller got every outgoing message of the session once"
    );
    let mut texts: Vec<String> = got
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    expected.sort();
    assert_eq!(texts, expected, "the user saw each answer once");
    hitls.iter_mut().for_each(Hitl::assert_running);
}
