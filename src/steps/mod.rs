//! One module per step of "Connect Dynamics 365 (online) to Exchange Online". Each reads
//! the current state first; writing steps change only what differs.
//!
//! # One shape
//!
//! - `run(client, request[, sink])`: the step as the C ABI starts it. It takes the request
//!   document (a `documents` request type), opens the change journal, sends typed
//!   `documents::Event`s, and returns the step's result as a `documents` type (never a JSON
//!   value: the boundary adds the version and serializes). Read-only steps have
//!   their own verb instead (`list`, `get`) and no plan.
//! - `plan(…) -> Plan`: what would change, computed from rows already read; it writes nothing.
//!   The same plan serves `what_if` (reported as `Planned`) and the write.
//! - `apply(client, plan or rows, what_if, journal, sink)`: writes what the plan says differs
//!   (nothing with `what_if`), journals each write as its answer arrives, reads back what
//!   matters and reports each item. The whole procedure (`setup`) and `disable_sync` call the
//!   steps' `plan`/`apply` on rows read once.
//!
//! Where they are: `org_defaults` (`plan` reads the organization and the profile, `apply`
//! PATCHes once under the row's etag), `mailbox_settings` (`plan` per mailbox, `apply` over
//! many), `approval` (`apply` over many; a mailbox's plan is its one approval column), `repair`
//! (`plan` per unhealthy mailbox from its health row, `apply` writes every plan in one engine
//! run). `test_enable` has two phases instead of a plan, because its write only schedules
//! work on the service: `schedule` (write and verify) and `finish` (wait for the results).
//! `undo` restores line after line (`restore`: read, compare, write), because one row may
//! appear in several lines and only that order gives back the first value.

pub mod alerts;
pub mod approval;
pub mod context;
pub mod disable_sync;
pub mod discovery;
pub mod email_settings_xml;
pub mod exchange;
pub mod health;
pub mod identity;
pub mod journaling;
pub mod mailbox_settings;
pub mod mailboxes;
pub mod org_defaults;
pub mod ownership;
pub mod profiles;
pub mod readiness;
pub mod repair;
pub mod report;
pub mod setup;
pub mod test_enable;
pub mod undo;

use crate::error::{Error, Result};
use uuid::Uuid;

/// Parses a GUID given by a user, with an error that names the field.
pub fn parse_guid(text: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(text.trim())
        .map_err(|_| Error::invalid(format!("{what} '{text}' is not a GUID (expected the form 00000000-0000-0000-0000-000000000000).")))
}
