//! Throttling: too many failed sign-ins for one account, or from one address, within a
//! window block further attempts until the oldest failures age out; new chats from one address
//! are limited the same way. The attempts are kept in the database, so every instance counts
//! the same ones.

use std::sync::Arc;
use std::time::Duration;

use crate::engine::clock::now_ms;
use crate::store::accounts::AccountStore;
use crate::store::Result;

pub struct Throttle {
    store: Arc<dyn AccountStore>,
    window_ms: i64,
    per_account: i64,
    per_address: i64,
}

impl Throttle {
    pub fn new(
        store: Arc<dyn AccountStore>,
        window: Duration,
        per_account: usize,
        per_address: usize,
    ) -> Self {
        let limit = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        Throttle {
            store,
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            per_account: limit(per_account),
            per_address: limit(per_address),
        }
    }

    /// True when this account or address has failed too often lately.
    pub async fn blocked(&self, account: &str, address: Option<&str>) -> Result<bool> {
        self.blocked_at(account, address, now_ms()).await
    }

    async fn blocked_at(&self, account: &str, address: Option<&str>, now: i64) -> Result<bool> {
        let since = now.saturating_sub(self.window_ms);
        if self.per_account < i64::MAX
            && self
                .store
                .attempts_since(&account_key(account), since)
                .await?
                >= self.per_account
        {
            return Ok(true);
        }
        Ok(match address {
            Some(a) => self.store.attempts_since(&address_key(a), since).await? >= self.per_address,
            None => false,
        })
    }

    pub async fn failed(&self, account: &str, address: Option<&str>) -> Result<()> {
        self.failed_at(account, address, now_ms()).await
    }

    async fn failed_at(&self, account: &str, address: Option<&str>, now: i64) -> Result<()> {
        let keys: Vec<String> = std::iter::once(account_key(account))
            .chain(address.map(address_key))
            .collect();
        self.record(&keys, now).await
    }

    async fn record(&self, keys: &[String], now: i64) -> Result<()> {
        self.store
            .record_attempt(keys, now, now.saturating_sub(self.window_ms))
            .await
    }

    /// For plain rate limits (one event, not a failure, per call): records a use by `address`
    /// and answers whether it is still within the limit.
    pub async fn allow(&self, address: &str) -> Result<bool> {
        if self.blocked("", Some(address)).await? {
            return Ok(false);
        }
        self.record(&[address_key(address)], now_ms()).await?;
        Ok(true)
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub async fn succeeded(&self, account: &str) -> Result<()> {
        self.store.clear_attempts(&account_key(account)).await
    }
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throttle over a fresh SQLite file (the store conformance suite checks the attempts on
    /// both stores).
    async fn throttle(
        window: Duration,
        per_account: usize,
        per_address: usize,
    ) -> (Throttle, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = crate::sqlite::SqliteStore::open(&url, crate::store::Durability::Normal)
            .await
            .unwrap();
        let t = Throttle::new(Arc::new(store), window, per_account, per_address);
        (t, dir)
    }

    #[tokio::test]
    async fn an_account_is_blocked_after_its_limit_whatever_the_address() {
        let (t, _dir) = throttle(Duration::from_secs(60), 3, 100).await;
        for i in 0..3 {
            let address = format!("10.0.0.{i}");
            assert!(!t.blocked("Ada@x.org", Some(&address)).await.unwrap());
            t.failed("ada@x.org", Some(&address)).await.unwrap();
        }
        assert!(t.blocked("ada@x.org", Some("10.0.0.9")).await.unwrap());
        assert!(!t.blocked("grace@x.org", Some("10.0.0.9")).await.unwrap());
    }

    #[tokio::test]
    async fn an_address_is_blocked_after_its_limit_whatever_the_account() {
        let (t, _dir) = throttle(Duration::from_secs(60), 100, 2).await;
        t.failed("a@x.org", Some("10.0.0.1")).await.unwrap();
        t.failed("b@x.org", Some("10.0.0.1")).await.unwrap();
        assert!(t.blocked("c@x.org", Some("10.0.0.1")).await.unwrap());
        assert!(!t.blocked("c@x.org", Some("10.0.0.2")).await.unwrap());
    }

    #[tokio::test]
    async fn failures_age_out_and_success_clears_the_account() {
        let (t, _dir) = throttle(Duration::from_secs(60), 1, 1).await;
        let start = now_ms();
        let a = Some("10.0.0.1");
        t.failed_at("a@x.org", a, start).await.unwrap();
        assert!(t.blocked_at("a@x.org", a, start + 59_000).await.unwrap());
        assert!(!t.blocked_at("a@x.org", a, start + 61_000).await.unwrap());

        let (t, _dir) = throttle(Duration::from_secs(60), 1, 100).await;
        t.failed("a@x.org", None).await.unwrap();
        assert!(t.blocked("a@x.org", None).await.unwrap());
        t.succeeded("a@x.org").await.unwrap();
        assert!(!t.blocked("a@x.org", None).await.unwrap());
    }

    #[tokio::test]
    async fn a_rate_limit_allows_its_number_then_refuses() {
        let (t, _dir) = throttle(Duration::from_secs(60), usize::MAX, 2).await;
        assert!(t.allow("10.0.0.1").await.unwrap());
        assert!(t.allow("10.0.0.1").await.unwrap());
        assert!(!t.allow("10.0.0.1").await.unwrap());
        assert!(t.allow("10.0.0.2").await.unwrap());
    }
}
