//! Engine tests: the seed's rules on a real store, events published after each change.

use std::sync::Arc;

use app::model::{Actor, ActorKind, Content, EventKind, Profile, Source};

use super::{Engine, EngineError, Incoming, Target};
use crate::bots::{self, BotDefinition, Bots};
use crate::bus::Bus;
use crate::sqlite::SqliteStore;
use crate::store::{Durability, SessionKey, Store};

fn ada() -> Actor {
    Actor::new(ActorKind::Agent, Some(1), "ada")
}

async fn engine() -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("engine.db").display());
    let store = SqliteStore::open(&url, Durability::Normal).await.unwrap();
    (engine_on(Arc::new(store)).await, dir)
}

/// An engine of the repository's bots and a silent one, on `store`.
async fn engine_on(store: Arc<dyn Store>) -> Engine {
    let bots_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../bots");
    let mut definitions = bots::load_definitions(std::path::Path::new(bots_dir)).unwrap();
    definitions.push(BotDefinition {
        id: "silent".into(),
        name: "Silent".into(),
        rules: None,
        messenger: None,
        external: None,
        handoffs: Default::default(),
    });
    for d in &definitions {
        store.upsert_bot(&d.id, &d.name).await.unwrap();
    }
    Engine::new(store, Bus::new(64), Bots::new(definitions, |_| false))
}

fn incoming(bot: &str, content: Content) -> Incoming {
    Incoming {
        key: SessionKey {
            bot_id: bot.into(),
            channel: "api".into(),
            user_id: "u1".into(),
            thread_id: None,
        },
        profile: Profile {
            full_name: Some("Ada".into()),
            avatar_url: None,
        },
        content,
    }
}

fn text(t: &str) -> Content {
    Content::Text { text: t.into() }
}

#[tokio::test]
async fn while_paused_every_user_kind_is_recorded_but_held_back() {
    let (engine, _dir) = engine().await;
    let start = engine
        .receive(incoming("welcome-bot", text("HITL_START")))
        .await
        .unwrap();
    assert!(start.paused);
    let held = [
        text("are you there?"),
        Content::QuickReply {
            text: "Yes".into(),
            payload: "YES".into(),
        },
        Content::Postback {
            payload: "OTHER".into(),
            title: None,
        },
        Content::Image {
            url: "https://example.com/a.png".into(),
            title: None,
        },
        Content::File {
            url: "https://example.com/a.pdf".into(),
            title: None,
        },
    ];
    for content in held {
        let outcome = engine
            .receive(incoming("welcome-bot", content.clone()))
            .await
            .unwrap();
        assert!(outcome.paused, "{content:?}");
        assert!(outcome.responses.is_empty(), "{content:?} reached the bot");
        assert_eq!(outcome.message.source, Source::User);
    }
    let messages = engine
        .messages("welcome-bot", start.session.id, None, 50)
        .await
        .unwrap();
    assert_eq!(
        messages.iter().filter(|m| m.source == Source::Bot).count(),
        1,
        "only the HITL_START answer"
    );
}

#[tokio::test]
async fn the_resume_command_reaches_the_rules_while_paused() {
    let (engine, _dir) = engine().await;
    engine
        .receive(incoming("welcome-bot", text("HITL_START")))
        .await
        .unwrap();
    let click = Content::Postback {
        payload: "HITL_STOP".into(),
        title: Some("Cancel request".into()),
    };
    let stop = engine
        .receive(incoming("welcome-bot", click))
        .await
        .unwrap();
    assert!(!stop.paused);
    assert_eq!(
        stop.responses,
        [text("Human in the loop disabled. Bot resumed.")]
    );
    let again = engine
        .receive(incoming("welcome-bot", text("hello again")))
        .await
        .unwrap();
    assert_eq!(again.responses, [text("You said: hello again")]);
}

#[tokio::test]
async fn hitl_start_notifies_agents_with_the_users_name() {
    let (engine, _dir) = engine().await;
    let start = engine
        .receive(incoming("welcome-bot", text("HITL_START")))
        .await
        .unwrap();
    let page = engine
        .notifications(
            &crate::store::Reader {
                bots: crate::store::BotScope::All,
                person: None,
            },
            false,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(page.notifications.len(), 1);
    assert_eq!(
        page.notifications[0].message,
        "Ada wants to talk to a human"
    );
    assert_eq!(page.notifications[0].session_id, Some(start.session.id));
    assert_eq!(start.session.paused_by.as_deref(), Some("bot"));
}

#[tokio::test]
async fn a_bot_without_rules_records_and_answers_nothing() {
    let (engine, _dir) = engine().await;
    let outcome = engine
        .receive(incoming("silent", text("hello")))
        .await
        .unwrap();
    assert!(outcome.responses.is_empty());
    assert!(!outcome.paused);
    assert_eq!(
        engine
            .messages("silent", outcome.session.id, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Waits for the bot's `bot.updated` event on the engine's bus.
async fn switched(events: &mut tokio::sync::broadcast::Receiver<Arc<crate::bus::Frame>>) -> bool {
    let wait = async {
        loop {
            let frame = events.recv().await.expect("the bus is open");
            if let EventKind::BotUpdated { paused } = frame.event.kind {
                return paused;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .expect("the switch reached the other instance")
}

#[tokio::test]
async fn the_bot_wide_switch_turned_on_one_instance_holds_back_every_other() {
    let url = crate::pg_cluster::shared().fresh_database().await;
    let open = || async {
        let store = crate::postgres::PgStore::open(&url, Durability::Normal)
            .await
            .unwrap();
        engine_on(Arc::new(store)).await
    };
    let (a, b) = (open().await, open().await);
    let mut on_b = b.bus().subscribe();
    a.set_bot_paused("welcome-bot", true, &ada()).await.unwrap();
    assert!(switched(&mut on_b).await);
    let outcome = b
        .receive(incoming("welcome-bot", text("hello")))
        .await
        .unwrap();
    assert!(outcome.paused && outcome.responses.is_empty());
    a.set_bot_paused("welcome-bot", false, &ada())
        .await
        .unwrap();
    assert!(!switched(&mut on_b).await);
    let outcome = b
        .receive(incoming("welcome-bot", text("hello")))
        .await
        .unwrap();
    assert_eq!(outcome.responses, [text("You said: hello")]);
}

/// An instance answers by what is committed, not by what it has heard: the switch written
/// straight to the database (no event, so no instance hears of it) still holds the bot back.
#[tokio::test]
async fn a_switch_committed_but_not_yet_heard_of_holds_the_bot_back() {
    let url = crate::pg_cluster::shared().fresh_database().await;
    let store = crate::postgres::PgStore::open(&url, Durability::Normal)
        .await
        .unwrap();
    let pool = store.pool().clone();
    let engine = engine_on(Arc::new(store)).await;
    sqlx::query("update bots set paused = true where id = 'welcome-bot'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(!engine.bot("welcome-bot").unwrap().is_paused());
    let outcome = engine
        .receive(incoming("welcome-bot", text("hello")))
        .await
        .unwrap();
    assert!(outcome.responses.is_empty(), "{:?}", outcome.responses);
}

#[tokio::test]
async fn the_bot_wide_switch_holds_back_every_session() {
    let (engine, _dir) = engine().await;
    engine
        .set_bot_paused("welcome-bot", true, &ada())
        .await
        .unwrap();
    let outcome = engine
        .receive(incoming("welcome-bot", text("hello")))
        .await
        .unwrap();
    assert!(outcome.paused && outcome.responses.is_empty());
    engine
        .set_bot_paused("welcome-bot", false, &ada())
        .await
        .unwrap();
    let outcome = engine
        .receive(incoming("welcome-bot", text("hello")))
        .await
        .unwrap();
    assert_eq!(outcome.responses, [text("You said: hello")]);
}

#[tokio::test]
async fn an_agent_reply_pauses_a_running_conversation_first() {
    let (engine, _dir) = engine().await;
    let s = engine
        .receive(incoming("welcome-bot", text("hello")))
        .await
        .unwrap()
        .session;
    let reply = engine
        .agent_reply(
            "welcome-bot",
            s.id,
            "I am here",
            &Actor::new(ActorKind::Token, None, "api"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(reply.source, Source::Agent);
    let after = engine.session("welcome-bot", s.id).await.unwrap();
    assert!(after.is_paused);
    assert_eq!(after.paused_reason.as_deref(), Some("agent replied"));
    let texts: Vec<_> = engine
        .messages("welcome-bot", s.id, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(&texts[2..], ["Paused by api: agent replied", "I am here"]);
}

#[tokio::test]
async fn events_are_published_after_each_change_in_seq_order() {
    let (engine, _dir) = engine().await;
    let mut rx = engine.bus().subscribe();
    engine
        .receive(incoming("welcome-bot", text("HITL_START")))
        .await
        .unwrap();
    let mut frames = Vec::new();
    while let Ok(frame) = rx.try_recv() {
        frames.push(frame);
    }
    assert!(frames.windows(2).all(|w| w[0].seq < w[1].seq));
    let types: Vec<String> = frames
        .iter()
        .map(|f| {
            serde_json::from_str::<app::model::Event>(&f.json)
                .unwrap()
                .kind
                .name()
                .to_string()
        })
        .collect();
    assert_eq!(
        types,
        [
            "session.created",
            "message.created",
            "message.created",
            "session.updated",
            "notification.created",
            "message.created",
            "session.updated"
        ]
    );
    let logged = engine
        .store()
        .events_since("welcome-bot", 0, 100)
        .await
        .unwrap();
    assert_eq!(
        logged.iter().map(|e| e.seq).collect::<Vec<_>>(),
        frames.iter().map(|f| f.seq).collect::<Vec<_>>()
    );
    assert!(matches!(logged[0].kind, EventKind::SessionCreated { .. }));
}

#[tokio::test]
async fn unknown_bots_sessions_and_users_are_not_found() {
    let (engine, _dir) = engine().await;
    assert!(matches!(
        engine.receive(incoming("nobody", text("hi"))).await,
        Err(EngineError::NotFound("bot"))
    ));
    assert!(matches!(
        engine.session("welcome-bot", 42).await,
        Err(EngineError::NotFound("session"))
    ));
    let key = SessionKey {
        bot_id: "welcome-bot".into(),
        channel: "api".into(),
        user_id: "ghost".into(),
        thread_id: None,
    };
    let result = engine
        .set_paused(
            "welcome-bot",
            Target::User(key),
            true,
            &Actor::new(ActorKind::Token, None, "api"),
            None,
        )
        .await;
    assert!(matches!(result, Err(EngineError::NotFound("session"))));
}

#[tokio::test]
async fn bot_output_and_system_kinds_cannot_come_from_a_user() {
    let (engine, _dir) = engine().await;
    let result = engine
        .receive(incoming(
            "welcome-bot",
            Content::System {
                text: "Paused by admin".into(),
                paused: Some(true),
            },
        ))
        .await;
    assert!(matches!(result, Err(EngineError::Invalid(_))));
    let result = engine.receive(incoming("welcome-bot", text("   "))).await;
    assert!(matches!(result, Err(EngineError::Invalid(_))));
}
