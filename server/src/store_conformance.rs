//! The store contract, checked on every adapter: each test runs on a fresh SQLite file and on
//! a fresh PostgreSQL database, through the port alone.

mod several_instances;
mod sqlite_search;

use std::ops::Deref;
use std::sync::Arc;

use app::model::{
    Actor, ActorKind, Content, Event, EventKind, Level, Message, Notification, Profile,
    SessionOverview, SessionQuery, Source,
};

use crate::engine::clock::now_ms;
use crate::engine::steps::{self, PauseChange};
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::store::write::{apply, Change, WriteTx};
use crate::store::{BotScope, Durability, NewNotification, Reader, Result, SessionKey, Store};

/// What a write stored, with the events it appended.
pub(crate) struct Written {
    pub session: SessionOverview,
    pub message: Option<Message>,
    pub events: Vec<Event>,
}

impl Written {
    fn message(&self) -> &Message {
        self.message.as_ref().expect("a message was written")
    }
}

/// One of the engine's steps as a change of its own.
pub(crate) enum Step {
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
impl Harness {
    pub(crate) async fn step(&self, step: Step) -> Result<Written> {
        let mut before = Vec::new();
        for bot in BOTS {
            before.push(self.event_bounds(bot).await?.1);
        }
        let (session, message) = apply(self.store.as_ref(), step).await?;
        // Each bot numbers its own events, so a step's are read bot by bot.
        let mut events = Vec::new();
        for (bot, since) in BOTS.into_iter().zip(before) {
            events.extend(self.events_since(bot, since, 100).await?);
        }
        Ok(Written {
            session: session.unwrap_or_else(|| panic!("no session")),
            message,
            events,
        })
    }

    pub(crate) async fn record_user_message(
        &self,
        key: &SessionKey,
        profile: &Profile,
        content: &Content,
    ) -> Result<Written> {
        self.step(Step::User(key.clone(), profile.clone(), content.clone()))
            .await
    }

    pub(crate) async fn record_outgoing_message(
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

    pub(crate) async fn set_paused(
        &self,
        session_id: i64,
        change: &PauseChange,
    ) -> Result<Written> {
        self.step(Step::Pause(session_id, change.clone())).await
    }

    pub(crate) async fn delete_session(&self, session_id: i64) -> Result<()> {
        apply(self.store.as_ref(), Step::Delete(session_id))
            .await
            .map(|_| ())
    }

    pub(crate) async fn create_notification(
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
        apply(self.store.as_ref(), Notify(bot_id.to_string(), new.clone())).await
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

impl Harness {
    pub(crate) async fn mark_notification_read(
        &self,
        reader: &Reader,
        id: i64,
    ) -> Result<Option<Notification>> {
        Ok(apply(
            self.store.as_ref(),
            ReadNotifications(reader.clone(), Some(id)),
        )
        .await?
        .1)
    }

    pub(crate) async fn mark_all_notifications_read(&self, reader: &Reader) -> Result<u64> {
        Ok(
            apply(self.store.as_ref(), ReadNotifications(reader.clone(), None))
                .await?
                .0 as u64,
        )
    }
}

/// A reader of the bots in `bots` who is nobody in particular (a token's view).
fn of(bots: BotScope) -> Reader {
    Reader { bots, person: None }
}

fn token(name: &str) -> Actor {
    Actor::new(ActorKind::Token, None, name)
}

/// The bots every test's store holds.
const BOTS: [&str; 2] = ["bot-a", "bot-b"];

/// A store under test, with what keeps its database alive.
#[derive(Clone)]
pub(crate) struct Harness {
    store: Arc<dyn Store>,
    raw: Raw,
    /// The database's URL.
    url: String,
    _dir: Option<Arc<tempfile::TempDir>>,
}

/// The adapter's own connection, for what the port does not read (history rows).
#[derive(Clone)]
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Deref for Harness {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        self.store.as_ref()
    }
}

impl Harness {
    pub(crate) async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = SqliteStore::open(&url, Durability::Normal)
            .await
            .expect("open store");
        Harness::with_bots(store.pool().clone().into(), Arc::new(store), url, Some(dir)).await
    }

    pub(crate) async fn postgres() -> Harness {
        let url = crate::pg_cluster::shared().fresh_database().await;
        let store = PgStore::open(&url, Durability::Normal)
            .await
            .expect("open store");
        Harness::with_bots(store.pool().clone().into(), Arc::new(store), url, None).await
    }

    async fn with_bots(
        raw: Raw,
        store: Arc<dyn Store>,
        url: String,
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        for (id, name) in BOTS.into_iter().zip(["A", "B"]) {
            store.upsert_bot(id, name).await.unwrap();
        }
        Harness {
            store,
            raw,
            url,
            _dir: dir.map(Arc::new),
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The pool of a PostgreSQL harness.
    pub(crate) fn pg_pool(&self) -> &sqlx::PgPool {
        match &self.raw {
            Raw::Postgres(pool) => pool,
            Raw::Sqlite(_) => panic!("not a PostgreSQL store"),
        }
    }

    /// The SQLite pool of a SQLite harness, for the tests of what only SQLite has.
    pub(crate) fn sqlite_pool(&self) -> &sqlx::SqlitePool {
        match &self.raw {
            Raw::Sqlite(pool) => pool,
            Raw::Postgres(_) => panic!("not a SQLite store"),
        }
    }

    /// A count of rows by SQL with one id parameter, written `?1` (PostgreSQL's `$1`).
    async fn count(&self, sql: &str, id: i64) -> i64 {
        match &self.raw {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await,
            Raw::Postgres(pool) => {
                sqlx::query_scalar(&sql.replace("?1", "$1"))
                    .bind(id)
                    .fetch_one(pool)
                    .await
            }
        }
        .unwrap()
    }
}

impl From<sqlx::SqlitePool> for Raw {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Raw::Sqlite(pool)
    }
}

impl From<sqlx::PgPool> for Raw {
    fn from(pool: sqlx::PgPool) -> Self {
        Raw::Postgres(pool)
    }
}

pub(crate) fn key(bot: &str, user: &str) -> SessionKey {
    SessionKey {
        bot_id: bot.into(),
        channel: "api".into(),
        user_id: user.into(),
        thread_id: None,
    }
}

pub(crate) fn text(t: &str) -> Content {
    Content::Text { text: t.into() }
}

pub(crate) fn named(name: &str) -> Profile {
    Profile {
        full_name: Some(name.into()),
        avatar_url: None,
    }
}

async fn the_first_message_creates_the_session_and_later_ones_reuse_it(store: Harness) {
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

async fn a_newer_profile_replaces_the_stored_one(store: Harness) {
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

async fn threads_and_bots_keep_sessions_apart(store: Harness) {
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

async fn pausing_is_idempotent_and_leaves_one_system_line_and_history_row(store: Harness) {
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
    let history = store
        .count(
            "select count(*) from pause_history where session_id = ?1",
            s.id,
        )
        .await;
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

async fn pausing_an_unknown_session_is_not_found(store: Harness) {
    let change = PauseChange::new(true, token("api"), None);
    assert!(matches!(
        store.set_paused(999, &change).await,
        Err(crate::store::StoreError::NotFound("session"))
    ));
}

async fn an_agent_reply_clears_the_unread_count(store: Harness) {
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

async fn the_session_list_pages_by_cursor_newest_first_without_gaps(store: Harness) {
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

async fn search_matches_name_or_user_id_and_takes_wildcards_literally(store: Harness) {
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

async fn paused_only_lists_paused_sessions(store: Harness) {
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

async fn messages_page_backwards_and_come_oldest_first(store: Harness) {
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

async fn events_are_logged_in_order_and_replayed_per_bot(store: Harness) {
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
    let (oldest, latest) = store.event_bounds("bot-a").await.unwrap();
    assert_eq!(oldest, a.events[0].seq);
    assert_eq!(latest, a2.events.last().unwrap().seq);
    let replayed_b: Vec<_> = store
        .events_since("bot-b", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(
        replayed_b,
        b.events.iter().map(|e| e.seq).collect::<Vec<_>>()
    );
    assert!(matches!(
        replayed_kind(&store).await,
        EventKind::SessionCreated { .. }
    ));
}

async fn replayed_kind(store: &Harness) -> EventKind {
    store
        .events_since("bot-a", 0, 1)
        .await
        .unwrap()
        .remove(0)
        .kind
}

async fn notifications_list_newest_first_and_can_be_marked_read(store: Harness) {
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

async fn a_scoped_reader_sees_and_marks_only_their_bots_notifications(store: Harness) {
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

async fn a_setting_is_made_once_and_kept(store: Harness) {
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

async fn a_setting_is_swapped_only_from_what_it_was(store: Harness) {
    store.replace_setting("k", "one").await.unwrap();
    assert_eq!(store.swap_setting("k", "one", "two").await.unwrap(), "two");
    // A second swap from the old value finds the first one's and leaves it.
    assert_eq!(
        store.swap_setting("k", "one", "three").await.unwrap(),
        "two"
    );
}

/// The counts as the session list says, for comparing with the kept ones.
async fn counted(store: &Harness, bot: &str) -> app::model::SessionCounts {
    let mut counts = app::model::SessionCounts::default();
    let mut cursor = None;
    loop {
        let query = SessionQuery {
            cursor,
            limit: Some(200),
            ..Default::default()
        };
        let page = store.sessions(bot, &query, &nobody()).await.unwrap();
        for s in &page.sessions {
            counts.all += 1;
            counts.paused += i64::from(s.is_paused);
            counts.waiting += i64::from(s.waiting);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return counts,
        }
    }
}

/// A list asked for by no person (a token's), counting closed handoffs from the start.
pub(crate) fn nobody() -> crate::store::ListFor {
    crate::store::ListFor {
        viewer: None,
        closed_since: chrono::DateTime::UNIX_EPOCH,
    }
}

async fn kept_counts_follow_every_change_of_a_session(store: Harness) {
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

async fn a_notification_for_one_person_is_read_by_them_alone(store: Harness) {
    use crate::store::accounts::NewUser;
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

async fn a_search_finds_words_inside_addresses_links_and_markup(store: Harness) {
    use crate::store::history::Search;
    for (user, said) in [
        ("u1", "write to ada@example.com please"),
        ("u2", "see https://shop.test/refund-policy now"),
        ("u3", "it says <b>Zoë</b> twice"),
        ("u4", "nothing to find here"),
    ] {
        store
            .record_user_message(&key("bot-a", user), &Profile::default(), &text(said))
            .await
            .unwrap();
    }
    let found = |q: &'static str| {
        let store = store.clone();
        async move {
            let search = Search {
                query: app::history::HistoryQuery {
                    q: Some(q.into()),
                    ..Default::default()
                },
                from_ms: None,
                to_ms: None,
            };
            let page = store.search(&BotScope::All, &search).await.unwrap();
            page.results
                .into_iter()
                .map(|hit| {
                    let marked: Vec<String> = hit
                        .snippet_parts
                        .iter()
                        .filter(|p| p.hit)
                        .map(|p| p.text.clone())
                        .collect();
                    (hit.user_id, hit.snippet, marked)
                })
                .collect::<Vec<_>>()
        }
    };
    let hits = found("example").await;
    assert_eq!(
        hits,
        [(
            "u1".to_string(),
            "write to ada@example.com please".to_string(),
            vec!["example".to_string()]
        )]
    );
    let hits = found("refund").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].1, "see https://shop.test/refund-policy now");
    assert_eq!(hits[0].2, ["refund"]);
    let hits = found("zoe").await;
    assert_eq!(hits.len(), 1, "accents and tags fold away: {hits:?}");
    assert_eq!(hits[0].2, ["Zoë"]);
}

async fn each_instance_counts_its_consoles_of_a_person_and_forgets_old_ones(store: Harness) {
    use crate::store::accounts::NewUser;
    use crate::store::presence::{PresenceFacts, Seen};
    use app::team::AgentStatus;
    let new = NewUser {
        email: "ada@test.local".into(),
        name: "Ada".into(),
        password_hash: "not a real hash".into(),
        role: app::account::Role::Agent,
        bots: vec!["bot-a".into()],
    };
    let ada = store.create_user(&new).await.unwrap().viewer.id;
    struct Counted(Vec<(&'static str, i64, i64)>);
    #[async_trait::async_trait]
    impl Change for Counted {
        type Output = PresenceFacts;
        async fn apply(&self, tx: &mut dyn WriteTx) -> Result<PresenceFacts> {
            let ada = self.0[0].1;
            for (instance, delta, at) in &self.0[1..] {
                tx.count_consoles(instance, ada, *delta, *at).await?;
            }
            tx.presence_of(ada).await
        }
    }
    let counted = |steps: Vec<(&'static str, i64, i64)>| {
        let mut all = vec![("", ada, 0)];
        all.extend(steps);
        apply(store.store.as_ref(), Counted(all))
    };
    let facts = counted(vec![]).await.unwrap();
    assert_eq!(facts, PresenceFacts::unknown(ada), "nothing known yet");

    // Two consoles on one instance, one on another; a close more than were open stays at none.
    let facts = counted(vec![("one", 1, 10), ("one", 1, 20), ("two", 1, 30)])
        .await
        .unwrap();
    assert_eq!(
        facts.seen,
        [
            Seen {
                consoles: 2,
                at: 20
            },
            Seen {
                consoles: 1,
                at: 30
            }
        ]
    );
    let facts = counted(vec![("two", -1, 40), ("two", -1, 50)])
        .await
        .unwrap();
    assert_eq!(
        facts.seen[1],
        Seen {
            consoles: 0,
            at: 50
        }
    );

    struct Shown(i64);
    #[async_trait::async_trait]
    impl Change for Shown {
        type Output = ();
        async fn apply(&self, tx: &mut dyn WriteTx) -> Result<()> {
            tx.set_shown_status(self.0, "busy", 60).await?;
            tx.set_agent_status(self.0, "busy").await?;
            // Instance one still sees its consoles' people; what two saw before 55 is forgotten.
            tx.see_consoles("one", 70, 55).await
        }
    }
    apply(store.store.as_ref(), Shown(ada)).await.unwrap();
    let all = store.presence().await.unwrap();
    assert_eq!(
        all,
        [PresenceFacts {
            user_id: ada,
            chosen: AgentStatus::Busy,
            shown: AgentStatus::Busy,
            shown_at: Some(60),
            capacity: None,
            seen: vec![Seen {
                consoles: 2,
                at: 70
            }],
        }]
    );
}

async fn attempts_are_counted_per_key_since_a_time_and_forgotten(store: Harness) {
    let keys = ["address:10.0.0.1".to_string(), "account:ada".to_string()];
    store.record_attempt(&keys, 100, 0).await.unwrap();
    store.record_attempt(&keys[..1], 200, 0).await.unwrap();
    assert_eq!(
        store.attempts_since("address:10.0.0.1", 100).await.unwrap(),
        2
    );
    assert_eq!(
        store.attempts_since("address:10.0.0.1", 101).await.unwrap(),
        1
    );
    assert_eq!(store.attempts_since("account:ada", 0).await.unwrap(), 1);
    store.clear_attempts("account:ada").await.unwrap();
    assert_eq!(store.attempts_since("account:ada", 0).await.unwrap(), 0);
    // Recording forgets what is older than asked.
    store.record_attempt(&keys[1..], 300, 150).await.unwrap();
    assert_eq!(
        store.attempts_since("address:10.0.0.1", 0).await.unwrap(),
        1
    );
}

/// Each test once per adapter.
macro_rules! on_every_store {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::Harness::sqlite().await).await
            })*
        }
        mod on_postgres {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::Harness::postgres().await).await
            })*
        }
    };
}

on_every_store!(
    a_search_finds_words_inside_addresses_links_and_markup,
    the_first_message_creates_the_session_and_later_ones_reuse_it,
    a_newer_profile_replaces_the_stored_one,
    threads_and_bots_keep_sessions_apart,
    pausing_is_idempotent_and_leaves_one_system_line_and_history_row,
    pausing_an_unknown_session_is_not_found,
    an_agent_reply_clears_the_unread_count,
    the_session_list_pages_by_cursor_newest_first_without_gaps,
    search_matches_name_or_user_id_and_takes_wildcards_literally,
    paused_only_lists_paused_sessions,
    messages_page_backwards_and_come_oldest_first,
    events_are_logged_in_order_and_replayed_per_bot,
    notifications_list_newest_first_and_can_be_marked_read,
    a_scoped_reader_sees_and_marks_only_their_bots_notifications,
    a_setting_is_made_once_and_kept,
    a_setting_is_swapped_only_from_what_it_was,
    kept_counts_follow_every_change_of_a_session,
    a_notification_for_one_person_is_read_by_them_alone,
    each_instance_counts_its_consoles_of_a_person_and_forgets_old_ones,
    attempts_are_counted_per_key_since_a_time_and_forgotten,
);
