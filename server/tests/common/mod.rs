//! Test harness: the real hitl server on port 0 over a fresh SQLite file, with typed helpers for
//! the REST API and the live event socket.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::config::Config;
use server::startup;
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub mod browser;

/// The bearer token every test server accepts.
pub const TOKEN: &str = "test-token-0123456789";

/// The first admin of every test server.
pub const ADMIN_EMAIL: &str = "admin@test.local";
pub const ADMIN_PASSWORD: &str = "admin-password-123";

/// The demo bot every server runs.
pub const WELCOME_BOT: &str = "welcome-bot";

/// The repository's bot definitions, as the binary finds them when run from the root.
pub const REPO_BOTS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../bots");

/// How long a test waits for an answer or an event before it fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub addr: SocketAddr,
    pub token: String,
    pub client: reqwest::Client,
    /// The server's own store, for comparing what clients see with what was written.
    pub store: std::sync::Arc<dyn server::store::Store>,
    database_url: String,
    bots_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<std::io::Result<()>>>,
    // Holds the database file (and any bot files) until the test ends.
    dir: TempDir,
}

/// The password of every agent [`add_agent`] makes.
pub const AGENT_PASSWORD: &str = "agent-password-1";

/// Adds an agent working on `bots` straight into the store; answers their password.
pub async fn add_agent(app: &TestApp, email: &str, bots: &[&str]) -> String {
    add_person(app, email, app::account::Role::Agent, bots).await
}

/// Adds a person of `role` straight into the store; answers their password.
pub async fn add_person(
    app: &TestApp,
    email: &str,
    role: app::account::Role,
    bots: &[&str],
) -> String {
    use server::store::accounts::NewUser;
    let new = NewUser {
        email: email.into(),
        name: format!("Agent {email}"),
        password_hash: server::accounts::hash_password(AGENT_PASSWORD)
            .await
            .expect("a password hash"),
        role,
        bots: bots.iter().map(|b| b.to_string()).collect(),
    };
    app.store.create_user(&new).await.expect("a new agent");
    AGENT_PASSWORD.to_string()
}

/// A token that acts as the user with this email; answers (their id, the token).
pub async fn token_for(app: &TestApp, email: &str) -> (i64, String) {
    let id = user_id(app, email).await;
    let made = app
        .post(
            "/api/v1/tokens",
            json!({ "name": format!("{email}'s script"), "userId": id }),
        )
        .await
        .expect(201);
    (id, made["token"].as_str().unwrap().to_string())
}

/// The id of the user with this email, as the users API lists them.
pub async fn user_id(app: &TestApp, email: &str) -> i64 {
    let users = app.get("/api/v1/users").await.expect(200);
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["viewer"]["email"] == email)
        .expect("the user is listed")["viewer"]["id"]
        .as_i64()
        .unwrap()
}

/// A fresh database: a file in `dir`, or with `HITL_TEST_STORE=postgres` a new database on the
/// tests' PostgreSQL server (the suite then checks the PostgreSQL store end to end).
async fn database_for(dir: &TempDir) -> String {
    match std::env::var("HITL_TEST_STORE").as_deref() {
        Ok("postgres") => server::pg_cluster::shared().fresh_database().await,
        Ok("sqlite") | Err(_) => format!("sqlite://{}", dir.path().join("hitl.db").display()),
        Ok(other) => panic!("HITL_TEST_STORE={other}: it is sqlite or postgres"),
    }
}

/// A server running the repository's bots (the welcome bot) on a fresh database.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    start(dir, PathBuf::from(REPO_BOTS_DIR)).await
}

/// A server whose configuration `configure` changes first.
pub async fn spawn_app_configured(configure: fn(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database_url = database_for(&dir).await;
    start_configured(dir, database_url, PathBuf::from(REPO_BOTS_DIR), configure).await
}

/// A server running the welcome bot plus the given `(bot id, bot file)` definitions.
pub async fn spawn_app_with_bots(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_with_bots_configured(extra, |_| {}).await
}

/// The same, with a configuration `configure` changes first.
pub async fn spawn_app_with_bots_configured(
    extra: &[(&str, &str)],
    configure: fn(&mut Config),
) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let bots_dir = dir.path().join("bots");
    std::fs::create_dir(&bots_dir).expect("a bots directory");
    let welcome = Path::new(REPO_BOTS_DIR).join("welcome-bot.toml");
    std::fs::copy(&welcome, bots_dir.join("welcome-bot.toml")).expect("the welcome bot file");
    for (id, definition) in extra {
        std::fs::write(bots_dir.join(format!("{id}.toml")), definition).expect("a bot file");
    }
    let database_url = database_for(&dir).await;
    start_configured(dir, database_url, bots_dir, configure).await
}

async fn start(dir: TempDir, bots_dir: PathBuf) -> TestApp {
    let database_url = database_for(&dir).await;
    start_on(dir, database_url, bots_dir).await
}

async fn start_on(dir: TempDir, database_url: String, bots_dir: PathBuf) -> TestApp {
    start_configured(dir, database_url, bots_dir, |_| {}).await
}

async fn start_configured(
    dir: TempDir,
    database_url: String,
    bots_dir: PathBuf,
    configure: fn(&mut Config),
) -> TestApp {
    // The server's log, shown with a failing test's output (`RUST_LOG` sets what it holds).
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .try_init();
    let mut config = Config::for_database(database_url.clone());
    config.api_token = Some(TOKEN.to_string());
    config.admin_email = ADMIN_EMAIL.to_string();
    config.admin_password = Some(ADMIN_PASSWORD.to_string());
    config.bots_dir = bots_dir.clone();
    config.addr = "127.0.0.1:0".parse().expect("a socket address");
    configure(&mut config);
    let server = startup::build(&config).await.expect("the server builds");
    let listener = startup::bind(&config).await.expect("port 0 is free");
    let addr = listener.local_addr().expect("a bound address");
    let store = server.store.clone();
    let (shutdown, stop) = oneshot::channel::<()>();
    let serving = tokio::spawn(startup::serve(listener, server, async {
        let _ = stop.await;
    }));
    TestApp {
        address: format!("http://{addr}"),
        addr,
        token: TOKEN.to_string(),
        client: reqwest::Client::new(),
        store,
        database_url,
        bots_dir,
        shutdown: Some(shutdown),
        serving: Some(serving),
        dir,
    }
}

/// A response as a client sees it: the status and the JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    async fn read(response: reqwest::Response) -> Answer {
        let status = response.status();
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let text = response.text().await.expect("a readable body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            assert!(is_json, "{status}: expected a JSON body, got {text:?}");
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{status}: invalid JSON {text:?}: {e}"))
        };
        Answer { status, body }
    }

    /// Asserts the status and answers the body.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// Asserts an error answer: the status and the `{"error":{"code","message"}}` body.
    pub fn expect_error(self, status: u16, code: &str) {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.body["error"]["code"], code,
            "error body: {}",
            self.body
        );
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "the error says what is wrong: {}",
            self.body
        );
    }
}

/// `/api/v1/bots/welcome-bot<rest>`
pub fn welcome(rest: &str) -> String {
    bot_path(WELCOME_BOT, rest)
}

/// `/api/v1/bots/<bot_id><rest>`
pub fn bot_path(bot_id: &str, rest: &str) -> String {
    format!("/api/v1/bots/{bot_id}{rest}")
}

/// A text message as a user types it.
/// The messages of a page of notifications.
pub fn notification_texts(list: &Value) -> Vec<String> {
    list["notifications"]
        .as_array()
        .expect("a list of notifications")
        .iter()
        .map(|n| n["message"].as_str().expect("a message").to_string())
        .collect()
}

pub fn text(text: &str) -> Value {
    json!({ "type": "text", "text": text })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Answer {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the server answers");
        Answer::read(response).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send_json(reqwest::Method::PUT, path, body).await
    }

    async fn send_json(&self, method: reqwest::Method, path: &str, body: Value) -> Answer {
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("the server answers");
        Answer::read(response).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        let response = self
            .client
            .delete(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the server answers");
        Answer::read(response).await
    }

    /// A POST without a body.
    pub async fn post_empty(&self, path: &str) -> Answer {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the server answers");
        Answer::read(response).await
    }

    /// A POST of raw bytes declared as JSON.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Answer {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("the server answers");
        Answer::read(response).await
    }

    /// Sends a message to the welcome bot through the Converse API; asserts 200.
    pub async fn converse(&self, user: &str, message: Value) -> Value {
        self.converse_with(WELCOME_BOT, user, message).await
    }

    /// Sends a message to any bot through the Converse API; asserts 200.
    pub async fn converse_with(&self, bot_id: &str, user: &str, message: Value) -> Value {
        self.post(&bot_path(bot_id, &format!("/converse/{user}")), message)
            .await
            .expect(200)
    }

    /// Types a text to the welcome bot; asserts 200.
    pub async fn say(&self, user: &str, words: &str) -> Value {
        self.converse(user, text(words)).await
    }

    /// A welcome-bot session's overview; asserts 200.
    pub async fn session(&self, id: i64) -> Value {
        self.get(&welcome(&format!("/mod/hitl/sessions/{id}")))
            .await
            .expect(200)
    }

    /// The newest page of a welcome-bot session's messages, oldest first; asserts 200.
    pub async fn messages(&self, id: i64) -> Vec<Value> {
        let page = self
            .get(&welcome(&format!("/mod/hitl/sessions/{id}/messages")))
            .await
            .expect(200);
        page["messages"]
            .as_array()
            .expect("a messages array")
            .clone()
    }

    /// The texts of a session's newest messages, oldest first, for any bot.
    pub async fn texts(&self, bot_id: &str, id: i64) -> Vec<String> {
        let page = self
            .get(&bot_path(
                bot_id,
                &format!("/mod/hitl/sessions/{id}/messages"),
            ))
            .await
            .expect(200);
        page["messages"]
            .as_array()
            .expect("a messages array")
            .iter()
            .map(|m| m["text"].as_str().expect("a text").to_string())
            .collect()
    }

    /// The `ws://` address of a bot's event stream with the given query (may be empty).
    pub fn events_url(&self, bot_id: &str, query: &str) -> String {
        let path = bot_path(bot_id, "/mod/hitl/events");
        if query.is_empty() {
            format!("ws://{}{path}", self.addr)
        } else {
            format!("ws://{}{path}?{query}", self.addr)
        }
    }

    /// Opens a bot's event stream with the token in the `Authorization` header.
    pub async fn events(&self, bot_id: &str, since: Option<i64>) -> Events {
        self.events_as(&self.token, bot_id, since).await
    }

    /// Opens a bot's event stream as the holder of `token`.
    pub async fn events_as(&self, token: &str, bot_id: &str, since: Option<i64>) -> Events {
        let query = since.map(|s| format!("since={s}")).unwrap_or_default();
        self.events_with(token, bot_id, &query).await
    }

    /// Opens a bot's event stream with the query `query` (such as `since=4&epoch=…`).
    pub async fn events_with(&self, token: &str, bot_id: &str, query: &str) -> Events {
        Events::open(&self.events_url(bot_id, query), token).await
    }

    /// Whether the server runs on PostgreSQL (`HITL_TEST_STORE=postgres`), for the few set-ups
    /// whose SQL differs.
    pub fn on_postgres(&self) -> bool {
        !self.database_url.starts_with("sqlite:")
    }

    /// Runs one SQL statement on the server's database (to set up what no API can, such as an
    /// old timestamp).
    pub async fn sql(&self, statement: &str) {
        if self.database_url.starts_with("sqlite:") {
            execute::<sqlx::SqliteConnection>(&self.database_url, statement).await;
        } else {
            execute::<sqlx::PgConnection>(&self.database_url, statement).await;
        }
    }

    /// Stops the server gracefully: in-flight requests finish and the database is closed.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(serving) = self.serving.take() {
            serving
                .await
                .expect("the server task does not panic")
                .expect("the server stops cleanly");
        }
    }

    /// The database's URL.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Stops this server and starts one on the database at `database_url` (the same bots).
    pub async fn restart_on(self, database_url: String) -> TestApp {
        self.restart_on_configured(database_url, |_| {}).await
    }

    /// Restarts as `restart` does, with a configuration `configure` changes first.
    pub async fn restart_configured(self, configure: fn(&mut Config)) -> TestApp {
        let database_url = self.database_url.clone();
        self.restart_on_configured(database_url, configure).await
    }

    /// Stops this server and starts a new one (on a new port) over the same database file and bots.
    pub async fn restart(self) -> TestApp {
        self.restart_configured(|_| {}).await
    }

    async fn restart_on_configured(
        mut self,
        database_url: String,
        configure: fn(&mut Config),
    ) -> TestApp {
        self.stop().await;
        let TestApp { dir, bots_dir, .. } = self;
        start_configured(dir, database_url, bots_dir, configure).await
    }
}

/// A connected event stream.
pub struct Events {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Frames read while looking for another kind: logged events, and `viewers` ones.
    logged: std::collections::VecDeque<Value>,
    viewers: std::collections::VecDeque<Value>,
}

impl Events {
    /// Opens the event stream at `url` (`ws://…/events?…`) with the bearer `token`.
    pub async fn open(url: &str, token: &str) -> Events {
        let mut request = url.into_client_request().expect("a websocket request");
        let bearer = HeaderValue::from_str(&format!("Bearer {token}")).expect("a header value");
        request.headers_mut().insert("authorization", bearer);
        let (ws, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the event socket opens");
        assert_eq!(response.status(), 101);
        Events {
            ws,
            logged: Default::default(),
            viewers: Default::default(),
        }
    }

    /// The next logged event (not a `viewers` one, which [`Events::next_viewers`] reads);
    /// fails the test if none comes within [`PATIENCE`].
    pub async fn next(&mut self) -> Value {
        if let Some(event) = self.logged.pop_front() {
            return event;
        }
        loop {
            let frame = self.frame().await;
            if frame["type"] == "viewers" {
                self.viewers.push_back(frame);
            } else {
                return frame;
            }
        }
    }

    /// The next `viewers` event (who has which conversation open).
    pub async fn next_viewers(&mut self) -> Value {
        if let Some(event) = self.viewers.pop_front() {
            return event;
        }
        loop {
            let frame = self.frame().await;
            if frame["type"] == "viewers" {
                return frame;
            }
            self.logged.push_back(frame);
        }
    }

    /// Sends a frame as a console does.
    pub async fn send(&mut self, frame: Value) {
        self.ws
            .send(WsMessage::Text(frame.to_string().into()))
            .await
            .expect("the frame is sent");
    }

    async fn frame(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("an event arrives in time")
                .expect("the socket stays open")
                .expect("a readable frame");
            match frame {
                WsMessage::Text(text) => {
                    return serde_json::from_str(text.as_str()).expect("each frame is JSON");
                }
                WsMessage::Ping(_) | WsMessage::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next `n` event frames.
    pub async fn take(&mut self, n: usize) -> Vec<Value> {
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            events.push(self.next().await);
        }
        events
    }

    /// Frames up to and including the first one that `wanted` accepts.
    pub async fn until(&mut self, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.next().await;
            let done = wanted(&event);
            events.push(event);
            if done {
                return events;
            }
        }
    }

    /// Closes the socket as a browser tab would.
    pub async fn close(mut self) {
        let _ = self.ws.send(WsMessage::Close(None)).await;
        // Wait for the server's side of the closing handshake.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(PATIENCE, self.ws.next()).await {}
    }
}

/// Runs one statement on its own connection to the database at `url`.
async fn execute<C>(url: &str, statement: &str)
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let mut db = C::connect(url).await.expect("the test database opens");
    sqlx::raw_sql(statement)
        .execute(&mut db)
        .await
        .expect("the statement runs");
    db.close().await.expect("the connection closes");
}
