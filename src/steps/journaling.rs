//! What the writing steps put in the change journal (`crate::journal`): the environment of a
//! run, and the columns of a mailbox write with their values before it.

use crate::client::Client;
use crate::documents::{Identity, JournalEnvironment};
use crate::error::Result;
use crate::journal::{Change, Column, Journal};
use crate::model::mailbox::Mailbox;
use crate::model::options::{APPOINTMENTS_CONTACTS_TASKS, INCOMING_EMAIL, OUTGOING_EMAIL, OptionSet};
use serde_json::{Map, Value, json};

/// The journal of a request's `journal_path` (none without one), opened before any write.
pub async fn open(client: &Client, path: Option<&str>) -> Result<Option<Journal>> {
    let Some(path) = path else { return Ok(None) };
    open_for(&super::identity::known(client).await?, Some(path))
}

/// [`open`] for an identity read already (the whole procedure reads it once).
pub fn open_for(identity: &Identity, path: Option<&str>) -> Result<Option<Journal>> {
    let Some(path) = path else { return Ok(None) };
    Journal::open(path, JournalEnvironment { name: identity.organization_name.clone(), url: identity.url.clone() }).map(Some)
}

/// The journal entry of a PATCH `body` of `mailbox` (as planned from the row read before).
pub fn mailbox_write(mailbox: &Mailbox, body: &Map<String, Value>, step: &'static str) -> Change {
    let mut columns = Vec::new();
    for (key, after) in body {
        let column = match key.as_str() {
            "emailserverprofile@odata.bind" => Column {
                column: "_emailserverprofile_value".into(),
                navigation: Some("emailserverprofile".into()),
                target_set: Some("emailserverprofiles".into()),
                before: json!(mailbox.server_profile_id),
                after: json!(bound_id(after)),
                before_name: mailbox.server_profile_name.clone(),
                after_name: None,
            },
            "incomingemaildeliverymethod" => option(&INCOMING_EMAIL, &mailbox.incoming_email, after),
            "outgoingemaildeliverymethod" => option(&OUTGOING_EMAIL, &mailbox.outgoing_email, after),
            "actdeliverymethod" => option(&APPOINTMENTS_CONTACTS_TASKS, &mailbox.appointments_contacts_tasks, after),
            "orgmarkedasprimaryforexchangesync" => Column::plain(key, json!(mailbox.sync_with_this_org_only), after.clone()),
            "testemailconfigurationscheduled" => Column::plain(key, json!(mailbox.test_scheduled), after.clone()),
            // Not read with the mailbox: the value before is unknown.
            _ => Column::plain(key, Value::Null, after.clone()),
        };
        columns.push(column);
    }
    Change::new("mailboxes", &mailbox.mailbox_id, mailbox.name.as_deref(), step, columns)
}

fn option(set: &OptionSet, current: &str, after: &Value) -> Column {
    let before = set.value(current);
    Column::plain(set.column, json!(before), after.clone()).named(Some(current), Some(set.name(after.as_i64())))
}

/// `/emailserverprofiles(<id>)` → `<id>`.
fn bound_id(reference: &Value) -> Option<String> {
    let text = reference.as_str()?;
    let open = text.rfind('(')?;
    text[open + 1..].strip_suffix(')').map(str::to_string)
}
