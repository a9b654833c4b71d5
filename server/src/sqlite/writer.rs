//! Group commit. One thread owns the connection that writes what clients see; writes that arrive
//! while a transaction is being committed wait together and share the next one, and each is
//! answered only after that transaction has committed: an answered write is on disk. A write that
//! fails takes nothing else with it: the transaction is rolled back and the others run again
//! without it (rare: the engine checks what it can first; a savepoint per write would be the
//! obvious tool, but each one makes the search index flush a segment, which halved throughput).
//! The events of a committed transaction go to the commit hook in commit order, before anyone
//! is answered.
//!
//! A [`Bracket`] of statements opens and closes every shared transaction: the store uses it to
//! index what the transaction added for search once, at its end.
//!
//! The thread calls SQLite directly (rusqlite, the same library the readers' sqlx pool links):
//! a write is a handful of statements, and handing each statement to another thread and back,
//! as an async driver does, cost more than running it.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use app::model::Event;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::{CommitHook, Durability, Result, StoreError};

/// Writes one transaction holds at most; more wait for the next.
const MAX_BATCH: usize = 256;
/// Writes that may wait for the writer before callers wait to hand theirs over.
const QUEUE: usize = 4096;

/// A write's answer and the events it appended, by bot, for the commit hook.
pub struct Written<T> {
    pub value: T,
    pub events: Vec<(String, Vec<Event>)>,
}

impl<T> Written<T> {
    #[cfg(test)]
    fn new(value: T, bot_id: impl Into<String>, events: Vec<Event>) -> Self {
        Written {
            value,
            events: vec![(bot_id.into(), events)],
        }
    }
}

/// How the shared transaction ended (a failed commit fails every write in it).
type Ending = std::result::Result<(), String>;

/// A write waiting for its transaction.
trait Job: Send {
    /// Runs the write (again, after a rollback); answers whether it succeeded.
    fn run(&mut self, db: &mut Connection) -> bool;
    /// Publishes its events (when committed) and answers its caller.
    fn finish(self: Box<Self>, ending: &Ending, hook: Option<&CommitHook>);
}

struct Pending<T, F> {
    write: F,
    result: Option<Result<Written<T>>>,
    answer: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: Fn(&mut Connection) -> Result<Written<T>> + Send,
{
    fn run(&mut self, db: &mut Connection) -> bool {
        let result = (self.write)(db);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, ending: &Ending, hook: Option<&CommitHook>) {
        let result = match (ending, self.result) {
            (_, None) => Err(StoreError::Commit("the write was not run".into())),
            (_, Some(Err(e))) => Err(e),
            (Ok(()), Some(Ok(written))) => {
                if let Some(hook) = hook {
                    for (bot_id, events) in written.events.iter().filter(|(_, e)| !e.is_empty()) {
                        hook(bot_id, events);
                    }
                }
                Ok(written.value)
            }
            (Err(e), Some(Ok(_))) => Err(StoreError::Commit(e.clone())),
        };
        // A caller that went away still had its write done.
        let _ = self.answer.send(result);
    }
}

enum Command {
    Write(Box<dyn Job>),
    /// Finish what came before, close the connection, then answer.
    Stop(oneshot::Sender<()>),
}

/// Statements run at the start of every shared transaction and at its end, before the commit.
#[derive(Clone, Default)]
pub struct Bracket {
    pub opening: Vec<&'static str>,
    pub closing: Vec<&'static str>,
}

#[derive(Clone)]
pub struct Writer {
    commands: mpsc::Sender<Command>,
    hook: Arc<OnceLock<CommitHook>>,
}

impl Writer {
    /// Opens the writing connection on the database file and starts its thread.
    pub fn start(path: &Path, durability: Durability, bracket: Bracket) -> Result<Self> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.set_prepared_statement_cache_capacity(64);
        let synchronous = match durability {
            Durability::Full => "full",
            Durability::Normal => "normal",
        };
        connection.execute_batch(&format!(
            "pragma journal_mode = wal; pragma synchronous = {synchronous}; \
             pragma foreign_keys = on; pragma wal_autocheckpoint = 0;"
        ))?;
        let (commands, receiver) = mpsc::channel(QUEUE);
        let hook = Arc::new(OnceLock::new());
        let shared = hook.clone();
        std::thread::Builder::new()
            .name("hitl-writer".into())
            .spawn(move || serve(connection, receiver, shared, bracket))
            .map_err(|e| StoreError::Commit(format!("cannot start the writer: {e}")))?;
        Ok(Writer { commands, hook })
    }

    /// Sets where committed events go (once; later calls are ignored).
    pub fn on_commit(&self, hook: CommitHook) {
        let _ = self.hook.set(hook);
    }

    /// Runs `write` in the next shared transaction; answers after it has committed. `write` may
    /// run more than once (after a rollback caused by another write): it only touches the
    /// database.
    pub async fn write<T, F>(&self, write: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&mut Connection) -> Result<Written<T>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job = Box::new(Pending {
            write,
            result: None,
            answer,
        });
        self.commands
            .send(Command::Write(job))
            .await
            .map_err(|_| StoreError::Commit("the database is closed".into()))?;
        answered
            .await
            .map_err(|_| StoreError::Commit("the write was not done".into()))?
    }

    /// Lets the writes already handed over finish, then closes the connection.
    pub async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Stop(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }
}

fn serve(
    mut connection: Connection,
    mut commands: mpsc::Receiver<Command>,
    hook: Arc<OnceLock<CommitHook>>,
    bracket: Bracket,
) {
    while let Some(first) = commands.blocking_recv() {
        let mut jobs = Vec::new();
        let mut stop = None;
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Write(job) if stop.is_none() => jobs.push(job),
                // Dropped: its caller is told the write was not done.
                Command::Write(_) => {}
                Command::Stop(done) => stop = Some(done),
            }
            if jobs.len() < MAX_BATCH {
                next = commands.try_recv().ok();
            }
        }
        if !jobs.is_empty() {
            commit_together(&mut connection, &bracket, jobs, hook.get());
        }
        if let Some(done) = stop {
            if let Err((_, e)) = connection.close() {
                tracing::warn!(error = %e, "closing the writing connection failed");
            }
            let _ = done.send(());
            return;
        }
    }
}

/// One transaction for all `jobs`; then publishing and answers.
fn commit_together(
    db: &mut Connection,
    bracket: &Bracket,
    mut jobs: Vec<Box<dyn Job>>,
    hook: Option<&CommitHook>,
) {
    let mut failed = Vec::new();
    let ending = loop {
        // `immediate`: the write lock is taken now, not half-way through a write.
        if let Err(e) = execute(db, "begin immediate") {
            break Err(e.to_string());
        }
        if let Err(e) = execute_all(db, &bracket.opening) {
            let _ = execute(db, "rollback");
            break Err(e.to_string());
        }
        match jobs.iter_mut().position(|job| !job.run(db)) {
            Some(at) => {
                if let Err(e) = execute(db, "rollback") {
                    break Err(e.to_string());
                }
                failed.push(jobs.remove(at));
            }
            None => match execute_all(db, &bracket.closing).and_then(|()| execute(db, "commit")) {
                Ok(()) => break Ok(()),
                Err(e) => {
                    let _ = execute(db, "rollback");
                    break Err(e.to_string());
                }
            },
        }
    };
    if let Err(e) = &ending {
        tracing::error!(error = %e, writes = jobs.len(), "a shared transaction failed");
    }
    for job in failed {
        job.finish(&ending, None);
    }
    for job in jobs {
        job.finish(&ending, hook);
    }
}

fn execute(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn execute_all(connection: &Connection, statements: &[&str]) -> rusqlite::Result<()> {
    statements
        .iter()
        .try_for_each(|sql| execute(connection, sql))
}

#[cfg(test)]
impl Writer {
    /// Writes handed over and not yet taken by the writer thread.
    fn queued(&self) -> usize {
        self.commands.max_capacity() - self.commands.capacity()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use super::*;

    fn insert(
        x: i64,
        v: Option<&'static str>,
        runs: Arc<AtomicUsize>,
    ) -> impl Fn(&mut Connection) -> Result<Written<i64>> {
        move |db| {
            runs.fetch_add(1, Ordering::SeqCst);
            db.execute(
                "insert into t (x, v) values (?1, ?2)",
                rusqlite::params![x, v],
            )?;
            Ok(Written::new(
                x,
                format!("bot{x}"),
                vec![Event {
                    seq: x,
                    kind: app::model::EventKind::Resync { epoch: None },
                }],
            ))
        }
    }

    #[tokio::test]
    async fn writes_that_arrive_together_share_a_transaction_and_a_failure_takes_nothing_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("create table t (x integer primary key, v text not null)")
            .unwrap();
        let writer = Writer::start(&path, Durability::Full, Bracket::default()).unwrap();
        let published = Arc::new(Mutex::new(Vec::new()));
        let seen = published.clone();
        writer.on_commit(Arc::new(move |bot, events| {
            seen.lock().unwrap().push((bot.to_string(), events.len()));
        }));

        // The first write holds the writer thread until the next three are queued behind it.
        let (open, gate) = std::sync::mpsc::channel::<()>();
        let gate = Mutex::new(gate);
        let (started, mut running) = mpsc::unbounded_channel();
        let first = {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .write(move |db| {
                        let _ = started.send(());
                        let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(10));
                        db.execute("insert into t (x, v) values (1, 'a')", [])?;
                        Ok(Written::new(1, "bot1", Vec::new()))
                    })
                    .await
            })
        };
        running.recv().await.unwrap();
        let runs: Vec<_> = (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
        let spawn = |x, v, runs: &Arc<AtomicUsize>| {
            let (writer, job) = (writer.clone(), insert(x, v, runs.clone()));
            tokio::spawn(async move { writer.write(job).await })
        };
        let second = spawn(2, Some("b"), &runs[0]);
        let broken = spawn(9, None, &runs[1]);
        let third = spawn(3, Some("c"), &runs[2]);
        while writer.queued() < 3 {
            tokio::task::yield_now().await;
        }
        open.send(()).unwrap();

        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(second.await.unwrap().unwrap(), 2);
        assert!(matches!(broken.await.unwrap(), Err(StoreError::Backend(_))));
        assert_eq!(third.await.unwrap().unwrap(), 3);
        // The failure rolled the shared transaction back; the write before it ran again.
        let counts: Vec<_> = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
        assert_eq!(counts, [2, 1, 1]);
        let rows: Vec<i64> = Connection::open(&path)
            .unwrap()
            .prepare("select x from t order by x")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows, [1, 2, 3]);
        // Events of committed writes only, in commit order.
        assert_eq!(
            *published.lock().unwrap(),
            [("bot2".to_string(), 1), ("bot3".to_string(), 1)]
        );
        writer.stop().await;
    }
}
