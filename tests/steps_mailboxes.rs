//! Mailbox configuration and approval through the C ABI against the simulator.

mod common;

use common::*;
use crmsync::ffi::{self, Status};
use dataverse_sim::fixtures;

const APPLY_DEFAULTS: &str = r#"{"version":1,"apply_defaults":true}"#;
const ORG_DEFAULTS: &str = r#"{"version":1,"server_profile":"Microsoft Exchange Online","incoming_email":"ServerSideSync","outgoing_email":"ServerSideSync","appointments_contacts_tasks":"ServerSideSync"}"#;

fn all_mailboxes(client: &Client) -> Vec<serde_json::Value> {
    drain_items(&list_mailboxes(client, r#"{"version":1}"#).unwrap()).0
}

#[test]
fn apply_defaults_plans_then_configures_every_mailbox_and_is_idempotent() {
    let sim = Sim::start(30, 4);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let (_, refused) = run_op(&client, ffi::crmsync_mailboxes_configure_start, APPLY_DEFAULTS);
    let (status, doc) = refused.unwrap_err();
    assert_eq!(status, Status::InvalidArgument, "no org default profile yet: {doc}");
    assert!(doc["remedy"].as_str().unwrap().contains("default email server profile"), "{doc}");
    assert_eq!(doc["hint"], "set_default_profile");

    defaults_set(&client, ORG_DEFAULTS).unwrap();
    let before = all_mailboxes(&client);
    let (plan, result) = run_op(&client, ffi::crmsync_mailboxes_configure_start, r#"{"version":1,"apply_defaults":true,"what_if":true}"#);
    let result = result.unwrap();
    assert_eq!(result["what_if"], true);
    let planned = result["planned"].as_u64().unwrap() as usize;
    assert!(planned > 20, "most seeded mailboxes are not configured: {result}");
    assert_eq!(planned + result["unchanged"].as_u64().unwrap() as usize, 34);
    let one = plan.iter().find(|i| i["outcome"] == "Planned").unwrap();
    assert!(one["changes"].as_array().unwrap().iter().any(|c| c["field"] == "IncomingEmail" && c["to"] == "ServerSideSync"));
    assert_eq!(all_mailboxes(&client), before, "what_if wrote something");

    let (items, result) = run_op(&client, ffi::crmsync_mailboxes_configure_start, APPLY_DEFAULTS);
    let result = result.unwrap();
    assert_eq!(result["changed"].as_u64().unwrap() as usize, planned, "{result}");
    assert_eq!(result["failed"], 0);
    assert_eq!(items.len(), 34);
    for m in all_mailboxes(&client) {
        assert_eq!(m["server_profile_name"], "Microsoft Exchange Online", "{m}");
        assert_eq!((m["incoming_email"].as_str(), m["outgoing_email"].as_str()), (Some("ServerSideSync"), Some("ServerSideSync")));
        assert_eq!(m["appointments_contacts_tasks"], "ServerSideSync");
    }
    let (_, again) = run_op(&client, ffi::crmsync_mailboxes_configure_start, APPLY_DEFAULTS);
    let again = again.unwrap();
    assert_eq!((again["changed"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(34)));
}

#[test]
fn queues_refuse_outlook_and_only_the_queue_items_fail() {
    let sim = Sim::start(5, 2);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let (items, result) = run_op(&client, ffi::crmsync_mailboxes_configure_start, r#"{"version":1,"incoming_email":"Outlook"}"#);
    let result = result.unwrap();
    assert_eq!(result["failed"], 2);
    for item in items.iter().filter(|i| i["owner_type"] == "queue") {
        assert_eq!(item["outcome"], "Failed");
        assert!(item["error"]["message"].as_str().unwrap().contains("queue"));
    }
    assert!(items.iter().filter(|i| i["owner_type"] == "systemuser").all(|i| i["outcome"] != "Failed"));
}

#[test]
fn a_reader_gets_per_item_privilege_failures_and_nothing_changes() {
    let sim = Sim::start(6, 0);
    let reader = new_client(&token_config(&sim.url, fixtures::READER_TOKEN)).unwrap();
    let before = all_mailboxes(&reader);
    let (items, result) = run_op(&reader, ffi::crmsync_mailboxes_configure_start, r#"{"version":1,"outgoing_email":"None"}"#);
    let result = result.unwrap();
    assert_eq!(result["changed"], 0);
    assert!(result["failed"].as_u64().unwrap() >= 1);
    let failed = items.iter().find(|i| i["outcome"] == "Failed").unwrap();
    assert_eq!(failed["error"]["code"], "0x80040220", "{failed}");
    assert_eq!(all_mailboxes(&reader), before);
}

#[test]
fn approval_by_an_exchange_admin_is_verified_by_reading_back() {
    let sim = Sim::start(8, 2);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let (items, result) = run_op(&client, ffi::crmsync_mailboxes_approve_start, r#"{"version":1}"#);
    let result = result.unwrap();
    assert_eq!(result["failed"], 0, "{items:?}");
    assert_eq!(result["changed"].as_u64().unwrap() + result["unchanged"].as_u64().unwrap(), 10);
    for m in all_mailboxes(&client) {
        assert_eq!(m["approval_status"], "Approved", "{m}");
    }
    let (_, again) = run_op(&client, ffi::crmsync_mailboxes_approve_start, r#"{"version":1}"#);
    assert_eq!(again.unwrap()["unchanged"], 10);
}

#[test]
fn approval_without_the_microsoft_365_role_fails_per_mailbox_with_the_role_to_get() {
    let sim = Sim::start(4, 1);
    let sysadmin = new_client(&token_config(&sim.url, fixtures::SYSADMIN_TOKEN)).unwrap();
    let (items, result) = run_op(&sysadmin, ffi::crmsync_mailboxes_approve_start, r#"{"version":1,"selection":{"name":"Liam O'Brien"}}"#);
    let result = result.unwrap();
    assert_eq!(result["failed"], 1, "{items:?}");
    let error = &items[0]["error"];
    assert!(error["message"].as_str().unwrap().contains("Global Administrator or Exchange Administrator"));
    assert!(error["remedy"].as_str().unwrap().contains("Delegated Mailbox Approver"));
    let m = &drain_items(&list_mailboxes(&sysadmin, r#"{"version":1,"name":"Liam O'Brien"}"#).unwrap()).0[0];
    assert_ne!(m["approval_status"], "Approved");
}

#[test]
fn malformed_ids_and_unknown_ids_change_nothing() {
    let sim = Sim::start(3, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let (_, bad) = run_op(&client, ffi::crmsync_mailboxes_approve_start, r#"{"version":1,"selection":{"mailbox_ids":["not-a-guid"]}}"#);
    assert_eq!(bad.unwrap_err().0, Status::InvalidArgument);
    let unknown = r#"{"version":1,"selection":{"mailbox_ids":["00000000-0000-0000-0000-0000000000aa"]}}"#;
    let (_, missing) = run_op(&client, ffi::crmsync_mailboxes_approve_start, unknown);
    assert_eq!(missing.unwrap_err().0, Status::NotFound);
}

#[test]
fn mailboxes_are_selected_by_name_address_or_id_and_over_long_names_are_refused() {
    let sim = Sim::start(30, 4);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let everyone = all_mailboxes(&client);
    let liam = everyone.iter().find(|m| m["name"] == "Liam O'Brien").expect("seeded Liam O'Brien");
    let query = serde_json::json!({"version": 1, "mailboxes": ["Avery Adams", "support1@contoso.example", liam["mailbox_id"]]});
    let (picked, _) = drain_items(&list_mailboxes(&client, &query.to_string()).unwrap());
    let mut names: Vec<&str> = picked.iter().map(|m| m["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["Avery Adams", "Liam O'Brien", "Support Queue 1"], "one mailbox per identity");
    let by_quote = serde_json::json!({"version": 1, "mailboxes": ["Liam O'Brien"]});
    assert_eq!(drain_items(&list_mailboxes(&client, &by_quote.to_string()).unwrap()).0.len(), 1, "a quote in a name is escaped");

    let long = serde_json::json!({"version": 1, "mailboxes": ["n".repeat(100_000)]});
    let (_, refused) = drain_items(&list_mailboxes(&client, &long.to_string()).unwrap());
    let (status, doc) = refused.unwrap_err();
    assert_eq!(status, Status::InvalidArgument, "{doc}");
    let message = doc["message"].as_str().unwrap();
    assert!(message.contains("mailboxes") && message.contains("at most 200 characters"), "{message}");
}
