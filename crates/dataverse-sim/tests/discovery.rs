//! The Global Discovery Service route: `GET /api/discovery/v2.0/Instances`.

mod common;

use common::Harness;
use dataverse_sim::{SimConfig, fixtures as fx};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn instances_lists_the_simulator_then_the_configured_environments() {
    let other = json!({"UniqueName": "unqother", "FriendlyName": "Other", "Url": "https://other.crm4.dynamics.com", "State": 1});
    let h = Harness::start(SimConfig { discovery_instances: vec![other.clone()], ..SimConfig::default() }).await;
    let url = format!("{}/api/discovery/v2.0/Instances", h.sim.url());
    let r = h.send(Method::GET, Some(fx::ADMIN_TOKEN), &url, &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    assert_eq!(body["@odata.context"], format!("{}/api/discovery/v2.0/$metadata#Instances", h.sim.url()));
    let value = body["value"].as_array().unwrap();
    assert_eq!(value.len(), 2);
    assert_eq!(value[0]["Url"], h.sim.url());
    assert_eq!(value[0]["Id"], fx::ORGANIZATION_ID);
    assert_eq!(value[0]["TenantId"], fx::TENANT_ID);
    assert_eq!(value[0]["State"], 0);
    assert_eq!(value[1], other);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn instances_needs_a_valid_token_and_refuses_query_options() {
    let h = Harness::default().await;
    let url = format!("{}/api/discovery/v2.0/Instances", h.sim.url());
    for token in [None, Some("not-a-token"), Some(fx::EXPIRED_TOKEN)] {
        let r = h.send(Method::GET, token, &url, &[], None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer error=\"invalid_token\""));
    }
    let r = h.send(Method::GET, Some(fx::ADMIN_TOKEN), &format!("{url}?$filter=UniqueName%20eq%20'x'"), &[], None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "not answered as if the filter had been applied");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn instances_refuses_an_application_token() {
    let h = Harness::default().await;
    let url = format!("{}/api/discovery/v2.0/Instances", h.sim.url());
    // The application user's token, as the token endpoint's client credentials flow issues it.
    let app_token = h.sim.state().issue_token(fx::APP_USER_ID.parse().unwrap(), std::time::Duration::from_secs(600));
    let r = h.send(Method::GET, Some(&app_token), &url, &[], None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let challenge = r.header("www-authenticate").unwrap();
    assert!(challenge.contains("user (delegated) tokens only"), "{challenge}");
    // The same token still reads the organization's Web API: only discovery needs a user.
    let who = h.send(Method::GET, Some(&app_token), &format!("{}/api/data/v9.2/WhoAmI", h.sim.url()), &[], None).await;
    assert_eq!(who.status, StatusCode::OK, "{}", who.text);
    h.sim.shutdown().await;
}
