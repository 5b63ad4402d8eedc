//! Turn server-side synchronization off, for sandboxes and copies of production: the
//! organization's default delivery methods and every selected mailbox's become None, and a
//! scheduled Test & Enable is unscheduled. Microsoft recommends exactly this for non-production
//! environments and after an "Everything" copy (day-two-reference §5): one Exchange mailbox
//! synchronizes with one environment, so a copy left on server-side sync takes the mailbox away
//! from production the next time it is tested.

use super::mailbox_settings::{self, Desired};
use super::org_defaults;
use crate::client::Client;
use crate::documents::{DefaultsRequest, DisableRequest, DisableResult, MailboxSelection};
use crate::error::Result;
use crate::model::options::{APPOINTMENTS_CONTACTS_TASKS, INCOMING_EMAIL, OUTGOING_EMAIL};
use crate::operation::EventSink;
use std::sync::Arc;

const NONE: &str = "None";

/// The organization first (new mailboxes get None from then on), then the mailboxes in bulk.
/// Events: a `changes` event (step Defaults), then the mailboxes' `item` and `progress` events
/// (step MailboxSettings). Result: a `DisableResult`.
pub async fn run(client: Arc<Client>, request: DisableRequest, sink: EventSink) -> Result<DisableResult> {
    let journal = if request.what_if { None } else { super::journaling::open(&client, request.journal_path.as_deref()).await? };
    let journal = journal.as_ref();
    let defaults = DefaultsRequest {
        version: 1,
        incoming_email: Some(NONE.into()),
        outgoing_email: Some(NONE.into()),
        appointments_contacts_tasks: Some(NONE.into()),
        what_if: request.what_if,
        ..Default::default()
    };
    let outcome = org_defaults::apply(&client, org_defaults::plan(&client, &defaults).await?, journal).await?;
    let defaults_step = org_defaults::report_step(outcome, request.what_if, &sink).await?;

    let selection = MailboxSelection { active_only: true, ..request.selection };
    let mailboxes = selection.collect(&client).await?;
    let target = Desired {
        incoming: INCOMING_EMAIL.value(NONE),
        outgoing: OUTGOING_EMAIL.value(NONE),
        act: APPOINTMENTS_CONTACTS_TASKS.value(NONE),
        clear_test_schedule: true,
        ..Desired::default()
    };
    let settings_step =
        mailbox_settings::apply(&client, &mailboxes, &target, request.what_if, journal, &sink.for_step("MailboxSettings")).await?;
    Ok(DisableResult { what_if: request.what_if, mailboxes: mailboxes.len(), steps: vec![defaults_step, settings_step] })
}
