//! Slowing down and rejecting clients that fail AUTH, shared by every
//! submission session of the daemon.
//!
//! Failures are counted per client address and per account. Each failure
//! delays the 535 reply by the base delay times the larger of the two counts
//! (at most [`MAX_DELAY_STEPS`] times). An address that reaches the burst
//! limit is rejected until the lockout ends. Accounts are never locked, so an
//! attacker cannot lock an account's owner out. The counts live in memory and
//! a restart clears them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mailroom_spec::Submission;

/// Largest multiple of the base delay applied to one failure.
pub const MAX_DELAY_STEPS: u32 = 5;

/// Entries kept per table; past it, entries whose window has ended are
/// removed, and if none has ended the oldest is, so memory stays bounded.
const MAX_ENTRIES: usize = 10_000;

/// The throttle's limits, from the host spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    pub delay: Duration,
    pub burst: u32,
    pub lockout: Duration,
}

impl From<&Submission> for ThrottleLimits {
    fn from(submission: &Submission) -> Self {
        Self {
            delay: Duration::from_secs(u64::from(submission.auth_failure_delay_seconds)),
            burst: submission.auth_failure_burst.max(1),
            lockout: Duration::from_secs(u64::from(submission.auth_lockout_seconds)),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failure counts of client addresses and accounts.
#[derive(Debug, Default)]
pub struct AuthThrottle {
    tables: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    addresses: HashMap<IpAddr, Failures>,
    accounts: HashMap<String, Failures>,
}

impl AuthThrottle {
    /// Returns whether `address` is rejected at `now`.
    pub fn is_locked_out(&self, address: IpAddr, limits: ThrottleLimits, now: Instant) -> bool {
        let tables = self.lock();
        tables
            .addresses
            .get(&address)
            .is_some_and(|failures| failures.count >= limits.burst && now.duration_since(failures.last) < limits.lockout)
    }

    /// Counts a failed AUTH and returns how long to wait before the 535.
    pub fn record_failure(&self, address: IpAddr, account: &str, limits: ThrottleLimits, now: Instant) -> Duration {
        let mut tables = self.lock();
        let by_address = count_failure(&mut tables.addresses, address, limits.lockout, now);
        let by_account = count_failure(&mut tables.accounts, account.to_ascii_lowercase(), limits.lockout, now);
        let steps = by_address.max(by_account).min(MAX_DELAY_STEPS);
        limits.delay * steps
    }

    /// Clears the counts of `address` and `account` after a successful AUTH.
    pub fn record_success(&self, address: IpAddr, account: &str) {
        let mut tables = self.lock();
        tables.addresses.remove(&address);
        tables.accounts.remove(&account.to_ascii_lowercase());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves only counts behind, which
        // stay usable.
        self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Adds one failure for `key`, starting over when the last one is older
/// than `window`, and returns the count.
fn count_failure<K: std::hash::Hash + Eq + Clone>(
    table: &mut HashMap<K, Failures>,
    key: K,
    window: Duration,
    now: Instant,
) -> u32 {
    if table.len() >= MAX_ENTRIES && !table.contains_key(&key) {
        evict(table, window, now);
    }
    let entry = table.entry(key).or_insert(Failures { count: 0, last: now });
    if now.duration_since(entry.last) >= window {
        entry.count = 0;
    }
    entry.count = entry.count.saturating_add(1);
    entry.last = now;
    entry.count
}

fn evict<K: std::hash::Hash + Eq + Clone>(table: &mut HashMap<K, Failures>, window: Duration, now: Instant) {
    table.retain(|_, failures| now.duration_since(failures.last) < window);
    if table.len() < MAX_ENTRIES {
        return;
    }
    let oldest = table.iter().min_by_key(|(_, failures)| failures.last).map(|(key, _)| key.clone());
    if let Some(oldest) = oldest {
        table.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ThrottleLimits = ThrottleLimits {
        delay: Duration::from_secs(1),
        burst: 3,
        lockout: Duration::from_secs(600),
    };

    fn address(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn delay_grows_with_each_failure() {
        let throttle = AuthThrottle::default();
        let now = Instant::now();
        let first = throttle.record_failure(address(1), "alice@example.test", LIMITS, now);
        let second = throttle.record_failure(address(1), "alice@example.test", LIMITS, now);
        assert_eq!(first, Duration::from_secs(1));
        assert_eq!(second, Duration::from_secs(2));
    }

    #[test]
    fn delay_is_capped() {
        let throttle = AuthThrottle::default();
        let now = Instant::now();
        let mut delay = Duration::ZERO;
        for _ in 0..20 {
            delay = throttle.record_failure(address(1), "alice@example.test", LIMITS, now);
        }
        assert_eq!(delay, LIMITS.delay * MAX_DELAY_STEPS);
    }

    #[test]
    fn account_failures_slow_other_addresses() {
        let throttle = AuthThrottle::default();
        let now = Instant::now();
        throttle.record_failure(address(1), "alice@example.test", LIMITS, now);
        let delay = throttle.record_failure(address(2), "ALICE@example.test", LIMITS, now);
        assert_eq!(delay, Duration::from_secs(2));
    }

    #[test]
    fn burst_locks_out_the_address_only() {
        let throttle = AuthThrottle::default();
        let now = Instant::now();
        for _ in 0..LIMITS.burst {
            throttle.record_failure(address(1), "alice@example.test", LIMITS, now);
        }
        assert!(throttle.is_locked_out(address(1), LIMITS, now));
        assert!(!throttle.is_locked_out(address(2), LIMITS, now));
    }

    #[test]
    fn lockout_ends_after_its_period() {
        let throttle = AuthThrottle::default();
        let now = Instant::now();
        for _ in 0..LIMITS.burst {
            throttle.record_failure(address(1), "alice@example.test", LIMITS, now);
        }
        assert!(!throttle.is_locked_out(address(1), LIMITS, now + LIMITS.lockout));
    }

    #[test]
    fn success_clears_counts() {
        let throttle = AuthThrottle::default();
        let now = Instant::now();
        throttle.record_failure(address(1), "alice@example.test", LIMITS, now);
        throttle.record_success(address(1), "alice@example.test");
        let delay = throttle.record_failure(address(1), "alice@example.test", LIMITS, now);
        assert_eq!(delay, Duration::from_secs(1));
    }
}
