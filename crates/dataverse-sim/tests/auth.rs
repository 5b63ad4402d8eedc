//! Bearer authentication, the token endpoint, WhoAmI and the privilege functions.

mod common;

use std::time::Duration;

use common::Harness;
use dataverse_sim::{SimConfig, fixtures as fx};
use reqwest::{Method, StatusCode};
use uuid::Uuid;

fn challenge_for(h: &Harness) -> String {
    format!("authorization_uri={}/{}/oauth2/authorize, resource_id={}/", h.sim.url(), fx::TENANT_ID, h.sim.url())
}

#[tokio::test]
async fn unauthorized_shapes() {
    let h = Harness::default().await;
    for token in [None, Some("not-a-token"), Some(fx::EXPIRED_TOKEN)] {
        let r = h.send(Method::GET, token, "WhoAmI", &[], None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(r.text, "", "401 has an empty body");
        let www = r.header("www-authenticate").expect("WWW-Authenticate");
        assert!(www.starts_with("Bearer error=\"invalid_token\", error_description=\""), "{www}");
        assert!(www.ends_with(&challenge_for(&h)), "{www}");
        if token == Some(fx::EXPIRED_TOKEN) {
            assert!(www.contains("error_description=\"The access token is expired\""), "{www}");
        }
    }
    // Rejected requests are counted but attributed to nobody.
    let st = h.sim.state();
    assert_eq!(st.request_count(), 3);
    assert_eq!(st.request_count_for(fx::ADMIN_USER_ID.parse().unwrap()), 0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn who_am_i_and_request_counts() {
    let h = Harness::default().await;
    let r = h.get(fx::ADMIN_TOKEN, "WhoAmI").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ms-dop-hint").as_deref(), Some("8"), "SimConfig::dop_hint default");
    let v = r.json();
    assert_eq!(v["UserId"], fx::ADMIN_USER_ID);
    assert_eq!(v["OrganizationId"], fx::ORGANIZATION_ID);
    assert_eq!(v["BusinessUnitId"], fx::BUSINESS_UNIT_ID);
    assert_eq!(v["@odata.context"], format!("{}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", h.sim.url()));
    let r = h.get(fx::READER_TOKEN, "WhoAmI").await;
    assert_eq!(r.json()["UserId"], fx::READER_USER_ID);
    let st = h.sim.state();
    assert_eq!(st.request_count(), 2);
    assert_eq!(st.request_count_for(fx::ADMIN_USER_ID.parse().unwrap()), 1);
    assert_eq!(st.request_count_for(fx::READER_USER_ID.parse().unwrap()), 1);
    h.sim.shutdown().await;
}

async fn request_token(h: &Harness, secret: &str, scope: &str) -> (StatusCode, serde_json::Value) {
    let form = [("grant_type", "client_credentials"), ("client_id", fx::CLIENT_ID), ("client_secret", secret), ("scope", scope)];
    let body = url_encode(&form);
    let resp = h
        .http
        .post(format!("{}/{}/oauth2/v2.0/token", h.sim.url(), fx::TENANT_ID))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, serde_json::from_str(&resp.text().await.unwrap()).unwrap())
}

fn url_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn token_endpoint_issues_expiring_app_tokens() {
    let h = Harness::start(SimConfig { token_lifetime_secs: 1, ..SimConfig::default() }).await;
    let scope = format!("{}/.default", h.sim.url());
    let (status, body) = request_token(&h, fx::CLIENT_SECRET, &scope).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1);
    let token = body["access_token"].as_str().unwrap().to_string();
    let r = h.get(&token, "WhoAmI").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["UserId"], fx::APP_USER_ID);

    let (status, body) = request_token(&h, "wrong", &scope).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].as_str().unwrap().starts_with("AADSTS7000215"));
    let (status, body) = request_token(&h, fx::CLIENT_SECRET, "https://other.crm.dynamics.com/.default").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_scope");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = h.get(&token, "WhoAmI").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").unwrap().contains("The access token is expired"));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn retrieve_user_privilege_by_name() {
    let h = Harness::default().await;
    let path = |user: &str, prv: &str| {
        format!("systemusers({user})/Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName='{prv}')")
    };
    let r = h.get(fx::ADMIN_TOKEN, &path(fx::SYSADMIN_USER_ID, "prvApproveRejectEmailAddress")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert!(
        v["@odata.context"].as_str().unwrap().ends_with("$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeNameResponse")
    );
    let privs = v["RolePrivileges"].as_array().unwrap();
    assert_eq!(privs.len(), 1);
    assert_eq!(privs[0]["PrivilegeName"], "prvApproveRejectEmailAddress");
    assert_eq!(privs[0]["Depth"], "Global");
    assert_eq!(privs[0]["PrivilegeId"], "54e8c67e-9cc2-441b-802f-788f93e977d6");

    let r = h.get(fx::READER_TOKEN, &path(fx::READER_USER_ID, "prvWriteMailbox")).await;
    assert_eq!(r.json()["RolePrivileges"], serde_json::json!([]));
    let r = h.get(fx::READER_TOKEN, &path(fx::READER_USER_ID, "prvReadMailbox")).await;
    assert_eq!(r.json()["RolePrivileges"].as_array().unwrap().len(), 1);

    // Parameter alias form.
    let r = h
        .get(
            fx::ADMIN_TOKEN,
            &format!(
                "systemusers({})/Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName=@p)?@p='prvWriteOrganization'",
                fx::READER_USER_ID
            ),
        )
        .await;
    assert_eq!(r.json()["RolePrivileges"], serde_json::json!([]));

    let r = h.get(fx::ADMIN_TOKEN, &path(&Uuid::new_v4().to_string(), "prvReadMailbox")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error().0, "0x80040217");
    h.sim.shutdown().await;
}
