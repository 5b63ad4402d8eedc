//! The organization's email configuration settings (dataverse-reference §2): default server
//! profile, default delivery methods (inside the `defaultemailsettings` XML) and the
//! processing channel. Setting the default profile also activates it when inactive.

use super::email_settings_xml as xml;
use crate::client::Client;
use crate::documents::{ChangesEvent, Counts, DefaultsRequest, DefaultsResult, Event, SettingChange, StepResult};
use crate::error::{Error, Result};
use crate::journal::{self, Change as JournalChange, Column, Journal};
use crate::model::options::{APPOINTMENTS_CONTACTS_TASKS, INCOMING_EMAIL, OUTGOING_EMAIL, OptionSet};
use crate::model::profile::EmailServerProfile;
use crate::model::{FORMATTED, PREFER_ANNOTATIONS, annotation, flag, int, text};
use serde_json::{Map, Value, json};

/// emailconnectionchannel: 0 server-side synchronization, 1 Email Router.
const CHANNELS: OptionSet = OptionSet { column: "emailconnectionchannel", options: &[(0, "ServerSideSync"), (1, "EmailRouter")] };
const COLUMNS: &str = "name,_defaultemailserverprofileid_value,defaultemailsettings,emailconnectionchannel,requireapprovalforuseremail,requireapprovalforqueueemail";

pub use crate::model::organization::MailboxDefaults;

pub async fn get(client: &Client) -> Result<MailboxDefaults> {
    let org_id = super::identity::organization_id(client).await?;
    Ok(from_row(org_id, &read_row(client, org_id).await?))
}

/// The organization row with every column this product reads of it (`name` too: the whole
/// procedure reads the row once, for its identity as well as its email settings).
pub(crate) async fn read_row(client: &Client, org_id: uuid::Uuid) -> Result<Value> {
    client.api.get(&format!("organizations({org_id})?$select={COLUMNS}"), &[PREFER_ANNOTATIONS]).await
}

/// The settings in an organization row read with [`COLUMNS`] and the annotations.
pub(crate) fn from_row(org_id: uuid::Uuid, row: &Value) -> MailboxDefaults {
    let settings = text(row, "defaultemailsettings");
    let element = |name| settings.as_deref().and_then(|x| xml::read(x, name));
    MailboxDefaults {
        organization_id: org_id.to_string(),
        server_profile_id: text(row, "_defaultemailserverprofileid_value"),
        server_profile_name: annotation(row, "_defaultemailserverprofileid_value", FORMATTED),
        incoming_email: INCOMING_EMAIL.name(element(xml::INCOMING)),
        outgoing_email: OUTGOING_EMAIL.name(element(xml::OUTGOING)),
        appointments_contacts_tasks: APPOINTMENTS_CONTACTS_TASKS.name(element(xml::ACT)),
        process_email_using: CHANNELS.name(int(row, CHANNELS.column)),
        require_approval_for_user_email: flag(row, "requireapprovalforuseremail"),
        require_approval_for_queue_email: flag(row, "requireapprovalforqueueemail"),
        email_settings_xml: settings,
        etag: text(row, "@odata.etag"),
    }
}

fn option_value(set: &OptionSet, name: &str, parameter: &str) -> Result<i64> {
    set.value(name).ok_or_else(|| Error::invalid(format!("{parameter} '{name}' is not one of: {}.", set.names().join(", "))))
}

/// Reads the settings, changes only what differs, writes them in one PATCH guarded by the
/// row's etag (a concurrent edit by someone else is never silently overwritten), and reads
/// them back.
pub async fn run(client: &Client, request: &DefaultsRequest) -> Result<DefaultsResult> {
    let journal = if request.what_if { None } else { super::journaling::open(client, request.journal_path.as_deref()).await? };
    apply(client, plan(client, request).await?, journal.as_ref()).await
}

/// What [`apply`] would write: the settings read now, what differs from the request, and the
/// organization's PATCH body.
pub struct Plan<'a> {
    request: &'a DefaultsRequest,
    before: MailboxDefaults,
    /// The requested profile (activated first when inactive).
    profile: Option<EmailServerProfile>,
    changes: Vec<SettingChange>,
    body: Map<String, Value>,
}

/// Reads the settings and the requested profile (the two at once), and plans the changes;
/// writes nothing.
pub async fn plan<'a>(client: &Client, request: &'a DefaultsRequest) -> Result<Plan<'a>> {
    let (before, profile) = tokio::try_join!(get(client), async {
        match &request.server_profile {
            Some(p) => super::profiles::find(client, p).await.map(Some),
            None => Ok(None),
        }
    })?;
    plan_from(request, before, profile)
}

/// [`plan`] on what was read already: the settings, and the profile the request names
/// (`None` when it names none). The whole procedure reads both once for every step.
pub fn plan_from(request: &DefaultsRequest, before: MailboxDefaults, profile: Option<EmailServerProfile>) -> Result<Plan<'_>> {
    let mut changes = Vec::new();
    let mut body = Map::new();
    if let Some(profile) = &profile {
        if profile.state != "Active" {
            changes.push(SettingChange {
                target: "emailserverprofile".into(),
                field: "State".into(),
                from: json!(profile.state),
                to: json!("Active"),
            });
        }
        if !before.server_profile_id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(&profile.profile_id)) {
            changes.push(SettingChange {
                target: "organization".into(),
                field: "ServerProfile".into(),
                from: json!(before.server_profile_name),
                to: json!(profile.name),
            });
            body.insert("defaultemailserverprofileid@odata.bind".into(), json!(format!("/emailserverprofiles({})", profile.profile_id)));
        }
    }

    let mut settings = before.email_settings_xml.clone().unwrap_or_default();
    let delivery = [
        (&request.incoming_email, &INCOMING_EMAIL, xml::INCOMING, "IncomingEmail", &before.incoming_email),
        (&request.outgoing_email, &OUTGOING_EMAIL, xml::OUTGOING, "OutgoingEmail", &before.outgoing_email),
        (
            &request.appointments_contacts_tasks,
            &APPOINTMENTS_CONTACTS_TASKS,
            xml::ACT,
            "AppointmentsContactsTasks",
            &before.appointments_contacts_tasks,
        ),
    ];
    for (wanted, set, element, field, current) in delivery {
        let Some(wanted) = wanted else { continue };
        let value = option_value(set, wanted, field)?;
        if xml::read(&settings, element) != Some(value) {
            changes.push(SettingChange {
                target: "organization".into(),
                field: field.into(),
                from: json!(current),
                to: json!(set.name(Some(value))),
            });
            settings = xml::write(&settings, element, value)?;
        }
    }
    if before.email_settings_xml.as_deref().unwrap_or_default() != settings {
        body.insert("defaultemailsettings".into(), json!(settings));
    }
    if let Some(channel) = &request.process_email_using {
        let value = option_value(&CHANNELS, channel, "ProcessEmailUsing")?;
        if CHANNELS.value(&before.process_email_using) != Some(value) {
            changes.push(SettingChange {
                target: "organization".into(),
                field: "ProcessEmailUsing".into(),
                from: json!(before.process_email_using),
                to: json!(channel),
            });
            body.insert(CHANNELS.column.into(), json!(value));
        }
    }

    Ok(Plan { request, before, profile, changes, body })
}

/// Writes `plan` (nothing with the request's `what_if`, or when nothing differs), appending
/// each write to `journal` once its answer is known, and verifies the settings read back.
pub async fn apply(client: &Client, plan: Plan<'_>, journal: Option<&Journal>) -> Result<DefaultsResult> {
    let Plan { request, before, profile, changes, body } = plan;
    if request.what_if || changes.is_empty() {
        return Ok(DefaultsResult { what_if: request.what_if, changed: false, changes, defaults: before });
    }
    if let Some(profile) = profile.as_ref().filter(|p| p.state != "Active") {
        let id = super::parse_guid(&profile.profile_id, "emailserverprofileid")?;
        // SetState through PATCH (dataverse-reference §10.5); If-Match: * never creates a row.
        let result =
            client.api.patch(&format!("emailserverprofiles({id})"), &json!({"statecode": 0, "statuscode": 1}), Some("*")).await.map(drop);
        let column = Column::plain("statecode", json!(1), json!(0)).named(Some(profile.state.clone()), Some("Active"));
        let activated = JournalChange::new("emailserverprofiles", &id.to_string(), profile.name.as_deref(), "Defaults", vec![column]);
        journal::record(journal, || Some(activated), &result);
        result?;
    }
    // The row as written comes back in the PATCH's answer (return=representation), which
    // saves the read that verifies it. Without a write of the row (only the profile was
    // activated), what was read before is what verifies.
    let after = if body.is_empty() {
        before.clone()
    } else {
        let org_id = super::parse_guid(&before.organization_id, "OrganizationId")?;
        let path = format!("organizations({org_id})?$select={COLUMNS}");
        let etag = Some(before.etag.as_deref().unwrap_or("*"));
        let result = client.api.patch_returning(&path, &Value::Object(body.clone()), etag, &[PREFER_ANNOTATIONS]).await;
        journal::record(
            journal,
            || Some(organization_write(&before, &body, profile.as_ref().and_then(|p| p.name.clone()))),
            &result.as_ref().map(drop).map_err(Clone::clone),
        );
        match result? {
            Some(row) => from_row(org_id, &row),
            // A service that ignores the preference answers 204 without the row: read it.
            None => get(client).await?,
        }
    };
    verify(&after, request, profile.as_ref().map(|p| p.profile_id.as_str()))?;
    Ok(DefaultsResult { what_if: false, changed: true, changes, defaults: after })
}

/// Streams the changes of [`apply`]'s `outcome` as one `changes` event (step Defaults) and
/// returns the step's counts, as the procedures report them.
pub async fn report_step(outcome: DefaultsResult, what_if: bool, sink: &crate::operation::EventSink) -> Result<StepResult> {
    let n = outcome.changes.len();
    let counts = Counts {
        planned: if what_if { n } else { 0 },
        changed: if what_if { 0 } else { n },
        unchanged: usize::from(n == 0),
        ..Counts::default()
    };
    let event = Event::Changes(ChangesEvent { changes: outcome.changes });
    sink.for_step("Defaults").send(event).await?;
    Ok(StepResult::new("Defaults", what_if, counts))
}

/// The journal entry of the organization PATCH `body`, with the values read before it.
fn organization_write(before: &MailboxDefaults, body: &Map<String, Value>, profile_name: Option<String>) -> JournalChange {
    let columns = body
        .iter()
        .map(|(key, after)| match key.as_str() {
            "defaultemailserverprofileid@odata.bind" => Column {
                column: "_defaultemailserverprofileid_value".into(),
                navigation: Some("defaultemailserverprofileid".into()),
                target_set: Some("emailserverprofiles".into()),
                before: json!(before.server_profile_id),
                after: json!(after.as_str().and_then(|r| r.rsplit_once('(')).map(|(_, id)| id.trim_end_matches(')'))),
                before_name: before.server_profile_name.clone(),
                after_name: profile_name.clone(),
            },
            "defaultemailsettings" => Column::plain(key, json!(before.email_settings_xml), after.clone()),
            _ => Column::plain(key, json!(CHANNELS.value(&before.process_email_using)), after.clone())
                .named(Some(before.process_email_using.to_string()), Some(CHANNELS.name(after.as_i64()))),
        })
        .collect();
    JournalChange::new("organizations", &before.organization_id, None, "Defaults", columns)
}

/// The read-back must show what was asked; otherwise the step failed, whatever the PATCH said.
fn verify(after: &MailboxDefaults, request: &DefaultsRequest, profile_id: Option<&str>) -> Result<()> {
    let mismatch = |what: &str| {
        Err(Error::new(
            crate::error::ErrorKind::Service,
            format!("The organization was updated but reading it back shows a different {what}; another process may have changed it."),
        ))
    };
    if profile_id.is_some_and(|id| !after.server_profile_id.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(id))) {
        return mismatch("default server profile");
    }
    for (wanted, actual) in [
        (&request.incoming_email, &after.incoming_email),
        (&request.outgoing_email, &after.outgoing_email),
        (&request.appointments_contacts_tasks, &after.appointments_contacts_tasks),
        (&request.process_email_using, &after.process_email_using),
    ] {
        if wanted.as_ref().is_some_and(|w| !w.eq_ignore_ascii_case(actual)) {
            return mismatch("delivery method");
        }
    }
    Ok(())
}
