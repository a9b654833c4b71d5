//! Group commit. One thread owns the connection that writes what clients see; writes that arrive
//! while a transaction is being committed wait together and share the next one. Each write runs
//! in a savepoint of its own (one that fails takes nothing else with it), and each is answered
//! only after the shared transaction has committed: an answered write is on disk. The events of
//! a committed transaction go to the commit hook in commit order, before anyone is answered.
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

use super::Durability;
use crate::store::{Result, StoreError};

/// Writes one transaction holds at most; more wait for the next.
const MAX_BATCH: usize = 256;
/// Writes that may wait for the writer before callers wait to hand theirs over.
const QUEUE: usize = 4096;

/// Called after each commit with a write's bot and events (the engine publishes them).
pub type CommitHook = Arc<dyn Fn(&str, &[Event]) + Send + Sync>;

/// A write's answer and the events it appended, for the commit hook.
pub struct Written<T> {
    pub value: T,
    pub bot_id: String,
    pub events: Vec<Event>,
}

impl<T> Written<T> {
    pub fn new(value: T, bot_id: impl Into<String>, events: Vec<Event>) -> Self {
        Written {
            value,
            bot_id: bot_id.into(),
            events,
        }
    }
}

/// How the shared transaction ended (a failed commit fails every write in it).
type Ending = std::result::Result<(), String>;
/// What is left once the transaction has ended: publishing (when committed) and answering.
type Finish = Box<dyn FnOnce(&Ending, Option<&CommitHook>) + Send>;
/// A write: runs on the writer's connection; answers whether it succeeded and how to finish.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Finish) + Send>;

enum Command {
    Write(Job),
    /// Finish what came before, close the connection, then answer.
    Stop(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Writer {
    commands: mpsc::Sender<Command>,
    hook: Arc<OnceLock<CommitHook>>,
}

impl Writer {
    /// Opens the writing connection on the database file and starts its thread.
    pub fn start(path: &Path, durability: Durability) -> Result<Self> {
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
            .spawn(move || serve(connection, receiver, shared))
            .map_err(|e| StoreError::Commit(format!("cannot start the writer: {e}")))?;
        Ok(Writer { commands, hook })
    }

    /// Sets where committed events go (once; later calls are ignored).
    pub fn on_commit(&self, hook: CommitHook) {
        let _ = self.hook.set(hook);
    }

    /// Runs `write` in the next shared transaction; answers after it has committed.
    pub async fn write<T, F>(&self, write: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Written<T>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let result = write(connection);
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |ending, hook| {
                let result = match (ending, result) {
                    (Ok(()), Ok(written)) => {
                        if let (Some(hook), false) = (hook, written.events.is_empty()) {
                            hook(&written.bot_id, &written.events);
                        }
                        Ok(written.value)
                    }
                    (_, Err(e)) => Err(e),
                    (Err(e), Ok(_)) => Err(StoreError::Commit(e.clone())),
                };
                // A caller that went away still had its write done.
                let _ = answer.send(result);
            });
            (ok, finish)
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
    connection: Connection,
    mut commands: mpsc::Receiver<Command>,
    hook: Arc<OnceLock<CommitHook>>,
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
            commit_together(&connection, jobs, hook.get());
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

/// One transaction for all `jobs`, each in its own savepoint; then publishing and answers.
fn commit_together(connection: &Connection, jobs: Vec<Job>, hook: Option<&CommitHook>) {
    let mut finishes = Vec::with_capacity(jobs.len());
    // `immediate`: the write lock is taken now, not half-way through a write.
    let ending = match execute(connection, "begin immediate") {
        Ok(()) => {
            for job in jobs {
                if let Err(e) = execute(connection, "savepoint w") {
                    tracing::error!(error = %e, "savepoint failed");
                    break;
                }
                let (ok, finish) = job(connection);
                if !ok {
                    let _ = execute(connection, "rollback to w");
                }
                let _ = execute(connection, "release w");
                finishes.push(finish);
            }
            match execute(connection, "commit") {
                Ok(()) => Ok(()),
                Err(e) => {
                    let _ = execute(connection, "rollback");
                    Err(e.to_string())
                }
            }
        }
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = &ending {
        tracing::error!(error = %e, writes = finishes.len(), "a shared transaction failed");
    }
    for finish in finishes {
        finish(&ending, hook);
    }
}

fn execute(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([])?;
    Ok(())
}
