//! The `dataverse-sim` binary: `listening on …` then the JSON ready line, the CLI options.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use dataverse_sim::fixtures;
use serde_json::Value;

struct Running {
    child: Child,
    first: String,
    ready: Value,
}

impl Running {
    fn url(&self) -> String {
        self.ready["url"].as_str().unwrap().to_string()
    }

    /// Kill the process and return its stderr.
    fn stop(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            e.read_to_string(&mut err).unwrap();
        }
        err
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dataverse-sim"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let ready: Value = serde_json::from_str(&second).unwrap_or_else(|e| panic!("second line is the JSON ready document ({e}): {second}"));
    Running { child, first, ready }
}

async fn count(url: &str) -> (u16, Value) {
    let resp = common::http_client()
        .get(format!("{url}/api/data/v9.2/mailboxes?$select=name&$count=true"))
        .bearer_auth(fixtures::READER_TOKEN)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.text().await.unwrap()).unwrap())
}

#[tokio::test]
async fn prints_listening_line_then_ready_document_and_serves() {
    let r = start(&["--port", "0", "--mailboxes", "4", "--queues", "2", "--seed", "9"]);
    let url = r.url();
    assert_eq!(r.first, format!("listening on {url}\n"), "first line");
    let port: u16 = url.strip_prefix("http://127.0.0.1:").expect("127.0.0.1 URL").parse().unwrap();
    assert_ne!(port, 0);
    assert_eq!(r.ready["tenant_id"], fixtures::TENANT_ID);
    assert_eq!(r.ready["organization_id"], fixtures::ORGANIZATION_ID);
    assert_eq!(r.ready["mailboxes"], 4);
    assert_eq!(r.ready["queues"], 2);
    let (status, body) = count(&url).await;
    assert_eq!(status, 200);
    assert_eq!(body["@odata.count"], 6);
    r.stop();
}

#[tokio::test]
async fn listen_users_limits_and_request_log() {
    // A free port, then --listen on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let r = start(&["--listen", &listen, "--users", "3", "--queues", "0", "--limits", "scale=0.01", "--log-requests"]);
    assert_eq!(r.first, format!("listening on http://127.0.0.1:{port}\n"));
    assert_eq!(r.ready["mailboxes"], 3);
    let url = r.url();
    let (_, body) = count(&url).await;
    assert_eq!(body["@odata.count"], 3);
    // scale=0.01: 60 requests per 3 s window.
    let mut statuses = Vec::new();
    for _ in 0..61 {
        statuses.push(count(&url).await.0);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 59, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
    let stderr = r.stop();
    let reader = fixtures::READER_USER_ID;
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("GET /api/data/v9.2/mailboxes ")).collect();
    assert_eq!(lines.len(), 62, "{stderr}");
    assert!(lines[0].starts_with(&format!("GET /api/data/v9.2/mailboxes 200 caller={reader} ")), "{}", lines[0]);
    assert!(lines[0].ends_with("ms"), "{}", lines[0]);
    assert!(lines.iter().any(|l| l.contains(" 429 caller=")), "{stderr}");
    assert!(!stderr.contains("$select") && !stderr.contains(fixtures::READER_TOKEN), "no query string, no token: {stderr}");
}

#[test]
fn bad_options_are_refused() {
    for args in [
        &["--limits", "fast"][..],
        &["--limits", "scale=0"],
        &["--limits", "off", "--no-limits"],
        &["--listen", "127.0.0.1:0", "--port", "0"],
        &["--listen", "nowhere"],
        &["--health-mix", "nosuch=0.1"],
        &["--health-mix", "license=0.7,timeout=0.7"],
        &["--transient-attempts", "0"],
        &["--sync-interval-ms", "-1"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_dataverse-sim")).args(args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
    }
}

#[tokio::test]
async fn limits_off_admits_everything() {
    let r = start(&["--limits", "off", "--mailboxes", "1", "--queues", "0", "--limit-concurrent", "1"]);
    let url = r.url();
    let all = futures_join(&url, 8).await;
    assert!(all.iter().all(|s| *s == 200), "{all:?}");
    r.stop();
}

async fn futures_join(url: &str, n: usize) -> Vec<u16> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let url = url.to_string();
        set.spawn(async move { count(&url).await.0 });
    }
    let mut out = Vec::new();
    while let Some(s) = set.join_next().await {
        out.push(s.unwrap());
    }
    out
}

#[tokio::test]
async fn day_two_options_reach_the_simulator() {
    let r = start(&[
        "--mailboxes",
        "20",
        "--queues",
        "2",
        "--health-mix",
        "license=0.25,queue-team-without-role=0.5",
        "--sync-interval-ms",
        "700",
        "--transient-attempts",
        "4",
    ]);
    let health: Value = common::http_client().get(format!("{}/_sim/health", r.url())).send().await.unwrap().json().await.unwrap();
    // license: round(0.25 × 20 users) + round(0.25 × 2 queues) = 5 + 1; the other queue gets the team.
    assert_eq!(health["counts"], serde_json::json!({"license": 6, "queue-team-without-role": 1}), "{health}");
    assert_eq!((health["sync_interval_ms"].as_u64(), health["transient_attempts"].as_u64()), (Some(700), Some(4)));
    r.stop();
}
