//! The health report (Get-CrmMailboxHealth) on 10,000 and 50,000 mailboxes against the
//! simulator (real service-protection limits, a mix of states and injected failures): the
//! requests it sends and its wall time. `cargo run --release --example bench_health [-- 10000 50000]`

use crmsync::Client;
use crmsync::documents::{Event, HealthRequest};
use crmsync::operation::{LongOperation, NextEvent, Pulled};
use crmsync::steps::health;
use dataverse_sim::health::FailureKind;
use dataverse_sim::{SimConfig, Simulator, fixtures};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![10_000, 50_000] } else { sizes };
    println!("| mailboxes | requests | wall time | rows | unhealthy |\n|---|---|---|---|---|");
    for n in sizes {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let config = SimConfig {
            mailboxes: n,
            queues: n / 100,
            mixed_states: true,
            health_mix: vec![(FailureKind::License, 0.02), (FailureKind::OwnerMismatch, 0.01), (FailureKind::Timeout, 0.01)],
            ..SimConfig::default()
        };
        let sim = runtime.block_on(Simulator::start(config)).unwrap();
        let state = sim.state();
        let client_config = serde_json::json!({"version": 1, "url": sim.url(), "credential": {"kind": "access_token", "access_token": fixtures::ADMIN_TOKEN}});
        let client = Arc::new(Client::from_json(client_config.to_string().as_bytes()).unwrap());
        let before = state.request_count();
        let started = Instant::now();
        let op = LongOperation::start(move |sink| async move {
            health::run(client, HealthRequest { version: 1, ..HealthRequest::default() }, sink).await.map(crmsync::documents::to_value)
        });
        let mut rows = 0usize;
        loop {
            match op.next_event(Duration::from_secs(600)) {
                NextEvent::Event(Pulled::Event { event: Event::Health(_), .. }) => rows += 1,
                NextEvent::Event(_) => {}
                NextEvent::TimedOut => panic!("no event in 10 minutes"),
                NextEvent::Finished => break,
            }
        }
        let elapsed = started.elapsed();
        let summary = op.result().expect("finished").expect("the health report succeeds");
        let requests = state.request_count() - before;
        println!("| {n} | {requests} | {:.2} s | {rows} | {} |", elapsed.as_secs_f64(), summary["unhealthy"]);
        runtime.block_on(sim.shutdown());
    }
}
