//! When to try a request again and how long to wait first.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::Duration;

/// 429 (service protection), 502/503/504 (gateway and transient service faults).
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// A 500 may be a passing fault or a real error (a plug-in, bad data): it is tried this many
/// more times, then reported as it is.
const SERVER_ERROR_RETRIES: u32 = 2;

/// Whether an answer may be tried again, given how many 500s this request already drew.
pub fn may_retry(status: StatusCode, server_errors: u32) -> bool {
    is_retryable_status(status) || (status == StatusCode::INTERNAL_SERVER_ERROR && server_errors < SERVER_ERROR_RETRIES)
}

/// Resets, refused connections and timeouts: the request may or may not have reached the
/// service, which is only safe to repeat because every request here is a GET or an
/// idempotent PATCH.
/// A refused certificate or a proxy demanding authentication is not transient: the same
/// answer would come back on every retry.
pub fn is_transient(error: &reqwest::Error) -> bool {
    (error.is_timeout() || error.is_connect() || error.is_request()) && crate::transport::refusal(error).is_none()
}

/// `Retry-After` is honoured exactly when present (seconds, as Dataverse sends it);
/// otherwise exponential backoff.
pub fn delay(headers: &HeaderMap, attempt: u32) -> Duration {
    retry_after(headers).unwrap_or_else(|| backoff(attempt))
}

pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// 0.5 s, 1 s, 2 s … capped at 30 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1u64 << attempt.min(6))).min(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_used_exactly_and_backoff_grows_to_a_cap() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(delay(&headers, 3), Duration::from_secs(7));
        assert_eq!(delay(&HeaderMap::new(), 0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(20), Duration::from_secs(30));
        assert!(is_retryable_status(StatusCode::TOO_MANY_REQUESTS));
        assert!(!is_retryable_status(StatusCode::BAD_REQUEST));
        assert!(may_retry(StatusCode::INTERNAL_SERVER_ERROR, 0) && may_retry(StatusCode::INTERNAL_SERVER_ERROR, 1));
        assert!(!may_retry(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR_RETRIES), "a lasting 500 is reported");
        assert!(!may_retry(StatusCode::BAD_REQUEST, 0));
    }
}
