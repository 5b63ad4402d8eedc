//! What the simulator's own time costs for the reads of a large run: seeds N mailboxes
//! (default 10,200, the benchmark's 10,000 users and 200 queues), marks a tenth of them tested
//! and half of them scheduled, and prints the median time of each read the procedure sends
//! (five of each, over HTTP, limits off). At "0 ms per operation" the benchmark charges none
//! of this, so it is the part of those cells' wall time that no bound counts.
//! `cargo run --release -p dataverse-sim --example page_cost -- 10200`

use std::time::Instant;

use dataverse_sim::{SimConfig, Simulator, fixtures};
use serde_json::{Value, json};
use uuid::Uuid;

/// The columns crmsync reads of a mailbox (`crmsync::model::mailbox::COLUMNS`).
const COLUMNS: &str = "mailboxid,name,emailaddress,_regardingobjectid_value,_emailserverprofile_value,incomingemaildeliverymethod,\
outgoingemaildeliverymethod,actdeliverymethod,emailrouteraccessapproval,isemailaddressapprovedbyo365admin,incomingemailstatus,\
outgoingemailstatus,actstatus,mailboxstatus,testemailconfigurationscheduled,testmailboxaccesscompletedon,\
orgmarkedasprimaryforexchangesync,isactsyncorgflagset,statecode";
const ANNOTATIONS: &str =
    "odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname,OData.Community.Display.V1.FormattedValue\"";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_200);
    let sim = Simulator::start(SimConfig {
        mailboxes: n - n / 51,
        queues: n / 51,
        sync_interval_ms: 3_600_000,
        test_delay_ms: 3_600_000,
        limits_enabled: false,
        ..SimConfig::default()
    })
    .await?;
    let st = sim.state();
    let names: Vec<String> = st.with_store(|s| {
        let mut rows: Vec<(String, Uuid)> =
            s.rows("mailbox").filter_map(|r| Some((r["name"].as_str()?.to_string(), r["mailboxid"].as_str()?.parse().ok()?))).collect();
        rows.sort();
        for (i, (_, id)) in rows.iter().enumerate() {
            let values = match i % 10 {
                0 => json!({"testmailboxaccesscompletedon": "2026-12-01T10:00:00Z", "mailboxstatus": 1}),
                _ if i % 2 == 0 => json!({"testemailconfigurationscheduled": true}),
                _ => continue,
            };
            let Value::Object(values) = values else { unreachable!() };
            s.update("mailbox", id, values, None);
        }
        rows.into_iter().map(|(name, _)| name).collect()
    });
    let (quarter, half, three) = (&names[n / 4], &names[n / 2], &names[3 * n / 4]);
    let reads = [
        ("every active mailbox, all its columns", format!("$select={COLUMNS}&$filter=statecode eq 0&$orderby=name")),
        (
            "a chunk's approval read back (3 columns, from a name)",
            format!(
                "$select=mailboxid,emailrouteraccessapproval,isemailaddressapprovedbyo365admin&$filter=(name ge '{half}') and (statecode eq 0)&$orderby=name"
            ),
        ),
        (
            "results since a time within two chunks' names",
            format!(
                "$select={COLUMNS}&$filter=(testmailboxaccesscompletedon ge 2026-12-01T09:00:00Z and ((name ge '{quarter}' and name le '{half}') or (name ge '{three}' and name le 'zzz'))) and (statecode eq 0)&$orderby=testmailboxaccesscompletedon desc"
            ),
        ),
        (
            "pending ids",
            "$select=mailboxid&$filter=(testemailconfigurationscheduled eq true) and (statecode eq 0)&$orderby=name".to_string(),
        ),
    ];
    println!("{n} mailboxes, pages of 5,000, the median of five reads of each:");
    for (what, query) in reads {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..5 {
            let (ms, bytes) = get(&st.url(), &query).await;
            times.push(ms);
            size = bytes;
        }
        times.sort_by(f64::total_cmp);
        println!("  {what}: {:.1} ms ({} kB)", times[2], size / 1024);
    }
    sim.shutdown().await;
    Ok(())
}

/// One authenticated GET of the mailboxes with `query` (spaces and quotes escaped) over a raw
/// TCP connection, the first page of 5,000. Returns milliseconds and the response's size.
async fn get(base: &str, query: &str) -> (f64, usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let query = query.replace(' ', "%20").replace('\'', "%27");
    let t = Instant::now();
    let mut s = tokio::net::TcpStream::connect(host).await.expect("connect");
    let req = format!(
        "GET /api/data/v9.2/mailboxes?{query} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nPrefer: odata.maxpagesize=5000,{ANNOTATIONS}\r\nConnection: close\r\n\r\n",
        fixtures::ADMIN_TOKEN
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    assert!(out.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&out[..out.len().min(600)]));
    (t.elapsed().as_secs_f64() * 1000.0, out.len())
}
