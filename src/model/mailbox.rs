//! The mailbox row as this product reads it.

use super::options::*;
use super::{FORMATTED, LOOKUP_TABLE, annotation, flag, int, text};
use serde::Serialize;
use serde_json::Value;

/// The columns every mailbox read selects: nothing more (reads at scale stay small).
pub const COLUMNS: &[&str] = &[
    "mailboxid",
    "name",
    "emailaddress",
    "_regardingobjectid_value",
    "_emailserverprofile_value",
    "incomingemaildeliverymethod",
    "outgoingemaildeliverymethod",
    "actdeliverymethod",
    "emailrouteraccessapproval",
    "isemailaddressapprovedbyo365admin",
    "incomingemailstatus",
    "outgoingemailstatus",
    "actstatus",
    "mailboxstatus",
    "testemailconfigurationscheduled",
    "testmailboxaccesscompletedon",
    "orgmarkedasprimaryforexchangesync",
    "statecode",
];

#[derive(Debug, Clone, Serialize)]
pub struct Mailbox {
    pub mailbox_id: String,
    pub name: Option<String>,
    pub email_address: Option<String>,
    pub owner_id: Option<String>,
    /// `systemuser` or `queue`, from the lookup annotation (regardingobjecttypecode is not a
    /// Web API property, dataverse-reference §3.2).
    pub owner_type: Option<Name>,
    pub server_profile_id: Option<String>,
    pub server_profile_name: Option<String>,
    pub incoming_email: Name,
    pub outgoing_email: Name,
    pub appointments_contacts_tasks: Name,
    pub approval_status: Name,
    pub approved_by_o365_admin: bool,
    pub incoming_email_status: Name,
    pub outgoing_email_status: Name,
    pub act_status: Name,
    pub mailbox_status: Name,
    pub test_scheduled: bool,
    pub test_completed_on: Option<String>,
    pub sync_with_this_org_only: bool,
    pub state: Name,
    pub etag: Option<String>,
}

impl Mailbox {
    pub fn from_row(row: &Value) -> Option<Mailbox> {
        Some(Mailbox {
            mailbox_id: text(row, "mailboxid")?,
            name: text(row, "name"),
            email_address: text(row, "emailaddress"),
            owner_id: text(row, "_regardingobjectid_value"),
            owner_type: annotation(row, "_regardingobjectid_value", LOOKUP_TABLE).map(owner_table),
            server_profile_id: text(row, "_emailserverprofile_value"),
            server_profile_name: annotation(row, "_emailserverprofile_value", FORMATTED),
            incoming_email: INCOMING_EMAIL.name(int(row, INCOMING_EMAIL.column)),
            outgoing_email: OUTGOING_EMAIL.name(int(row, OUTGOING_EMAIL.column)),
            appointments_contacts_tasks: APPOINTMENTS_CONTACTS_TASKS.name(int(row, APPOINTMENTS_CONTACTS_TASKS.column)),
            approval_status: APPROVAL.name(int(row, APPROVAL.column)),
            approved_by_o365_admin: flag(row, "isemailaddressapprovedbyo365admin"),
            incoming_email_status: TEST_STATUS.name(int(row, "incomingemailstatus")),
            outgoing_email_status: TEST_STATUS.name(int(row, "outgoingemailstatus")),
            act_status: TEST_STATUS.name(int(row, "actstatus")),
            mailbox_status: TEST_STATUS.name(int(row, "mailboxstatus")),
            test_scheduled: flag(row, "testemailconfigurationscheduled"),
            test_completed_on: text(row, "testmailboxaccesscompletedon"),
            sync_with_this_org_only: flag(row, "orgmarkedasprimaryforexchangesync"),
            state: STATE.name(int(row, "statecode")),
            etag: text(row, "@odata.etag"),
        })
    }
}

/// The owner's table name; the two the product knows borrow a static string.
fn owner_table(table: String) -> Name {
    match table.as_str() {
        "systemuser" => Name::Borrowed("systemuser"),
        "queue" => Name::Borrowed("queue"),
        _ => Name::Owned(table),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_with_annotations_becomes_a_named_mailbox() {
        let row = serde_json::json!({
            "@odata.etag": "W/\"12\"", "mailboxid": "0b7c0e52-0000-0000-0000-000000000001", "name": "Liam O'Brien",
            "_regardingobjectid_value": "u1", "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "systemuser",
            "_emailserverprofile_value": "p1", "_emailserverprofile_value@OData.Community.Display.V1.FormattedValue": "Microsoft Exchange Online",
            "incomingemaildeliverymethod": 2, "outgoingemaildeliverymethod": 2, "actdeliverymethod": 1, "emailrouteraccessapproval": 2,
            "mailboxstatus": 0, "statecode": 0
        });
        let m = Mailbox::from_row(&row).unwrap();
        assert_eq!(m.owner_type.as_deref(), Some("systemuser"));
        assert_eq!(m.server_profile_name.as_deref(), Some("Microsoft Exchange Online"));
        assert_eq!((m.incoming_email.as_ref(), m.appointments_contacts_tasks.as_ref()), ("ServerSideSync", "ServerSideSync"));
        assert_eq!(m.approval_status, "PendingApproval");
        assert_eq!(m.etag.as_deref(), Some("W/\"12\""));
        assert!(Mailbox::from_row(&serde_json::json!({"name": "no id"})).is_none());
    }
}
