//! How often one client address may ask for something (reset links): a
//! fixed window per address, in memory. IPv6 clients count by their /64,
//! which one machine usually holds whole.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many tracked addresses, finished windows are dropped.
const PRUNE_ABOVE: usize = 10_000;

pub struct AddressLimiter {
    max: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl AddressLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        AddressLimiter {
            max,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request from `ip`; false when it is over the limit (the
    /// refused request counts too, so hammering does not help).
    pub fn allow(&self, ip: IpAddr) -> bool {
        self.count_at(ip, Instant::now(), 1) <= self.max
    }

    /// Starts an attempt from `ip` that counts as a failure until
    /// `forgive` says otherwise: counted before it is checked, so parallel
    /// attempts cannot all slip in under the limit. False (and nothing
    /// counted) when the allowance is used up.
    pub fn begin(&self, ip: IpAddr) -> bool {
        let key = client_key(ip);
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > PRUNE_ABOVE {
            let window = self.window;
            seen.retain(|_, (start, n)| *n > 0 && now.duration_since(*start) < window);
        }
        let entry = seen.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.max {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// An attempt `begin` counted turned out not to be a failure.
    pub fn forgive(&self, ip: IpAddr) {
        let key = client_key(ip);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = seen.get_mut(&key) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }

    #[cfg(test)]
    fn allow_at(&self, ip: IpAddr, now: Instant) -> bool {
        self.count_at(ip, now, 1) <= self.max
    }

    /// Adds `n` to the count of `ip`'s window and gives the new count.
    fn count_at(&self, ip: IpAddr, now: Instant, n: u32) -> u32 {
        let key = client_key(ip);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > PRUNE_ABOVE {
            let window = self.window;
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = seen.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(n);
        entry.1
    }
}

/// The address a limit counts by: IPv4 (also when mapped into IPv6) as is,
/// IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_within_a_window() {
        let l = AddressLimiter::new(2, Duration::from_secs(60));
        let now = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(l.allow_at(a, now));
        assert!(l.allow_at(a, now));
        assert!(!l.allow_at(a, now));
        assert!(l.allow_at(b, now));
        assert!(l.allow_at(a, now + Duration::from_secs(61)));
    }

    #[test]
    fn attempts_count_when_they_begin() {
        let l = AddressLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(l.begin(a));
        assert!(l.begin(a));
        assert!(!l.begin(a), "two under way use the allowance up");
        l.forgive(a);
        assert!(l.begin(a));
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let x: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let y: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_key(x), client_key(y));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
