//! The mailbox row as this product reads it.

use super::options::*;
use serde::{Deserialize, Serialize};
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
    "isactsyncorgflagset",
    "statecode",
];

/// The columns of [`COLUMNS`] that a Test & Enable result reports (the item's name, address and owner
/// type, the test's statuses and time) and that tell whether its test is still scheduled:
/// half of what a mailbox row holds with its annotations, and a poll reads thousands.
pub const RESULT_COLUMNS: &[&str] = &[
    "mailboxid",
    "name",
    "emailaddress",
    "_regardingobjectid_value",
    "incomingemailstatus",
    "outgoingemailstatus",
    "actstatus",
    "mailboxstatus",
    "testemailconfigurationscheduled",
    "testmailboxaccesscompletedon",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "MailboxRow")]
pub struct Mailbox {
    pub mailbox_id: String,
    pub name: Option<String>,
    pub email_address: Option<String>,
    /// The user or queue the mailbox belongs to (`regardingobjectid`), whose row holds its
    /// email approval; named `owner_id` in documents, as the listing has always sent it. Not
    /// the row's `ownerid` (the health facts read both and name them apart).
    #[serde(rename = "owner_id")]
    pub regarding_id: Option<String>,
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
    /// `isactsyncorgflagset`: this organization holds the mailbox's appointment, contact and
    /// task synchronization (set by a successful Test & Enable).
    pub act_sync_org_flag: bool,
    pub state: Name,
    pub etag: Option<String>,
}

/// A mailbox row as the Web API sends it (the columns of [`COLUMNS`] and the annotations of
/// [`super::PREFER_ANNOTATIONS`]); pages are read straight into it, never as generic JSON.
#[derive(Deserialize)]
struct MailboxRow {
    mailboxid: String,
    name: Option<String>,
    emailaddress: Option<String>,
    #[serde(rename = "_regardingobjectid_value")]
    regarding_id: Option<String>,
    #[serde(rename = "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname")]
    owner_table: Option<String>,
    #[serde(rename = "_emailserverprofile_value")]
    profile_id: Option<String>,
    #[serde(rename = "_emailserverprofile_value@OData.Community.Display.V1.FormattedValue")]
    profile_name: Option<String>,
    incomingemaildeliverymethod: Option<i64>,
    outgoingemaildeliverymethod: Option<i64>,
    actdeliverymethod: Option<i64>,
    emailrouteraccessapproval: Option<i64>,
    isemailaddressapprovedbyo365admin: Option<bool>,
    incomingemailstatus: Option<i64>,
    outgoingemailstatus: Option<i64>,
    actstatus: Option<i64>,
    mailboxstatus: Option<i64>,
    testemailconfigurationscheduled: Option<bool>,
    testmailboxaccesscompletedon: Option<String>,
    orgmarkedasprimaryforexchangesync: Option<bool>,
    isactsyncorgflagset: Option<bool>,
    statecode: Option<i64>,
    #[serde(rename = "@odata.etag")]
    etag: Option<String>,
}

impl From<MailboxRow> for Mailbox {
    fn from(row: MailboxRow) -> Mailbox {
        Mailbox {
            mailbox_id: row.mailboxid,
            name: row.name,
            email_address: row.emailaddress,
            regarding_id: row.regarding_id,
            owner_type: row.owner_table.map(owner_table),
            server_profile_id: row.profile_id,
            server_profile_name: row.profile_name,
            incoming_email: INCOMING_EMAIL.name(row.incomingemaildeliverymethod),
            outgoing_email: OUTGOING_EMAIL.name(row.outgoingemaildeliverymethod),
            appointments_contacts_tasks: APPOINTMENTS_CONTACTS_TASKS.name(row.actdeliverymethod),
            approval_status: APPROVAL.name(row.emailrouteraccessapproval),
            approved_by_o365_admin: row.isemailaddressapprovedbyo365admin.unwrap_or(false),
            incoming_email_status: TEST_STATUS.name(row.incomingemailstatus),
            outgoing_email_status: TEST_STATUS.name(row.outgoingemailstatus),
            act_status: TEST_STATUS.name(row.actstatus),
            mailbox_status: TEST_STATUS.name(row.mailboxstatus),
            test_scheduled: row.testemailconfigurationscheduled.unwrap_or(false),
            test_completed_on: row.testmailboxaccesscompletedon,
            sync_with_this_org_only: row.orgmarkedasprimaryforexchangesync.unwrap_or(false),
            act_sync_org_flag: row.isactsyncorgflagset.unwrap_or(false),
            state: STATE.name(row.statecode),
            etag: row.etag,
        }
    }
}

impl Mailbox {
    /// A row already read as JSON; `None` when it is not a mailbox row (no id).
    pub fn from_row(row: &Value) -> Option<Mailbox> {
        MailboxRow::deserialize(row).ok().map(Mailbox::from)
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
        assert_eq!(m.regarding_id.as_deref(), Some("u1"));
        let document = serde_json::to_value(&m).unwrap();
        assert_eq!(document["owner_id"], "u1", "documents name the regarding user or queue owner_id: {document}");
        assert!(document.get("regarding_id").is_none());
        assert!(Mailbox::from_row(&serde_json::json!({"name": "no id"})).is_none());
    }

    #[test]
    fn a_result_reads_only_columns_the_model_reads() {
        let missing: Vec<&&str> = RESULT_COLUMNS.iter().filter(|c| !COLUMNS.contains(c)).collect();
        assert!(missing.is_empty(), "{missing:?}");
    }
}
