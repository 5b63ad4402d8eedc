//! The setups of one multi-environment run (`"ownership"` in the setup request) against separate
//! simulators: they compare the mailboxes their selection reads returned, each leaves out the
//! addresses another one owns (`refused` events), and each makes the requests a setup alone makes.

mod common;

use common::*;
use crmsync::ffi::{self, Status};
use dataverse_sim::fixtures;
use serde_json::{Value, json};
use std::ptr;
use std::time::{Duration, Instant};

fn start_setup(client: &Client, request: &str) -> Op {
    let (mut op, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { ffi::crmsync_setup_start(client.0, request.as_ptr(), request.len(), &mut op, &mut error) };
    assert_eq!(status, Status::Ok, "{:?}", take(error));
    Op(op)
}

type Outcome = (Vec<Value>, Result<Value, (Status, Value)>);

/// Pulls the events of every operation in turn (as the PowerShell module does): the setups of
/// one group wait for each other, so none may be drained alone.
fn run_together(ops: &[Op]) -> Vec<Outcome> {
    let mut events: Vec<Vec<Value>> = vec![Vec::new(); ops.len()];
    let mut results: Vec<Option<Result<Value, (Status, Value)>>> = (0..ops.len()).map(|_| None).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while results.iter().any(Option::is_none) {
        assert!(Instant::now() < deadline, "the group did not finish within 60 s");
        for (i, op) in ops.iter().enumerate() {
            if results[i].is_some() {
                continue;
            }
            match next_event(op, 10) {
                Next::Event(e) => events[i].push(e),
                Next::TimedOut => {}
                Next::End => results[i] = Some(op_result(op)),
            }
        }
    }
    events.into_iter().zip(results).map(|(e, r)| (e, r.expect("finished"))).collect()
}

fn group_request(group: &str, environment: &str, what_if: bool) -> String {
    json!({"version": 1, "what_if": what_if, "ownership": {"group": group, "environment": environment, "environments": 2, "at_once": 1}})
        .to_string()
}

fn refused(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["type"] == "refused").collect()
}

#[test]
fn each_environment_leaves_out_the_addresses_another_owns_without_a_request_of_its_own() {
    let production = Sim::start(8, 1);
    let copy = Sim::start(8, 1);
    let a = new_client(&token_config(&production.url, fixtures::ADMIN_TOKEN)).unwrap();
    let b = new_client(&token_config(&copy.url, fixtures::ADMIN_TOKEN)).unwrap();
    // Production owns every address: organization-primary and tested.
    let (_, owned) =
        run_op(&a, ffi::crmsync_setup_start, r#"{"version":1,"sync_with_this_org_only":true,"wait":true,"poll_interval_ms":100}"#);
    owned.unwrap();

    // The copy alone (what-if: its plan and its requests), measured on a warm connection as the
    // grouped run will be: a connection asks who it is once and keeps the answer.
    run_op(&b, ffi::crmsync_setup_start, r#"{"version":1,"what_if":true}"#).1.unwrap();
    let before = copy.with_state(|s| s.state().request_count());
    let (alone, plan) = run_op(&b, ffi::crmsync_setup_start, r#"{"version":1,"what_if":true}"#);
    let alone_requests = copy.with_state(|s| s.state().request_count()) - before;
    assert_eq!(plan.unwrap()["mailboxes"], 9);
    assert!(alone.len() > 9, "the copy alone plans every mailbox");

    // Both in one group: the copy refuses every address, with no request more than alone.
    let group = uuid::Uuid::new_v4().to_string();
    let before = copy.with_state(|s| s.state().request_count());
    let ops = [start_setup(&a, &group_request(&group, "production", true)), start_setup(&b, &group_request(&group, "copy", true))];
    let outcomes = run_together(&ops);
    let grouped_requests = copy.with_state(|s| s.state().request_count()) - before;
    let (prod_events, prod_result) = &outcomes[0];
    let (copy_events, copy_result) = &outcomes[1];
    assert_eq!(grouped_requests, alone_requests, "the ownership check reads nothing of its own");
    assert!(refused(prod_events).is_empty(), "production owns its addresses: {:?}", refused(prod_events));
    assert_eq!(prod_result.as_ref().unwrap()["mailboxes"], 9);
    let left_out = refused(copy_events);
    assert_eq!(left_out.len(), 9, "every address of the copy is production's");
    for r in &left_out {
        assert_eq!(r["step"], "Ownership");
        assert_eq!(r["owned_by"], json!(["production"]));
        assert!(r["email_address"].as_str().unwrap().contains('@'));
    }
    assert_eq!(copy_result.as_ref().unwrap()["mailboxes"], 0, "{copy_result:?}");
    assert!(!copy_events.iter().any(|e| e["type"] == "item" && e["step"] == "MailboxSettings"), "nothing of the copy is planned");
}

#[test]
fn a_member_that_fails_does_not_hold_up_the_other() {
    let good = Sim::start(3, 0);
    let other = Sim::start(3, 0);
    let a = new_client(&token_config(&good.url, fixtures::ADMIN_TOKEN)).unwrap();
    // A token the simulator never issued: that environment's setup fails at its first request.
    let bad = new_client(&token_config(&other.url, "not-a-token-the-simulator-issued")).unwrap();
    let group = uuid::Uuid::new_v4().to_string();
    let ops = [start_setup(&a, &group_request(&group, "good", true)), start_setup(&bad, &group_request(&group, "bad", true))];
    let outcomes = run_together(&ops);
    assert_eq!(outcomes[0].1.as_ref().unwrap()["mailboxes"], 3);
    let (status, _) = outcomes[1].1.as_ref().unwrap_err();
    assert_eq!(*status, Status::Authentication);
}

#[test]
fn a_group_request_with_fewer_than_two_environments_is_refused() {
    let sim = Sim::start(1, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let request = json!({"version": 1, "ownership": {"group": "g", "environment": "x", "environments": 1}}).to_string();
    let (_, result) = run_op(&client, ffi::crmsync_setup_start, &request);
    let (status, error) = result.unwrap_err();
    assert_eq!(status, Status::InvalidArgument, "{error}");
    assert_eq!(sim.with_state(|s| s.state().request_count()), 0, "refused before any request");
}
