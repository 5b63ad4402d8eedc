//! Fault injection seen by raw clients: 503, connection reset, slow responses, token expiry.

mod common;

use std::time::{Duration, Instant};

use common::Harness;
use dataverse_sim::{FaultConfig, SimConfig, fixtures as fx};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn with(faults: FaultConfig) -> SimConfig {
    SimConfig { mailboxes: 1, queues: 0, faults, ..Default::default() }
}

/// Send one raw HTTP/1.1 request; Ok(bytes received before EOF) or the read error.
async fn raw_get(url: &str, path: &str) -> std::io::Result<Vec<u8>> {
    let addr = url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n", fx::ADMIN_TOKEN);
    s.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    Ok(out)
}

#[tokio::test]
async fn injected_503_has_an_odata_body() {
    let h = Harness::start(with(FaultConfig { unavailable: 1.0, ..Default::default() })).await;
    let raw = raw_get(&h.sim.url(), "/api/data/v9.2/WhoAmI").await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{text}");
    assert!(
        text.contains("{\"error\":{\"code\":\"0x80040216\",\"message\":\"The service is temporarily unavailable. Try again later.\"}}")
    );
    assert_eq!(h.sim.state().fault_stats().unavailable, 1);
    // The token endpoint is left alone by default.
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope={}%2F.default",
        fx::CLIENT_ID,
        fx::CLIENT_SECRET,
        h.sim.url().replace(':', "%3A").replace('/', "%2F")
    );
    let resp = h
        .http
        .post(format!("{}/{}/oauth2/v2.0/token", h.sim.url(), fx::TENANT_ID))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn reset_drops_the_connection_without_a_response() {
    for after in [true, false] {
        let h = Harness::start(with(FaultConfig { reset: 1.0, reset_after_processing: after, ..Default::default() })).await;
        let st = h.sim.state();
        let mbx = st.mailbox_of(st.seed_ids().users[0]).unwrap();
        match raw_get(&h.sim.url(), "/api/data/v9.2/WhoAmI").await {
            Ok(bytes) => assert!(bytes.is_empty(), "no response bytes: {:?}", String::from_utf8_lossy(&bytes)),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        }
        // reqwest sees a transport error, not a status.
        let err = h
            .http
            .patch(h.api(&format!("mailboxes({mbx})")))
            .bearer_auth(fx::ADMIN_TOKEN)
            .header("Content-Type", "application/json")
            .body(r#"{"actdeliverymethod":1}"#)
            .send()
            .await
            .expect_err("connection reset");
        assert!(!err.is_status(), "{err}");
        let applied = st.row("mailboxes", mbx).unwrap()["actdeliverymethod"] == 1;
        assert_eq!(applied, after, "processed before the reset only when reset_after_processing");
        assert_eq!(st.fault_stats().resets, 2);
        h.sim.shutdown().await;
    }
}

#[tokio::test]
async fn slow_responses_and_early_token_expiry() {
    let h = Harness::start(with(FaultConfig { slow: 1.0, slow_ms: 300, token_expiry: 1.0, ..Default::default() })).await;
    let st = h.sim.state();
    let started = Instant::now();
    let r = h.get(fx::ADMIN_TOKEN, "WhoAmI").await;
    assert_eq!(r.status, StatusCode::OK, "fixture tokens never expire");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let token = st.issue_token(fx::APP_USER_ID.parse().unwrap(), Duration::from_secs(3600));
    let token = token.as_str();
    let r = h.get(token, "WhoAmI").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").unwrap().contains("The access token is expired"));
    let f = st.fault_stats();
    assert_eq!((f.slow, f.token_expired), (2, 1));
    h.sim.shutdown().await;
}
