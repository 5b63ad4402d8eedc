//! Listing environments through the Global Discovery Service, against the simulator's
//! `api/discovery/v2.0/Instances` (it lists itself, then the configured further environments).

mod common;

use common::*;
use crmsync::ffi::Status;
use dataverse_sim::fixtures;
use std::ptr;

fn environments(client: &Client, query: &str) -> Result<serde_json::Value, (Status, serde_json::Value)> {
    let (mut result, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { crmsync::ffi::crmsync_environments_get(client.0, query.as_ptr(), query.len(), &mut result, &mut error) };
    outcome(status, result, error)
}

fn query(sim: &Sim) -> String {
    serde_json::json!({"version": 1, "discovery_url": sim.url}).to_string()
}

#[test]
fn the_simulated_environments_are_listed_with_their_properties() {
    let sim = Sim::start_with(|c| {
        c.mailboxes = 1;
        c.queues = 0;
        c.discovery_instances = vec![serde_json::json!({
            "Id": "11111111-2222-4333-8444-555555555555", "UniqueName": "unqfabrikam", "UrlName": "fabrikam",
            "FriendlyName": "Fabrikam Test", "State": 1, "Version": "9.2.24101.00123",
            "Url": "https://fabrikam.crm4.dynamics.com/", "ApiUrl": "https://fabrikam.api.crm4.dynamics.com",
            "Region": "EMEA", "OrganizationType": 6, "EnvironmentId": "66666666-7777-4888-9999-000000000000",
            "TenantId": fixtures::TENANT_ID, "LastUpdated": "2026-11-30T08:00:00Z"})];
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let found = environments(&client, &query(&sim)).unwrap();
    assert_eq!(found["version"], 1);
    assert_eq!(found["discovery_url"], sim.url.trim_end_matches('/'));
    let list = found["environments"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{found}");
    let own = &list[0];
    assert_eq!(own["url"], sim.url.trim_end_matches('/'));
    assert_eq!(own["friendly_name"], fixtures::ORG_NAME);
    assert_eq!(own["organization_id"], fixtures::ORGANIZATION_ID);
    assert_eq!(own["state"], "Enabled");
    assert!(uuid::Uuid::parse_str(own["environment_id"].as_str().unwrap()).is_ok());
    let other = &list[1];
    assert_eq!(other["url"], "https://fabrikam.crm4.dynamics.com", "the organization root, without the trailing slash");
    assert_eq!(other["api_url"], "https://fabrikam.api.crm4.dynamics.com");
    assert_eq!(other["unique_name"], "unqfabrikam");
    assert_eq!(other["url_name"], "fabrikam");
    assert_eq!(other["friendly_name"], "Fabrikam Test");
    assert_eq!(other["state"], "Disabled");
    assert_eq!(other["version"], "9.2.24101.00123");
    assert_eq!(other["region"], "EMEA");
    assert_eq!(other["organization_type"], 6);
    assert_eq!(other["environment_type"], "Sandbox", "6 is CustomerFreeTest: a sandbox instance");
    assert_eq!(own["environment_type"], "Production", "the simulator describes itself as 0, Customer");
    assert_eq!(other["environment_id"], "66666666-7777-4888-9999-000000000000");
    assert_eq!(other["tenant_id"], fixtures::TENANT_ID);
    let asked: Vec<_> = sim.with_state(|s| s.state().requests()).into_iter().map(|r| r.uri).collect();
    assert!(!asked.iter().any(|u| u.contains("/api/data/")), "only the discovery service is asked: {asked:?}");
}

#[test]
fn a_bad_token_is_a_clear_authentication_error() {
    let sim = Sim::start(1, 0);
    let client = new_client(&token_config(&sim.url, "not-a-token-the-simulator-issued")).unwrap();
    let (status, error) = environments(&client, &query(&sim)).unwrap_err();
    assert_eq!(status, Status::Authentication, "{error}");
    assert_eq!(error["http_status"], 401, "{error}");
    assert!(!error.to_string().contains("not-a-token-the-simulator-issued"), "the token never appears: {error}");
}

#[test]
fn an_application_sign_in_is_told_that_discovery_needs_a_user() {
    let sim = Sim::start(1, 0);
    // Client credentials against the simulator's token endpoint: the token is the application user's.
    let client = new_client(&secret_config(&sim.url, fixtures::CLIENT_SECRET)).unwrap();
    assert!(who_am_i(&client).is_ok(), "the application reaches the organization itself");
    let (status, error) = environments(&client, &query(&sim)).unwrap_err();
    assert_eq!(status, Status::Authentication, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("needs a user (delegated) sign-in") && message.contains("as an application (ClientSecret)"), "{error}");
    assert_eq!(error["hint"], "sign_in_as_user", "{error}");
    assert!(!error.to_string().contains(fixtures::CLIENT_SECRET), "the secret never appears: {error}");
}

#[test]
fn bad_queries_are_refused_before_any_request() {
    let sim = Sim::start(1, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let (status, error) = environments(&client, r#"{"version":1,"discovery_url":"http://globaldisco.example.com"}"#).unwrap_err();
    assert_eq!(status, Status::InvalidArgument, "{error}");
    assert!(error["message"].as_str().unwrap().contains("plain http"), "{error}");
    let (status, _) = environments(&client, r#"{"version":1,"discovery":"x"}"#).unwrap_err();
    assert_eq!(status, Status::InvalidArgument, "unknown fields are refused");
    let (status, _) = environments(&client, "{not json").unwrap_err();
    assert_eq!(status, Status::InvalidJson);
    assert_eq!(sim.with_state(|s| s.state().request_count()), 0);
}
