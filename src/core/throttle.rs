//! Failed authentications slow down the next ones, per account and per
//! client address; not a lockout (the right password still works after any
//! wait), and never a way for one person's typos to slow the others who
//! authenticate through the same application server.
//!
//! What each limit protects against:
//! - **Per account** (guessing one person's password): after a few free
//!   failures in the window, every further attempt on that account waits
//!   before it is checked, the wait doubling with each failure up to a
//!   ceiling. At most `free_per_account` attempts at one account are
//!   checked at once (the others queue for a turn); when an attempt's turn
//!   comes, its wait is decided from the failures counted and the attempts
//!   still being checked, after the waits already given. So parallel
//!   guesses are spaced as sequential ones would be, while parallel right
//!   passwords (a pool of connections binding as one service account) only
//!   queue for the few milliseconds a check takes. The account's own right password
//!   waits too while it is under attack (otherwise a fast answer would
//!   tell the guesser it was right).
//! - **Per address** (spraying: one guess at many accounts): after the
//!   address's free failures, each further *failure* from it is answered
//!   only after a doubling wait, and while it waits it keeps one of the
//!   address's few slots for attempts under way (a client that hangs up
//!   does not free it early). A right password is checked and answered at
//!   once; it waits only when that many failures from its own address are
//!   being held at that moment, which is a spray under way, not a typo.
//!
//! Failures count in a sliding window (each ages out on its own; new
//! failures do not extend old ones). IPv6 addresses count by their /64.
//! When a table is full, new keys share one overflow entry (throttled
//! together) instead of wiping what is known. Waits are timers on the async
//! caller, never a held pool thread.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Failures counted for this long.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The first wait, doubled with each further failure (never above the
/// configured longest wait).
const FIRST_WAIT: Duration = Duration::from_millis(250);
/// Entries kept at the most per table; beyond it new keys share one entry.
const MOST_ENTRIES: usize = 100_000;
/// Failures remembered per key beyond the free ones (the wait has reached
/// its ceiling long before).
const REMEMBERED_BEYOND_FREE: u32 = 32;
/// Authentications from one address checked or held at once.
pub const ADDRESS_SLOTS: usize = 16;

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

/// The wait after `count` failures of which `free` cost nothing.
pub fn wait_after(count: u32, free: u32, most: Duration) -> Duration {
    match count.checked_sub(free) {
        None | Some(0) => Duration::ZERO,
        Some(over) => FIRST_WAIT
            .saturating_mul(1u32 << (over - 1).min(16))
            .min(most),
    }
}

/// What is known of one account or address.
#[derive(Debug)]
struct Entry {
    /// When each remembered failure happened, oldest first.
    failures: VecDeque<Instant>,
    /// Attempts started and not finished.
    in_flight: u32,
    /// When the last attempt given a slot may be checked.
    next_slot: Instant,
    /// Turns for attempts under way: an address's attempts checked or held
    /// at once, an account's checked at once.
    slots: Arc<Semaphore>,
    /// How many turns `slots` was made with.
    turns: usize,
}

impl Entry {
    fn new(now: Instant, turns: usize) -> Self {
        Entry {
            failures: VecDeque::new(),
            in_flight: 0,
            next_slot: now,
            slots: Arc::new(Semaphore::new(turns)),
            turns,
        }
    }

    fn count(&mut self, now: Instant) -> u32 {
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.failures.pop_front();
        }
        u32::try_from(self.failures.len()).unwrap_or(u32::MAX)
    }

    fn fail(&mut self, now: Instant, keep: u32) -> u32 {
        self.failures.push_back(now);
        while self.failures.len() > keep as usize {
            self.failures.pop_front();
        }
        self.count(now)
    }

    fn idle(&mut self, now: Instant) -> bool {
        self.count(now) == 0
            && self.in_flight == 0
            && self.next_slot <= now
            && self.slots.available_permits() == self.turns
    }
}

/// One table of entries, bounded.
#[derive(Debug)]
struct Table<K> {
    map: HashMap<K, Entry>,
    /// Shared by every key that arrived while the map was full.
    overflow: Entry,
    /// The turns each entry has.
    turns: usize,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new(turns: usize) -> Self {
        Table {
            map: HashMap::new(),
            overflow: Entry::new(Instant::now(), turns),
            turns,
        }
    }

    /// The entry of `key`, made if there is room; else the overflow entry.
    fn entry(&mut self, key: &K, now: Instant) -> &mut Entry {
        if !self.map.contains_key(key) && self.map.len() >= MOST_ENTRIES {
            self.map.retain(|_, e| !e.idle(now));
            if self.map.len() >= MOST_ENTRIES {
                return &mut self.overflow;
            }
        }
        let turns = self.turns;
        self.map
            .entry(key.clone())
            .or_insert_with(|| Entry::new(now, turns))
    }

    /// The entry of `key` if it has one (or the overflow entry when the
    /// key never found room).
    fn existing(&mut self, key: &K) -> &mut Entry {
        match self.map.get_mut(key) {
            Some(e) => e,
            None => &mut self.overflow,
        }
    }
}

#[derive(Debug)]
pub struct Throttle {
    settings: ThrottleSettings,
    accounts: Mutex<Table<String>>,
    addresses: Mutex<Table<IpAddr>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(ThrottleSettings::default())
    }
}

/// How an attempt ended, for the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    /// Neither (a code was sent or asked for, after a right password; or
    /// the attempt was never checked).
    Neither,
}

/// An attempt under way: counted from the moment it started until
/// `finish` (or until it is dropped, which counts as `Neither`).
pub struct Admission {
    throttle: Arc<Throttle>,
    account: String,
    address: Option<IpAddr>,
    permit: Option<OwnedSemaphorePermit>,
    /// The account's turn, held until the attempt ends.
    account_turn: Option<OwnedSemaphorePermit>,
    /// How long to wait before checking it (its account's slot).
    pub wait: Duration,
    finished: bool,
}

/// What a finished attempt's caller must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Wait this long before answering (a failure from an address with too
    /// many failures).
    pub hold: Duration,
    /// This failure is the one from which waits begin (worth an audit line).
    pub throttling_began: bool,
}

/// The key a client address counts by: IPv4 (also mapped into IPv6) as is,
/// IPv6 by its /64, which one machine usually holds whole.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut s = v6.segments();
                s[4..].fill(0);
                IpAddr::V6(s.into())
            }
        },
        v4 => v4,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Throttle {
    pub fn new(settings: ThrottleSettings) -> Throttle {
        // An account's attempts checked at once: as many as it may fail
        // for free (at least one, at most an address's turns).
        let account_turns = usize::try_from(settings.free_per_account)
            .unwrap_or(usize::MAX)
            .clamp(1, ADDRESS_SLOTS);
        Throttle {
            settings,
            accounts: Mutex::new(Table::new(account_turns)),
            addresses: Mutex::new(Table::new(ADDRESS_SLOTS)),
        }
    }

    /// Starts an attempt for `user` from `address`: takes one of the
    /// address's turns (waiting for one while that many attempts from it
    /// are under way), then one of the account's, then decides its wait
    /// from the account's failures so far (`Admission::wait`), after the
    /// waits already given.
    pub async fn admit(self: &Arc<Self>, user: &str, address: Option<IpAddr>) -> Admission {
        let address = address.map(address_key);
        let permit = match address {
            Some(a) => {
                let slots = lock(&self.addresses)
                    .entry(&a, Instant::now())
                    .slots
                    .clone();
                slots.acquire_owned().await.ok()
            }
            None => None,
        };
        let account = user.to_ascii_lowercase();
        let turns = lock(&self.accounts)
            .entry(&account, Instant::now())
            .slots
            .clone();
        let account_turn = turns.acquire_owned().await.ok();
        let now = Instant::now();
        let wait = {
            let mut accounts = lock(&self.accounts);
            let e = accounts.entry(&account, now);
            // The attempts still being checked count as failures to come:
            // parallel guesses then wait as sequential ones would. They
            // are fewer than the free failures (the account's turns), so
            // parallel right passwords of an account that has no failures
            // never wait.
            let before = e.count(now).saturating_add(e.in_flight);
            e.in_flight += 1;
            let s = &self.settings;
            match wait_after(before, s.free_per_account, s.most_wait) {
                w if w.is_zero() => Duration::ZERO,
                w => {
                    let slot = e.next_slot.max(now) + w;
                    e.next_slot = slot;
                    slot.duration_since(now)
                }
            }
        };
        if let Some(a) = address {
            lock(&self.addresses).existing(&a).in_flight += 1;
        }
        Admission {
            throttle: self.clone(),
            account,
            address,
            permit,
            account_turn,
            wait,
            finished: false,
        }
    }

    fn end(&self, admission: &mut Admission, outcome: Outcome) -> Verdict {
        admission.finished = true;
        // The failure is counted (below) before the account's next turn
        // is given.
        let account_turn = admission.account_turn.take();
        let now = Instant::now();
        let s = &self.settings;
        let mut verdict = Verdict {
            hold: Duration::ZERO,
            throttling_began: false,
        };
        {
            let mut accounts = lock(&self.accounts);
            let e = accounts.existing(&admission.account);
            e.in_flight = e.in_flight.saturating_sub(1);
            match outcome {
                // The account's own right password clears its record (not
                // the address's: one right password must not wash away a
                // guesser's record).
                Outcome::Succeeded => e.failures.clear(),
                Outcome::Failed => {
                    let keep = s.free_per_account.saturating_add(REMEMBERED_BEYOND_FREE);
                    let n = e.fail(now, keep);
                    verdict.throttling_began |= n == s.free_per_account.saturating_add(1);
                }
                Outcome::Neither => {}
            }
        }
        drop(account_turn);
        if let Some(a) = admission.address {
            let mut addresses = lock(&self.addresses);
            let e = addresses.existing(&a);
            e.in_flight = e.in_flight.saturating_sub(1);
            if outcome == Outcome::Failed {
                let keep = s.free_per_address.saturating_add(REMEMBERED_BEYOND_FREE);
                let n = e.fail(now, keep);
                verdict.throttling_began |= n == s.free_per_address.saturating_add(1);
                verdict.hold = wait_after(n, s.free_per_address, s.most_wait);
            }
        }
        match admission.permit.take() {
            // The slot stays taken for the hold even if the client goes.
            Some(permit) if !verdict.hold.is_zero() => {
                let hold = verdict.hold;
                match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => {
                        runtime.spawn(async move {
                            tokio::time::sleep(hold).await;
                            drop(permit);
                        });
                    }
                    Err(_) => drop(permit),
                }
            }
            other => drop(other),
        }
        verdict
    }

    /// The failures an account has in the window (for tests and the CLI).
    pub fn account_failures(&self, user: &str) -> u32 {
        let now = Instant::now();
        lock(&self.accounts)
            .map
            .get_mut(&user.to_ascii_lowercase())
            .map_or(0, |e| e.count(now))
    }
}

impl Admission {
    /// Ends the attempt with how it went.
    pub fn finish(mut self, outcome: Outcome) -> Verdict {
        let throttle = self.throttle.clone();
        throttle.end(&mut self, outcome)
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if !self.finished {
            let throttle = self.throttle.clone();
            throttle.end(self, Outcome::Neither);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(free_account: u32, free_address: u32) -> Arc<Throttle> {
        Arc::new(Throttle::new(ThrottleSettings {
            free_per_account: free_account,
            free_per_address: free_address,
            most_wait: Duration::from_secs(8),
        }))
    }

    #[tokio::test]
    async fn unlimited_free_failures_never_wait_and_never_overflow() {
        let t = throttle(u32::MAX, u32::MAX);
        let address = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..3 {
            let a = t.admit("alice", address).await;
            assert_eq!(a.wait, Duration::ZERO);
            let v = a.finish(Outcome::Failed);
            assert_eq!(v.hold, Duration::ZERO);
            assert!(!v.throttling_began);
        }
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

    #[tokio::test]
    async fn parallel_attempts_on_one_account_take_turns_and_successive_waits() {
        let t = throttle(3, 1000);
        // Three at once, with no wait: right passwords in parallel pass.
        let mut open = Vec::new();
        for _ in 0..3 {
            let a = t.admit("ann", None).await;
            assert_eq!(a.wait, Duration::ZERO);
            open.push(a);
        }
        // A fourth waits for a turn.
        let fourth = tokio::spawn({
            let t = t.clone();
            async move { t.admit("ann", None).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!fourth.is_finished(), "no turn while three are checked");
        for a in open {
            a.finish(Outcome::Failed);
        }
        let fourth = fourth.await.unwrap();
        assert_eq!(fourth.wait, Duration::ZERO, "three failures are free");
        fourth.finish(Outcome::Failed);
        // Beyond the free failures, parallel attempts wait one after another.
        let mut waits = Vec::new();
        let mut open = Vec::new();
        for _ in 0..3 {
            let a = t.admit("ann", None).await;
            waits.push((a.wait.as_millis() + 5) / 10 * 10);
            open.push(a);
        }
        assert_eq!(waits, [250, 750, 1750]);
        // Right passwords clear the record for the next ones.
        for a in open {
            a.finish(Outcome::Succeeded);
        }
        assert_eq!(t.admit("ann", None).await.wait, Duration::ZERO);
    }

    #[tokio::test]
    async fn an_address_failures_hold_its_failures_not_another_accounts_success() {
        let t = throttle(3, 2);
        let home = Some(IpAddr::from([192, 0, 2, 1]));
        let mut holds = Vec::new();
        for n in 0..4 {
            let a = t.admit(&format!("user{n}"), home).await;
            assert_eq!(a.wait, Duration::ZERO, "other accounts never wait");
            holds.push(a.finish(Outcome::Failed).hold);
        }
        assert_eq!(
            holds,
            [0, 0, 250, 500].map(Duration::from_millis),
            "the third and fourth failures are held"
        );
        let service = t.admit("service", home).await;
        assert_eq!(service.wait, Duration::ZERO);
        assert_eq!(service.finish(Outcome::Succeeded).hold, Duration::ZERO);
    }

    #[tokio::test]
    async fn a_success_clears_its_account_and_failures_age_out_one_by_one() {
        let t = throttle(1, 100);
        for _ in 0..3 {
            t.admit("ann", None).await.finish(Outcome::Failed);
        }
        assert_eq!(t.account_failures("ANN"), 3);
        t.admit("ann", None).await.finish(Outcome::Succeeded);
        assert_eq!(t.account_failures("ann"), 0);
        let mut e = Entry::new(Instant::now(), 1);
        let old = Instant::now() - WINDOW - Duration::from_secs(1);
        e.failures.push_back(old);
        e.failures.push_back(Instant::now());
        assert_eq!(e.count(Instant::now()), 1, "the old one aged out alone");
    }

    #[tokio::test]
    async fn a_dropped_attempt_counts_nothing() {
        let t = throttle(0, 0);
        drop(t.admit("ann", Some(IpAddr::from([192, 0, 2, 9]))).await);
        assert_eq!(t.account_failures("ann"), 0);
        let a = t.admit("ann", None).await;
        assert_eq!(a.wait, Duration::ZERO);
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let x: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let y: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(x), address_key(y));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
