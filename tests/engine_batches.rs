//! Batches against a service that caps their size, and the whole procedure's Test & Enable
//! overlapping its writes, asserted from the simulator's request log.

mod common;

use common::*;
use crmsync::ffi;
use dataverse_sim::fixtures;

#[test]
fn a_service_that_caps_batches_at_250_gets_every_item_written_and_no_failure() {
    let sim = Sim::start_with(|c| {
        // Enough that the shares of the slots are larger than the cap (4,000 over eight).
        c.mailboxes = 4000;
        c.queues = 0;
        c.batch_max_operations = 250;
        c.limits_enabled = false;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let (items, result) = run_op(&client, ffi::crmsync_mailboxes_configure_start, r#"{"version":1,"outgoing_email":"None"}"#);
    let result = result.unwrap();
    assert_eq!((result["changed"].as_u64(), result["failed"].as_u64()), (Some(4000), Some(0)), "{result}");
    assert!(items.iter().filter(|i| i["type"] == "item").all(|i| i["outcome"] == "Changed"), "no item reported the cap");
    let rows = sim.with_state(|s| s.state().rows("mailboxes"));
    assert!(rows.iter().filter(|m| m["statecode"] == 0).all(|m| m["outgoingemaildeliverymethod"] == 0), "every mailbox written");
    let requests = sim.with_state(|s| s.state().requests());
    let batches: Vec<u16> = requests.iter().filter(|r| r.uri.contains("$batch")).map(|r| r.status).collect();
    let refused = batches.iter().filter(|s| **s == 400).count();
    // Batches of up to 1,000 are tried while the cost is low; once refused, the connection
    // remembers the cap: only the batches already in flight can be refused as well.
    assert!(refused >= 1, "a batch larger than the cap was sent and refused: {batches:?}");
    assert!(refused <= 8, "the accepted size is remembered: {batches:?}");
    let accepted = batches.iter().filter(|s| **s == 200).count();
    let operations = sim.with_state(|s| s.state().batch_operations().len());
    assert_eq!(operations, 4000, "refused batches ran nothing; each mailbox was written once");
    assert!(accepted >= 4000 / 250, "{accepted} accepted batches of at most 250");
}

#[test]
fn the_procedure_schedules_the_first_tests_before_its_last_write() {
    let sim = Sim::start_with(|c| {
        c.mailboxes = 1000;
        c.queues = 0;
        c.test_delay_ms = 100;
        c.limits_enabled = false;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    // Every mailbox away from the procedure's delivery methods, so each needs a settings write.
    let (_, prepared) = run_op(&client, ffi::crmsync_mailboxes_configure_start, r#"{"version":1,"outgoing_email":"None"}"#);
    assert_eq!(prepared.unwrap()["failed"], 0);
    let before = sim.with_state(|s| s.state().batch_operations().len());
    let request = r#"{"version":1,"wait":true,"timeout_secs":120,"poll_interval_ms":200}"#;
    let (_, result) = run_op(&client, ffi::crmsync_setup_start, request);
    let result = result.unwrap();
    let test = result["steps"].as_array().unwrap().iter().find(|s| s["step"] == "TestAndEnable").unwrap().clone();
    assert_eq!(test["succeeded"].as_u64(), Some(1000), "{result}");
    // In the order the service ran them: a mailbox's first PATCH is its settings, its second
    // schedules its test (every seeded mailbox needs both); approval writes go to the owners.
    let operations = sim.with_state(|s| s.state().batch_operations().split_off(before));
    let mut seen = std::collections::HashMap::new();
    let mut first_test = None;
    let mut last_configuration = 0;
    for (at, op) in operations.iter().enumerate() {
        let path = op.uri.split('?').next().unwrap_or_default();
        if path.contains("/mailboxes(") {
            let count = seen.entry(path.to_string()).or_insert(0);
            *count += 1;
            if *count == 1 {
                last_configuration = at;
            } else if first_test.is_none() {
                first_test = Some(at);
            }
        } else if path.contains("/systemusers(") || path.contains("/queues(") {
            last_configuration = at;
        }
    }
    let first_test = first_test.expect("tests were scheduled");
    assert!(
        first_test < last_configuration,
        "the first test (operation {first_test}) went before the last settings or approval write (operation {last_configuration}) of {}",
        operations.len()
    );
    assert_eq!(seen.len(), 1000);
    let mut counts = std::collections::BTreeMap::new();
    for n in seen.values() {
        *counts.entry(*n).or_insert(0) += 1;
    }
    assert!(seen.values().all(|n| *n == 2), "one settings write and one test per mailbox: {counts:?}");
}
