//! What the service's clock shows, learned from the `Date` header of its answers. A step that
//! matches the service's timestamps (a test's completion, an alert's creation) to moments of
//! its own needs the difference between the two clocks, which is unknown in advance: without
//! it, a generous tolerance (a minute) makes every poll of a long wait read again what it
//! already read.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::{DATE, HeaderMap};
use std::sync::Mutex;

#[derive(Default)]
pub struct ServiceClock {
    /// How far the service's clock is at least ahead of ours (negative: behind), once an
    /// answer carried a `Date`.
    ahead_at_least: Mutex<Option<TimeDelta>>,
}

impl ServiceClock {
    /// An answer that arrived at our `received` moment: its `Date` (whole seconds) was
    /// written before, so the service's clock showed at least that much when it arrived.
    pub fn observe(&self, headers: &HeaderMap, received: DateTime<Utc>) {
        let Some(date) = headers.get(DATE).and_then(|v| v.to_str().ok()).and_then(|v| DateTime::parse_from_rfc2822(v).ok()) else {
            return;
        };
        let ahead = date.with_timezone(&Utc) - received;
        let mut known = self.ahead_at_least.lock().unwrap_or_else(|p| p.into_inner());
        *known = Some(known.map_or(ahead, |k| k.max(ahead)));
    }

    /// The earliest time the service's clock can have shown at our moment `local`; `None`
    /// until an answer carried a `Date`.
    pub fn earliest_at(&self, local: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.ahead_at_least.lock().unwrap_or_else(|p| p.into_inner()).map(|ahead| local + ahead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn dated(date: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(DATE, HeaderValue::from_str(date).unwrap());
        headers
    }

    #[test]
    fn the_service_clock_is_bounded_by_the_latest_date_it_was_seen_at() {
        let clock = ServiceClock::default();
        assert_eq!(clock.earliest_at(at("2026-12-02T10:00:00Z")), None);
        // The service is 90 s ahead; its second answer shows it more precisely.
        clock.observe(&dated("Wed, 02 Dec 2026 10:01:29 GMT"), at("2026-12-02T10:00:00.500Z"));
        clock.observe(&dated("Wed, 02 Dec 2026 10:01:40 GMT"), at("2026-12-02T10:00:10.200Z"));
        assert_eq!(clock.earliest_at(at("2026-12-02T10:00:20Z")), Some(at("2026-12-02T10:01:49.800Z")));
        // A missing or malformed header changes nothing.
        clock.observe(&HeaderMap::new(), at("2026-12-02T10:00:30Z"));
        clock.observe(&dated("yesterday"), at("2026-12-02T10:00:30Z"));
        assert_eq!(clock.earliest_at(at("2026-12-02T10:00:20Z")), Some(at("2026-12-02T10:01:49.800Z")));
    }

    #[test]
    fn a_service_clock_behind_ours_gives_an_earlier_time() {
        let clock = ServiceClock::default();
        clock.observe(&dated("Wed, 02 Dec 2026 09:59:00 GMT"), at("2026-12-02T10:00:00Z"));
        assert_eq!(clock.earliest_at(at("2026-12-02T10:00:05Z")), Some(at("2026-12-02T09:59:05Z")));
    }
}
