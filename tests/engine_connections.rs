//! The bulk engine against the simulator's limits: a pool of connections spreads the writes
//! and the procedure's reads across callers; pacing keeps a caller inside its scaled limits without a single 429; a batch
//! with a failing operation fails only that item.

mod common;

use common::*;
use crmsync::ffi::{self, Status};
use dataverse_sim::fixtures;
use std::ptr;

fn pool(members: &[&Client]) -> Result<Client, (Status, serde_json::Value)> {
    let handles: Vec<*const crmsync::ffi::CrmsyncClient> = members.iter().map(|c| c.0.cast_const()).collect();
    let (mut out, mut error) = (ptr::null_mut(), ptr::null_mut());
    let status = unsafe { ffi::crmsync_client_pool_new(handles.as_ptr(), handles.len(), &mut out, &mut error) };
    if status == Status::Ok { Ok(Client(out)) } else { Err((status, json(take(error)))) }
}

#[test]
fn a_pool_spreads_bulk_writes_over_every_connection() {
    let sim = Sim::start(300, 0);
    let admin = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let sysadmin = new_client(&token_config(&sim.url, fixtures::SYSADMIN_TOKEN)).unwrap();
    let both = pool(&[&admin, &sysadmin]).unwrap();
    let (_, result) = run_op(&both, ffi::crmsync_mailboxes_configure_start, r#"{"version":1,"outgoing_email":"None"}"#);
    let result = result.unwrap();
    assert_eq!(result["changed"].as_u64().unwrap() + result["unchanged"].as_u64().unwrap(), 300, "{result}");
    let ops = sim.with_state(|s| s.state().batch_operations());
    let by = |user: &str| ops.iter().filter(|r| r.user == Some(user.parse().unwrap())).count();
    assert!(by(fixtures::ADMIN_USER_ID) > 0 && by(fixtures::SYSADMIN_USER_ID) > 0, "both callers wrote");
    assert_eq!(by(fixtures::ADMIN_USER_ID) + by(fixtures::SYSADMIN_USER_ID), result["changed"].as_u64().unwrap() as usize);
}

#[test]
fn the_procedure_through_a_pool_reads_through_every_identity() {
    let sim = Sim::start_with(|c| {
        c.mailboxes = 1000;
        c.queues = 0;
        c.test_delay_ms = 100;
        c.limits_enabled = false;
    });
    sim.with_state(|s| s.state().assign_role(fixtures::SYSADMIN_USER_ID.parse().unwrap(), fixtures::ROLE_DELEGATED_MAILBOX_APPROVER));
    let admin = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    let sysadmin = new_client(&token_config(&sim.url, fixtures::SYSADMIN_TOKEN)).unwrap();
    let both = pool(&[&admin, &sysadmin]).unwrap();
    let from = sim.with_state(|s| s.state().request_count());
    let request = r#"{"version":1,"wait":true,"timeout_secs":120,"poll_interval_ms":200}"#;
    let (_, result) = run_op(&both, ffi::crmsync_setup_start, request);
    let result = result.unwrap();
    let test = result["steps"].as_array().unwrap().iter().find(|s| s["step"] == "TestAndEnable").unwrap().clone();
    assert_eq!(test["succeeded"].as_u64(), Some(1000), "{result}");
    // The chunks' read-backs and the polls go through the identities in turn, not all
    // through the first (whose request budget would then limit the pool).
    let requests = sim.with_state(|s| s.state().requests().split_off(from));
    let reads = |user: &str| {
        requests.iter().filter(|r| r.method == "GET" && r.uri.contains("/mailboxes") && r.user == Some(user.parse().unwrap())).count()
    };
    assert!(reads(fixtures::SYSADMIN_USER_ID) >= 2, "the second identity read: {}", reads(fixtures::SYSADMIN_USER_ID));
    assert!(reads(fixtures::ADMIN_USER_ID) >= 2, "the first identity read: {}", reads(fixtures::ADMIN_USER_ID));
}

#[test]
fn a_pool_refuses_connections_to_different_organizations_and_null_handles() {
    let a = new_client(&token_config("https://contoso.crm.dynamics.com", "t")).unwrap();
    let b = new_client(&token_config("https://fabrikam.crm.dynamics.com", "t")).unwrap();
    let (status, doc) = pool(&[&a, &b]).err().unwrap();
    assert_eq!(status, Status::InvalidArgument);
    assert!(doc["message"].as_str().unwrap().contains("same organization"));
    let (status, _) = pool(&[]).err().unwrap();
    assert_eq!(status, Status::InvalidArgument);
    let handles = [ptr::null::<crmsync::ffi::CrmsyncClient>()];
    let (mut out, mut error) = (ptr::null_mut(), ptr::null_mut());
    assert_eq!(unsafe { ffi::crmsync_client_pool_new(handles.as_ptr(), 1, &mut out, &mut error) }, Status::NullArgument);
    take(error);
}

/// Two passes over the mailboxes at `cost_ms` per operation, with the simulator's limits
/// scaled to 1.5 s / 30 requests / 6,000 ms and the client told the same: enough work for
/// about two windows' execution budget, which the pacer must spread without a single 429.
fn paced_run_at(cost_ms: u64, mailboxes: usize) {
    let sim = Sim::start_with(|c| {
        c.mailboxes = mailboxes;
        c.queues = 0;
        c.limits_scale = 0.005; // 1.5 s window, 30 requests, 6,000 ms execution
        c.exec_cost_ms = cost_ms;
        c.latency_ms = 2;
    });
    let config = serde_json::json!({"version": 1, "url": sim.url, "max_retries": 5,
        "limits": {"window_ms": 1500, "requests": 30, "execution_ms": 6000, "concurrency": 52},
        "credential": {"kind": "access_token", "access_token": fixtures::ADMIN_TOKEN}});
    let client = new_client(&config.to_string()).unwrap();
    for step in [r#"{"version":1,"outgoing_email":"None"}"#, r#"{"version":1,"outgoing_email":"ServerSideSync"}"#] {
        let (_, result) = run_op(&client, ffi::crmsync_mailboxes_configure_start, step);
        assert_eq!(result.unwrap()["failed"], 0);
    }
    for _ in 0..3 {
        drain_items(&list_mailboxes(&client, r#"{"version":1,"page_size":100}"#).unwrap()).1.unwrap();
    }
    let stats = sim.with_state(|s| s.state().limit_stats(fixtures::ADMIN_USER_ID.parse().unwrap()));
    assert!(stats.execution_ms > 6000, "the run needed more than one window's execution budget: {stats:?}");
    assert_eq!(stats.throttled, 0, "pacing at a learned cost of {cost_ms} ms sent nothing the service refused: {stats:?}");
    assert_eq!(stats.before_retry_after, 0);
}

#[test]
fn pacing_learns_a_cost_of_3_ms_per_operation_and_stays_inside_the_limits() {
    paced_run_at(3, 1300);
}

#[test]
fn pacing_learns_a_cost_of_10_ms_per_operation_and_stays_inside_the_limits() {
    paced_run_at(10, 400);
}

/// One idempotent PATCH per mailbox, with the body `body` gives it.
fn mailbox_patches(ids: &[String], body: impl Fn(&str) -> serde_json::Value) -> Vec<crmsync::engine::Item> {
    ids.iter()
        .map(|id| crmsync::engine::Item {
            key: id.clone(),
            operation: crmsync::webapi::batch::BatchOperation {
                method: "PATCH",
                path: format!("mailboxes({id})"),
                body: std::sync::Arc::new(body(id)),
                if_match: Some("*".into()),
            },
        })
        .collect()
}

/// The ids of the simulator's mailboxes, as a listing returns them.
fn mailbox_ids(sim: &Sim) -> Vec<String> {
    let client = new_client(&token_config(&sim.url, fixtures::ADMIN_TOKEN)).unwrap();
    drain_items(&list_mailboxes(&client, r#"{"version":1}"#).unwrap())
        .0
        .iter()
        .map(|m| m["mailbox_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_pool_sends_the_batch_through_the_connection_whose_budget_lets_it_go_first() {
    use crmsync::engine::{self, Tuning};
    use crmsync::operation::{LongOperation, NextEvent};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let sim = Sim::start(6, 0);
    let ids = mailbox_ids(&sim);
    let connect = |token: &str| Arc::new(crmsync::Client::from_json(token_config(&sim.url, token).as_bytes()).unwrap());
    let pool = Arc::new(crmsync::Client::pool(&[connect(fixtures::ADMIN_TOKEN), connect(fixtures::SYSADMIN_TOKEN)]).unwrap());
    // The first identity may send nothing for five seconds; the second is idle. Both are as
    // busy (not at all): the least busy alone would pick the first and wait out its budget.
    pool.writers()[0].note_throttled(Duration::from_secs(5));
    let items = mailbox_patches(&ids, |_| serde_json::json!({"outgoingemaildeliverymethod": 0}));
    let started = Instant::now();
    let run = pool.clone();
    let op = LongOperation::start(move |sink| async move {
        let outcomes = engine::run(&run, items, &Tuning::default(), &sink, |_, _| None).await?;
        Ok(serde_json::json!(outcomes.iter().filter(|(_, r)| r.is_ok()).count()))
    });
    while !matches!(op.next_event(Duration::from_secs(10)), NextEvent::Finished) {}
    assert_eq!(op.result().unwrap().unwrap(), 6);
    assert!(started.elapsed() < Duration::from_secs(3), "the batch did not wait for the first identity: {:?}", started.elapsed());
    let ops = sim.with_state(|s| s.state().batch_operations());
    let by = |user: &str| ops.iter().filter(|r| r.user == Some(user.parse().unwrap())).count();
    assert_eq!((by(fixtures::ADMIN_USER_ID), by(fixtures::SYSADMIN_USER_ID)), (0, 6), "all through the second identity");
}

#[test]
fn a_batch_with_a_failing_operation_fails_only_that_item() {
    use crmsync::engine::{self, Tuning};
    use crmsync::operation::{LongOperation, NextEvent};
    use std::sync::Arc;

    let sim = Sim::start(6, 0);
    let ids = mailbox_ids(&sim);
    let client = Arc::new(crmsync::Client::from_json(token_config(&sim.url, fixtures::ADMIN_TOKEN).as_bytes()).unwrap());
    let bad = ids[2].clone();
    // One operation names a column the service does not have: it alone must fail.
    let items = mailbox_patches(&ids, |id| {
        if id == bad { serde_json::json!({"nosuchcolumn": 1}) } else { serde_json::json!({"outgoingemaildeliverymethod": 0}) }
    });
    let tuning = Tuning { initial_batch: 10, ..Tuning::default() };
    let op = LongOperation::start(move |sink| async move {
        let outcomes = engine::run(&client, items, &tuning, &sink, |_, _| None).await?;
        Ok(serde_json::json!(
            outcomes
                .iter()
                .map(|(k, r)| serde_json::json!({"key": k, "code": r.as_ref().err().and_then(|e| e.code.clone())}))
                .collect::<Vec<_>>()
        ))
    });
    while !matches!(op.next_event(std::time::Duration::from_secs(10)), NextEvent::Finished) {}
    let outcomes = op.result().unwrap().unwrap();
    let failed: Vec<&serde_json::Value> = outcomes.as_array().unwrap().iter().filter(|o| !o["code"].is_null()).collect();
    assert_eq!(failed.len(), 1, "{outcomes}");
    assert_eq!(failed[0]["key"], bad.as_str());
    assert_eq!(failed[0]["code"], "0x80060888");
    assert_eq!(sim.with_state(|s| s.state().batch_operations().len()), 6, "all six went in one batch");
    let rows = sim.with_state(|s| s.state().rows("mailboxes"));
    let written = rows.iter().filter(|m| m["outgoingemaildeliverymethod"] == 0).count();
    assert_eq!(written, 5, "the other five were written");
}

#[test]
fn cancelling_a_bulk_run_stops_within_two_seconds_and_a_rerun_converges() {
    // More mailboxes than the learned batch size (200 at 2 ms) times the concurrency (8): the
    // run cannot have everything in flight when it is cancelled.
    let sim = Sim::start_with(|c| {
        c.mailboxes = 4000;
        c.queues = 0;
        c.limits_scale = 0.01;
        c.exec_cost_ms = 2;
        c.latency_ms = 5;
    });
    let config = serde_json::json!({"version": 1, "url": sim.url,
        "limits": {"window_ms": 3000, "requests": 60, "execution_ms": 12000, "concurrency": 52},
        "credential": {"kind": "access_token", "access_token": fixtures::ADMIN_TOKEN}});
    let client = new_client(&config.to_string()).unwrap();
    let request = r#"{"version":1,"outgoing_email":"None"}"#;
    let (mut op, mut error) = (ptr::null_mut(), ptr::null_mut());
    assert_eq!(
        unsafe { ffi::crmsync_mailboxes_configure_start(client.0, request.as_ptr(), request.len(), &mut op, &mut error) },
        Status::Ok
    );
    let op = Op(op);
    let mut done_before_cancel = Vec::new();
    while done_before_cancel.len() < 50 {
        if let Next::Event(e) = next_event(&op, 30_000) {
            done_before_cancel
                .extend(items_of(e).iter().filter(|i| i["outcome"] == "Changed").map(|i| i["key"].as_str().unwrap().to_owned()));
        }
    }
    let cancelled_at = std::time::Instant::now();
    assert_eq!(unsafe { ffi::crmsync_op_cancel(op.0) }, Status::Ok);
    let mut reported = done_before_cancel.clone();
    loop {
        match next_event(&op, 5_000) {
            Next::Event(e) => {
                reported.extend(items_of(e).iter().filter(|i| i["outcome"] == "Changed").map(|i| i["key"].as_str().unwrap().to_owned()))
            }
            Next::End => break,
            _ => {}
        }
    }
    assert!(cancelled_at.elapsed() < std::time::Duration::from_secs(2), "stopped in {:?}", cancelled_at.elapsed());
    assert_eq!(op_result(&op).unwrap_err().0, Status::Cancelled);
    let rows = sim.with_state(|s| s.state().rows("mailboxes"));
    let written: std::collections::HashSet<String> =
        rows.iter().filter(|m| m["outgoingemaildeliverymethod"] == 0).map(|m| m["mailboxid"].as_str().unwrap().to_owned()).collect();
    assert!(written.len() < 4000, "the run stopped before the end");
    assert!(reported.iter().all(|k| written.contains(k)), "everything reported done is done");
    let (_, rerun) = run_op(&client, ffi::crmsync_mailboxes_configure_start, request);
    let rerun = rerun.unwrap();
    assert_eq!(rerun["failed"], 0);
    // Batches in flight when the run was cancelled may still have landed: their outcome was
    // unknown to the client, and the rerun finds them done.
    assert!(rerun["unchanged"].as_u64().unwrap() as usize >= written.len(), "the rerun skips what the first run did: {rerun}");
    assert_eq!(rerun["unchanged"].as_u64().unwrap() + rerun["changed"].as_u64().unwrap(), 4000);
    let rows = sim.with_state(|s| s.state().rows("mailboxes"));
    assert!(rows.iter().all(|m| m["outgoingemaildeliverymethod"] == 0), "the rerun converges");
}

/// Runs `items` through `client`'s bulk engine and returns how many were written.
fn run_items(client: &std::sync::Arc<crmsync::Client>, items: Vec<crmsync::engine::Item>) -> u64 {
    use crmsync::operation::{LongOperation, NextEvent};
    let run = client.clone();
    let op = LongOperation::start(move |sink| async move {
        let outcomes = crmsync::engine::run(&run, items, &crmsync::engine::Tuning::default(), &sink, |_, _| None).await?;
        Ok(serde_json::json!(outcomes.iter().filter(|(_, r)| r.is_ok()).count()))
    });
    while !matches!(op.next_event(std::time::Duration::from_secs(10)), NextEvent::Finished) {}
    op.result().unwrap().unwrap().as_u64().unwrap()
}

/// 300 mailboxes on a service that charges 2 ms per operation: enough for a pacer to measure.
fn three_hundred_mailboxes_at_2_ms() -> Sim {
    Sim::start_with(|c| {
        c.mailboxes = 300;
        c.queues = 0;
        c.exec_cost_ms = 2;
        c.latency_ms = 2;
    })
}

#[test]
fn a_second_identity_starts_at_the_cost_the_first_learned() {
    use std::sync::Arc;
    use std::time::Duration;
    let sim = three_hundred_mailboxes_at_2_ms();
    let ids = mailbox_ids(&sim);
    let connect = |token: &str| Arc::new(crmsync::Client::from_json(token_config(&sim.url, token).as_bytes()).unwrap());
    let (first, second) = (connect(fixtures::ADMIN_TOKEN), connect(fixtures::SYSADMIN_TOKEN));
    assert_eq!(run_items(&first, mailbox_patches(&ids, |_| serde_json::json!({"outgoingemaildeliverymethod": 0}))), 300);
    let learned = first.api().cost_per_operation().expect("the first identity measured the service");
    assert!(second.api().cost_per_operation().is_none());
    let pool = Arc::new(crmsync::Client::pool(&[first.clone(), second.clone()]).unwrap());
    // Only the second identity may send: its first batch shows where it started.
    pool.writers()[0].note_throttled(Duration::from_secs(30));
    pool.writers()[1].record_timeline();
    assert_eq!(run_items(&pool, mailbox_patches(&ids, |_| serde_json::json!({"outgoingemaildeliverymethod": 2}))), 300);
    let spans = pool.writers()[1].timeline();
    let first_batch = spans.iter().filter(|s| s.operations > 1).min_by_key(|s| s.sent).expect("the second identity wrote");
    assert!(first_batch.operations > crmsync::engine::Tuning::default().initial_batch, "no probe of 10 again: {first_batch:?}");
    let cost = second.api().cost_per_operation().expect("learned from the first identity, then measured");
    assert!(cost > learned / 4 && cost < learned * 4, "{cost:?} against {learned:?}");
}

#[test]
fn a_batch_handed_to_a_connection_reserves_its_budget_before_the_pacer_admits_it() {
    use std::sync::Arc;
    let sim = three_hundred_mailboxes_at_2_ms();
    let ids = mailbox_ids(&sim);
    let client = Arc::new(crmsync::Client::from_json(token_config(&sim.url, fixtures::ADMIN_TOKEN).as_bytes()).unwrap());
    assert_eq!(run_items(&client, mailbox_patches(&ids, |_| serde_json::json!({"outgoingemaildeliverymethod": 0}))), 300);
    let api = &client.writers()[0];
    let cost = api.cost_per_operation().expect("measured");
    // Enough operations for the whole execution budget of a window (20 minutes by default).
    let budget_ops = (std::time::Duration::from_secs(1200).as_secs_f64() / cost.as_secs_f64()) as usize;
    assert_eq!(api.send_wait(budget_ops / 2), std::time::Duration::ZERO, "half the budget goes at once");
    // Another run has handed the connection a batch of the other half and more, not yet admitted:
    // the two together would overspend the window, so this one waits.
    let other = api.engage(budget_ops / 2 + budget_ops / 10);
    assert!(api.send_wait(budget_ops / 2) > std::time::Duration::ZERO, "the handed batch's budget is spoken for");
    drop(other);
    assert_eq!(api.send_wait(budget_ops / 2), std::time::Duration::ZERO, "answered (or given up): its reservation is gone");
}

#[test]
fn concurrent_runs_spread_their_batches_by_what_every_run_handed_each_identity() {
    use std::sync::Arc;
    let sim = Sim::start(6, 0);
    let ids = mailbox_ids(&sim);
    let connect = |token: &str| Arc::new(crmsync::Client::from_json(token_config(&sim.url, token).as_bytes()).unwrap());
    let pool = Arc::new(crmsync::Client::pool(&[connect(fixtures::ADMIN_TOKEN), connect(fixtures::SYSADMIN_TOKEN)]).unwrap());
    // Another run has a large batch out on the first identity (this run has nothing out on
    // either, and neither's budget holds it): this run's batch goes to the second.
    let other = pool.writers()[0].engage(500);
    assert_eq!(run_items(&pool, mailbox_patches(&ids, |_| serde_json::json!({"outgoingemaildeliverymethod": 0}))), 6);
    drop(other);
    let ops = sim.with_state(|s| s.state().batch_operations());
    let by = |user: &str| ops.iter().filter(|r| r.user == Some(user.parse().unwrap())).count();
    assert_eq!((by(fixtures::ADMIN_USER_ID), by(fixtures::SYSADMIN_USER_ID)), (0, 6), "all through the less loaded identity");
}

#[test]
fn runs_at_once_on_one_client_fill_batches_together_and_a_first_run_goes_ahead() {
    use crmsync::engine::{self, Tuning};
    use crmsync::operation::{LongOperation, NextEvent};
    use std::sync::Arc;

    let sim = Sim::start(40, 0);
    let ids = mailbox_ids(&sim);
    let client = Arc::new(crmsync::Client::from_json(token_config(&sim.url, fixtures::ADMIN_TOKEN).as_bytes()).unwrap());
    let (settings, tests) = ids.split_at(30);
    let settings = mailbox_patches(settings, |_| serde_json::json!({"outgoingemaildeliverymethod": 0}));
    let tests = mailbox_patches(tests, |_| serde_json::json!({"incomingemaildeliverymethod": 0}));
    sim.with_state(|s| s.state().clear_requests());
    // One batch at a time: what the service runs is the batches in the order they went.
    let tuning = Tuning { max_concurrency: 1, ..Tuning::default() };
    let op = LongOperation::start(move |sink| async move {
        let first = Tuning { first: true, ..tuning.clone() };
        let (a, b) = tokio::join!(engine::run(&client, settings, &tuning, &sink, |_, _| None), async {
            // Queued once the other run's first (probing) batch is out.
            tokio::task::yield_now().await;
            engine::run(&client.clone(), tests, &first, &sink, |_, _| None).await
        });
        Ok(serde_json::json!([a?.iter().filter(|(_, r)| r.is_ok()).count(), b?.iter().filter(|(_, r)| r.is_ok()).count()]))
    });
    while !matches!(op.next_event(std::time::Duration::from_secs(10)), NextEvent::Finished) {}
    assert_eq!(op.result().unwrap().unwrap(), serde_json::json!([30, 10]));
    let batches = sim.with_state(|s| s.state().requests()).iter().filter(|r| r.uri.contains("$batch")).count();
    // Apart, each run would end on a batch of its own (and the first probe): together, the
    // probe of ten and one batch of the other thirty.
    assert_eq!(batches, 2, "the two runs' writes shared their batches");
    let ops = sim.with_state(|s| s.state().batch_operations());
    let at = |ids: &[String]| -> Vec<usize> {
        ops.iter().enumerate().filter(|(_, r)| ids.iter().any(|id| r.uri.contains(id.as_str()))).map(|(at, _)| at).collect()
    };
    // The probe (ten of the settings), then one batch: the tests (queued `first`) ahead of
    // the settings still queued.
    assert_eq!(at(&ids[30..]), (10..20).collect::<Vec<_>>(), "the first run's writes went ahead of the other's still queued");
    assert_eq!(at(&ids[..30]), (0..10).chain(20..40).collect::<Vec<_>>());
}
