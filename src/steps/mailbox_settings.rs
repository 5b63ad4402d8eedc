//! Configure mailboxes: "Apply Default Email Settings" (the organization's default profile and
//! delivery methods) or an explicit profile and delivery methods, plus the "Sync items with
//! Exchange from this org only" option. Writes only the columns that differ.

use super::report;
use crate::client::Client;
use crate::documents::{Counts, FieldChange, ItemOutcome, SettingsRequest, StepResult};
use crate::engine::{self, Item};
use crate::error::{Error, Result};
use crate::journal::{self, Journal};
use crate::model::mailbox::Mailbox;
use crate::model::options::{APPOINTMENTS_CONTACTS_TASKS, INCOMING_EMAIL, OUTGOING_EMAIL, OptionSet};
use crate::model::organization::MailboxDefaults;
use crate::model::profile::EmailServerProfile;
use crate::operation::EventSink;
use crate::webapi::batch::BatchOperation;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The target state, as wire values.
#[derive(Debug, Default)]
pub struct Desired {
    pub profile: Option<(String, Option<String>)>,
    pub incoming: Option<i64>,
    pub outgoing: Option<i64>,
    pub act: Option<i64>,
    pub sync_only: Option<bool>,
    /// A scheduled test is unscheduled (`testemailconfigurationscheduled` false).
    pub clear_test_schedule: bool,
}

/// The target state a request asks for (profile resolved, option names checked): reads the
/// organization's defaults or the named profile, whichever the request needs.
pub async fn desired(client: &Client, request: &SettingsRequest) -> Result<Desired> {
    check_choice(request)?;
    let defaults = if request.apply_defaults { Some(super::org_defaults::get(client).await?) } else { None };
    let profile = match &request.server_profile {
        Some(p) => Some(super::profiles::find(client, p).await?),
        None => None,
    };
    target(request, defaults.as_ref(), profile.as_ref())
}

/// [`desired`] on what was read already: the organization's `defaults` when the request
/// applies them, the `profile` it names. The whole procedure reads both once for every step.
pub fn target(request: &SettingsRequest, defaults: Option<&MailboxDefaults>, profile: Option<&EmailServerProfile>) -> Result<Desired> {
    check_choice(request)?;
    let mut target =
        Desired { sync_only: request.sync_with_this_org_only, clear_test_schedule: request.clear_test_schedule, ..Desired::default() };
    if request.apply_defaults {
        let defaults = defaults.ok_or_else(|| Error::internal("the organization's defaults were not read"))?;
        let profile = defaults.server_profile_id.clone().ok_or_else(|| {
            Error::invalid("The organization has no default email server profile, so there are no defaults to apply.")
                .with_remedy("Set the organization's default email server profile ('Microsoft Exchange Online') first.")
                .with_hint("set_default_profile")
        })?;
        target.profile = Some((profile, defaults.server_profile_name.clone()));
        target.incoming = INCOMING_EMAIL.value(&defaults.incoming_email);
        target.outgoing = OUTGOING_EMAIL.value(&defaults.outgoing_email);
        target.act = APPOINTMENTS_CONTACTS_TASKS.value(&defaults.appointments_contacts_tasks);
        return Ok(target);
    }
    if request.server_profile.is_some() {
        let profile = profile.ok_or_else(|| Error::internal("the requested profile was not read"))?;
        target.profile = Some((profile.profile_id.clone(), profile.name.clone()));
    }
    target.incoming = parse_option(&INCOMING_EMAIL, request.incoming_email.as_deref(), "IncomingEmail")?;
    target.outgoing = parse_option(&OUTGOING_EMAIL, request.outgoing_email.as_deref(), "OutgoingEmail")?;
    target.act = parse_option(&APPOINTMENTS_CONTACTS_TASKS, request.appointments_contacts_tasks.as_deref(), "AppointmentsContactsTasks")?;
    if target.profile.is_none()
        && target.incoming.is_none()
        && target.outgoing.is_none()
        && target.act.is_none()
        && target.sync_only.is_none()
        && !target.clear_test_schedule
    {
        return Err(Error::invalid(
            "Nothing to set: give apply_defaults, or server_profile and/or delivery methods, or sync_with_this_org_only.",
        ));
    }
    Ok(target)
}

/// The defaults or explicit settings, not both (checked before anything is read).
fn check_choice(request: &SettingsRequest) -> Result<()> {
    let explicit = request.server_profile.is_some()
        || request.incoming_email.is_some()
        || request.outgoing_email.is_some()
        || request.appointments_contacts_tasks.is_some();
    if request.apply_defaults && explicit {
        return Err(Error::invalid("Use either apply_defaults or an explicit server_profile and delivery methods, not both."));
    }
    Ok(())
}

fn parse_option(set: &OptionSet, name: Option<&str>, parameter: &str) -> Result<Option<i64>> {
    name.map(|n| set.value(n).ok_or_else(|| Error::invalid(format!("{parameter} '{n}' is not one of: {}.", set.names().join(", ")))))
        .transpose()
}

/// One mailbox's plan: the columns that differ from the target, and the PATCH body that fixes them.
#[derive(Debug)]
pub struct Plan {
    pub changes: Vec<FieldChange>,
    pub body: Map<String, Value>,
}

/// Plans one mailbox against the target; reads and writes nothing.
pub fn plan(mailbox: &Mailbox, target: &Desired) -> Result<Plan> {
    let is_queue = mailbox.owner_type.as_deref() == Some("queue");
    let mut changes = Vec::new();
    let mut body = Map::new();
    if let Some((id, name)) = &target.profile
        && !mailbox.server_profile_id.as_deref().is_some_and(|current| current.eq_ignore_ascii_case(id))
    {
        changes.push(FieldChange { field: "ServerProfile".into(), from: json!(mailbox.server_profile_name), to: json!(name) });
        body.insert("emailserverprofile@odata.bind".into(), json!(format!("/emailserverprofiles({id})")));
    }
    let delivery = [
        (target.incoming, &INCOMING_EMAIL, "IncomingEmail", &mailbox.incoming_email),
        (target.outgoing, &OUTGOING_EMAIL, "OutgoingEmail", &mailbox.outgoing_email),
        (target.act, &APPOINTMENTS_CONTACTS_TASKS, "AppointmentsContactsTasks", &mailbox.appointments_contacts_tasks),
    ];
    for (wanted, set, field, current) in delivery {
        let Some(wanted) = wanted else { continue };
        if is_queue && set.name(Some(wanted)) == "Outlook" {
            return Err(Error::invalid(format!(
                "{field} cannot be Outlook for a queue's mailbox: queues have no Dynamics 365 for Outlook option."
            ))
            .with_remedy("Use ServerSideSync or None for queues."));
        }
        if set.value(current) != Some(wanted) {
            changes.push(FieldChange { field: field.into(), from: json!(current), to: json!(set.name(Some(wanted))) });
            body.insert(set.column.into(), json!(wanted));
        }
    }
    if let Some(sync_only) = target.sync_only
        && mailbox.sync_with_this_org_only != sync_only
    {
        changes.push(FieldChange {
            field: "SyncWithThisOrgOnly".into(),
            from: json!(mailbox.sync_with_this_org_only),
            to: json!(sync_only),
        });
        body.insert("orgmarkedasprimaryforexchangesync".into(), json!(sync_only));
    }
    if target.clear_test_schedule && mailbox.test_scheduled {
        changes.push(FieldChange { field: "TestEmailConfigurationScheduled".into(), from: json!(true), to: json!(false) });
        body.insert("testemailconfigurationscheduled".into(), json!(false));
    }
    Ok(Plan { changes, body })
}

/// Plans every selected mailbox, then (unless `what_if`) writes the differences in batches.
pub async fn run(client: Arc<Client>, mut request: SettingsRequest, sink: EventSink) -> Result<StepResult> {
    request.selection.active_only = true;
    let target = desired(&client, &request).await?;
    let mailboxes = request.selection.collect(&client).await?;
    let journal = if request.what_if { None } else { super::journaling::open(&client, request.journal_path.as_deref()).await? };
    apply(&client, &mailboxes, &target, request.what_if, journal.as_ref(), &sink).await
}

/// [`run`] on mailboxes already read (the whole procedure reads them once for every step).
/// Each write's outcome is appended to `journal` as it arrives.
pub async fn apply(
    client: &Arc<Client>,
    mailboxes: &[Mailbox],
    target: &Desired,
    what_if: bool,
    journal: Option<&Journal>,
    sink: &EventSink,
) -> Result<StepResult> {
    let mut counts = Counts::default();
    let mut items = Vec::new();
    // Only the row is kept per pending write: its changes are planned again when reported
    // (deterministic and cheap), which keeps 50,000 pending writes small.
    let mut pending: HashMap<&str, &Mailbox> = HashMap::new();
    // Mailboxes that need the same change share one body.
    let mut bodies: HashMap<String, Arc<Value>> = HashMap::new();
    for mailbox in mailboxes {
        match plan(mailbox, target) {
            Err(error) => {
                counts.add(ItemOutcome::Failed);
                sink.send(report::item(mailbox, ItemOutcome::Failed, &[], Some(&error))).await?;
            }
            Ok(Plan { changes, .. }) if changes.is_empty() => {
                counts.add(ItemOutcome::Unchanged);
                sink.send(report::item(mailbox, ItemOutcome::Unchanged, &[], None)).await?;
            }
            Ok(Plan { changes, .. }) if what_if => {
                counts.add(ItemOutcome::Planned);
                sink.send(report::item(mailbox, ItemOutcome::Planned, &changes, None)).await?;
            }
            Ok(Plan { body, .. }) => {
                let path = format!("mailboxes({})", mailbox.mailbox_id);
                // If-Match: * updates but never creates. No etag: the platform touches
                // mailbox rows constantly (sync timestamps), so an etag would fail for nothing.
                items.push(Item {
                    key: mailbox.mailbox_id.clone(),
                    operation: BatchOperation { method: "PATCH", path, body: shared(&mut bodies, body), if_match: Some("*".into()) },
                });
                pending.insert(&mailbox.mailbox_id, mailbox);
            }
        }
    }
    let outcomes = engine::run(client, items, &engine::Tuning::default(), sink, |key, result| {
        let mailbox = pending.get(key)?;
        let Plan { changes, body } = plan(mailbox, target).ok()?;
        journal::record(journal, || Some(super::journaling::mailbox_write(mailbox, &body, "MailboxSettings")), result);
        Some(match result {
            Ok(()) => report::item(mailbox, ItemOutcome::Changed, &changes, None),
            Err(error) => report::item(mailbox, ItemOutcome::Failed, &changes, Some(error)),
        })
    })
    .await?;
    for (_, result) in &outcomes {
        counts.add(if result.is_ok() { ItemOutcome::Changed } else { ItemOutcome::Failed });
    }
    journal.map(Journal::check).transpose()?;
    Ok(StepResult::new("MailboxSettings", what_if, counts))
}

fn shared(bodies: &mut HashMap<String, Arc<Value>>, body: Map<String, Value>) -> Arc<Value> {
    let body = Value::Object(body);
    bodies.entry(body.to_string()).or_insert_with(|| Arc::new(body)).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(owner_type: &str, incoming: i64, profile: Option<&str>) -> Mailbox {
        let row = json!({
            "mailboxid": "m1", "name": "Test", "_regardingobjectid_value": "o1",
            "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": owner_type,
            "_emailserverprofile_value": profile, "incomingemaildeliverymethod": incoming,
            "outgoingemaildeliverymethod": 2, "actdeliverymethod": 1, "orgmarkedasprimaryforexchangesync": false, "statecode": 0
        });
        Mailbox::from_row(&row).unwrap()
    }

    fn target() -> Desired {
        Desired {
            profile: Some(("p1".into(), Some("Microsoft Exchange Online".into()))),
            incoming: Some(2),
            outgoing: Some(2),
            act: Some(1),
            sync_only: None,
            clear_test_schedule: false,
        }
    }

    #[test]
    fn only_the_columns_that_differ_are_planned_and_written() {
        let Plan { changes, body } = plan(&mailbox("systemuser", 0, Some("P1")), &target()).unwrap();
        assert_eq!(changes.len(), 1, "profile ids compare case-insensitively; only incoming differs");
        assert_eq!(changes[0].field, "IncomingEmail");
        assert_eq!((changes[0].from.as_str(), changes[0].to.as_str()), (Some("None"), Some("ServerSideSync")));
        assert_eq!(body.len(), 1);
        assert_eq!(body["incomingemaildeliverymethod"], 2);
        let Plan { changes, body } = plan(&mailbox("systemuser", 2, None), &target()).unwrap();
        assert_eq!(changes[0].field, "ServerProfile");
        assert_eq!(body["emailserverprofile@odata.bind"], "/emailserverprofiles(p1)");
        let Plan { changes, body } = plan(&mailbox("systemuser", 2, Some("p1")), &target()).unwrap();
        assert!(changes.is_empty() && body.is_empty(), "a configured mailbox is left alone");
    }

    #[test]
    fn queues_refuse_outlook_and_sync_only_is_planned_when_asked() {
        let outlook = Desired { incoming: Some(1), ..Desired::default() };
        let error = plan(&mailbox("queue", 0, None), &outlook).unwrap_err();
        assert!(error.message.contains("queue"));
        assert!(plan(&mailbox("systemuser", 0, None), &outlook).is_ok());
        let sync = Desired { sync_only: Some(true), ..Desired::default() };
        let Plan { changes, body } = plan(&mailbox("queue", 0, None), &sync).unwrap();
        assert_eq!(changes[0].field, "SyncWithThisOrgOnly");
        assert_eq!(body["orgmarkedasprimaryforexchangesync"], true);
    }
}
