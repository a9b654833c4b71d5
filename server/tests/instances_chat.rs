//! Several real `hitl` processes on one PostgreSQL database: a web chat visitor whose socket
//! moves between instances, resuming by the last item id, gets every agent reply once, in order.

pub mod common;
pub mod processes;

use std::net::SocketAddr;
use std::time::Duration;

use common::{welcome, TOKEN};
use futures::{SinkExt, StreamExt};
use processes::{database, instances, repo_bots, Hitl};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long the visitor waits for what must come.
const WAIT: Duration = Duration::from_secs(10);

/// Three instances on one new database.
async fn three_instances() -> Vec<Hitl> {
    let (url, _) = database().await;
    instances(3, &url, &repo_bots()).await
}

// ---------------------------------------------------------------------------------------------
// The visitor.

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Visitor {
    id: String,
    secret: String,
}

/// Opens the chat socket on `addr`, says hello with `since`, and answers the items of the
/// replay (up to `ready`).
async fn join(addr: SocketAddr, visitor: &Visitor, since: Option<i64>) -> (Ws, Vec<Value>) {
    let url = format!("ws://{addr}{}", welcome("/chat/socket"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the chat socket opens");
    send(
        &mut ws,
        json!({ "type": "hello", "visitorId": visitor.id, "secret": visitor.secret, "since": since }),
    )
    .await;
    let mut items = Vec::new();
    loop {
        let frame = next(&mut ws).await;
        match frame["type"].as_str() {
            Some("ready") => return (ws, items),
            Some("item") => items.push(frame["item"].clone()),
            _ => {}
        }
    }
}

async fn send(ws: &mut Ws, frame: Value) {
    ws.send(WsMessage::Text(frame.to_string().into()))
        .await
        .expect("the frame is sent");
}

/// The next JSON frame; fails the test on a close or a timeout.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame arrives in time");
        match frame {
            Some(Ok(WsMessage::Text(text))) => {
                return serde_json::from_str(text.as_str()).expect("JSON frames")
            }
            Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => {
                panic!("the chat socket closed early: {frame:?}")
            }
            Some(Ok(_)) => continue,
        }
    }
}

async fn close(mut ws: Ws) {
    let _ = ws.send(WsMessage::Close(None)).await;
    while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(2), ws.next()).await {}
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_instances_give_a_web_chat_visitor_every_message_once() {
    const REPLIES: usize = 20;
    let started = Instant::now();
    let hitl = three_instances().await;
    let (a, b, c) = (&hitl[0], &hitl[1], &hitl[2]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");

    // A visitor on C asks for a person.
    let created: Value = client
        .post(format!("{}{}", c.base(), welcome("/chat/visitors")))
        .send()
        .await
        .expect("C answers")
        .json()
        .await
        .expect("JSON");
    let visitor = Visitor {
        id: created["visitorId"].as_str().expect("an id").to_string(),
        secret: created["secret"].as_str().expect("a secret").to_string(),
    };
    let (mut ws, replayed) = join(c.addr, &visitor, None).await;
    assert!(replayed.is_empty(), "a new visitor has no history");
    send(
        &mut ws,
        json!({ "type": "send", "clientId": "c1", "content": { "type": "text", "text": "HITL_START" } }),
    )
    .await;
    let mut last_seen: Option<i64> = None;
    loop {
        let frame = next(&mut ws).await;
        if frame["type"] == "item" {
            last_seen = frame["item"]["id"].as_i64().or(last_seen);
            if frame["item"]["from"] == "paused" {
                break;
            }
        }
    }

    // The session, as the agent's token sees it on A.
    let sessions: Value = client
        .get(format!("{}{}", a.base(), welcome("/mod/hitl/sessions")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("A answers")
        .json()
        .await
        .expect("JSON");
    let session = sessions["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|s| s["userId"] == visitor.id.as_str())
        .unwrap_or_else(|| panic!("a session for the visitor: {sessions}"))
        .clone();
    assert_eq!(session["isPaused"], true, "the visitor asked for a person");
    let id = session["id"].as_i64().expect("a session id");

    // The agent replies through A and B alternately, without waiting for the visitor.
    let bases = [a.base(), b.base()];
    let poster = {
        let client = client.clone();
        tokio::spawn(async move {
            for n in 1..=REPLIES {
                let base = &bases[n % 2];
                let response = client
                    .post(format!(
                        "{base}{}",
                        welcome(&format!("/mod/hitl/sessions/{id}/message"))
                    ))
                    .bearer_auth(TOKEN)
                    .json(&json!({ "message": format!("reply {n}") }))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("reply {n}: no answer: {e}"));
                assert_eq!(response.status(), 200, "reply {n} through {base}");
            }
        })
    };

    // The visitor reads, moving from C to A after a third of the replies, then to B after two
    // thirds, each time resuming after the last item it saw.
    let mut got: Vec<Value> = Vec::new();
    let moves = [(REPLIES / 3, a.addr), (2 * REPLIES / 3, b.addr)];
    let mut moved = 0;
    let deadline = Instant::now() + Duration::from_secs(15);
    while got.len() < REPLIES {
        assert!(
            Instant::now() < deadline,
            "only {} of {REPLIES} replies reached the visitor: {got:?}",
            got.len()
        );
        if moved < moves.len() && got.len() >= moves[moved].0 {
            close(ws).await;
            let (reopened, replayed) = join(moves[moved].1, &visitor, last_seen).await;
            ws = reopened;
            for item in replayed {
                last_seen = item["id"].as_i64().or(last_seen);
                if item["from"] == "person" {
                    got.push(item);
                }
            }
            eprintln!(
                "moved to {} after {} replies; {} with the replay",
                ["A", "B"][moved],
                moves[moved].0,
                got.len()
            );
            moved += 1;
            continue;
        }
        let frame = next(&mut ws).await;
        if frame["type"] == "item" {
            let item = frame["item"].clone();
            last_seen = item["id"].as_i64().or(last_seen);
            if item["from"] == "person" {
                got.push(item);
            }
        }
    }
    poster.await.expect("every reply was posted");
    assert_eq!(moved, moves.len(), "the visitor moved twice");

    // Nothing more comes: no late duplicate.
    if let Ok(Some(Ok(WsMessage::Text(text)))) =
        tokio::time::timeout(Duration::from_millis(500), ws.next()).await
    {
        let frame: Value = serde_json::from_str(text.as_str()).expect("JSON frames");
        assert!(
            frame["type"] != "item" || frame["item"]["from"] != "person",
            "a reply came again: {frame}"
        );
    }
    close(ws).await;

    // What the visitor saw is the session's agent messages, once each, in order.
    let page: Value = client
        .get(format!(
            "{}{}",
            c.base(),
            welcome(&format!("/mod/hitl/sessions/{id}/messages?limit=200"))
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("C answers")
        .json()
        .await
        .expect("JSON");
    let stored: Vec<(i64, String)> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["source"] == "agent")
        .map(|m| {
            (
                m["id"].as_i64().unwrap(),
                m["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected: Vec<String> = (1..=REPLIES).map(|n| format!("reply {n}")).collect();
    let stored_texts: Vec<String> = stored.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(
        stored_texts, expected,
        "each reply is stored once, in order"
    );
    let seen: Vec<(i64, String)> = got
        .iter()
        .map(|i| {
            let text = i["content"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (i["id"].as_i64().expect("an item id"), text)
        })
        .collect();
    assert_eq!(
        seen, stored,
        "the visitor saw every reply exactly once, in order"
    );
    eprintln!("the run took {:?}", started.elapsed());
}
