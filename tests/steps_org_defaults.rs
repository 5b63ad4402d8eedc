//! Organization email defaults through the C ABI against the simulator: plan, apply, idempotence,
//! other XML elements kept, bad names refused, missing privilege reported and nothing changed.

mod common;

use common::*;
use crmsync::ffi::Status;
use dataverse_sim::fixtures;

const ALL_SSS: &str = r#"{"version":1,"server_profile":"Microsoft Exchange Online","incoming_email":"ServerSideSync","outgoing_email":"ServerSideSync","appointments_contacts_tasks":"ServerSideSync","process_email_using":"ServerSideSync"}"#;

#[test]
fn what_if_plans_every_change_and_writes_nothing() {
    let sim = Sim::start(2, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let before = defaults_get(&client).unwrap();
    let plan = defaults_set(&client, &ALL_SSS.replace("\"version\":1", "\"version\":1,\"what_if\":true")).unwrap();
    assert_eq!(plan["changed"], false);
    let fields: Vec<_> = plan["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["ServerProfile", "IncomingEmail", "OutgoingEmail", "AppointmentsContactsTasks", "ProcessEmailUsing"]);
    assert_eq!(plan["changes"][1]["from"], "None");
    assert_eq!(plan["changes"][1]["to"], "ServerSideSync");
    assert_eq!(defaults_get(&client).unwrap(), before, "what_if wrote something");
}

#[test]
fn defaults_are_applied_verified_and_a_second_run_changes_nothing() {
    let sim = Sim::start(2, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let applied = defaults_set(&client, ALL_SSS).unwrap();
    assert_eq!(applied["changed"], true);
    let after = &applied["defaults"];
    assert_eq!(after["server_profile_name"], "Microsoft Exchange Online");
    assert_eq!(
        (after["incoming_email"].as_str(), after["appointments_contacts_tasks"].as_str()),
        (Some("ServerSideSync"), Some("ServerSideSync"))
    );
    assert_eq!(after["process_email_using"], "ServerSideSync");
    let xml = after["email_settings_xml"].as_str().unwrap();
    assert!(xml.contains("<ACTDeliveryMethod>1</ACTDeliveryMethod>") && xml.contains("<IncomingEmailDeliveryMethod>2<"));
    assert!(xml.contains("<SomeOtherSetting>keep</SomeOtherSetting>"), "other elements are kept: {xml}");
    let again = defaults_set(&client, ALL_SSS).unwrap();
    assert_eq!(again["changed"], false);
    assert!(again["changes"].as_array().unwrap().is_empty());
}

#[test]
fn an_inactive_profile_is_activated_when_made_the_default() {
    let sim = Sim::start(1, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let result = defaults_set(&client, r#"{"version":1,"server_profile":"Exchange Hybrid (retired)"}"#).unwrap();
    assert_eq!(result["changes"][0]["field"], "State");
    let profile = profiles(&client, r#"{"version":1,"name":"Exchange Hybrid (retired)"}"#).unwrap();
    assert_eq!(profile["profiles"][0]["state"], "Active");
    assert_eq!(profile["profiles"][0]["is_default"], true);
}

#[test]
fn unknown_delivery_names_and_profiles_are_refused_and_change_nothing() {
    let sim = Sim::start(1, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let before = defaults_get(&client).unwrap();
    let (status, doc) = defaults_set(&client, r#"{"version":1,"incoming_email":"Carrier pigeon"}"#).unwrap_err();
    assert_eq!(status, Status::InvalidArgument);
    assert!(doc["message"].as_str().unwrap().contains("ServerSideSync"), "the error lists the valid names: {doc}");
    let (status, _) = defaults_set(&client, r#"{"version":1,"server_profile":"Nope' or name ne '"}"#).unwrap_err();
    assert_eq!(status, Status::NotFound);
    assert_eq!(defaults_get(&client).unwrap(), before);
}

#[test]
fn a_user_without_write_privilege_gets_the_privilege_error_and_nothing_changes() {
    let sim = Sim::start(1, 0);
    let reader = new_client(&token_config(&sim.url, fixtures::READER_TOKEN)).unwrap();
    let before = defaults_get(&reader).unwrap();
    let (status, doc) = defaults_set(&reader, ALL_SSS).unwrap_err();
    assert_eq!(status, Status::PermissionDenied);
    assert_eq!(doc["code"], "0x80040220");
    assert!(doc["remedy"].as_str().unwrap().contains("security role"));
    assert_eq!(defaults_get(&reader).unwrap(), before);
}
