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

/// Budgets are used up to this share, leaving room for what the estimates miss.
const HEADROOM: f64 = 0.95;
/// Weight of the older samples in the learned cost per operation (per sample).
const COST_MEMORY: f64 = 0.7;
/// The share of its predicted execution a request is taken to run at least, before a batch
/// has shown how long batches take against their prediction.
const INITIAL_LEAD: f64 = 0.75;
/// Of the shortest duration seen against the prediction, the share counted on.
const LEAD_MARGIN: f64 = 0.9;
/// What is left of the lead after a 429.
const LEAD_AFTER_429: f64 = 0.8;
/// How much larger than the largest accepted batch the next one may be.
const GROWTH: usize = 16;

pub struct Pacer {
    window: Duration,
    /// The service's limits as configured (the remaining-budget headers count from these).
    limit_requests: usize,
    limit_execution: Duration,
    request_budget: usize,
    execution_budget: Duration,
    concurrency: Semaphore,
    state: Mutex<State>,
    /// Every request's span, when asked for ([`Pacer::record_timeline`]): where a run idles.
    timeline: Mutex<Option<Vec<Span>>>,
}

/// One request as the pacer saw it: when it left and was answered (or given up: a 429 or no
/// answer), and how many operations it carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub sent: Instant,
    pub done: Instant,
    pub operations: usize,
    pub answered: bool,
}

/// A request admitted by the pacer: holds a concurrency slot and the execution time reserved
/// for it until [`Pacer::finished`] (or drop, for a request that never got an answer).
pub struct Slot<'a> {
    _permit: SemaphorePermit<'a>,
    pacer: &'a Pacer,
    reserved: Duration,
    settled: bool,
    sent: Instant,
    operations: usize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.pacer.release(self.reserved, self.operations);
            self.pacer.record(self, false);
        }
    }
}

struct State {
    blocked_until: Option<Instant>,
    sent: VecDeque<Instant>,
    spent: VecDeque<(Instant, Duration)>,
    spent_total: Duration,
    /// Execution time predicted for the requests in flight (charged by the service when they
    /// finish, so a burst of concurrent batches would otherwise overshoot the budget).
    reserved: Duration,
    /// The fastest single-operation request seen: the network round trip (and one operation).
    round_trip: Option<Duration>,
    /// Decayed sums of measured execution and of operations: their ratio is the service's
    /// execution time per operation, learned from every batch.
    cost_exec_ms: f64,
    cost_ops: f64,
    /// The service's count of execution time against this client's (from the remaining-time
    /// header, when sent): the client's measure includes queueing the service does not
    /// charge, or misses work of other processes with the same identity. 1 without hints.
    calibration: f64,
    /// The execution time the service said it had counted in the window (from the
    /// remaining-time header), and when: for a moment after, the client's own measure is not
    /// taken below it. The calibration follows the ratio of the two slowly; when the client's
    /// measure changes faster than that (queueing on a loaded service comes and goes), the
    /// service's last word keeps the pacer from believing there is room that is not there.
    service_said: Option<(Instant, Duration)>,
    /// Largest `$batch` the service accepted, and the most it will take (after a refusal).
    largest_accepted: usize,
    size_cap: Option<usize>,
    /// The shortest a batch took against the execution predicted for it (`None` before one
    /// was measured), and what is left of the lead after 429s: together the share of its
    /// predicted execution a request is taken to run at least (see [`State::lead`]).
    shortest: Option<f64>,
    penalty: f64,
    /// Operations of the requests admitted and not yet settled (a caller dispatching batches
    /// counts what it handed out beyond these: [`Pacer::in_flight_operations`]).
    in_flight_ops: usize,
}

impl Default for State {
    fn default() -> Self {
        State {
            blocked_until: None,
            sent: VecDeque::new(),
            spent: VecDeque::new(),
            spent_total: Duration::ZERO,
            reserved: Duration::ZERO,
            round_trip: None,
            cost_exec_ms: 0.0,
            cost_ops: 0.0,
            calibration: 1.0,
            service_said: None,
            largest_accepted: 0,
            size_cap: None,
            shortest: None,
            penalty: 1.0,
            in_flight_ops: 0,
        }
    }
}

impl State {
    /// An admitted request is answered or given up: its reserved execution and operations are
    /// no longer in flight.
    fn settle(&mut self, reserved: Duration, operations: usize) {
        self.reserved = self.reserved.saturating_sub(reserved);
        self.in_flight_ops = self.in_flight_ops.saturating_sub(operations);
    }

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

    /// The execution time per operation as the service counts it. The calibration may raise
    /// it, never lower it: the client's measure of the window is too high mostly because of
    /// reads (a 5,000-row page takes far longer than the service charges, and the first are
    /// charged as they took), which says nothing about a batch's operations; lowered by it,
    /// the cost predicted for the batches in flight was half the real one and a burst of them
    /// passed the budget.
    fn cost_per_op(&self) -> Option<Duration> {
        (self.cost_ops > 0.0)
            .then(|| Duration::from_secs_f64((self.calibration.max(1.0) * self.cost_exec_ms / self.cost_ops).max(0.0) / 1000.0))
    }

    /// Execution time spent in the window, as the service counts it.
    fn spent_now(&self) -> Duration {
        self.spent_total.mul_f64(self.calibration)
    }

    /// The share of its predicted execution a request is taken to run at least: a little
    /// less than the shortest seen (a batch may finish sooner than predicted), less after
    /// 429s (the projection was too bold), never more than all of it.
    fn lead(&self) -> f64 {
        self.shortest.map_or(INITIAL_LEAD, |s| (s * LEAD_MARGIN).min(1.0)) * self.penalty
    }

    /// Of the execution time spent in the window, what has left it by `horizon`.
    fn spent_leaving_by(&self, horizon: Instant, window: Duration) -> Duration {
        let left: Duration = self.spent.iter().take_while(|(t, _)| *t + window <= horizon).map(|(_, d)| *d).sum();
        left.mul_f64(self.calibration)
    }

    /// How long to wait before a request expected to execute for `predicted` may leave, or
    /// `None` to send now.
    /// `pending` is the execution predicted for requests handed out to be sent that the pacer
    /// has not admitted yet: like what is in flight, it counts in full.
    fn wait_needed(&self, now: Instant, pacer: &Pacer, predicted: Duration, pending: Duration) -> Option<Duration> {
        if let Some(until) = self.blocked_until.filter(|u| *u > now) {
            return Some(until - now);
        }
        if self.sent.len() >= pacer.request_budget {
            return self.sent.front().map(|t| (*t + pacer.window).saturating_duration_since(now));
        }
        // The service charges a request's execution when it completes and refuses one that
        // arrives while the window's count is at its limit: the count only grows at
        // completions, so what must stay inside the budget is the count when this request
        // completes. By then (no sooner than most of its own execution takes: `lead()`) the
        // time spent longer ago than a window has left; what is in flight (reserved)
        // completes before or about then, and counts in full. Counting everything spent now
        // instead held a run's rate to window / (window + batch duration) of the budget (0.79
        // for 800 ms batches).
        let horizon = now + predicted.mul_f64(self.lead());
        let leaving = self.spent_leaving_by(horizon, pacer.window);
        let said = self.service_said.filter(|(at, _)| now.duration_since(*at) < pacer.window / 10).map(|(_, d)| d);
        let committed = self.spent_now().max(said.unwrap_or_default()).saturating_sub(leaving) + self.reserved + pending;
        // A request alone larger than the budget still goes once nothing else is committed.
        if committed > Duration::ZERO && committed + predicted >= pacer.execution_budget {
            let over = (committed + predicted - pacer.execution_budget).max(Duration::from_micros(1));
            // Wait until enough more spent time leaves the window by the request's completion;
            // in-flight reservations settle on their own, so re-check soon when they are what
            // is over.
            let mut freed = Duration::ZERO;
            for (t, d) in self.spent.iter().filter(|(t, _)| *t + pacer.window > horizon) {
                freed += d.mul_f64(self.calibration);
                if freed >= over {
                    return Some((*t + pacer.window).saturating_duration_since(horizon).max(Duration::from_millis(1)));
                }
            }
            return Some(Duration::from_millis(5));
        }
        None
    }
}

/// What the service said about the caller's remaining budget (debug headers; hints only).
#[derive(Debug, Default, Clone, Copy)]
pub struct Hints {
    pub requests_remaining: Option<u64>,
    pub execution_remaining: Option<Duration>,
}

impl Hints {
    /// `x-ms-ratelimit-burst-remaining-xrm-requests` (requests) and
    /// `x-ms-ratelimit-time-remaining-xrm-requests` (seconds, `1,199.98`), when present.
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Hints {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.replace(',', ""));
        Hints {
            requests_remaining: text("x-ms-ratelimit-burst-remaining-xrm-requests").and_then(|v| v.trim().parse().ok()),
            execution_remaining: text("x-ms-ratelimit-time-remaining-xrm-requests")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64),
        }
    }
}

impl Pacer {
    pub fn new(limits: &Limits) -> Pacer {
        let scale = |n: f64| (n * HEADROOM).floor().max(1.0);
        Pacer {
            window: Duration::from_millis(limits.window_ms.max(1)),
            limit_requests: limits.requests.max(1) as usize,
            limit_execution: Duration::from_millis(limits.execution_ms.max(1)),
            request_budget: scale(f64::from(limits.requests)) as usize,
            execution_budget: Duration::from_millis(scale(limits.execution_ms as f64) as u64),
            concurrency: Semaphore::new(scale(f64::from(limits.concurrency)) as usize),
            state: Mutex::new(State::default()),
            timeline: Mutex::new(None),
        }
    }

    /// From now on, every request's span is kept (for a benchmark's timeline).
    pub fn record_timeline(&self) {
        self.timeline.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(Vec::new);
    }

    /// The spans kept since [`Pacer::record_timeline`], in the order requests finished.
    pub fn timeline(&self) -> Vec<Span> {
        self.timeline.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_default()
    }

    fn record(&self, slot: &Slot<'_>, answered: bool) {
        if let Some(spans) = self.timeline.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            spans.push(Span { sent: slot.sent, done: Instant::now(), operations: slot.operations, answered });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long from now a request of `operations` operations would wait for the budgets
    /// (zero: it would go now), without admitting it; a free concurrency slot is not part of
    /// the answer. Lets a caller with several connections send where a batch goes soonest.
    pub fn wait_for(&self, operations: usize) -> Duration {
        self.wait_for_besides(operations, 0)
    }

    /// [`Pacer::wait_for`] when `pending` operations have been handed out to this connection
    /// besides, not yet admitted (they are reserved when they are; until then the answer
    /// counts them as in flight, so two batches dispatched at once do not pick one budget).
    pub fn wait_for_besides(&self, operations: usize, pending: usize) -> Duration {
        let now = Instant::now();
        let mut state = self.lock();
        state.expire(now, self.window);
        let cost = state.cost_per_op().unwrap_or_default();
        let predicted = cost * operations.max(1) as u32;
        state.wait_needed(now, self, predicted, cost * pending as u32).unwrap_or_default()
    }

    /// Waits until a request of `operations` operations may be sent: after any `Retry-After`,
    /// inside the request budget, and with its predicted execution inside the execution
    /// budget. Holds a concurrency slot until the returned slot drops.
    pub async fn admit(&self, operations: usize) -> Slot<'_> {
        let permit = self.concurrency.acquire().await.expect("the semaphore is never closed");
        loop {
            let wait = {
                let now = Instant::now();
                let mut state = self.lock();
                state.expire(now, self.window);
                let predicted = state.cost_per_op().unwrap_or_default() * operations.max(1) as u32;
                match state.wait_needed(now, self, predicted, Duration::ZERO) {
                    None => {
                        state.sent.push_back(now);
                        state.reserved += predicted;
                        state.in_flight_ops += operations;
                        return Slot { _permit: permit, pacer: self, reserved: predicted, settled: false, sent: now, operations };
                    }
                    Some(wait) => wait,
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    fn release(&self, reserved: Duration, operations: usize) {
        self.lock().settle(reserved, operations);
    }

    /// Requests this window still holds beyond the half of the budget that the batch sizes of
    /// [`Pacer::batch_advice`] keep for reads and other writes (zero when none).
    pub fn spare_requests(&self) -> usize {
        let mut state = self.lock();
        state.expire(Instant::now(), self.window);
        self.request_budget.saturating_sub(state.sent.len()).saturating_sub(self.request_budget / 2)
    }

    /// Operations of the requests admitted and not yet answered.
    pub fn in_flight_operations(&self) -> usize {
        self.lock().in_flight_ops
    }

    /// Starts from what `other` (a connection to the same organization under another
    /// identity) has learned of the service, when this one has not measured a batch yet: the
    /// cost per operation, the round trip, the share of its prediction a batch runs, the
    /// sizes the service accepts. The limits are per identity, the service's cost is the
    /// organization's: a pool's second identity then sends its first batch at the size the
    /// first one's budgets call for instead of probing again. Its own window stays its own.
    pub fn learn_from(&self, other: &Pacer) {
        if std::ptr::eq(self, other) {
            return;
        }
        let (exec, ops, round_trip, shortest, penalty, largest, cap) = {
            let o = other.lock();
            (o.cost_exec_ms, o.cost_ops, o.round_trip, o.shortest, o.penalty, o.largest_accepted, o.size_cap)
        };
        let mut state = self.lock();
        if state.cost_ops > 0.0 || ops <= 0.0 {
            return;
        }
        state.cost_exec_ms = exec;
        state.cost_ops = ops;
        state.round_trip = state.round_trip.or(round_trip);
        state.shortest = state.shortest.or(shortest);
        state.penalty = state.penalty.min(penalty);
        state.largest_accepted = state.largest_accepted.max(largest);
        state.size_cap = match (state.size_cap, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// A request of `operations` operations took `duration`: its execution (the duration less
    /// the round trip) is charged to the window and teaches the cost per operation; the
    /// service's remaining-budget headers, when sent, correct the counts if the service has
    /// seen more than this client (another process with the same identity, say).
    pub fn finished(&self, mut slot: Slot<'_>, duration: Duration, operations: usize, hints: Hints) {
        slot.settled = true;
        self.record(&slot, true);
        let now = Instant::now();
        let mut state = self.lock();
        state.settle(slot.reserved, slot.operations);
        if operations <= 1 {
            state.round_trip = Some(state.round_trip.map_or(duration, |r| r.min(duration)));
        }
        if operations > 1 && !slot.reserved.is_zero() {
            let took = duration.as_secs_f64() / slot.reserved.as_secs_f64();
            state.shortest = Some(state.shortest.map_or(took, |s| s.min(took)));
        }
        let round_trip = state.round_trip.unwrap_or_default().min(duration);
        let execution = duration - round_trip;
        if operations > 1 {
            // The round trip was measured on one operation: the other n-1 are the batch's own.
            state.cost_exec_ms = state.cost_exec_ms * COST_MEMORY + execution.as_secs_f64() * 1000.0;
            state.cost_ops = state.cost_ops * COST_MEMORY + (operations - 1) as f64;
        }
        // A single-operation request (a read) is charged at most twice the learned cost of an
        // operation: the rest of its duration is the transfer of its rows and queueing, which
        // the limits do not count. Were the service to count it, the remaining-time hint raises
        // the calibration; and until a batch was measured, reads are charged as they took.
        let execution = match state.cost_per_op() {
            Some(cost) if operations <= 1 => execution.min(cost * 2),
            _ => execution,
        };
        state.spent.push_back((now, execution));
        state.spent_total += execution;
        state.expire(now, self.window);
        // Hints only: they adjust the client's own measure within bounds, and only once the
        // window holds enough to compare.
        if let Some(remaining) = hints.execution_remaining {
            state.service_said = Some((now, self.limit_execution.saturating_sub(remaining)));
        }
        if let Some(remaining) = hints.execution_remaining
            && state.spent_total > self.limit_execution / 20
        {
            let seen = self.limit_execution.saturating_sub(remaining).as_secs_f64();
            let sample = (seen / state.spent_total.as_secs_f64()).clamp(0.5, 2.0);
            state.calibration = (state.calibration * COST_MEMORY + sample * (1.0 - COST_MEMORY)).clamp(0.5, 2.0);
        }
        if let Some(remaining) = hints.requests_remaining {
            let seen = self.limit_requests.saturating_sub(remaining as usize);
            while state.sent.len() < seen {
                state.sent.push_back(now);
            }
        }
    }

    /// After a 429: nothing leaves on this connection before `retry_after` has elapsed.
    pub fn throttled(&self, retry_after: Duration) {
        let now = Instant::now();
        let until = now + retry_after;
        let mut state = self.lock();
        // The pacer believed the request was inside the budgets: it counts on less of the
        // window leaving before a request completes from now on (once per refusal, not for
        // every request that was in flight with it).
        if state.blocked_until.is_none_or(|u| u <= now) {
            state.penalty *= LEAD_AFTER_429;
        }
        state.blocked_until = Some(state.blocked_until.map_or(until, |u| u.max(until)));
    }

    /// The service's execution time per operation as learned so far.
    pub fn cost_per_op(&self) -> Option<Duration> {
        self.lock().cost_per_op()
    }

    /// A `$batch` of `size` operations was accepted.
    pub fn batch_accepted(&self, size: usize) {
        let mut state = self.lock();
        state.largest_accepted = state.largest_accepted.max(size);
    }

    /// The largest `$batch` this connection has had accepted (0 before any).
    pub fn largest_accepted(&self) -> usize {
        self.lock().largest_accepted
    }

    /// A `$batch` of `size` operations was refused for its size (`limit` when the service
    /// named it): later batches stay at or below what the service accepts.
    pub fn batch_refused(&self, size: usize, limit: Option<usize>) {
        let mut state = self.lock();
        let cap =
            limit.filter(|l| *l < size).unwrap_or_else(|| state.largest_accepted.max(size / 2)).clamp(1, size.saturating_sub(1).max(1));
        state.size_cap = Some(state.size_cap.map_or(cap, |c| c.min(cap)));
    }

    /// The most operations a `$batch` on this connection may hold.
    pub fn size_cap(&self) -> Option<usize> {
        self.lock().size_cap
    }

    /// The batch sizes that use the budgets best, once the cost is known (`None` before).
    pub fn batch_advice(&self, max: usize) -> Option<BatchAdvice> {
        let state = self.lock();
        let cost = state.cost_per_op()?.as_secs_f64() * 1000.0;
        // Growth is bounded by what was measured: sixteen times the largest accepted batch
        // (10, 160, then what the budgets call for), so an estimate from one small probe cannot
        // send a whole run out at once, while the ramp costs two requests, not four (at this
        // scale a window holds 57 requests, and the reads take a third of the first).
        let grown = state.largest_accepted.max(1).saturating_mul(GROWTH);
        let limit = state.size_cap.unwrap_or(max).min(max).max(1);
        let max = limit.min(grown);
        if cost < 0.01 {
            return Some(BatchAdvice { least: max, best: max, split_saving: usize::MAX });
        }
        let budget = self.execution_budget.as_secs_f64() * 1000.0;
        // Half the request budget is left for reads, the small last batches of each run and
        // the other steps' writes. With three quarters (batches twice as large), a 51,000-
        // mailbox run used a quarter of its requests and its execution time came in blocks of
        // 800 ms batches: the window's check, which counts on a batch running only part of its
        // prediction, held the rate to 0.83 of the budget (0.87 with 400 ms batches; 94.8 s
        // against 97.3-99.7 s in one series).
        let least = 2.0 * budget / (cost * self.request_budget as f64);
        let round_trip = 4.0 * state.round_trip.unwrap_or_default().as_secs_f64() * 1000.0 / cost;
        let smooth = budget / (8.0 * cost);
        let size = |n: f64| (n.ceil() as usize).clamp(1, max);
        // Splitting the last batches is worth a round trip of the service's time per batch; it
        // is not where the request budget binds before the execution budget (operations so
        // cheap that even the largest batch the service takes spends requests faster than
        // execution time), nor before a round trip was measured.
        let split_saving = match state.round_trip {
            Some(rt) if least < limit as f64 => (rt.as_secs_f64() * 1000.0 / cost).ceil() as usize,
            _ => usize::MAX,
        };
        Some(BatchAdvice { least: size(least), best: size(round_trip.min(smooth).max(least)), split_saving })
    }
}

/// Batch sizes for the learned cost: `least` keeps the request budget from limiting the rate
/// (fewer operations per request and the requests run out before the execution time does);
/// `best` also makes the round trip a small share of a batch's time, while keeping one batch
/// a small share of the execution budget so concurrent batches pace smoothly, not in bursts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchAdvice {
    pub least: usize,
    pub best: usize,
    /// The fewest operations by which splitting the last batches below `least` must shorten
    /// each for it to be worth their requests: those one round trip of the service's time
    /// executes (`usize::MAX`: never, where requests are what the budgets run out of first).
    pub split_saving: usize,
}

impl BatchAdvice {
    /// The execution budget, not the request budget, is what runs out first (known once a
    /// round trip was measured, as [`BatchAdvice::split_saving`] is).
    pub fn execution_binds(&self) -> bool {
        self.split_saving != usize::MAX
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
            drop(pacer.admit(1).await);
        }
        // 9 per 400 ms window (95 %): the 10th must wait for the first window to slide.
        assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn nothing_leaves_before_retry_after() {
        let pacer = Pacer::new(&Limits::default());
        pacer.throttled(Duration::from_millis(300));
        let started = Instant::now();
        drop(pacer.admit(1).await);
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn spent_execution_time_pauses_until_it_leaves_the_window() {
        let pacer = Pacer::new(&Limits { execution_ms: 1000, ..small() });
        pacer.finished(pacer.admit(1).await, Duration::from_millis(5), 1, Hints::default());
        pacer.finished(pacer.admit(1).await, Duration::from_millis(955), 1, Hints::default());
        let started = Instant::now();
        drop(pacer.admit(1).await);
        assert!(started.elapsed() >= Duration::from_millis(350), "{:?}", started.elapsed());
    }

    /// A 1-operation request of 10 ms (the round trip), then a 101-operation batch of 210 ms:
    /// 2 ms per operation.
    fn learned(limits: &Limits) -> Pacer {
        let pacer = Pacer::new(limits);
        pacer.finished(pacer.admit(1).now_or_never().unwrap(), Duration::from_millis(10), 1, Hints::default());
        pacer.finished(pacer.admit(101).now_or_never().unwrap(), Duration::from_millis(210), 101, Hints::default());
        pacer
    }

    trait NowOrNever: std::future::Future + Sized {
        fn now_or_never(self) -> Option<Self::Output> {
            let waker = std::task::Waker::noop();
            let mut cx = std::task::Context::from_waker(waker);
            let mut this = std::pin::pin!(self);
            match this.as_mut().poll(&mut cx) {
                std::task::Poll::Ready(out) => Some(out),
                std::task::Poll::Pending => None,
            }
        }
    }
    impl<F: std::future::Future> NowOrNever for F {}

    #[tokio::test]
    async fn the_learned_cost_is_reserved_for_batches_in_flight() {
        let pacer = learned(&Limits { window_ms: 10_000, requests: 1000, execution_ms: 1000, concurrency: 52 });
        assert_eq!(pacer.cost_per_op(), Some(Duration::from_millis(2)));
        // 200 ms spent; a batch of 200 predicts 400 ms: 600 of the 950 ms budget.
        let first = pacer.admit(200).now_or_never().expect("inside the budget");
        // Another 400 ms would pass the budget while the first is still running.
        assert!(pacer.admit(200).now_or_never().is_none(), "the second batch waits for the first");
        pacer.finished(first, Duration::from_millis(10), 1, Hints::default());
        assert!(pacer.admit(200).now_or_never().is_some(), "admitted once the first settled below its prediction");
    }

    #[tokio::test]
    async fn spent_time_that_leaves_the_window_before_a_request_completes_does_not_hold_it() {
        let pacer = learned(&Limits { window_ms: 1000, requests: 1000, execution_ms: 1000, concurrency: 52 });
        // 200 ms spent by the first batch, 700 more by a 351-operation batch (still 2 ms each):
        // 900 of the 950 ms budget.
        pacer.finished(pacer.admit(351).now_or_never().unwrap(), Duration::from_millis(710), 351, Hints::default());
        assert_eq!(pacer.cost_per_op(), Some(Duration::from_millis(2)));
        tokio::time::sleep(Duration::from_millis(800)).await;
        // 50 operations (100 ms) complete while the 900 ms are still in the window: they wait.
        assert!(pacer.admit(50).now_or_never().is_none(), "900 + 100 ms would be counted when it completes");
        // 200 operations (400 ms) complete after the 900 ms have left the window: they go now.
        let long = pacer.admit(200).now_or_never().expect("what it will be counted with is inside the budget");
        // And what is in flight counts in full for the next one, whenever it completes.
        assert!(pacer.admit(300).now_or_never().is_none(), "400 in flight and 600 predicted are past the budget");
        drop(long);
    }

    #[test]
    fn how_long_a_batch_would_wait_is_answered_without_admitting_it() {
        let pacer = learned(&Limits { window_ms: 10_000, requests: 1000, execution_ms: 1000, concurrency: 52 });
        // 2 ms learned, 200 ms spent: 300 operations (600 ms) fit the 950 ms budget, 400 do not.
        assert_eq!(pacer.wait_for(300), Duration::ZERO);
        assert!(pacer.wait_for(400) > Duration::from_secs(9), "until the 200 ms leave the window: {:?}", pacer.wait_for(400));
        // Asking reserved nothing: the same 300 are still admitted, and then count for the next.
        let slot = pacer.admit(300).now_or_never().expect("nothing was reserved by asking");
        assert!(pacer.wait_for(300) > Duration::ZERO, "the 600 ms in flight count");
        drop(slot);
        pacer.throttled(Duration::from_secs(2));
        assert!(pacer.wait_for(1) > Duration::from_millis(1900), "a Retry-After holds even one operation");
    }

    #[test]
    fn operations_handed_out_but_not_admitted_count_as_in_flight() {
        let pacer = learned(&Limits { window_ms: 10_000, requests: 1000, execution_ms: 1000, concurrency: 52 });
        // 2 ms learned, 200 ms spent: 300 operations (600 ms) fit the 950 ms budget alone,
        // not beside 100 handed out (200 ms more) that the pacer has not admitted yet.
        assert_eq!(pacer.wait_for_besides(300, 0), Duration::ZERO);
        assert!(pacer.wait_for_besides(300, 100) > Duration::ZERO);
        assert_eq!(pacer.wait_for_besides(300, 50), Duration::ZERO, "100 ms more still fit");
    }

    #[test]
    fn a_pacer_that_measured_nothing_starts_from_what_another_learned() {
        let limits = Limits { window_ms: 3000, requests: 60, execution_ms: 12_000, concurrency: 52 };
        let teacher = learned(&limits);
        teacher.batch_accepted(100);
        teacher.batch_refused(1000, Some(250));
        let pupil = Pacer::new(&limits);
        assert_eq!(pupil.batch_advice(1000), None);
        pupil.learn_from(&teacher);
        assert_eq!(pupil.cost_per_op(), Some(Duration::from_millis(2)));
        assert_eq!(pupil.batch_advice(1000), teacher.batch_advice(1000), "the same sizes at once, no probe");
        assert_eq!((pupil.largest_accepted(), pupil.size_cap()), (100, Some(250)));
        // Only what it learned: nothing of the other identity's window is charged to this one.
        assert_eq!(pupil.lock().spent_total, Duration::ZERO);
        assert_eq!(pupil.wait_for(400), Duration::ZERO);
        // One that measured for itself keeps its own cost.
        let other = Pacer::new(&limits);
        other.finished(other.admit(1).now_or_never().unwrap(), Duration::from_millis(10), 1, Hints::default());
        other.finished(other.admit(11).now_or_never().unwrap(), Duration::from_millis(60), 11, Hints::default());
        other.learn_from(&teacher);
        assert_eq!(other.cost_per_op(), Some(Duration::from_millis(5)));
    }

    #[test]
    fn a_429_makes_the_pacer_count_on_less_of_the_window_leaving_once_per_refusal() {
        let pacer = Pacer::new(&small());
        assert_eq!(pacer.lock().lead(), INITIAL_LEAD);
        pacer.throttled(Duration::from_secs(1));
        // The other requests in flight with the refused one are refused with it: no further step.
        pacer.throttled(Duration::from_secs(1));
        assert_eq!(pacer.lock().lead(), INITIAL_LEAD * LEAD_AFTER_429);
        pacer.lock().blocked_until = Some(Instant::now());
        pacer.throttled(Duration::from_secs(1));
        assert_eq!(pacer.lock().lead(), INITIAL_LEAD * LEAD_AFTER_429 * LEAD_AFTER_429, "a later refusal steps again");
    }

    #[test]
    fn the_lead_follows_the_shortest_batch_against_its_prediction() {
        let pacer = learned(&Limits { window_ms: 10_000, requests: 1000, execution_ms: 100_000, concurrency: 52 });
        // 2 ms learned: 100 operations predict 200 ms; taking 240 ms leaves the lead at all of it.
        pacer.finished(pacer.admit(100).now_or_never().unwrap(), Duration::from_millis(240), 100, Hints::default());
        assert_eq!(pacer.lock().lead(), 1.0);
        // One finished in 150 ms (three quarters of its prediction): 0.9 of that from now on.
        let cost = pacer.cost_per_op().unwrap().as_secs_f64();
        let slot = pacer.admit(100).now_or_never().unwrap();
        pacer.finished(slot, Duration::from_secs_f64(cost * 100.0 * 0.75), 100, Hints::default());
        assert!((pacer.lock().lead() - 0.675).abs() < 1e-6, "{}", pacer.lock().lead());
    }

    #[tokio::test]
    async fn what_the_service_last_said_it_counted_is_a_floor_for_a_moment() {
        let pacer = learned(&Limits { window_ms: 10_000, requests: 1000, execution_ms: 1000, concurrency: 52 });
        // The client measured 200 ms; the service says it counted 900 (remaining 0.10 s).
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-ms-ratelimit-time-remaining-xrm-requests", "0.10".parse().unwrap());
        pacer.finished(pacer.admit(1).now_or_never().unwrap(), Duration::from_millis(10), 1, Hints::from_headers(&headers));
        assert!(pacer.admit(30).now_or_never().is_none(), "900 counted and 30 operations predicted are past the 950 ms budget");
        // A window's tenth later the floor is gone: the client's own (calibrated) measure rules.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(pacer.admit(30).now_or_never().is_some());
    }

    #[test]
    fn batch_sizes_follow_the_cost_and_a_refusal_caps_them() {
        let limits = Limits { window_ms: 3000, requests: 60, execution_ms: 12_000, concurrency: 52 };
        let pacer = learned(&limits);
        pacer.batch_accepted(100);
        // 2 ms: 11,400 ms of budget over 57 requests, twice, is 200 operations a request.
        assert_eq!(pacer.batch_advice(1000).map(|a| a.least), Some(200));
        // The 10 ms round trip executes 5 operations: a split of the last batches must save more.
        assert_eq!(pacer.batch_advice(1000).map(|a| a.split_saving), Some(5));
        // A service that takes no more than 150 a batch: the request budget binds first, and
        // splitting would spend it. (Sizes still growing are not that: 1,600 here.)
        assert_eq!(pacer.batch_advice(150).map(|a| a.split_saving), Some(usize::MAX));
        pacer.batch_refused(1000, Some(250));
        assert_eq!(pacer.size_cap(), Some(250));
        pacer.batch_refused(250, None);
        assert_eq!(pacer.size_cap(), Some(125), "half of the refused size when the limit is not named (largest accepted: 100)");
        assert!(pacer.batch_advice(1000).unwrap().best <= 125);
        assert_eq!(Pacer::new(&limits).batch_advice(1000), None, "no advice before a batch was measured");
    }

    #[test]
    fn the_remaining_time_hint_calibrates_the_window_but_never_lowers_the_cost_per_operation() {
        let limits = Limits { window_ms: 10_000, requests: 1000, execution_ms: 2000, concurrency: 52 };
        let hinted = |remaining: &'static str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-ms-ratelimit-time-remaining-xrm-requests", remaining.parse().unwrap());
            headers.insert("x-ms-ratelimit-burst-remaining-xrm-requests", "997".parse().unwrap());
            Hints::from_headers(&headers)
        };
        // The service saw half of what the client measured (the reads' transfer, say).
        let hints = hinted("1.90");
        assert_eq!(hints.execution_remaining, Some(Duration::from_millis(1900)));
        assert_eq!(hints.requests_remaining, Some(997));
        let pacer = learned(&limits);
        for _ in 0..20 {
            pacer.finished(pacer.admit(1).now_or_never().unwrap(), Duration::from_millis(10), 1, hints);
        }
        assert_eq!(pacer.cost_per_op(), Some(Duration::from_millis(2)), "batches in flight are still predicted at the measured cost");
        assert!(
            pacer.lock().spent_now() < Duration::from_millis(150),
            "the window's count follows the service: {:?}",
            pacer.lock().spent_now()
        );
        // The service saw more than the client measured (another process with this identity):
        // both go up.
        let pacer = learned(&limits);
        for _ in 0..20 {
            pacer.finished(pacer.admit(1).now_or_never().unwrap(), Duration::from_millis(10), 1, hinted("1.40"));
        }
        assert!(pacer.cost_per_op().unwrap() > Duration::from_micros(2500), "calibrated up: {:?}", pacer.cost_per_op());
        assert!(Hints::from_headers(&reqwest::header::HeaderMap::new()).execution_remaining.is_none());
    }
}
