//! The C ABI end to end against the simulator: identity, profiles, mailbox paging through an
//! operation, cancellation, and authentication failures that never echo a secret.

mod common;

use common::*;
use crmsync::ffi::Status;
use dataverse_sim::fixtures;
use std::collections::HashSet;

#[test]
fn who_am_i_names_the_caller_and_the_organization() {
    let sim = Sim::start(5, 1);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let me = who_am_i(&client).unwrap();
    assert_eq!(me["version"], 1);
    assert!(uuid::Uuid::parse_str(me["user_id"].as_str().unwrap()).is_ok());
    assert!(me["organization_name"].as_str().unwrap().len() > 2);
    assert_eq!(me["url"], sim.url.trim_end_matches('/'));
}

#[test]
fn the_exchange_online_profile_is_found_by_name_and_recognised() {
    let sim = Sim::start(3, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let all = profiles(&client, r#"{"version":1}"#).unwrap();
    assert!(all["profiles"].as_array().unwrap().len() >= 2);
    let exo = profiles(&client, r#"{"version":1,"name":"Microsoft Exchange Online"}"#).unwrap();
    let list = exo["profiles"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["is_exchange_online"], true);
    assert_eq!(list[0]["state"], "Active");
    let none = profiles(&client, r#"{"version":1,"name":"No such profile' or name ne 'x"}"#).unwrap();
    assert!(none["profiles"].as_array().unwrap().is_empty(), "a quote in a name must not widen the filter");
}

#[test]
fn every_mailbox_arrives_exactly_once_across_pages() {
    let sim = Sim::start(40, 3);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let op = list_mailboxes(&client, r#"{"version":1,"page_size":7}"#).unwrap();
    let (items, result) = drain_items(&op);
    let result = result.unwrap();
    assert_eq!(items.len(), 43);
    assert_eq!(result["count"], 43);
    assert_eq!(result["pages"], 7, "43 rows at 7 per page");
    let ids: HashSet<_> = items.iter().map(|m| m["mailbox_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 43);
    let queues = items.iter().filter(|m| m["owner_type"] == "queue").count();
    assert_eq!(queues, 3, "queue mailboxes are told apart by the lookup annotation");
}

#[test]
fn names_with_quotes_match_exactly_and_cannot_inject() {
    let sim = Sim::start(30, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let (items, _) = drain_items(&list_mailboxes(&client, r#"{"version":1,"name":"Liam O'Brien"}"#).unwrap());
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "Liam O'Brien");
    let (items, result) = drain_items(&list_mailboxes(&client, r#"{"version":1,"name":"x' or name ne 'y"}"#).unwrap());
    assert!(items.is_empty());
    assert_eq!(result.unwrap()["count"], 0);
}

#[test]
fn mailboxes_of_a_profile_by_name_and_by_id_agree() {
    let sim = Sim::start(30, 2);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let (by_name, _) = drain_items(&list_mailboxes(&client, r#"{"version":1,"server_profile":"Microsoft Exchange Online"}"#).unwrap());
    assert!(!by_name.is_empty());
    assert!(by_name.iter().all(|m| m["server_profile_name"] == "Microsoft Exchange Online"));
    let id = by_name[0]["server_profile_id"].as_str().unwrap();
    let (by_id, _) = drain_items(&list_mailboxes(&client, &format!(r#"{{"version":1,"server_profile":"{id}"}}"#)).unwrap());
    assert_eq!(by_id.len(), by_name.len());
    let (_, missing) = drain_items(&list_mailboxes(&client, r#"{"version":1,"server_profile":"Nope"}"#).unwrap());
    let (status, doc) = missing.unwrap_err();
    assert_eq!(status, Status::NotFound);
    assert!(doc["remedy"].as_str().unwrap().contains("List the email server profiles"), "{doc}");
    assert_eq!(doc["hint"], "list_profiles");
}

#[test]
fn cancelling_a_listing_stops_it_and_reports_cancelled() {
    let sim = Sim::start(300, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let op = list_mailboxes(&client, r#"{"version":1,"page_size":5}"#).unwrap();
    let Next::Event(first) = next_event(&op, 10_000) else { panic!("no first event") };
    assert_eq!(first["type"], "items");
    assert_eq!(unsafe { crmsync::ffi::crmsync_op_cancel(op.0) }, Status::Ok);
    let started = std::time::Instant::now();
    let (rest, result) = drain_items(&op);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(rest.len() < 295, "the listing stopped early ({} more items)", rest.len());
    assert_eq!(result.unwrap_err().0, Status::Cancelled);
}

#[test]
fn an_expired_token_is_an_authentication_error_that_says_what_to_do() {
    let sim = Sim::start(1, 0);
    let client = new_client(&token_config(&sim.url, fixtures::EXPIRED_TOKEN)).unwrap();
    let (status, doc) = who_am_i(&client).unwrap_err();
    assert_eq!(status, Status::Authentication);
    assert_eq!(doc["http_status"], 401);
    assert!(doc["remedy"].as_str().unwrap().contains("connect again"), "{doc}");
    assert_eq!(doc["hint"], "connect_again");
    assert!(!doc.to_string().contains(fixtures::EXPIRED_TOKEN));
}

#[test]
fn client_credentials_connect_and_a_wrong_secret_is_refused_without_echo() {
    let sim = Sim::start(2, 0);
    let client = new_client(&secret_config(&sim.url, fixtures::CLIENT_SECRET)).unwrap();
    assert!(who_am_i(&client).is_ok());
    let wrong = "not-the-secret-3f9a";
    let client = new_client(&secret_config(&sim.url, wrong)).unwrap();
    let (status, doc) = who_am_i(&client).unwrap_err();
    assert_eq!(status, Status::Authentication);
    assert!(doc["remedy"].as_str().unwrap().contains("secret"));
    assert!(!doc.to_string().contains(wrong));
}
