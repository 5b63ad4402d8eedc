//! Approve (or reject) email addresses: through the owning user or queue, as Microsoft
//! documents (dataverse-reference §5.2), then read the mailboxes back. A mailbox that did not
//! become approved is reported as failed with the reason, never as success.

use super::mailboxes::Run;
use super::report;
use crate::client::Client;
use crate::documents::{ApprovalRequest, Counts, Decision, FieldChange, ItemEvent, ItemOutcome, MailboxSelection, StepResult};
use crate::engine::{self, Item};
use crate::error::{Error, ErrorKind, Result};
use crate::journal::{self, Change as JournalChange, Column as JournalColumn, Journal};
use crate::model::mailbox::Mailbox;
use crate::model::options::APPROVAL;
use crate::operation::EventSink;
use crate::webapi::batch::BatchOperation;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

impl Decision {
    fn value(self) -> i64 {
        match self {
            Decision::Approve => 1,
            Decision::Reject => 3,
        }
    }

    /// The step's name in reports and the change journal.
    fn step(self) -> &'static str {
        match self {
            Decision::Approve => "ApproveEmail",
            Decision::Reject => "RejectEmail",
        }
    }

    fn status(self) -> &'static str {
        match self {
            Decision::Approve => "Approved",
            Decision::Reject => "Rejected",
        }
    }
}

/// What the read-back after the writes needs: the approval columns (the rest of each row is
/// the one read before; 5,000 rows of these are about a fifth of the bytes of full rows).
const READ_BACK_COLUMNS: &[&str] = &["mailboxid", "emailrouteraccessapproval", "isemailaddressapprovedbyo365admin"];

/// `systemusers(<id>)` or `queues(<id>)`: where approval is written for this mailbox.
pub(crate) fn owner_path(mailbox: &Mailbox) -> Result<String> {
    let id = mailbox
        .regarding_id
        .as_deref()
        .ok_or_else(|| Error::invalid("The mailbox has no owning user or queue, so its email cannot be approved."))?;
    let id = super::parse_guid(id, "owner id")?;
    match mailbox.owner_type.as_deref() {
        Some("systemuser") => Ok(format!("systemusers({id})")),
        Some("queue") => Ok(format!("queues({id})")),
        other => Err(Error::invalid(format!("The mailbox's owner is a '{}', which has no email approval.", other.unwrap_or("unknown")))),
    }
}

pub async fn run(client: Arc<Client>, mut request: ApprovalRequest, sink: EventSink) -> Result<StepResult> {
    request.selection.active_only = true;
    let mailboxes = request.selection.collect(&client).await?;
    let journal = if request.what_if { None } else { super::journaling::open(&client, request.journal_path.as_deref()).await? };
    apply(&client, &mailboxes, &request.selection, request.decision, request.what_if, journal.as_ref(), &sink).await
}

/// [`run`] on mailboxes already read from `selection` (read again, to verify, after the writes).
pub async fn apply(
    client: &Arc<Client>,
    mailboxes: &[Mailbox],
    selection: &MailboxSelection,
    decision: Decision,
    what_if: bool,
    journal: Option<&Journal>,
    sink: &EventSink,
) -> Result<StepResult> {
    let mut counts = Counts::default();
    let mut items = Vec::new();
    let mut pending: HashMap<&str, &Mailbox> = HashMap::new();
    let body = Arc::new(json!({"emailrouteraccessapproval": decision.value()}));
    for mailbox in mailboxes {
        if mailbox.approval_status == decision.status() {
            counts.add(ItemOutcome::Unchanged);
            sink.send(report::item(mailbox, ItemOutcome::Unchanged, &[], None)).await?;
            continue;
        }
        let change = [FieldChange { field: "ApprovalStatus".into(), from: json!(mailbox.approval_status), to: json!(decision.status()) }];
        match owner_path(mailbox) {
            Err(error) => {
                counts.add(ItemOutcome::Failed);
                sink.send(report::item(mailbox, ItemOutcome::Failed, &change, Some(&error))).await?;
            }
            Ok(_) if what_if => {
                counts.add(ItemOutcome::Planned);
                sink.send(report::item(mailbox, ItemOutcome::Planned, &change, None)).await?;
            }
            Ok(path) => {
                items.push(Item {
                    key: mailbox.mailbox_id.clone(),
                    operation: BatchOperation { method: "PATCH", path, body: body.clone(), if_match: Some("*".into()) },
                });
                pending.insert(&mailbox.mailbox_id, mailbox);
            }
        }
    }
    // Outcomes are reported only after the read-back below; the journal takes each write's
    // answer as it arrives.
    let outcomes = engine::run(client, items, &engine::Tuning::default(), sink, |key, result| {
        journal::record(journal, || pending.get(key).and_then(|m| journal_change(m, decision)), result);
        None
    })
    .await?;
    journal.map(Journal::check).transpose()?;
    let written: Vec<String> = outcomes.iter().filter(|(_, r)| r.is_ok()).map(|(k, _)| k.clone()).collect();
    // The mailboxes were read in the selection's order: those written are found from the first.
    let run = mailboxes.first().and_then(|m| m.name.as_deref()).map(|first_name| Run { first_name, rows: mailboxes.len() });
    let after: HashMap<String, Mailbox> = selection
        .read_back_selecting(client, &written, READ_BACK_COLUMNS, run)
        .await?
        .into_iter()
        .map(|m| (m.mailbox_id.clone(), m))
        .collect();
    for (key, result) in outcomes {
        let Some(before) = pending.get(key.as_str()).copied() else { continue };
        let change = [FieldChange { field: "ApprovalStatus".into(), from: json!(before.approval_status), to: json!(decision.status()) }];
        let read = after.get(&key);
        let verdict = result.and_then(|()| verify(read, decision));
        let (outcome, error) = match &verdict {
            Ok(()) => (ItemOutcome::Changed, None),
            Err(e) => (ItemOutcome::Failed, Some(e)),
        };
        counts.add(outcome);
        // The row as it was read for the plan, with the approval columns as read back.
        let shown = match read {
            Some(read) => &Mailbox {
                approval_status: read.approval_status.clone(),
                approved_by_o365_admin: read.approved_by_o365_admin,
                etag: read.etag.clone(),
                ..before.clone()
            },
            None => before,
        };
        let event =
            ItemEvent { approved_by_o365_admin: Some(shown.approved_by_o365_admin), ..ItemEvent::new(shown, outcome, &change, error) };
        sink.send(report::event(event)).await?;
    }
    Ok(StepResult::new(decision.step(), what_if, counts))
}

/// The owner row's approval column, before and after.
pub(crate) fn journal_change(mailbox: &Mailbox, decision: Decision) -> Option<JournalChange> {
    let path = owner_path(mailbox).ok()?;
    let (table, id) = path.trim_end_matches(')').split_once('(')?;
    let table = if table == "queues" { "queues" } else { "systemusers" };
    let column = JournalColumn::plain(APPROVAL.column, json!(APPROVAL.value(&mailbox.approval_status)), json!(decision.value()))
        .named(Some(mailbox.approval_status.to_string()), Some(decision.status()));
    Some(
        JournalChange::new(table, id, mailbox.name.as_deref(), decision.step(), vec![column]).with_side_effects(
            "the approval also set isemailaddressapprovedbyo365admin and the approved-by/on audit columns: writing the status back does not restore them",
        ),
    )
}

fn verify(after: Option<&Mailbox>, decision: Decision) -> Result<()> {
    let Some(mailbox) = after else {
        return Err(Error::new(ErrorKind::Service, "The mailbox could not be read back after the approval was written."));
    };
    if mailbox.approval_status != decision.status() {
        return Err(Error::new(
            ErrorKind::Service,
            format!(
                "The service accepted the change but the mailbox's email status is still {}, not {}.",
                mailbox.approval_status,
                decision.status()
            ),
        )
        .with_remedy("Check the organization's approval settings and the owner's primary email address, then run the command again."));
    }
    Ok(())
}
