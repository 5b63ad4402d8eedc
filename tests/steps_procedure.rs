//! Test & Enable, alerts, readiness and the whole procedure through the C ABI against the
//! simulator's asynchronous test.

mod common;

use common::*;
use crmsync::ffi;
use dataverse_sim::fixtures;

const ORG_DEFAULTS: &str = r#"{"version":1,"server_profile":"Microsoft Exchange Online","incoming_email":"ServerSideSync","outgoing_email":"ServerSideSync","appointments_contacts_tasks":"ServerSideSync"}"#;

fn readiness(client: &Client) -> serde_json::Value {
    let (mut result, mut error) = (std::ptr::null_mut(), std::ptr::null_mut());
    let status = unsafe { ffi::crmsync_readiness_get(client.0, &mut result, &mut error) };
    outcome(status, result, error).unwrap()
}

fn alerts(client: &Client, query: &str) -> serde_json::Value {
    let (mut result, mut error) = (std::ptr::null_mut(), std::ptr::null_mut());
    let status = unsafe { ffi::crmsync_alerts_get(client.0, query.as_ptr(), query.len(), &mut result, &mut error) };
    outcome(status, result, error).unwrap()
}

/// `mailboxes` users' mailboxes (no queues) with the organization's defaults and server-side
/// synchronization configured, none approved; the simulated test takes 200 ms.
fn configured_users(mailboxes: usize) -> (Sim, Client) {
    let sim = Sim::start_with(|c| {
        c.mailboxes = mailboxes;
        c.queues = 0;
        c.test_delay_ms = 200;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    defaults_set(&client, ORG_DEFAULTS).unwrap();
    run_op(&client, ffi::crmsync_mailboxes_configure_start, r#"{"version":1,"apply_defaults":true}"#).1.unwrap();
    (sim, client)
}

#[test]
fn test_and_enable_reports_success_for_approved_mailboxes_and_approval_alerts_for_the_rest() {
    let (_sim, client) = configured_users(6);
    let approve_one = r#"{"version":1,"selection":{"name":"Liam O'Brien"}}"#;
    run_op(&client, ffi::crmsync_mailboxes_approve_start, approve_one).1.unwrap();
    let liam = drain_items(&list_mailboxes(&client, r#"{"version":1,"name":"Liam O'Brien"}"#).unwrap()).0[0]["mailbox_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let request = r#"{"version":1,"wait":true,"timeout_secs":30,"poll_interval_ms":200}"#;
    let (items, result) = run_op(&client, ffi::crmsync_mailboxes_test_enable_start, request);
    let result = result.unwrap();
    assert_eq!(result["succeeded"].as_u64().unwrap() + result["failed"].as_u64().unwrap(), 6, "{result}");
    let mine = items.iter().find(|i| i["key"] == liam.as_str()).unwrap();
    assert_eq!(mine["outcome"], "Succeeded", "{mine}");
    assert_eq!((mine["incoming_email_status"].as_str(), mine["outgoing_email_status"].as_str()), (Some("Success"), Some("Success")));
    let unapproved = items.iter().find(|i| i["key"] != liam.as_str() && i["outcome"] == "Failed").expect("an unapproved mailbox fails");
    let codes: Vec<String> =
        unapproved["alerts"].as_array().unwrap().iter().map(|a| a["error_type"].as_str().unwrap_or_default().to_owned()).collect();
    assert!(codes.iter().any(|c| c.contains("S2SApprovalNeeded")), "{unapproved}");
    assert!(unapproved["error"]["remedy"].as_str().unwrap().contains("Approve the mailbox"), "{unapproved}");
    assert_eq!(unapproved["error"]["hint"], "approve_mailbox");

    let key = unapproved["key"].as_str().unwrap();
    let found = alerts(&client, &format!(r#"{{"version":1,"mailbox_ids":["{key}"],"min_level":"Error"}}"#));
    assert!(!found["alerts"].as_array().unwrap().is_empty());
    let since_future = alerts(&client, &format!(r#"{{"version":1,"mailbox_ids":["{key}"],"since":"2999-01-01T00:00:00Z"}}"#));
    assert!(since_future["alerts"].as_array().unwrap().is_empty());
}

/// More results than one query of ids reads at a time (500) come page by page from a read of
/// the selection: each mailbox still gets its own outcome and only its own alerts.
#[test]
fn test_and_enable_of_more_than_500_mailboxes_reports_each_result_with_its_own_alerts() {
    let (_sim, client) = configured_users(1200);
    let all: Vec<String> = drain_items(&list_mailboxes(&client, r#"{"version":1}"#).unwrap())
        .0
        .iter()
        .map(|m| m["mailbox_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(all.len() > 1000, "{}", all.len());
    let approved: std::collections::HashSet<&String> = all.iter().step_by(2).collect();
    let approve = serde_json::json!({"version": 1, "selection": {"mailbox_ids": approved.iter().collect::<Vec<_>>()}});
    run_op(&client, ffi::crmsync_mailboxes_approve_start, &approve.to_string()).1.unwrap();

    let request = r#"{"version":1,"wait":true,"timeout_secs":60,"poll_interval_ms":200}"#;
    let (items, result) = run_op(&client, ffi::crmsync_mailboxes_test_enable_start, request);
    let result = result.unwrap();
    assert_eq!(result["succeeded"].as_u64().unwrap(), approved.len() as u64, "{result}");
    assert_eq!(result["failed"].as_u64().unwrap(), (all.len() - approved.len()) as u64, "{result}");
    let results: Vec<&serde_json::Value> = items.iter().filter(|i| i["outcome"] == "Succeeded" || i["outcome"] == "Failed").collect();
    assert_eq!(results.len(), all.len());
    for item in results {
        let key = item["key"].as_str().unwrap().to_owned();
        let expected = if approved.contains(&key) { "Succeeded" } else { "Failed" };
        assert_eq!(item["outcome"], expected, "{item}");
        let alerts = item["alerts"].as_array().unwrap();
        assert!(alerts.iter().all(|a| a["regarding_id"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(&key))), "{item}");
        if expected == "Failed" {
            assert!(alerts.iter().any(|a| a["error_type"].as_str().unwrap_or_default().contains("S2SApprovalNeeded")), "{item}");
        }
    }
}

#[test]
fn readiness_reports_profile_privileges_and_mailboxes() {
    let sim = Sim::start(4, 1);
    let admin = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let checks = readiness(&admin)["checks"].as_array().unwrap().clone();
    let status = |name: &str| checks.iter().find(|c| c["check"] == name).map(|c| c["status"].as_str().unwrap().to_owned());
    assert_eq!(status("ExchangeOnlineProfile").as_deref(), Some("Warning"), "active but not default yet");
    assert_eq!(status("Privilege:prvWriteMailbox").as_deref(), Some("Pass"));
    assert!(checks.iter().any(|c| c["check"] == "Mailboxes" && c["message"].as_str().unwrap().contains("5 active mailboxes")));
    let reader = new_client(&token_config(&sim.url, fixtures::READER_TOKEN)).unwrap();
    let checks = readiness(&reader)["checks"].as_array().unwrap().clone();
    let write = checks.iter().find(|c| c["check"] == "Privilege:prvWriteMailbox").unwrap();
    assert_eq!(write["status"], "Fail");
    assert!(write["remedy"].as_str().unwrap().contains("security role"));
}

#[test]
fn the_whole_procedure_plans_then_converges_and_a_second_run_does_nothing() {
    let sim = Sim::start_with(|c| {
        c.mailboxes = 12;
        c.queues = 2;
        c.test_delay_ms = 200;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let before = drain_items(&list_mailboxes(&client, r#"{"version":1}"#).unwrap()).0;
    let (plan, result) = run_op(&client, ffi::crmsync_setup_start, r#"{"version":1,"what_if":true}"#);
    let result = result.unwrap();
    assert_eq!(result["what_if"], true);
    assert!(plan.iter().any(|i| i["step"] == "MailboxSettings" && i["outcome"] == "Planned"));
    assert_eq!(drain_items(&list_mailboxes(&client, r#"{"version":1}"#).unwrap()).0, before, "what_if wrote something");

    let run = r#"{"version":1,"wait":true,"timeout_secs":60,"poll_interval_ms":200}"#;
    let (items, result) = run_op(&client, ffi::crmsync_setup_start, run);
    let result = result.unwrap();
    let test = result["steps"].as_array().unwrap().iter().find(|s| s["step"] == "TestAndEnable").unwrap().clone();
    assert_eq!(test["succeeded"], 14, "{result} {items:?}");
    for m in drain_items(&list_mailboxes(&client, r#"{"version":1}"#).unwrap()).0 {
        assert_eq!((m["approval_status"].as_str(), m["mailbox_status"].as_str()), (Some("Approved"), Some("Success")), "{m}");
    }
    sim.with_state(|s| s.state().clear_requests());
    let (items, again) = run_op(&client, ffi::crmsync_setup_start, run);
    let again = again.unwrap();
    assert_eq!(again["already_working"], 14, "{again}");
    assert!(items.iter().all(|i| i["outcome"] == "Unchanged" || i["type"] == "check"), "a second run changed something: {items:?}");
    let writes = sim.with_state(|s| s.state().requests().iter().filter(|r| r.method != "GET").count());
    assert_eq!(writes, 0, "a second run must not write");
}

/// The mailbox reads of a Test & Enable after its last scheduling `$batch`, in order: `true`
/// for a poll (only the mailboxes still pending), `false` for any other read.
fn reads_after_the_writes(sim: &Sim, from: usize) -> Vec<bool> {
    let requests = sim.with_state(|s| s.state().requests().split_off(from));
    let last_batch = requests.iter().rposition(|r| r.uri.contains("$batch")).expect("the tests were scheduled in batches");
    requests[last_batch + 1..]
        .iter()
        .filter(|r| r.method == "GET" && r.uri.contains("/mailboxes"))
        .map(|r| r.uri.replace("%20", " ").replace('+', " ").contains("testemailconfigurationscheduled eq true"))
        .collect()
}

#[test]
fn test_and_enable_that_waits_verifies_through_its_first_poll_instead_of_a_read_back() {
    let sim = Sim::start_with(|c| {
        c.mailboxes = 600;
        c.queues = 0;
        c.test_delay_ms = 300;
        c.limits_enabled = false;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();

    // Without waiting, the scheduled tests are verified by one read of the rows (600 ids: the
    // selection re-read, one page).
    let from = sim.with_state(|s| s.state().request_count());
    let (items, result) = run_op(&client, ffi::crmsync_mailboxes_test_enable_start, r#"{"version":1}"#);
    assert_eq!(result.unwrap()["scheduled"], 600);
    assert_eq!(items.iter().filter(|i| i["type"] == "item" && i["outcome"] == "Scheduled").count(), 600);
    assert_eq!(reads_after_the_writes(&sim, from), [false], "one read-back verifies the schedule");
    std::thread::sleep(std::time::Duration::from_millis(600));

    // Waiting, the first poll reads the pending mailboxes: no read-back before it, so the
    // run makes one request fewer, and every mailbox still gets its result.
    let from = sim.with_state(|s| s.state().request_count());
    let request = r#"{"version":1,"wait":true,"timeout_secs":60,"poll_interval_ms":200}"#;
    let (_, result) = run_op(&client, ffi::crmsync_mailboxes_test_enable_start, request);
    let result = result.unwrap();
    assert_eq!(result["succeeded"].as_u64().unwrap() + result["failed"].as_u64().unwrap(), 600, "{result}");
    let reads = reads_after_the_writes(&sim, from);
    assert_eq!(reads.first(), Some(&true), "the first read after the writes is a poll: {reads:?}");
}

#[test]
fn the_whole_procedure_reads_the_organization_row_and_the_profiles_once() {
    let sim = Sim::start_with(|c| {
        c.mailboxes = 12;
        c.queues = 2;
        c.test_delay_ms = 200;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let gets = |sim: &Sim, what: &str| {
        sim.with_state(|s| s.state().requests().iter().filter(|r| r.method == "GET" && r.uri.contains(what)).count())
    };
    let run = r#"{"version":1,"wait":true,"timeout_secs":60,"poll_interval_ms":200}"#;
    // The first run changes the defaults (a PATCH that answers with the row it wrote), the
    // second changes nothing: both read the row and the profiles once, whatever the steps need.
    for round in ["first", "second"] {
        sim.with_state(|s| s.state().clear_requests());
        let (_, result) = run_op(&client, ffi::crmsync_setup_start, run);
        let result = result.unwrap();
        let test = result["steps"].as_array().unwrap().iter().find(|s| s["step"] == "TestAndEnable").unwrap().clone();
        assert_eq!(test["succeeded"].as_u64().unwrap() + test["unchanged"].as_u64().unwrap(), 14, "{round} run: {result}");
        assert_eq!(gets(&sim, "/organizations("), 1, "{round} run reads the organization row once");
        assert_eq!(gets(&sim, "/emailserverprofiles"), 1, "{round} run reads the profiles once");
        assert!(gets(&sim, "/WhoAmI") <= 1, "{round} run");
    }
    let defaults = defaults_get(&client).unwrap();
    assert_eq!(defaults["incoming_email"], "ServerSideSync", "the defaults were written and verified: {defaults}");
}

/// `text` with its `%XX` escapes (and `+`) decoded: a request's query as written.
fn decoded(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The mailbox reads (their queries decoded) whose query contains `text`, in order.
fn mailbox_reads_containing(sim: &Sim, text: &str) -> Vec<String> {
    sim.with_state(|s| s.state().requests())
        .iter()
        .filter(|r| r.method == "GET" && r.uri.contains("/mailboxes"))
        .map(|r| decoded(&r.uri))
        .filter(|uri| uri.contains(text))
        .collect()
}

/// `name` as an OData string literal (quotes doubled), as a filter carries it.
fn quoted(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

/// `mailboxes` users' mailboxes (limits off, the test taking `test_delay_ms`), their names in
/// the service's order (as the procedure reads them), and no request recorded yet.
fn users_in_name_order(mailboxes: usize, test_delay_ms: u64) -> (Sim, Client, Vec<String>) {
    let sim = Sim::start_with(|c| {
        c.mailboxes = mailboxes;
        c.queues = 0;
        c.test_delay_ms = test_delay_ms;
        c.limits_enabled = false;
    });
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let names = drain_items(&list_mailboxes(&client, r#"{"version":1}"#).unwrap())
        .0
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    sim.with_state(|s| s.state().clear_requests());
    (sim, client, names)
}

#[test]
fn each_chunk_of_the_procedure_reads_its_approval_back_from_its_own_first_mailbox_on() {
    let (sim, client, names) = users_in_name_order(2_040, 200);
    let (items, result) = run_op(&client, ffi::crmsync_setup_start, r#"{"version":1}"#);
    let result = result.unwrap();
    let approval = result["steps"].as_array().unwrap().iter().find(|s| s["step"] == "ApproveEmail").unwrap().clone();
    assert_eq!(approval["changed"], 2_040, "{approval}");
    assert!(items.iter().filter(|i| i["step"] == "ApproveEmail").all(|i| i["outcome"] == "Changed"));
    // Four chunks of 510: each read-back (the approval columns) starts at its chunk's first
    // name and is one request, instead of a read of the whole selection for each chunk.
    let read_backs: Vec<String> =
        mailbox_reads_containing(&sim, "$select=mailboxid,emailrouteraccessapproval,isemailaddressapprovedbyo365admin");
    assert_eq!(read_backs.len(), 4, "{read_backs:#?}");
    for chunk in names.chunks(510) {
        let start = format!("name ge {}", quoted(&chunk[0]));
        assert_eq!(read_backs.iter().filter(|uri| uri.contains(&start)).count(), 1, "{start} in {read_backs:#?}");
    }
    for m in drain_items(&list_mailboxes(&client, r#"{"version":1}"#).unwrap()).0 {
        assert_eq!(m["approval_status"], "Approved", "{m}");
    }
}

#[test]
fn a_poll_of_many_results_reads_only_the_names_of_the_chunks_it_waits_for() {
    let (sim, client, names) = users_in_name_order(4_000, 300);
    let run = r#"{"version":1,"wait":true,"timeout_secs":120,"poll_interval_ms":200}"#;
    let (_, result) = run_op(&client, ffi::crmsync_setup_start, run);
    let result = result.unwrap();
    let test = result["steps"].as_array().unwrap().iter().find(|s| s["step"] == "TestAndEnable").unwrap().clone();
    assert_eq!(test["succeeded"], 4_000, "every result is read and reported: {test}");
    // The reads of results by completion time (more than 500 finished at once): each keeps
    // to the names of chunks of 1,000 (`name ge first and name le last`), not the selection.
    let ranges: Vec<String> = names
        .chunks(1_000)
        .map(|chunk| format!("(name ge {} and name le {})", quoted(&chunk[0]), quoted(&chunk[chunk.len() - 1])))
        .collect();
    let reads: Vec<String> = mailbox_reads_containing(&sim, "testmailboxaccesscompletedon ge");
    assert!(!reads.is_empty(), "a poll found more than 500 results at once");
    for uri in &reads {
        assert!(ranges.iter().any(|range| uri.contains(range.as_str())), "{uri}");
    }
}

#[test]
fn no_poll_of_pending_ids_reads_a_second_page_of_6000_tests() {
    // The tests take longer than the writes: the first polls go while later chunks are still
    // being scheduled, and at the end more than 5,000 are waited for.
    let (sim, client, _) = users_in_name_order(6_000, 3_000);
    let run = r#"{"version":1,"wait":true,"timeout_secs":120,"poll_interval_ms":200}"#;
    let (_, result) = run_op(&client, ffi::crmsync_setup_start, run);
    let result = result.unwrap();
    let test = result["steps"].as_array().unwrap().iter().find(|s| s["step"] == "TestAndEnable").unwrap().clone();
    assert_eq!(test["succeeded"], 6_000, "every result is read and reported: {test}");
    assert_eq!(test["failed"], 0, "none taken for not scheduled: {test}");
    // The service holds 6,000 pending tests (two pages of ids) once every chunk is written.
    // A poll of pending ids reads those of the chunks it waits for (their names), and more
    // than 5,000 waited for are polled by their results instead: never a second page.
    let pending = mailbox_reads_containing(&sim, "testemailconfigurationscheduled eq true");
    assert!(!pending.is_empty(), "the polls read pending ids");
    assert!(pending.iter().all(|uri| !uri.contains("skiptoken")), "{pending:#?}");
    // Each within the names of the chunks it waits for (`name ge first and name le last`), or
    // by id (50 or fewer).
    let narrowed = |uri: &String| uri.contains("(name ge '") && uri.contains(" and name le '") || uri.contains("mailboxid eq");
    assert!(pending.iter().all(narrowed), "each keeps to the names of its chunks, or asks by id: {pending:#?}");
}
