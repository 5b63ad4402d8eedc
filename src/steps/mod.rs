//! One module per step of "Connect Dynamics 365 (online) to Exchange Online". Each reads
//! the current state first; writing steps change only what differs.

pub mod alerts;
pub mod approval;
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
