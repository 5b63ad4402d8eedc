//! The vocabulary of the C ABI: every JSON document that crosses it, as a serde type: the
//! requests and queries the functions take (`requests`), the events of long operations and
//! each step's result (here). Steps build these (never `json!` objects), the boundary only
//! parses and serializes them, and the PowerShell module and C callers read the shapes
//! documented here. The version of events and results is added in one place ([`Versioned`]);
//! a request carries its own.
//!
//! This module sits below the steps and the engine, which produce the documents, and above
//! `model`, whose rows (mailboxes, alerts) some documents carry; nothing below it knows them.
//! Documents that carry rows are generic over the row type, so that a reader (and the
//! round-trip test) can take the rows as plain JSON.

use crate::error::Error;
use crate::model::alert::Alert;
use crate::model::diagnosis::Repair;
use crate::model::health::{Facts, Health};
use crate::model::mailbox::Mailbox;
use crate::model::options::Name;
use crate::model::organization::MailboxDefaults;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

mod requests;
pub use requests::{
    AlertQuery, ApprovalRequest, AuthenticateRequest, BaselineRow, Decision, DefaultsRequest, DisableRequest, EnvironmentQuery, GroupSpec,
    HealthRequest, MailboxQuery, MailboxSelection, ProfileQuery, RepairRequest, SettingsRequest, SetupRequest, TestEnableRequest,
    UndoRequest,
};

/// The version of every document; bumped with `CRMSYNC_ABI_VERSION` on an incompatible change.
pub const VERSION: u32 = 1;

/// A document with its version first: `{"version": 1, …the document's fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    pub version: u32,
    #[serde(flatten)]
    pub document: T,
}

impl<T> Versioned<T> {
    pub fn new(document: T) -> Versioned<T> {
        Versioned { version: VERSION, document }
    }
}

/// `document` with its version, as the JSON value that is handed across the ABI.
pub fn to_value<T: Serialize>(document: T) -> Value {
    // Documents are plain data (strings, numbers, maps with string keys): serializing cannot fail.
    serde_json::to_value(Versioned::new(document)).unwrap_or(Value::Null)
}

// ---- errors ----

/// An error: of a failed call (`error_out`, with `status_code`) or of one failed item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDocument {
    /// The kind, named like the C status (`PermissionDenied`, `NotFound`, …).
    pub status: String,
    /// The numeric `crmsync_status`: only on the error of a failed call (the boundary sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i32>,
    pub http_status: Option<u16>,
    /// The Dataverse hex code, when the service gave one.
    pub code: Option<String>,
    pub message: String,
    pub remedy: Option<String>,
    /// A stable name for the remedy, for a front end's own advice.
    pub hint: Option<String>,
    pub retry_after_secs: Option<f64>,
}

impl From<&Error> for ErrorDocument {
    fn from(error: &Error) -> ErrorDocument {
        ErrorDocument {
            status: format!("{:?}", error.kind),
            status_code: None,
            http_status: error.http_status,
            code: error.code.clone(),
            message: error.message.clone(),
            remedy: error.remedy.clone(),
            hint: error.hint.map(str::to_string),
            retry_after_secs: error.retry_after.map(|d| d.as_secs_f64()),
        }
    }
}

// ---- what the bulk steps report per mailbox ----

/// What happened to one mailbox in a bulk step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemOutcome {
    /// `what_if`: would change.
    Planned,
    Unchanged,
    Changed,
    Failed,
    Scheduled,
    Succeeded,
    TimedOut,
}

/// One column of one mailbox, from → to (names, not option values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: Cow<'static, str>,
    pub from: Value,
    pub to: Value,
}

/// One setting of the organization or a profile, from → to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingChange {
    /// `organization` or `emailserverprofile`.
    pub target: Cow<'static, str>,
    pub field: Cow<'static, str>,
    pub from: Value,
    pub to: Value,
}

/// How many items of a step ended each way.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    pub fn add(&mut self, outcome: ItemOutcome) {
        match outcome {
            ItemOutcome::Planned => self.planned += 1,
            ItemOutcome::Unchanged => self.unchanged += 1,
            ItemOutcome::Changed => self.changed += 1,
            ItemOutcome::Failed => self.failed += 1,
            ItemOutcome::Scheduled => self.scheduled += 1,
            ItemOutcome::Succeeded => self.succeeded += 1,
            ItemOutcome::TimedOut => self.timed_out += 1,
        }
    }
}

/// The counts of two parts of one step (the setup's chunks), field by field.
impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        let Counts { planned, unchanged, changed, failed, scheduled, succeeded, timed_out } = other;
        self.planned += planned;
        self.unchanged += unchanged;
        self.changed += changed;
        self.failed += failed;
        self.scheduled += scheduled;
        self.succeeded += succeeded;
        self.timed_out += timed_out;
    }
}

/// The result of a bulk step (and each step's entry in the setup result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub step: Cow<'static, str>,
    pub what_if: bool,
    #[serde(flatten)]
    pub counts: Counts,
}

impl StepResult {
    pub fn new(step: &'static str, what_if: bool, counts: Counts) -> StepResult {
        StepResult { step: step.into(), what_if, counts }
    }
}

/// The statuses a Test & Enable item reports, and the alerts raised since the test was scheduled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestStatuses<A = Alert> {
    pub incoming_email_status: Name,
    pub outgoing_email_status: Name,
    pub act_status: Name,
    pub mailbox_status: Name,
    pub test_completed_on: Option<String>,
    pub alerts: Vec<A>,
}

/// `{"type":"item"}`: one mailbox's outcome in a bulk step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemEvent<A = Alert> {
    /// The mailbox id.
    pub key: String,
    pub name: Option<String>,
    pub email_address: Option<String>,
    pub owner_type: Option<Name>,
    pub outcome: ItemOutcome,
    pub changes: Vec<FieldChange>,
    pub error: Option<ErrorDocument>,
    /// Approval: whether the read-back shows the Microsoft 365 administrator's approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by_o365_admin: Option<bool>,
    /// Test & Enable: the statuses read back and the alerts.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub test: Option<TestStatuses<A>>,
}

impl ItemEvent {
    pub fn new(mailbox: &Mailbox, outcome: ItemOutcome, changes: &[FieldChange], error: Option<&Error>) -> ItemEvent {
        ItemEvent {
            key: mailbox.mailbox_id.clone(),
            name: mailbox.name.clone(),
            email_address: mailbox.email_address.clone(),
            owner_type: mailbox.owner_type.clone(),
            outcome,
            changes: changes.to_vec(),
            error: error.map(ErrorDocument::from),
            approved_by_o365_admin: None,
            test: None,
        }
    }
}

// ---- readiness ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckStatus {
    Pass,
    Warning,
    Fail,
}

/// One readiness check (also the `{"type":"check"}` event of the setup).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub check: String,
    pub status: CheckStatus,
    pub message: String,
    pub remedy: Option<String>,
    /// A stable name for the remedy, for a front end to add its own advice (see `Error::hint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Cow<'static, str>>,
}

// ---- events ----

/// `{"type":"items"}`: one page of mailboxes (the listing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemsEvent<R = ListedMailbox> {
    pub page: usize,
    pub items: Vec<R>,
}

/// One mailbox of a listing's page: its columns, and whether its environment owns its address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedMailbox<M = Mailbox> {
    #[serde(flatten)]
    pub mailbox: M,
    pub ownership: AddressOwnership,
}

/// Whether a mailbox's environment owns its email address (one Exchange mailbox synchronizes
/// with one environment), as the core decides it (`steps::ownership`): front ends read the
/// decision instead of repeating the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressOwnership {
    /// Server-side synchronization on any delivery method.
    pub synchronized: bool,
    /// The organization-primary flag (`orgmarkedasprimaryforexchangesync` or `isactsyncorgflagset`).
    pub primary: bool,
    /// Synchronized, and primary or passed Test & Enable: Test & Enable elsewhere takes it away.
    pub owner: bool,
}

/// `{"type":"progress"}`: how far a long operation is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub done: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    pub message: String,
}

/// `{"type":"changes"}`: the organization's changes (the setup's Defaults step).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesEvent {
    pub changes: Vec<SettingChange>,
}

/// `{"type":"device_code"}`: what the user must do to sign in (show `message`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceCodeEvent {
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
    pub expires_in: u64,
}

/// `{"type":"refused"}`: a mailbox of the selection left out of a multi-environment setup
/// because another environment of the run owns its address (`steps::ownership`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedEvent {
    /// The mailbox id.
    pub key: String,
    pub name: Option<String>,
    pub email_address: Option<String>,
    /// The environments that own the address.
    pub owned_by: Vec<String>,
}

/// Every event of a long operation: what the work sends (`operation::EventSink`) and, serialized
/// once where the caller pulls it, what the caller reads. Within the setup, each event also
/// carries `"step"` (added there for the step that sent it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event<R = ListedMailbox, A = Alert, F = Facts> {
    /// Boxed: an item is much larger than the other events.
    Item(Box<EventItem<A>>),
    Items(ItemsEvent<R>),
    Progress(ProgressEvent),
    Check(Check),
    Changes(ChangesEvent),
    DeviceCode(DeviceCodeEvent),
    Health(Box<HealthRow<F, A>>),
    Repair(Box<RepairEvent<F, A>>),
    Refused(RefusedEvent),
}

/// `{"type":"item"}`: one mailbox's outcome in a bulk step or, in an undo, one journal line's.
/// Untagged: the two shapes tell themselves apart (a mailbox item has `key` and `changes`, a
/// journal line's has `line`), and a batch of items (`items`) holds them as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventItem<A = Alert> {
    Mailbox(ItemEvent<A>),
    JournalLine(UndoItem),
}

impl<R, A, F> From<ItemEvent<A>> for Event<R, A, F> {
    fn from(item: ItemEvent<A>) -> Self {
        Event::Item(Box::new(EventItem::Mailbox(item)))
    }
}

impl<R, A, F> From<UndoItem> for Event<R, A, F> {
    fn from(item: UndoItem) -> Self {
        Event::Item(Box::new(EventItem::JournalLine(item)))
    }
}

impl<R, A, F> Event<R, A, F> {
    pub fn is_item(&self) -> bool {
        matches!(self, Event::Item(_))
    }
}

// ---- undo ----

/// The organization a journal line was written in: its name (for people) and URL (to find the
/// connection again when undoing). Part of every journal line and of the undo's items.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalEnvironment {
    pub name: Option<String>,
    pub url: String,
}

impl JournalEnvironment {
    /// Same organization: URLs compare without the trailing slash and case-insensitively.
    pub fn same_url(&self, url: &str) -> bool {
        self.url.trim_end_matches('/').eq_ignore_ascii_case(url.trim_end_matches('/'))
    }
}

/// What happened to one journal line in an undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UndoOutcome {
    /// The before values were written back (`what_if`: would be).
    Restored,
    Planned,
    /// The row already holds the before values (an undo run before, or a later change back).
    Unchanged,
    /// The row changed since crmsync wrote it: left alone.
    Skipped,
    /// Nothing can be written back (a Test & Enable), or not everything (said in the note).
    NotUndoable,
    Failed,
    /// The line could not be read.
    Unreadable,
}

/// One column an undo writes back: `from` what the row holds now `to` the value before
/// crmsync's write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoColumn {
    pub column: String,
    pub from: Value,
    pub to: Value,
    pub to_name: Option<String>,
}

/// The journal line an undo item is about (every line that could be read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoLine {
    pub environment: JournalEnvironment,
    pub table: String,
    /// The row's id.
    pub key: String,
    pub name: Option<String>,
    /// The step that wrote it.
    pub step: String,
    pub written_at: String,
    pub columns: Vec<UndoColumn>,
    pub note: Option<String>,
    pub error: Option<ErrorDocument>,
}

/// `{"type":"item"}` of an undo: one journal line, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoItem {
    /// The line's number in the journal (from 1).
    pub line: usize,
    pub outcome: UndoOutcome,
    /// Why a line was skipped or could not be read.
    pub reason: Option<String>,
    /// Absent for a line that could not be read.
    #[serde(flatten)]
    pub written: Option<UndoLine>,
}

// ---- day two: health and repair ----

/// `{"type":"health"}`: one mailbox's row of the health report (`crmsync_mailboxes_health_start`),
/// and what the repair starts from. The facts (the health columns) are fields of the row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthRow<F = Facts, A = Alert> {
    pub health: Health,
    pub reason: String,
    pub remedy: Option<String>,
    pub repairable: bool,
    /// The fixes repair would apply, in order.
    pub repairs: Vec<Repair>,
    /// The diagnosis table's row id, its source and note (None: healthy, or not a documented failure).
    pub diagnosis: Option<Cow<'static, str>>,
    pub diagnosis_source: Option<Cow<'static, str>>,
    pub diagnosis_note: Option<Cow<'static, str>>,
    #[serde(flatten)]
    pub facts: F,
    pub latest_error: Option<A>,
    pub latest_warning: Option<A>,
}

/// A mailbox whose class differs from the baseline's (or that the baseline did not have).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassChange {
    pub mailbox_id: String,
    pub name: Option<String>,
    /// None: not in the baseline.
    pub from: Option<Health>,
    pub to: Health,
}

/// The health report's result (`crmsync_mailboxes_health_start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthSummary {
    pub mailboxes: usize,
    /// Rows sent (after the `health` filter).
    pub reported: usize,
    /// Every class, with how many mailboxes are in it (zero included).
    pub counts: BTreeMap<Health, usize>,
    pub unhealthy: usize,
    pub repairable: usize,
    /// With a baseline: the mailboxes whose class differs from it (or that it did not have).
    pub changed: Option<Vec<ClassChange>>,
    pub stale_after_secs: u64,
    /// Whether the org has the approval/test audit columns (9.2.2412.2 and later).
    pub audit_columns: bool,
    pub alerts_since: String,
}

/// What happened to one unhealthy mailbox in a repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RepairOutcome {
    /// `what_if`: would be repaired with these fixes.
    Planned,
    /// Fixed and tested again (with `wait`: healthy now; without: the test is scheduled).
    Repaired,
    /// A write or the new test failed.
    Failed,
    /// No fix crmsync can apply: the remedy says what to do.
    NotRepairable,
    /// A test is already running: nothing to do now.
    Skipped,
}

/// One write of a repair, as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub repair: Repair,
    /// The row written, e.g. `mailboxes(…)`, `emailserverprofiles(…)`, `systemusers(…)`.
    pub target: String,
    pub changes: Vec<FieldChange>,
}

/// `{"type":"repair"}`: one unhealthy mailbox's repair (`crmsync_mailboxes_repair_start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairEvent<F = Facts, A = Alert> {
    pub mailbox_id: String,
    pub name: Option<String>,
    pub outcome: RepairOutcome,
    pub health: Health,
    pub reason: String,
    pub remedy: Option<String>,
    pub fixes: Vec<Fix>,
    pub error: Option<ErrorDocument>,
    /// The health row the repair started from (the PowerShell module's TargetObject).
    pub before: HealthRow<F, A>,
    /// With `wait`: the row read after the tests.
    pub health_after: Option<HealthRow<F, A>>,
}

/// How many mailboxes of a repair ended each way.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairCounts {
    pub healthy: usize,
    pub planned: usize,
    pub repaired: usize,
    pub failed: usize,
    pub not_repairable: usize,
    pub skipped: usize,
}

impl RepairCounts {
    pub fn add(&mut self, outcome: RepairOutcome) {
        match outcome {
            RepairOutcome::Planned => self.planned += 1,
            RepairOutcome::Repaired => self.repaired += 1,
            RepairOutcome::Failed => self.failed += 1,
            RepairOutcome::NotRepairable => self.not_repairable += 1,
            RepairOutcome::Skipped => self.skipped += 1,
        }
    }
}

/// The repair's result (`crmsync_mailboxes_repair_start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairResult {
    pub what_if: bool,
    pub waited: bool,
    pub mailboxes: usize,
    #[serde(flatten)]
    pub counts: RepairCounts,
    /// Rows written (mailboxes, profiles, users and queues), each once.
    pub writes: usize,
}

// ---- results ----

/// The whole procedure's result (`crmsync_setup_start`): one [`StepResult`] per step, in order
/// (Defaults, MailboxSettings, ApproveEmail unless skipped, TestAndEnable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupResult {
    pub what_if: bool,
    /// The active mailboxes selected.
    pub mailboxes: usize,
    /// Those already configured, approved and tested successfully: left alone.
    pub already_working: usize,
    pub steps: Vec<StepResult>,
}

/// Undoing a change journal (`crmsync_changes_undo_start`): the step's counts (`changed`:
/// restored) and the lines that were not restored, by why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoResult {
    #[serde(flatten)]
    pub step: StepResult,
    /// Rows changed since crmsync wrote them: left alone.
    pub skipped: usize,
    pub not_undoable: usize,
    pub unreadable: usize,
    /// Lines of another organization.
    pub other_environment: usize,
    /// Lines of writes that failed (nothing to undo).
    pub not_written: usize,
    /// This client's organization URL.
    pub environment: String,
}

/// Turning server-side synchronization off (`crmsync_sync_disable_start`): the Defaults and
/// MailboxSettings steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisableResult {
    pub what_if: bool,
    /// The active mailboxes selected.
    pub mailboxes: usize,
    pub steps: Vec<StepResult>,
}

/// Setting the organization's defaults (`crmsync_mailbox_defaults_set`, and the setup's and
/// the disabling's Defaults step): what differed and the defaults read back (or, when nothing
/// was written, as they were).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefaultsResult<D = MailboxDefaults> {
    pub what_if: bool,
    /// Whether anything was written.
    pub changed: bool,
    pub changes: Vec<SettingChange>,
    pub defaults: D,
}

/// The listing's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListResult {
    pub count: usize,
    pub pages: usize,
}

/// Who am I, and in which organization (`crmsync_who_am_i`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub user_id: String,
    pub business_unit_id: String,
    pub organization_id: String,
    pub organization_name: Option<String>,
    /// The organization URL, without a trailing slash.
    pub url: String,
    pub default_email_server_profile_id: Option<String>,
}

/// The result of signing in (`crmsync_client_authenticate_start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticateResult {
    pub authenticated: bool,
    /// The credential kind: `AccessToken`, `ClientSecret`, `ClientCertificate`, `ManagedIdentity`, `DeviceCode`.
    pub credential: String,
    /// When the token expires (seconds since the Unix epoch), if known.
    pub expires_on: Option<u64>,
}

/// The readiness checks (`crmsync_readiness_get`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecksResult {
    pub checks: Vec<Check>,
}

/// The alerts (`crmsync_alerts_get`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsResult<A = Alert> {
    pub alerts: Vec<A>,
}

/// The email server profiles (`crmsync_email_server_profiles_get`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfilesResult<P> {
    pub profiles: Vec<P>,
}

/// The environments the signed-in user can reach (`crmsync_environments_get`), from the
/// Global Discovery Service's `Instances`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentsResult {
    /// The discovery service that answered (its root, e.g. `https://globaldisco.crm.dynamics.com`).
    pub discovery_url: String,
    pub environments: Vec<Environment>,
}

/// One environment (a Dataverse organization instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// The organization URL to connect to (`Url`).
    pub url: String,
    /// The Web API host (`ApiUrl`).
    pub api_url: Option<String>,
    pub unique_name: String,
    pub url_name: Option<String>,
    pub friendly_name: Option<String>,
    /// `Enabled` (`State` 0) or `Disabled` (1); another number is passed on as it is.
    pub state: String,
    pub version: Option<String>,
    pub region: Option<String>,
    /// `OrganizationType` as the service gives it (Microsoft's OrganizationType enumeration).
    pub organization_type: Option<i64>,
    /// The environment type it stands for: `Production`, `Sandbox`, `Developer`, `Trial` or
    /// `Default`; absent for a type that names none of them (`steps::discovery::environment_type`).
    pub environment_type: Option<String>,
    /// The organization id (`Id`).
    pub organization_id: Option<String>,
    pub environment_id: Option<String>,
    pub tenant_id: Option<String>,
    pub last_updated: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::json;

    /// Serialized, read back, serialized again: the same JSON, and the version first.
    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(document: T) -> Value {
        let value = to_value(&document);
        assert_eq!(value["version"], VERSION, "{value}");
        let back: Versioned<T> = serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"));
        assert_eq!(back.version, VERSION);
        assert_eq!(back.document, document);
        assert_eq!(to_value(&back.document), value);
        value
    }

    fn error() -> ErrorDocument {
        let mut e = Error::invalid("It failed.").with_remedy("Do this.").with_hint("list_profiles");
        e.http_status = Some(400);
        e.code = Some("0x80040220".into());
        e.retry_after = Some(std::time::Duration::from_millis(1500));
        ErrorDocument::from(&e)
    }

    fn changes() -> Vec<FieldChange> {
        vec![FieldChange { field: "IncomingEmail".into(), from: json!("None"), to: json!("ServerSideSync") }]
    }

    #[test]
    fn every_event_round_trips_with_its_type_tag() {
        let item: Event<Value, Value, Value> = Event::from(ItemEvent {
            key: "5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f".into(),
            name: Some("Avery Adams".into()),
            email_address: Some("avery.adams@contoso.example".into()),
            owner_type: Some("systemuser".into()),
            outcome: ItemOutcome::Failed,
            changes: changes(),
            error: Some(error()),
            approved_by_o365_admin: Some(false),
            test: Some(TestStatuses {
                incoming_email_status: "Failure".into(),
                outgoing_email_status: "Failure".into(),
                act_status: "NotRun".into(),
                mailbox_status: "Failure".into(),
                test_completed_on: Some("2026-01-01T00:00:00Z".into()),
                alerts: vec![json!({"alert_id": "a", "level": "Error"})],
            }),
        });
        let value = round_trip(item);
        assert_eq!(value["type"], "item");
        assert_eq!(value["mailbox_status"], "Failure", "the statuses are fields of the item: {value}");
        assert_eq!(value["error"]["status"], "InvalidArgument");
        let plain: Event<Value, Value, Value> = Event::from(ItemEvent {
            key: "k".into(),
            name: None,
            email_address: None,
            owner_type: None,
            outcome: ItemOutcome::Planned,
            changes: vec![],
            error: None,
            approved_by_o365_admin: None,
            test: None,
        });
        let value = round_trip(plain);
        assert!(value.get("alerts").is_none() && value.get("approved_by_o365_admin").is_none(), "{value}");

        let events: Vec<(Event<Value, Value, Value>, &str)> = vec![
            (Event::Items(ItemsEvent { page: 2, items: vec![json!({"mailbox_id": "m"})] }), "items"),
            (Event::Progress(ProgressEvent { done: 3, total: Some(10), message: "3 of 10 written".into() }), "progress"),
            (Event::Progress(ProgressEvent { done: 3, total: None, message: "Read 3 mailboxes".into() }), "progress"),
            (
                Event::Check(Check {
                    check: "ExchangeOnlineProfile".into(),
                    status: CheckStatus::Warning,
                    message: "m".into(),
                    remedy: Some("r".into()),
                    hint: Some("set_default_profile".into()),
                }),
                "check",
            ),
            (
                Event::Changes(ChangesEvent {
                    changes: vec![SettingChange {
                        target: "organization".into(),
                        field: "IncomingEmail".into(),
                        from: json!(0),
                        to: json!(2),
                    }],
                }),
                "changes",
            ),
            (
                Event::DeviceCode(DeviceCodeEvent {
                    user_code: "ABCD".into(),
                    verification_uri: "https://microsoft.com/devicelogin".into(),
                    message: "To sign in…".into(),
                    expires_in: 900,
                }),
                "device_code",
            ),
        ];
        for (event, tag) in events {
            assert_eq!(round_trip(event)["type"], tag);
        }
        let row = ListedMailbox {
            mailbox: json!({"mailbox_id": "m"}),
            ownership: AddressOwnership { synchronized: true, primary: false, owner: true },
        };
        let listed = round_trip(Event::<ListedMailbox<Value>, Value, Value>::Items(ItemsEvent { page: 1, items: vec![row] }));
        assert_eq!(
            (listed["items"][0]["mailbox_id"].as_str(), listed["items"][0]["ownership"]["owner"].as_bool()),
            (Some("m"), Some(true)),
            "{listed}"
        );

        let health = round_trip(Event::<Value, Value, Value>::Health(Box::new(health_row())));
        assert_eq!((health["type"].as_str(), health["mailbox_id"].as_str()), (Some("health"), Some("m")), "facts are fields: {health}");
        let repair = round_trip(Event::<Value, Value, Value>::Repair(Box::new(RepairEvent {
            mailbox_id: "m".into(),
            name: Some("Avery Adams".into()),
            outcome: RepairOutcome::Failed,
            health: Health::PendingApproval,
            reason: "r".into(),
            remedy: Some("Approve it.".into()),
            fixes: vec![Fix { repair: Repair::Approve, target: "systemusers(u)".into(), changes: changes() }],
            error: Some(error()),
            before: health_row(),
            health_after: Some(HealthRow { health: Health::Healthy, ..health_row() }),
        })));
        assert_eq!((repair["type"].as_str(), repair["fixes"][0]["repair"].as_str()), (Some("repair"), Some("Approve")));
        assert_eq!(repair["health_after"]["health"], "Healthy");
        assert!(repair["before"].get("version").is_none(), "{repair}");
    }

    #[test]
    fn every_undo_event_round_trips() {
        let unreadable = round_trip(Event::<Value, Value, Value>::from(UndoItem {
            line: 3,
            outcome: UndoOutcome::Unreadable,
            reason: Some("not JSON".into()),
            written: None,
        }));
        assert_eq!(unreadable, json!({"version": 1, "type": "item", "line": 3, "outcome": "Unreadable", "reason": "not JSON"}));
        let restored = round_trip(Event::<Value, Value, Value>::from(UndoItem {
            line: 1,
            outcome: UndoOutcome::Failed,
            reason: None,
            written: Some(UndoLine {
                environment: JournalEnvironment { name: Some("Contoso".into()), url: "https://contoso.crm.dynamics.com".into() },
                table: "mailboxes".into(),
                key: "m".into(),
                name: Some("Avery Adams".into()),
                step: "MailboxSettings".into(),
                written_at: "2026-12-01T10:00:00Z".into(),
                columns: vec![UndoColumn {
                    column: "incomingemaildeliverymethod".into(),
                    from: json!(2),
                    to: json!(0),
                    to_name: Some("None".into()),
                }],
                note: None,
                error: Some(error()),
            }),
        }));
        assert_eq!((restored["table"].as_str(), restored["columns"][0]["to"].as_i64()), (Some("mailboxes"), Some(0)), "{restored}");
        assert!(restored["reason"].is_null() && restored["error"].get("version").is_none(), "{restored}");
        round_trip(Event::<Value, Value, Value>::Progress(ProgressEvent {
            done: 1,
            total: Some(4),
            message: "1 of 4 journal lines".into(),
        }));
    }

    fn health_row() -> HealthRow<Value, Value> {
        HealthRow {
            health: Health::PendingApproval,
            reason: "The email address is not approved.".into(),
            remedy: Some("Approve it.".into()),
            repairable: true,
            repairs: vec![Repair::Approve, Repair::Test],
            diagnosis: Some("approval-pending".into()),
            diagnosis_source: Some("day-two-reference".into()),
            diagnosis_note: None,
            facts: json!({"mailbox_id": "m", "name": "Avery Adams", "test_scheduled": false}),
            latest_error: Some(json!({"alert_id": "a"})),
            latest_warning: None,
        }
    }

    #[test]
    fn every_result_and_the_error_round_trip() {
        let step = round_trip(StepResult {
            step: "ApproveEmail".into(),
            what_if: true,
            counts: Counts { planned: 3, failed: 1, ..Default::default() },
        });
        assert_eq!(step["planned"], 3, "counts are fields of the step result: {step}");
        round_trip(ListResult { count: 34, pages: 1 });
        round_trip(Identity {
            user_id: "u".into(),
            business_unit_id: "b".into(),
            organization_id: "o".into(),
            organization_name: Some("Contoso".into()),
            url: "https://contoso.crm.dynamics.com".into(),
            default_email_server_profile_id: None,
        });
        let summary = round_trip(HealthSummary {
            mailboxes: 3,
            reported: 2,
            counts: Health::ALL.iter().map(|h| (*h, usize::from(*h == Health::Failing) * 2)).collect(),
            unhealthy: 2,
            repairable: 1,
            changed: Some(vec![ClassChange { mailbox_id: "m".into(), name: None, from: None, to: Health::Failing }]),
            stale_after_secs: 86_400,
            audit_columns: true,
            alerts_since: "2026-11-24T00:00:00Z".into(),
        });
        assert_eq!((summary["counts"]["Failing"].as_u64(), summary["counts"]["Healthy"].as_u64()), (Some(2), Some(0)));
        let repair = round_trip(RepairResult {
            what_if: false,
            waited: true,
            mailboxes: 9,
            counts: RepairCounts { healthy: 4, repaired: 3, not_repairable: 2, ..Default::default() },
            writes: 7,
        });
        assert_eq!(repair["repaired"], 3, "counts are fields of the repair result: {repair}");
        let setup = round_trip(SetupResult {
            what_if: false,
            mailboxes: 12,
            already_working: 2,
            steps: vec![
                StepResult::new("Defaults", false, Counts { changed: 3, ..Default::default() }),
                StepResult::new("TestAndEnable", false, Counts { scheduled: 10, ..Default::default() }),
            ],
        });
        assert_eq!((setup["steps"][1]["step"].as_str(), setup["steps"][1]["scheduled"].as_u64()), (Some("TestAndEnable"), Some(10)));
        assert!(setup["steps"][0].get("version").is_none(), "only the document has a version: {setup}");
        round_trip(DisableResult {
            what_if: true,
            mailboxes: 4,
            steps: vec![StepResult::new("MailboxSettings", true, Counts { planned: 4, ..Default::default() })],
        });
        let undo = round_trip(UndoResult {
            step: StepResult::new("Undo", false, Counts { changed: 5, unchanged: 1, ..Default::default() }),
            skipped: 1,
            not_undoable: 2,
            unreadable: 0,
            other_environment: 3,
            not_written: 1,
            environment: "https://contoso.crm.dynamics.com".into(),
        });
        assert_eq!((undo["step"].as_str(), undo["changed"].as_u64(), undo["skipped"].as_u64()), (Some("Undo"), Some(5), Some(1)));
        let defaults = round_trip(DefaultsResult::<Value> {
            what_if: false,
            changed: true,
            changes: vec![SettingChange {
                target: "organization".into(),
                field: "IncomingEmail".into(),
                from: json!("None"),
                to: json!("ServerSideSync"),
            }],
            defaults: json!({"organization_id": "o", "incoming_email": "ServerSideSync"}),
        });
        assert_eq!(defaults["defaults"]["incoming_email"], "ServerSideSync");
        let read = round_trip(MailboxDefaults {
            organization_id: "o".into(),
            server_profile_id: Some("p".into()),
            server_profile_name: Some("Microsoft Exchange Online".into()),
            incoming_email: "ServerSideSync".into(),
            outgoing_email: "ServerSideSync".into(),
            appointments_contacts_tasks: "None".into(),
            process_email_using: "ServerSideSync".into(),
            require_approval_for_user_email: true,
            require_approval_for_queue_email: false,
            email_settings_xml: Some("<EmailSettings/>".into()),
            etag: None,
        });
        assert!(read.get("etag").is_none(), "the etag guards the write and is not part of the document: {read}");
        round_trip(AuthenticateResult { authenticated: true, credential: "DeviceCode".into(), expires_on: Some(1_900_000_000) });
        round_trip(ChecksResult {
            checks: vec![Check { check: "Mailboxes".into(), status: CheckStatus::Pass, message: "m".into(), remedy: None, hint: None }],
        });
        round_trip(AlertsResult::<Value> { alerts: vec![json!({"alert_id": "a"})] });
        round_trip(ProfilesResult::<Value> { profiles: vec![json!({"profile_id": "p"})] });
        let mut failed_call = error();
        failed_call.status_code = Some(4);
        let value = round_trip(failed_call);
        assert_eq!(value["status_code"], 4);
        assert!(round_trip(error()).get("status_code").is_none(), "an item's error has no ABI number");
        assert_eq!(round_trip(error())["retry_after_secs"], 1.5);
    }

    #[test]
    fn counts_add_up_per_outcome() {
        let mut counts = Counts::default();
        for outcome in [ItemOutcome::Changed, ItemOutcome::Changed, ItemOutcome::Failed, ItemOutcome::TimedOut] {
            counts.add(outcome);
        }
        assert_eq!((counts.changed, counts.failed, counts.timed_out, counts.planned), (2, 1, 1, 0));
    }

    #[test]
    fn repair_counts_add_up_per_outcome() {
        let mut counts = RepairCounts::default();
        for outcome in [RepairOutcome::Repaired, RepairOutcome::Skipped, RepairOutcome::Repaired, RepairOutcome::NotRepairable] {
            counts.add(outcome);
        }
        assert_eq!(counts, RepairCounts { repaired: 2, skipped: 1, not_repairable: 1, ..Default::default() });
    }

    #[test]
    fn counts_of_two_parts_sum_field_by_field() {
        let mut sum = Counts { planned: 1, unchanged: 2, changed: 3, failed: 4, scheduled: 5, succeeded: 6, timed_out: 7 };
        sum += Counts { planned: 10, unchanged: 20, changed: 30, failed: 40, scheduled: 50, succeeded: 60, timed_out: 70 };
        assert_eq!(sum, Counts { planned: 11, unchanged: 22, changed: 33, failed: 44, scheduled: 55, succeeded: 66, timed_out: 77 });
    }
}
