//! The `dataverse-sim` binary prints one ready line and serves until killed.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn prints_ready_line_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dataverse-sim"))
        .args(["--port", "0", "--mailboxes", "4", "--queues", "2", "--seed", "9"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("{\"url\":\"http://127.0.0.1:"), "{line}");
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(ready["tenant_id"], dataverse_sim::fixtures::TENANT_ID);
    assert_eq!(ready["organization_id"], dataverse_sim::fixtures::ORGANIZATION_ID);
    assert_eq!(ready["mailboxes"], 4);
    assert_eq!(ready["queues"], 2);
    let url = ready["url"].as_str().unwrap();
    let resp = common::http_client()
        .get(format!("{url}/api/data/v9.2/mailboxes?$select=name&$count=true"))
        .bearer_auth(dataverse_sim::fixtures::READER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["@odata.count"], 6);
    child.kill().unwrap();
    child.wait().unwrap();
}
