//! Middleware in front of every route: fault injection (503, connection reset, slow responses,
//! early token expiry), service-protection limits per caller (429), simulated latency, and the
//! `x-ms-dop-hint` / `x-ms-ratelimit-*` response headers.
//!
//! Faults apply to Web API paths only, unless [`crate::FaultConfig::token_endpoint`] is set
//! (injected 429 and 500/502/504 apply to Web API paths only). Four numbers are drawn from
//! the fault RNG for every request, and three from a second RNG for the 429/5xx faults
//! (whatever the probabilities), so a given seed yields the same fault sequence for the same
//! request sequence, and adding the newer faults did not change the older sequences.
//!
//! `/_sim/*` bypasses all of it. The outer layer also keeps the `/_sim/stats` counters and
//! writes the `log_requests` lines.

use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::app::App;
use crate::auth::TokenCheck;
use crate::batch::BatchOps;
use crate::errors::ApiError;
use crate::limits::{Remaining, thousands};
use crate::net::ConnHandle;
use crate::routes::API_PREFIX;
use crate::seed::Rng;
use crate::store::RequestRecord;

/// Counts of injected faults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultStats {
    pub unavailable: u64,
    pub resets: u64,
    pub slow: u64,
    pub token_expired: u64,
    /// Injected 429s.
    pub throttled: u64,
    /// Injected 500/502/504s.
    pub server_errors: u64,
}

pub struct Faults {
    rng: Rng,
    rng2: Rng,
    pub stats: FaultStats,
}

fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Faults { rng: Rng::new(seed ^ 0xFA17_5EED_0BAD_F00D), rng2: Rng::new(seed ^ 0x5E4E_0429_0500_5EED), stats: FaultStats::default() }
    }

    fn hit(&mut self, p: f64) -> bool {
        unit(&mut self.rng) < p
    }

    /// (inject 429, inject 5xx, which 5xx).
    fn draw_more(&mut self, throttle: f64, server_error: f64) -> (bool, bool, StatusCode) {
        let t = unit(&mut self.rng2) < throttle;
        let e = unit(&mut self.rng2) < server_error;
        let status = match self.rng2.next_u64() % 3 {
            0 => StatusCode::INTERNAL_SERVER_ERROR,
            1 => StatusCode::BAD_GATEWAY,
            _ => StatusCode::GATEWAY_TIMEOUT,
        };
        (t, e, status)
    }
}

/// The caller (systemuserid) of a Web API request, attached to its response for the log.
#[derive(Clone, Copy)]
struct Caller(Uuid);

/// Marks a 429 sent by the service-protection limits.
#[derive(Clone, Copy)]
struct LimitThrottle;

/// Charges the admitted request even when the client goes away mid-request.
struct Ticket {
    app: App,
    user: Uuid,
    seq: u64,
    cost_ms: u64,
    remaining: Option<Remaining>,
}

impl Ticket {
    fn finish(&mut self, cost_ms: u64) -> Remaining {
        self.cost_ms = cost_ms;
        let r = self.app.limits().complete(self.user, self.seq, cost_ms, Instant::now());
        self.remaining = Some(r);
        r
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.remaining.is_none() {
            self.app.limits().complete(self.user, self.seq, self.cost_ms, Instant::now());
        }
    }
}

fn record(app: &App, req_method: &str, uri: &str, user: Option<Uuid>, status: StatusCode) {
    app.lock().requests.push(RequestRecord { method: req_method.to_string(), uri: uri.to_string(), user, status: status.as_u16() });
}

/// Seconds with two decimals and thousands separators (`1,199.98`), as the real header.
fn seconds_text(ms: u64) -> String {
    format!("{}.{:02}", thousands(ms / 1000), (ms % 1000) / 10)
}

fn unavailable() -> Response {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "0x80040216", "The service is temporarily unavailable. Try again later.").into_response()
}

/// An injected 500 (OData error body) or 502/504 (a gateway's HTML page, as a front end
/// would send it).
fn server_error(status: StatusCode) -> Response {
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        return ApiError::new(status, "0x80040216", "An unexpected error occurred.").into_response();
    }
    let reason = status.canonical_reason().unwrap_or("Error");
    let code = status.as_u16();
    let body = format!("<html><head><title>{code} {reason}</title></head><body><center><h1>{code} {reason}</h1></center></body></html>");
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    resp
}

/// Outer layer: `/_sim/*` passes straight through; everything else is counted (and logged
/// with `log_requests`) around [`guarded`].
pub async fn layer(State(app): State<App>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/_sim/") {
        return next.run(req).await;
    }
    let is_api = path.starts_with(API_PREFIX);
    let method = req.method().to_string();
    let started = Instant::now();
    app.counters().begin(is_api);
    // Counted even when the client goes away mid-request.
    struct Done {
        app: App,
        is_api: bool,
        method: String,
        status: Option<u16>,
    }
    impl Drop for Done {
        fn drop(&mut self) {
            // 499 (client closed request) when no response was produced.
            self.app.counters().end(self.is_api, &self.method, self.status.unwrap_or(499));
        }
    }
    let mut done = Done { app: app.clone(), is_api, method: method.clone(), status: None };
    let conn = req.extensions().get::<ConnectInfo<ConnHandle>>().map(|c| c.0.clone());
    let resp = guarded(app.clone(), req, next).await;
    if let Some(conn) = conn {
        conn.answered(Instant::now());
    }
    let status = resp.status();
    done.status = Some(status.as_u16());
    if status == StatusCode::TOO_MANY_REQUESTS && resp.extensions().get::<LimitThrottle>().is_some() {
        app.counters().throttled_limits += 1;
    }
    if app.config.log_requests {
        let caller = resp.extensions().get::<Caller>().map_or_else(|| "-".to_string(), |c| c.0.to_string());
        // The path only: no query string, no headers, no body (tokens and secrets never appear).
        // When it arrived (since the simulator started) and how long it took: a timeline.
        let at = started.duration_since(app.started).as_millis();
        eprintln!("{method} {path} {} caller={caller} {}ms at={at}ms", status.as_u16(), started.elapsed().as_millis());
    }
    resp
}

async fn guarded(app: App, req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with(API_PREFIX);
    let method = req.method().to_string();
    let uri = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let conn = req.extensions().get::<ConnectInfo<ConnHandle>>().map(|c| c.0.clone());
    let cfg = app.config.faults.clone();
    let (fail, reset, slow, expire) = {
        let mut f = app.faults();
        let draws = (f.hit(cfg.unavailable), f.hit(cfg.reset), f.hit(cfg.slow), f.hit(cfg.token_expiry));
        if is_api || cfg.token_endpoint { draws } else { (false, false, false, false) }
    };
    let expire = expire && is_api;
    let (throttle, fail_5xx, status_5xx) = {
        let mut f = app.faults();
        let draws = f.draw_more(cfg.throttle, cfg.server_error);
        if is_api { draws } else { (false, false, StatusCode::INTERNAL_SERVER_ERROR) }
    };
    if fail {
        app.faults().stats.unavailable += 1;
        record(&app, &method, &uri, None, StatusCode::SERVICE_UNAVAILABLE);
        return unavailable();
    }
    if fail_5xx {
        app.faults().stats.server_errors += 1;
        record(&app, &method, &uri, None, status_5xx);
        return server_error(status_5xx);
    }
    if throttle {
        app.faults().stats.throttled += 1;
        app.counters().throttled_injected += 1;
        let limits = app.limits().settings.clone();
        let message = format!(
            "Number of requests exceeded the limit of {} over time window of {} seconds.",
            limits.requests,
            crate::limits::window_text(limits.window)
        );
        let mut resp = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "0x80072322", message).into_response();
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(cfg.throttle_retry_after_secs));
        add_dop_hint(&app, &mut resp);
        record(&app, &method, &uri, None, StatusCode::TOO_MANY_REQUESTS);
        return resp;
    }
    if reset && let Some(c) = &conn {
        app.faults().stats.resets += 1;
        if !cfg.reset_after_processing {
            c.kill();
            return unavailable();
        }
    }
    let mut extra = Duration::ZERO;
    if slow {
        app.faults().stats.slow += 1;
        extra += Duration::from_millis(cfg.slow_ms);
    }

    let mut ticket = None;
    if is_api {
        let auth = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        let user = {
            let mut store = app.lock();
            if expire
                && let Some(token) = auth.as_deref().and_then(|a| a.trim().strip_prefix("Bearer ").or(a.trim().strip_prefix("bearer ")))
                && token.trim().starts_with("sim-issued-")
                && matches!(store.tokens.check(auth.as_deref()), TokenCheck::Valid(_))
            {
                store.tokens.expire(token.trim());
                drop(store);
                app.faults().stats.token_expired += 1;
                store = app.lock();
            }
            match store.tokens.check(auth.as_deref()) {
                TokenCheck::Valid(u) => Some(u),
                _ => None,
            }
        };
        if let Some(user) = user {
            let sent_after = conn.as_ref().and_then(ConnHandle::last_answer);
            let admitted = app.limits().admit(user, Instant::now(), sent_after);
            match admitted {
                Ok(seq) => ticket = Some(Ticket { app: app.clone(), user, seq, cost_ms: 0, remaining: None }),
                Err(t) => {
                    let mut resp = ApiError::new(StatusCode::TOO_MANY_REQUESTS, t.code, t.message).into_response();
                    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(t.retry_after_secs));
                    add_dop_hint(&app, &mut resp);
                    resp.extensions_mut().insert(Caller(user));
                    resp.extensions_mut().insert(LimitThrottle);
                    record(&app, &method, &uri, Some(user), StatusCode::TOO_MANY_REQUESTS);
                    return resp;
                }
            }
        }
        extra += Duration::from_millis(app.config.latency_ms);
    }
    if !extra.is_zero() {
        tokio::time::sleep(extra).await;
    }
    let mut resp = next.run(req).await;
    if let Some(t) = &ticket {
        resp.extensions_mut().insert(Caller(t.user));
    }
    if let Some(mut t) = ticket {
        let ops = resp.extensions().get::<BatchOps>().map_or(1, |b| b.0) as u64;
        let cost_ms = app.config.exec_cost_ms.saturating_mul(ops);
        // Execution takes real time on the service: a client sees it in the response time.
        if cost_ms > 0 {
            tokio::time::sleep(Duration::from_millis(cost_ms)).await;
        }
        let remaining = t.finish(cost_ms);
        if app.limits().settings.enabled {
            let h = resp.headers_mut();
            h.insert("x-ms-ratelimit-burst-remaining-xrm-requests", HeaderValue::from(remaining.requests));
            if let Ok(v) = HeaderValue::from_str(&seconds_text(remaining.execution_ms)) {
                h.insert("x-ms-ratelimit-time-remaining-xrm-requests", v);
            }
        }
    }
    if is_api {
        add_dop_hint(&app, &mut resp);
    }
    if reset
        && cfg.reset_after_processing
        && let Some(c) = &conn
    {
        c.kill();
    }
    resp
}

fn add_dop_hint(app: &App, resp: &mut Response) {
    resp.headers_mut().insert("x-ms-dop-hint", HeaderValue::from(app.config.dop_hint));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_format() {
        assert_eq!(seconds_text(1_200_000), "1,200.00");
        assert_eq!(seconds_text(1_199_985), "1,199.98");
        assert_eq!(seconds_text(0), "0.00");
    }

    #[test]
    fn draws_are_deterministic() {
        let mut a = Faults::new(7);
        let mut b = Faults::new(7);
        let xs: Vec<bool> = (0..64).map(|_| a.hit(0.5)).collect();
        let ys: Vec<bool> = (0..64).map(|_| b.hit(0.5)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().any(|x| *x) && xs.iter().any(|x| !*x));
        assert!(!(0..64).any(|_| a.hit(0.0)));
    }
}
