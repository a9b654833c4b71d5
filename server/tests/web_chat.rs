//! The web chat channel: visitors and their secrets, the chat socket (hello, replay, live items,
//! sending, resume without loss or duplicates, names), the seed scenario as a visitor lives it,
//! and the embed script.

pub mod common;

use common::{spawn_app, welcome, TestApp, PATIENCE, WELCOME_BOT};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A visitor's credentials as the browser keeps them.
#[derive(Clone)]
struct Visitor {
    id: String,
    secret: String,
}

async fn new_visitor(app: &TestApp, body: Option<Value>) -> Visitor {
    let mut request = app.client.post(app.url(&welcome("/chat/visitors")));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("JSON");
    Visitor {
        id: body["visitorId"].as_str().expect("an id").to_string(),
        secret: body["secret"].as_str().expect("a secret").to_string(),
    }
}

/// A chat socket as the widget holds it.
struct Chat {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Chat {
    async fn open(app: &TestApp) -> Chat {
        let url = format!("ws://{}{}", app.addr, welcome("/chat/socket"));
        let (ws, response) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the chat socket opens");
        assert_eq!(response.status(), 101);
        Chat { ws }
    }

    /// Opens, says hello and reads up to `ready`: answers the replayed items.
    async fn join(app: &TestApp, visitor: &Visitor, since: Option<i64>) -> (Chat, Vec<Value>) {
        let mut chat = Chat::open(app).await;
        chat.hello(visitor, since).await;
        let frames = chat.until(|f| f["type"] == "ready").await;
        let items = frames
            .iter()
            .filter(|f| f["type"] == "item")
            .map(|f| f["item"].clone())
            .collect();
        (chat, items)
    }

    async fn hello(&mut self, visitor: &Visitor, since: Option<i64>) {
        self.send(json!({
            "type": "hello", "visitorId": visitor.id, "secret": visitor.secret, "since": since
        }))
        .await;
    }

    async fn send(&mut self, frame: Value) {
        self.ws
            .send(WsMessage::Text(frame.to_string().into()))
            .await
            .expect("the frame is sent");
    }

    async fn say(&mut self, client_id: &str, text: &str) {
        self.send(json!({
            "type": "send", "clientId": client_id, "content": { "type": "text", "text": text }
        }))
        .await;
    }

    /// The next frame; a close frame comes back as `{"type":"closed","code":…}`.
    async fn next(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a frame arrives in time");
            match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    return serde_json::from_str(text.as_str()).expect("JSON frames");
                }
                Some(Ok(WsMessage::Close(close))) => {
                    let code = close.map(|c| u16::from(c.code)).unwrap_or(0);
                    return json!({ "type": "closed", "code": code });
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return json!({ "type": "closed", "code": 0 }),
            }
        }
    }

    async fn until(&mut self, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await;
            let done = wanted(&frame);
            assert!(
                done || frame["type"] != "closed",
                "socket closed early: {frames:?}"
            );
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    /// Items up to the first one whose text is `text`.
    async fn items_until_text(&mut self, text: &str) -> Vec<Value> {
        self.until(|f| f["type"] == "item" && item_text(&f["item"]) == text)
            .await
            .into_iter()
            .filter(|f| f["type"] == "item")
            .map(|f| f["item"].clone())
            .collect()
    }

    async fn close(mut self) {
        let _ = self.ws.send(WsMessage::Close(None)).await;
        while let Ok(Some(Ok(_))) = tokio::time::timeout(PATIENCE, self.ws.next()).await {}
    }
}

fn item_text(item: &Value) -> String {
    let content = &item["content"];
    content["text"]
        .as_str()
        .or(content["title"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Items as `from: text`, the way a visitor reads them.
fn read(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| format!("{}: {}", i["from"].as_str().unwrap(), item_text(i)))
        .collect()
}

async fn web_session(app: &TestApp, visitor: &Visitor) -> Value {
    let page = app.get(&welcome("/mod/hitl/sessions")).await.expect(200);
    page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["userId"] == visitor.id.as_str())
        .unwrap_or_else(|| panic!("a session for {}: {page}", visitor.id))
        .clone()
}

#[tokio::test]
async fn a_visitor_lives_the_seed_scenario_over_the_socket() {
    let app = spawn_app().await;
    let visitor = new_visitor(&app, Some(json!({ "name": "Ada Lovelace" }))).await;
    let (mut chat, items) = Chat::join(&app, &visitor, None).await;
    assert!(items.is_empty(), "a new visitor has no history: {items:?}");

    chat.say("c1", "HITL_START").await;
    let frames = chat
        .until(|f| f["type"] == "item" && f["item"]["from"] == "paused")
        .await;
    let ack = frames.iter().find(|f| f["type"] == "ack").cloned();
    let items: Vec<Value> = frames
        .iter()
        .filter(|f| f["type"] == "item")
        .map(|f| f["item"].clone())
        .collect();
    assert_eq!(
        read(&items),
        [
            "visitor: HITL_START",
            "bot: Bot paused, a human will get in touch very soon.",
            "paused: "
        ]
    );
    assert_eq!(items[1]["content"]["buttons"][0]["title"], "Cancel request");
    assert_eq!(items[1]["content"]["buttons"][0]["payload"], "HITL_STOP");
    assert_eq!(
        items[2]["byPerson"], false,
        "the bot handed over, no one joined yet"
    );
    assert!(
        !items[2].to_string().contains("asked for a human"),
        "the pause reason is for agents only"
    );

    // The acknowledgement (it may come after the items) names the stored message.
    let ack = match ack {
        Some(ack) => ack,
        None => chat.until(|f| f["type"] == "ack").await.pop().unwrap(),
    };
    assert_eq!(ack["clientId"], "c1");
    assert_eq!(ack["item"], items[0]);

    // The agents see the web session, paused, under the visitor's name, with the notification.
    let session = web_session(&app, &visitor).await;
    assert_eq!(session["channel"], "web");
    assert_eq!(session["isPaused"], true);
    assert_eq!(session["fullName"], "Ada Lovelace");
    let notes = app.get("/api/v1/notifications").await.expect(200);
    assert_eq!(
        notes["notifications"][0]["message"],
        "Ada Lovelace wants to talk to a human"
    );

    // The agent answers from the console: the visitor sees it live, from a person.
    let id = session["id"].as_i64().unwrap();
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{id}/message")),
        json!({ "message": "Hello Ada, I am here" }),
    )
    .await
    .expect(200);
    let items = chat.items_until_text("Hello Ada, I am here").await;
    let person = items.last().unwrap();
    assert_eq!(person["from"], "person");

    // "Cancel request" sends its payload: the bot takes the conversation back.
    chat.send(json!({
        "type": "send", "clientId": "c2",
        "content": { "type": "postback", "payload": "HITL_STOP", "title": "Cancel request" }
    }))
    .await;
    let frames = chat
        .until(|f| f["type"] == "item" && f["item"]["from"] == "resumed")
        .await;
    let items: Vec<Value> = frames
        .iter()
        .filter(|f| f["type"] == "item")
        .map(|f| f["item"].clone())
        .collect();
    assert_eq!(
        read(&items),
        [
            "visitor: Cancel request",
            "bot: Human in the loop disabled. Bot resumed.",
            "resumed: "
        ]
    );
    assert_eq!(web_session(&app, &visitor).await["isPaused"], false);

    chat.say("c3", "hi").await;
    let items = chat.items_until_text("You said: hi").await;
    assert_eq!(read(&items), ["visitor: hi", "bot: You said: hi"]);
    chat.close().await;
}

#[tokio::test]
async fn a_reconnecting_visitor_gets_exactly_what_they_missed() {
    let app = spawn_app().await;
    let visitor = new_visitor(&app, None).await;
    let (mut chat, _) = Chat::join(&app, &visitor, None).await;
    chat.say("c1", "hello").await;
    let items = chat.items_until_text("You said: hello").await;
    let last = items.last().unwrap()["id"].as_i64().unwrap();
    chat.close().await;

    // While the visitor is away, an agent writes twice.
    let id = web_session(&app, &visitor).await["id"].as_i64().unwrap();
    for words in ["first", "second"] {
        app.post(
            &welcome(&format!("/mod/hitl/sessions/{id}/message")),
            json!({ "message": words }),
        )
        .await
        .expect(200);
    }

    let (chat, missed) = Chat::join(&app, &visitor, Some(last)).await;
    assert_eq!(
        read(&missed),
        ["paused: ", "person: first", "person: second"],
        "the agent's auto-pause and both messages, nothing older"
    );
    chat.close().await;

    // A fresh page (no `since`) gets the whole conversation.
    let (chat, all) = Chat::join(&app, &visitor, None).await;
    assert_eq!(
        read(&all),
        [
            "visitor: hello",
            "bot: You said: hello",
            "paused: ",
            "person: first",
            "person: second"
        ]
    );
    chat.close().await;
}

#[tokio::test]
async fn a_message_sent_again_after_a_reconnect_is_stored_once() {
    let app = spawn_app().await;
    let visitor = new_visitor(&app, None).await;
    let (mut chat, _) = Chat::join(&app, &visitor, None).await;
    chat.say("same-id", "only once").await;
    let frames = chat.until(|f| f["type"] == "ack").await;
    assert!(frames.last().unwrap()["item"]["id"].is_i64());
    chat.close().await;

    let (mut chat, _) = Chat::join(&app, &visitor, None).await;
    chat.say("same-id", "only once").await;
    let ack = chat.until(|f| f["type"] == "ack").await.pop().unwrap();
    assert_eq!(ack["clientId"], "same-id");
    assert!(ack.get("item").is_none(), "a repeat stores nothing: {ack}");
    let id = web_session(&app, &visitor).await["id"].as_i64().unwrap();
    let texts = app.texts(WELCOME_BOT, id).await;
    assert_eq!(texts, ["only once", "You said: only once"]);
    chat.close().await;
}

#[tokio::test]
async fn one_visitor_cannot_read_or_write_another_visitors_conversation() {
    let app = spawn_app().await;
    let ada = new_visitor(&app, None).await;
    let eve = new_visitor(&app, None).await;
    let (mut chat, _) = Chat::join(&app, &ada, None).await;
    chat.say("c1", "my secret plans").await;
    chat.items_until_text("You said: my secret plans").await;
    chat.close().await;

    for (who, secret) in [
        ("eve with ada's id", eve.secret.clone()),
        ("a guessed secret", "0".repeat(64)),
        ("no secret", String::new()),
    ] {
        let mut chat = Chat::open(&app).await;
        chat.hello(
            &Visitor {
                id: ada.id.clone(),
                secret,
            },
            Some(0),
        )
        .await;
        let error = chat.next().await;
        assert_eq!(error["type"], "error", "{who}: {error}");
        assert_eq!(error["error"], "unknown visitor or wrong secret");
        let closed = chat.next().await;
        assert_eq!(closed["type"], "closed", "{who}");
        assert_eq!(closed["code"], u16::from(CloseCode::Policy));
    }

    // Anything but a hello first is refused too, and nothing is stored.
    let mut chat = Chat::open(&app).await;
    chat.say("c1", "let me in").await;
    assert_eq!(chat.next().await["type"], "error");
    assert_eq!(chat.next().await["type"], "closed");
    let page = app.get(&welcome("/mod/hitl/sessions")).await.expect(200);
    assert_eq!(page["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_visitor_may_set_a_display_name_the_agents_see() {
    let app = spawn_app().await;
    let visitor = new_visitor(&app, None).await;
    let (mut chat, _) = Chat::join(&app, &visitor, None).await;
    chat.say("c1", "hello").await;
    chat.items_until_text("You said: hello").await;
    assert!(web_session(&app, &visitor).await["fullName"].is_null());

    chat.send(json!({ "type": "name", "name": "  Grace Hopper " }))
        .await;
    let named = chat.until(|f| f["type"] == "named").await.pop().unwrap();
    assert_eq!(named["name"], "Grace Hopper");
    assert_eq!(
        web_session(&app, &visitor).await["fullName"],
        "Grace Hopper"
    );

    chat.send(json!({ "type": "name", "name": "x".repeat(81) }))
        .await;
    let error = chat.until(|f| f["type"] == "error").await.pop().unwrap();
    assert!(error["error"].as_str().unwrap().contains("80"), "{error}");
    chat.close().await;

    // The name is kept for the next visit.
    let (chat, _) = Chat::join(&app, &visitor, None).await;
    chat.close().await;
    let mut again = Chat::open(&app).await;
    again.hello(&visitor, None).await;
    let ready = again.until(|f| f["type"] == "ready").await.pop().unwrap();
    assert_eq!(ready["name"], "Grace Hopper");
    again.close().await;
}

#[tokio::test]
async fn bad_frames_get_an_error_and_the_socket_stays_open() {
    let app = spawn_app().await;
    let visitor = new_visitor(&app, None).await;
    let (mut chat, _) = Chat::join(&app, &visitor, None).await;

    chat.ws
        .send(WsMessage::Text("{not json".into()))
        .await
        .unwrap();
    let error = chat.next().await;
    assert_eq!(error["type"], "error");
    assert!(error["error"].as_str().unwrap().contains("invalid frame"));

    for (client_id, content) in [
        (
            "sys",
            json!({ "type": "system", "text": "Paused by admin" }),
        ),
        ("img", json!({ "type": "image", "url": "http://x/y.png" })),
        ("empty", json!({ "type": "text", "text": "   " })),
        ("long", json!({ "type": "text", "text": "x".repeat(4001) })),
    ] {
        chat.send(json!({ "type": "send", "clientId": client_id, "content": content }))
            .await;
        let error = chat.next().await;
        assert_eq!(error["type"], "error", "{client_id}: {error}");
        assert_eq!(error["clientId"], client_id);
    }

    // Still open, and nothing was stored.
    chat.say("ok", "still here").await;
    chat.items_until_text("You said: still here").await;
    let id = web_session(&app, &visitor).await["id"].as_i64().unwrap();
    assert_eq!(
        app.texts(WELCOME_BOT, id).await,
        ["still here", "You said: still here"]
    );
    chat.close().await;
}

#[tokio::test]
async fn visitor_creation_refuses_bad_input_with_json_errors() {
    let app = spawn_app().await;
    let post = |path: String, body: &'static str| {
        app.client
            .post(app.url(&path))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let unknown = post("/api/v1/bots/no-such-bot/chat/visitors".into(), "{}")
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let malformed = post(welcome("/chat/visitors"), "{\"name\":").await.unwrap();
    assert_eq!(malformed.status(), 400);
    let long = format!("{{\"name\":\"{}\"}}", "x".repeat(81));
    let long = app
        .client
        .post(app.url(&welcome("/chat/visitors")))
        .header("content-type", "application/json")
        .body(long)
        .send()
        .await
        .unwrap();
    assert_eq!(long.status(), 422);
    let body: Value = long.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unprocessable");

    // No token needed, and an empty body is fine.
    let visitor = new_visitor(&app, None).await;
    assert!(visitor.id.starts_with("visitor-"));
    assert_eq!(visitor.secret.len(), 64);

    let socket = app
        .client
        .get(app.url("/api/v1/bots/no-such-bot/chat/socket"))
        .send()
        .await
        .unwrap();
    assert_eq!(socket.status(), 404);
    let plain = app
        .client
        .get(app.url(&welcome("/chat/socket")))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 400, "a plain GET is not an upgrade");
    let body: Value = plain.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test]
async fn the_embed_script_is_served_for_known_bots_only() {
    let app = spawn_app().await;
    let script = app
        .client
        .get(app.url("/chat/welcome-bot/embed.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let body = script.text().await.unwrap();
    assert!(body.contains("var botId = \"welcome-bot\";"), "{body}");
    assert!(!body.contains("__HITL_BOT_ID__"));

    let missing = app
        .client
        .get(app.url("/chat/no-such-bot/embed.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn messages_sent_in_a_burst_are_stored_in_the_order_sent() {
    let app = spawn_app().await;
    let visitor = new_visitor(&app, None).await;
    let (mut chat, _) = Chat::join(&app, &visitor, None).await;
    let words: Vec<String> = (0..8).map(|i| format!("burst {i}")).collect();
    for (i, w) in words.iter().enumerate() {
        chat.say(&format!("c{i}"), w).await;
    }
    chat.items_until_text("You said: burst 7").await;
    let id = web_session(&app, &visitor).await["id"].as_i64().unwrap();
    let typed: Vec<String> = app
        .texts(WELCOME_BOT, id)
        .await
        .into_iter()
        .filter(|t| !t.starts_with("You said"))
        .collect();
    assert_eq!(typed, words);
    chat.close().await;
}

#[tokio::test]
async fn one_address_cannot_start_chats_without_end() {
    let app = spawn_app().await;
    // The test server allows 30 new visitors per address in 10 minutes.
    for _ in 0..30 {
        new_visitor(&app, None).await;
    }
    let refused = app
        .client
        .post(app.url(&welcome("/chat/visitors")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
}

#[tokio::test]
async fn a_flood_of_messages_from_one_socket_is_refused_beyond_the_limit() {
    let app = spawn_app().await;
    let visitor = new_visitor(&app, None).await;
    let (mut chat, _) = Chat::join(&app, &visitor, None).await;
    for i in 0..25 {
        chat.say(&format!("f{i}"), &format!("flood {i}")).await;
    }
    // Twenty are taken (acked), the rest refused with their client ids.
    let mut acked = 0;
    let mut refused = Vec::new();
    while acked + refused.len() < 25 {
        let frame = chat.next().await;
        match frame["type"].as_str() {
            Some("ack") => acked += 1,
            Some("error") => refused.push(frame["clientId"].as_str().unwrap().to_string()),
            _ => {}
        }
    }
    assert_eq!(acked, 20);
    assert_eq!(refused, ["f20", "f21", "f22", "f23", "f24"]);
    chat.close().await;
}

#[tokio::test]
async fn the_longest_message_arrives_whole_over_the_socket() {
    // 4,000 characters of four bytes each: a frame several times the socket's read buffer.
    let app = spawn_app().await;
    let visitor = new_visitor(&app, None).await;
    let (mut chat, _) = Chat::join(&app, &visitor, None).await;
    let text: String = "🙂".repeat(4000);
    chat.say("c-long", &text).await;
    chat.items_until_text(&format!("You said: {text}")).await;
    let id = web_session(&app, &visitor).await["id"].as_i64().unwrap();
    assert!(app.texts(WELCOME_BOT, id).await.contains(&text));
    chat.close().await;
}

#[tokio::test]
async fn an_agent_named_bot_is_still_a_person_joining() {
    use server::store::accounts::NewUser;
    let app = spawn_app().await;
    let new = NewUser {
        email: "bot@test.local".into(),
        name: "bot".into(),
        password_hash: server::accounts::hash_password(common::AGENT_PASSWORD)
            .await
            .unwrap(),
        role: app::account::Role::Agent,
        bots: vec!["welcome-bot".into()],
    };
    app.store.create_user(&new).await.unwrap();
    let visitor = new_visitor(&app, None).await;
    let (mut chat, _) = Chat::join(&app, &visitor, None).await;
    chat.say("c1", "my parcel is broken").await;
    chat.items_until_text("You said: my parcel is broken").await;
    let id = web_session(&app, &visitor).await["id"].as_i64().unwrap();

    let mut agent =
        common::browser::Browser::signed_in(&app, "bot@test.local", common::AGENT_PASSWORD).await;
    let reply = agent
        .call(
            reqwest::Method::POST,
            &welcome(&format!("/mod/hitl/sessions/{id}/message")),
            Some(json!({ "message": "I am a person, sorry about the parcel" })),
            true,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let items = chat
        .items_until_text("I am a person, sorry about the parcel")
        .await;
    let joined = items
        .iter()
        .find(|i| i["from"] == "paused")
        .expect("the pause reached the visitor");
    assert_eq!(joined["byPerson"], true, "a person joined: {items:?}");
    let person = items.last().unwrap();
    assert_eq!(person["from"], "person");
    assert_eq!(person["name"], "bot");
    chat.close().await;
}

#[tokio::test]
async fn a_visitor_waiting_for_a_person_sees_their_place_in_line_move_up_live() {
    let app = spawn_app().await;
    common::add_agent(&app, "ada@test.local", &[WELCOME_BOT]).await;
    let ada = common::user_id(&app, "ada@test.local").await;
    let mut chats = Vec::new();
    let mut visitors = Vec::new();
    for n in 0..3 {
        let visitor = new_visitor(&app, None).await;
        visitors.push(visitor.clone());
        let (mut chat, _) = Chat::join(&app, &visitor, None).await;
        chat.say(&format!("c{n}"), "HITL_START").await;
        let told = chat.until(|f| f["type"] == "queue").await;
        assert_eq!(told.last().unwrap()["position"], n + 1, "{told:?}");
        chats.push(chat);
    }
    // A Converse user queued behind them sees the same line.
    let converse = app.say("api-user", "HITL_START").await;
    assert_eq!(converse["handoff"]["position"], 4, "{converse}");

    // Ada takes the first: everyone behind moves up, live.
    let first = app
        .get(&welcome("/mod/hitl/sessions?limit=10"))
        .await
        .expect(200);
    let oldest = first["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["handoff"]["position"] == 1)
        .expect("someone is first")["id"]
        .as_i64()
        .unwrap();
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{oldest}/assign")),
        json!({ "userId": ada }),
    )
    .await
    .expect(200);
    let first_told = chats[0].until(|f| f["type"] == "queue").await;
    assert_eq!(
        first_told.last().unwrap()["position"],
        Value::Null,
        "a person has it"
    );
    let third_told = chats[2].until(|f| f["type"] == "queue").await;
    assert_eq!(third_told.last().unwrap()["position"], 2);
    let converse = app.say("api-user", "still waiting").await;
    assert_eq!(converse["handoff"]["position"], 3, "{converse}");

    // Coming back, a visitor is told where they stand right after the replay.
    let second = chats.remove(1);
    second.close().await;
    let (mut again, _) = Chat::join(&app, &visitors[1], None).await;
    let told = again.next().await;
    assert_eq!(
        (told["type"].as_str(), told["position"].as_i64()),
        (Some("queue"), Some(1))
    );
}
