//! Putting the server together: database, bots, tokens, engine, routes; and serving them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use std::collections::HashMap;

use crate::accounts::throttle::Throttle;
use crate::accounts::Accounts;
use crate::bots::{self, Bots};
use crate::bus::Bus;
use crate::channels::messenger::{self, Messenger};
use crate::channels::Outboxes;
use crate::config::Config;
use crate::engine::Engine;
use crate::http::{self, AppState, Auth};
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::store::{Durability, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("bot definitions: {0}")]
    Bots(#[from] bots::LoadError),
    #[error("unsupported database {0:?}: hitl stores its data in SQLite (sqlite://file)")]
    Database(String),
    #[error("accounts: {0}")]
    Accounts(String),
    #[error("leptos configuration: {0}")]
    Leptos(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// A built server, ready to serve.
/// The window of `--visitors-per-address`.
const VISITOR_WINDOW: Duration = Duration::from_secs(10 * 60);

pub struct Server {
    pub router: axum::Router,
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
    /// A token generated on this start, to be shown once.
    pub new_token: Option<String>,
    /// The first admin's email and generated password, created on this start, to be shown once.
    pub new_admin: Option<(String, String)>,
    stop: tokio::sync::watch::Sender<bool>,
}

pub async fn build(config: &Config) -> Result<Server, StartError> {
    let store = open_store(&config.database_url, config.durability).await?;
    let definitions = bots::load_definitions(&config.bots_dir)?;
    let mut stored_paused = Vec::new();
    for d in &definitions {
        let bot = store.upsert_bot(&d.id, &d.name).await?;
        if bot.paused {
            stored_paused.push(bot.id);
        }
    }
    let mut outboxes = Outboxes::default();
    let mut messengers = HashMap::new();
    for d in &definitions {
        if let Some(settings) = &d.messenger {
            let m = Messenger::start(settings.clone());
            outboxes.insert(&d.id, messenger::CHANNEL, m.clone());
            messengers.insert(d.id.clone(), m);
        }
    }
    let bots = Bots::new(definitions, |id| stored_paused.iter().any(|p| p == id));

    let accounts = Arc::new(Accounts::new(
        store.clone(),
        Duration::from_secs(config.session_idle_minutes * 60),
    ));
    let new_token = accounts
        .ensure_first_token(config.api_token.is_some())
        .await
        .map_err(|e| StartError::Accounts(e.to_string()))?;
    let new_admin = accounts
        .ensure_first_admin(Some(&config.admin_email), config.admin_password.as_deref())
        .await
        .map_err(|e| StartError::Accounts(e.to_string()))?;
    let bootstrap = config.api_token.as_deref().map(crate::secret::sha256_hex);
    let auth = Arc::new(Auth::new(bootstrap, accounts, config.secure_cookies));

    let engine = Arc::new(
        Engine::new(store.clone(), Bus::new(config.event_buffer.max(1)), bots)
            .with_presence_grace(Duration::from_secs(config.presence_grace_secs)),
    );
    engine.set_outboxes(outboxes);
    if config.new_log_epoch {
        let epoch = engine.new_log_epoch().await?;
        tracing::info!(epoch, "the event log has a new epoch: consoles start over");
    }
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let every = Duration::from_secs(config.retention_every_minutes.max(1) * 60);
    crate::engine::retention::spawn(engine.clone(), every, stopping.clone());
    crate::engine::outbox::spawn_sender(engine.clone(), stopping.clone());
    crate::engine::dispatch::spawn(engine.clone(), stopping.clone());
    crate::engine::timers::spawn(engine.clone(), stopping.clone());
    crate::engine::presence::spawn(engine.clone(), stopping.clone());
    spawn_maintenance(store.clone(), stopping.clone());
    let state = AppState {
        engine: engine.clone(),
        auth,
        messengers: Arc::new(messengers),
        visitor_limit: Arc::new(Throttle::new(
            store.clone(),
            VISITOR_WINDOW,
            usize::MAX,
            config.visitors_per_address,
        )),
        leptos_options: leptos_options(config)?,
        stopping,
    };
    Ok(Server {
        router: http::router(state),
        store,
        engine,
        new_token,
        new_admin,
        stop,
    })
}

/// The store the URL names.
pub async fn open_store(url: &str, durability: Durability) -> Result<Arc<dyn Store>, StartError> {
    if url.starts_with("sqlite:") {
        return Ok(Arc::new(SqliteStore::open(url, durability).await?));
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Ok(Arc::new(PgStore::open(url, durability).await?));
    }
    // Only the scheme: the rest may hold a password.
    let scheme = url.split(':').next().unwrap_or_default();
    Err(StartError::Database(scheme.into()))
}

/// Leptos settings: from the environment cargo-leptos sets, with defaults that work when the
/// binary is started by hand from the repository root.
fn leptos_options(config: &Config) -> Result<LeptosOptions, StartError> {
    let mut options = leptos::prelude::get_configuration(None)
        .map_err(|e| StartError::Leptos(e.to_string()))?
        .leptos_options;
    if options.output_name.is_empty() {
        options.output_name = "hitl".into();
    }
    options.site_addr = config.addr;
    Ok(options)
}

/// How often the store's upkeep runs (for SQLite: copying the WAL into the database file, away
/// from the commits).
const MAINTAIN_EVERY: Duration = Duration::from_secs(1);

fn spawn_maintenance(store: Arc<dyn Store>, mut stopping: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(MAINTAIN_EVERY);
        loop {
            tokio::select! {
                _ = every.tick() => {
                    if let Err(e) = store.maintain().await {
                        tracing::warn!(error = %e, "store upkeep failed");
                    }
                }
                Ok(()) = stopping.changed() => return,
            }
        }
    });
}

pub async fn bind(config: &Config) -> Result<TcpListener, StartError> {
    TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.addr.to_string(),
            source,
        })
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish and closes the store.
pub async fn serve(
    listener: TcpListener,
    server: Server,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = server.stop;
    let shutdown = async move {
        shutdown.await;
        // Upgraded sockets are not tracked by the HTTP server: tell them to close.
        let _ = stop.send(true);
    };
    let app = server
        .router
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Responses and event frames are written in several small pieces; with Nagle's algorithm on,
    // a keep-alive client's delayed ACK held the last piece back by 40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    server.store.close().await;
    result
}
