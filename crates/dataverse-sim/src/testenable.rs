//! Test & Enable (reference §6.2, alerts §5.1/§6.3): `PATCH mailboxes(<id>)` with
//! `testemailconfigurationscheduled: true` schedules a test; a background task runs it once
//! [`crate::SimConfig::test_delay_ms`] has passed and `postponetestemailconfigurationuntil` is
//! null or not in the future. Outcomes are evaluated when the test runs.
//!
//! Choices (the real rules are internal to the platform):
//! - Scheduling (again) restarts the test and resets `incomingemailstatus`,
//!   `outgoingemailstatus`, `actstatus` and `mailboxstatus` to 0 (Not Run) until it completes.
//!   Setting the flag back to false cancels a pending test. A flag set without a PATCH (e.g.
//!   `SimState::set`, `PATCH /_sim/rows/…`) is scheduled then, by [`on_platform_set`].
//! - Inactive mailbox (`statecode` 1): the test does not run; it stays scheduled.
//! - Directions tested: incoming when `incomingemaildeliverymethod` = 2, outgoing when
//!   `outgoingemaildeliverymethod` = 2, ACT when `actdeliverymethod` = 1 (server-side sync);
//!   a direction set to None/Outlook/Forward is not tested: its status stays 0 (Not Run) and
//!   its `enabledfor…` column is left alone. With nothing to test the run completes with
//!   `mailboxstatus` 0 and a warning alert.
//! - Why a test fails comes from [`crate::health::diagnose`] (shared with the sync cycle):
//!   no or inactive profile (`InvalidIncomingEmailServerProfile`; inactive also alerts the
//!   profile), approval required by the organization for the owner type and mailbox
//!   `emailrouteraccessapproval` ≠ 1 (the KB 4052727 alerts, one per tested direction), then
//!   the day-two failure kinds, then [`crate::SimConfig::unlicensed_share`]. A kind fails only
//!   its channels (owner mismatch: ACT; queue team without role: incoming).
//! - A transient cause retries the test instead of failing it: `testemailconfigurationretrycount`
//!   +1, still scheduled, postponed by the retry interval, warning alert; at
//!   [`crate::SimConfig::transient_attempts`] the test fails.
//! - Result: tested directions 1 (Success) or 2 (Failure); `mailboxstatus` 2 if any failed,
//!   else 1 (0 when nothing was tested); `enabledfor…` = (status = 1) for tested directions;
//!   a failure writes the `lastsyncerror*` columns, a success resets the counts; a mailbox
//!   with a passing direction enters the sync cycle;
//!   `testemailconfigurationscheduled` false; `testmailboxaccesscompletedon` now;
//!   `testandenablelastattemptedon`/`…by` = when/who scheduled; `isactsyncorgflagset` true on
//!   success when `orgmarkedasprimaryforexchangesync` is true.
//! - Alerts (tracelog rows, `createdon` at whole seconds like the real service) are written
//!   per the organization's `generatealertsforerrors` (level 3), `…warnings` (2) and
//!   `…information` (1, "test and enable succeeded"). Sources of the names and texts: the
//!   README ("Day two"); all `tracecode` numbers are the simulator's own.

use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::SimConfig;
use crate::alerts::{self, Alert};
use crate::app::App;
use crate::fixtures;
use crate::health::{self, Facts, OrgFlags};
use crate::store::{Row, Store, TestSchedule, now_string};
use crate::sync;

pub const TRACE_TEST_SUCCEEDED: i64 = 100;
pub const TRACE_NOTHING_TO_TEST: i64 = 110;
pub use crate::health::{
    TRACE_EXCHANGESYNC_APPROVAL, TRACE_INCOMING_APPROVAL, TRACE_OUTGOING_APPROVAL, TRACE_PROFILE as TRACE_NO_PROFILE,
    TRACE_PROFILE_INACTIVE, TRACE_UNLICENSED,
};

const CHANNELS: [(&str, &str); 3] = [
    ("incomingemailstatus", "enabledforincomingemail"),
    ("outgoingemailstatus", "enabledforoutgoingemail"),
    ("actstatus", "enabledforact"),
];

/// Columns a PATCH adds when it (re)schedules a test; `Some(true)` schedule, `Some(false)`
/// cancel, `None` no change. Called by the PATCH handler for mailboxes.
pub fn on_mailbox_write(changes: &mut Row) -> Option<bool> {
    let flag = changes.get("testemailconfigurationscheduled")?.as_bool()?;
    if flag {
        for c in ["incomingemailstatus", "outgoingemailstatus", "actstatus", "mailboxstatus"] {
            changes.insert(c.into(), json!(0));
        }
    }
    Some(flag)
}

/// Record (or drop) the pending test after the PATCH committed.
pub fn schedule(store: &mut Store, delay_ms: u64, mailbox: Uuid, by: Uuid, flag: bool) {
    if flag {
        let due = Instant::now() + Duration::from_millis(delay_ms);
        store.tests.insert(mailbox, TestSchedule { scheduled_on: now_string(), by, due });
    } else {
        store.tests.remove(&mailbox);
    }
}

/// A write without the Web API (`SimState::set`, `PATCH /_sim/rows/…`) that sets or clears
/// `testemailconfigurationscheduled` schedules or cancels the test like a PATCH would (by the
/// last modifier, else the admin principal).
pub fn on_platform_set(store: &mut Store, config: &SimConfig, logical: &str, id: Uuid, values: &Row) {
    let Some(flag) = values.get("testemailconfigurationscheduled").and_then(serde_json::Value::as_bool) else {
        return;
    };
    if logical != "mailbox" || (flag && store.tests.contains_key(&id)) {
        return;
    }
    let by = store
        .get("mailbox", &id)
        .and_then(|r| r.get("_modifiedby_value"))
        .and_then(serde_json::Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| Uuid::parse_str(fixtures::ADMIN_USER_ID).expect("valid"));
    schedule(store, config.test_delay_ms, id, by, flag);
}

/// Background task: run due tests and due sync cycles until aborted.
pub async fn worker(app: App) {
    // A twentieth of the delay: a test finishes within 5 % of its delay (a fifth, before, made
    // a run's last tests wait up to 200 ms past a 1 s delay, most of what a poll can save).
    let test_tick = (app.config.test_delay_ms / 20).clamp(10, 200);
    let sync_tick = if app.config.sync_interval_ms > 0 { (app.config.sync_interval_ms / 4).clamp(10, 200) } else { 200 };
    let tick = Duration::from_millis(test_tick.min(sync_tick));
    loop {
        tokio::time::sleep(tick).await;
        run_due(&app, false);
        sync::run_pass(&app);
    }
}

/// Run every due test; returns the mailboxes tested (retried ones included).
pub fn run_due(app: &App, ignore_delay: bool) -> Vec<Uuid> {
    let _shared = app.shared();
    let mut store = app.lock();
    let now = Instant::now();
    let due: Vec<Uuid> = store.tests.iter().filter(|(_, t)| ignore_delay || t.due <= now).map(|(id, _)| *id).collect();
    if due.is_empty() {
        return due;
    }
    let utc_now = chrono::Utc::now();
    let org = OrgFlags::read(&store);
    let mut ran = Vec::new();
    for id in due {
        let Some(row) = store.get("mailbox", &id) else {
            store.tests.remove(&id);
            continue;
        };
        if row.get("statecode").and_then(serde_json::Value::as_i64) != Some(0) {
            continue;
        }
        if let Some(until) = row
            .get("postponetestemailconfigurationuntil")
            .and_then(serde_json::Value::as_str)
            .and_then(crate::odata::filter::parse_datetime)
            && until > utc_now
        {
            continue;
        }
        let Some(sched) = store.tests.remove(&id) else {
            continue;
        };
        run_test(&mut store, &app.config, &org, id, &sched);
        ran.push(id);
    }
    ran
}

/// Delay before a test whose cause is transient runs again.
fn retry_interval(config: &SimConfig) -> Duration {
    Duration::from_millis(if config.sync_interval_ms > 0 { config.sync_interval_ms } else { config.test_delay_ms })
}

fn run_test(store: &mut Store, config: &SimConfig, org: &OrgFlags, id: Uuid, sched: &TestSchedule) {
    let Some(f) = Facts::read(store, id) else {
        return;
    };
    let now = now_string();
    let mut c = Row::new();
    let failure = if f.tested.iter().any(|t| *t) { health::diagnose(store, config, org, &f) } else { None };
    if let Some(failure) = &failure
        && failure.transient
        && f.test_retry_count + 1 < i64::from(config.transient_attempts)
    {
        // Retried later: still scheduled, statuses stay Not Run.
        let retry = retry_interval(config);
        let until = chrono::Utc::now() + chrono::Duration::milliseconds(retry.as_millis() as i64);
        c.extend(sync::failure_columns(failure, &f, &now));
        c.insert("testemailconfigurationretrycount".into(), json!(f.test_retry_count + 1));
        c.insert("transientfailurecount".into(), json!(f.transient_count + 1));
        c.insert("postponetestemailconfigurationuntil".into(), json!(until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        store.update("mailbox", &id, c, None);
        let warnings: Vec<Alert> = failure.alerts.iter().map(|a| Alert { level: 2, ..a.clone() }).collect();
        alerts::write(store, org, &warnings, &now);
        store.tests.insert(id, TestSchedule { due: Instant::now() + retry, ..sched.clone() });
        return;
    }
    let mut status = [0i64; 3];
    let mut alerts = Vec::new();
    if !f.tested.iter().any(|t| *t) {
        alerts.push(Alert::new(
            id,
            2,
            TRACE_NOTHING_TO_TEST,
            "MailboxNotConfiguredForServerSideSync",
            format!("The mailbox {} wasn't tested because none of its incoming email, outgoing email or appointments, contacts, and tasks is set to Server-Side Synchronization.", f.name),
        ));
    } else if let Some(failure) = failure {
        for i in (0..3).filter(|i| f.tested[*i]) {
            status[i] = if failure.channels[i] { 2 } else { 1 };
        }
        c.extend(sync::failure_columns(&failure, &f, &now));
        if failure.transient {
            c.insert("testemailconfigurationretrycount".into(), json!(f.test_retry_count + 1));
            c.insert("transientfailurecount".into(), json!(f.transient_count + 1));
        }
        alerts = failure.alerts;
    } else {
        status = f.tested.map(|t| if t { 1 } else { 0 });
        c.insert("lastsyncerrorcount".into(), json!(0));
        c.insert("transientfailurecount".into(), json!(0));
        c.insert("testemailconfigurationretrycount".into(), json!(0));
        alerts.push(Alert::new(
            id,
            1,
            TRACE_TEST_SUCCEEDED,
            "MailboxTestAndEnableSucceeded",
            format!("Test and Enable succeeded for the mailbox {}: the configured incoming email, outgoing email and appointments, contacts, and tasks synchronization work.", f.name),
        ));
    }
    for (i, (status_col, enabled_col)) in CHANNELS.iter().enumerate() {
        c.insert((*status_col).into(), json!(status[i]));
        if f.tested[i] {
            c.insert((*enabled_col).into(), json!(status[i] == 1));
        }
    }
    let mailbox_status = sync::overall_status(&f.tested, &status);
    c.insert("mailboxstatus".into(), json!(mailbox_status));
    c.insert("testemailconfigurationscheduled".into(), json!(false));
    c.insert("testmailboxaccesscompletedon".into(), json!(now));
    c.insert("testandenablelastattemptedon".into(), json!(sched.scheduled_on));
    c.insert("_testandenablelastattemptedby_value".into(), json!(sched.by.to_string()));
    let primary = store.get("mailbox", &id).and_then(|r| r.get("orgmarkedasprimaryforexchangesync")).and_then(serde_json::Value::as_bool);
    if mailbox_status == 1 && primary == Some(true) {
        c.insert("isactsyncorgflagset".into(), json!(true));
    }
    store.update("mailbox", &id, c, None);
    alerts::write(store, org, &alerts, &now);
    if status.contains(&1) {
        sync::enter(store, config, id);
    } else {
        store.sync.remove(&id);
    }
}
