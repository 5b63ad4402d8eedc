//! Operation handles: start, pull events, cancel, read the result, free.
//!
//! Every writing operation takes `"journal_path"` in its request: each row write is appended to
//! that change journal (one JSON line, flushed) as its answer arrives; `crmsync_changes_undo_start`
//! writes the before values back.

use super::client::CrmsyncClient;
use super::{Failure, Status, args, guard, guard_void};
use crate::client::Client;
use crate::operation::{EventSink, LongOperation, NextEvent};
use crate::steps;
use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

/// A running or finished long operation (opaque). Free with `crmsync_op_free`.
pub struct CrmsyncOperation {
    op: LongOperation,
}

#[cfg(test)]
impl CrmsyncOperation {
    pub(crate) fn for_test(op: LongOperation) -> CrmsyncOperation {
        CrmsyncOperation { op }
    }
}

/// Parses the request, checks the handles, and starts `work` as an operation.
pub(super) fn start<Q, R, F, Fut>(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    work: F,
) -> Result<Status, Failure>
where
    Q: serde::de::DeserializeOwned + Send + 'static,
    F: FnOnce(Arc<Client>, Q, EventSink) -> Fut + Send + 'static,
    R: serde::Serialize + Send + 'static,
    Fut: std::future::Future<Output = crate::error::Result<R>> + Send + 'static,
{
    let client = args::handle(client, "client")?.inner.clone();
    let request: Q = args::json(request, request_len, "request")?;
    args::out(op_out, "op_out")?;
    // The result document gets its version here, whatever step produced it.
    let op = LongOperation::start(move |sink| async move { work(client, request, sink).await.map(crate::documents::to_value) });
    // SAFETY: `args::out` checked `op_out`.
    unsafe { *op_out = Box::into_raw(Box::new(CrmsyncOperation { op })) };
    Ok(Status::Ok)
}

/// Lists mailboxes page by page. Query `{"version":1,"name","email_address","server_profile","page_size"}`
/// (all optional). Events: `{"type":"items","page","items":[…]}` and `{"type":"progress","done","message"}`;
/// result `{"version":1,"count","pages"}`. Each row also carries `"ownership":{"synchronized","primary","owner"}`:
/// whether this environment owns the mailbox's address, by the rule the multi-environment setup applies.
///
/// Documents: query `MailboxQuery`; events `Event::Items` (`ItemsEvent` of `ListedMailbox`: a
/// `model::mailbox::Mailbox` and its `AddressOwnership`) and `Event::Progress` (`ProgressEvent`);
/// result `ListResult`.
///
/// # Safety
/// `client` is a live handle; `query` points at `query_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_mailboxes_list_start(
    client: *const CrmsyncClient,
    query: *const u8,
    query_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, query, query_len, op_out, steps::mailboxes::list))
}

/// Configures the selected mailboxes. Request
/// `{"version":1,"selection":{…},"apply_defaults":bool,"server_profile","incoming_email","outgoing_email",
/// "appointments_contacts_tasks","sync_with_this_org_only","clear_test_schedule","what_if","journal_path"}`. One `item` event per mailbox
/// (`outcome`: Planned, Unchanged, Changed, Failed; `changes`: field, from, to), `progress` events;
/// result: counts.
///
/// Documents: request `SettingsRequest` (its selection a
/// `MailboxSelection`); events `Event::Item` (`ItemEvent`) and `Event::Progress`;
/// result `StepResult` (step MailboxSettings).
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_mailboxes_configure_start(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, request, request_len, op_out, steps::mailbox_settings::run))
}

/// Approves or rejects the selected mailboxes' email through their owning user or queue, then
/// reads them back. Request `{"version":1,"selection":{…},"decision":"Approve"|"Reject","what_if","journal_path"}`.
/// A mailbox whose read-back does not show the decision is a `Failed` item with the reason.
///
/// Documents: request `ApprovalRequest`; events `Event::Item` (`ItemEvent`, with
/// `approved_by_o365_admin`) and `Event::Progress`; result `StepResult` (step ApproveEmail or RejectEmail).
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_mailboxes_approve_start(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, request, request_len, op_out, steps::approval::run))
}

/// Test & Enable: schedules the test for the selected mailboxes, verifies it was scheduled and,
/// with `wait`, polls until each has a result. Request `{"version":1,"selection":{…},
/// "sync_with_this_org_only","wait","timeout_secs","poll_interval_ms","what_if","journal_path"}`. Item events carry
/// the incoming, outgoing, appointments/contacts/tasks and overall statuses and the alerts raised
/// since the test was scheduled (`outcome`: Scheduled, Succeeded, Failed, TimedOut).
///
/// Documents: request `TestEnableRequest`; events `Event::Item` (`ItemEvent`,
/// with `TestStatuses` once a result is read) and `Event::Progress`; result `StepResult` (step TestAndEnable).
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_mailboxes_test_enable_start(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, request, request_len, op_out, steps::test_enable::run))
}

/// The whole procedure: readiness, profile and organization
/// defaults, mailbox settings, approval, Test & Enable of the mailboxes not already working.
/// Request `{"version":1,"selection":{…},"server_profile","sync_with_this_org_only","skip_approval",
/// "wait","timeout_secs","poll_interval_ms","what_if","journal_path","ownership"}`. Events carry `"step"`: `check` events
/// (Readiness), a `changes` event (Defaults), then each step's `item` and `progress` events.
/// `"ownership":{"group","environment","environments","at_once"}` makes the setup one of a
/// multi-environment run: start one setup per environment, at once, with the same new group id;
/// after reading their selections they compare the mailboxes and each leaves out (one `refused`
/// event each, step Ownership: `key`, `name`, `email_address`, `owned_by`) the addresses another
/// one owns; `at_once` bounds how many of them read or write at a time.
/// Result `{"version":1,"what_if","mailboxes","already_working","steps":[{step counts}]}`.
///
/// Documents: request `SetupRequest`; events `Event::Check`, `Event::Changes`
/// (`ChangesEvent`), `Event::Item` and `Event::Progress`; result `SetupResult` (one `StepResult` a step).
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_setup_start(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, request, request_len, op_out, steps::setup::run))
}

/// The synchronization health of the selected mailboxes; reads only.
/// Request `{"version":1,"selection":{…},"health":["Failing",…],"stale_after_secs","baseline":[{"mailbox_id","health"}],
/// "page_size"}`. One `{"type":"health"}` event per reported mailbox (`health`, `reason`, `remedy`, `repairable`,
/// `repairs`, `diagnosis`, the health columns, `latest_error`, `latest_warning`) and `progress` events; result
/// `{"version":1,"mailboxes","reported","counts":{class: n},"unhealthy","repairable","changed":[{"mailbox_id","name","from","to"}]|null,…}`.
///
/// Documents: request `HealthRequest`; events `Event::Health` (`HealthRow`) and
/// `Event::Progress`; result `HealthSummary`.
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_mailboxes_health_start(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, request, request_len, op_out, steps::health::run))
}

/// Repairs what Dataverse lets crmsync repair in the selected mailboxes:
/// profile and delivery methods, profile activation, approval, owner, access mode, then
/// Test & Enable. Request `{"version":1,"selection":{…},"what_if","wait","timeout_secs","poll_interval_ms",
/// "stale_after_secs","reset_process_email_received_after"}`. One `{"type":"repair"}` event per unhealthy mailbox
/// (`outcome`: Planned, Repaired, Failed, NotRepairable, Skipped; `fixes`, `health`, `remedy`, `error`,
/// `health_after` with `wait`), the Test & Enable step's events (`"step":"TestAndEnable"`) and `progress`
/// events; result: counts. A caller without the write privilege gets `PERMISSION_DENIED` before any write.
///
/// Documents: request `RepairRequest`; events `Event::Repair` (`RepairEvent`, with
/// its `Fix`es and `HealthRow`s), the Test & Enable step's `Event::Item`, and `Event::Progress`;
/// result `RepairResult`.
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_mailboxes_repair_start(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, request, request_len, op_out, steps::repair::run))
}

/// Turns server-side synchronization off: the organization's default delivery methods and
/// every selected active mailbox's become None, and scheduled tests are unscheduled.
/// Request `{"version":1,"selection":{…},"what_if","journal_path"}`. Events: a `changes` event
/// (step Defaults), then `item` and `progress` events (step MailboxSettings).
/// Result `{"version":1,"what_if","mailboxes","steps":[{step counts}]}`.
///
/// Documents: request `DisableRequest`; events `Event::Changes`,
/// `Event::Item` and `Event::Progress`; result `DisableResult`.
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_sync_disable_start(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, request, request_len, op_out, steps::disable_sync::run))
}

/// Undoes a change journal in this client's environment: the lines written in this
/// organization, newest first; each row's before values are written back only when the row
/// still holds what crmsync wrote. Request `{"version":1,"journal_path","what_if"}`. One `item`
/// event per line of this environment (`outcome`: Restored, Planned, Unchanged, Skipped with a
/// `reason`, NotUndoable with a `note`, Failed, Unreadable); result: counts, with `skipped`,
/// `not_undoable`, `unreadable`, `other_environment` and `not_written`.
///
/// Documents: request `UndoRequest`; events `Event::Item` (`EventItem::JournalLine`, an
/// `UndoItem`) and `Event::Progress`; result `UndoResult`.
///
/// # Safety
/// `client` is a live handle; `request` points at `request_len` bytes; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_changes_undo_start(
    client: *const CrmsyncClient,
    request: *const u8,
    request_len: usize,
    op_out: *mut *mut CrmsyncOperation,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || start(client, request, request_len, op_out, steps::undo::run))
}

/// Waits up to `timeout_ms` for the next event. Returns `OK` with `*event_out` set,
/// `TIMED_OUT` when none came in time, or `END_OF_EVENTS` when the operation has finished
/// (then call `crmsync_op_result`). The per-mailbox `item` events of a bulk step arrive in
/// batches: `{"version":1,"type":"items","step":…,"items":[…]}` holds the consecutive items of
/// one step that were waiting (up to 50), each an `item` without `version`, `type` and
/// `step`. A listing's page is also `items`, with a `page` and mailbox rows.
///
/// Documents: the event is one of the operation's events (an `Event`, with its `version`, its
/// `type` and the `step` that sent it), or a batch of `Event::Item`s (`operation::Pulled`).
///
/// # Safety
/// `op` is a live handle; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_op_next_event(
    op: *mut CrmsyncOperation,
    timeout_ms: u32,
    event_out: *mut *mut c_char,
    error_out: *mut *mut c_char,
) -> Status {
    guard(error_out, || {
        let op = args::handle(op.cast_const(), "op")?;
        args::out(event_out, "event_out")?;
        match op.op.next_event(Duration::from_millis(timeout_ms.into())) {
            NextEvent::Event(event) => args::write_json(event_out, &event),
            NextEvent::TimedOut => Ok(Status::TimedOut),
            NextEvent::Finished => Ok(Status::EndOfEvents),
        }
    })
}

/// Asks the operation to stop; it ends within moments with the `CANCELLED` result.
///
/// # Safety
/// `op` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_op_cancel(op: *mut CrmsyncOperation) -> Status {
    guard(std::ptr::null_mut(), || {
        args::handle(op.cast_const(), "op")?.op.cancel();
        Ok(Status::Ok)
    })
}

/// The outcome: `STILL_RUNNING` until the operation ends, then `OK` with `*result_out`, or
/// the failure's status with `*error_out`.
///
/// Documents: the result is the operation's result document (named at its `*_start` function);
/// the error an `ErrorDocument` with `status_code`.
///
/// # Safety
/// `op` is a live handle; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_op_result(op: *mut CrmsyncOperation, result_out: *mut *mut c_char, error_out: *mut *mut c_char) -> Status {
    guard(error_out, || {
        let op = args::handle(op.cast_const(), "op")?;
        args::out(result_out, "result_out")?;
        match op.op.result() {
            None => Ok(Status::StillRunning),
            Some(Ok(value)) => args::write_json(result_out, &value),
            Some(Err(error)) => Err(error.into()),
        }
    })
}

/// Frees an operation, cancelling it first if it is still running.
///
/// # Safety
/// `op` is NULL or a live handle from a `*_start` function, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crmsync_op_free(op: *mut CrmsyncOperation) {
    if !op.is_null() {
        // SAFETY: by contract the handle came from `Box::into_raw` and is freed once.
        guard_void(|| drop(unsafe { Box::from_raw(op) }));
    }
}
