//! Day two: repair what Dataverse lets crmsync repair. From the health
//! of the selected mailboxes, each repairable diagnosis gets its fix, written in bulk through
//! the engine: the organization's default profile and delivery methods, the profile's
//! activation, approval (through the owning user or queue, as the approval step), the
//! mailbox's owner set to its regarding user, the user's access mode; then Test & Enable of
//! every mailbox whose cause was fixed (and of the never-tested ones). With `wait` the tests
//! are awaited and the new health is reported. Healthy mailboxes are never touched, and a
//! mailbox whose fix is blocked is reported with its remedy and not written at all.

use super::health::{self, HealthRow, classify::Health};
use super::mailbox_settings::{self, Desired};
use super::test_enable;
use crate::client::Client;
use crate::documents::{
    self, ErrorDocument, Event, FieldChange, Fix, MailboxSelection, RepairCounts, RepairEvent, RepairOutcome, RepairRequest, RepairResult,
    SettingsRequest, TestEnableRequest,
};
use crate::engine::{self, Item};
use crate::error::{Error, ErrorKind, Result};
use crate::journal::{self, Change as JournalChange, Column as JournalColumn, Journal};
use crate::model::diagnosis::Repair;
use crate::operation::EventSink;
use crate::webapi::batch::BatchOperation;
use crate::webapi::odata::any_id;
use chrono::TimeDelta;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// `systemuser.accessmode` Read-Write (SA/error-code-8005e276.md).
const ACCESS_MODE_READ_WRITE: i64 = 0;

/// One fix of a plan: as reported, and what it writes (merged with the other fixes of the same row).
struct Write {
    fix: Fix,
    body: Map<String, Value>,
}

impl std::ops::Deref for Write {
    type Target = Fix;
    fn deref(&self) -> &Fix {
        &self.fix
    }
}

fn write(repair: Repair, target: String, changes: Vec<FieldChange>, body: Map<String, Value>) -> Write {
    Write { fix: Fix { repair, target, changes }, body }
}

fn body(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// A mailbox's planned fixes, or why it cannot be repaired.
struct Plan {
    fixes: Vec<Write>,
    test: bool,
    blocked: Option<String>,
}

pub async fn run(client: Arc<Client>, mut request: RepairRequest, sink: EventSink) -> Result<RepairResult> {
    request.selection.active_only = false;
    let stale_after =
        TimeDelta::seconds(request.stale_after_secs.unwrap_or(health::DEFAULT_STALE_AFTER_SECS).clamp(1, i64::MAX as u64) as i64);
    let rows = health::assess_all(&client, &request.selection, stale_after).await?;
    let mut counts = RepairCounts::default();
    let needs_defaults = rows.iter().any(|r| r.repairs.contains(&Repair::ApplyDefaults));
    let defaults = if needs_defaults { Some(defaults_target(&client).await?) } else { None };
    let access_modes = access_modes(&client, &rows).await?;

    let mut plans: Vec<(&HealthRow, Plan)> = Vec::new();
    for row in &rows {
        if row.health == Health::Healthy {
            counts.healthy += 1;
            continue;
        }
        plans.push((row, plan(row, defaults.as_ref(), &access_modes, request.reset_process_email_received_after)));
    }
    // A caller who cannot write learns it before anything is reported or written.
    let writing = plans
        .iter()
        .any(|(row, plan)| row.health != Health::TestScheduled && plan.blocked.is_none() && (plan.test || !plan.fixes.is_empty()));
    if writing && !request.what_if {
        require_write_privilege(&client).await?;
    }
    // Mailboxes that cannot be repaired (or are being tested) are reported now, whatever else happens.
    for (row, plan) in &plans {
        let outcome = match (&plan.blocked, row.health) {
            (_, Health::TestScheduled) => RepairOutcome::Skipped,
            (Some(_), _) => RepairOutcome::NotRepairable,
            (None, _) if plan.fixes.is_empty() && !plan.test => RepairOutcome::NotRepairable,
            (None, _) => continue,
        };
        counts.add(outcome);
        send(&sink, row, plan, outcome, None, None).await?;
    }
    plans.retain(|(row, plan)| row.health != Health::TestScheduled && plan.blocked.is_none() && (plan.test || !plan.fixes.is_empty()));
    if request.what_if {
        for (row, plan) in &plans {
            counts.add(RepairOutcome::Planned);
            send(&sink, row, plan, RepairOutcome::Planned, None, None).await?;
        }
        return Ok(document(&request, rows.len(), counts, 0));
    }
    if plans.is_empty() {
        return Ok(document(&request, rows.len(), counts, 0));
    }

    let writes = apply(&client, &request, &plans, stale_after, &mut counts, &sink).await?;
    Ok(document(&request, rows.len(), counts, writes))
}

/// Writes the fixes of `plans` (one engine run; a row shared by several mailboxes, a profile,
/// is written once), tests the mailboxes whose writes succeeded and, with `wait`, reads their
/// health again; reports each mailbox. Returns the rows written.
async fn apply(
    client: &Arc<Client>,
    request: &RepairRequest,
    plans: &[(&HealthRow, Plan)],
    stale_after: TimeDelta,
    counts: &mut RepairCounts,
    sink: &EventSink,
) -> Result<usize> {
    let mut items: Vec<Item> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (_, plan) in plans {
        for (path, body) in bodies(plan) {
            if seen.insert(path.clone()) {
                items.push(Item {
                    key: path.clone(),
                    operation: BatchOperation { method: "PATCH", path, body: Arc::new(body), if_match: Some("*".into()) },
                });
            }
        }
    }
    let writes = items.len();
    let journal = super::journaling::open(client, request.journal_path.as_deref()).await?;
    let entries = if journal.is_some() { journal_entries(plans) } else { HashMap::new() };
    let outcomes: HashMap<String, Result<()>> = engine::run(client, items, &engine::Tuning::default(), sink, |key, result| {
        journal::record(journal.as_ref(), || entries.get(key).cloned(), result);
        None
    })
    .await?
    .into_iter()
    .collect();
    journal.as_ref().map(Journal::check).transpose()?;

    let mut failed: HashMap<String, Error> = HashMap::new();
    let mut to_test: Vec<&HealthRow> = Vec::new();
    for (row, plan) in plans {
        let error = plan.fixes.iter().find_map(|fix| outcomes.get(&fix.target).and_then(|r| r.as_ref().err()).cloned());
        match error {
            Some(error) => {
                failed.insert(row.facts.mailbox_id.clone(), error);
            }
            None => to_test.push(row),
        }
    }
    let tested: HashSet<String> = to_test.iter().map(|r| r.facts.mailbox_id.to_ascii_lowercase()).collect();
    if !to_test.is_empty() {
        let selection = MailboxSelection {
            mailbox_ids: Some(to_test.iter().map(|r| r.facts.mailbox_id.clone()).collect()),
            active_only: true,
            ..MailboxSelection::default()
        };
        let test = TestEnableRequest {
            version: 1,
            selection: selection.clone(),
            sync_with_this_org_only: false,
            wait: request.wait,
            timeout_secs: request.timeout_secs,
            poll_interval_ms: request.poll_interval_ms,
            what_if: false,
            // The journal is passed to the scheduling below (opened once for the whole repair).
            journal_path: None,
        };
        let mailboxes = to_test.iter().map(|r| r.facts.to_mailbox()).collect();
        test_enable::run_for(client, mailboxes, &test, journal.as_ref(), &sink.for_step("TestAndEnable")).await?;
    }
    let after: HashMap<String, HealthRow> = if request.wait && !to_test.is_empty() {
        let selection = MailboxSelection { mailbox_ids: Some(tested.iter().cloned().collect()), ..MailboxSelection::default() };
        health::assess_all(client, &selection, stale_after)
            .await?
            .into_iter()
            .map(|r| (r.facts.mailbox_id.to_ascii_lowercase(), r))
            .collect()
    } else {
        HashMap::new()
    };
    for (row, plan) in plans {
        let id = row.facts.mailbox_id.to_ascii_lowercase();
        let now = after.get(&id);
        let (outcome, error) = match (failed.get(&row.facts.mailbox_id), now) {
            (Some(error), _) => (RepairOutcome::Failed, Some(ErrorDocument::from(error))),
            (None, Some(now)) if now.health != Health::Healthy => {
                let error = Error::new(ErrorKind::Service, format!("After the repair the mailbox is {:?}: {}", now.health, now.reason))
                    .with_remedy(now.remedy.clone().unwrap_or_else(|| crate::model::diagnosis::UNKNOWN_REMEDY.into()));
                (RepairOutcome::Failed, Some(ErrorDocument::from(&error)))
            }
            _ => (RepairOutcome::Repaired, None),
        };
        counts.add(outcome);
        send(sink, row, plan, outcome, error, now).await?;
    }
    // Each tested mailbox was written once more (its test scheduled).
    Ok(writes + to_test.len())
}

fn document(request: &RepairRequest, mailboxes: usize, counts: RepairCounts, writes: usize) -> RepairResult {
    RepairResult { what_if: request.what_if, waited: request.wait, mailboxes, counts, writes }
}

async fn send(
    sink: &EventSink,
    row: &HealthRow,
    plan: &Plan,
    outcome: RepairOutcome,
    error: Option<ErrorDocument>,
    after: Option<&HealthRow>,
) -> Result<()> {
    let remedy = plan.blocked.as_deref().or(row.remedy.as_deref());
    let event = RepairEvent {
        mailbox_id: row.facts.mailbox_id.clone(),
        name: row.facts.name.clone(),
        outcome,
        health: row.health,
        reason: row.reason.clone(),
        remedy: remedy.map(str::to_string),
        fixes: plan.fixes.iter().map(|w| w.fix.clone()).collect(),
        error,
        before: row.clone(),
        health_after: after.cloned(),
    };
    sink.send(Event::Repair(Box::new(event))).await
}

/// The caller must be able to write mailboxes; a reader learns it before anything is written.
async fn require_write_privilege(client: &Client) -> Result<()> {
    let identity = super::identity::known(client).await?;
    if super::readiness::holds_privilege(client, &identity.user_id, "prvWriteMailbox").await? {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::PermissionDenied,
        format!(
            "The signed-in user ({}) lacks the prvWriteMailbox privilege, so no mailbox can be repaired; nothing was changed.",
            identity.user_id
        ),
    )
    .with_remedy("Repair as a user or application user with the System Administrator role (the health report needs only read access)."))
}

async fn defaults_target(client: &Client) -> Result<Desired> {
    let request = SettingsRequest { version: 1, apply_defaults: true, ..SettingsRequest::default() };
    mailbox_settings::desired(client, &request).await
}

#[derive(Deserialize)]
struct UserAccess {
    systemuserid: String,
    accessmode: Option<i64>,
}

/// The current access mode of the users whose mailboxes need [`Repair::SetAccessMode`].
async fn access_modes(client: &Client, rows: &[HealthRow]) -> Result<HashMap<String, Option<i64>>> {
    let users: Vec<uuid::Uuid> = rows
        .iter()
        .filter(|r| r.repairs.contains(&Repair::SetAccessMode))
        .filter_map(|r| r.facts.regarding_id.as_deref())
        .map(|id| super::parse_guid(id, "user id"))
        .collect::<Result<_>>()?;
    let mut modes = HashMap::new();
    for filter in any_id("systemuserid", &users) {
        let path = format!("systemusers?$select=systemuserid,accessmode&$filter={}", crate::webapi::odata::encode(&filter));
        let users: Vec<UserAccess> = client.api.get_all(&path, &[]).await?;
        modes.extend(users.into_iter().map(|u| (u.systemuserid.to_ascii_lowercase(), u.accessmode)));
    }
    Ok(modes)
}

/// The fixes for one mailbox, from its row's repairs; a fix that cannot be applied blocks the
/// whole mailbox (it is reported with its remedy and nothing of it is written).
fn plan(row: &HealthRow, defaults: Option<&Desired>, access_modes: &HashMap<String, Option<i64>>, reset_after: bool) -> Plan {
    let f = &row.facts;
    let mut plan = Plan { fixes: Vec::new(), test: false, blocked: None };
    if !row.repairable {
        return plan;
    }
    let mailbox_path = format!("mailboxes({})", f.mailbox_id);
    for repair in &row.repairs {
        let fix = match repair {
            Repair::Test => {
                plan.test = true;
                continue;
            }
            // Never a diagnosis's repair: added below, and only on request.
            Repair::ResetProcessEmailReceivedAfter => continue,
            Repair::ApplyDefaults => {
                let Some(target) = defaults else { continue };
                match mailbox_settings::plan(&f.to_mailbox(), target) {
                    Ok(mailbox_settings::Plan { changes, .. }) if changes.is_empty() => {
                        plan.blocked = Some("The organization's default email settings do not configure this mailbox for server-side synchronization: set the organization's defaults (profile and delivery methods) first.".into());
                        break;
                    }
                    Ok(mailbox_settings::Plan { changes, body }) => write(*repair, mailbox_path.clone(), changes, body),
                    Err(error) => {
                        plan.blocked = Some(error.message);
                        break;
                    }
                }
            }
            Repair::ActivateProfile => write(
                *repair,
                format!("emailserverprofiles({})", f.server_profile_id.clone().unwrap_or_default()),
                vec![FieldChange { field: "State".into(), from: json!("Inactive"), to: json!("Active") }],
                body(&[("statecode", json!(0)), ("statuscode", json!(1))]),
            ),
            Repair::Approve => match super::approval::owner_path(&f.to_mailbox()) {
                Ok(target) => write(
                    *repair,
                    target,
                    vec![FieldChange { field: "ApprovalStatus".into(), from: json!(f.approval_status), to: json!("Approved") }],
                    body(&[("emailrouteraccessapproval", json!(1))]),
                ),
                Err(error) => {
                    plan.blocked = Some(error.message);
                    break;
                }
            },
            Repair::AssignOwner => write(
                *repair,
                mailbox_path.clone(),
                vec![FieldChange { field: "Owner".into(), from: json!(f.owner_id), to: json!(f.regarding_id) }],
                body(&[("ownerid@odata.bind", json!(format!("/systemusers({})", f.regarding_id.as_deref().unwrap_or_default())))]),
            ),
            Repair::SetAccessMode => {
                let user = f.regarding_id.clone().unwrap_or_default();
                match access_modes.get(&user.to_ascii_lowercase()) {
                    Some(Some(mode)) if *mode == ACCESS_MODE_READ_WRITE => {
                        plan.blocked = Some(format!(
                            "The user's access mode is already Read-Write, so the remaining cause is the licence: {}",
                            row.remedy.as_deref().unwrap_or_default()
                        ));
                        break;
                    }
                    None => {
                        plan.blocked = Some("The mailbox's user could not be read, so its access mode cannot be set.".into());
                        break;
                    }
                    Some(mode) => write(
                        *repair,
                        format!("systemusers({user})"),
                        vec![FieldChange { field: "AccessMode".into(), from: json!(mode), to: json!("ReadWrite") }],
                        body(&[("accessmode", json!(ACCESS_MODE_READ_WRITE))]),
                    ),
                }
            }
        };
        plan.fixes.push(fix);
    }
    if plan.blocked.is_some() {
        plan.fixes.clear();
        plan.test = false;
        return plan;
    }
    if reset_after
        && plan.test
        && let Some(change) = received_after_change(row)
    {
        let written = body(&[("processemailreceivedafter", change.to.clone())]);
        plan.fixes.push(write(Repair::ResetProcessEmailReceivedAfter, mailbox_path, vec![change], written));
    }
    plan
}

fn received_after_change(row: &HealthRow) -> Option<FieldChange> {
    let f = &row.facts;
    let target = f.last_successful_sync_completed_on.clone().or(f.test_completed_on.clone())?;
    let current = f.process_email_received_after.as_deref()?;
    let later = super::alerts::parse_time(current).ok()? > super::alerts::parse_time(&target).ok()?;
    later.then(|| FieldChange { field: "ProcessEmailReceivedAfter".into(), from: json!(current), to: json!(target) })
}

/// What the journal says of each row the repair writes (by its path, as the engine's keys):
/// the columns with their values before, merged per row like the bodies.
fn journal_entries(plans: &[(&HealthRow, Plan)]) -> HashMap<String, JournalChange> {
    let mut entries: HashMap<String, JournalChange> = HashMap::new();
    for (row, plan) in plans {
        let f = &row.facts;
        for fix in &plan.fixes {
            let change = match fix.repair {
                Repair::ApplyDefaults => Some(super::journaling::mailbox_write(&f.to_mailbox(), &fix.body, "Repair")),
                Repair::ActivateProfile => {
                    let id = f.server_profile_id.clone().unwrap_or_default();
                    let column = JournalColumn::plain("statecode", json!(1), json!(0)).named(Some("Inactive"), Some("Active"));
                    Some(JournalChange::new("emailserverprofiles", &id, f.server_profile_name.as_deref(), "Repair", vec![column]))
                }
                Repair::Approve => super::approval::journal_change(&f.to_mailbox(), documents::Decision::Approve),
                Repair::AssignOwner => {
                    let column = JournalColumn {
                        column: "_ownerid_value".into(),
                        navigation: Some("ownerid".into()),
                        // The owner before was a user (a team-owned user mailbox cannot be bound back here: its undo fails and says so).
                        target_set: Some("systemusers".into()),
                        before: json!(f.owner_id),
                        after: json!(f.regarding_id),
                        before_name: None,
                        after_name: None,
                    };
                    Some(JournalChange::new("mailboxes", &f.mailbox_id, f.name.as_deref(), "Repair", vec![column]))
                }
                Repair::SetAccessMode => {
                    let user = f.regarding_id.clone().unwrap_or_default();
                    let before = fix.changes.first().map(|c| c.from.clone()).unwrap_or(Value::Null);
                    let column = JournalColumn::plain("accessmode", before, json!(ACCESS_MODE_READ_WRITE));
                    Some(JournalChange::new("systemusers", &user, f.name.as_deref(), "Repair", vec![column]))
                }
                Repair::ResetProcessEmailReceivedAfter => {
                    let before = fix.changes.first().map(|c| c.from.clone()).unwrap_or(Value::Null);
                    let after = fix.body.get("processemailreceivedafter").cloned().unwrap_or(Value::Null);
                    let column = JournalColumn::plain("processemailreceivedafter", before, after);
                    Some(JournalChange::new("mailboxes", &f.mailbox_id, f.name.as_deref(), "Repair", vec![column]))
                }
                Repair::Test => None,
            };
            let Some(change) = change else { continue };
            match entries.get_mut(&fix.target) {
                Some(existing) => existing.columns.extend(change.columns),
                None => {
                    entries.insert(fix.target.clone(), change);
                }
            }
        }
    }
    entries
}

/// The PATCH bodies of a plan, one per row written (a mailbox's fixes share one body).
fn bodies(plan: &Plan) -> Vec<(String, Value)> {
    let mut by_target: Vec<(String, Map<String, Value>)> = Vec::new();
    for fix in &plan.fixes {
        match by_target.iter_mut().find(|(t, _)| *t == fix.target) {
            Some((_, existing)) => existing.extend(fix.body.clone()),
            None => by_target.push((fix.target.clone(), fix.body.clone())),
        }
    }
    by_target.into_iter().map(|(t, b)| (t, Value::Object(b))).collect()
}
