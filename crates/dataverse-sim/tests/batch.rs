//! `$batch`: parts, change sets, continue-on-error, limits on size.

mod common;

use common::Harness;
use dataverse_sim::{SimConfig, fixtures as fx};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const B: &str = "batch_5e1f";

fn op(method: &str, url: &str, body: Option<&Value>, content_id: Option<&str>) -> String {
    let mut s = String::from("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(c) = content_id {
        s.push_str(&format!("Content-ID: {c}\r\n"));
    }
    s.push_str(&format!("\r\n{method} {url} HTTP/1.1\r\n"));
    match body {
        Some(b) => s.push_str(&format!("Content-Type: application/json; type=entry\r\n\r\n{b}\r\n")),
        None => s.push_str("Accept: application/json\r\n\r\n"),
    }
    s
}

fn batch(parts: &[String]) -> String {
    let mut s = String::new();
    for p in parts {
        s.push_str(&format!("--{B}\r\n{p}"));
    }
    s.push_str(&format!("--{B}--\r\n"));
    s
}

fn changeset(name: &str, ops: &[String]) -> String {
    let mut s = format!("Content-Type: multipart/mixed; boundary=\"{name}\"\r\n\r\n");
    for o in ops {
        s.push_str(&format!("--{name}\r\n{o}"));
    }
    s.push_str(&format!("--{name}--\r\n"));
    s
}

struct BatchReply {
    status: StatusCode,
    content_type: String,
    preference_applied: Option<String>,
    text: String,
}

impl BatchReply {
    /// Status codes of the inner responses, in order.
    fn statuses(&self) -> Vec<u16> {
        self.text.lines().filter_map(|l| l.strip_prefix("HTTP/1.1 ")).map(|l| l[..3].parse().unwrap()).collect()
    }
}

async fn send_batch(h: &Harness, body: String, continue_on_error: bool) -> BatchReply {
    let mut req = h
        .http
        .post(h.api("$batch"))
        .bearer_auth(fx::ADMIN_TOKEN)
        .header("Content-Type", format!("multipart/mixed; boundary=\"{B}\""))
        .header("Accept", "application/json")
        .header("OData-Version", "4.0");
    if continue_on_error {
        req = req.header("Prefer", "odata.continue-on-error");
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status();
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    let preference_applied = resp.headers().get("preference-applied").map(|v| v.to_str().unwrap().to_string());
    BatchReply { status, content_type, preference_applied, text: resp.text().await.unwrap() }
}

fn mailboxes(h: &Harness) -> (Uuid, Uuid, Uuid) {
    let st = h.sim.state();
    let u = &st.seed_ids().users;
    (st.mailbox_of(u[0]).unwrap(), st.mailbox_of(u[1]).unwrap(), st.mailbox_of(u[2]).unwrap())
}

#[tokio::test]
async fn continue_on_error_reports_every_part() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let (a, b, c) = mailboxes(&h);
    let parts = [
        op("PATCH", &format!("/api/data/v9.2/mailboxes({a})"), Some(&json!({"incomingemaildeliverymethod": 2})), None),
        op("PATCH", &format!("{}/api/data/v9.2/mailboxes({b})", h.sim.url()), Some(&json!({"incomingemaildeliverymethod": 99})), None),
        op("PATCH", &format!("mailboxes({c})"), Some(&json!({"incomingemaildeliverymethod": 2})), None),
        op("GET", &format!("/api/data/v9.2/mailboxes({c})?$select=incomingemaildeliverymethod"), None, None),
    ];
    let r = send_batch(&h, batch(&parts), true).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("multipart/mixed; boundary=batchresponse_"), "{}", r.content_type);
    assert_eq!(r.preference_applied.as_deref(), Some("odata.continue-on-error"));
    assert_eq!(r.statuses(), vec![204, 400, 204, 200], "{}", r.text);
    let boundary = r.content_type.split("boundary=").nth(1).unwrap();
    assert!(
        r.text.starts_with(&format!(
            "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\n"
        )),
        "{}",
        r.text
    );
    assert!(r.text.trim_end().ends_with(&format!("--{boundary}--")));
    assert!(r.text.contains(&format!("OData-EntityId: {}/api/data/v9.2/mailboxes({a})", h.sim.url())));
    assert!(r.text.contains("\"code\":\"0x8004431A\""), "PicklistValueOutOfRange: {}", r.text);
    assert!(r.text.contains("\"incomingemaildeliverymethod\":2"), "the GET sees the earlier PATCH");
    assert_eq!(st.row("mailboxes", a).unwrap()["incomingemaildeliverymethod"], 2);
    assert_eq!(st.row("mailboxes", b).unwrap()["incomingemaildeliverymethod"], 0);
    assert_eq!(st.row("mailboxes", c).unwrap()["incomingemaildeliverymethod"], 2);
    // One HTTP request, four operations, same principal.
    assert_eq!(st.request_count(), 1);
    let ops = st.batch_operations();
    assert_eq!(ops.iter().map(|o| o.status).collect::<Vec<_>>(), vec![204, 400, 204, 200]);
    assert!(ops.iter().all(|o| o.user == Some(fx::ADMIN_USER_ID.parse().unwrap())));
    assert_eq!(ops[0].uri, format!("/api/data/v9.2/mailboxes({a})"));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn without_continue_on_error_stops_at_first_failure() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let (a, b, c) = mailboxes(&h);
    let parts = [
        op("PATCH", &format!("/api/data/v9.2/mailboxes({a})"), Some(&json!({"incomingemaildeliverymethod": 2})), None),
        op("PATCH", &format!("/api/data/v9.2/mailboxes({b})"), Some(&json!({"nosuchcolumn": 1})), None),
        op("PATCH", &format!("/api/data/v9.2/mailboxes({c})"), Some(&json!({"incomingemaildeliverymethod": 2})), None),
    ];
    let r = send_batch(&h, batch(&parts), false).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.preference_applied.is_none());
    assert_eq!(r.statuses(), vec![204, 400], "{}", r.text);
    assert!(r.text.contains("The property 'nosuchcolumn' does not exist"), "{}", r.text);
    assert_eq!(st.row("mailboxes", a).unwrap()["incomingemaildeliverymethod"], 2, "parts before the failure stay applied");
    assert_eq!(st.row("mailboxes", c).unwrap()["incomingemaildeliverymethod"], 0, "parts after the failure do not run");
    // Privileges apply per operation: the reader cannot write inside a batch either.
    let body = batch(&[op("PATCH", &format!("mailboxes({c})"), Some(&json!({"incomingemaildeliverymethod": 2})), None)]);
    let resp = h
        .http
        .post(h.api("$batch"))
        .bearer_auth(fx::READER_TOKEN)
        .header("Content-Type", format!("multipart/mixed;boundary={B}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let text = resp.text().await.unwrap();
    assert!(text.contains("HTTP/1.1 403 Forbidden") && text.contains("is missing prvWriteMailbox privilege"), "{text}");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn change_set_is_atomic_and_references_content_ids() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let (a, b, _) = mailboxes(&h);
    let before_a = st.row("mailboxes", a).unwrap();
    let before_b = st.row("mailboxes", b).unwrap();
    let failing = changeset(
        "changeset_1",
        &[
            op("PATCH", &format!("/api/data/v9.2/mailboxes({a})"), Some(&json!({"incomingemaildeliverymethod": 2})), Some("1")),
            op("PATCH", &format!("/api/data/v9.2/mailboxes({b})"), Some(&json!({"outgoingemaildeliverymethod": 2})), Some("2")),
            op("PATCH", &format!("/api/data/v9.2/mailboxes({b})"), Some(&json!({"actdeliverymethod": 7})), Some("3")),
        ],
    );
    let r = send_batch(&h, batch(&[failing]), false).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.statuses(), vec![400], "{}", r.text);
    assert!(r.text.contains("Content-ID: 3\r\n"), "{}", r.text);
    assert!(!r.text.contains("changesetresponse_"), "a failed change set is answered by its error alone");
    assert_eq!(st.row("mailboxes", a).unwrap(), before_a, "rolled back");
    assert_eq!(st.row("mailboxes", b).unwrap(), before_b, "rolled back");

    // A successful change set, with $1 in a URL, then a GET outside it.
    let ok = changeset(
        "changeset_2",
        &[
            op("PATCH", &format!("/api/data/v9.2/mailboxes({a})"), Some(&json!({"incomingemaildeliverymethod": 2})), Some("1")),
            op("PATCH", "$1", Some(&json!({"outgoingemaildeliverymethod": 2})), Some("2")),
        ],
    );
    let get = op("GET", &format!("mailboxes({a})?$select=outgoingemaildeliverymethod"), None, None);
    let r = send_batch(&h, batch(&[ok, get]), false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.statuses(), vec![204, 204, 200]);
    assert!(r.text.contains("Content-Type: multipart/mixed; boundary=changesetresponse_"));
    assert!(r.text.contains("Content-ID: 1\r\n") && r.text.contains("Content-ID: 2\r\n"));
    let row = st.row("mailboxes", a).unwrap();
    assert_eq!((row["incomingemaildeliverymethod"].as_i64(), row["outgoingemaildeliverymethod"].as_i64()), (Some(2), Some(2)));

    // Unknown reference → 400 for that operation.
    let bad = changeset("changeset_3", &[op("PATCH", "$7", Some(&json!({"outgoingemaildeliverymethod": 0})), Some("1"))]);
    let r = send_batch(&h, batch(&[bad]), true).await;
    assert_eq!(r.statuses(), vec![400]);
    assert!(r.text.contains("Content-ID Reference: '$7' does not exist in the batch context."), "{}", r.text);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn structural_errors_refuse_the_whole_batch() {
    let h = Harness::start(SimConfig { mailboxes: 2, queues: 0, ..Default::default() }).await;
    let st = h.sim.state();
    let parts: Vec<String> = (0..1001).map(|_| op("GET", "WhoAmI", None, None)).collect();
    let r = send_batch(&h, batch(&parts), true).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(v["error"]["code"], "0x80060888");
    assert_eq!(
        v["error"]["message"],
        "The current batch message contains too many parts. Only batch messages with a maximum number of '1000' query operations, including changeset operations, are allowed."
    );
    assert!(st.batch_operations().is_empty(), "nothing ran");
    // Exactly 1000 is fine.
    let r = send_batch(&h, batch(&parts[..1000]), false).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.statuses().len(), 1000);
    // GET inside a change set.
    let cs = changeset("changeset_g", &[op("GET", "WhoAmI", None, Some("1"))]);
    let r = send_batch(&h, batch(&[cs]), false).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("An invalid HTTP method 'GET' was detected for a request in a change set."), "{}", r.text);
    // Missing Content-ID in a change set; wrong content type of the batch.
    let mbx = st.mailbox_of(st.seed_ids().users[0]).unwrap();
    let cs = changeset("changeset_n", &[op("PATCH", &format!("mailboxes({mbx})"), Some(&json!({"actdeliverymethod": 1})), None)]);
    assert_eq!(send_batch(&h, batch(&[cs]), false).await.status, StatusCode::BAD_REQUEST);
    let resp = h
        .http
        .post(h.api("$batch"))
        .bearer_auth(fx::ADMIN_TOKEN)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    h.sim.shutdown().await;
}
