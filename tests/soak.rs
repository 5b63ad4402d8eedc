//! Soak: the whole procedure on an organization whose service fails often (503s, connection
//! resets after the write happened, slow responses, 500/502/504s, injected 429s besides those of
//! the scaled limits, tokens expiring every few seconds). Every mailbox must end in the right state or be reported failed with a
//! reason; nothing reported done may be undone; a second run converges.
//! Size: CRMSYNC_SOAK_MAILBOXES (default 2000; `build.ps1 -Task Soak` runs 10,000).

mod common;

use common::*;
use crmsync::ffi;
use dataverse_sim::{FaultConfig, fixtures};
use serde_json::Value;
use std::collections::HashMap;

fn size() -> usize {
    std::env::var("CRMSYNC_SOAK_MAILBOXES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

/// The truth, read from the simulator's store rather than through crmsync.
fn working_in_store(sim: &Sim) -> HashMap<String, bool> {
    sim.with_state(|s| {
        s.state()
            .rows("mailboxes")
            .iter()
            .map(|m| {
                let ok = m["incomingemaildeliverymethod"] == 2
                    && m["outgoingemaildeliverymethod"] == 2
                    && m["actdeliverymethod"] == 1
                    && m["emailrouteraccessapproval"] == 1
                    && m["mailboxstatus"] == 1;
                (m["mailboxid"].as_str().unwrap().to_ascii_lowercase(), ok)
            })
            .collect()
    })
}

fn final_outcomes(items: &[Value]) -> HashMap<String, (String, Value)> {
    let mut last = HashMap::new();
    for item in items.iter().filter(|i| i["step"] == "TestAndEnable") {
        last.insert(
            item["key"].as_str().unwrap().to_ascii_lowercase(),
            (item["outcome"].as_str().unwrap().to_owned(), item["error"].clone()),
        );
    }
    last
}

#[test]
fn the_procedure_survives_faults_and_a_second_run_converges() {
    let n = size();
    let sim = Sim::start_with(|c| {
        c.mailboxes = n;
        c.queues = n / 50;
        c.limits_scale = 0.01;
        c.latency_ms = 2;
        c.exec_cost_ms = 1;
        c.test_delay_ms = 300;
        c.token_lifetime_secs = 4;
        c.faults = FaultConfig {
            unavailable: 0.12,
            reset: 0.08,
            slow: 0.05,
            slow_ms: 400,
            token_expiry: 0.08,
            throttle: 0.06,
            throttle_retry_after_secs: 1,
            server_error: 0.04,
            ..c.faults.clone()
        };
    });
    // The application user approves email through the Delegated Mailbox Approver role, as an
    // administrator would set it up for unattended runs.
    sim.with_state(|s| s.state().assign_role(fixtures::APP_USER_ID.parse().unwrap(), fixtures::ROLE_DELEGATED_MAILBOX_APPROVER));
    let config = serde_json::json!({"version": 1, "url": sim.url, "max_retries": 12,
        "limits": {"window_ms": 3000, "requests": 60, "execution_ms": 12000, "concurrency": 52},
        "credential": {"kind": "client_secret", "tenant_id": fixtures::TENANT_ID, "client_id": fixtures::CLIENT_ID,
            "client_secret": fixtures::CLIENT_SECRET, "authority_host": sim.url}});
    let client = new_client(&config.to_string()).unwrap();
    let request = r#"{"version":1,"wait":true,"timeout_secs":300,"poll_interval_ms":300}"#;

    let (items, result) = run_op(&client, ffi::crmsync_setup_start, request);
    let result = result.expect("the procedure completes despite the faults");
    let faults = sim.with_state(|s| s.state().fault_stats());
    assert!(faults.unavailable > 0 && faults.resets > 0 && faults.token_expired > 0, "faults were injected: {faults:?}");
    let truth = working_in_store(&sim);
    let reported = final_outcomes(&items);
    assert_eq!(truth.len(), n + n / 50);
    for (id, working) in &truth {
        match reported.get(id) {
            Some((outcome, _)) if outcome == "Succeeded" => assert!(working, "{id} reported Succeeded but is not working"),
            Some((outcome, error)) => assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{id} {outcome} without a reason"),
            None => panic!("{id} has no Test & Enable outcome: {result}"),
        }
    }
    let done_first = truth.values().filter(|w| **w).count();

    let (_, second) = run_op(&client, ffi::crmsync_setup_start, request);
    second.expect("the second run completes");
    let truth = working_in_store(&sim);
    let done_second = truth.values().filter(|w| **w).count();
    assert_eq!(done_second, truth.len(), "the second run converges ({done_first} after the first, {done_second} after the second)");
    eprintln!("soak: {} mailboxes, {done_first} working after the first run, all after the second; faults {faults:?}", truth.len());
}
