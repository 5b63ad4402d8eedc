//! The per-item event every bulk step sends, so the module and C callers read one shape
//! (`documents::ItemEvent`); the step's result is a `documents::StepResult`.

use crate::documents::{Event, FieldChange, ItemEvent, ItemOutcome};
use crate::error::Error;
use crate::model::mailbox::Mailbox;

/// `{"type":"item"}` for one mailbox, as the event sent to the caller.
pub fn item(mailbox: &Mailbox, outcome: ItemOutcome, changes: &[FieldChange], error: Option<&Error>) -> Event {
    event(ItemEvent::new(mailbox, outcome, changes, error))
}

/// `item` as the event sent to the caller (for items with more than the common fields).
pub fn event(item: ItemEvent) -> Event {
    item.into()
}
