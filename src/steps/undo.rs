//! Undo a change journal (`crate::journal`) in one environment: the written lines of this
//! client's organization, newest first, each row read again and its before values written back
//! only when it still holds what crmsync wrote. A row changed since (by a person, a flow, a later
//! run) is skipped and reported: undo never overwrites someone else's edit.
//!
//! Lines are restored one after the other (read, compare, write): the same row may appear in
//! several lines (a setup, then a disable) and only the reverse order gives back the first
//! value. That costs two requests a row; an undo is rare and correctness matters more.

use crate::client::Client;
use crate::documents::{
    Counts, ErrorDocument, Event, ProgressEvent, StepResult, UndoColumn, UndoItem, UndoLine, UndoOutcome, UndoRequest, UndoResult,
};
use crate::error::{Error, Result};
use crate::journal::{self, Line, WRITTEN};
use crate::operation::EventSink;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The columns crmsync writes, per entity set: a journal edited by hand cannot direct an undo
/// at anything else.
const WRITABLE: &[(&str, &[&str])] = &[
    (
        "mailboxes",
        &[
            "_emailserverprofile_value",
            "incomingemaildeliverymethod",
            "outgoingemaildeliverymethod",
            "actdeliverymethod",
            "orgmarkedasprimaryforexchangesync",
            "testemailconfigurationscheduled",
            "_ownerid_value",
            "processemailreceivedafter",
        ],
    ),
    ("systemusers", &["emailrouteraccessapproval", "accessmode"]),
    ("queues", &["emailrouteraccessapproval"]),
    ("organizations", &["_defaultemailserverprofileid_value", "defaultemailsettings", "emailconnectionchannel"]),
    ("emailserverprofiles", &["statecode"]),
];

pub async fn run(client: Arc<Client>, request: UndoRequest, sink: EventSink) -> Result<UndoResult> {
    let lines = journal::read(&request.journal_path)?;
    let url = client.config.org_url.as_str().to_string();
    let mut counts = Counts::default();
    let (mut skipped, mut not_undoable, mut unreadable, mut other_environment, mut not_written) = (0usize, 0usize, 0usize, 0usize, 0usize);
    let total = lines.len();
    for (index, line) in lines.iter().enumerate().rev() {
        let number = index + 1;
        let line = match line {
            Err(reason) => {
                unreadable += 1;
                let item = UndoItem { line: number, outcome: UndoOutcome::Unreadable, reason: Some(reason.clone()), written: None };
                sink.send(item.into()).await?;
                continue;
            }
            Ok(line) if !line.environment.same_url(&url) => {
                other_environment += 1;
                continue;
            }
            Ok(line) if line.outcome != WRITTEN => {
                not_written += 1;
                continue;
            }
            Ok(line) => line,
        };
        let (verdict, columns, reason, error) = if line.undoable {
            match restore(&client, line, request.what_if).await {
                Ok((verdict, columns, reason)) => (verdict, columns, reason, None),
                Err(e) if e.kind == crate::error::ErrorKind::Authentication || e.kind == crate::error::ErrorKind::Cancelled => {
                    return Err(e);
                }
                Err(e) => (UndoOutcome::Failed, Vec::new(), None, Some(e)),
            }
        } else {
            (UndoOutcome::NotUndoable, Vec::new(), None, None)
        };
        match verdict {
            UndoOutcome::Restored => counts.changed += 1,
            UndoOutcome::Planned => counts.planned += 1,
            UndoOutcome::Unchanged => counts.unchanged += 1,
            UndoOutcome::Failed => counts.failed += 1,
            UndoOutcome::Skipped => skipped += 1,
            UndoOutcome::NotUndoable => not_undoable += 1,
            UndoOutcome::Unreadable => unreadable += 1,
        }
        let written = UndoLine {
            environment: line.environment.clone(),
            table: line.table.clone(),
            key: line.row_id.clone(),
            name: line.row_name.clone(),
            step: line.step.clone(),
            written_at: line.time.clone(),
            columns,
            note: line.note.clone(),
            error: error.as_ref().map(ErrorDocument::from),
        };
        let item = UndoItem { line: number, outcome: verdict, reason, written: Some(written) };
        sink.send(item.into()).await?;
        let done = total - index;
        let message = format!("{done} of {total} journal lines");
        sink.send(Event::Progress(ProgressEvent { done, total: Some(total), message })).await?;
    }
    Ok(UndoResult {
        step: StepResult::new("Undo", request.what_if, counts),
        skipped,
        not_undoable,
        unreadable,
        other_environment,
        not_written,
        environment: url.trim_end_matches('/').to_string(),
    })
}

/// Reads the row, compares it with what the line says crmsync wrote, and writes the before
/// values back. Returns the verdict, the columns (`from`: now, `to`: before) and, when skipped,
/// why.
async fn restore(client: &Client, line: &Line, what_if: bool) -> Result<(UndoOutcome, Vec<UndoColumn>, Option<String>)> {
    let allowed = WRITABLE
        .iter()
        .find(|(table, _)| *table == line.table)
        .map(|(_, columns)| *columns)
        .ok_or_else(|| Error::invalid(format!("The journal names table '{}', which crmsync never writes.", line.table)))?;
    if line.columns.is_empty() {
        return Err(Error::invalid("The journal line has no columns."));
    }
    if let Some(c) = line.columns.iter().find(|c| !allowed.contains(&c.column.as_str())) {
        return Err(Error::invalid(format!("The journal names column '{}' of {}, which crmsync never writes.", c.column, line.table)));
    }
    let id = super::parse_guid(&line.row_id, "row id")?;
    let select: Vec<&str> = line.columns.iter().map(|c| c.column.as_str()).collect();
    let row = client.api.get(&format!("{}({id})?$select={}", line.table, select.join(",")), &[]).await?;

    let mut columns = Vec::new();
    let mut changed_since = Vec::new();
    let mut body = Map::new();
    for c in &line.columns {
        let now = row.get(&c.column).cloned().unwrap_or(Value::Null);
        if same(&now, &c.before) {
            continue;
        }
        if !same(&now, &c.after) {
            changed_since.push(format!("{} is now {now}, crmsync wrote {}", c.column, c.after));
            continue;
        }
        columns.push(UndoColumn { column: c.column.clone(), from: now, to: c.before.clone(), to_name: c.before_name.clone() });
        match (&c.navigation, &c.target_set) {
            (Some(navigation), Some(set)) => {
                let reference = match c.before.as_str() {
                    Some(before) => json!(format!("/{set}({})", super::parse_guid(before, "lookup id")?)),
                    None => Value::Null,
                };
                body.insert(format!("{navigation}@odata.bind"), reference);
            }
            _ => {
                body.insert(c.column.clone(), c.before.clone());
            }
        }
    }
    if !changed_since.is_empty() {
        return Ok((UndoOutcome::Skipped, columns, Some(format!("changed since the journal was written: {}", changed_since.join("; ")))));
    }
    if body.is_empty() {
        return Ok((UndoOutcome::Unchanged, columns, None));
    }
    if what_if {
        return Ok((UndoOutcome::Planned, columns, None));
    }
    // If-Match: * updates but never creates. No etag: mailbox rows are touched constantly by the
    // platform (sync timestamps); the comparison above just read the columns that matter.
    client.api.patch(&format!("{}({id})", line.table), &Value::Object(body), Some("*")).await?;
    Ok((UndoOutcome::Restored, columns, None))
}

/// Equal wire values; ids compare case-insensitively (the service answers in lower case, a
/// journal written elsewhere may not).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}
