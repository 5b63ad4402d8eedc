//! Disable-CrmServerSideSync, the change journal and undo, through the C ABI against the
//! simulator; rows are compared over HTTP (crmsync's own Web API client, reading raw rows).

mod common;

use common::*;
use crmsync::ffi;
use dataverse_sim::fixtures;
use serde_json::{Value, json};

const MAILBOX_COLUMNS: &str = "mailboxid,name,_emailserverprofile_value,incomingemaildeliverymethod,outgoingemaildeliverymethod,actdeliverymethod,orgmarkedasprimaryforexchangesync,testemailconfigurationscheduled,emailrouteraccessapproval";

/// Raw rows over HTTP, keyed by id, with only the columns given.
fn rows(url: &str, set: &str, columns: &str, id_column: &str) -> std::collections::BTreeMap<String, Value> {
    let reader = crmsync::Client::from_json(token_config(url, fixtures::ADMIN_TOKEN).as_bytes()).unwrap();
    let page = crmsync::runtime::get().block_on(reader.api().get(&format!("{set}?$select={columns}"), &[])).unwrap();
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut row = r.clone();
            row.as_object_mut().unwrap().retain(|k, _| !k.starts_with('@'));
            (r[id_column].as_str().unwrap().to_string(), row)
        })
        .collect()
}

fn organization(url: &str) -> Value {
    rows(
        url,
        "organizations",
        "organizationid,_defaultemailserverprofileid_value,defaultemailsettings,emailconnectionchannel",
        "organizationid",
    )
    .into_values()
    .next()
    .unwrap()
}

struct Snapshot {
    mailboxes: std::collections::BTreeMap<String, Value>,
    users: std::collections::BTreeMap<String, Value>,
    queues: std::collections::BTreeMap<String, Value>,
    organization: Value,
    profiles: std::collections::BTreeMap<String, Value>,
}

fn snapshot(url: &str) -> Snapshot {
    Snapshot {
        mailboxes: rows(url, "mailboxes", MAILBOX_COLUMNS, "mailboxid"),
        users: rows(url, "systemusers", "systemuserid,emailrouteraccessapproval", "systemuserid"),
        queues: rows(url, "queues", "queueid,emailrouteraccessapproval", "queueid"),
        organization: organization(url),
        profiles: rows(url, "emailserverprofiles", "emailserverprofileid,statecode", "emailserverprofileid"),
    }
}

fn journal_path(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("crmsync-journal-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).to_str().unwrap().to_string()
}

fn journal_lines(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn sim_writes(sim: &Sim) -> u64 {
    sim.with_state(|s| s.state().stats()["write_operations"].as_u64().unwrap())
}

#[test]
fn disable_turns_every_mailbox_and_the_defaults_to_none_and_what_if_writes_nothing() {
    let sim = Sim::start_with(|c| {
        c.mailboxes = 12;
        c.queues = 3;
        c.test_delay_ms = 60_000;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    // Server-side sync everywhere, and every test still scheduled (the simulated test waits a minute).
    let (_, setup) = run_op(&client, ffi::crmsync_setup_start, r#"{"version":1}"#);
    assert_eq!(setup.unwrap()["steps"][3]["scheduled"], 15);
    assert!(rows(&sim.url, "mailboxes", MAILBOX_COLUMNS, "mailboxid").values().all(|m| m["testemailconfigurationscheduled"] == true));

    let writes = sim_writes(&sim);
    let before = rows(&sim.url, "mailboxes", MAILBOX_COLUMNS, "mailboxid");
    let (plan, result) = run_op(&client, ffi::crmsync_sync_disable_start, r#"{"version":1,"what_if":true}"#);
    let result = result.unwrap();
    assert_eq!((result["steps"][1]["planned"].as_u64(), result["steps"][0]["planned"].as_u64()), (Some(15), Some(3)), "{result}");
    assert!(plan.iter().all(|i| i["outcome"] == "Planned"));
    assert!(plan[0]["changes"].as_array().unwrap().iter().any(|c| c["field"] == "TestEmailConfigurationScheduled"));
    assert_eq!(sim_writes(&sim), writes, "what_if wrote something");
    assert_eq!(rows(&sim.url, "mailboxes", MAILBOX_COLUMNS, "mailboxid"), before);

    let (items, result) = run_op(&client, ffi::crmsync_sync_disable_start, r#"{"version":1}"#);
    let result = result.unwrap();
    assert_eq!(result["steps"][1]["changed"], 15, "{result}");
    assert_eq!(items.len(), 15);
    for m in rows(&sim.url, "mailboxes", MAILBOX_COLUMNS, "mailboxid").values() {
        assert_eq!(m["incomingemaildeliverymethod"], 0, "{m}");
        assert_eq!(m["outgoingemaildeliverymethod"], 0, "{m}");
        assert_eq!(m["actdeliverymethod"], 2, "{m}");
        assert_eq!(m["testemailconfigurationscheduled"], false, "{m}");
    }
    let defaults = defaults_get(&client).unwrap();
    assert_eq!(
        (defaults["incoming_email"].as_str(), defaults["outgoing_email"].as_str(), defaults["appointments_contacts_tasks"].as_str()),
        (Some("None"), Some("None"), Some("None"))
    );
    let (_, again) = run_op(&client, ffi::crmsync_sync_disable_start, r#"{"version":1}"#);
    assert_eq!(again.unwrap()["steps"][1]["unchanged"], 15, "a second run writes nothing");
}

#[test]
fn setup_with_a_journal_then_undo_gives_every_written_column_back() {
    let sim = Sim::start_with(|c| {
        c.mailboxes = 10;
        c.queues = 2;
        c.test_delay_ms = 50;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let before = snapshot(&sim.url);
    let path = journal_path("setup.jsonl");
    let request = json!({"version": 1, "wait": true, "timeout_secs": 30, "poll_interval_ms": 100, "journal_path": path}).to_string();
    let (_, setup) = run_op(&client, ffi::crmsync_setup_start, &request);
    let setup = setup.unwrap();
    let changed = |step: usize| setup["steps"][step]["changed"].as_u64().unwrap() as usize;
    let tested = 12 - setup["already_working"].as_u64().unwrap() as usize;

    let lines = journal_lines(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(fixtures::ADMIN_TOKEN) && !text.to_lowercase().contains("bearer"), "no token in the journal");
    let by_step = |step: &str| lines.iter().filter(|l| l["step"] == step).count();
    assert_eq!(
        (by_step("MailboxSettings"), by_step("ApproveEmail"), by_step("TestAndEnable")),
        (changed(1), changed(2), tested),
        "one line per row written: {setup}"
    );
    assert!(changed(1) >= 8 && changed(2) == 12, "the seed is mostly unconfigured and unapproved: {setup}");
    assert!(by_step("Defaults") >= 1);
    let first = &lines[0];
    assert_eq!(first["environment"]["name"], fixtures::ORG_NAME);
    assert!(first["environment"]["url"].as_str().unwrap().starts_with("http://127.0.0.1"));
    let settings = lines.iter().find(|l| l["step"] == "MailboxSettings").unwrap();
    assert_eq!(settings["table"], "mailboxes");
    assert!(settings["row_name"].is_string());
    let incoming = settings["columns"].as_array().unwrap().iter().find(|c| c["column"] == "incomingemaildeliverymethod").unwrap();
    assert_eq!((incoming["after"].as_i64(), incoming["after_name"].as_str()), (Some(2), Some("ServerSideSync")));
    assert_eq!(incoming["before"], before.mailboxes[settings["row_id"].as_str().unwrap()]["incomingemaildeliverymethod"]);
    assert!(lines.iter().filter(|l| l["step"] == "TestAndEnable").all(|l| l["undoable"] == false && l["note"].is_string()));
    assert!(lines.iter().all(|l| l["outcome"] == "Written"));

    let (plan, planned) =
        run_op(&client, ffi::crmsync_changes_undo_start, &json!({"version": 1, "journal_path": path, "what_if": true}).to_string());
    let planned = planned.unwrap();
    let undoable = lines.iter().filter(|l| l["undoable"] == true).count() as u64;
    assert_eq!(planned["planned"].as_u64(), Some(undoable), "{planned}");
    assert!(plan.iter().all(|i| ["Planned", "NotUndoable"].contains(&i["outcome"].as_str().unwrap())));
    assert_eq!(snapshot(&sim.url).mailboxes, rows(&sim.url, "mailboxes", MAILBOX_COLUMNS, "mailboxid"));

    let (items, result) = run_op(&client, ffi::crmsync_changes_undo_start, &json!({"version": 1, "journal_path": path}).to_string());
    let result = result.unwrap();
    assert_eq!(result["failed"], 0, "{result} {items:?}");
    assert_eq!(result["not_undoable"].as_u64(), Some(tested as u64));
    assert_eq!(result["skipped"], 0);
    let not_undoable = items.iter().find(|i| i["outcome"] == "NotUndoable").unwrap();
    assert!(not_undoable["note"].as_str().unwrap().contains("Test & Enable"));
    let after = snapshot(&sim.url);
    // Every column crmsync wrote is back, except the test schedule that the (irreversible) test consumed.
    let restored = |rows: &std::collections::BTreeMap<String, Value>| -> std::collections::BTreeMap<String, Value> {
        rows.iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                v.as_object_mut().unwrap().remove("testemailconfigurationscheduled");
                (k.clone(), v)
            })
            .collect()
    };
    assert_eq!(restored(&after.mailboxes), restored(&before.mailboxes));
    assert_eq!(after.users, before.users);
    assert_eq!(after.queues, before.queues);
    assert_eq!(after.organization, before.organization);
    assert_eq!(after.profiles, before.profiles);
    // Undoing again finds every row already as before.
    let (_, again) = run_op(&client, ffi::crmsync_changes_undo_start, &json!({"version": 1, "journal_path": path}).to_string());
    let again = again.unwrap();
    assert_eq!((again["changed"].as_u64(), again["skipped"].as_u64()), (Some(0), Some(0)), "{again}");
}

#[test]
fn undo_skips_a_row_changed_since_and_says_so() {
    let sim = Sim::start(6, 1);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    defaults_set(&client, r#"{"version":1,"server_profile":"Microsoft Exchange Online","incoming_email":"ServerSideSync","outgoing_email":"ServerSideSync","appointments_contacts_tasks":"ServerSideSync"}"#).unwrap();
    let before = rows(&sim.url, "mailboxes", MAILBOX_COLUMNS, "mailboxid");
    let path = journal_path("settings.jsonl");
    let request = json!({"version": 1, "apply_defaults": true, "journal_path": path}).to_string();
    let (_, configured) = run_op(&client, ffi::crmsync_mailboxes_configure_start, &request);
    let changed = configured.unwrap()["changed"].as_u64().unwrap();
    assert!(changed >= 5, "most seeded mailboxes needed the defaults");
    assert_eq!(journal_lines(&path).len() as u64, changed);

    // Someone sets one mailbox to Outlook after the run.
    let edited = journal_lines(&path)[0]["row_id"].as_str().unwrap().to_string();
    let editor = crmsync::Client::from_json(token_config(&sim.url, fixtures::ADMIN_TOKEN).as_bytes()).unwrap();
    crmsync::runtime::get()
        .block_on(editor.api().patch(&format!("mailboxes({edited})"), &json!({"incomingemaildeliverymethod": 1}), Some("*")))
        .unwrap();

    let (items, result) = run_op(&client, ffi::crmsync_changes_undo_start, &json!({"version": 1, "journal_path": path}).to_string());
    let result = result.unwrap();
    assert_eq!((result["changed"].as_u64(), result["skipped"].as_u64()), (Some(changed - 1), Some(1)), "{result}");
    let skipped = items.iter().find(|i| i["outcome"] == "Skipped").unwrap();
    assert_eq!(skipped["key"], edited.as_str());
    assert!(skipped["reason"].as_str().unwrap().contains("incomingemaildeliverymethod is now 1"), "{skipped}");
    let after = rows(&sim.url, "mailboxes", MAILBOX_COLUMNS, "mailboxid");
    assert_eq!(after[&edited]["incomingemaildeliverymethod"], 1, "the concurrent edit is kept");
    for (id, row) in &after {
        if id != &edited {
            assert_eq!(row, &before[id], "restored");
        }
    }
}

#[test]
fn a_journal_in_a_folder_that_does_not_exist_fails_before_any_write() {
    let sim = Sim::start(3, 0);
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let writes = sim_writes(&sim);
    let request =
        json!({"version": 1, "incoming_email": "ServerSideSync", "journal_path": "/nonexistent-crmsync-folder/j.jsonl"}).to_string();
    let (_, result) = run_op(&client, ffi::crmsync_mailboxes_configure_start, &request);
    let (status, error) = result.unwrap_err();
    assert_eq!(status, ffi::Status::InvalidArgument, "{error}");
    assert!(error["message"].as_str().unwrap().contains("cannot be opened"));
    assert_eq!(sim_writes(&sim), writes);
    let (_, undo) =
        run_op(&client, ffi::crmsync_changes_undo_start, r#"{"version":1,"journal_path":"/nonexistent-crmsync-folder/j.jsonl"}"#);
    assert_eq!(undo.unwrap_err().0, ffi::Status::InvalidArgument);
}
