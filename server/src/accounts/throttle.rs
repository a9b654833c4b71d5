//! Login throttling: too many failed sign-ins for one account, or from one address, within a
//! window block further attempts until the oldest failures age out.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys tracked at most; beyond it the idlest are forgotten, so an attacker cycling through
/// addresses cannot grow memory without bound.
const MAX_KEYS: usize = 50_000;

pub struct Throttle {
    window: Duration,
    per_account: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> Self {
        Throttle {
            window,
            per_account,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// True when this account or address has failed too often lately.
    pub fn blocked(&self, account: &str, address: Option<&str>) -> bool {
        self.blocked_at(account, address, Instant::now())
    }

    pub fn failed(&self, account: &str, address: Option<&str>) {
        self.failed_at(account, address, Instant::now())
    }

    fn blocked_at(&self, account: &str, address: Option<&str>, now: Instant) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut count = |key: String| {
            failures.get_mut(&key).map_or(0, |times| {
                prune(times, now, self.window);
                times.len()
            })
        };
        count(account_key(account)) >= self.per_account
            || address.is_some_and(|a| count(address_key(a)) >= self.per_address)
    }

    fn failed_at(&self, account: &str, address: Option<&str>, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_KEYS {
            let window = self.window;
            failures.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        let keys = std::iter::once(account_key(account)).chain(address.map(address_key));
        for key in keys {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// For plain rate limits (one event, not a failure, per call): records a use by `address`
    /// and answers whether it is still within the limit.
    pub fn allow(&self, address: &str) -> bool {
        if self.blocked("", Some(address)) {
            return false;
        }
        self.failed("", Some(address));
        true
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeeded(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&account_key(account));
    }
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) > window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_blocked_after_its_limit_whatever_the_address() {
        let t = Throttle::new(Duration::from_secs(60), 3, 100);
        for i in 0..3 {
            assert!(!t.blocked("Ada@x.org", Some(&format!("10.0.0.{i}"))));
            t.failed("ada@x.org", Some(&format!("10.0.0.{i}")));
        }
        assert!(t.blocked("ada@x.org", Some("10.0.0.9")));
        assert!(!t.blocked("grace@x.org", Some("10.0.0.9")));
    }

    #[test]
    fn an_address_is_blocked_after_its_limit_whatever_the_account() {
        let t = Throttle::new(Duration::from_secs(60), 100, 2);
        t.failed("a@x.org", Some("10.0.0.1"));
        t.failed("b@x.org", Some("10.0.0.1"));
        assert!(t.blocked("c@x.org", Some("10.0.0.1")));
        assert!(!t.blocked("c@x.org", Some("10.0.0.2")));
    }

    #[test]
    fn failures_age_out_and_success_clears_the_account() {
        let t = Throttle::new(Duration::from_secs(60), 1, 1);
        let start = Instant::now();
        t.failed_at("a@x.org", Some("10.0.0.1"), start);
        assert!(t.blocked_at("a@x.org", Some("10.0.0.1"), start + Duration::from_secs(59)));
        assert!(!t.blocked_at("a@x.org", Some("10.0.0.1"), start + Duration::from_secs(61)));

        let t = Throttle::new(Duration::from_secs(60), 1, 100);
        t.failed("a@x.org", None);
        assert!(t.blocked("a@x.org", None));
        t.succeeded("a@x.org");
        assert!(!t.blocked("a@x.org", None));
    }
}
