//! Service-protection limits (429) and the rate-limit headers.

mod common;

use std::time::Duration;

use common::Harness;
use dataverse_sim::{SimConfig, fixtures as fx};
use reqwest::StatusCode;
use uuid::Uuid;

fn admin() -> Uuid {
    fx::ADMIN_USER_ID.parse().unwrap()
}

#[tokio::test]
async fn request_limit_gives_429_with_retry_after() {
    let h = Harness::start(SimConfig { mailboxes: 1, queues: 0, limits_scale: 0.01, ..Default::default() }).await;
    let st = h.sim.state();
    for i in 0..60u64 {
        let r = h.get(fx::ADMIN_TOKEN, "WhoAmI").await;
        assert_eq!(r.status, StatusCode::OK, "request {i}");
        assert_eq!(r.header("x-ms-ratelimit-burst-remaining-xrm-requests"), Some((59 - i).to_string()));
        assert_eq!(r.header("x-ms-ratelimit-time-remaining-xrm-requests").as_deref(), Some("12.00"));
    }
    let r = h.get(fx::ADMIN_TOKEN, "WhoAmI").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.error(),
        ("0x80072322".to_string(), "Number of requests exceeded the limit of 60 over time window of 3 seconds.".to_string())
    );
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry), "{retry}");
    // Another caller is not affected.
    assert_eq!(h.get(fx::READER_TOKEN, "WhoAmI").await.status, StatusCode::OK);
    // Not waiting is counted.
    let r = h.get(fx::ADMIN_TOKEN, "WhoAmI").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    let s = st.limit_stats(admin());
    assert_eq!((s.requests, s.throttled, s.throttled_requests, s.before_retry_after), (62, 2, 2, 1));
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let r = h.get(fx::ADMIN_TOKEN, "WhoAmI").await;
    assert_eq!(r.status, StatusCode::OK, "admitted after Retry-After");
    assert_eq!(st.limit_stats(admin()).before_retry_after, 1);
    // `/_sim/stats` names the early request per caller, and in all.
    let doc = st.stats();
    assert_eq!(doc["before_retry_after"], 1, "{doc}");
    assert_eq!(doc["callers"][fx::ADMIN_USER_ID]["before_retry_after"], 1, "{doc}");
    assert_eq!(doc["callers"][fx::ADMIN_USER_ID]["throttled_requests"], 2, "{doc}");
    assert_eq!(doc["callers"][fx::READER_USER_ID]["before_retry_after"], 0, "{doc}");
    assert_eq!(st.requests().iter().filter(|r| r.status == 429).count(), 2, "429s are in the request log");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn batch_is_one_request_but_adds_execution_time() {
    let h = Harness::start(SimConfig { mailboxes: 1, queues: 0, limits_scale: 0.01, exec_cost_ms: 1000, ..Default::default() }).await;
    let st = h.sim.state();
    let mut body = String::new();
    for _ in 0..12 {
        body.push_str(
            "--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET WhoAmI HTTP/1.1\r\n\r\n\r\n",
        );
    }
    body.push_str("--batch_x--\r\n");
    let resp = h
        .http
        .post(h.api("$batch"))
        .bearer_auth(fx::ADMIN_TOKEN)
        .header("Content-Type", "multipart/mixed; boundary=batch_x")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Execution takes real time: the 12 s batch outlives the 3 s window, so by the time it is
    // charged its one request has already left the window.
    assert_eq!(resp.headers()["x-ms-ratelimit-burst-remaining-xrm-requests"], "60", "one request, expired");
    assert_eq!(resp.headers()["x-ms-ratelimit-time-remaining-xrm-requests"], "0.00", "12 operations × 1000 ms");
    let s = st.limit_stats(admin());
    assert_eq!((s.requests, s.execution_ms), (1, 12_000));
    let r = h.get(fx::ADMIN_TOKEN, "WhoAmI").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let (code, message) = r.error();
    assert_eq!(code, "0x80072321");
    assert_eq!(
        message,
        "Combined execution time of incoming requests exceeded limit of 12,000 milliseconds over time window of 3 seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later."
    );
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(st.limit_stats(admin()).throttled_execution_time, 1);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn concurrency_limit_and_latency() {
    let h = Harness::start(SimConfig { mailboxes: 1, queues: 0, limit_concurrent: 2, latency_ms: 400, ..Default::default() }).await;
    let st = h.sim.state();
    let started = std::time::Instant::now();
    let (a, b, c) = tokio::join!(h.get(fx::ADMIN_TOKEN, "WhoAmI"), h.get(fx::ADMIN_TOKEN, "WhoAmI"), h.get(fx::ADMIN_TOKEN, "WhoAmI"));
    assert!(started.elapsed() >= Duration::from_millis(400), "latency is slept");
    let mut statuses = vec![a.status.as_u16(), b.status.as_u16(), c.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 200, 429]);
    let throttled = [a, b, c].into_iter().find(|r| r.status == StatusCode::TOO_MANY_REQUESTS).unwrap();
    assert_eq!(throttled.error(), ("0x80072326".to_string(), "Number of concurrent requests exceeded the limit of 2.".to_string()));
    assert_eq!(throttled.header("retry-after").as_deref(), Some("1"));
    let s = st.limit_stats(admin());
    assert_eq!((s.throttled_concurrency, s.max_concurrent), (1, 2));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn limits_can_be_disabled() {
    let h = Harness::start(SimConfig { mailboxes: 1, queues: 0, limits_scale: 0.0005, limits_enabled: false, ..Default::default() }).await;
    for _ in 0..10 {
        let r = h.get(fx::ADMIN_TOKEN, "WhoAmI").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.header("x-ms-ratelimit-burst-remaining-xrm-requests").is_none());
        assert_eq!(r.header("x-ms-dop-hint").as_deref(), Some("8"));
    }
    assert_eq!(h.sim.state().limit_stats(admin()).requests, 10);
    h.sim.shutdown().await;
}
