//! The change journal: one JSON line per row write crmsync made, appended and flushed as each
//! write's outcome becomes known, so that a run that is killed leaves a file whose every line
//! describes a write the service really answered. the undo step reads it back
//! (`steps::undo`).
//!
//! A line holds only wire values, names and the row's display name: never a credential, a
//! token or a request header (the journal is written from the planned columns, not from the
//! HTTP traffic).

use crate::documents::JournalEnvironment;
use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Mutex;

/// Bumped when a line changes incompatibly; the reader refuses other versions.
pub const JOURNAL_VERSION: u32 = 1;

/// One column of a written row: the value before the write and the value written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Column {
    /// The column as it is read (`incomingemaildeliverymethod`, `_emailserverprofile_value`).
    pub column: String,
    /// For a lookup: the navigation property written with `@odata.bind`, and its entity set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub navigation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_set: Option<String>,
    pub before: Value,
    pub after: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_name: Option<String>,
}

impl Column {
    pub fn plain(column: &str, before: Value, after: Value) -> Column {
        Column { column: column.into(), navigation: None, target_set: None, before, after, before_name: None, after_name: None }
    }

    pub fn named(mut self, before: Option<impl Into<String>>, after: Option<impl Into<String>>) -> Column {
        self.before_name = before.map(Into::into);
        self.after_name = after.map(Into::into);
        self
    }
}

/// What a step is about to write to one row (the journal adds time, environment and outcome).
#[derive(Debug, Clone)]
pub struct Change {
    /// The entity set (`mailboxes`, `systemusers`, `organizations`).
    pub table: &'static str,
    pub row_id: String,
    pub row_name: Option<String>,
    pub step: &'static str,
    pub columns: Vec<Column>,
    /// `None`: writing the before values back undoes the change. Otherwise what cannot be
    /// undone (`undoable` says whether the columns may still be written back).
    pub note: Option<&'static str>,
    pub undoable: bool,
}

impl Change {
    pub fn new(table: &'static str, row_id: &str, row_name: Option<&str>, step: &'static str, columns: Vec<Column>) -> Change {
        Change { table, row_id: row_id.into(), row_name: row_name.map(Into::into), step, columns, note: None, undoable: true }
    }

    /// Writing the columns back is possible but leaves `note` behind.
    pub fn with_side_effects(mut self, note: &'static str) -> Change {
        self.note = Some(note);
        self
    }

    /// Not undoable at all, for the reason `note`.
    pub fn irreversible(mut self, note: &'static str) -> Change {
        self.note = Some(note);
        self.undoable = false;
        self
    }
}

/// One line of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub version: u32,
    /// UTC, RFC 3339, when the write's answer arrived.
    pub time: String,
    pub environment: JournalEnvironment,
    pub table: String,
    pub row_id: String,
    pub row_name: Option<String>,
    pub step: String,
    pub columns: Vec<Column>,
    /// `Written`, or `Failed` (the service refused it: nothing to undo).
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub undoable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub const WRITTEN: &str = "Written";
pub const FAILED: &str = "Failed";

/// An open journal for one run in one environment. Shared by the concurrent writers of a step.
pub struct Journal {
    environment: JournalEnvironment,
    file: Mutex<File>,
    /// The first failure to append: the run goes on (its writes are already made), and the
    /// step reports it at the end ([`Journal::check`]).
    failure: Mutex<Option<Error>>,
}

impl Journal {
    /// Opens (creating, never truncating) the journal at `path` before anything is written, so a
    /// path that cannot be written fails the command up front.
    pub fn open(path: &str, environment: JournalEnvironment) -> Result<Journal> {
        if path.trim().is_empty() {
            return Err(Error::invalid("journal_path is empty: give the path of the journal file to append to."));
        }
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(|e| {
            Error::invalid(format!("The change journal '{path}' cannot be opened for appending: {e}."))
                .with_remedy("Give a path in an existing folder you may write to.")
        })?;
        Ok(Journal { environment, file: Mutex::new(file), failure: Mutex::new(None) })
    }

    pub fn environment(&self) -> &JournalEnvironment {
        &self.environment
    }

    /// Appends the line of one write whose answer is `result`, and flushes it to the system
    /// before returning (one `write` per line: lines of concurrent writers never interleave).
    pub fn record(&self, change: &Change, result: &Result<()>) {
        let line = Line {
            version: JOURNAL_VERSION,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            environment: self.environment.clone(),
            table: change.table.into(),
            row_id: change.row_id.clone(),
            row_name: change.row_name.clone(),
            step: change.step.into(),
            columns: change.columns.clone(),
            outcome: if result.is_ok() { WRITTEN } else { FAILED }.into(),
            error: result.as_ref().err().map(|e| e.message.clone()),
            undoable: change.undoable,
            note: change.note.map(Into::into),
        };
        let mut text = serde_json::to_string(&line).unwrap_or_default();
        text.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(text.as_bytes()).and_then(|()| file.flush()) {
            let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
            failure.get_or_insert_with(|| {
                Error::new(
                    ErrorKind::Internal,
                    format!("Appending to the change journal failed ({e}); later writes may be missing from it."),
                )
            });
        }
    }

    /// The first append failure, if any.
    pub fn check(&self) -> Result<()> {
        match self.failure.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Records `change` when there is a journal.
pub fn record(journal: Option<&Journal>, change: impl FnOnce() -> Option<Change>, result: &Result<()>) {
    if let Some(journal) = journal
        && let Some(change) = change()
    {
        journal.record(&change, result);
    }
}

/// A line of a journal file as read back: the line, or why it could not be read.
pub type ReadLine = std::result::Result<Line, String>;

/// Reads every line of a journal. A line that is not valid (a truncated last line, an edit by
/// hand, another version) is returned as its reason, so the caller can report it and go on.
pub fn read(path: &str) -> Result<Vec<ReadLine>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("The change journal '{path}' cannot be read: {e}.")))?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line: Line = serde_json::from_str(l).map_err(|e| format!("line {} is not a journal line ({e})", i + 1))?;
            if line.version != JOURNAL_VERSION {
                return Err(format!("line {} has journal version {}, this library reads version {JOURNAL_VERSION}", i + 1, line.version));
            }
            Ok(line)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> JournalEnvironment {
        JournalEnvironment { name: Some("Contoso".into()), url: "http://127.0.0.1:1".into() }
    }

    #[test]
    fn lines_are_appended_in_order_and_read_back() {
        let dir = std::env::temp_dir().join(format!("crmsync-journal-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.jsonl");
        let path = path.to_str().unwrap();
        let change =
            Change::new("mailboxes", "m1", Some("Liam"), "MailboxSettings", vec![Column::plain("actdeliverymethod", 2.into(), 1.into())]);
        {
            let journal = Journal::open(path, env()).unwrap();
            journal.record(&change, &Ok(()));
            journal.record(&change.clone().irreversible("tested"), &Err(Error::invalid("refused")));
        }
        // A second run appends; a torn last line is reported, not fatal.
        Journal::open(path, env()).unwrap().record(&change, &Ok(()));
        std::fs::OpenOptions::new().append(true).open(path).unwrap().write_all(b"{\"version\":1,\"ti").unwrap();
        let lines = read(path).unwrap();
        assert_eq!(lines.len(), 4);
        let first = lines[0].as_ref().unwrap();
        assert_eq!((first.outcome.as_str(), first.table.as_str(), first.undoable), (WRITTEN, "mailboxes", true));
        assert_eq!(first.columns[0].before, 2);
        let second = lines[1].as_ref().unwrap();
        assert_eq!((second.outcome.as_str(), second.error.as_deref(), second.undoable), (FAILED, Some("refused"), false));
        assert!(lines[2].is_ok());
        assert!(lines[3].as_ref().unwrap_err().contains("line 4"));
        assert!(env().same_url("HTTP://127.0.0.1:1/"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_path_that_cannot_be_opened_fails_up_front() {
        let error = Journal::open("/nonexistent-folder-crmsync/j.jsonl", env()).err().unwrap();
        assert_eq!(error.kind, ErrorKind::InvalidArgument);
        assert!(Journal::open("  ", env()).is_err());
        assert!(read("/nonexistent-folder-crmsync/j.jsonl").is_err());
    }
}
