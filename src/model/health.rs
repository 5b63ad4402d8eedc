//! The mailbox columns that describe synchronization health (day-two-reference §2), read
//! straight from the Web API into a typed row: only these columns, never generic JSON; and
//! the health classes a mailbox is sorted into (by `steps::health::classify`).

use super::mailbox::Mailbox;
use super::options::{APPOINTMENTS_CONTACTS_TASKS, APPROVAL, INCOMING_EMAIL, Name, OUTGOING_EMAIL, STATE, TEST_STATUS};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Health {
    Healthy,
    NotConfigured,
    PendingApproval,
    NotTested,
    TestScheduled,
    Failing,
    Disabled,
    Stale,
    Inactive,
}

impl Health {
    pub const ALL: [Health; 9] = [
        Health::Healthy,
        Health::NotConfigured,
        Health::PendingApproval,
        Health::NotTested,
        Health::TestScheduled,
        Health::Failing,
        Health::Disabled,
        Health::Stale,
        Health::Inactive,
    ];
}

/// Every health read selects these (all in the 2023 CSDL, webapi-properties.json).
pub const COLUMNS: &[&str] = &[
    "mailboxid",
    "name",
    "emailaddress",
    "_regardingobjectid_value",
    "_ownerid_value",
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
    "enabledforincomingemail",
    "enabledforoutgoingemail",
    "enabledforact",
    "lastsyncerror",
    "lastsyncerrorcode",
    "lastsyncerrorcount",
    "lastsyncerroroccurredon",
    "lastsuccessfulsynccompletedon",
    "processinglastattemptedon",
    "processingstatecode",
    "postponemailboxprocessinguntil",
    "testemailconfigurationscheduled",
    "testemailconfigurationretrycount",
    "postponetestemailconfigurationuntil",
    "testmailboxaccesscompletedon",
    "processemailreceivedafter",
    "statecode",
];

/// Who approved and who last tested, and when: added in 9.2.2412.2 (reference §2), missing
/// from older organizations (and from the 2023 CSDL). Read only where the org has them.
pub const AUDIT_COLUMNS: &[&str] =
    &["_emailaddressapprovedby_value", "emailaddressapprovedon", "_testandenablelastattemptedby_value", "testandenablelastattemptedon"];

/// One mailbox's health facts, named as the C ABI and the cmdlets show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub mailbox_id: String,
    pub name: Option<String>,
    pub email_address: Option<String>,
    pub regarding_id: Option<String>,
    /// `systemuser` or `queue`.
    pub owner_type: Option<String>,
    /// The mailbox row's owner (`ownerid`): for a user's mailbox it should be the regarding user.
    pub owner_id: Option<String>,
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
    pub enabled_for_incoming_email: bool,
    pub enabled_for_outgoing_email: bool,
    pub enabled_for_act: bool,
    pub last_sync_error: Option<String>,
    pub last_sync_error_code: Option<i64>,
    pub last_sync_error_count: Option<i64>,
    pub last_sync_error_occurred_on: Option<String>,
    pub last_successful_sync_completed_on: Option<String>,
    pub processing_last_attempted_on: Option<String>,
    pub processing_state_code: Option<i64>,
    pub postpone_mailbox_processing_until: Option<String>,
    pub test_scheduled: bool,
    pub test_retry_count: Option<i64>,
    pub postpone_test_until: Option<String>,
    pub test_completed_on: Option<String>,
    pub process_email_received_after: Option<String>,
    pub approved_by: Option<String>,
    pub approved_on: Option<String>,
    pub test_last_attempted_by: Option<String>,
    pub test_last_attempted_on: Option<String>,
    pub state: Name,
}

/// A mailbox row as the Web API sends it (the columns above and the lookups' annotations).
#[derive(Deserialize)]
pub(crate) struct FactsRow {
    mailboxid: String,
    name: Option<String>,
    emailaddress: Option<String>,
    #[serde(rename = "_regardingobjectid_value")]
    regarding_id: Option<String>,
    #[serde(rename = "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname")]
    regarding_table: Option<String>,
    #[serde(rename = "_ownerid_value")]
    owner_id: Option<String>,
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
    enabledforincomingemail: Option<bool>,
    enabledforoutgoingemail: Option<bool>,
    enabledforact: Option<bool>,
    lastsyncerror: Option<String>,
    lastsyncerrorcode: Option<i64>,
    lastsyncerrorcount: Option<i64>,
    lastsyncerroroccurredon: Option<String>,
    lastsuccessfulsynccompletedon: Option<String>,
    processinglastattemptedon: Option<String>,
    processingstatecode: Option<i64>,
    postponemailboxprocessinguntil: Option<String>,
    testemailconfigurationscheduled: Option<bool>,
    testemailconfigurationretrycount: Option<i64>,
    postponetestemailconfigurationuntil: Option<String>,
    testmailboxaccesscompletedon: Option<String>,
    processemailreceivedafter: Option<String>,
    #[serde(rename = "_emailaddressapprovedby_value")]
    approved_by: Option<String>,
    emailaddressapprovedon: Option<String>,
    #[serde(rename = "_testandenablelastattemptedby_value")]
    tested_by: Option<String>,
    testandenablelastattemptedon: Option<String>,
    statecode: Option<i64>,
}

impl From<FactsRow> for Facts {
    fn from(row: FactsRow) -> Facts {
        Facts {
            mailbox_id: row.mailboxid,
            name: row.name,
            email_address: row.emailaddress,
            regarding_id: row.regarding_id,
            owner_type: row.regarding_table,
            owner_id: row.owner_id,
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
            enabled_for_incoming_email: row.enabledforincomingemail.unwrap_or(false),
            enabled_for_outgoing_email: row.enabledforoutgoingemail.unwrap_or(false),
            enabled_for_act: row.enabledforact.unwrap_or(false),
            last_sync_error: row.lastsyncerror.filter(|t| !t.trim().is_empty()),
            last_sync_error_code: row.lastsyncerrorcode.filter(|c| *c != 0),
            last_sync_error_count: row.lastsyncerrorcount,
            last_sync_error_occurred_on: row.lastsyncerroroccurredon,
            last_successful_sync_completed_on: row.lastsuccessfulsynccompletedon,
            processing_last_attempted_on: row.processinglastattemptedon,
            processing_state_code: row.processingstatecode,
            postpone_mailbox_processing_until: row.postponemailboxprocessinguntil,
            test_scheduled: row.testemailconfigurationscheduled.unwrap_or(false),
            test_retry_count: row.testemailconfigurationretrycount,
            postpone_test_until: row.postponetestemailconfigurationuntil,
            test_completed_on: row.testmailboxaccesscompletedon,
            process_email_received_after: row.processemailreceivedafter,
            approved_by: row.approved_by,
            approved_on: row.emailaddressapprovedon,
            test_last_attempted_by: row.tested_by,
            test_last_attempted_on: row.testandenablelastattemptedon,
            state: STATE.name(row.statecode),
        }
    }
}

impl Facts {
    /// The directions set to server-side synchronization, each with its test status and
    /// whether it is enabled for processing.
    pub fn synchronized_directions(&self) -> Vec<(&'static str, &str, bool)> {
        let mut directions = Vec::new();
        if self.incoming_email == SSS {
            directions.push(("incoming email", self.incoming_email_status.as_ref(), self.enabled_for_incoming_email));
        }
        if self.outgoing_email == SSS {
            directions.push(("outgoing email", self.outgoing_email_status.as_ref(), self.enabled_for_outgoing_email));
        }
        if self.appointments_contacts_tasks == SSS {
            directions.push(("appointments, contacts and tasks", self.act_status.as_ref(), self.enabled_for_act));
        }
        directions
    }

    pub fn is_queue(&self) -> bool {
        self.owner_type.as_deref() == Some("queue")
    }

    /// The mailbox as the configuration steps read it (they plan from [`Mailbox`]).
    pub fn to_mailbox(&self) -> Mailbox {
        Mailbox {
            mailbox_id: self.mailbox_id.clone(),
            name: self.name.clone(),
            email_address: self.email_address.clone(),
            regarding_id: self.regarding_id.clone(),
            owner_type: self.owner_type.clone().map(Name::Owned),
            server_profile_id: self.server_profile_id.clone(),
            server_profile_name: self.server_profile_name.clone(),
            incoming_email: self.incoming_email.clone(),
            outgoing_email: self.outgoing_email.clone(),
            appointments_contacts_tasks: self.appointments_contacts_tasks.clone(),
            approval_status: self.approval_status.clone(),
            approved_by_o365_admin: self.approved_by_o365_admin,
            incoming_email_status: self.incoming_email_status.clone(),
            outgoing_email_status: self.outgoing_email_status.clone(),
            act_status: self.act_status.clone(),
            mailbox_status: self.mailbox_status.clone(),
            test_scheduled: self.test_scheduled,
            test_completed_on: self.test_completed_on.clone(),
            sync_with_this_org_only: false,
            // Not a health column: the repair's Test & Enable does not set the primary flag.
            act_sync_org_flag: false,
            state: self.state.clone(),
            etag: None,
        }
    }
}

pub const SSS: &str = "ServerSideSync";

#[cfg(test)]
pub(crate) fn sample() -> Facts {
    let row = serde_json::json!({
        "mailboxid": "0b7c0e52-0000-0000-0000-000000000001", "name": "Avery Adams", "emailaddress": "avery@contoso.example",
        "_regardingobjectid_value": "0b7c0e52-0000-0000-0000-0000000000a1",
        "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "systemuser",
        "_ownerid_value": "0b7c0e52-0000-0000-0000-0000000000a1",
        "_emailserverprofile_value": "0b7c0e52-0000-0000-0000-0000000000e1",
        "incomingemaildeliverymethod": 2, "outgoingemaildeliverymethod": 2, "actdeliverymethod": 1,
        "emailrouteraccessapproval": 1, "incomingemailstatus": 1, "outgoingemailstatus": 1, "actstatus": 1, "mailboxstatus": 1,
        "enabledforincomingemail": true, "enabledforoutgoingemail": true, "enabledforact": true,
        "testemailconfigurationscheduled": false, "testmailboxaccesscompletedon": "2026-12-01T08:00:00Z",
        "lastsuccessfulsynccompletedon": "2026-12-01T11:55:00Z", "statecode": 0
    });
    Facts::from(FactsRow::deserialize(row).unwrap())
}
