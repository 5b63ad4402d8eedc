//! The per-item event every bulk step streams, so the module and C callers read one shape:
//! `{"type":"item","key","name","outcome","changes","error", …details}`.

use crate::error::Error;
use crate::model::mailbox::Mailbox;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// `what_if`: would change.
    Planned,
    Unchanged,
    Changed,
    Failed,
    Scheduled,
    Succeeded,
    TimedOut,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub field: &'static str,
    pub from: Value,
    pub to: Value,
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Counts {
    pub planned: usize,
    pub unchanged: usize,
    pub changed: usize,
    pub failed: usize,
    pub scheduled: usize,
    pub succeeded: usize,
    pub timed_out: usize,
}

impl Counts {
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Planned => self.planned += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Changed => self.changed += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Scheduled => self.scheduled += 1,
            Outcome::Succeeded => self.succeeded += 1,
            Outcome::TimedOut => self.timed_out += 1,
        }
    }

    pub fn document(&self, step: &str, what_if: bool) -> Value {
        let mut doc = serde_json::to_value(self).unwrap_or_default();
        doc["version"] = json!(1);
        doc["step"] = json!(step);
        doc["what_if"] = json!(what_if);
        doc
    }
}

pub fn item(mailbox: &Mailbox, outcome: Outcome, changes: &[Change], error: Option<&Error>) -> Value {
    json!({
        "version": 1,
        "type": "item",
        "key": mailbox.mailbox_id,
        "name": mailbox.name,
        "email_address": mailbox.email_address,
        "owner_type": mailbox.owner_type,
        "outcome": outcome,
        "changes": changes,
        "error": error.map(Error::document),
    })
}
