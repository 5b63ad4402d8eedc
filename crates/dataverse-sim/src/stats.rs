//! Counters served by `GET /_sim/stats` (and [`crate::SimState::stats`]): HTTP requests by
//! method and status, write operations, 429s, concurrency and injected faults.
//!
//! Counted: every request that reaches the simulator except `/_sim/*` itself (Web API and
//! token endpoints alike). A write operation is a PATCH/PUT/POST/DELETE on a Web API resource
//! (not `$batch` itself); each operation inside a `$batch` counts once, whatever its outcome.

use std::collections::BTreeMap;

use serde_json::{Value, json};

#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub requests: u64,
    pub by_method: BTreeMap<String, u64>,
    pub by_status: BTreeMap<u16, u64>,
    pub writes: u64,
    /// 429 responses sent: by the service-protection limits, and injected.
    pub throttled_limits: u64,
    pub throttled_injected: u64,
    /// Web API requests in flight now, and the most seen at once (all callers).
    pub in_flight: usize,
    pub max_in_flight: usize,
}

impl Counters {
    pub fn begin(&mut self, is_api: bool) {
        if is_api {
            self.in_flight += 1;
            self.max_in_flight = self.max_in_flight.max(self.in_flight);
        }
    }

    pub fn end(&mut self, is_api: bool, method: &str, status: u16) {
        if is_api {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        self.requests += 1;
        *self.by_method.entry(method.to_string()).or_default() += 1;
        *self.by_status.entry(status).or_default() += 1;
    }

    /// Forget everything but the requests in flight now.
    pub fn reset(&mut self) {
        let in_flight = self.in_flight;
        *self = Counters { in_flight, max_in_flight: in_flight, ..Default::default() };
    }
}

/// The `/_sim/stats` document.
pub fn document(app: &crate::app::App) -> Value {
    let c = app.counters().clone();
    let limits = app.limits().all_stats();
    let faults = app.faults().stats.clone();
    let per_caller: serde_json::Map<String, Value> = limits
        .iter()
        .map(|(u, s)| {
            (
                u.to_string(),
                json!({
                    "requests": s.requests,
                    "throttled": s.throttled,
                    "throttled_requests": s.throttled_requests,
                    "throttled_execution_time": s.throttled_execution_time,
                    "throttled_concurrency": s.throttled_concurrency,
                    "before_retry_after": s.before_retry_after,
                    "arrived_during_retry_after": s.arrived_during_retry_after,
                    "max_concurrent": s.max_concurrent,
                    "execution_ms": s.execution_ms,
                }),
            )
        })
        .collect();
    let by_status: serde_json::Map<String, Value> = c.by_status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let throttled_requests: u64 = limits.values().map(|s| s.throttled_requests).sum();
    let throttled_execution: u64 = limits.values().map(|s| s.throttled_execution_time).sum();
    let throttled_concurrency: u64 = limits.values().map(|s| s.throttled_concurrency).sum();
    let before_retry_after: u64 = limits.values().map(|s| s.before_retry_after).sum();
    let arrived_during_retry_after: u64 = limits.values().map(|s| s.arrived_during_retry_after).sum();
    json!({
        "requests": c.requests,
        "requests_by_method": c.by_method,
        "requests_by_status": by_status,
        "write_operations": c.writes,
        "throttled": {
            "total": c.throttled_limits + c.throttled_injected,
            "limits": c.throttled_limits,
            "requests": throttled_requests,
            "execution_time": throttled_execution,
            "concurrency": throttled_concurrency,
            "injected": c.throttled_injected,
        },
        "before_retry_after": before_retry_after,
        "arrived_during_retry_after": arrived_during_retry_after,
        "concurrency": {
            "max_overall": c.max_in_flight,
            "max_per_caller": limits.values().map(|s| s.max_concurrent).max().unwrap_or(0),
            "in_flight": c.in_flight,
        },
        "callers": per_caller,
        "faults": {
            "total": faults.unavailable + faults.resets + faults.slow + faults.token_expired + faults.throttled + faults.server_errors,
            "unavailable_503": faults.unavailable,
            "throttled_429": faults.throttled,
            "server_errors_5xx": faults.server_errors,
            "resets": faults.resets,
            "slow": faults.slow,
            "token_expired": faults.token_expired,
        },
    })
}
