//! Token renewal during a long run: the simulator issues 2-second tokens, and a paged listing
//! that takes several token lifetimes must finish with every page, renewing before expiry (the
//! token cache) and at most once per rejected request (the Web API client's 401 retry).

mod common;

use common::*;
use dataverse_sim::fixtures;
use std::time::{Duration, Instant};

#[test]
fn a_long_paged_listing_survives_several_token_renewals_without_a_failed_page() {
    let sim = Sim::start_with(|c| {
        c.mailboxes = 600;
        c.queues = 0;
        c.token_lifetime_secs = 2;
    });
    let state = sim.with_state(|s| s.state());
    let client = new_client(&secret_config(&sim.url, fixtures::CLIENT_SECRET)).unwrap();
    let (_, auth) = authenticate(&client, |_| {});
    auth.expect("connects");
    let calls_at_start = state.token_endpoint_calls();
    state.clear_requests();

    let started = Instant::now();
    let op = list_mailboxes(&client, r#"{"version":1,"page_size":10}"#).unwrap();
    let mut pages = 0;
    let mut rows = 0;
    loop {
        match next_event(&op, 30_000) {
            Next::Event(e) if e["type"] == "items" => {
                pages += 1;
                rows += e["items"].as_array().unwrap().len();
                // A slow consumer: the bounded event buffer (16 pages) holds the producer back, so
                // the listing spans about four token lifetimes.
                std::thread::sleep(Duration::from_millis(200));
            }
            Next::Event(_) => {}
            Next::TimedOut => panic!("no event within 30 s"),
            Next::End => break,
        }
    }
    let elapsed = started.elapsed();
    let result = op_result(&op).expect("every page was read");
    assert!(pages >= 60, "{pages} pages");
    assert_eq!(result["count"].as_u64().unwrap() as usize, rows);
    assert!(rows >= 600, "{rows} rows");
    assert!(elapsed > Duration::from_secs(10), "the run must outlive several 2 s tokens ({elapsed:?})");

    let renewals = state.token_endpoint_calls() - calls_at_start;
    assert!(renewals >= 4, "{renewals} token requests in {elapsed:?}: tokens must be renewed as they expire");
    assert!(renewals <= pages, "{renewals} renewals for {pages} pages: a token must be reused while fresh");

    let requests = state.requests();
    let failed: Vec<_> = requests.iter().filter(|r| r.status >= 400 && r.status != 401).collect();
    assert!(failed.is_empty(), "failed requests: {failed:?}");
    let rejected = requests.iter().filter(|r| r.status == 401).count();
    // Renewal happens a quarter-lifetime before expiry, so a 401 is rare; each one is retried once.
    assert!(rejected <= renewals, "{rejected} requests were rejected with 401");
    eprintln!("{pages} pages, {rows} rows in {elapsed:?}: {renewals} token requests, {rejected} requests answered 401 and retried");
}
