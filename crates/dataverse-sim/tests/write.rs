//! PATCH: validation, privileges, concurrency, lookups and the approval rules.

mod common;

use common::Harness;
use dataverse_sim::{MailboxApprovalMode, SimConfig, fixtures as fx};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

fn version(v: &Value) -> i64 {
    v["versionnumber"].as_i64().unwrap()
}

#[tokio::test]
async fn reader_cannot_patch_mailbox() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let mbx = st.mailbox_of(st.seed_ids().users[0]).unwrap();
    let before = st.row("mailboxes", mbx).unwrap();
    let r = h.patch(fx::READER_TOKEN, &format!("mailboxes({mbx})"), json!({"incomingemaildeliverymethod": 2})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (code, message) = r.error();
    assert_eq!(code, "0x80040220");
    assert!(message.starts_with(&format!("Principal user (Id={}, type=8, roleCount=1, privilegeCount=", fx::READER_USER_ID)), "{message}");
    assert!(
        message.contains("is missing prvWriteMailbox privilege (Id=") && message.contains("on OTC=9606 for entity 'mailbox'"),
        "{message}"
    );
    assert_eq!(st.row("mailboxes", mbx).unwrap(), before);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn approval_by_sysadmin_fails_and_changes_nothing() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let user = st.seed_ids().users[2];
    let mbx = st.mailbox_of(user).unwrap();
    let (u0, m0) = (st.row("systemusers", user).unwrap(), st.row("mailboxes", mbx).unwrap());
    for value in [1, 3] {
        let r = h.patch(fx::SYSADMIN_TOKEN, &format!("systemusers({user})"), json!({"emailrouteraccessapproval": value})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.json(), json!({"error": {"code": "0x80040225", "message": fx::APPROVAL_DENIED_MESSAGE}}));
        assert_eq!(
            fx::APPROVAL_DENIED_MESSAGE,
            "This email address can only be approved by a user with the Global Administrator or Exchange Administrator role in Office 365 or the Delegated Mailbox Approver role in Dynamics 365."
        );
    }
    // Same for a queue.
    let queue = st.seed_ids().queues[0];
    let r = h.patch(fx::SYSADMIN_TOKEN, &format!("queues({queue})"), json!({"emailrouteraccessapproval": 1})).await;
    assert_eq!(r.error().1, fx::APPROVAL_DENIED_MESSAGE);
    assert_eq!(st.row("systemusers", user).unwrap(), u0);
    assert_eq!(st.row("mailboxes", mbx).unwrap(), m0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn approval_status_is_configurable() {
    let h = Harness::start(SimConfig { approval_denied_status: 400, ..SimConfig::default() }).await;
    let user = h.sim.state().seed_ids().users[0];
    let r = h.patch(fx::SYSADMIN_TOKEN, &format!("systemusers({user})"), json!({"emailrouteraccessapproval": 1})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error().1, fx::APPROVAL_DENIED_MESSAGE);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn approval_by_admin_approves_user_and_mailbox() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let user = st.seed_ids().users[3];
    let mbx = st.mailbox_of(user).unwrap();
    let m0 = st.row("mailboxes", mbx).unwrap();
    assert_eq!(m0["emailrouteraccessapproval"], 2);
    let r =
        h.patch_with(fx::ADMIN_TOKEN, &format!("systemusers({user})"), &[("If-Match", "*")], json!({"emailrouteraccessapproval": 1})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(r.header("odata-entityid"), Some(format!("{}/api/data/v9.2/systemusers({user})", h.sim.url())));
    let u = st.row("systemusers", user).unwrap();
    assert_eq!(u["emailrouteraccessapproval"], 1);
    assert_eq!(u["isemailaddressapprovedbyo365admin"], true);
    let m = st.row("mailboxes", mbx).unwrap();
    assert_eq!(m["emailrouteraccessapproval"], 1);
    assert_eq!(m["isemailaddressapprovedbyo365admin"], true);
    assert_eq!(m["_emailaddressapprovedby_value"], fx::ADMIN_USER_ID);
    assert!(m["emailaddressapprovedon"].is_string());
    assert!(version(&m) > version(&m0));

    // Changing the address resets approval to pending on the user and the mailbox.
    let r = h.patch(fx::ADMIN_TOKEN, &format!("systemusers({user})"), json!({"internalemailaddress": "new.address@contoso.example"})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let u = st.row("systemusers", user).unwrap();
    assert_eq!(u["emailrouteraccessapproval"], 2);
    assert_eq!(u["isemailaddressapprovedbyo365admin"], false);
    let m = st.row("mailboxes", mbx).unwrap();
    assert_eq!(m["emailaddress"], "new.address@contoso.example");
    assert_eq!(m["emailrouteraccessapproval"], 2);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn delegated_mailbox_approver_role_allows_app_user() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let app: Uuid = fx::APP_USER_ID.parse().unwrap();
    let token = st.issue_token(app, std::time::Duration::from_secs(60));
    let queue = st.seed_ids().queues[1];
    let r = h.patch(&token, &format!("queues({queue})"), json!({"emailrouteraccessapproval": 1})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(st.assign_role(app, fx::ROLE_DELEGATED_MAILBOX_APPROVER));
    let r = h.patch(&token, &format!("queues({queue})"), json!({"emailrouteraccessapproval": 1})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let m = st.row("mailboxes", st.mailbox_of(queue).unwrap()).unwrap();
    assert_eq!(m["emailrouteraccessapproval"], 1);
    assert_eq!(m["_emailaddressapprovedby_value"], fx::APP_USER_ID);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn mailbox_approval_modes() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let mbx = st.mailbox_of(st.seed_ids().users[0]).unwrap();
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"emailrouteraccessapproval": 1})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().1.contains("owning user"), "{}", r.text);
    h.sim.shutdown().await;

    let h = Harness::start(SimConfig { mailbox_approval: MailboxApprovalMode::Equivalent, ..SimConfig::default() }).await;
    let st = h.sim.state();
    let user = st.seed_ids().users[0];
    let mbx = st.mailbox_of(user).unwrap();
    let r = h.patch(fx::SYSADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"emailrouteraccessapproval": 1})).await;
    assert_eq!(r.error().1, fx::APPROVAL_DENIED_MESSAGE);
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"emailrouteraccessapproval": 1})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(st.row("systemusers", user).unwrap()["emailrouteraccessapproval"], 1);
    assert_eq!(st.row("mailboxes", mbx).unwrap()["isemailaddressapprovedbyo365admin"], true);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn if_match_concurrency_and_upsert() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let mbx = st.mailbox_of(st.seed_ids().users[0]).unwrap();
    let r = h.get(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})?$select=name")).await;
    let etag = r.json()["@odata.etag"].as_str().unwrap().to_string();

    let r = h.patch_with(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), &[("If-Match", &etag)], json!({"actdeliverymethod": 1})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // The etag is now stale.
    let r = h.patch_with(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), &[("If-Match", &etag)], json!({"actdeliverymethod": 2})).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        r.json(),
        json!({"error": {"code": "0x80060882", "message": "The version of the existing record doesn't match the RowVersion property provided."}})
    );
    assert_eq!(st.row("mailboxes", mbx).unwrap()["actdeliverymethod"], 1);

    // If-Match: * on a missing row → 404; without If-Match → upsert creates it.
    let new_id = Uuid::new_v4();
    let r = h.patch_with(fx::ADMIN_TOKEN, &format!("mailboxes({new_id})"), &[("If-Match", "*")], json!({"name": "x"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error().1, format!("mailbox With Id = {new_id} Does Not Exist"));
    assert!(st.row("mailboxes", new_id).is_none());
    let r = h
        .patch_with(
            fx::ADMIN_TOKEN,
            &format!("mailboxes({new_id})"),
            &[("Prefer", "return=representation")],
            json!({"name": "Created by upsert"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["name"], "Created by upsert");
    assert_eq!(st.row("mailboxes", new_id).unwrap()["statecode"], 0);

    // Organizations cannot be created; tracelogs cannot be updated.
    let r = h.patch(fx::ADMIN_TOKEN, &format!("organizations({})", Uuid::new_v4()), json!({"emailconnectionchannel": 0})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error().0, "0x80040800", "SdkEntityDoesNotSupportMessage");
    let trace = st.rows("tracelogs")[0]["tracelogid"].as_str().unwrap().to_string();
    let r = h.patch(fx::ADMIN_TOKEN, &format!("tracelogs({trace})"), json!({"text": "x"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.error(),
        (
            "0x80040800".to_string(),
            "The 'Update' method does not support entities of type 'tracelog'. MessageProcessorCache returned MessageProcessor.Empty."
                .to_string()
        )
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn validation_errors() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let user = st.seed_ids().users[0];
    let mbx = st.mailbox_of(user).unwrap();
    let queue = st.seed_ids().queues[0];
    let before = st.row("mailboxes", mbx).unwrap();

    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"mailboxstatus": 1})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().1.contains("'mailboxstatus'") && r.error().1.contains("read-only"), "{}", r.text);
    let r = h.patch(fx::ADMIN_TOKEN, &format!("systemusers({user})"), json!({"isemailaddressapprovedbyo365admin": true})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().1.contains("read-only"));

    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"incomingemaildeliverymethod": 9})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let (code, message) = r.error();
    assert_eq!(code, "0x8004431A", "PicklistValueOutOfRange");
    assert_eq!(
        message,
        "A validation error occurred. The value 9 of 'incomingemaildeliverymethod' on record of type 'mailbox' is outside the valid range. Accepted Values: 0,1,2,3"
    );
    let r = h.patch(fx::ADMIN_TOKEN, &format!("queues({queue})"), json!({"incomingemaildeliverymethod": 1})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "queues have no option 1");

    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"regardingobjecttypecode": 8})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error().0, "0x80060888");
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"_emailserverprofile_value": Uuid::new_v4()})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"testemailconfigurationscheduled": "yes"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"statecode": 0, "statuscode": 2})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(st.row("mailboxes", mbx).unwrap(), before, "failed writes change nothing");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn lookups_bind_and_clear() {
    let h = Harness::default().await;
    let st = h.sim.state();
    let exo = st.seed_ids().exo_profile;
    let mbx = st.mailbox_of(st.seed_ids().users[0]).unwrap();
    let body = json!({
        "emailserverprofile@odata.bind": format!("/emailserverprofiles({exo})"),
        "incomingemaildeliverymethod": 2, "outgoingemaildeliverymethod": 2, "actdeliverymethod": 1,
    });
    let r = h
        .patch_with(
            fx::ADMIN_TOKEN,
            &format!("mailboxes({mbx})?$select=_emailserverprofile_value,actdeliverymethod"),
            &[("If-Match", "*"), ("Prefer", "return=representation")],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("preference-applied").as_deref(), Some("return=representation"));
    assert_eq!(r.json()["_emailserverprofile_value"], exo.to_string());
    assert_eq!(r.json()["actdeliverymethod"], 1);

    let missing = Uuid::new_v4();
    let r = h
        .patch(
            fx::ADMIN_TOKEN,
            &format!("mailboxes({mbx})"),
            json!({"emailserverprofile@odata.bind": format!("/emailserverprofiles({missing})")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"error": {"code": "0x80040217", "message": format!("emailserverprofile With Id = {missing} Does Not Exist")}})
    );
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"emailserverprofile@odata.bind": null})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(st.row("mailboxes", mbx).unwrap()["_emailserverprofile_value"], Value::Null);

    // Organization defaults (the documented example).
    let settings = "<EmailSettings><IncomingEmailDeliveryMethod>2</IncomingEmailDeliveryMethod><OutgoingEmailDeliveryMethod>2</OutgoingEmailDeliveryMethod><ACTDeliveryMethod>1</ACTDeliveryMethod><SomeOtherSetting>keep</SomeOtherSetting></EmailSettings>";
    let r = h
        .patch_with(
            fx::ADMIN_TOKEN,
            &format!("organizations({})", fx::ORGANIZATION_ID),
            &[("If-Match", "*")],
            json!({"emailconnectionchannel": 0, "defaultemailserverprofileid@odata.bind": format!("/emailserverprofiles({exo})"), "defaultemailsettings": settings}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let org = st.row("organizations", fx::ORGANIZATION_ID.parse().unwrap()).unwrap();
    assert_eq!(org["_defaultemailserverprofileid_value"], exo.to_string());
    assert_eq!(org["emailconnectionchannel"], 0);
    assert_eq!(org["defaultemailsettings"], settings);

    // SYSADMIN may write the organization; the reader may not.
    let r = h.patch(fx::READER_TOKEN, &format!("organizations({})", fx::ORGANIZATION_ID), json!({"emailconnectionchannel": 1})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.error().1.contains("prvWriteOrganization"));
    h.sim.shutdown().await;
}
