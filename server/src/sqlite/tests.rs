//! Store tests, each on a fresh database file.

use app::model::{
    Actor, ActorKind, Content, Event, EventKind, Level, Message, Notification, Profile,
    SessionOverview, SessionQuery, Source,
};

use super::SqliteStore;
use crate::engine::clock::now_ms;
use crate::engine::steps::{self, PauseChange};
use crate::store::write::{apply, Change, WriteTx};
use crate::store::{BotScope, Durability, NewNotification, Reader, Result, SessionKey, Store};

/// What a write stored, with the events it appended.
struct Written {
    session: SessionOverview,
    message: Option<Message>,
    events: Vec<Event>,
}

impl Written {
    fn message(&self) -> &Message {
        self.message.as_ref().expect("a message was written")
    }
}

/// One of the engine's steps as a change of its own.
enum Step {
    User(SessionKey, Profile, Content),
    Outgoing(i64, Source, Actor, Content),
    Pause(i64, PauseChange),
    Delete(i64),
}

#[async_trait::async_trait]
impl Change for Step {
    type Output = (Option<SessionOverview>, Option<Message>);

    async fn apply(&self, tx: &mut dyn WriteTx) -> Result<Self::Output> {
        let at = now_ms();
        Ok(match self {
            Step::User(key, profile, content) => {
                let r = steps::user_message(tx, key, profile, content, at).await?;
                (Some(r.session), Some(r.message))
            }
            Step::Outgoing(id, source, author, content) => {
                let r = steps::outgoing_message(tx, *id, *source, author, content, at).await?;
                (Some(r.session), Some(r.message))
            }
            Step::Pause(id, change) => {
                (Some(steps::set_paused(tx, *id, change, at).await?.0), None)
            }
            Step::Delete(id) => {
                let admin = Actor::new(ActorKind::Agent, None, "admin");
                steps::delete_session(tx, *id, &admin, at).await?;
                (None, None)
            }
        })
    }
}

/// The engine's writes, step by step, as the store tests make them.
impl SqliteStore {
    async fn step(&self, step: Step) -> Result<Written> {
        let (_, before) = self.event_bounds().await?;
        let (session, message) = apply(self, step).await?;
        let mut events = Vec::new();
        for bot in ["bot-a", "bot-b"] {
            events.extend(self.events_since(bot, before, 100).await?);
        }
        events.sort_by_key(|e| e.seq);
        Ok(Written {
            session: session.unwrap_or_else(|| panic!("no session")),
            message,
            events,
        })
    }

    async fn record_user_message(
        &self,
        key: &SessionKey,
        profile: &Profile,
        content: &Content,
    ) -> Result<Written> {
        self.step(Step::User(key.clone(), profile.clone(), content.clone()))
            .await
    }

    async fn record_outgoing_message(
        &self,
        session_id: i64,
        source: Source,
        author: Option<&str>,
        content: &Content,
    ) -> Result<Written> {
        let author = match author {
            Some(name) => Actor::new(ActorKind::Agent, None, name),
            None => Actor::bot(),
        };
        self.step(Step::Outgoing(session_id, source, author, content.clone()))
            .await
    }

    async fn set_paused(&self, session_id: i64, change: &PauseChange) -> Result<Written> {
        self.step(Step::Pause(session_id, change.clone())).await
    }

    async fn delete_session(&self, session_id: i64) -> Result<()> {
        apply(self, Step::Delete(session_id)).await.map(|_| ())
    }

    async fn create_notification(
        &self,
        bot_id: &str,
        new: &NewNotification,
    ) -> Result<Notification> {
        struct Notify(String, NewNotification);
        #[async_trait::async_trait]
        impl Change for Notify {
            type Output = Notification;
            async fn apply(&self, tx: &mut dyn WriteTx) -> Result<Notification> {
                steps::notify(tx, &self.0, &self.1, now_ms()).await
            }
        }
        apply(self, Notify(bot_id.to_string(), new.clone())).await
    }
}

/// Marks notifications read as the engine does; answers how many were unread, and the one.
struct ReadNotifications(Reader, Option<i64>);

#[async_trait::async_trait]
impl Change for ReadNotifications {
    type Output = (usize, Option<Notification>);
    async fn apply(&self, tx: &mut dyn WriteTx) -> Result<Self::Output> {
        let read = steps::read_notifications(tx, &self.0, self.1, now_ms()).await?;
        let one = match self.1 {
            Some(id) => tx.notification(&self.0, id).await?,
            None => None,
        };
        Ok((read, one))
    }
}

impl SqliteStore {
    async fn mark_notification_read(
        &self,
        reader: &Reader,
        id: i64,
    ) -> Result<Option<Notification>> {
        Ok(apply(self, ReadNotifications(reader.clone(), Some(id)))
            .await?
            .1)
    }

    async fn mark_all_notifications_read(&self, reader: &Reader) -> Result<u64> {
        Ok(apply(self, ReadNotifications(reader.clone(), None))
            .await?
            .0 as u64)
    }
}

/// A reader of the bots in `bots` who is nobody in particular (a token's view).
fn of(bots: BotScope) -> Reader {
    Reader { bots, person: None }
}

fn token(name: &str) -> Actor {
    Actor::new(ActorKind::Token, None, name)
}

async fn fresh() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = SqliteStore::open(&url, Durability::Normal)
        .await
        .expect("open store");
    store.upsert_bot("bot-a", "A").await.unwrap();
    store.upsert_bot("bot-b", "B").await.unwrap();
    (store, dir)
}

fn key(bot: &str, user: &str) -> SessionKey {
    SessionKey {
        bot_id: bot.into(),
        channel: "api".into(),
        user_id: user.into(),
        thread_id: None,
    }
}

fn text(t: &str) -> Content {
    Content::Text { text: t.into() }
}

fn named(name: &str) -> Profile {
    Profile {
        full_name: Some(name.into()),
        avatar_url: None,
    }
}

#[tokio::test]
async fn the_first_message_creates_the_session_and_later_ones_reuse_it() {
    let (store, _dir) = fresh().await;
    let first = store
        .record_user_message(&key("bot-a", "u1"), &named("Ada"), &text("hi"))
        .await
        .unwrap();
    let second = store
        .record_user_message(&key("bot-a", "u1"), &Profile::default(), &text("again"))
        .await
        .unwrap();
    assert_eq!(first.session.id, second.session.id);
    assert_eq!(
        second.session.full_name.as_deref(),
        Some("Ada"),
        "an absent profile keeps the name"
    );
    assert_eq!(second.session.unread_count, 2);
    assert_eq!(
        second
            .session
            .last_message
            .as_ref()
            .map(|m| m.text.as_str()),
        Some("again")
    );
    let kinds: Vec<_> = first.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["session.created", "message.created"]);
    let kinds: Vec<_> = second.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["message.created", "session.updated"]);
}

#[tokio::test]
async fn a_newer_profile_replaces_the_stored_one() {
    let (store, _dir) = fresh().await;
    store
        .record_user_message(&key("bot-a", "u1"), &named("Ada"), &text("hi"))
        .await
        .unwrap();
    let newer = Profile {
        full_name: Some("Ada L.".into()),
        avatar_url: Some("https://x/a.png".into()),
    };
    let r = store
        .record_user_message(&key("bot-a", "u1"), &newer, &text("hi"))
        .await
        .unwrap();
    assert_eq!(r.session.full_name.as_deref(), Some("Ada L."));
    assert_eq!(r.session.avatar_url.as_deref(), Some("https://x/a.png"));
}

#[tokio::test]
async fn threads_and_bots_keep_sessions_apart() {
    let (store, _dir) = fresh().await;
    let a = store
        .record_user_message(&key("bot-a", "u1"), &Profile::default(), &text("1"))
        .await
        .unwrap();
    let b = store
        .record_user_message(&key("bot-b", "u1"), &Profile::default(), &text("2"))
        .await
        .unwrap();
    let mut threaded = key("bot-a", "u1");
    threaded.thread_id = Some("t9".into());
    let t = store
        .record_user_message(&threaded, &Profile::default(), &text("3"))
        .await
        .unwrap();
    assert_ne!(a.session.id, b.session.id);
    assert_ne!(a.session.id, t.session.id);
    assert_eq!(t.session.thread_id.as_deref(), Some("t9"));
    assert_eq!(
        store.session_by_key(&threaded).await.unwrap().map(|s| s.id),
        Some(t.session.id)
    );
    assert!(
        store
            .session("bot-b", a.session.id)
            .await
            .unwrap()
            .is_none(),
        "a session belongs to one bot"
    );
}

#[tokio::test]
async fn pausing_is_idempotent_and_leaves_one_system_line_and_history_row() {
    let (store, _dir) = fresh().await;
    let s = store
        .record_user_message(&key("bot-a", "u1"), &Profile::default(), &text("hi"))
        .await
        .unwrap()
        .session;
    let pause = PauseChange::new(true, token("api"), Some("billing".into()));
    let first = store.set_paused(s.id, &pause).await.unwrap();
    let again = store.set_paused(s.id, &pause).await.unwrap();
    assert!(first.session.is_paused);
    assert_eq!(first.session.paused_by.as_deref(), Some("api"));
    assert_eq!(first.session.paused_reason.as_deref(), Some("billing"));
    assert_eq!(first.events.len(), 2);
    assert!(again.events.is_empty());
    let lines: Vec<_> = store
        .messages(s.id, None, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.source == Source::System)
        .map(|m| m.text)
        .collect();
    assert_eq!(lines, ["Paused by api: billing"]);
    let history: i64 =
        sqlx::query_scalar("select count(*) from pause_history where session_id = ?1")
            .bind(s.id)
            .fetch_one(&store.pool)
            .await
            .unwrap();
    assert_eq!(history, 1);

    let resumed = store
        .set_paused(
            s.id,
            &PauseChange::new(false, Actor::new(ActorKind::User, None, "Ada"), None),
        )
        .await
        .unwrap();
    assert!(!resumed.session.is_paused);
    assert_eq!(resumed.session.paused_by, None);
}

#[tokio::test]
async fn pausing_an_unknown_session_is_not_found() {
    let (store, _dir) = fresh().await;
    let change = PauseChange::new(true, token("api"), None);
    assert!(matches!(
        store.set_paused(999, &change).await,
        Err(crate::store::StoreError::NotFound("session"))
    ));
}

#[tokio::test]
async fn an_agent_reply_clears_the_unread_count() {
    let (store, _dir) = fresh().await;
    let s = store
        .record_user_message(&key("bot-a", "u1"), &Profile::default(), &text("hi"))
        .await
        .unwrap()
        .session;
    assert_eq!(s.unread_count, 1);
    let r = store
        .record_outgoing_message(s.id, Source::Agent, Some("api"), &text("hello"))
        .await
        .unwrap();
    assert_eq!(r.session.unread_count, 0);
    assert_eq!(r.message().author.as_deref(), Some("api"));
    assert_eq!(r.message().author_kind, Some(ActorKind::Agent));
    assert!(store
        .record_outgoing_message(999, Source::Bot, None, &text("x"))
        .await
        .is_err());
}

#[tokio::test]
async fn the_session_list_pages_by_cursor_newest_first_without_gaps() {
    let (store, _dir) = fresh().await;
    for i in 0..7 {
        store
            .record_user_message(
                &key("bot-a", &format!("u{i}")),
                &Profile::default(),
                &text("hi"),
            )
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut query = SessionQuery {
        limit: Some(3),
        ..Default::default()
    };
    loop {
        let page = store.sessions("bot-a", &query, &nobody()).await.unwrap();
        seen.extend(page.sessions.iter().map(|s| s.user_id.clone()));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<_> = (0..7).rev().map(|i| format!("u{i}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn search_matches_name_or_user_id_and_takes_wildcards_literally() {
    let (store, _dir) = fresh().await;
    store
        .record_user_message(&key("bot-a", "u1"), &named("Ada Lovelace"), &text("hi"))
        .await
        .unwrap();
    store
        .record_user_message(&key("bot-a", "100%"), &named("Grace"), &text("hi"))
        .await
        .unwrap();
    store
        .record_user_message(&key("bot-a", "u3"), &named("Linus"), &text("hi"))
        .await
        .unwrap();
    let find = |s: &str| {
        let store = store.clone();
        let q = SessionQuery {
            search_text: Some(s.into()),
            ..Default::default()
        };
        async move {
            store
                .sessions("bot-a", &q, &nobody())
                .await
                .unwrap()
                .sessions
                .into_iter()
                .map(|s| s.user_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("lovelace").await, ["u1"]);
    assert_eq!(find("%").await, ["100%"]);
    assert_eq!(find("u3").await, ["u3"]);
    assert!(find("'; drop table sessions; --").await.is_empty());
}

#[tokio::test]
async fn paused_only_lists_paused_sessions() {
    let (store, _dir) = fresh().await;
    let a = store
        .record_user_message(&key("bot-a", "a"), &Profile::default(), &text("hi"))
        .await
        .unwrap()
        .session;
    store
        .record_user_message(&key("bot-a", "b"), &Profile::default(), &text("hi"))
        .await
        .unwrap();
    store
        .set_paused(a.id, &PauseChange::new(true, token("api"), None))
        .await
        .unwrap();
    let q = SessionQuery {
        paused_only: true,
        ..Default::default()
    };
    let ids: Vec<_> = store
        .sessions("bot-a", &q, &nobody())
        .await
        .unwrap()
        .sessions
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [a.id]);
}

#[tokio::test]
async fn messages_page_backwards_and_come_oldest_first() {
    let (store, _dir) = fresh().await;
    let mut session_id = 0;
    for i in 0..5 {
        session_id = store
            .record_user_message(
                &key("bot-a", "u"),
                &Profile::default(),
                &text(&format!("m{i}")),
            )
            .await
            .unwrap()
            .session
            .id;
    }
    let newest = store.messages(session_id, None, 2).await.unwrap();
    assert_eq!(
        newest.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["m3", "m4"]
    );
    let older = store
        .messages(session_id, Some(newest[0].id), 2)
        .await
        .unwrap();
    assert_eq!(
        older.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["m1", "m2"]
    );
}

#[tokio::test]
async fn events_are_logged_in_order_and_replayed_per_bot() {
    let (store, _dir) = fresh().await;
    let a = store
        .record_user_message(&key("bot-a", "u"), &Profile::default(), &text("a"))
        .await
        .unwrap();
    let b = store
        .record_user_message(&key("bot-b", "u"), &Profile::default(), &text("b"))
        .await
        .unwrap();
    let a2 = store
        .record_user_message(&key("bot-a", "u"), &Profile::default(), &text("a2"))
        .await
        .unwrap();
    let logged: Vec<_> = a.events.iter().chain(&a2.events).map(|e| e.seq).collect();
    assert!(logged.windows(2).all(|w| w[0] < w[1]));
    let replayed: Vec<_> = store
        .events_since("bot-a", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(replayed, logged);
    let after_first = store
        .events_since("bot-a", a.events[0].seq, 100)
        .await
        .unwrap();
    assert_eq!(after_first.len(), logged.len() - 1);
    let (oldest, latest) = store.event_bounds().await.unwrap();
    assert_eq!(oldest, a.events[0].seq);
    assert_eq!(latest, a2.events.last().unwrap().seq);
    assert!(b.events.iter().all(|e| e.seq < a2.events[0].seq));
    assert!(matches!(
        replayed_kind(&store).await,
        EventKind::SessionCreated { .. }
    ));
}

async fn replayed_kind(store: &SqliteStore) -> EventKind {
    store
        .events_since("bot-a", 0, 1)
        .await
        .unwrap()
        .remove(0)
        .kind
}

#[tokio::test]
async fn notifications_list_newest_first_and_can_be_marked_read() {
    let (store, _dir) = fresh().await;
    for i in 0..3 {
        let new = NewNotification {
            message: format!("n{i}"),
            level: Level::Warning,
            url: None,
            session_id: None,
            recipient_id: None,
        };
        store.create_notification("bot-a", &new).await.unwrap();
    }
    let page = store
        .notifications(&of(BotScope::All), false, None, 2)
        .await
        .unwrap();
    assert_eq!(
        page.notifications
            .iter()
            .map(|n| n.message.as_str())
            .collect::<Vec<_>>(),
        ["n2", "n1"]
    );
    assert_eq!(page.unread_count, 3);
    let read = store
        .mark_notification_read(&of(BotScope::All), page.notifications[0].id)
        .await
        .unwrap()
        .unwrap();
    assert!(read.read);
    let unread = store
        .notifications(&of(BotScope::All), true, None, 10)
        .await
        .unwrap();
    assert_eq!(unread.unread_count, 2);
    assert_eq!(unread.notifications.len(), 2);
    assert!(store
        .mark_notification_read(&of(BotScope::All), 999)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_scoped_reader_sees_and_marks_only_their_bots_notifications() {
    let (store, _dir) = fresh().await;
    for bot in ["bot-a", "bot-b", "bot-b"] {
        let new = NewNotification {
            message: format!("from {bot}"),
            level: Level::Info,
            url: None,
            session_id: None,
            recipient_id: None,
        };
        store.create_notification(bot, &new).await.unwrap();
    }
    let only_a = of(BotScope::Only(vec!["bot-a".into()]));
    let page = store.notifications(&only_a, false, None, 10).await.unwrap();
    assert_eq!(page.notifications.len(), 1);
    assert_eq!(page.notifications[0].message, "from bot-a");
    assert_eq!(page.unread_count, 1);
    let of_b = store
        .notifications(&of(BotScope::All), false, None, 10)
        .await
        .unwrap()
        .notifications[0]
        .id;
    assert!(store
        .mark_notification_read(&only_a, of_b)
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.mark_all_notifications_read(&only_a).await.unwrap(), 1);
    let all = store
        .notifications(&of(BotScope::All), true, None, 10)
        .await
        .unwrap();
    assert_eq!(all.unread_count, 2, "bot-b's stay unread");
}

#[tokio::test]
async fn a_setting_is_made_once_and_kept() {
    let (store, _dir) = fresh().await;
    let first = store
        .setting_or_insert("k", &|| "one".into())
        .await
        .unwrap();
    let second = store
        .setting_or_insert("k", &|| "two".into())
        .await
        .unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("one", "one"));
}

/// The counts as the sessions table says, for comparing with the kept ones.
async fn counted(store: &SqliteStore, bot: &str) -> app::model::SessionCounts {
    let (all, paused, waiting) = sqlx::query_as::<_, (i64, i64, i64)>(
        "select count(*), coalesce(sum(paused), 0), \
                coalesce(sum(paused = 1 and last_heard_on > coalesce(last_agent_reply_on, 0)), 0) \
         from sessions where bot_id = ?1",
    )
    .bind(bot)
    .fetch_one(&store.pool)
    .await
    .unwrap();
    app::model::SessionCounts {
        all,
        paused,
        waiting,
        ..Default::default()
    }
}

/// A list asked for by no person (a token's), counting closed handoffs from the start.
fn nobody() -> crate::store::ListFor {
    crate::store::ListFor {
        viewer: None,
        closed_since: chrono::DateTime::UNIX_EPOCH,
    }
}

#[tokio::test]
async fn kept_counts_follow_every_change_of_a_session() {
    let (store, _dir) = fresh().await;
    let check = |step: &'static str| {
        let store = store.clone();
        async move {
            let kept = store.session_counts("bot-a", None).await.unwrap();
            let counted = counted(&store, "bot-a").await;
            let kept_only = |c: &app::model::SessionCounts| (c.all, c.paused, c.waiting);
            assert_eq!(kept_only(&kept), kept_only(&counted), "after {step}");
            kept
        }
    };
    let a = store
        .record_user_message(&key("bot-a", "a"), &named("A"), &text("hi"))
        .await
        .unwrap()
        .session;
    let b = store
        .record_user_message(&key("bot-a", "b"), &named("B"), &text("hi"))
        .await
        .unwrap()
        .session;
    store
        .record_user_message(&key("bot-b", "c"), &named("C"), &text("hi"))
        .await
        .unwrap();
    assert_eq!(check("three first messages").await.all, 2);
    let pause = |paused| PauseChange::new(paused, Actor::bot(), None);
    store.set_paused(a.id, &pause(true)).await.unwrap();
    store.set_paused(b.id, &pause(true)).await.unwrap();
    let kept = check("two pauses").await;
    assert_eq!((kept.paused, kept.waiting), (2, 2));
    store
        .record_outgoing_message(a.id, Source::Agent, Some("Grace"), &text("here"))
        .await
        .unwrap();
    assert_eq!(check("an agent reply").await.waiting, 1);
    store
        .record_user_message(&key("bot-a", "a"), &Profile::default(), &text("thanks"))
        .await
        .unwrap();
    assert_eq!(check("the user answering").await.waiting, 2);
    store.set_paused(b.id, &pause(false)).await.unwrap();
    let kept = check("a resume").await;
    assert_eq!((kept.paused, kept.waiting), (1, 1));
    store.delete_session(a.id).await.unwrap();
    let kept = check("a deletion").await;
    assert_eq!((kept.all, kept.paused, kept.waiting), (1, 0, 0));
}

#[tokio::test]
async fn a_search_finds_the_same_sessions_whether_common_or_rare() {
    let (store, _dir) = fresh().await;
    // More sessions than the newest-first window, so rare names are found by the name index.
    let rows = super::sessions::SEARCH_WINDOW as i64 + 500;
    sqlx::query(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < ?1) \
         insert into sessions (bot_id, channel, user_id, thread_id, full_name, created_at, \
                               last_event_on) \
         select 'bot-a', 'api', 'user-' || i, '', \
                case when i % 1000 = 7 then 'Zoë Rare ' || i else 'Common Name ' || i end, i, i \
         from n",
    )
    .bind(rows)
    .execute(&store.pool)
    .await
    .unwrap();
    let find = |text: &'static str| {
        let store = store.clone();
        async move {
            let mut found = Vec::new();
            let mut cursor = None;
            loop {
                let query = SessionQuery {
                    search_text: Some(text.into()),
                    cursor,
                    limit: Some(50),
                    ..Default::default()
                };
                let page = store.sessions("bot-a", &query, &nobody()).await.unwrap();
                found.extend(page.sessions.iter().map(|s| s.user_id.clone()));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return found,
                }
            }
        }
    };
    // Oldest of the rare ones is far outside the window of the newest 2,000.
    assert_eq!(find("zoë rare").await, ["user-2007", "user-1007", "user-7"]);
    // User ids too: user-77 and user-770 to user-779, newest first.
    let mut ids: Vec<String> = (770..780).rev().map(|i| format!("user-{i}")).collect();
    ids.push("user-77".into());
    assert_eq!(find("ER-77").await, ids);
    let common = find("common name").await;
    assert_eq!(common.len() as i64, rows - 3);
    assert_eq!(common.first().map(String::as_str), Some("user-2500"));
    assert_eq!(find("no one").await, Vec::<String>::new());
    assert_eq!(find("\"").await, Vec::<String>::new());
}

/// Rows of a full-text table matching `query`.
async fn matching(store: &SqliteStore, table: &str, query: &str) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "select rowid from {table} where {table} match ?1 order by rowid"
    ))
    .bind(query)
    .fetch_all(&store.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn what_one_transaction_adds_renames_and_deletes_is_indexed_exactly() {
    let (store, _dir) = fresh().await;
    // Indexed row by row before: written by the writer in a transaction of its own.
    let old = store
        .record_user_message(
            &key("bot-a", "old"),
            &named("Olden Person"),
            &text("ancient words"),
        )
        .await
        .unwrap();
    let old_id = old.session.id;
    // One transaction: rows added, one renamed, one deleted before the index has them, and the
    // indexed one deleted too.
    struct Mixed(i64);
    #[async_trait::async_trait]
    impl Change for Mixed {
        type Output = steps::Recorded;
        async fn apply(&self, tx: &mut dyn WriteTx) -> Result<steps::Recorded> {
            let at = now_ms();
            let admin = Actor::new(ActorKind::Agent, None, "admin");
            let kept = steps::user_message(
                tx,
                &key("bot-a", "kept"),
                &named("Kept Person"),
                &text("fresh kept words"),
                at,
            )
            .await?;
            let gone = steps::user_message(
                tx,
                &key("bot-a", "gone"),
                &named("Gone Person"),
                &text("fresh gone words"),
                at,
            )
            .await?;
            steps::update_profile(tx, kept.session.id, &named("Renamed Person"), at).await?;
            steps::delete_session(tx, gone.session.id, &admin, at).await?;
            steps::delete_session(tx, self.0, &admin, at).await?;
            Ok(kept)
        }
    }
    let kept = apply(&store, Mixed(old_id)).await.unwrap();
    for table in ["messages_fts", "session_names"] {
        sqlx::query(&format!(
            "insert into {table} ({table}, rank) values ('integrity-check', 1)"
        ))
        .execute(&store.pool)
        .await
        .unwrap_or_else(|e| panic!("{table} matches its content: {e}"));
    }
    assert_eq!(
        matching(&store, "messages_fts", "fresh").await,
        [kept.message.id]
    );
    assert_eq!(
        matching(&store, "messages_fts", "ancient").await,
        Vec::<i64>::new()
    );
    assert_eq!(
        matching(&store, "session_names", "\"Renamed\"").await,
        [kept.session.id]
    );
    for gone in ["\"Kept Person\"", "\"Gone Person\"", "\"Olden\""] {
        assert_eq!(
            matching(&store, "session_names", gone).await,
            Vec::<i64>::new()
        );
    }
    // Writes that do not go through the writer are indexed by the triggers as before.
    sqlx::query(
        "insert into sessions (bot_id, channel, user_id, thread_id, full_name, created_at, \
                               last_event_on) values ('bot-a', 'api', 'by-sql', '', 'Seeded One', 1, 1)",
    )
    .execute(&store.pool)
    .await
    .unwrap();
    assert_eq!(
        matching(&store, "session_names", "\"Seeded\"").await.len(),
        1
    );
}

#[tokio::test]
async fn a_notification_for_one_person_is_read_by_them_alone() {
    use crate::store::accounts::{AccountStore, NewUser};
    let (store, _dir) = fresh().await;
    let mut ids = Vec::new();
    for email in ["ada@test.local", "bea@test.local"] {
        let new = NewUser {
            email: email.into(),
            name: email.into(),
            password_hash: "not a real hash".into(),
            role: app::account::Role::Agent,
            bots: vec!["bot-a".into()],
        };
        ids.push(store.create_user(&new).await.unwrap().viewer.id);
    }
    for (message, recipient_id) in [("for all", None), ("for ada", Some(ids[0]))] {
        let new = NewNotification {
            message: message.into(),
            level: Level::Info,
            url: None,
            session_id: None,
            recipient_id,
        };
        store.create_notification("bot-a", &new).await.unwrap();
    }
    let ada = Reader {
        bots: BotScope::All,
        person: Some(ids[0]),
    };
    let bea = Reader {
        bots: BotScope::All,
        person: Some(ids[1]),
    };
    let texts = |page: crate::store::NotificationPage| {
        page.notifications
            .into_iter()
            .map(|n| n.message)
            .collect::<Vec<_>>()
    };
    let for_ada = store.notifications(&ada, false, None, 10).await.unwrap();
    assert_eq!(for_ada.unread_count, 2);
    assert_eq!(texts(for_ada), ["for ada", "for all"]);
    let for_bea = store.notifications(&bea, false, None, 10).await.unwrap();
    assert_eq!(for_bea.unread_count, 1);
    assert_eq!(texts(for_bea), ["for all"]);
    // Reading all of Bea's leaves Ada's own unread.
    assert_eq!(store.mark_all_notifications_read(&bea).await.unwrap(), 1);
    let unread = store.notifications(&ada, true, None, 10).await.unwrap();
    assert_eq!(texts(unread), ["for ada"]);
}
