//! Staying inside Dataverse's service-protection limits instead of bouncing off them
//! (dataverse-reference §10.3). Per connection (the limits are per caller):
//! - after a 429, no request leaves before its `Retry-After` has elapsed;
//! - requests per sliding window stay under the request budget;
//! - the execution time spent in the window stays under the execution budget. The service
//!   does not report execution time, so the observed duration of each request, less the
//!   fastest round trip seen (the network's share), stands in for it;
//! - concurrent requests stay under the concurrency limit.

use serde::Deserialize;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The service's limits for one caller. Defaults are the documented values; a test
/// environment with scaled limits (the simulator) can be described here too.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default = "Limits::default_window_ms")]
    pub window_ms: u64,
    #[serde(default = "Limits::default_requests")]
    pub requests: u32,
    #[serde(default = "Limits::default_execution_ms")]
    pub execution_ms: u64,
    #[serde(default = "Limits::default_concurrency")]
    pub concurrency: u32,
}

impl Limits {
    fn default_window_ms() -> u64 {
        300_000
    }
    fn default_requests() -> u32 {
        6000
    }
    fn default_execution_ms() -> u64 {
        1_200_000
    }
    fn default_concurrency() -> u32 {
        52
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            window_ms: Self::default_window_ms(),
            requests: Self::default_requests(),
            execution_ms: Self::default_execution_ms(),
            concurrency: Self::default_concurrency(),
        }
    }
}

/// Budgets are used up to this share, leaving room for requests already in flight.
const HEADROOM: f64 = 0.95;

pub struct Pacer {
    window: Duration,
    request_budget: usize,
    execution_budget: Duration,
    concurrency: Semaphore,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    blocked_until: Option<Instant>,
    sent: VecDeque<Instant>,
    spent: VecDeque<(Instant, Duration)>,
    spent_total: Duration,
    /// The fastest request seen: the network round trip, not execution.
    round_trip: Option<Duration>,
}

impl State {
    fn expire(&mut self, now: Instant, window: Duration) {
        while self.sent.front().is_some_and(|t| now.duration_since(*t) >= window) {
            self.sent.pop_front();
        }
        while let Some((t, d)) = self.spent.front().copied() {
            if now.duration_since(t) < window {
                break;
            }
            self.spent.pop_front();
            self.spent_total = self.spent_total.saturating_sub(d);
        }
    }

    /// How long to wait before a request may leave, or `None` to send now.
    fn wait_needed(&self, now: Instant, pacer: &Pacer) -> Option<Duration> {
        if let Some(until) = self.blocked_until.filter(|u| *u > now) {
            return Some(until - now);
        }
        if self.sent.len() >= pacer.request_budget {
            return self.sent.front().map(|t| (*t + pacer.window).saturating_duration_since(now));
        }
        if self.spent_total >= pacer.execution_budget {
            return self.spent.front().map(|(t, _)| (*t + pacer.window).saturating_duration_since(now));
        }
        None
    }
}

impl Pacer {
    pub fn new(limits: &Limits) -> Pacer {
        let scale = |n: f64| (n * HEADROOM).floor().max(1.0);
        Pacer {
            window: Duration::from_millis(limits.window_ms.max(1)),
            request_budget: scale(f64::from(limits.requests)) as usize,
            execution_budget: Duration::from_millis(scale(limits.execution_ms as f64) as u64),
            concurrency: Semaphore::new(scale(f64::from(limits.concurrency)) as usize),
            state: Mutex::new(State::default()),
        }
    }

    /// Waits until a request may be sent, and holds a concurrency slot until the permit drops.
    pub async fn admit(&self) -> SemaphorePermit<'_> {
        let permit = self.concurrency.acquire().await.expect("the semaphore is never closed");
        loop {
            let wait = {
                let now = Instant::now();
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                state.expire(now, self.window);
                match state.wait_needed(now, self) {
                    None => {
                        state.sent.push_back(now);
                        return permit;
                    }
                    Some(wait) => wait,
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Records a finished request's duration against the execution budget.
    pub fn spent(&self, duration: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let round_trip = *state.round_trip.get_or_insert(duration);
        state.round_trip = Some(round_trip.min(duration));
        let execution = duration.saturating_sub(round_trip.min(duration));
        state.spent.push_back((Instant::now(), execution));
        state.spent_total += execution;
    }

    /// After a 429: nothing leaves on this connection before `retry_after` has elapsed.
    pub fn throttled(&self, retry_after: Duration) {
        let until = Instant::now() + retry_after;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.blocked_until = Some(state.blocked_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Limits {
        Limits { window_ms: 400, requests: 10, execution_ms: 100_000, concurrency: 52 }
    }

    #[tokio::test]
    async fn the_request_budget_of_a_window_is_never_exceeded() {
        let pacer = Pacer::new(&small());
        let started = Instant::now();
        for _ in 0..18 {
            drop(pacer.admit().await);
        }
        // 9 per 400 ms window (95 %): the 10th must wait for the first window to slide.
        assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn nothing_leaves_before_retry_after() {
        let pacer = Pacer::new(&Limits::default());
        pacer.throttled(Duration::from_millis(300));
        let started = Instant::now();
        drop(pacer.admit().await);
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn spent_execution_time_pauses_until_it_leaves_the_window() {
        let pacer = Pacer::new(&Limits { execution_ms: 1000, ..small() });
        drop(pacer.admit().await);
        pacer.spent(Duration::from_millis(5));
        pacer.spent(Duration::from_millis(955));
        let started = Instant::now();
        drop(pacer.admit().await);
        assert!(started.elapsed() >= Duration::from_millis(350), "{:?}", started.elapsed());
    }
}
