//! The request and query documents the C ABI's functions take, as the caller writes them. Each
//! carries its own `"version": 1` (checked before the document is read, `ffi::args::json`) and
//! refuses unknown fields, so a misspelt option is an error rather than a silent default. What a
//! step does with its request (resolving names, building queries) is in the step.

use crate::model::health::Health;
use serde::{Deserialize, Serialize};

/// The mailboxes a step applies to. All conditions combine with `and`; an empty selection
/// means every mailbox of the organization. (The queries it stands for: `steps::mailboxes`.)
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSelection {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email_address: Option<String>,
    /// A profile id or exact profile name.
    #[serde(default)]
    pub server_profile: Option<String>,
    /// Explicit mailbox ids (e.g. piped in).
    #[serde(default)]
    pub mailbox_ids: Option<Vec<String>>,
    /// Mailboxes by identity, as a user types them: each an id (a GUID), an email address
    /// (contains `@`) or a name. They add up (`or`), with `mailbox_ids` too.
    #[serde(default)]
    pub mailboxes: Option<Vec<String>>,
    /// An OData `$filter` expression written by the caller, added as is (in parentheses).
    #[serde(default)]
    pub filter: Option<String>,
    /// Only active mailboxes (statecode 0). Default true for the configuration steps.
    #[serde(default)]
    pub active_only: bool,
}

/// `crmsync_mailboxes_list_start`: the selection's fields at the top level, and the page size.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxQuery {
    pub version: u32,
    #[serde(flatten)]
    pub selection: MailboxSelection,
    #[serde(default)]
    pub page_size: Option<u32>,
}

/// `crmsync_email_server_profiles_get`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileQuery {
    pub version: u32,
    #[serde(default)]
    pub name: Option<String>,
}

/// `crmsync_alerts_get` (and the alerts the Test & Enable and health steps read).
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    pub version: u32,
    #[serde(default)]
    pub mailbox_ids: Option<Vec<String>>,
    /// A profile id or exact name: alerts regarding the profile itself.
    #[serde(default)]
    pub server_profile: Option<String>,
    /// Information, Warning or Error: this level and above.
    #[serde(default)]
    pub min_level: Option<String>,
    /// ISO 8601 time; only alerts created at or after it.
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub top: Option<u32>,
}

/// `crmsync_environments_get`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentQuery {
    pub version: u32,
    /// The discovery service root; by default the one of the connection's cloud.
    #[serde(default)]
    pub discovery_url: Option<String>,
}

/// `crmsync_client_authenticate_start`: nothing but the version.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthenticateRequest {
    pub version: u32,
}

/// `crmsync_mailbox_defaults_set`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultsRequest {
    pub version: u32,
    #[serde(default)]
    pub server_profile: Option<String>,
    #[serde(default)]
    pub incoming_email: Option<String>,
    #[serde(default)]
    pub outgoing_email: Option<String>,
    #[serde(default)]
    pub appointments_contacts_tasks: Option<String>,
    #[serde(default)]
    pub process_email_using: Option<String>,
    /// Plan only: report what would change and write nothing.
    #[serde(default)]
    pub what_if: bool,
    /// Appends one line per written row to this change journal (see `crate::journal`).
    #[serde(default)]
    pub journal_path: Option<String>,
}

/// `crmsync_mailboxes_configure_start`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsRequest {
    pub version: u32,
    #[serde(default)]
    pub selection: MailboxSelection,
    #[serde(default)]
    pub apply_defaults: bool,
    #[serde(default)]
    pub server_profile: Option<String>,
    #[serde(default)]
    pub incoming_email: Option<String>,
    #[serde(default)]
    pub outgoing_email: Option<String>,
    #[serde(default)]
    pub appointments_contacts_tasks: Option<String>,
    #[serde(default)]
    pub sync_with_this_org_only: Option<bool>,
    /// Clears a scheduled Test & Enable (`testemailconfigurationscheduled` false).
    #[serde(default)]
    pub clear_test_schedule: bool,
    #[serde(default)]
    pub what_if: bool,
    /// Appends one line per written mailbox to this change journal (see `crate::journal`).
    #[serde(default)]
    pub journal_path: Option<String>,
}

/// What `crmsync_mailboxes_approve_start` writes through the owning user or queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    #[default]
    Approve,
    Reject,
}

/// `crmsync_mailboxes_approve_start`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    pub version: u32,
    #[serde(default)]
    pub selection: MailboxSelection,
    #[serde(default)]
    pub decision: Decision,
    #[serde(default)]
    pub what_if: bool,
    /// Appends one line per written owner row to this change journal (see `crate::journal`).
    #[serde(default)]
    pub journal_path: Option<String>,
}

/// `crmsync_mailboxes_test_enable_start` (and the Test & Enable of the setup and the repair).
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEnableRequest {
    pub version: u32,
    #[serde(default)]
    pub selection: MailboxSelection,
    /// "Sync items with Exchange from this org only" (orgmarkedasprimaryforexchangesync).
    #[serde(default)]
    pub sync_with_this_org_only: bool,
    #[serde(default)]
    pub wait: bool,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub poll_interval_ms: Option<u64>,
    #[serde(default)]
    pub what_if: bool,
    /// Appends one line per scheduled mailbox to this change journal (see `crate::journal`).
    #[serde(default)]
    pub journal_path: Option<String>,
}

/// The setup's `"ownership"` field, which makes it a member of a multi-environment run
/// (`steps::exchange`): `{"group","environment","environments","at_once"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Chosen by the caller, new for every run (a GUID): the operations with this id meet.
    pub group: String,
    /// This environment's name as reports show it (what the others learn about this member).
    pub environment: String,
    /// How many operations take part; every one of them must be started.
    pub environments: usize,
    /// How many members read or write at once (default: all).
    #[serde(default)]
    pub at_once: Option<usize>,
}

/// `crmsync_setup_start`: the whole procedure.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    pub version: u32,
    #[serde(default)]
    pub selection: MailboxSelection,
    /// Defaults to the profile named "Microsoft Exchange Online".
    #[serde(default)]
    pub server_profile: Option<String>,
    #[serde(default)]
    pub sync_with_this_org_only: bool,
    #[serde(default)]
    pub skip_approval: bool,
    #[serde(default)]
    pub wait: bool,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub poll_interval_ms: Option<u64>,
    #[serde(default)]
    pub what_if: bool,
    /// Appends one line per written row, of every step, to this change journal (`crate::journal`).
    #[serde(default)]
    pub journal_path: Option<String>,
    /// One environment of a multi-environment run: the run's setups compare the mailboxes they
    /// read and each leaves out the addresses another one owns (`steps::ownership`); the group
    /// also bounds how many of them work at once.
    #[serde(default)]
    pub ownership: Option<GroupSpec>,
}

/// `crmsync_mailboxes_health_start`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthRequest {
    pub version: u32,
    #[serde(default)]
    pub selection: MailboxSelection,
    /// Report only rows of these classes; the summary still counts every selected mailbox.
    #[serde(default)]
    pub health: Option<Vec<Health>>,
    #[serde(default)]
    pub stale_after_secs: Option<u64>,
    /// A previous report's rows: the summary lists the mailboxes whose class changed.
    #[serde(default)]
    pub baseline: Option<Vec<BaselineRow>>,
    #[serde(default)]
    pub page_size: Option<u32>,
}

/// One row of a previous health report; other fields of the row are ignored, so a whole row fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineRow {
    pub mailbox_id: String,
    pub health: Health,
}

/// `crmsync_mailboxes_repair_start`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepairRequest {
    pub version: u32,
    #[serde(default)]
    pub selection: MailboxSelection,
    #[serde(default)]
    pub what_if: bool,
    /// Wait for the tests and report each repaired mailbox's new health.
    #[serde(default)]
    pub wait: bool,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub poll_interval_ms: Option<u64>,
    #[serde(default)]
    pub stale_after_secs: Option<u64>,
    /// Also move `processemailreceivedafter` of each mailbox being repaired back to its last
    /// successful synchronization (or test), so email that arrived while it failed is
    /// processed; written only where the current value is later. Never done without asking.
    #[serde(default)]
    pub reset_process_email_received_after: bool,
    /// Appends one line per written row to this change journal (`crate::journal`).
    #[serde(default)]
    pub journal_path: Option<String>,
}

/// `crmsync_sync_disable_start`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisableRequest {
    pub version: u32,
    #[serde(default)]
    pub selection: MailboxSelection,
    #[serde(default)]
    pub what_if: bool,
    /// Appends one line per written row to this change journal (see `crate::journal`).
    #[serde(default)]
    pub journal_path: Option<String>,
}

/// `crmsync_changes_undo_start`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UndoRequest {
    pub version: u32,
    pub journal_path: String,
    #[serde(default)]
    pub what_if: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    /// Read from what a caller writes, written back and read again: the same document, and
    /// every field the caller gave is in the JSON written back.
    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(given: Value) -> T {
        let request: T = serde_json::from_value(given.clone()).unwrap_or_else(|e| panic!("{e}: {given}"));
        let written = serde_json::to_value(&request).expect("serializable");
        for (field, value) in given.as_object().expect("an object") {
            assert_eq!(&written[field], value, "{field} in {written}");
        }
        let back: T = serde_json::from_value(written.clone()).unwrap_or_else(|e| panic!("{e}: {written}"));
        assert_eq!(back, request);
        request
    }

    fn selection() -> Value {
        json!({"name": "Avery Adams", "email_address": "avery.adams@contoso.example", "server_profile": "Microsoft Exchange Online",
               "mailbox_ids": ["5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f"], "mailboxes": ["support1@contoso.example"],
               "filter": "statuscode eq 1", "active_only": true})
    }

    #[test]
    fn every_request_round_trips() {
        let query: MailboxQuery = round_trip({
            let mut q = selection();
            q["version"] = json!(1);
            q["page_size"] = json!(500);
            q
        });
        assert_eq!((query.selection.name.as_deref(), query.page_size), (Some("Avery Adams"), Some(500)), "the selection is flattened");
        round_trip::<ProfileQuery>(json!({"version": 1, "name": "Microsoft Exchange Online"}));
        round_trip::<AlertQuery>(json!({"version": 1, "mailbox_ids": ["m"], "server_profile": "p", "min_level": "Warning",
                                        "since": "2026-11-27T18:00:00Z", "top": 10}));
        round_trip::<EnvironmentQuery>(json!({"version": 1, "discovery_url": "https://globaldisco.crm.dynamics.com"}));
        round_trip::<AuthenticateRequest>(json!({"version": 1}));
        round_trip::<DefaultsRequest>(json!({"version": 1, "server_profile": "p", "incoming_email": "ServerSideSync",
                                             "outgoing_email": "ServerSideSync", "appointments_contacts_tasks": "None",
                                             "process_email_using": "ServerSideSync", "what_if": true, "journal_path": "j.jsonl"}));
        round_trip::<SettingsRequest>(json!({"version": 1, "selection": selection(), "apply_defaults": false, "server_profile": "p",
                                             "incoming_email": "ServerSideSync", "outgoing_email": "None",
                                             "appointments_contacts_tasks": "Outlook", "sync_with_this_org_only": true,
                                             "clear_test_schedule": true, "what_if": true, "journal_path": "j.jsonl"}));
        let approval: ApprovalRequest =
            round_trip(json!({"version": 1, "selection": selection(), "decision": "Reject", "what_if": false, "journal_path": "j"}));
        assert_eq!(approval.decision, Decision::Reject);
        round_trip::<TestEnableRequest>(json!({"version": 1, "selection": selection(), "sync_with_this_org_only": true, "wait": true,
                                               "timeout_secs": 600, "poll_interval_ms": 500, "what_if": false, "journal_path": "j"}));
        let setup: SetupRequest = round_trip(json!({"version": 1, "selection": selection(), "server_profile": "p",
            "sync_with_this_org_only": true, "skip_approval": true, "wait": true, "timeout_secs": 600, "poll_interval_ms": 500,
            "what_if": true, "journal_path": "j",
            "ownership": {"group": "g", "environment": "Contoso", "environments": 2, "at_once": 1}}));
        assert_eq!(setup.ownership.map(|o| o.environments), Some(2));
        let health: HealthRequest = round_trip(json!({"version": 1, "selection": selection(), "health": ["Failing", "Healthy"],
            "stale_after_secs": 3600, "baseline": [{"mailbox_id": "m", "health": "PendingApproval"}], "page_size": 100}));
        assert_eq!(health.baseline.unwrap()[0].health, Health::PendingApproval);
        round_trip::<RepairRequest>(json!({"version": 1, "selection": selection(), "what_if": true, "wait": true, "timeout_secs": 60,
            "poll_interval_ms": 100, "stale_after_secs": 86400, "reset_process_email_received_after": true, "journal_path": "j"}));
        round_trip::<DisableRequest>(json!({"version": 1, "selection": selection(), "what_if": true, "journal_path": "j"}));
        round_trip::<UndoRequest>(json!({"version": 1, "journal_path": "j.jsonl", "what_if": true}));
    }

    #[test]
    fn a_request_that_gives_only_the_version_takes_the_defaults() {
        let setup: SetupRequest = serde_json::from_value(json!({"version": 1})).unwrap();
        assert_eq!(setup, SetupRequest { version: 1, ..SetupRequest::default() });
        let baseline: BaselineRow =
            serde_json::from_value(json!({"mailbox_id": "m", "health": "Healthy", "reason": "a whole row of a previous report"})).unwrap();
        assert_eq!(baseline.health, Health::Healthy, "a baseline row ignores the report's other fields");
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused_by_name() {
        let cases = [
            (serde_json::from_value::<SetupRequest>(json!({"version": 1, "whatif": true})).map(drop), "unknown field `whatif`"),
            (
                serde_json::from_value::<SettingsRequest>(json!({"version": 1, "selection": {"nmae": "x"}})).map(drop),
                "unknown field `nmae`",
            ),
            (serde_json::from_value::<ApprovalRequest>(json!({"version": 1, "decision": "Maybe"})).map(drop), "unknown variant `Maybe`"),
            (serde_json::from_value::<HealthRequest>(json!({"version": 1, "health": ["Sick"]})).map(drop), "unknown variant `Sick`"),
            (serde_json::from_value::<UndoRequest>(json!({"version": 1})).map(drop), "missing field `journal_path`"),
            (
                serde_json::from_value::<SetupRequest>(json!({"version": 1, "ownership": {"group": "g", "environment": "e"}})).map(drop),
                "missing field `environments`",
            ),
        ];
        for (result, expected) in cases {
            let error = result.expect_err(expected).to_string();
            assert!(error.contains(expected), "{error} should say {expected}");
        }
    }
}
