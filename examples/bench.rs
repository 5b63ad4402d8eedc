//! Benchmark of the whole procedure against the simulator with scaled real limits, latency
//! and execution cost: crmsync against a baseline that works as today's tools do (one
//! request per record, in sequence), on identical organizations, in one run.
//!
//! `cargo run --release --example bench -- [--baseline-size 2000] [--sizes 10000,50000]
//!  [--scale 0.01] [--latency-ms 5] [--exec-cost-ms 2] [--test-delay-ms 1000]`

use crmsync::Client;
use crmsync::operation::{LongOperation, NextEvent};
use crmsync::steps::setup::{SetupRequest, run as setup};
use crmsync::webapi::WebApi;
use dataverse_sim::{SimConfig, Simulator, fixtures};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Params {
    baseline_size: usize,
    sizes: Vec<usize>,
    scale: f64,
    latency_ms: u64,
    exec_cost_ms: u64,
    test_delay_ms: u64,
}

fn params() -> Params {
    let mut p =
        Params { baseline_size: 2000, sizes: vec![10_000, 50_000], scale: 0.01, latency_ms: 5, exec_cost_ms: 2, test_delay_ms: 1000 };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        match pair[0].as_str() {
            "--baseline-size" => p.baseline_size = value.parse().expect("a number"),
            "--sizes" => p.sizes = value.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().expect("numbers")).collect(),
            "--scale" => p.scale = value.parse().expect("a number"),
            "--latency-ms" => p.latency_ms = value.parse().expect("a number"),
            "--exec-cost-ms" => p.exec_cost_ms = value.parse().expect("a number"),
            "--test-delay-ms" => p.test_delay_ms = value.parse().expect("a number"),
            other => panic!("unknown option {other}"),
        }
    }
    p
}

/// The simulator on its own runtime; seeded the same for every run of a size.
struct Org {
    sim: Option<Simulator>,
    runtime: tokio::runtime::Runtime,
}

impl Org {
    fn new(p: &Params, mailboxes: usize) -> Org {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let config = SimConfig {
            mailboxes,
            queues: mailboxes / 50,
            limits_scale: p.scale,
            latency_ms: p.latency_ms,
            exec_cost_ms: p.exec_cost_ms,
            test_delay_ms: p.test_delay_ms,
            ..SimConfig::default()
        };
        let sim = runtime.block_on(Simulator::start(config)).expect("simulator");
        Org { sim: Some(sim), runtime }
    }

    fn sim(&self) -> &Simulator {
        self.sim.as_ref().unwrap()
    }

    fn stats(&self) -> dataverse_sim::limits::CallerStats {
        self.sim().state().limit_stats(fixtures::ADMIN_USER_ID.parse().unwrap())
    }

    fn operations(&self) -> usize {
        let s = self.sim().state();
        s.requests().iter().filter(|r| !r.uri.contains("$batch")).count() + s.batch_operations().len()
    }
}

impl Drop for Org {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}

fn client(org: &Org, p: &Params, paced: bool) -> Arc<Client> {
    // Pace against the limits the simulator enforces (the real ones, scaled); the baseline,
    // like today's tools, knows nothing of them and only honours Retry-After.
    let limits = if paced {
        json!({"window_ms": (300_000.0 * p.scale) as u64, "requests": (6000.0 * p.scale) as u64, "execution_ms": (1_200_000.0 * p.scale) as u64, "concurrency": 52})
    } else {
        json!({"window_ms": 1, "requests": 1_000_000, "execution_ms": 1_000_000_000u64, "concurrency": 1000})
    };
    let config = json!({"version": 1, "url": org.sim().url(), "max_retries": 50, "limits": limits,
        "credential": {"kind": "access_token", "access_token": fixtures::ADMIN_TOKEN}});
    Arc::new(Client::from_json(config.to_string().as_bytes()).expect("client"))
}

/// Runs the whole procedure through crmsync's operation; returns the result document.
fn run_crmsync(client: Arc<Client>) -> Value {
    let request = SetupRequest { version: 1, wait: true, timeout_secs: Some(3600), poll_interval_ms: Some(500), ..SetupRequest::default() };
    let op = LongOperation::start(move |sink| setup(client, request, sink));
    // Where the time goes: when each step's first event arrived (printed to stderr).
    let started = Instant::now();
    let mut seen = std::collections::HashSet::new();
    loop {
        match op.next_event(Duration::from_secs(3600)) {
            NextEvent::Finished => break,
            NextEvent::Event(e) => {
                let step = e["step"].as_str().unwrap_or_default();
                if seen.insert(step.to_string()) {
                    eprintln!("  {:>6.1} s  {step}", started.elapsed().as_secs_f64());
                }
            }
            NextEvent::TimedOut => {}
        }
    }
    eprintln!("  {:>6.1} s  done", started.elapsed().as_secs_f64());
    op.result().expect("finished").expect("the procedure succeeds")
}

/// Today's tools: every row read, then one request per record and step, in sequence, then one
/// GET per mailbox until its test has finished.
fn run_baseline(client: Arc<Client>) {
    crmsync::runtime::get().block_on(async move {
        let api: &WebApi = client.api();
        let who = api.get("WhoAmI", &[]).await.unwrap();
        let org = who["OrganizationId"].as_str().unwrap().to_string();
        let profiles = api.get("emailserverprofiles?$select=emailserverprofileid,name", &[]).await.unwrap();
        let exo = profiles["value"].as_array().unwrap().iter().find(|p| p["name"] == fixtures::EXO_PROFILE_NAME).unwrap()["emailserverprofileid"]
            .as_str()
            .unwrap()
            .to_string();
        let settings = "<EmailSettings><IncomingEmailDeliveryMethod>2</IncomingEmailDeliveryMethod><OutgoingEmailDeliveryMethod>2</OutgoingEmailDeliveryMethod><ACTDeliveryMethod>1</ACTDeliveryMethod></EmailSettings>";
        let body = json!({"defaultemailserverprofileid@odata.bind": format!("/emailserverprofiles({exo})"), "defaultemailsettings": settings, "emailconnectionchannel": 0});
        api.patch(&format!("organizations({org})"), &body, Some("*")).await.unwrap();
        let mut mailboxes: Vec<Value> = Vec::new();
        let prefer = ["odata.include-annotations=\"*\""];
        let mut next = Some(api.resolve("mailboxes?$select=mailboxid,_regardingobjectid_value").unwrap());
        while let Some(url) = next {
            let page = api.get_page(url, &prefer).await.unwrap();
            mailboxes.extend(page.rows);
            next = page.next_link;
        }
        for m in &mailboxes {
            let id = m["mailboxid"].as_str().unwrap();
            let body = json!({"emailserverprofile@odata.bind": format!("/emailserverprofiles({exo})"), "incomingemaildeliverymethod": 2, "outgoingemaildeliverymethod": 2, "actdeliverymethod": 1});
            api.patch(&format!("mailboxes({id})"), &body, Some("*")).await.unwrap();
        }
        for m in &mailboxes {
            let owner = m["_regardingobjectid_value"].as_str().unwrap();
            let set = if m["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "queue" { "queues" } else { "systemusers" };
            api.patch(&format!("{set}({owner})"), &json!({"emailrouteraccessapproval": 1}), Some("*")).await.unwrap();
        }
        for m in &mailboxes {
            let id = m["mailboxid"].as_str().unwrap();
            api.patch(&format!("mailboxes({id})"), &json!({"testemailconfigurationscheduled": true}), Some("*")).await.unwrap();
        }
        for m in &mailboxes {
            let id = m["mailboxid"].as_str().unwrap();
            loop {
                let row = api.get(&format!("mailboxes({id})?$select=testemailconfigurationscheduled"), &[]).await.unwrap();
                if row["testemailconfigurationscheduled"] == false {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    });
}

struct Measured {
    wall: Duration,
    requests: u64,
    operations: usize,
    throttled: u64,
    /// 429s by the limit that sent them: requests, execution time, concurrency.
    by_limit: [u64; 3],
    early: u64,
}

fn measure(org: &Org, work: impl FnOnce()) -> Measured {
    let before = org.stats();
    let ops_before = org.operations();
    let started = Instant::now();
    work();
    let wall = started.elapsed();
    let after = org.stats();
    Measured {
        wall,
        requests: after.requests - before.requests,
        operations: org.operations() - ops_before,
        throttled: after.throttled - before.throttled,
        by_limit: [
            after.throttled_requests - before.throttled_requests,
            after.throttled_execution_time - before.throttled_execution_time,
            after.throttled_concurrency - before.throttled_concurrency,
        ],
        early: after.before_retry_after - before.before_retry_after,
    }
}

/// The write operations any client must make on this organization, counted from its rows
/// before the run: per active mailbox, one for its settings unless they are already right, one
/// for approval unless approved, one Test & Enable unless it already works.
fn necessary_writes(org: &Org) -> usize {
    let state = org.sim().state();
    let profiles = state.rows("emailserverprofiles");
    let exo = profiles.iter().find(|p| p["name"] == fixtures::EXO_PROFILE_NAME).and_then(|p| p["emailserverprofileid"].as_str());
    let exo = exo.map(str::to_ascii_lowercase);
    state
        .rows("mailboxes")
        .iter()
        .filter(|m| m["statecode"] == 0)
        .map(|m| {
            let configured = m["_emailserverprofile_value"].as_str().map(str::to_ascii_lowercase) == exo
                && m["incomingemaildeliverymethod"] == 2
                && m["outgoingemaildeliverymethod"] == 2
                && m["actdeliverymethod"] == 1;
            let approved = m["emailrouteraccessapproval"] == 1;
            let working = configured && approved && m["mailboxstatus"] == 1;
            usize::from(!configured) + usize::from(!approved) + usize::from(!working)
        })
        .sum()
}

/// The fastest any client could finish: the necessary writes at the execution-time budget's
/// rate (1,200,000 ms per 300,000 ms = 4 ms of execution per ms, whatever the scale), plus the
/// test's own delay. Reads, latency and the first small batches are not counted.
fn lower_bound(p: &Params, writes: usize) -> Duration {
    let exec_ms = writes as f64 * p.exec_cost_ms as f64 / 4.0;
    Duration::from_millis(exec_ms as u64 + p.test_delay_ms)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn row(label: &str, size: usize, m: &Measured, lb: Duration) {
    let pct = if m.requests > 0 { 100.0 * m.throttled as f64 / m.requests as f64 } else { 0.0 };
    println!(
        "| {label} | {size} | {:.1} s | {} | {} | {} ({pct:.2} %; by limit: {} requests, {} execution, {} concurrency) | {} | {:.1} s | {:.2} |",
        m.wall.as_secs_f64(),
        m.requests,
        m.operations,
        m.throttled,
        m.by_limit[0],
        m.by_limit[1],
        m.by_limit[2],
        m.early,
        lb.as_secs_f64(),
        lb.as_secs_f64() / m.wall.as_secs_f64()
    );
}

fn main() {
    let p = params();
    println!(
        "Simulator: limits scaled x{} (window {:.0} s, {} requests, {:.0} ms execution per window, 52 concurrent), latency {} ms, execution {} ms per operation, test delay {} ms.",
        p.scale,
        300.0 * p.scale,
        (6000.0 * p.scale) as u64,
        1_200_000.0 * p.scale,
        p.latency_ms,
        p.exec_cost_ms,
        p.test_delay_ms
    );
    println!("\n| run | mailboxes | wall time | requests | operations | 429s | sent before Retry-After | lower bound | efficiency |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut speedup = None;
    if p.baseline_size > 0 {
        let n = p.baseline_size;
        let total = n + n / 50;
        let org = Org::new(&p, n);
        let lb = lower_bound(&p, necessary_writes(&org));
        let ours = measure(&org, || {
            run_crmsync(client(&org, &p, true));
        });
        row("crmsync", total, &ours, lb);
        let org = Org::new(&p, n);
        let base = measure(&org, || run_baseline(client(&org, &p, false)));
        row("baseline (1 request per record, sequential)", total, &base, lb);
        speedup = Some(base.wall.as_secs_f64() / ours.wall.as_secs_f64());
    }
    for &n in &p.sizes {
        let total = n + n / 50;
        let org = Org::new(&p, n);
        let lb = lower_bound(&p, necessary_writes(&org));
        let first = measure(&org, || {
            run_crmsync(client(&org, &p, true));
        });
        row("crmsync", total, &first, lb);
        let writes_before = org.sim().state().requests().iter().filter(|r| r.method != "GET").count();
        let second = measure(&org, || {
            run_crmsync(client(&org, &p, true));
        });
        let writes = org.sim().state().requests().iter().filter(|r| r.method != "GET").count() - writes_before;
        row("crmsync, second run", total, &second, Duration::ZERO);
        println!(
            "|   second run: {writes} writes, {:.2} requests per 1,000 mailboxes | | | | | | | | |",
            second.requests as f64 * 1000.0 / total as f64
        );
    }
    if let Some(s) = speedup {
        println!("\nSpeedup of crmsync over the baseline at {} mailboxes: {s:.1}x", p.baseline_size + p.baseline_size / 50);
    }
    println!("Peak memory of this process (simulator included): {:.0} MB", peak_rss_mb());
}
