//! The organization's email configuration settings as this product reads them
//! (`steps::org_defaults` reads and writes them; the delivery methods come from the
//! `defaultemailsettings` XML).

use super::options::Name;
use serde::{Deserialize, Serialize};

/// The result of `crmsync_mailbox_defaults_get`, and the defaults in a `DefaultsResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailboxDefaults {
    pub organization_id: String,
    pub server_profile_id: Option<String>,
    pub server_profile_name: Option<String>,
    pub incoming_email: Name,
    pub outgoing_email: Name,
    pub appointments_contacts_tasks: Name,
    pub process_email_using: Name,
    pub require_approval_for_user_email: bool,
    pub require_approval_for_queue_email: bool,
    pub email_settings_xml: Option<String>,
    /// Guards the organization's PATCH (not part of the document).
    #[serde(skip)]
    pub etag: Option<String>,
}
