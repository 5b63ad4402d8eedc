//! Service-protection limits (reference §10.3), evaluated per caller (systemuserid) over a
//! sliding window: number of requests, combined execution time, concurrent requests.
//!
//! Choices: a request that is refused with 429 is not added to the window (it is counted in
//! the caller's statistics only), so a client that waits `Retry-After` is admitted. A `$batch`
//! is one request for the request count; each inner operation adds
//! [`crate::SimConfig::exec_cost_ms`] to the execution time. Execution time is charged when
//! the request completes. `Retry-After` is the whole number of seconds (rounded up, at least
//! 1) until the window admits the request; 1 for the concurrency limit.
//!
//! Requests sent before `Retry-After` are a statistic of the client's behaviour, not of the
//! service (which refuses what arrives, whenever it was sent): a request counts when it
//! arrives before a 429's `Retry-After` elapsed and was sent after that 429 was answered,
//! which holds when the previous answer on its connection left after the 429 (a connection
//! carries one request at a time, so its next request follows that answer). A request that
//! arrives later but may have been sent before, on a connection idle since before the 429,
//! was in flight and is counted apart (`arrived_during_retry_after`, all arrivals). A client
//! that ignores `Retry-After` is still caught: its second request on any connection counts.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::SimConfig;

/// Per-caller counters exposed through `SimState::limit_stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerStats {
    /// Web API requests that reached the limit check (admitted or not).
    pub requests: u64,
    /// 429 responses sent (all three limits).
    pub throttled: u64,
    pub throttled_requests: u64,
    pub throttled_execution_time: u64,
    pub throttled_concurrency: u64,
    /// Requests sent after a 429 was answered and arriving before its `Retry-After` elapsed.
    pub before_retry_after: u64,
    /// Every request that arrived while a `Retry-After` had not elapsed, including those that
    /// were already in flight when the 429 was answered.
    pub arrived_during_retry_after: u64,
    /// Simulated execution time charged so far (ms).
    pub execution_ms: u64,
    /// Most requests in flight at once.
    pub max_concurrent: usize,
}

/// The effective (scaled) limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub enabled: bool,
    pub window: Duration,
    pub requests: u64,
    pub execution_ms: u64,
    pub concurrent: usize,
}

impl Settings {
    pub fn from_config(c: &SimConfig) -> Self {
        let scale = if c.limits_scale.is_finite() && c.limits_scale > 0.0 { c.limits_scale } else { 1.0 };
        let window_ms = ((c.limit_window_secs as f64) * 1000.0 * scale).round().max(1.0) as u64;
        Settings {
            enabled: c.limits_enabled,
            window: Duration::from_millis(window_ms),
            requests: ((c.limit_requests as f64) * scale).round().max(1.0) as u64,
            execution_ms: ((c.limit_execution_ms as f64) * scale).round().max(1.0) as u64,
            concurrent: c.limit_concurrent.max(1),
        }
    }

    fn window_text(&self) -> String {
        window_text(self.window)
    }
}

/// A window in the messages' format: `300`, `0.3`.
pub fn window_text(window: Duration) -> String {
    let ms = window.as_millis();
    if ms.is_multiple_of(1000) { format!("{}", ms / 1000) } else { format!("{:.1}", ms as f64 / 1000.0) }
}

/// `1200000` → `1,200,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: u64,
}

#[derive(Debug)]
struct Entry {
    at: Instant,
}

#[derive(Debug, Default)]
struct Caller {
    entries: VecDeque<Entry>,
    /// Execution time, charged when each request completes (a long request counts at the
    /// end of its run, as measured execution would).
    charges: VecDeque<(Instant, u64)>,
    in_flight: usize,
    /// The 429s whose `Retry-After` has not elapsed: when each was answered, and until when.
    refusals: VecDeque<(Instant, Instant)>,
    stats: CallerStats,
}

impl Caller {
    fn prune(&mut self, now: Instant, window: Duration) {
        while self.entries.front().is_some_and(|e| now.saturating_duration_since(e.at) >= window) {
            self.entries.pop_front();
        }
        while self.charges.front().is_some_and(|(at, _)| now.saturating_duration_since(*at) >= window) {
            self.charges.pop_front();
        }
    }

    fn execution(&self) -> u64 {
        self.charges.iter().map(|(_, cost)| cost).sum()
    }
}

/// Remaining budget after a request, for the debug headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remaining {
    pub requests: u64,
    pub execution_ms: u64,
}

#[derive(Debug)]
pub struct Limits {
    pub settings: Settings,
    callers: HashMap<Uuid, Caller>,
    seq: u64,
}

fn secs_ceil(d: Duration) -> u64 {
    let ms = d.as_millis() as u64;
    ms.div_ceil(1000).max(1)
}

impl Limits {
    pub fn new(config: &SimConfig) -> Self {
        Limits { settings: Settings::from_config(config), callers: HashMap::new(), seq: 0 }
    }

    /// Admit a request of `user` at `now`: Ok(ticket) or the 429 to send. `sent_after` is a
    /// time the request is known to have been sent after (the previous answer on its
    /// connection), `None` when unknown.
    pub fn admit(&mut self, user: Uuid, now: Instant, sent_after: Option<Instant>) -> Result<u64, Throttle> {
        let s = self.settings.clone();
        let c = self.callers.entry(user).or_default();
        c.stats.requests += 1;
        c.refusals.retain(|(_, until)| *until > now);
        if !c.refusals.is_empty() {
            c.stats.arrived_during_retry_after += 1;
        }
        if c.refusals.iter().any(|(at, until)| now < *until && sent_after.is_some_and(|sent| sent >= *at)) {
            c.stats.before_retry_after += 1;
        }
        c.prune(now, s.window);
        let refuse = |c: &mut Caller, code: &'static str, message: String, wait: Duration| {
            let secs = secs_ceil(wait);
            c.stats.throttled += 1;
            c.refusals.push_back((now, now + Duration::from_secs(secs)));
            Err(Throttle { code, message, retry_after_secs: secs })
        };
        if s.enabled {
            if c.in_flight >= s.concurrent {
                c.stats.throttled_concurrency += 1;
                let msg = format!("Number of concurrent requests exceeded the limit of {}.", s.concurrent);
                return refuse(c, "0x80072326", msg, Duration::from_secs(1));
            }
            let count = c.entries.len() as u64;
            if count >= s.requests {
                // The entry whose expiry brings the count below the limit.
                let idx = (count - s.requests) as usize;
                let wait = (c.entries[idx].at + s.window).saturating_duration_since(now);
                c.stats.throttled_requests += 1;
                let msg =
                    format!("Number of requests exceeded the limit of {} over time window of {} seconds.", s.requests, s.window_text());
                return refuse(c, "0x80072322", msg, wait);
            }
            let mut total = c.execution();
            if total >= s.execution_ms {
                let mut wait = Duration::ZERO;
                for (at, cost) in &c.charges {
                    total -= cost;
                    if total < s.execution_ms {
                        wait = (*at + s.window).saturating_duration_since(now);
                        break;
                    }
                }
                c.stats.throttled_execution_time += 1;
                let msg = format!(
                    "Combined execution time of incoming requests exceeded limit of {} milliseconds over time window of {} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
                    thousands(s.execution_ms),
                    s.window_text()
                );
                return refuse(c, "0x80072321", msg, wait);
            }
        }
        self.seq += 1;
        c.entries.push_back(Entry { at: now });
        c.in_flight += 1;
        c.stats.max_concurrent = c.stats.max_concurrent.max(c.in_flight);
        Ok(self.seq)
    }

    /// The admitted request `ticket` finished; charge its execution time.
    pub fn complete(&mut self, user: Uuid, _ticket: u64, cost_ms: u64, now: Instant) -> Remaining {
        let s = self.settings.clone();
        let c = self.callers.entry(user).or_default();
        c.in_flight = c.in_flight.saturating_sub(1);
        c.stats.execution_ms += cost_ms;
        if cost_ms > 0 {
            c.charges.push_back((now, cost_ms));
        }
        c.prune(now, s.window);
        Remaining {
            requests: s.requests.saturating_sub(c.entries.len() as u64),
            execution_ms: s.execution_ms.saturating_sub(c.execution()),
        }
    }

    pub fn stats(&self, user: &Uuid) -> CallerStats {
        self.callers.get(user).map(|c| c.stats.clone()).unwrap_or_default()
    }

    pub fn all_stats(&self) -> BTreeMap<Uuid, CallerStats> {
        self.callers.iter().map(|(u, c)| (*u, c.stats.clone())).collect()
    }

    pub fn reset(&mut self) {
        self.callers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(scale: f64) -> Limits {
        Limits::new(&SimConfig { limits_scale: scale, ..SimConfig::default() })
    }

    #[test]
    fn scaled_settings_and_messages() {
        let l = limits(0.01);
        assert_eq!(l.settings.window, Duration::from_secs(3));
        assert_eq!(l.settings.requests, 60);
        assert_eq!(l.settings.execution_ms, 12_000);
        assert_eq!(l.settings.concurrent, 52);
        assert_eq!(thousands(1_200_000), "1,200,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn request_window_slides() {
        let mut l = limits(0.001); // 0.3 s window → 6 requests
        let u = Uuid::nil();
        let t0 = Instant::now();
        for i in 0..6 {
            let t = l.admit(u, t0 + Duration::from_millis(i * 10), None).unwrap();
            l.complete(u, t, 0, t0);
        }
        let e = l.admit(u, t0 + Duration::from_millis(100), None).unwrap_err();
        assert_eq!(e.code, "0x80072322");
        assert_eq!(e.message, "Number of requests exceeded the limit of 6 over time window of 0.3 seconds.");
        assert_eq!(e.retry_after_secs, 1);
        // Still inside Retry-After, sent after the 429 was answered: counted as early.
        assert!(l.admit(u, t0 + Duration::from_millis(200), Some(t0 + Duration::from_millis(150))).is_err());

        assert!(l.admit(u, t0 + Duration::from_millis(1300), Some(t0 + Duration::from_millis(250))).is_ok()); // after both Retry-Afters
        let st = l.stats(&u);
        assert_eq!((st.requests, st.throttled, st.throttled_requests, st.before_retry_after), (9, 2, 2, 1));
        assert_eq!(st.arrived_during_retry_after, 1);
    }

    #[test]
    fn a_request_in_flight_when_the_429_was_answered_is_not_counted_as_sent_before_retry_after() {
        let mut l = limits(0.001); // 6 requests per 0.3 s
        let u = Uuid::nil();
        let t0 = Instant::now();
        for _ in 0..6 {
            let t = l.admit(u, t0, None).unwrap();
            l.complete(u, t, 0, t0);
        }
        let at = t0 + Duration::from_millis(10);
        assert!(l.admit(u, at, None).is_err());
        // Arrives after the 429, on a connection whose last answer left before it: it may
        // have been sent before the client had the 429.
        let _ = l.admit(u, at + Duration::from_millis(5), Some(t0));
        // On a connection first used now (no answer yet): unknown, not counted either.
        let _ = l.admit(u, at + Duration::from_millis(6), None);
        let st = l.stats(&u);
        assert_eq!((st.before_retry_after, st.arrived_during_retry_after), (0, 2));
        // Sent after an answer that left after the 429: the client knew, and counts.
        let _ = l.admit(u, at + Duration::from_millis(7), Some(at + Duration::from_millis(1)));
        assert_eq!(l.stats(&u).before_retry_after, 1);
    }

    #[test]
    fn execution_time_and_concurrency() {
        let mut l = limits(0.01); // 12,000 ms per 3 s
        let u = Uuid::nil();
        let t0 = Instant::now();
        let t = l.admit(u, t0, None).unwrap();
        let rem = l.complete(u, t, 12_000, t0);
        assert_eq!(rem, Remaining { requests: 59, execution_ms: 0 });
        let e = l.admit(u, t0 + Duration::from_millis(500), None).unwrap_err();
        assert_eq!(e.code, "0x80072321");
        assert!(e.message.starts_with(
            "Combined execution time of incoming requests exceeded limit of 12,000 milliseconds over time window of 3 seconds."
        ));
        assert_eq!(e.retry_after_secs, 3); // 2.5 s rounded up
        let mut l = limits(1.0);
        for _ in 0..52 {
            l.admit(u, t0, None).unwrap();
        }
        let e = l.admit(u, t0, None).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), ("0x80072326", "Number of concurrent requests exceeded the limit of 52."));
    }
}
