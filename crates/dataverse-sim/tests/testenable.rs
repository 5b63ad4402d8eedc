//! Test & Enable: scheduling, outcomes, alerts.

mod common;

use std::time::{Duration, Instant};

use common::Harness;
use dataverse_sim::{SimConfig, fixtures as fx};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

fn config() -> SimConfig {
    SimConfig { mailboxes: 12, queues: 1, test_delay_ms: 100, ..Default::default() }
}

/// Seeded users 5 and 11 have the Exchange Online profile and 2/2/1 (i % 6 == 5).
fn configured_user(h: &Harness, i: usize) -> (Uuid, Uuid) {
    let st = h.sim.state();
    let user = st.seed_ids().users[i];
    let mbx = st.mailbox_of(user).unwrap();
    assert_eq!(st.row("mailboxes", mbx).unwrap()["_emailserverprofile_value"], json!(st.seed_ids().exo_profile.to_string()));
    (user, mbx)
}

async fn wait_done(h: &Harness, mbx: Uuid) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = h.get(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})")).await;
        let row = r.json();
        if row["testemailconfigurationscheduled"] == false {
            return row;
        }
        assert!(Instant::now() < deadline, "test did not complete: {row}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Alerts of `regarding` created at or after `since`, newest first (as a client queries them).
async fn alerts(h: &Harness, regarding: Uuid, since: &str) -> Vec<Value> {
    let path = format!(
        "tracelogs?$select=_regardingobjectid_value,level,text,tracecode,errortypedisplay,tracestatus,createdon,modifiedon&$filter=_regardingobjectid_value eq {regarding} and createdon ge {since}&$orderby=createdon desc"
    );
    let r = h.get_with(fx::ADMIN_TOKEN, &path, &[("Prefer", "odata.include-annotations=\"*\"")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["value"].as_array().unwrap().clone()
}

fn since() -> String {
    // Whole seconds, like the service's datetimes.
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn success_path_sets_statuses_and_information_alert() {
    let h = Harness::start(config()).await;
    let (user, mbx) = configured_user(&h, 5);
    let r = h.patch(fx::ADMIN_TOKEN, &format!("systemusers({user})"), json!({"emailrouteraccessapproval": 1})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let t0 = since();
    let r = h
        .patch(
            fx::ADMIN_TOKEN,
            &format!("mailboxes({mbx})"),
            json!({"testemailconfigurationscheduled": true, "orgmarkedasprimaryforexchangesync": true, "postponetestemailconfigurationuntil": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let pending = h.get(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})")).await.json();
    assert_eq!((pending["mailboxstatus"].as_i64(), pending["incomingemailstatus"].as_i64()), (Some(0), Some(0)), "Not Run while pending");
    let row = wait_done(&h, mbx).await;
    for c in ["incomingemailstatus", "outgoingemailstatus", "actstatus", "mailboxstatus"] {
        assert_eq!(row[c], 1, "{c}: {row}");
    }
    for c in ["enabledforincomingemail", "enabledforoutgoingemail", "enabledforact", "isactsyncorgflagset"] {
        assert_eq!(row[c], true, "{c}");
    }
    assert_eq!(row["_testandenablelastattemptedby_value"], fx::ADMIN_USER_ID);
    assert!(row["testandenablelastattemptedon"].as_str().unwrap() >= t0.as_str());
    assert!(row["testmailboxaccesscompletedon"].as_str().unwrap() >= row["testandenablelastattemptedon"].as_str().unwrap());
    let a = alerts(&h, mbx, &t0).await;
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["level"], 1);
    assert_eq!(a[0]["tracestatus"], true);
    assert_eq!(a[0]["errortypedisplay"], "MailboxTestAndEnableSucceeded");
    assert_eq!(a[0]["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "mailbox");
    assert!(a[0]["text"].as_str().unwrap().contains("Test and Enable succeeded"));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn not_approved_fails_with_the_three_kb_alerts() {
    let h = Harness::start(config()).await;
    let (_, mbx) = configured_user(&h, 11);
    let name = h.sim.state().row("mailboxes", mbx).unwrap()["name"].as_str().unwrap().to_string();
    let t0 = since();
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"testemailconfigurationscheduled": true})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let row = wait_done(&h, mbx).await;
    for c in ["incomingemailstatus", "outgoingemailstatus", "actstatus", "mailboxstatus"] {
        assert_eq!(row[c], 2, "{c}: {row}");
    }
    assert_eq!(row["enabledforincomingemail"], false);
    assert_eq!(row["isactsyncorgflagset"], false);
    let a = alerts(&h, mbx, &t0).await;
    let mut kinds: Vec<&str> = a.iter().map(|x| x["errortypedisplay"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["ExchangeSyncEmailS2SApprovalNeeded", "IncomingEmailS2SApprovalNeeded", "OutgoingEmailS2SApprovalNeeded"]);
    assert!(a.iter().all(|x| x["level"] == 3 && x["tracestatus"] == false));
    let incoming = a.iter().find(|x| x["errortypedisplay"] == "IncomingEmailS2SApprovalNeeded").unwrap();
    assert_eq!(
        incoming["text"],
        format!(
            "Email cannot be received because the email address of the mailbox {name} requires an approval by an Office 365 administrator. The mailbox didn't synchronize. A notification about this is posted on the alerts wall for the owner of the email server profile Microsoft Exchange Online."
        )
    );
    // Errors are not written when the organization turns error alerts off.
    let org: Uuid = fx::ORGANIZATION_ID.parse().unwrap();
    h.sim.state().set("organizations", org, json!({"generatealertsforerrors": false}));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let t1 = since();
    h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"testemailconfigurationscheduled": true})).await;
    let row = wait_done(&h, mbx).await;
    assert_eq!(row["mailboxstatus"], 2);
    assert_eq!(alerts(&h, mbx, &t1).await, Vec::<Value>::new());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn no_profile_and_inactive_profile_fail() {
    let h = Harness::start(config()).await;
    let st = h.sim.state();
    let user = st.seed_ids().users[0];
    let mbx = st.mailbox_of(user).unwrap();
    h.patch(fx::ADMIN_TOKEN, &format!("systemusers({user})"), json!({"emailrouteraccessapproval": 1})).await;
    let t0 = since();
    let r = h
        .patch(
            fx::ADMIN_TOKEN,
            &format!("mailboxes({mbx})"),
            json!({"incomingemaildeliverymethod": 2, "outgoingemaildeliverymethod": 2, "actdeliverymethod": 2, "testemailconfigurationscheduled": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let row = wait_done(&h, mbx).await;
    assert_eq!((row["incomingemailstatus"].as_i64(), row["outgoingemailstatus"].as_i64()), (Some(2), Some(2)));
    assert_eq!(row["actstatus"], 0, "ACT set to None is not tested");
    assert_eq!(row["mailboxstatus"], 2);
    let a = alerts(&h, mbx, &t0).await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["errortypedisplay"], "InvalidIncomingEmailServerProfile");
    assert_eq!(a[0]["level"], 3);
    let row = st.row("mailboxes", mbx).unwrap();
    assert_eq!(row["lastsyncerror"], a[0]["text"], "the failure is also the last sync error");
    assert_eq!(row["lastsyncerrorcount"], 1);

    // Inactive profile: alert on the mailbox and on the profile.
    let hybrid = st.seed_ids().hybrid_profile;
    let t1 = since();
    h.patch(
        fx::ADMIN_TOKEN,
        &format!("mailboxes({mbx})"),
        json!({"emailserverprofile@odata.bind": format!("/emailserverprofiles({hybrid})"), "testemailconfigurationscheduled": true}),
    )
    .await;
    let row = wait_done(&h, mbx).await;
    assert_eq!(row["mailboxstatus"], 2);
    let on_profile = alerts(&h, hybrid, &t1).await;
    assert_eq!(on_profile.len(), 1);
    assert_eq!(on_profile[0]["errortypedisplay"], "EmailServerProfileInactive");
    assert_eq!(on_profile[0]["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "emailserverprofile");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn postpone_and_inactive_mailbox_are_honoured() {
    let h = Harness::start(SimConfig { test_delay_ms: 60_000, ..config() }).await;
    let st = h.sim.state();
    let (user, mbx) = configured_user(&h, 5);
    h.patch(fx::ADMIN_TOKEN, &format!("systemusers({user})"), json!({"emailrouteraccessapproval": 1})).await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    h.patch(
        fx::ADMIN_TOKEN,
        &format!("mailboxes({mbx})"),
        json!({"testemailconfigurationscheduled": true, "postponetestemailconfigurationuntil": later}),
    )
    .await;
    assert_eq!(st.scheduled_tests().len(), 1);
    assert!(st.run_due_tests(false).is_empty(), "delay not elapsed");
    assert!(st.run_due_tests(true).is_empty(), "postponed");
    assert_eq!(st.row("mailboxes", mbx).unwrap()["testemailconfigurationscheduled"], true);
    // Inactive mailbox: no run either.
    h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"postponetestemailconfigurationuntil": null, "statecode": 1})).await;
    assert!(st.run_due_tests(true).is_empty(), "inactive");
    h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"statecode": 0})).await;
    assert_eq!(st.run_due_tests(true), vec![mbx]);
    let row = st.row("mailboxes", mbx).unwrap();
    assert_eq!((row["mailboxstatus"].as_i64(), row["testemailconfigurationscheduled"].as_bool()), (Some(1), Some(false)));
    assert!(st.scheduled_tests().is_empty());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn unlicensed_share_fails_every_mailbox_at_one() {
    let h = Harness::start(SimConfig { unlicensed_share: 1.0, ..config() }).await;
    let st = h.sim.state();
    let (user, mbx) = configured_user(&h, 5);
    h.patch(fx::ADMIN_TOKEN, &format!("systemusers({user})"), json!({"emailrouteraccessapproval": 1})).await;
    let t0 = since();
    h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"testemailconfigurationscheduled": true})).await;
    assert_eq!(st.run_due_tests(true), vec![mbx]);
    assert_eq!(st.row("mailboxes", mbx).unwrap()["mailboxstatus"], 2);
    let a = alerts(&h, mbx, &t0).await;
    assert_eq!(a[0]["errortypedisplay"], "ErrorInvalidLicense", "{a:?}");
    assert!(a[0]["text"].as_str().unwrap().ends_with("Email Server Error Code: ErrorInvalidLicense"), "{a:?}");
    assert_eq!(st.row("mailboxes", mbx).unwrap()["lastsyncerrorcode"], -2_147_097_996, "0x8005E274");
    h.sim.shutdown().await;
}
