//! Day two through the C ABI against the simulator: every health class from a seeded state,
//! every diagnosis row with its repair or remedy, repair of the repairable injected failures
//! (healthy after waiting), what_if and a second repair writing nothing, the baseline, and a
//! reader who gets the report but not the repair.

mod common;

use common::*;
use crmsync::ffi;
use dataverse_sim::fixtures;
use dataverse_sim::health::{FailureKind, InjectOptions};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A simulator with every mailbox configured, approved and tested successfully (the whole
/// procedure), and a sync cycle too slow to run by itself during the test.
fn working_org(users: usize, queues: usize) -> (Sim, Client) {
    let sim = Sim::start_with(|c| {
        c.mailboxes = users;
        c.queues = queues;
        c.test_delay_ms = 100;
        c.sync_interval_ms = 3_600_000;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let setup = r#"{"version":1,"wait":true,"timeout_secs":60,"poll_interval_ms":100}"#;
    run_op(&client, ffi::crmsync_setup_start, setup).1.unwrap();
    (sim, client)
}

/// Every event of an operation, and its result.
fn run_all(client: &Client, start: StartFn, request: &str) -> (Vec<Value>, Result<Value, (ffi::Status, Value)>) {
    let (mut op, mut error) = (std::ptr::null_mut(), std::ptr::null_mut());
    let status = unsafe { start(client.0, request.as_ptr(), request.len(), &mut op, &mut error) };
    if status != ffi::Status::Ok {
        return (Vec::new(), Err((status, json(take(error)))));
    }
    let op = Op(op);
    let mut events = Vec::new();
    loop {
        match next_event(&op, 60_000) {
            Next::Event(e) => events.push(e),
            Next::TimedOut => panic!("no event within 60 s"),
            Next::End => return (events, op_result(&op)),
        }
    }
}

/// The health rows by mailbox id, and the summary.
fn health(client: &Client, request: Value) -> (BTreeMap<String, Value>, Value) {
    let (events, result) = run_all(client, ffi::crmsync_mailboxes_health_start, &request.to_string());
    let rows = events.into_iter().filter(|e| e["type"] == "health").map(|e| (e["mailbox_id"].as_str().unwrap().to_owned(), e)).collect();
    (rows, result.unwrap())
}

fn repair(client: &Client, request: Value) -> (BTreeMap<String, Value>, Value) {
    let (events, result) = run_all(client, ffi::crmsync_mailboxes_repair_start, &request.to_string());
    let items = events.into_iter().filter(|e| e["type"] == "repair").map(|e| (e["mailbox_id"].as_str().unwrap().to_owned(), e)).collect();
    (items, result.unwrap())
}

fn writes(sim: &Sim) -> u64 {
    sim.with_state(|s| s.state().stats()["write_operations"].as_u64().unwrap())
}

fn user_mailboxes(sim: &Sim) -> Vec<Uuid> {
    sim.with_state(|s| {
        let state = s.state();
        state.seed_ids().users.iter().map(|u| state.mailbox_of(*u).unwrap()).collect()
    })
}

fn queue_mailboxes(sim: &Sim) -> Vec<Uuid> {
    sim.with_state(|s| {
        let state = s.state();
        state.seed_ids().queues.iter().map(|q| state.mailbox_of(*q).unwrap()).collect()
    })
}

fn set(sim: &Sim, mailbox: Uuid, values: Value) {
    assert!(sim.with_state(|s| s.state().set("mailboxes", mailbox, values)));
}

fn inject(sim: &Sim, mailbox: Uuid, kind: FailureKind) {
    sim.with_state(|s| s.state().inject_failure(mailbox, kind, &InjectOptions::default(), true)).unwrap();
}

fn hours_ago(hours: i64) -> String {
    (chrono::Utc::now() - chrono::TimeDelta::hours(hours)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn class(rows: &BTreeMap<String, Value>, mailbox: Uuid) -> String {
    rows[&mailbox.to_string()]["health"].as_str().unwrap().to_owned()
}

#[test]
fn every_class_comes_from_its_seeded_state() {
    let (sim, client) = working_org(9, 0);
    let m = user_mailboxes(&sim);
    set(&sim, m[1], json!({"_emailserverprofile_value": null}));
    set(&sim, m[2], json!({"emailrouteraccessapproval": 2}));
    set(
        &sim,
        m[3],
        json!({"incomingemailstatus": 0, "outgoingemailstatus": 0, "actstatus": 0, "mailboxstatus": 0, "testmailboxaccesscompletedon": null}),
    );
    let later = (chrono::Utc::now() + chrono::TimeDelta::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    set(&sim, m[4], json!({"testemailconfigurationscheduled": true, "postponetestemailconfigurationuntil": later}));
    inject(&sim, m[5], FailureKind::OwnerMismatch);
    inject(&sim, m[6], FailureKind::License);
    set(&sim, m[7], json!({"lastsuccessfulsynccompletedon": hours_ago(30), "testmailboxaccesscompletedon": hours_ago(31)}));
    set(&sim, m[8], json!({"statecode": 1, "statuscode": 2}));

    let (rows, summary) = health(&client, json!({"version": 1}));
    let expected =
        ["Healthy", "NotConfigured", "PendingApproval", "NotTested", "TestScheduled", "Failing", "Disabled", "Stale", "Inactive"];
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(class(&rows, m[i]), *want, "mailbox {i}: {}", rows[&m[i].to_string()]);
    }
    for want in expected {
        assert_eq!(summary["counts"][want], 1, "{summary}");
    }
    assert_eq!((summary["mailboxes"].as_u64(), summary["unhealthy"].as_u64()), (Some(9), Some(8)));
    assert_eq!(summary["audit_columns"], true, "the simulator has the 9.2.2412.2 columns");
    let stale = &rows[&m[7].to_string()];
    assert!(stale["reason"].as_str().unwrap().contains("30 hours"), "{stale}");
    assert!(rows[&m[0].to_string()]["test_last_attempted_on"].is_string(), "audit columns are read");

    // -StaleAfter: 48 hours makes the stale mailbox healthy; the class filter reports only its rows.
    let (rows, _) = health(&client, json!({"version": 1, "stale_after_secs": 48 * 3600}));
    assert_eq!(class(&rows, m[7]), "Healthy");
    let (rows, summary) = health(&client, json!({"version": 1, "health": ["Failing", "Disabled"]}));
    assert_eq!(rows.len(), 2);
    assert_eq!((summary["reported"].as_u64(), summary["mailboxes"].as_u64()), (Some(2), Some(9)));
}

/// Injects every failure the simulator knows, plus the documented ones it has no kind for
/// (seeded as the columns the service writes), and checks each row's diagnosis, then repairs.
#[test]
fn every_diagnosis_row_is_reported_and_repair_fixes_exactly_the_repairable_ones() {
    let (sim, client) = working_org(14, 1);
    let m = user_mailboxes(&sim);
    let queue = queue_mailboxes(&sim)[0];
    let cases: Vec<(Uuid, &str, Option<FailureKind>)> = vec![
        (m[1], "UserPrivilegeError", Some(FailureKind::OwnerMismatch)),
        (m[2], "UserAccessModeNotReadWrite", Some(FailureKind::AccessMode)),
        (m[3], "ErrorInvalidLicense", Some(FailureKind::License)),
        (m[4], "EntraUserDisabled", Some(FailureKind::UserDisabled)),
        (m[5], "NoUserFound", Some(FailureKind::NotInTenant)),
        (m[6], "EwsForbidden403", Some(FailureKind::EwsDisabled)),
        (m[7], "Unauthorized401", Some(FailureKind::Unauthorized)),
        (queue, "QueueTeamWithoutRole", Some(FailureKind::QueueTeamWithoutRole)),
        (m[8], "InvalidIncomingEmailServerProfile", None),
        (m[9], "S2SApprovalNeeded", None),
        (m[10], "ErrorQuotaExceeded", None),
        (m[11], "MailboxNotEnabledForRESTAPI", None),
    ];
    for (mailbox, _, kind) in &cases {
        if let Some(kind) = kind {
            inject(&sim, *mailbox, *kind);
        }
    }
    set(&sim, m[8], json!({"_emailserverprofile_value": null}));
    // Approval lives on the user (and shows on the mailbox): both pending, as the service keeps them.
    let user9 = sim.with_state(|s| s.state().seed_ids().users[9]);
    assert!(sim.with_state(|s| s.state().set("systemusers", user9, json!({"emailrouteraccessapproval": 2}))));
    set(&sim, m[9], json!({"emailrouteraccessapproval": 2}));
    let failed = |text: &str, code: i64| {
        json!({"outgoingemailstatus": 2, "mailboxstatus": 2, "enabledforoutgoingemail": false, "lastsyncerror": text,
               "lastsyncerrorcode": code, "lastsyncerroroccurredon": hours_ago(0), "lastsyncerrorcount": 1})
    };
    set(
        &sim,
        m[10],
        failed("The email message cannot be sent. Email Server Error Code: ErrorQuotaExceeded. Exchange.server returned 403 error.", 403),
    );
    set(&sim, m[11], failed("Test failed. Email Server Error Code: MailboxNotEnabledForRESTAPI", -2147097996));
    set(&sim, m[12], failed("Email Server Error Code: SomethingNoArticleDescribes.", 12345));

    let (rows, _) = health(&client, json!({"version": 1}));
    let repairable = ["UserPrivilegeError", "UserAccessModeNotReadWrite", "InvalidIncomingEmailServerProfile", "S2SApprovalNeeded"];
    for (mailbox, diagnosis, _) in &cases {
        let row = &rows[&mailbox.to_string()];
        assert_eq!(row["diagnosis"], *diagnosis, "{row}");
        assert!(row["diagnosis_source"].as_str().unwrap().len() > 5);
        assert_eq!(row["repairable"], repairable.contains(diagnosis), "{row}");
        assert!(row["remedy"].as_str().is_some_and(|r| !r.is_empty()), "{row}");
        assert_ne!(row["health"], "Healthy", "{row}");
    }
    let timeout = &rows[&m[12].to_string()];
    assert!(timeout["diagnosis"].is_null());
    assert!(timeout["reason"].as_str().unwrap().contains("SomethingNoArticleDescribes"), "raw text shown: {timeout}");
    assert_eq!(timeout["remedy"], crmsync::steps::health::diagnosis::UNKNOWN_REMEDY);
    assert_eq!(class(&rows, m[0]), "Healthy");
    assert_eq!(class(&rows, m[13]), "Healthy");

    // what_if plans the four repairs and writes nothing.
    let before = writes(&sim);
    let (plan, result) = repair(&client, json!({"version": 1, "what_if": true}));
    assert_eq!(writes(&sim), before, "what_if wrote");
    assert_eq!(result["planned"], 4, "{result}");
    for (mailbox, diagnosis, _) in &cases {
        let item = &plan[&mailbox.to_string()];
        let want = if repairable.contains(diagnosis) { "Planned" } else { "NotRepairable" };
        assert_eq!(item["outcome"], want, "{item}");
    }
    assert!(!plan.contains_key(&m[0].to_string()), "healthy mailboxes are not reported");
    let owner_fix = &plan[&m[1].to_string()]["fixes"][0];
    assert_eq!(
        (owner_fix["repair"].as_str(), owner_fix["target"].as_str()),
        (Some("AssignOwner"), Some(format!("mailboxes({})", m[1]).as_str()))
    );

    // The repair: the four are healthy after waiting, the others are reported with their remedy.
    let (items, result) = repair(&client, json!({"version": 1, "wait": true, "timeout_secs": 60, "poll_interval_ms": 100}));
    let outcomes: BTreeMap<&str, &str> = items.iter().map(|(k, v)| (k.as_str(), v["outcome"].as_str().unwrap())).collect();
    assert_eq!((result["repaired"].as_u64(), result["failed"].as_u64()), (Some(4), Some(0)), "{result} {outcomes:?}");
    for (mailbox, diagnosis, _) in &cases {
        let item = &items[&mailbox.to_string()];
        if repairable.contains(diagnosis) {
            assert_eq!(item["outcome"], "Repaired", "{item}");
            assert_eq!(item["health_after"]["health"], "Healthy", "{item}");
        } else {
            assert_eq!(item["outcome"], "NotRepairable", "{item}");
            let remedy = crmsync::steps::health::diagnosis::by_id(diagnosis).unwrap().remedy;
            assert_eq!(item["remedy"], remedy, "{item}");
            assert_eq!(item["before"]["diagnosis"], *diagnosis);
        }
    }
    let (rows, _) = health(&client, json!({"version": 1}));
    for (mailbox, diagnosis, _) in &cases {
        let want_healthy = repairable.contains(diagnosis);
        assert_eq!(class(&rows, *mailbox) == "Healthy", want_healthy, "{}", rows[&mailbox.to_string()]);
    }
    let owner = sim.with_state(|s| s.state().row("mailboxes", m[1]).unwrap());
    assert_eq!(owner["_ownerid_value"], owner["_regardingobjectid_value"], "the owner was reassigned");

    // A second repair writes nothing.
    let before = writes(&sim);
    let (_, result) = repair(&client, json!({"version": 1, "wait": true, "timeout_secs": 60, "poll_interval_ms": 100}));
    assert_eq!(writes(&sim), before, "a second repair wrote");
    assert_eq!((result["repaired"].as_u64(), result["writes"].as_u64()), (Some(0), Some(0)), "{result}");
}

#[test]
fn an_inactive_profile_is_activated_and_its_mailboxes_tested_again() {
    let (sim, client) = working_org(3, 0);
    let profile = sim.with_state(|s| s.state().seed_ids().exo_profile);
    assert!(sim.with_state(|s| s.state().set("emailserverprofiles", profile, json!({"statecode": 1, "statuscode": 2}))));
    let (rows, summary) = health(&client, json!({"version": 1}));
    assert_eq!(summary["counts"]["NotConfigured"], 3, "{summary}");
    assert!(rows.values().all(|r| r["repairs"][0] == "ActivateProfile"));
    let (_, result) = repair(&client, json!({"version": 1, "wait": true, "timeout_secs": 60, "poll_interval_ms": 100}));
    assert_eq!(result["repaired"], 3, "{result}");
    assert_eq!(result["writes"], 4, "the profile is written once, and each mailbox's test once: {result}");
    assert_eq!(sim.with_state(|s| s.state().row("emailserverprofiles", profile).unwrap())["statecode"], 0);
}

#[test]
fn the_baseline_reports_the_mailboxes_that_changed_class() {
    let (sim, client) = working_org(4, 0);
    let m = user_mailboxes(&sim);
    let (rows, _) = health(&client, json!({"version": 1}));
    let baseline: Vec<Value> = rows.values().cloned().collect();
    let (_, summary) = health(&client, json!({"version": 1, "baseline": baseline}));
    assert_eq!(summary["changed"], json!([]), "nothing changed yet");
    inject(&sim, m[2], FailureKind::EwsDisabled);
    let baseline: Vec<Value> = rows
        .values()
        .filter(|r| r["mailbox_id"] != m[3].to_string())
        .map(|r| json!({"mailbox_id": r["mailbox_id"], "health": r["health"]}))
        .collect();
    let (_, summary) = health(&client, json!({"version": 1, "baseline": baseline}));
    let changed = summary["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 2, "{summary}");
    let ews = changed.iter().find(|c| c["mailbox_id"] == m[2].to_string()).unwrap();
    assert_eq!((ews["from"].as_str(), ews["to"].as_str()), (Some("Healthy"), Some("Disabled")));
    let new = changed.iter().find(|c| c["mailbox_id"] == m[3].to_string()).unwrap();
    assert!(new["from"].is_null(), "not in the baseline: {new}");
}

#[test]
fn a_reader_gets_the_report_and_a_clear_error_from_repair() {
    let (sim, _admin) = working_org(3, 0);
    let m = user_mailboxes(&sim);
    inject(&sim, m[1], FailureKind::OwnerMismatch);
    let reader = new_client(&token_config(&sim.url, fixtures::READER_TOKEN)).unwrap();
    let (rows, summary) = health(&reader, json!({"version": 1}));
    assert_eq!(summary["mailboxes"], 3);
    assert_eq!(rows[&m[1].to_string()]["diagnosis"], "UserPrivilegeError");
    let before = writes(&sim);
    let (_, result) = run_all(&reader, ffi::crmsync_mailboxes_repair_start, r#"{"version":1}"#);
    let (status, error) = result.unwrap_err();
    assert_eq!(status, ffi::Status::PermissionDenied, "{error}");
    assert!(error["message"].as_str().unwrap().contains("prvWriteMailbox"), "{error}");
    assert!(error["message"].as_str().unwrap().contains("nothing was changed"), "{error}");
    assert_eq!(writes(&sim), before);
}

#[test]
fn bad_requests_are_refused_before_anything_is_read() {
    let sim = Sim::start(1, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    for request in [
        r#"{"version":1,"health":["Sick"]}"#,
        r#"{"version":1,"stale_after_secs":0}"#,
        r#"{"version":1,"unknown":true}"#,
        r#"{"version":1,"selection":{"mailbox_ids":["not-a-guid"]}}"#,
    ] {
        let (_, result) = run_all(&client, ffi::crmsync_mailboxes_health_start, request);
        let (status, _) = result.unwrap_err();
        assert!(matches!(status, ffi::Status::InvalidJson | ffi::Status::InvalidArgument), "{request}: {status:?}");
    }
    let (_, result) = run_all(&client, ffi::crmsync_mailboxes_repair_start, r#"{"version":1,"wait":"yes"}"#);
    assert!(matches!(result.unwrap_err().0, ffi::Status::InvalidJson | ffi::Status::InvalidArgument));
}

#[test]
fn process_email_received_after_moves_back_only_when_asked() {
    let (sim, client) = working_org(3, 0);
    let m = user_mailboxes(&sim);
    let later = hours_ago(-1);
    for mailbox in [m[1], m[2]] {
        set(&sim, mailbox, json!({"processemailreceivedafter": later}));
        inject(&sim, mailbox, FailureKind::OwnerMismatch);
    }
    let tested = |id: Uuid| sim.with_state(|s| s.state().row("mailboxes", id).unwrap())["testmailboxaccesscompletedon"].clone();
    let wait =
        json!({"version": 1, "wait": true, "timeout_secs": 60, "poll_interval_ms": 100, "selection": {"mailbox_ids": [m[1].to_string()]}});
    let (_, result) = repair(&client, wait);
    assert_eq!(result["repaired"], 1, "{result}");
    let row = sim.with_state(|s| s.state().row("mailboxes", m[1]).unwrap());
    assert_eq!(row["processemailreceivedafter"].as_str(), Some(later.as_str()), "not without the option");

    let before = tested(m[2]);
    let asked = json!({"version": 1, "reset_process_email_received_after": true, "selection": {"mailbox_ids": [m[2].to_string()]}});
    let (items, _) = repair(&client, asked);
    let fixes = items[&m[2].to_string()]["fixes"].as_array().unwrap().clone();
    assert!(fixes.iter().any(|f| f["changes"][0]["field"] == "ProcessEmailReceivedAfter"), "{fixes:?}");
    let row = sim.with_state(|s| s.state().row("mailboxes", m[2]).unwrap());
    assert_eq!(row["processemailreceivedafter"], before, "moved back to the last successful test");
}

#[test]
fn a_repair_with_a_journal_can_be_undone_row_by_row() {
    let (sim, client) = working_org(4, 0);
    let m = user_mailboxes(&sim);
    inject(&sim, m[0], FailureKind::OwnerMismatch);
    inject(&sim, m[1], FailureKind::AccessMode);
    let user1 = sim.with_state(|s| s.state().seed_ids().users[1]);
    let read = |set: &str, id: Uuid, column: &str| sim.with_state(|s| s.state().row(set, id).unwrap())[column].clone();
    let before = (read("mailboxes", m[0], "_ownerid_value"), read("systemusers", user1, "accessmode"));

    let dir = std::env::temp_dir().join(format!("crmsync-repair-journal-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("repair.jsonl").to_str().unwrap().to_string();
    let (_, result) = repair(&client, json!({"version": 1, "journal_path": path}));
    assert!(result["repaired"].as_u64().unwrap() >= 2, "{result}");
    let after = (read("mailboxes", m[0], "_ownerid_value"), read("systemusers", user1, "accessmode"));
    assert_ne!(after.0, before.0, "the owner was reassigned");
    assert_eq!(after.1, json!(0), "the access mode is Read-Write");

    let lines: Vec<Value> = std::fs::read_to_string(&path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let repair_lines: Vec<&Value> = lines.iter().filter(|l| l["step"] == "Repair").collect();
    assert!(repair_lines.iter().all(|l| l["outcome"] == "Written"), "{lines:?}");
    for (table, column) in [("mailboxes", "_ownerid_value"), ("systemusers", "accessmode")] {
        assert!(
            repair_lines.iter().any(|l| l["table"] == table && l["columns"].as_array().unwrap().iter().any(|c| c["column"] == column)),
            "no journal line for {table}.{column}: {lines:?}"
        );
    }
    assert!(lines.iter().filter(|l| l["step"] == "TestAndEnable").all(|l| l["undoable"] == false));
    assert!(!std::fs::read_to_string(&path).unwrap().contains(fixtures::ADMIN_TOKEN), "no token in the journal");

    let (_, undone) = run_all(&client, ffi::crmsync_changes_undo_start, &json!({"version": 1, "journal_path": path}).to_string());
    let undone = undone.unwrap();
    assert_eq!(undone["failed"], 0, "{undone}");
    let restored = (read("mailboxes", m[0], "_ownerid_value"), read("systemusers", user1, "accessmode"));
    assert_eq!(restored, before, "{undone}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_mailbox_disabled_by_transient_errors_is_tested_again_once_the_cause_has_passed() {
    let (sim, client) = working_org(3, 0);
    let m = user_mailboxes(&sim);
    // As the service leaves it after its last retry of a timeout, the cause since passed.
    let text = "An unknown error occurred while receiving email through the mailbox. The system will try to receive email again later. Email Server Error Code: The operation has timed out.";
    set(
        &sim,
        m[0],
        json!({"incomingemailstatus": 2, "mailboxstatus": 2, "enabledforincomingemail": false, "enabledforoutgoingemail": false,
               "enabledforact": false, "lastsyncerror": text, "lastsyncerrorcode": -2146233083, "lastsyncerroroccurredon": hours_ago(0),
               "lastsyncerrorcount": 10, "testemailconfigurationscheduled": false}),
    );
    let (rows, _) = health(&client, json!({"version": 1}));
    let row = &rows[&m[0].to_string()];
    assert_eq!((row["health"].as_str(), row["diagnosis"].as_str()), (Some("Disabled"), Some("TransientConnectionFailure")), "{row}");
    assert_eq!(row["repairs"], json!(["Test"]), "{row}");
    assert_eq!(row["repairable"], true, "{row}");

    let (items, result) = repair(&client, json!({"version": 1, "wait": true, "timeout_secs": 60, "poll_interval_ms": 100}));
    assert_eq!(result["repaired"], 1, "{result}");
    assert_eq!(items[&m[0].to_string()]["health_after"]["health"], "Healthy", "{:?}", items);
}
