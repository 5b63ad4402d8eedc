//! Test & Enable (reference §6.2, alerts §5.1/§6.3): `PATCH mailboxes(<id>)` with
//! `testemailconfigurationscheduled: true` schedules a test; a background task runs it once
//! [`crate::SimConfig::test_delay_ms`] has passed and `postponetestemailconfigurationuntil` is
//! null or not in the future. Outcomes are evaluated when the test runs.
//!
//! Choices (the real rules are internal to the platform):
//! - Scheduling (again) restarts the test and resets `incomingemailstatus`,
//!   `outgoingemailstatus`, `actstatus` and `mailboxstatus` to 0 (Not Run) until it completes.
//!   Setting the flag back to false cancels a pending test. A flag set without a PATCH (e.g.
//!   `SimState::set`) is picked up by the worker as if scheduled then.
//! - Inactive mailbox (`statecode` 1): the test does not run; it stays scheduled.
//! - Directions tested: incoming when `incomingemaildeliverymethod` = 2, outgoing when
//!   `outgoingemaildeliverymethod` = 2, ACT when `actdeliverymethod` = 1 (server-side sync);
//!   a direction set to None/Outlook/Forward is not tested: its status stays 0 (Not Run) and
//!   its `enabledfor…` column is left alone. With nothing to test the run completes with
//!   `mailboxstatus` 0 and a warning alert.
//! - Failures, first match wins: no `emailserverprofile` → every tested direction fails;
//!   inactive profile → same (alert on the mailbox and on the profile); email approval
//!   required by the organization (`requireapprovalforuseremail` / `…queueemail` by owner
//!   type) and mailbox `emailrouteraccessapproval` ≠ 1 → every tested direction fails with the
//!   KB 4052727 alerts IncomingEmailS2SApprovalNeeded / OutgoingEmailS2SApprovalNeeded /
//!   ExchangeSyncEmailS2SApprovalNeeded (ACT fails too, since the KB names an ACT alert);
//!   mailbox in the [`crate::SimConfig::unlicensed_share`] → every tested direction fails.
//! - Result: tested directions 1 (Success) or 2 (Failure); `mailboxstatus` 2 if any failed,
//!   else 1 (0 when nothing was tested); `enabledfor…` = (status = 1) for tested directions;
//!   `testemailconfigurationscheduled` false; `testmailboxaccesscompletedon` now;
//!   `testandenablelastattemptedon`/`…by` = when/who scheduled; `isactsyncorgflagset` true on
//!   success when `orgmarkedasprimaryforexchangesync` is true.
//! - Alerts (tracelog rows, `createdon` at whole seconds like the real service) are written
//!   per the organization's `generatealertsforerrors` (level 3), `…warnings` (2) and
//!   `…information` (1, "test and enable succeeded"). The `errortypedisplay` names of the
//!   approval alerts and their texts come from KB 4052727; the other names, all `tracecode`
//!   numbers and the other texts are the simulator's own (faithful paraphrases).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::App;
use crate::fixtures;
use crate::store::{Row, Store, TestSchedule, now_string};

pub const TRACE_TEST_SUCCEEDED: i64 = 100;
pub const TRACE_NOTHING_TO_TEST: i64 = 110;
pub const TRACE_NO_PROFILE: i64 = 201;
pub const TRACE_PROFILE_INACTIVE: i64 = 202;
pub const TRACE_INCOMING_APPROVAL: i64 = 301;
pub const TRACE_OUTGOING_APPROVAL: i64 = 302;
pub const TRACE_EXCHANGESYNC_APPROVAL: i64 = 303;
pub const TRACE_UNLICENSED: i64 = 401;

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

/// Background task: run due tests until aborted.
pub async fn worker(app: App) {
    let tick = Duration::from_millis((app.config.test_delay_ms / 5).clamp(10, 200));
    loop {
        tokio::time::sleep(tick).await;
        run_due(&app, false);
    }
}

fn unlicensed(seed: u64, share: f64, id: &Uuid) -> bool {
    if share <= 0.0 {
        return false;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = crate::seed::Rng::new(h);
    ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < share
}

fn str_of<'a>(row: &'a Row, col: &str) -> Option<&'a str> {
    row.get(col).and_then(Value::as_str)
}

fn int_of(row: &Row, col: &str) -> Option<i64> {
    row.get(col).and_then(Value::as_i64)
}

fn flag(row: Option<&Row>, col: &str) -> bool {
    row.and_then(|r| r.get(col)).and_then(Value::as_bool).unwrap_or(false)
}

/// Run every due test; returns the mailboxes tested.
pub fn run_due(app: &App, ignore_delay: bool) -> Vec<Uuid> {
    let _shared = app.shared();
    let mut store = app.lock();
    let now = Instant::now();
    // Pick up flags set without a PATCH; forget schedules whose flag was cleared.
    let flagged: Vec<(Uuid, Uuid)> = store
        .rows("mailbox")
        .filter(|r| r.get("testemailconfigurationscheduled") == Some(&Value::Bool(true)))
        .filter_map(|r| {
            let id = Uuid::parse_str(str_of(r, "mailboxid")?).ok()?;
            let by = str_of(r, "_modifiedby_value")
                .and_then(|s| Uuid::parse_str(s).ok())
                .unwrap_or_else(|| Uuid::parse_str(fixtures::ADMIN_USER_ID).expect("valid"));
            Some((id, by))
        })
        .collect();
    let flagged_ids: std::collections::HashSet<Uuid> = flagged.iter().map(|(id, _)| *id).collect();
    store.tests.retain(|id, _| flagged_ids.contains(id));
    for (id, by) in flagged {
        if !store.tests.contains_key(&id) {
            schedule(&mut store, app.config.test_delay_ms, id, by, true);
        }
    }
    let due: Vec<Uuid> = store.tests.iter().filter(|(_, t)| ignore_delay || t.due <= now).map(|(id, _)| *id).collect();
    let utc_now = chrono::Utc::now();
    let mut ran = Vec::new();
    for id in due {
        let Some(row) = store.get("mailbox", &id).cloned() else {
            continue;
        };
        if int_of(&row, "statecode") != Some(0) {
            continue;
        }
        if let Some(until) = str_of(&row, "postponetestemailconfigurationuntil").and_then(crate::odata::filter::parse_datetime)
            && until > utc_now
        {
            continue;
        }
        let Some(sched) = store.tests.remove(&id) else {
            continue;
        };
        run_test(&mut store, app, id, &row, &sched);
        ran.push(id);
    }
    ran
}

struct Alert {
    level: i64,
    code: i64,
    kind: &'static str,
    text: String,
    profile_too: bool,
}

fn run_test(store: &mut Store, app: &App, id: Uuid, row: &Row, sched: &TestSchedule) {
    let cfg = &app.config;
    let name = str_of(row, "name").unwrap_or_default().to_string();
    let tested = [
        int_of(row, "incomingemaildeliverymethod") == Some(2),
        int_of(row, "outgoingemaildeliverymethod") == Some(2),
        int_of(row, "actdeliverymethod") == Some(1),
    ];
    let org_id = Uuid::parse_str(fixtures::ORGANIZATION_ID).expect("valid");
    let org = store.get("organization", &org_id).cloned();
    let profile_id = str_of(row, "_emailserverprofile_value").and_then(|s| Uuid::parse_str(s).ok());
    let profile = profile_id.and_then(|p| store.get("emailserverprofile", &p).cloned());
    let profile_name = profile.as_ref().and_then(|p| str_of(p, "name")).unwrap_or_default().to_string();
    let owner = str_of(row, "_regardingobjectid_value").and_then(|s| Uuid::parse_str(s).ok());
    let is_queue = owner.is_some_and(|o| store.contains("queue", &o));
    let approval_required = flag(org.as_ref(), if is_queue { "requireapprovalforqueueemail" } else { "requireapprovalforuseremail" });
    let approved = int_of(row, "emailrouteraccessapproval") == Some(1);

    let mut alerts = Vec::new();
    let failed = if !tested.iter().any(|t| *t) {
        alerts.push(Alert {
            level: 2,
            code: TRACE_NOTHING_TO_TEST,
            kind: "MailboxNotConfiguredForServerSideSync",
            text: format!("The mailbox {name} wasn't tested because none of its incoming email, outgoing email or appointments, contacts, and tasks is set to Server-Side Synchronization."),
            profile_too: false,
        });
        false
    } else if profile.is_none() {
        alerts.push(Alert {
            level: 3,
            code: TRACE_NO_PROFILE,
            kind: "MailboxEmailServerProfileNotSet",
            text: format!("The mailbox {name} isn't associated with an email server profile. Associate the mailbox with an email server profile, and then test and enable the mailbox again."),
            profile_too: false,
        });
        true
    } else if profile.as_ref().and_then(|p| int_of(p, "statecode")) != Some(0) {
        alerts.push(Alert {
            level: 3,
            code: TRACE_PROFILE_INACTIVE,
            kind: "EmailServerProfileInactive",
            text: format!("The email server profile {profile_name} associated with the mailbox {name} is inactive. Activate the email server profile, and then test and enable the mailbox again."),
            profile_too: true,
        });
        true
    } else if approval_required && !approved {
        let texts = [
            (
                TRACE_INCOMING_APPROVAL,
                "IncomingEmailS2SApprovalNeeded",
                format!(
                    "Email cannot be received because the email address of the mailbox {name} requires an approval by an Office 365 administrator. The mailbox didn't synchronize. A notification about this is posted on the alerts wall for the owner of the email server profile {profile_name}."
                ),
            ),
            (
                TRACE_OUTGOING_APPROVAL,
                "OutgoingEmailS2SApprovalNeeded",
                format!(
                    "Email cannot be sent because the email address of the mailbox {name} requires an approval by an Office 365 administrator. The mailbox didn't synchronize. The owner of the email server profile {profile_name} has been notified."
                ),
            ),
            (
                TRACE_EXCHANGESYNC_APPROVAL,
                "ExchangeSyncEmailS2SApprovalNeeded",
                format!(
                    "Appointments, contacts, and tasks can't be synchronized because the email address of the mailbox {name} requires an approval by an Office 365 administrator. A notification about this is posted on the alerts wall for the owner of the email server profile {profile_name}."
                ),
            ),
        ];
        for (t, (code, kind, text)) in tested.iter().zip(texts) {
            if *t {
                alerts.push(Alert { level: 3, code, kind, text, profile_too: false });
            }
        }
        true
    } else if unlicensed(cfg.seed, cfg.unlicensed_share, &id) {
        alerts.push(Alert {
            level: 3,
            code: TRACE_UNLICENSED,
            kind: "MailboxNoExchangeOnlineLicense",
            text: format!("The mailbox {name} doesn't have an Exchange Online license. Assign an Exchange Online license to the user in the Microsoft 365 admin center, and then test and enable the mailbox again."),
            profile_too: false,
        });
        true
    } else {
        alerts.push(Alert {
            level: 1,
            code: TRACE_TEST_SUCCEEDED,
            kind: "MailboxTestAndEnableSucceeded",
            text: format!("Test and Enable succeeded for the mailbox {name}: the configured incoming email, outgoing email and appointments, contacts, and tasks synchronization work."),
            profile_too: false,
        });
        false
    };

    let now = now_string();
    let mut changes = Row::new();
    let columns = [
        ("incomingemailstatus", "enabledforincomingemail"),
        ("outgoingemailstatus", "enabledforoutgoingemail"),
        ("actstatus", "enabledforact"),
    ];
    let mut any_tested = false;
    for (t, (status, enabled)) in tested.iter().zip(columns) {
        if *t {
            any_tested = true;
            changes.insert(status.into(), json!(if failed { 2 } else { 1 }));
            changes.insert(enabled.into(), json!(!failed));
        } else {
            changes.insert(status.into(), json!(0));
        }
    }
    let mailbox_status = if failed {
        2
    } else if any_tested {
        1
    } else {
        0
    };
    changes.insert("mailboxstatus".into(), json!(mailbox_status));
    changes.insert("testemailconfigurationscheduled".into(), json!(false));
    changes.insert("testmailboxaccesscompletedon".into(), json!(now));
    changes.insert("testandenablelastattemptedon".into(), json!(sched.scheduled_on));
    changes.insert("_testandenablelastattemptedby_value".into(), json!(sched.by.to_string()));
    if mailbox_status == 1 && flag(Some(row), "orgmarkedasprimaryforexchangesync") {
        changes.insert("isactsyncorgflagset".into(), json!(true));
    }
    store.update("mailbox", &id, changes, None);

    for a in alerts {
        let wanted = match a.level {
            3 => "generatealertsforerrors",
            2 => "generatealertsforwarnings",
            _ => "generatealertsforinformation",
        };
        if !flag(org.as_ref(), wanted) {
            continue;
        }
        let mut regarding = vec![id];
        if a.profile_too
            && let Some(p) = profile_id
        {
            regarding.push(p);
        }
        for r in regarding {
            let tid = Uuid::new_v4();
            let row = json!({
                "tracelogid": tid.to_string(),
                "level": a.level,
                "tracecode": a.code,
                "text": a.text,
                "errortypedisplay": a.kind,
                "tracestatus": a.level == 1,
                "errordetails": null,
                "machinename": "SIM-ASYNC-01",
                "canbedeleted": true,
                "isunique": false,
                "collationlevel": 0,
                "_regardingobjectid_value": r.to_string(),
                "_organizationid_value": fixtures::ORGANIZATION_ID,
                "createdon": now,
                "modifiedon": now,
            });
            let Value::Object(row) = row else { unreachable!("object literal") };
            store.insert("tracelog", tid, row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlicensed_is_deterministic_and_proportional() {
        let ids: Vec<Uuid> = (0..2000u32).map(|i| crate::auth::name_guid(&format!("m{i}"))).collect();
        let a: Vec<bool> = ids.iter().map(|id| unlicensed(5, 0.25, id)).collect();
        let b: Vec<bool> = ids.iter().map(|id| unlicensed(5, 0.25, id)).collect();
        assert_eq!(a, b);
        let share = a.iter().filter(|x| **x).count() as f64 / ids.len() as f64;
        assert!((0.2..0.3).contains(&share), "{share}");
        assert!(!ids.iter().any(|id| unlicensed(5, 0.0, id)));
        assert!(ids.iter().all(|id| unlicensed(5, 1.0, id)));
    }
}
