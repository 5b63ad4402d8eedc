//! Benchmark of the whole procedure against the simulator with scaled real limits, latency
//! and execution cost: a matrix of costs per operation, latencies, sizes and identities, and a
//! baseline that works as today's tools do (one request per record, in sequence).
//!
//! `cargo run --release --example bench -- [--quick] [--costs 0,2,5,10] [--latencies 5,50]
//!  [--sizes 2000,10000] [--pools 1,3] [--big 50000] [--big-cost 2] [--baseline-size 2000]
//!  [--baseline-costs 2,5] [--scale 0.01] [--test-delay-ms 1000] [--timeline]`
//!
//! `--quick` is the small subset for iterating: 2,000 mailboxes, 2 and 5 ms, 5 ms latency,
//! one and three identities, no 50,000 cell and no baseline.

use crmsync::Client;
use crmsync::documents::SetupRequest;
use crmsync::operation::{LongOperation, NextEvent};
use crmsync::steps::setup::run as setup;
use crmsync::webapi::WebApi;
use dataverse_sim::{SimConfig, Simulator, fixtures};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Params {
    costs: Vec<u64>,
    latencies: Vec<u64>,
    sizes: Vec<usize>,
    pools: Vec<usize>,
    big: usize,
    big_cost: u64,
    baseline_size: usize,
    baseline_costs: Vec<u64>,
    scale: f64,
    test_delay_ms: u64,
    /// Prints (to stderr) the execution charged and the requests of every caller, every
    /// half second, and the simulator's line for every request (when it arrived, how long it
    /// took): where a run falls behind its budgets.
    timeline: bool,
    /// Appends every request of every cell (cell, connection, sent and answered in ms from the
    /// cell's start, operations, answered) to this CSV file: where a run idles.
    trace: Option<String>,
}

fn numbers<T: std::str::FromStr>(value: &str) -> Vec<T> {
    value.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().ok().expect("numbers")).collect()
}

fn params() -> Params {
    let mut p = Params {
        costs: vec![0, 2, 5, 10],
        latencies: vec![5, 50],
        sizes: vec![2000, 10_000],
        pools: vec![1, 3],
        big: 50_000,
        big_cost: 2,
        baseline_size: 2000,
        baseline_costs: vec![2, 5],
        scale: 0.01,
        test_delay_ms: 1000,
        timeline: false,
        trace: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(name) = args.next() {
        if name == "--timeline" {
            p.timeline = true;
            continue;
        }
        if name == "--quick" {
            p = Params { costs: vec![2, 5], latencies: vec![5], sizes: vec![2000], big: 0, baseline_size: 0, ..p };
            continue;
        }
        let value = args.next().unwrap_or_default();
        match name.as_str() {
            "--costs" => p.costs = numbers(&value),
            "--latencies" => p.latencies = numbers(&value),
            "--sizes" => p.sizes = numbers(&value),
            "--pools" => p.pools = numbers(&value),
            "--big" => p.big = value.parse().expect("a number"),
            "--big-cost" => p.big_cost = value.parse().expect("a number"),
            "--baseline-size" => p.baseline_size = value.parse().expect("a number"),
            "--baseline-costs" => p.baseline_costs = numbers(&value),
            "--scale" => p.scale = value.parse().expect("a number"),
            "--test-delay-ms" => p.test_delay_ms = value.parse().expect("a number"),
            "--trace" => p.trace = Some(value),
            other => panic!("unknown option {other}"),
        }
    }
    p
}

/// One cell of the matrix.
#[derive(Clone, Copy)]
struct Cell {
    mailboxes: usize,
    cost_ms: u64,
    latency_ms: u64,
    identities: usize,
}

/// The identities of a pool, in order: each is its own caller with its own limits. The
/// approvals need the Microsoft 365 admin condition or the Delegated Mailbox Approver role,
/// which the second and third identities are given.
const POOL: [(&str, &str); 3] =
    [(fixtures::ADMIN_USER_ID, fixtures::ADMIN_TOKEN), (fixtures::SYSADMIN_USER_ID, fixtures::SYSADMIN_TOKEN), (fixtures::APP_USER_ID, "")];

/// The simulator on its own runtime, seeded the same for every run of a size.
struct Org {
    sim: Option<Simulator>,
    runtime: tokio::runtime::Runtime,
}

impl Org {
    fn new(p: &Params, cell: Cell) -> Org {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let config = SimConfig {
            mailboxes: cell.mailboxes,
            queues: cell.mailboxes / 50,
            limits_scale: p.scale,
            latency_ms: cell.latency_ms,
            exec_cost_ms: cell.cost_ms,
            test_delay_ms: p.test_delay_ms,
            // Every request's line (arrival and duration) on stderr: where the time goes.
            log_requests: p.timeline,
            ..SimConfig::default()
        };
        let sim = runtime.block_on(Simulator::start(config)).expect("simulator");
        for (user, _) in &POOL[1..] {
            sim.state().assign_role(user.parse().unwrap(), fixtures::ROLE_DELEGATED_MAILBOX_APPROVER);
        }
        Org { sim: Some(sim), runtime }
    }

    fn sim(&self) -> &Simulator {
        self.sim.as_ref().unwrap()
    }

    /// Every caller's counters, added up.
    fn stats(&self) -> dataverse_sim::limits::CallerStats {
        let mut sum = dataverse_sim::limits::CallerStats::default();
        for (user, _) in POOL {
            let s = self.sim().state().limit_stats(user.parse().unwrap());
            sum.requests += s.requests;
            sum.throttled += s.throttled;
            sum.throttled_requests += s.throttled_requests;
            sum.throttled_execution_time += s.throttled_execution_time;
            sum.throttled_concurrency += s.throttled_concurrency;
            sum.before_retry_after += s.before_retry_after;
            sum.arrived_during_retry_after += s.arrived_during_retry_after;
        }
        sum
    }
}

impl Drop for Org {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}

/// The client's view of the limits: the real ones, scaled as the simulator's.
fn limits(p: &Params) -> Value {
    json!({"window_ms": (300_000.0 * p.scale) as u64, "requests": (6000.0 * p.scale) as u64, "execution_ms": (1_200_000.0 * p.scale) as u64, "concurrency": 52})
}

fn connection(org: &Org, p: &Params, index: usize) -> Arc<Client> {
    let credential = if index == 2 {
        json!({"kind": "client_secret", "tenant_id": fixtures::TENANT_ID, "client_id": fixtures::CLIENT_ID,
            "client_secret": fixtures::CLIENT_SECRET, "authority_host": org.sim().url()})
    } else {
        json!({"kind": "access_token", "access_token": POOL[index].1})
    };
    let config = json!({"version": 1, "url": org.sim().url(), "max_retries": 50, "limits": limits(p), "credential": credential});
    Arc::new(Client::from_json(config.to_string().as_bytes()).expect("client"))
}

/// One connection, or a pool of `identities` application users (each with its own limits).
fn client(org: &Org, p: &Params, identities: usize) -> Arc<Client> {
    if identities <= 1 {
        return connection(org, p, 0);
    }
    let members: Vec<Arc<Client>> = (0..identities.min(POOL.len())).map(|i| connection(org, p, i)).collect();
    Arc::new(Client::pool(&members).expect("pool"))
}

/// Today's tools know nothing of the limits and only honour Retry-After.
fn unpaced_client(org: &Org) -> Arc<Client> {
    let config = json!({"version": 1, "url": org.sim().url(), "max_retries": 50,
        "limits": {"window_ms": 1, "requests": 1_000_000, "execution_ms": 1_000_000_000u64, "concurrency": 1000},
        "credential": {"kind": "access_token", "access_token": fixtures::ADMIN_TOKEN}});
    Arc::new(Client::from_json(config.to_string().as_bytes()).expect("client"))
}

/// Runs the whole procedure through crmsync's operation; returns the result document.
fn run_crmsync(client: Arc<Client>) -> Value {
    let request = SetupRequest { version: 1, wait: true, timeout_secs: Some(3600), poll_interval_ms: Some(500), ..SetupRequest::default() };
    let op = LongOperation::start(move |sink| async move { setup(client, request, sink).await.map(crmsync::documents::to_value) });
    // Where the time goes: when each step's first event arrived (printed to stderr).
    let started = Instant::now();
    let mut seen = std::collections::HashSet::new();
    loop {
        match op.next_event(Duration::from_secs(3600)) {
            NextEvent::Finished => break,
            NextEvent::Event(e) => {
                let step = e.step().unwrap_or_default();
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
    throttled: u64,
    /// 429s by the limit that sent them: requests, execution time, concurrency.
    by_limit: [u64; 3],
    early: u64,
    /// Arrived while a Retry-After ran, including requests in flight when the 429 was answered.
    arrived_during: u64,
}

fn measure(org: &Org, work: impl FnOnce()) -> Measured {
    let before = org.stats();
    let started = Instant::now();
    work();
    let wall = started.elapsed();
    let after = org.stats();
    Measured {
        wall,
        requests: after.requests - before.requests,
        throttled: after.throttled - before.throttled,
        by_limit: [
            after.throttled_requests - before.throttled_requests,
            after.throttled_execution_time - before.throttled_execution_time,
            after.throttled_concurrency - before.throttled_concurrency,
        ],
        early: after.before_retry_after - before.before_retry_after,
        arrived_during: after.arrived_during_retry_after - before.arrived_during_retry_after,
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

/// Reads any client must make, whatever it does: the organization's id and the profile's
/// id (one read each, to write the defaults and to point the mailboxes at the profile), the
/// mailboxes (5,000 rows a page) before writing, and their results once after the tests.
fn necessary_reads(mailboxes: usize) -> usize {
    2 + 2 * mailboxes.div_ceil(5000)
}

/// The fastest any client could finish with `identities` callers while staying inside the
/// limits' sustained rates: the necessary writes and reads at the execution-time budget's
/// rate (1,200,000 ms per 300,000 ms = 4 ms of execution per ms and caller, whatever the
/// scale; the simulator charges every operation, a read as one) or, when that is longer,
/// the requests they need (writes in batches of 1,000, one organization write, the reads)
/// at the request budget's rate; plus the test's own delay after the last write, and the
/// round trips of the first read and of the last (the results can only be read after the
/// tests ran).
///
/// What it leaves out, on purpose: the reads and writes this procedure chooses beyond those
/// (readiness checks, read-backs that verify, polls before the tests are done, alerts), which
/// would be measuring the procedure against itself; the service's own time besides the
/// charged execution (parsing, the test's scheduling). What it cannot know: the limits are
/// sliding windows that start empty, so a client that spent a whole window's budget at once
/// at the start (up to the concurrency limit) could finish up to one window (3 s at this
/// scale) sooner; for a run much longer than a window that is small, for a short one it is
/// not a strict lower bound (efficiency above 1 would be possible in principle).
fn lower_bound(p: &Params, cell: Cell, writes: usize) -> Duration {
    let callers = cell.identities as f64;
    let reads = necessary_reads(cell.mailboxes + cell.mailboxes / 50);
    let exec_ms = (writes + reads) as f64 * cell.cost_ms as f64 / (4.0 * callers);
    let requests_per_ms = 6000.0 / 300_000.0 * callers;
    let request_ms = (writes.div_ceil(1000) + 1 + reads) as f64 / requests_per_ms;
    let round_trips = 2 * (cell.latency_ms + cell.cost_ms);
    Duration::from_millis(exec_ms.max(request_ms) as u64 + p.test_delay_ms + round_trips)
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

struct Row {
    cell: Cell,
    measured: Measured,
    bound: Duration,
}

impl Row {
    fn efficiency(&self) -> f64 {
        self.bound.as_secs_f64() / self.measured.wall.as_secs_f64()
    }

    fn print(&self, label: &str) {
        let m = &self.measured;
        let pct = if m.requests > 0 { 100.0 * m.throttled as f64 / m.requests as f64 } else { 0.0 };
        let c = self.cell;
        println!(
            "| {label} | {} | {} | {} | {} | {:.1} s | {:.1} s | {:.2} | {} | {} ({pct:.1} %: {}/{}/{}) | {} ({} in flight) |",
            c.mailboxes + c.mailboxes / 50,
            c.cost_ms,
            c.latency_ms,
            c.identities,
            m.wall.as_secs_f64(),
            self.bound.as_secs_f64(),
            self.efficiency(),
            m.requests,
            m.throttled,
            m.by_limit[0],
            m.by_limit[1],
            m.by_limit[2],
            m.early,
            m.arrived_during.saturating_sub(m.early),
        );
    }
}

fn run_cell(p: &Params, cell: Cell) -> Row {
    let org = Org::new(p, cell);
    let writes = necessary_writes(&org);
    let bound = lower_bound(p, cell, writes);
    let measured = measure(&org, || {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = p.timeline.then(|| {
            let (state, stop) = (org.sim().state(), stop.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut next = Duration::from_millis(500);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                    if started.elapsed() < next {
                        continue;
                    }
                    next += Duration::from_millis(500);
                    let callers: Vec<String> = POOL
                        .iter()
                        .map(|(user, _)| state.limit_stats(user.parse().unwrap()))
                        .filter(|s| s.requests > 0)
                        .map(|s| format!("{} ms / {} requests", s.execution_ms, s.requests))
                        .collect();
                    eprintln!("  {:>6.1} s  charged {}", started.elapsed().as_secs_f64(), callers.join(", "));
                }
            })
        });
        let client = client(&org, p, cell.identities);
        for writer in client.writers() {
            writer.record_timeline();
        }
        let started = Instant::now();
        run_crmsync(client.clone());
        if let Some(path) = &p.trace {
            write_trace(path, cell, started, &client);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        sampler.map(std::thread::JoinHandle::join);
    });
    if p.timeline {
        // The requests by kind: the method and the path without ids and query.
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for r in org.sim().state().requests() {
            let path = r.uri.split('?').next().unwrap_or_default().rsplit("v9.2/").next().unwrap_or_default().to_string();
            let kind: String = path.split('(').next().unwrap_or_default().to_string();
            let function = path.rsplit(")/").next().filter(|_| path.contains(")/")).unwrap_or_default();
            *kinds.entry(format!("{} {kind} {function}", r.method)).or_default() += 1;
        }
        eprintln!("  requests by kind: {kinds:?}");
    }
    Row { cell, measured, bound }
}

/// Appends the requests of one run to the CSV file at `path` (header first when it is new).
fn write_trace(path: &str, cell: Cell, started: Instant, client: &Client) {
    use std::io::Write;
    let new = !std::path::Path::new(path).exists();
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("the trace file");
    if new {
        writeln!(file, "cell,connection,sent_ms,done_ms,operations,answered").unwrap();
    }
    let label = format!("{}/{}ms/{}ms/{}", cell.mailboxes + cell.mailboxes / 50, cell.cost_ms, cell.latency_ms, cell.identities);
    let ms = |t: Instant| t.saturating_duration_since(started).as_secs_f64() * 1000.0;
    for (connection, writer) in client.writers().iter().enumerate() {
        for span in writer.timeline() {
            writeln!(file, "{label},{connection},{:.1},{:.1},{},{}", ms(span.sent), ms(span.done), span.operations, span.answered).unwrap();
        }
    }
}

fn run_baseline_cell(p: &Params, cell: Cell) -> Row {
    let org = Org::new(p, cell);
    let bound = lower_bound(p, cell, necessary_writes(&org));
    let measured = measure(&org, || run_baseline(unpaced_client(&org)));
    Row { cell, measured, bound }
}

fn main() {
    let p = Arc::new(params());
    println!(
        "Simulator: limits scaled x{} (window {:.0} s, {} requests, {:.0} ms execution per window and caller, 52 concurrent), test delay {} ms.",
        p.scale,
        300.0 * p.scale,
        (6000.0 * p.scale) as u64,
        1_200_000.0 * p.scale,
        p.test_delay_ms
    );
    // The baselines take minutes (one request per record, under the request limit): they run
    // beside the matrix, each on an organization of its own.
    let baselines: Vec<_> = if p.baseline_size > 0 {
        p.baseline_costs
            .iter()
            .map(|&cost_ms| {
                let p = p.clone();
                let cell = Cell { mailboxes: p.baseline_size, cost_ms, latency_ms: 5, identities: 1 };
                std::thread::spawn(move || run_baseline_cell(&p, cell))
            })
            .collect()
    } else {
        Vec::new()
    };
    println!(
        "\n| run | mailboxes | ms per operation | latency ms | identities | wall time | lower bound | efficiency | requests | 429s (requests/execution/concurrency limit) | sent before Retry-After (arrived during it, sent before the 429 was answered) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for &mailboxes in &p.sizes {
        for &identities in &p.pools {
            for &latency_ms in &p.latencies {
                for &cost_ms in &p.costs {
                    let row = run_cell(&p, Cell { mailboxes, cost_ms, latency_ms, identities });
                    row.print("crmsync");
                    rows.push(row);
                }
            }
        }
    }
    if p.big > 0 {
        let row = run_cell(&p, Cell { mailboxes: p.big, cost_ms: p.big_cost, latency_ms: 5, identities: 1 });
        row.print("crmsync");
        rows.push(row);
    }
    for baseline in baselines {
        let base = baseline.join().expect("the baseline runs");
        base.print("baseline: one request per record, in sequence");
        let c = base.cell;
        if let Some(ours) = rows.iter().find(|r| {
            let o = r.cell;
            (o.mailboxes, o.cost_ms, o.latency_ms, o.identities) == (c.mailboxes, c.cost_ms, c.latency_ms, 1)
        }) {
            println!(
                "|   speedup at {} mailboxes, {} ms per operation: {:.1}x | | | | | | | | | | |",
                c.mailboxes + c.mailboxes / 50,
                c.cost_ms,
                base.measured.wall.as_secs_f64() / ours.measured.wall.as_secs_f64()
            );
        }
    }
    println!(
        "\nTargets: efficiency >= 0.85 from 2,000 mailboxes (>= 0.8 for pools, against their bound); <= 1 % of requests 429; none before Retry-After."
    );
    for row in &rows {
        let m = &row.measured;
        let target = if row.cell.identities > 1 { 0.8 } else { 0.85 };
        let share = if m.requests > 0 { m.throttled as f64 / m.requests as f64 } else { 0.0 };
        if row.efficiency() < target || share > 0.01 || m.early > 0 {
            let c = row.cell;
            println!(
                "  under target: {} mailboxes, {} ms, {} ms latency, {} identities: efficiency {:.2}, 429s {:.1} %, early {}",
                c.mailboxes + c.mailboxes / 50,
                c.cost_ms,
                c.latency_ms,
                c.identities,
                row.efficiency(),
                100.0 * share,
                m.early
            );
        }
    }
    println!("Peak memory of this process (simulators included): {:.0} MB", peak_rss_mb());
}
