//! People who use the console: passwords (argon2id), signing in and out, signed-in browsers that
//! expire after inactivity, login throttling, and the first admin. Every change to someone's
//! access is announced once stored ([`AccessChange`]), so open connections check again.

mod manage;
pub mod throttle;

use std::sync::Arc;
use std::time::Duration;

use app::account::{Role, Viewer, PASSWORD_MIN_CHARS};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::secret::{random_hex, sha256_hex};
use crate::store::accounts::{AccountStore, AuditEntry, NewUser};
use crate::store::{BotScope, StoreError};
use app::model::{Actor, ActorKind};
use throttle::Throttle;
use tokio::sync::broadcast;

pub use manage::{AccountChange, LiveToken, Manager, NewAccount};

/// A browser that has not been seen for this long must sign in again.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(8 * 60 * 60);
/// Failed sign-ins allowed per account and per address within [`THROTTLE_WINDOW`].
const FAILURES_PER_ACCOUNT: usize = 5;
const FAILURES_PER_ADDRESS: usize = 20;
const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// `last_seen_at` is written at most this often per browser (not on every request).
const TOUCH_EVERY_MS: i64 = 60_000;
/// Access changes a listener may fall behind by; one that falls further checks again anyway.
const ACCESS_CHANGES_BUFFER: usize = 256;

/// Whose access just changed, announced after the change is stored. A listener whose caller it
/// concerns checks that caller again against the store: this says who, never what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    /// A person signed out (one browser, or all but one), was deactivated, or had their role,
    /// bots, name or password changed.
    User(i64),
    /// A token was revoked.
    Token(i64),
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// One message whatever was wrong (unknown email, wrong password, deactivated), so a guesser
    /// learns nothing.
    #[error("wrong email or password")]
    BadCredentials,
    #[error("the current password is not right")]
    WrongPassword,
    #[error("too many failed sign-ins; try again in a few minutes")]
    Throttled,
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AccountError::NotFound(what),
            StoreError::Conflict(what) => AccountError::Conflict(what),
            other => AccountError::Store(other),
        }
    }
}

pub type Result<T, E = AccountError> = std::result::Result<T, E>;

/// What a successful sign-in gives the browser: the session cookie's token and the CSRF token
/// its scripts send back with every change.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub csrf: String,
    pub viewer: Viewer,
}

/// A signed-in browser, as a request presents it.
#[derive(Debug, Clone)]
pub struct Session {
    pub viewer: Viewer,
    pub csrf: String,
}

pub struct Accounts {
    store: Arc<dyn AccountStore>,
    idle: Duration,
    throttle: Throttle,
    /// Verified against when the email is unknown, so both cases take as long.
    decoy_hash: tokio::sync::OnceCell<String>,
    changes: broadcast::Sender<AccessChange>,
}

/// A person in the audit log, named by their email as they sign in.
pub fn by_email(viewer: &Viewer) -> Actor {
    Actor::new(ActorKind::Agent, Some(viewer.id), &viewer.email)
}

/// Whoever tried to sign in as `email` (the account's id when there is one).
fn attempt(email: &str, id: Option<i64>) -> Actor {
    Actor::new(ActorKind::Agent, id, email)
}

impl Accounts {
    pub fn new(store: Arc<dyn AccountStore>, idle: Duration) -> Self {
        Accounts {
            store: store.clone(),
            idle,
            throttle: Throttle::new(
                store,
                THROTTLE_WINDOW,
                FAILURES_PER_ACCOUNT,
                FAILURES_PER_ADDRESS,
            ),
            decoy_hash: tokio::sync::OnceCell::new(),
            changes: broadcast::channel(ACCESS_CHANGES_BUFFER).0,
        }
    }

    pub fn store(&self) -> &dyn AccountStore {
        self.store.as_ref()
    }

    /// Every access change from now on.
    pub fn access_changes(&self) -> broadcast::Receiver<AccessChange> {
        self.changes.subscribe()
    }

    /// Tells the listeners; called after the change is stored, so what they read again is it.
    fn announce(&self, change: AccessChange) {
        // No listener is no error: nobody has a connection to close.
        let _ = self.changes.send(change);
    }

    pub async fn audit(
        &self,
        actor: Option<&Actor>,
        action: &'static str,
        detail: impl Into<String>,
        address: Option<&str>,
    ) {
        let entry = AuditEntry {
            actor: actor.map(|a| a.name.clone()),
            actor_kind: actor.map(|a| a.kind),
            actor_id: actor.and_then(|a| a.id),
            action,
            detail: detail.into(),
            address: address.map(str::to_string),
            bot_id: None,
            session_id: None,
        };
        if let Err(e) = self.store.audit(&entry).await {
            tracing::error!(error = %e, action, "could not write the audit log");
        }
    }

    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<SignedIn> {
        let email = email.trim();
        if self.throttle.blocked(email, address).await? {
            self.audit(Some(&attempt(email, None)), "login.throttled", "", address)
                .await;
            return Err(AccountError::Throttled);
        }
        let user = self.store.user_by_email(email).await?;
        let hash = match &user {
            Some(u) => u.password_hash.clone(),
            None => self
                .decoy_hash
                .get_or_try_init(|| async { hash_password(&random_hex(16)).await })
                .await?
                .clone(),
        };
        let matches = verify_password(password, &hash).await;
        let user_id = user.as_ref().map(|u| u.viewer.id);
        let user = match user {
            Some(user) if matches && user.active => user,
            _ => {
                self.throttle.failed(email, address).await?;
                let tried = attempt(email, user_id);
                self.audit(Some(&tried), "login.failed", "", address).await;
                return Err(AccountError::BadCredentials);
            }
        };
        self.throttle.succeeded(email).await?;
        let token = random_hex(32);
        let csrf = random_hex(32);
        self.store
            .create_login_session(&sha256_hex(&token), user.viewer.id, &csrf)
            .await?;
        self.audit(Some(&by_email(&user.viewer)), "login", "", address)
            .await;
        Ok(SignedIn {
            token,
            csrf,
            viewer: user.viewer,
        })
    }

    /// The browser's session, unless it is unknown, idle for too long or its user deactivated.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let hash = sha256_hex(token);
        let Some(found) = self.store.login_session(&hash).await? else {
            return Ok(None);
        };
        let idle_ms = now_ms() - found.last_seen_at;
        if !found.user.active || idle_ms > self.idle.as_millis() as i64 {
            self.store.delete_login_session(&hash).await?;
            return Ok(None);
        }
        if idle_ms > TOUCH_EVERY_MS {
            self.store.touch_login_session(&hash).await?;
        }
        Ok(Some(Session {
            viewer: found.user.viewer,
            csrf: found.csrf_token,
        }))
    }

    pub async fn sign_out(&self, token: &str, viewer: &Viewer, address: Option<&str>) {
        if let Err(e) = self.store.delete_login_session(&sha256_hex(token)).await {
            tracing::error!(error = %e, "could not end a session");
        }
        self.announce(AccessChange::User(viewer.id));
        self.audit(Some(&by_email(viewer)), "logout", "", address)
            .await;
    }

    /// Changes the viewer's own password; their other browsers are signed out.
    pub async fn change_password(
        &self,
        viewer: &Viewer,
        token: &str,
        current: &str,
        new: &str,
    ) -> Result<()> {
        let user = self.existing_user(viewer.id).await?;
        if !verify_password(current, &user.password_hash).await {
            return Err(AccountError::WrongPassword);
        }
        let hash = hash_password(new).await?;
        self.store.set_password(viewer.id, &hash).await?;
        self.store
            .delete_login_sessions_of(viewer.id, Some(&sha256_hex(token)))
            .await?;
        self.announce(AccessChange::User(viewer.id));
        self.audit(Some(&by_email(viewer)), "password.changed", "", None)
            .await;
        Ok(())
    }

    /// Creates the first admin when there is no user yet: from the given email and password, or
    /// with a generated password that is answered (to be printed once).
    pub async fn ensure_first_admin(
        &self,
        email: Option<&str>,
        password: Option<&str>,
    ) -> Result<Option<(String, String)>> {
        if self.store.user_count().await? > 0 {
            return Ok(None);
        }
        let email = email.unwrap_or("admin@localhost").trim().to_string();
        let (password, generated) = match password {
            Some(p) => (p.to_string(), false),
            None => (random_hex(12), true),
        };
        let new = NewUser {
            name: email.split('@').next().unwrap_or("admin").to_string(),
            email: email.clone(),
            password_hash: hash_password(&password).await?,
            role: Role::Admin,
            bots: Vec::new(),
        };
        self.store.create_user(&new).await?;
        self.audit(
            None,
            "user.created",
            format!("{email} (admin, first start)"),
            None,
        )
        .await;
        Ok(generated.then_some((email, password)))
    }
}

/// The bots whose data this person may see.
/// What a person reads of the notifications: those of their bots for everyone, and their own.
pub fn reader_of(viewer: &Viewer) -> crate::store::Reader {
    crate::store::Reader {
        bots: scope_of(viewer),
        person: Some(viewer.id),
    }
}

pub fn scope_of(viewer: &Viewer) -> BotScope {
    if viewer.is_admin() {
        BotScope::All
    } else {
        BotScope::Only(viewer.bots.clone())
    }
}

/// Hashes off the async threads: argon2id is slow on purpose.
pub async fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(AccountError::Invalid(format!(
            "a password needs at least {PASSWORD_MIN_CHARS} characters"
        )));
    }
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password_now(&password))
        .await
        .map_err(|e| AccountError::Invalid(format!("hashing failed: {e}")))?
}

fn hash_password_now(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Invalid(format!("hashing failed: {e}")))
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
