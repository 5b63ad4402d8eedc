//! Cost of the synchronization cycle at scale: seeds N mailboxes (default 50,000), marks them
//! all tested and synchronizing, and prints how long one cycle of all of them and one worker
//! slice (`sync_slice`, 500) hold the store, and a request's latency meanwhile.
//! `cargo run --release -p dataverse-sim --example sync_cost -- 50000`

use std::time::Instant;

use dataverse_sim::{SimConfig, Simulator, fixtures};
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let t = Instant::now();
    let sim =
        Simulator::start(SimConfig { mailboxes: n, queues: 0, sync_interval_ms: 3_600_000, limits_enabled: false, ..SimConfig::default() })
            .await?;
    println!("seed {n} mailboxes: {} ms", t.elapsed().as_millis());
    let st = sim.state();
    let exo = st.seed_ids().exo_profile.to_string();
    let ids: Vec<Uuid> = st.with_store(|s| {
        let ids: Vec<Uuid> = s.rows("mailbox").filter_map(|r| r["mailboxid"].as_str()?.parse().ok()).collect();
        for id in &ids {
            let Value::Object(c) = json!({
                "_emailserverprofile_value": exo, "incomingemaildeliverymethod": 2, "outgoingemaildeliverymethod": 2, "actdeliverymethod": 1,
                "emailrouteraccessapproval": 1, "incomingemailstatus": 1, "outgoingemailstatus": 1, "actstatus": 1, "mailboxstatus": 1,
                "testmailboxaccesscompletedon": "2026-01-01T00:00:00Z",
            }) else { unreachable!() };
            s.update("mailbox", id, c, None);
        }
        ids
    });
    let t = Instant::now();
    let ran = st.run_sync_cycle(Some(&ids));
    let all = t.elapsed();
    println!("one cycle of all {ran} mailboxes: {} ms ({:.1} µs per mailbox)", all.as_millis(), all.as_micros() as f64 / ran as f64);
    let t = Instant::now();
    st.run_sync_cycle(None);
    println!("again, every mailbox in the cycle: {} ms", t.elapsed().as_millis());
    let slice = &ids[..ids.len().min(500)];
    let t = Instant::now();
    st.run_sync_cycle(Some(slice));
    println!(
        "one worker slice ({} mailboxes, the longest the store is held by a pass): {:.1} ms",
        slice.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    println!("in the cycle: {}", st.sync_queue().len());
    // A request while slices run back to back on another thread.
    let http = reqwest_free_get(&st.url(), ids[0]).await;
    println!("GET mailboxes(<id>) while idle: {http:.1} ms");
    sim.shutdown().await;
    Ok(())
}

/// One authenticated GET over a raw TCP connection (the crate's dev-dependency reqwest needs a
/// TLS provider setup; this keeps the example self-contained). Returns milliseconds.
async fn reqwest_free_get(base: &str, id: Uuid) -> f64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let t = Instant::now();
    let mut s = tokio::net::TcpStream::connect(host).await.expect("connect");
    let req = format!(
        "GET /api/data/v9.2/mailboxes({id})?$select=name HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        fixtures::ADMIN_TOKEN
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    assert!(out.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&out));
    t.elapsed().as_secs_f64() * 1000.0
}
