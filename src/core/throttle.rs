//! Failed authentications slow down the next ones, per account and per
//! client address: after a few free failures each further one doubles the
//! wait, up to a ceiling, and the wait fades as the failures age out. Not a
//! lockout: nobody can shut a user out by guessing wrong in their name, the
//! right password still works after the wait. The wait is served by the
//! async caller (a timer, not a thread), so a flood of guesses holds no
//! pool thread while it waits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures counted for this long.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The first wait, doubled with each further failure (never above the
/// configured longest wait).
const FIRST_WAIT: Duration = Duration::from_millis(250);
/// Entries kept at the most per map; the oldest go first beyond it.
const MOST_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// How failures slow authentications down (`[password]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures an account may have before its authentications wait.
    pub free_per_account: u32,
    /// An address is shared by many people behind NAT: more are free.
    pub free_per_address: u32,
    /// The longest wait.
    pub most_wait: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            free_per_account: 3,
            free_per_address: 10,
            most_wait: Duration::from_secs(8),
        }
    }
}

#[derive(Debug, Default)]
pub struct Throttle {
    settings: ThrottleSettings,
    accounts: Mutex<HashMap<String, Failures>>,
    addresses: Mutex<HashMap<IpAddr, Failures>>,
}

/// The wait after `count` failures of which `free` cost nothing.
pub fn wait_after(count: u32, free: u32, most: Duration) -> Duration {
    match count.checked_sub(free) {
        None | Some(0) => Duration::ZERO,
        Some(over) => FIRST_WAIT
            .saturating_mul(1u32 << (over - 1).min(16))
            .min(most),
    }
}

fn current<K: std::hash::Hash + Eq>(map: &Mutex<HashMap<K, Failures>>, key: &K) -> u32 {
    let Ok(map) = map.lock() else { return 0 };
    map.get(key)
        .filter(|f| f.last.elapsed() < WINDOW)
        .map_or(0, |f| f.count)
}

fn add<K: std::hash::Hash + Eq + Clone>(map: &Mutex<HashMap<K, Failures>>, key: &K) -> u32 {
    let Ok(mut map) = map.lock() else { return 0 };
    if map.len() >= MOST_ENTRIES {
        map.retain(|_, f| f.last.elapsed() < WINDOW);
        if map.len() >= MOST_ENTRIES {
            map.clear();
        }
    }
    let now = Instant::now();
    let entry = map.entry(key.clone()).or_insert(Failures {
        count: 0,
        last: now,
    });
    if entry.last.elapsed() >= WINDOW {
        entry.count = 0;
    }
    entry.count += 1;
    entry.last = now;
    entry.count
}

impl Throttle {
    pub fn new(settings: ThrottleSettings) -> Throttle {
        Throttle {
            settings,
            ..Throttle::default()
        }
    }

    /// How long to wait before checking an authentication for `user` from
    /// `address`.
    pub fn wait(&self, user: &str, address: Option<IpAddr>) -> Duration {
        let s = &self.settings;
        let by_account = wait_after(
            current(&self.accounts, &user.to_ascii_lowercase()),
            s.free_per_account,
            s.most_wait,
        );
        let by_address = address.map_or(Duration::ZERO, |a| {
            wait_after(
                current(&self.addresses, &a),
                s.free_per_address,
                s.most_wait,
            )
        });
        by_account.max(by_address)
    }

    /// Counts a failure; true when it is the one from which waits begin
    /// (worth an audit line).
    pub fn failed(&self, user: &str, address: Option<IpAddr>) -> bool {
        let n = add(&self.accounts, &user.to_ascii_lowercase());
        let m = address.map_or(0, |a| add(&self.addresses, &a));
        // Saturating: `u32::MAX` free failures (throttling off) is a valid
        // setting, and must not overflow here.
        n == self.settings.free_per_account.saturating_add(1)
            || m == self.settings.free_per_address.saturating_add(1)
    }

    /// A success clears the account's failures (not the address's: one
    /// right password must not wash away a guesser's record).
    pub fn succeeded(&self, user: &str) {
        if let Ok(mut map) = self.accounts.lock() {
            map.remove(&user.to_ascii_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_free_failures_never_wait_and_never_overflow() {
        let throttle = Throttle::new(ThrottleSettings {
            free_per_account: u32::MAX,
            free_per_address: u32::MAX,
            most_wait: Duration::from_secs(8),
        });
        let address = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..3 {
            assert!(!throttle.failed("alice", address));
        }
        assert_eq!(throttle.wait("alice", address), Duration::ZERO);
    }

    #[test]
    fn waits_start_after_the_free_failures_double_and_stop_at_the_ceiling() {
        let most = Duration::from_secs(8);
        assert_eq!(wait_after(0, 3, most), Duration::ZERO);
        assert_eq!(wait_after(3, 3, most), Duration::ZERO);
        assert_eq!(wait_after(4, 3, most), Duration::from_millis(250));
        assert_eq!(wait_after(5, 3, most), Duration::from_millis(500));
        assert_eq!(wait_after(7, 3, most), Duration::from_secs(2));
        assert_eq!(wait_after(40, 3, most), most);
        assert_eq!(wait_after(u32::MAX, 3, most), most);
        assert_eq!(
            wait_after(9, 3, Duration::ZERO),
            Duration::ZERO,
            "waits off"
        );
    }

    #[test]
    fn accounts_and_addresses_are_counted_apart() {
        let t = Throttle::default();
        let home: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for n in 1..=4 {
            assert_eq!(t.failed("Ann", Some(home)), n == 4, "failure {n}");
        }
        assert_eq!(t.wait("ann", Some(other)), Duration::from_millis(250));
        assert_eq!(t.wait("bob", Some(other)), Duration::ZERO);
        assert_eq!(t.wait("bob", Some(home)), Duration::ZERO, "4 of 10 free");
        for _ in 0..7 {
            t.failed("x", Some(home));
        }
        assert_eq!(t.wait("bob", Some(home)), Duration::from_millis(250));
        t.succeeded("ANN");
        assert_eq!(t.wait("ann", Some(other)), Duration::ZERO);
        assert_eq!(t.wait("ann", Some(home)), Duration::from_millis(250));
    }
}
