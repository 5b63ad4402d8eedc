//! The per-item event and the result every bulk step produces, so the module and C callers
//! read one shape (`documents::ItemEvent`, `documents::StepResult`).

use crate::documents::{self, Counts, Event, FieldChange, ItemEvent, ItemOutcome, StepResult};
use crate::error::Error;
use crate::model::mailbox::Mailbox;
use serde_json::Value;

/// `{"type":"item"}` for one mailbox, as the event sent to the caller.
pub fn item(mailbox: &Mailbox, outcome: ItemOutcome, changes: &[FieldChange], error: Option<&Error>) -> Value {
    documents::to_value(Event::<Mailbox>::Item(Box::new(ItemEvent::new(mailbox, outcome, changes, error))))
}

/// The step's result: its counts, named and marked `what_if`.
pub fn step_result(counts: Counts, step: &'static str, what_if: bool) -> Value {
    documents::to_value(StepResult { step: step.into(), what_if, counts })
}
