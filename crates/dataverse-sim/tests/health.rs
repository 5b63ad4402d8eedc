//! Day two: the sync cycle, injected and seeded failures with their columns and alerts,
//! transient failures disabling a mailbox, repaired causes, and the `/_sim/` control routes.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, Reply};
use dataverse_sim::health::FailureKind;
use dataverse_sim::{SimConfig, fixtures as fx};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// No cycle on its own (a long interval): the tests run cycles with `/_sim/sync`.
fn manual() -> SimConfig {
    SimConfig { mailboxes: 12, queues: 2, test_delay_ms: 60_000, sync_interval_ms: 3_600_000, transient_attempts: 3, ..Default::default() }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn sim(h: &Harness, method: Method, path: &str, body: Option<Value>) -> Reply {
    let url = format!("{}/_sim/{path}", h.sim.url());
    let mut req = h.http.request(method, url);
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status();
    let headers = resp.headers().clone();
    Reply { status, headers, text: resp.text().await.unwrap() }
}

/// Configure, approve and mark `mbx` as tested and synchronizing (as a passed Test & Enable
/// leaves it), then put it into the cycle.
fn make_working(h: &Harness, mbx: Uuid) {
    let st = h.sim.state();
    let exo = st.seed_ids().exo_profile;
    let row = st.row("mailboxes", mbx).unwrap();
    let queue = st.row("queues", row["_regardingobjectid_value"].as_str().unwrap().parse().unwrap()).is_some();
    assert!(st.set(
        "mailboxes",
        mbx,
        json!({
            "_emailserverprofile_value": exo.to_string(),
            "incomingemaildeliverymethod": 2, "outgoingemaildeliverymethod": 2, "actdeliverymethod": if queue { 2 } else { 1 },
            "emailrouteraccessapproval": 1, "isemailaddressapprovedbyo365admin": true,
            "incomingemailstatus": 1, "outgoingemailstatus": 1, "actstatus": if queue { 0 } else { 1 }, "mailboxstatus": 1,
            "enabledforincomingemail": true, "enabledforoutgoingemail": true, "enabledforact": true,
            "testmailboxaccesscompletedon": now(),
        })
    ));
    assert_eq!(st.run_sync_cycle(Some(&[mbx])), 1, "in the cycle");
}

async fn mailbox(h: &Harness, mbx: Uuid) -> Value {
    let r = h.get(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

/// Alerts of `regarding`, newest first, as a client reads them.
async fn alerts(h: &Harness, regarding: Uuid) -> Vec<Value> {
    let path = format!(
        "tracelogs?$select=level,text,tracecode,errortypedisplay,errordetails,tracestatus,createdon&$filter=_regardingobjectid_value eq {regarding}&$orderby=createdon desc"
    );
    let r = h.get(fx::ADMIN_TOKEN, &path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["value"].as_array().unwrap().clone()
}

fn user_mailbox(h: &Harness, i: usize) -> (Uuid, Uuid) {
    let st = h.sim.state();
    let user = st.seed_ids().users[i];
    (user, st.mailbox_of(user).unwrap())
}

fn queue_mailbox(h: &Harness, i: usize) -> (Uuid, Uuid) {
    let st = h.sim.state();
    let queue = st.seed_ids().queues[i];
    (queue, st.mailbox_of(queue).unwrap())
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

#[tokio::test]
async fn the_cycle_runs_after_a_passed_test_and_moves_the_timing_columns() {
    let h = Harness::start(SimConfig {
        mailboxes: 12,
        queues: 1,
        test_delay_ms: 50,
        sync_interval_ms: 150,
        mixed_states: true,
        ..Default::default()
    })
    .await;
    let st = h.sim.state();
    // User 11 is seeded already tested: it is in the cycle from the start.
    let (_, done) = user_mailbox(&h, 11);
    assert!(st.sync_queue().contains(&done));
    wait_for("the first cycle", async || !mailbox(&h, done).await["lastsuccessfulsynccompletedon"].is_null()).await;
    let row = mailbox(&h, done).await;
    for c in ["lastsyncstartedon", "processinglastattemptedon", "lastsuccessfulsynccompletedon", "postponemailboxprocessinguntil"] {
        assert!(row[c].as_str().is_some_and(|s| s.ends_with('Z')), "{c}: {row}");
    }
    assert!((0..=20).contains(&row["itemsprocessedforlastsync"].as_i64().unwrap()), "{row}");
    assert_eq!((row["itemsfailedforlastsync"].as_i64(), row["nextscheduledactsyncinseconds"].as_i64()), (Some(0), Some(1)));
    assert_eq!(
        (row["mailboxstatus"].as_i64(), row["lastsyncerrorcount"].as_i64(), row["processingstatecode"].as_i64()),
        (Some(1), Some(0), Some(0))
    );
    assert!(row["lastsyncerror"].is_null(), "no error yet");
    // It keeps synchronizing: an old completion time is replaced by the next cycle.
    st.set(
        "mailboxes",
        done,
        json!({"lastsuccessfulsynccompletedon": "2020-01-01T00:00:00Z", "lastsyncstartedon": "2020-01-01T00:00:00Z"}),
    );
    wait_for("the next cycle", async || mailbox(&h, done).await["lastsuccessfulsynccompletedon"] != "2020-01-01T00:00:00Z").await;
    assert_ne!(mailbox(&h, done).await["lastsyncstartedon"], "2020-01-01T00:00:00Z");
    let health = sim(&h, Method::GET, "health", None).await.json();
    assert!(health["cycles"].as_u64().unwrap() >= 2, "{health}");
    assert_eq!((health["sync_interval_ms"].as_u64(), health["transient_attempts"].as_u64()), (Some(150), Some(10)));

    // A mailbox enters the cycle when its Test & Enable passes, not before.
    let (user, mbx) = user_mailbox(&h, 5);
    assert!(!st.sync_queue().contains(&mbx));
    h.patch(fx::ADMIN_TOKEN, &format!("systemusers({user})"), json!({"emailrouteraccessapproval": 1})).await;
    h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"testemailconfigurationscheduled": true})).await;
    wait_for("the test and a cycle", async || !mailbox(&h, mbx).await["lastsuccessfulsynccompletedon"].is_null()).await;
    assert_eq!(mailbox(&h, mbx).await["mailboxstatus"], 1);
    // A failed test does not enter the cycle (user 0 has no profile).
    let (_, unconfigured) = user_mailbox(&h, 0);
    st.set("mailboxes", unconfigured, json!({"incomingemaildeliverymethod": 2, "testemailconfigurationscheduled": true}));
    wait_for("the failed test", async || mailbox(&h, unconfigured).await["testemailconfigurationscheduled"] == false).await;
    assert!(!st.sync_queue().contains(&unconfigured));
    h.sim.shutdown().await;
}

/// What one failure kind must write (README "Failure kinds").
struct Expected {
    kind: FailureKind,
    queue: bool,
    code: i64,
    display: &'static str,
    failing: [bool; 3],
    transient: bool,
    fragment: &'static str,
}

const KINDS: &[Expected] = &[
    Expected {
        kind: FailureKind::License,
        queue: false,
        code: -2_147_097_996,
        display: "ErrorInvalidLicense",
        failing: [true, true, true],
        transient: false,
        fragment: "Email Server Error Code: ErrorInvalidLicense",
    },
    Expected {
        kind: FailureKind::OwnerMismatch,
        queue: false,
        code: -2_147_187_962,
        display: "UserPrivilegeError",
        failing: [false, false, true],
        transient: false,
        fragment: "Crm.80048306.",
    },
    Expected {
        kind: FailureKind::QueueTeamWithoutRole,
        queue: true,
        code: -2_147_209_462,
        display: "UnknownIncomingEmailIntegrationError",
        failing: [true, false, false],
        transient: true,
        fragment: "UnknownIncomingEmailIntegrationError -2147209462 exception.",
    },
    Expected {
        kind: FailureKind::AccessMode,
        queue: false,
        code: -2_147_097_994,
        display: "MailboxUserAccessModeNotReadWrite",
        failing: [true, true, true],
        transient: false,
        fragment: "Email Server Error Code: 8005E276",
    },
    Expected {
        kind: FailureKind::UserDisabled,
        queue: false,
        code: -2_147_097_997,
        display: "MailboxUserDisabled",
        failing: [true, true, true],
        transient: false,
        fragment: "Email Server Error Code: 8005E273",
    },
    Expected {
        kind: FailureKind::NotInTenant,
        queue: false,
        code: -2_147_098_000,
        display: "MailboxUserNotFoundInTenant",
        failing: [true, true, true],
        transient: false,
        fragment: "because no user was found with the email address",
    },
    Expected {
        kind: FailureKind::EwsDisabled,
        queue: false,
        code: 403,
        display: "HttpForbidden",
        failing: [true, true, true],
        transient: false,
        fragment: "Http server returned Forbidden exception.",
    },
    Expected {
        kind: FailureKind::Unauthorized,
        queue: false,
        code: 401,
        display: "HttpUnauthorized",
        failing: [true, true, true],
        transient: false,
        fragment: "Http server returned Unauthorized exception.",
    },
    Expected {
        kind: FailureKind::Timeout,
        queue: true,
        code: -2_146_233_083,
        display: "MailboxConnectionTimeout",
        failing: [true, true, true],
        transient: true,
        fragment: "The operation has timed out.",
    },
];

#[tokio::test]
async fn each_injected_failure_writes_its_columns_and_alert() {
    let h = Harness::start(SimConfig { mailboxes: 12, ..manual() }).await;
    let (mut next_user, mut next_queue) = (0, 0);
    for &Expected { kind, queue, code, display, failing, transient, fragment } in KINDS {
        let (_, mbx) = if queue {
            next_queue += 1;
            queue_mailbox(&h, next_queue - 1)
        } else {
            next_user += 1;
            user_mailbox(&h, next_user)
        };
        make_working(&h, mbx);
        let before = mailbox(&h, mbx).await;
        let r = sim(&h, Method::POST, &format!("mailboxes/{mbx}/failure"), Some(json!({"kind": kind.name()}))).await;
        assert_eq!(r.status, StatusCode::OK, "{kind:?}: {}", r.text);
        assert_eq!(r.json()["synchronized"], 1, "{kind:?}: one cycle at once");
        let row = mailbox(&h, mbx).await;
        let name = row["name"].as_str().unwrap();
        assert_eq!(row["lastsyncerrorcode"], code, "{kind:?}");
        assert_eq!(row["lastsyncerrorcount"], 1, "{kind:?}");
        assert_eq!(row["lastsyncerrormachinename"], "SIM-ASYNC-01");
        assert!(row["lastsyncerroroccurredon"].as_str().unwrap() >= before["lastsuccessfulsynccompletedon"].as_str().unwrap());
        let text = row["lastsyncerror"].as_str().unwrap();
        assert!(text.contains(fragment), "{kind:?}: {text}");
        assert!(text.contains(name) || kind == FailureKind::NotInTenant, "{kind:?}: names the mailbox: {text}");
        assert_eq!(row["mailboxstatus"], 2, "{kind:?}");
        assert_eq!((row["itemsprocessedforlastsync"].as_i64(), row["itemsfailedforlastsync"].as_i64()), (Some(0), Some(1)));
        assert_eq!(row["transientfailurecount"], if transient { 1 } else { 0 }, "{kind:?}");
        for (i, (status, enabled)) in [
            ("incomingemailstatus", "enabledforincomingemail"),
            ("outgoingemailstatus", "enabledforoutgoingemail"),
            ("actstatus", "enabledforact"),
        ]
        .into_iter()
        .enumerate()
        {
            if before[status] == 0 {
                assert_eq!(row[status], 0, "{kind:?} {status}: not tested stays Not Run");
                continue;
            }
            assert_eq!(row[status], if failing[i] { 2 } else { 1 }, "{kind:?} {status}");
            // Permanent errors disable the failing channels at once; a first transient one does not.
            assert_eq!(row[enabled], !failing[i] || transient, "{kind:?} {enabled}");
        }
        let a = alerts(&h, mbx).await;
        let newest = &a[0];
        assert_eq!(newest["errortypedisplay"], display, "{kind:?}: {a:?}");
        assert_eq!(newest["text"], text, "{kind:?}: the alert is the last sync error");
        assert_eq!(newest["level"], if transient { 2 } else { 3 }, "{kind:?}: warning while retried, error when disabled");
        assert_eq!(newest["tracestatus"], false);
        let report = sim(&h, Method::GET, "health", None).await.json();
        let entry = report["failures"].as_array().unwrap().iter().find(|f| f["mailboxid"] == mbx.to_string()).cloned();
        assert_eq!(entry, Some(json!({"mailboxid": mbx.to_string(), "kind": kind.name(), "source": "route", "applies": true})), "{kind:?}");
    }
    let report = sim(&h, Method::GET, "health", None).await.json();
    assert_eq!(report["failures"].as_array().unwrap().len(), KINDS.len());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn transient_failures_disable_after_the_configured_attempts_permanent_ones_at_once() {
    let h = Harness::start(manual()).await;
    let st = h.sim.state();
    let (_, mbx) = user_mailbox(&h, 1);
    make_working(&h, mbx);
    sim(&h, Method::POST, &format!("mailboxes/{mbx}/failure"), Some(json!({"kind": "timeout"}))).await;
    assert_eq!(st.run_sync_cycle(Some(&[mbx])), 1);
    let row = mailbox(&h, mbx).await;
    assert_eq!((row["transientfailurecount"].as_i64(), row["lastsyncerrorcount"].as_i64()), (Some(2), Some(2)));
    assert_eq!(
        (row["enabledforincomingemail"].as_bool(), row["incomingemailstatus"].as_i64()),
        (Some(true), Some(2)),
        "Failing, still enabled"
    );
    assert_eq!(st.run_sync_cycle(Some(&[mbx])), 1, "third attempt (transient_attempts = 3)");
    let row = mailbox(&h, mbx).await;
    assert_eq!(row["transientfailurecount"], 3);
    for c in ["enabledforincomingemail", "enabledforoutgoingemail", "enabledforact"] {
        assert_eq!(row[c], false, "{c}: disabled for processing");
    }
    let levels: Vec<i64> = alerts(&h, mbx)
        .await
        .iter()
        .filter(|a| a["errortypedisplay"] == "MailboxConnectionTimeout")
        .map(|a| a["level"].as_i64().unwrap())
        .collect();
    let mut sorted = levels.clone();
    sorted.sort();
    assert_eq!(sorted, vec![2, 2, 3], "two warnings, then the error that disables");
    assert!(!st.sync_queue().contains(&mbx), "a disabled mailbox leaves the cycle");
    assert_eq!(st.run_sync_cycle(Some(&[mbx])), 0);

    // 401: disabled at the first failure.
    let (_, other) = user_mailbox(&h, 2);
    make_working(&h, other);
    sim(&h, Method::POST, &format!("mailboxes/{other}/failure"), Some(json!({"kind": "unauthorized"}))).await;
    let row = mailbox(&h, other).await;
    assert_eq!((row["enabledforincomingemail"].as_bool(), row["transientfailurecount"].as_i64()), (Some(false), Some(0)));
    assert!(!st.sync_queue().contains(&other));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_worker_retries_a_transient_failure_until_it_disables_the_mailbox() {
    let h = Harness::start(SimConfig { sync_interval_ms: 60, transient_attempts: 2, ..manual() }).await;
    let (_, mbx) = user_mailbox(&h, 3);
    make_working(&h, mbx);
    let r = sim(&h, Method::POST, &format!("mailboxes/{mbx}/failure"), Some(json!({"kind": "timeout", "sync": false}))).await;
    assert_eq!(r.json()["synchronized"], 0);
    wait_for("the mailbox to be disabled", async || mailbox(&h, mbx).await["enabledforincomingemail"] == false).await;
    assert_eq!(mailbox(&h, mbx).await["transientfailurecount"], 2);
    h.sim.shutdown().await;
}

/// Schedule a Test & Enable and run it now; returns the mailbox row after it.
async fn test_now(h: &Harness, mbx: Uuid) -> Value {
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), json!({"testemailconfigurationscheduled": true})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(h.sim.state().run_due_tests(true), vec![mbx]);
    mailbox(h, mbx).await
}

#[tokio::test]
async fn fixing_a_dataverse_cause_lets_the_next_test_succeed() {
    let h = Harness::start(manual()).await;
    let st = h.sim.state();

    // Owner mismatch: only ACT fails; the test keeps failing while the owner is wrong.
    let (user, mbx) = user_mailbox(&h, 1);
    make_working(&h, mbx);
    let r = sim(&h, Method::POST, &format!("mailboxes/{mbx}/failure"), Some(json!({"kind": "owner-mismatch"}))).await;
    assert_eq!(r.json()["changed"]["mailbox"]["_ownerid_value"], fx::ADMIN_USER_ID);
    let row = test_now(&h, mbx).await;
    assert_eq!(
        (row["actstatus"].as_i64(), row["incomingemailstatus"].as_i64(), row["mailboxstatus"].as_i64()),
        (Some(2), Some(1), Some(2))
    );
    assert_eq!(row["enabledforact"], false);
    // The repair crmsync makes: assign the mailbox to its user (Assign needs prvAssignMailbox).
    let bind = json!({"ownerid@odata.bind": format!("/systemusers({user})")});
    let r = h.patch(fx::READER_TOKEN, &format!("mailboxes({mbx})"), bind.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = h.patch(fx::ADMIN_TOKEN, &format!("mailboxes({mbx})"), bind).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let report = sim(&h, Method::GET, "health", None).await.json();
    assert_eq!(report["failures"][0]["applies"], false, "the cause is gone: {report}");
    let row = test_now(&h, mbx).await;
    assert_eq!((row["actstatus"].as_i64(), row["mailboxstatus"].as_i64(), row["lastsyncerrorcount"].as_i64()), (Some(1), Some(1), Some(0)));
    assert_eq!(
        (row["_ownerid_value"].as_str(), row["_owninguser_value"].as_str()),
        (Some(user.to_string().as_str()), Some(user.to_string().as_str()))
    );
    assert!(alerts(&h, mbx).await.iter().any(|a| a["errortypedisplay"] == "MailboxTestAndEnableSucceeded" && a["level"] == 1));
    assert!(st.sync_queue().contains(&mbx), "back in the cycle");

    // Access mode: fixed through the Web API on the user.
    let (user, mbx) = user_mailbox(&h, 2);
    make_working(&h, mbx);
    sim(&h, Method::POST, &format!("mailboxes/{mbx}/failure"), Some(json!({"kind": "access-mode", "accessmode": 1}))).await;
    assert_eq!(st.row("systemusers", user).unwrap()["accessmode"], 1);
    assert_eq!(test_now(&h, mbx).await["mailboxstatus"], 2);
    h.patch(fx::ADMIN_TOKEN, &format!("systemusers({user})"), json!({"accessmode": 0})).await;
    assert_eq!(test_now(&h, mbx).await["mailboxstatus"], 1);

    // Queue team without a role: a transient cause in a cycle; a role for the team fixes it.
    let (queue, qmbx) = queue_mailbox(&h, 0);
    make_working(&h, qmbx);
    let r = sim(&h, Method::POST, &format!("mailboxes/{qmbx}/failure"), Some(json!({"kind": "queue-team-without-role"}))).await;
    let team = r.json()["changed"]["teamid"].as_str().unwrap().to_string();
    let q = h
        .get_with(fx::ADMIN_TOKEN, &format!("queues({queue})?$select=_ownerid_value"), &[("Prefer", "odata.include-annotations=\"*\"")])
        .await
        .json();
    assert_eq!(
        (q["_ownerid_value"].as_str(), q["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"].as_str()),
        (Some(team.as_str()), Some("team"))
    );
    assert_eq!(mailbox(&h, qmbx).await["incomingemailstatus"], 2);
    let r = sim(&h, Method::PUT, &format!("teams/{team}/roles"), Some(json!({"roles": [fx::ROLE_READER]}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(st.run_sync_cycle(Some(&[qmbx])), 1);
    let row = mailbox(&h, qmbx).await;
    assert_eq!(
        (row["incomingemailstatus"].as_i64(), row["mailboxstatus"].as_i64(), row["transientfailurecount"].as_i64()),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(row["lastsyncerrorcode"], -2_147_209_462, "the last error stays as history");

    // Inactive profile in a cycle: every channel, InvalidIncomingEmailServerProfile.
    let (_, pmbx) = user_mailbox(&h, 4);
    make_working(&h, pmbx);
    let exo = st.seed_ids().exo_profile;
    let r = sim(&h, Method::PATCH, &format!("rows/emailserverprofiles/{exo}"), Some(json!({"statecode": 1, "statuscode": 2}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(st.run_sync_cycle(Some(&[pmbx])), 1);
    assert_eq!(alerts(&h, pmbx).await[0]["errortypedisplay"], "InvalidIncomingEmailServerProfile");
    assert_eq!(mailbox(&h, pmbx).await["enabledforincomingemail"], false);
    h.patch(fx::ADMIN_TOKEN, &format!("emailserverprofiles({exo})"), json!({"statecode": 0})).await;
    assert_eq!(test_now(&h, pmbx).await["mailboxstatus"], 1);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn external_causes_stay_until_cleared_through_sim() {
    let h = Harness::start(manual()).await;
    let (_, mbx) = user_mailbox(&h, 1);
    make_working(&h, mbx);
    sim(&h, Method::POST, &format!("mailboxes/{mbx}/failure"), Some(json!({"kind": "ews-disabled"}))).await;
    let row = test_now(&h, mbx).await;
    assert_eq!(row["mailboxstatus"], 2, "still failing after a new test");
    assert_eq!(alerts(&h, mbx).await[0]["errordetails"], "System.Net.WebException: The request failed with HTTP status 403: Forbidden.");
    let r = sim(&h, Method::DELETE, &format!("mailboxes/{mbx}/failure"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(sim(&h, Method::GET, "health", None).await.json()["failures"], json!([]));
    assert_eq!(test_now(&h, mbx).await["mailboxstatus"], 1);

    // Clearing a Dataverse kind undoes its state.
    let (user, mbx) = user_mailbox(&h, 2);
    sim(&h, Method::POST, &format!("mailboxes/{mbx}/failure"), Some(json!({"kind": "owner-mismatch"}))).await;
    sim(&h, Method::DELETE, &format!("mailboxes/{mbx}/failure"), None).await;
    assert_eq!(h.sim.state().row("mailboxes", mbx).unwrap()["_ownerid_value"], user.to_string());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_transient_cause_retries_test_and_enable_then_fails_it() {
    let h = Harness::start(SimConfig { transient_attempts: 2, ..manual() }).await;
    let st = h.sim.state();
    let (user, mbx) = user_mailbox(&h, 5);
    h.patch(fx::ADMIN_TOKEN, &format!("systemusers({user})"), json!({"emailrouteraccessapproval": 1})).await;
    st.inject_failure(mbx, FailureKind::Timeout, &Default::default(), false).unwrap();
    let row = test_now(&h, mbx).await;
    assert_eq!((row["testemailconfigurationscheduled"].as_bool(), row["testemailconfigurationretrycount"].as_i64()), (Some(true), Some(1)));
    assert_eq!(row["mailboxstatus"], 0, "Not Run while retried");
    assert!(row["postponetestemailconfigurationuntil"].as_str().unwrap() >= now().as_str());
    assert_eq!(st.scheduled_tests().len(), 1, "still scheduled");
    assert_eq!(alerts(&h, mbx).await[0]["level"], 2);
    st.set("mailboxes", mbx, json!({"postponetestemailconfigurationuntil": null}));
    assert_eq!(st.run_due_tests(true), vec![mbx]);
    let row = mailbox(&h, mbx).await;
    assert_eq!((row["testemailconfigurationscheduled"].as_bool(), row["mailboxstatus"].as_i64()), (Some(false), Some(2)));
    assert_eq!((row["testemailconfigurationretrycount"].as_i64(), row["enabledforincomingemail"].as_bool()), (Some(2), Some(false)));
    let mut levels: Vec<i64> = alerts(&h, mbx)
        .await
        .iter()
        .filter(|a| a["errortypedisplay"] == "MailboxConnectionTimeout")
        .map(|a| a["level"].as_i64().unwrap())
        .collect();
    levels.sort();
    assert_eq!(levels, vec![2, 3], "a warning for the retried attempt, an error for the failed test");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn health_mix_is_seeded_deterministically_and_listed() {
    let mix = vec![
        (FailureKind::License, 0.1),
        (FailureKind::OwnerMismatch, 0.05),
        (FailureKind::QueueTeamWithoutRole, 0.5),
        (FailureKind::Timeout, 0.1),
    ];
    let config = SimConfig { mailboxes: 40, queues: 4, health_mix: mix.clone(), ..manual() };
    let a = Harness::start(config.clone()).await;
    let b = Harness::start(config.clone()).await;
    let c = Harness::start(SimConfig { seed: 2, ..config.clone() }).await;
    let report = sim(&a, Method::GET, "health", None).await.json();
    assert_eq!(
        report["counts"],
        json!({"license": 4, "owner-mismatch": 2, "queue-team-without-role": 2, "timeout": 4}),
        "round(share × population)"
    );
    let failures = report["failures"].as_array().unwrap();
    assert!(failures.iter().all(|f| f["source"] == "seed" && f["applies"] == true), "{report}");
    assert_eq!(report["failures"], sim(&b, Method::GET, "health", None).await.json()["failures"], "same seed, same mailboxes");
    let kinds = |r: &Value| r["failures"].as_array().unwrap().iter().map(|f| f["kind"].clone()).collect::<Vec<_>>();
    assert_ne!(sim(&c, Method::GET, "health", None).await.json()["failures"], report["failures"], "another seed, other mailboxes");
    assert_eq!(kinds(&report).len(), 12);
    let st = a.sim.state();
    for f in failures.iter().filter(|f| f["kind"] == "owner-mismatch") {
        let m = st.row("mailboxes", f["mailboxid"].as_str().unwrap().parse().unwrap()).unwrap();
        assert_ne!(m["_ownerid_value"], m["_regardingobjectid_value"], "real state");
    }
    // Reset re-seeds the same failures.
    st.clear_failure(failures[0]["mailboxid"].as_str().unwrap().parse().unwrap());
    assert_eq!(st.health()["failures"].as_array().unwrap().len(), 11);
    let r = a.http.post(format!("{}/_sim/reset", a.sim.url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(sim(&a, Method::GET, "health", None).await.json()["failures"], report["failures"]);
    for h in [a, b, c] {
        h.sim.shutdown().await;
    }
}

#[tokio::test]
async fn control_routes_reject_bad_input_and_change_nothing() {
    let h = Harness::start(manual()).await;
    let (_, mbx) = user_mailbox(&h, 1);
    let (_, qmbx) = queue_mailbox(&h, 0);
    let before = h.sim.state().row("mailboxes", mbx).unwrap();
    let cases: Vec<(Method, String, Option<Value>, StatusCode)> = vec![
        (Method::POST, format!("mailboxes/{mbx}/failure"), Some(json!({"kind": "nosuch"})), StatusCode::BAD_REQUEST),
        (Method::POST, format!("mailboxes/{mbx}/failure"), Some(json!({})), StatusCode::BAD_REQUEST),
        (Method::POST, format!("mailboxes/{mbx}/failure"), Some(json!({"kind": "queue-team-without-role"})), StatusCode::BAD_REQUEST),
        (Method::POST, format!("mailboxes/{qmbx}/failure"), Some(json!({"kind": "owner-mismatch"})), StatusCode::BAD_REQUEST),
        (Method::POST, format!("mailboxes/{mbx}/failure"), Some(json!({"kind": "access-mode", "accessmode": 0})), StatusCode::BAD_REQUEST),
        (
            Method::POST,
            format!("mailboxes/{mbx}/failure"),
            Some(json!({"kind": "owner-mismatch", "owner": "nope"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            format!("mailboxes/{mbx}/failure"),
            Some(json!({"kind": "owner-mismatch", "owner": Uuid::new_v4()})),
            StatusCode::BAD_REQUEST,
        ),
        (Method::POST, "mailboxes/not-a-guid/failure".into(), Some(json!({"kind": "license"})), StatusCode::BAD_REQUEST),
        (Method::POST, format!("mailboxes/{}/failure", Uuid::new_v4()), Some(json!({"kind": "license"})), StatusCode::NOT_FOUND),
        (Method::DELETE, format!("mailboxes/{}/failure", Uuid::new_v4()), None, StatusCode::NOT_FOUND),
        (Method::PATCH, format!("rows/mailboxes/{mbx}"), Some(json!({"nosuchcolumn": 1})), StatusCode::BAD_REQUEST),
        (Method::PATCH, format!("rows/mailboxes/{mbx}"), Some(json!([1])), StatusCode::BAD_REQUEST),
        (Method::PATCH, format!("rows/mailboxes/{mbx}"), Some(json!({"mailboxid": Uuid::new_v4()})), StatusCode::BAD_REQUEST),
        (Method::PATCH, format!("rows/nosuch/{mbx}"), Some(json!({})), StatusCode::NOT_FOUND),
        (Method::PATCH, format!("rows/mailboxes/{}", Uuid::new_v4()), Some(json!({"name": "x"})), StatusCode::NOT_FOUND),
        (Method::POST, "teams".into(), Some(json!({"name": ""})), StatusCode::BAD_REQUEST),
        (Method::POST, "teams".into(), Some(json!({"name": "T", "roles": ["No Such Role"]})), StatusCode::BAD_REQUEST),
        (Method::PUT, format!("teams/{}/roles", Uuid::new_v4()), Some(json!({"roles": []})), StatusCode::NOT_FOUND),
        (Method::POST, "sync".into(), Some(json!({"mailboxes": ["x"]})), StatusCode::BAD_REQUEST),
    ];
    for (method, path, body, status) in cases {
        let r = sim(&h, method.clone(), &path, body.clone()).await;
        assert_eq!(r.status, status, "{method} {path} {body:?}: {}", r.text);
        assert!(r.json()["error"]["message"].is_string(), "{}", r.text);
    }
    let raw = h.http.post(format!("{}/_sim/mailboxes/{mbx}/failure", h.sim.url())).body("{not json").send().await.unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let after = h.sim.state().row("mailboxes", mbx).unwrap();
    assert_eq!(before, after, "nothing changed");
    assert_eq!(h.sim.state().health()["failures"], json!([]));
    let r = sim(&h, Method::POST, "teams", Some(json!({"name": "Sales Team", "roles": [fx::ROLE_READER]}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(Uuid::parse_str(r.json()["teamid"].as_str().unwrap()).is_ok());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn count_segment_answers_a_plain_number() {
    let h = Harness::start(SimConfig { mailboxes: 5003, queues: 2, ..manual() }).await;
    let r = h.get(fx::READER_TOKEN, "mailboxes/$count").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(r.text, "5000", "capped at 5,000 like @odata.count");
    let r = h.get(fx::READER_TOKEN, "queues/$count").await;
    assert_eq!(r.text, "2");
    let r = h.get(fx::READER_TOKEN, "mailboxes/$count?$filter=_emailserverprofile_value ne null").await;
    let configured: usize = r.text.parse().unwrap();
    let expected = h.sim.state().rows("mailboxes").iter().filter(|m| !m["_emailserverprofile_value"].is_null()).count();
    assert_eq!(configured, expected);
    assert_eq!(h.get(fx::READER_TOKEN, "systemusers/$count?$filter=startswith(fullname,'Sim ')").await.text, "3");
    assert_eq!(h.get(fx::READER_TOKEN, "mailboxes/$count?$filter=nosuch eq 1").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        h.send(Method::POST, Some(fx::ADMIN_TOKEN), "mailboxes/$count", &[], Some(&json!({}))).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(h.send(Method::GET, None, "mailboxes/$count", &[], None).await.status, StatusCode::UNAUTHORIZED);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn unsupported_operations_answer_4xx_like_the_service_and_supported_ones_work() {
    let h = Harness::start(manual()).await;
    let st = h.sim.state();
    let org = st.organization_id();
    let not_supported = |message: &str, table: &str| {
        (
            "0x80040800".to_string(),
            format!(
                "The '{message}' method does not support entities of type '{table}'. MessageProcessorCache returned MessageProcessor.Empty."
            ),
        )
    };
    let r = h.send(Method::POST, Some(fx::ADMIN_TOKEN), "organizations", &[], Some(&json!({"name": "Second"}))).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, not_supported("Create", "organization")));
    let r = h.send(Method::DELETE, Some(fx::ADMIN_TOKEN), &format!("organizations({org})"), &[], None).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, not_supported("Delete", "organization")));
    let user = st.seed_ids().users[0];
    let r = h.send(Method::DELETE, Some(fx::ADMIN_TOKEN), &format!("systemusers({user})"), &[], None).await;
    assert_eq!((r.status, r.error()), (StatusCode::BAD_REQUEST, not_supported("Delete", "systemuser")));
    assert_eq!(st.rows("organizations").len(), 1);
    assert!(st.row("systemusers", user).is_some());
    // What the simulator does not model is a 400, never 501.
    for path in
        ["$metadata", "mailboxes?$expand=emailserverprofile", &format!("mailboxes({})/emailserverprofile", st.mailbox_of(user).unwrap())]
    {
        let r = h.get(fx::ADMIN_TOKEN, path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        assert!(r.error().1.contains("does not model"), "{path}: {}", r.text);
    }
    // Service document.
    let r = h.get(fx::READER_TOKEN, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let names: Vec<String> = r.json()["value"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert!(names.iter().any(|n| n == "mailboxes") && names.iter().any(|n| n == "tracelogs"), "{names:?}");

    // Create (POST) and delete (DELETE) where the service supports them.
    let r = h
        .send(
            Method::POST,
            Some(fx::ADMIN_TOKEN),
            "queues",
            &[("Prefer", "return=representation")],
            Some(&json!({"name": "Created Queue", "emailaddress": "created@contoso.example"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let queue: Uuid = r.json()["queueid"].as_str().unwrap().parse().unwrap();
    assert_eq!(st.row("queues", queue).unwrap()["statecode"], 0);
    let r = h.send(Method::POST, Some(fx::ADMIN_TOKEN), "queues", &[], Some(&json!({"queueid": queue, "name": "again"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "duplicate key: {}", r.text);
    let r = h.send(Method::POST, Some(fx::ADMIN_TOKEN), "queues", &[], Some(&json!({"incomingemaildeliverymethod": 1}))).await;
    assert_eq!(r.error().0, "0x8004431A", "the same validation as PATCH");
    let r = h.send(Method::POST, Some(fx::READER_TOKEN), "queues", &[], Some(&json!({"name": "x"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let trace: Uuid = st.rows("tracelogs")[0]["tracelogid"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        h.send(Method::DELETE, Some(fx::READER_TOKEN), &format!("tracelogs({trace})"), &[], None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.send(Method::DELETE, Some(fx::ADMIN_TOKEN), &format!("tracelogs({trace})"), &[], None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.send(Method::DELETE, Some(fx::ADMIN_TOKEN), &format!("tracelogs({trace})"), &[], None).await.status,
        StatusCode::NOT_FOUND
    );
    // Deleting a queue deletes its mailbox.
    let (q, qmbx) = queue_mailbox(&h, 1);
    assert_eq!(h.send(Method::DELETE, Some(fx::ADMIN_TOKEN), &format!("queues({q})"), &[], None).await.status, StatusCode::NO_CONTENT);
    assert!(st.row("mailboxes", qmbx).is_none());
    h.sim.shutdown().await;
}
