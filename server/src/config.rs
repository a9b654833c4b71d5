//! Command-line flags, each also read from an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::store::Durability;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "hitl",
    version,
    about = "hitl: a human-in-the-loop server for chatbots"
)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "HITL_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// SQLite database URL; the file is created if missing.
    #[arg(long, env = "HITL_DATABASE_URL", default_value = "sqlite://hitl.db")]
    pub database_url: String,

    /// A bearer token with full API rights, for scripts and bots. Without it, a token is
    /// generated on first start, stored hashed and printed once.
    #[arg(long, env = "HITL_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,

    /// Email of the first admin, created on first start when there is no user yet.
    #[arg(long, env = "HITL_ADMIN_EMAIL", default_value = "admin@localhost")]
    pub admin_email: String,

    /// Password of the first admin; without it one is generated and printed once.
    #[arg(long, env = "HITL_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Minutes a signed-in browser may stay idle before it must sign in again.
    #[arg(long, env = "HITL_SESSION_IDLE_MINUTES", default_value_t = 480)]
    pub session_idle_minutes: u64,

    /// Mark cookies `Secure` (serve over HTTPS). Also done per request when a proxy sends
    /// `X-Forwarded-Proto: https`.
    #[arg(long, env = "HITL_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// New web chat visitors one address may start within 10 minutes (a public route).
    #[arg(long, env = "HITL_VISITORS_PER_ADDRESS", default_value_t = 30)]
    pub visitors_per_address: usize,

    /// Minutes between two runs of the retention task (each bot's "delete conversations older
    /// than N days" setting; it also runs at start).
    #[arg(long, env = "HITL_RETENTION_EVERY_MINUTES", default_value_t = 60)]
    pub retention_every_minutes: u64,

    /// Seconds a person without an open console still counts as there (online, busy, away),
    /// so a reload or a short network loss changes nothing; then they count as offline.
    #[arg(long, env = "HITL_PRESENCE_GRACE_SECS", default_value_t = 45)]
    pub presence_grace_secs: u64,

    /// Copy the database of `--database-url` (SQLite) into this empty PostgreSQL database,
    /// check the copy by counting every table, and exit.
    #[arg(
        long,
        env = "HITL_MIGRATE_TO",
        hide_env_values = true,
        value_name = "POSTGRES_URL"
    )]
    pub migrate_to: Option<String>,

    /// After restoring the database from a backup: give the event log a new epoch, so that
    /// every console starts over (a resync) instead of trusting event numbers it saw before.
    #[arg(long, env = "HITL_NEW_LOG_EPOCH")]
    pub new_log_epoch: bool,

    /// Directory of bot definitions, one `<bot-id>.toml` per bot.
    #[arg(long, env = "HITL_BOTS_DIR", default_value = "bots")]
    pub bots_dir: PathBuf,

    /// Events a live subscriber may fall behind by before it is told to resync: the limit of its
    /// queue (one buffer shared by all subscribers; a slow one never grows it).
    #[arg(long, env = "HITL_EVENT_BUFFER", default_value_t = 4096)]
    pub event_buffer: usize,

    /// How hard each commit waits for the disk: `full` survives power loss, `normal` only a
    /// crash of the process.
    #[arg(long, env = "HITL_DURABILITY", value_enum, default_value = "full")]
    pub durability: Durability,
}

impl Config {
    /// The configuration for tests and tools: every default, on the given database.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Config::parse_from(["hitl", "--database-url", &database_url.into()])
    }
}
