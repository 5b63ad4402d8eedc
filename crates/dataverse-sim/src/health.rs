//! Day-two failures of server-side synchronization (issue 12 part 4): the failure kinds, the
//! `--health-mix` seeding, injection and clearing, and [`diagnose`], the one place that decides
//! why a mailbox's Test & Enable or sync cycle fails (both use it, so fixing a cause fixes both).
//!
//! Kinds whose cause lives in Dataverse are real row state (mailbox owner, the queue owner's team
//! roles, the user's access mode, `isdisabled`): injecting one changes the rows, and fixing the
//! rows by any means fixes the mailbox. The other kinds (Entra, Exchange) are flags of the
//! simulator kept in [`HealthState::entries`] until cleared through `/_sim/`.
//! Texts, codes and sources: the "Day two" section of the crate README.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::SimConfig;
use crate::alerts::Alert;
use crate::fixtures;
use crate::seed::SeedIds;
use crate::store::{Row, Store};

/// Channels in the order incoming email, outgoing email, appointments/contacts/tasks.
pub type Channels = [bool; 3];
const ALL_CHANNELS: Channels = [true, true, true];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    License,
    OwnerMismatch,
    QueueTeamWithoutRole,
    AccessMode,
    UserDisabled,
    NotInTenant,
    EwsDisabled,
    Unauthorized,
    Timeout,
}

/// Which mailboxes a kind can be given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Population {
    Users,
    Queues,
    All,
}

impl Population {
    fn includes(self, is_queue: bool) -> bool {
        match self {
            Population::All => true,
            Population::Users => !is_queue,
            Population::Queues => is_queue,
        }
    }
}

impl FailureKind {
    /// Table order of the README: the seeding order and the diagnosis order.
    pub const ALL: [FailureKind; 9] = [
        FailureKind::License,
        FailureKind::OwnerMismatch,
        FailureKind::QueueTeamWithoutRole,
        FailureKind::AccessMode,
        FailureKind::UserDisabled,
        FailureKind::NotInTenant,
        FailureKind::EwsDisabled,
        FailureKind::Unauthorized,
        FailureKind::Timeout,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FailureKind::License => "license",
            FailureKind::OwnerMismatch => "owner-mismatch",
            FailureKind::QueueTeamWithoutRole => "queue-team-without-role",
            FailureKind::AccessMode => "access-mode",
            FailureKind::UserDisabled => "user-disabled",
            FailureKind::NotInTenant => "not-in-tenant",
            FailureKind::EwsDisabled => "ews-disabled",
            FailureKind::Unauthorized => "unauthorized",
            FailureKind::Timeout => "timeout",
        }
    }

    pub fn parse(s: &str) -> Option<FailureKind> {
        Self::ALL.into_iter().find(|k| k.name() == s.trim())
    }

    pub fn population(self) -> Population {
        match self {
            FailureKind::OwnerMismatch | FailureKind::AccessMode | FailureKind::UserDisabled => Population::Users,
            FailureKind::QueueTeamWithoutRole => Population::Queues,
            _ => Population::All,
        }
    }

    /// Retried (counted in `transientfailurecount`) rather than disabling at once.
    pub fn transient(self) -> bool {
        matches!(self, FailureKind::QueueTeamWithoutRole | FailureKind::Timeout)
    }

    /// The cause is row state in Dataverse (else a flag of the simulator).
    pub fn in_dataverse(self) -> bool {
        matches!(self, FailureKind::OwnerMismatch | FailureKind::QueueTeamWithoutRole | FailureKind::AccessMode)
    }

    fn channels(self) -> Channels {
        match self {
            FailureKind::OwnerMismatch => [false, false, true],
            FailureKind::QueueTeamWithoutRole => [true, false, false],
            _ => ALL_CHANNELS,
        }
    }

    /// `lastsyncerrorcode`: the HRESULT of the hex code the support article names, else the
    /// simulator's own value (README).
    fn error_code(self) -> i64 {
        match self {
            FailureKind::License => -2_147_097_996,              // 0x8005E274
            FailureKind::OwnerMismatch => -2_147_187_962,        // 0x80048306
            FailureKind::QueueTeamWithoutRole => -2_147_209_462, // 0x80042F0A
            FailureKind::AccessMode => -2_147_097_994,           // 0x8005E276
            FailureKind::UserDisabled => -2_147_097_997,         // 0x8005E273
            FailureKind::NotInTenant => -2_147_098_000,          // simulator's own
            FailureKind::EwsDisabled => 403,
            FailureKind::Unauthorized => 401,
            FailureKind::Timeout => -2_146_233_083, // 0x80131505 (.NET TimeoutException)
        }
    }

    fn trace_code(self) -> i64 {
        501 + Self::ALL.iter().position(|k| *k == self).expect("listed") as i64
    }

    fn type_display(self) -> &'static str {
        match self {
            FailureKind::License => "ErrorInvalidLicense",
            FailureKind::OwnerMismatch => "UserPrivilegeError",
            FailureKind::QueueTeamWithoutRole => "UnknownIncomingEmailIntegrationError",
            FailureKind::AccessMode => "MailboxUserAccessModeNotReadWrite",
            FailureKind::UserDisabled => "MailboxUserDisabled",
            FailureKind::NotInTenant => "MailboxUserNotFoundInTenant",
            FailureKind::EwsDisabled => "HttpForbidden",
            FailureKind::Unauthorized => "HttpUnauthorized",
            FailureKind::Timeout => "MailboxConnectionTimeout",
        }
    }

    fn text(self, f: &Facts) -> String {
        let (name, profile, email) = (&f.name, &f.profile_name, &f.email);
        match self {
            FailureKind::License => format!(
                "Email can't be received because the license is invalid for the mailbox {name}. Email Server Error Code: ErrorInvalidLicense"
            ),
            FailureKind::OwnerMismatch => format!(
                "Appointments, contacts, and tasks can't be synchronized for the mailbox {name} because the mailbox user doesn't have sufficient permissions on this mailbox. Email Server Error Code: Crm.80048306.Not enough privilege to access the Microsoft Dynamics 365 object or perform the requested operation."
            ),
            FailureKind::QueueTeamWithoutRole => format!(
                "An unknown error occurred while receiving email through the mailbox {name}. The owner of the associated email server profile {profile} has been notified. The system will try to receive email again later. Email Server Error Code: Exchange server returned UnknownIncomingEmailIntegrationError -2147209462 exception."
            ),
            FailureKind::AccessMode => format!(
                "The mailbox {name} can't be synchronized because the user associated with the email address {email} doesn't have a valid Exchange license or isn't in Read-Write access mode. Email Server Error Code: 8005E276"
            ),
            FailureKind::UserDisabled => format!(
                "The mailbox {name} can't be synchronized because the Microsoft 365 account associated with the email address {email} isn't enabled in the Microsoft 365 tenant associated with the email server profile {profile}. Email Server Error Code: 8005E273"
            ),
            FailureKind::NotInTenant => format!(
                "Test and Enable failed because no user was found with the email address \"{email}\" in the Microsoft 365 tenant associated with this mailbox's Email Server Profile. Verify the user exists in the tenant, or configure a cross-tenant email server profile."
            ),
            FailureKind::EwsDisabled => format!(
                "The email message \"Your mailbox is now connected to Dynamics 365\" cannot be sent because an error occurred while establishing a secure connection to the email server. Mailbox {name} didn't synchronize. The owner of the email server profile {profile} has been notified. Email Server Error Code: Http server returned Forbidden exception."
            ),
            FailureKind::Unauthorized => format!(
                "Email can't be received for the mailbox {name} because the email server rejected the credentials. The mailbox didn't synchronize. The owner of the email server profile {profile} has been notified. Email Server Error Code: Http server returned Unauthorized exception."
            ),
            FailureKind::Timeout => format!(
                "An unknown error occurred while receiving email through the mailbox {name}. The owner of the associated email server profile {profile} has been notified. The system will try to receive email again later. Email Server Error Code: The operation has timed out."
            ),
        }
    }

    fn details(self) -> Option<&'static str> {
        match self {
            FailureKind::EwsDisabled => Some("System.Net.WebException: The request failed with HTTP status 403: Forbidden."),
            FailureKind::Unauthorized => Some("System.Net.WebException: The request failed with HTTP status 401: Unauthorized."),
            FailureKind::Timeout => Some("System.TimeoutException: The operation has timed out."),
            _ => None,
        }
    }
}

/// Parse `kind=share[,kind=share…]`; shares 0..=1, each kind once, at most 1 per population.
pub fn parse_mix(spec: &str) -> Result<Vec<(FailureKind, f64)>, String> {
    let mut out: Vec<(FailureKind, f64)> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, share) = part.split_once('=').ok_or_else(|| format!("'{part}': expected kind=share"))?;
        let kind = FailureKind::parse(name).ok_or_else(|| {
            let names: Vec<&str> = FailureKind::ALL.iter().map(|k| k.name()).collect();
            format!("'{}': unknown failure kind (one of {})", name.trim(), names.join(", "))
        })?;
        let share: f64 = share.trim().parse().map_err(|_| format!("'{part}': the share must be a number from 0 to 1"))?;
        if !(0.0..=1.0).contains(&share) {
            return Err(format!("'{part}': the share must be a number from 0 to 1"));
        }
        if out.iter().any(|(k, _)| *k == kind) {
            return Err(format!("'{}' is given twice", kind.name()));
        }
        out.push((kind, share));
    }
    for (label, queue) in [("user", false), ("queue", true)] {
        let sum: f64 = out.iter().filter(|(k, _)| k.population().includes(queue)).map(|(_, s)| s).sum();
        if sum > 1.0 + 1e-9 {
            return Err(format!("the shares of the kinds that apply to {label} mailboxes add up to {sum}, more than 1"));
        }
    }
    Ok(out)
}

/// Where a failure entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Seed,
    Route,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: FailureKind,
    pub source: Source,
}

/// Injected and seeded failures, and the cycle counter.
#[derive(Debug, Default, Clone)]
pub struct HealthState {
    /// One entry per mailbox (a new injection replaces it).
    pub entries: BTreeMap<Uuid, Entry>,
    /// Mailbox sync cycles run since start or reset.
    pub cycles: u64,
}

/// Optional parameters of an injection.
#[derive(Debug, Default, Clone)]
pub struct InjectOptions {
    /// New mailbox owner for `owner-mismatch` (default the admin principal).
    pub owner: Option<Uuid>,
    /// Access mode for `access-mode` (1–5, default 2 Read).
    pub access_mode: Option<i64>,
}

fn uuid_of(row: &Row, col: &str) -> Option<Uuid> {
    row.get(col).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

fn int_of(row: &Row, col: &str) -> Option<i64> {
    row.get(col).and_then(Value::as_i64)
}

fn str_of(row: &Row, col: &str) -> String {
    row.get(col).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn obj(v: Value) -> Row {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("object literal"),
    }
}

/// The regarding queue of a queue mailbox, else None (user mailboxes).
fn regarding_queue(store: &Store, mailbox: &Row) -> Option<Uuid> {
    uuid_of(mailbox, "_regardingobjectid_value").filter(|q| store.contains("queue", q))
}

/// Give `mailbox` a failure `kind`: Dataverse kinds change the rows, the others set a flag.
/// Returns the changes made (for the `/_sim/` answer).
pub fn inject(store: &mut Store, mailbox: Uuid, kind: FailureKind, source: Source, opts: &InjectOptions) -> Result<Value, String> {
    let row = store.get("mailbox", &mailbox).ok_or_else(|| format!("mailbox {mailbox} does not exist"))?;
    let regarding = uuid_of(row, "_regardingobjectid_value");
    let queue = regarding_queue(store, row);
    if !kind.population().includes(queue.is_some()) {
        let which = if queue.is_some() { "a queue" } else { "a user" };
        return Err(format!("the failure kind '{}' does not apply to {which} mailbox", kind.name()));
    }
    let changed = match kind {
        FailureKind::OwnerMismatch => {
            let owner = opts.owner.unwrap_or_else(|| fixtures::ADMIN_USER_ID.parse().expect("valid"));
            if !store.contains("systemuser", &owner) {
                return Err(format!("systemuser {owner} does not exist"));
            }
            if Some(owner) == regarding {
                return Err("the owner must differ from the mailbox's regarding user".into());
            }
            let c = obj(json!({"_ownerid_value": owner.to_string(), "_owninguser_value": owner.to_string()}));
            store.update("mailbox", &mailbox, c.clone(), None);
            json!({"mailbox": c})
        }
        FailureKind::QueueTeamWithoutRole => {
            let queue = queue.expect("population checked");
            let team = store.security.create_team(&format!("Queue Owners {}", store.security.teams.len() + 1), &[]);
            let c = obj(json!({"_ownerid_value": team.to_string(), "_owningteam_value": team.to_string(), "_owninguser_value": null}));
            store.update("queue", &queue, c.clone(), None);
            json!({"teamid": team.to_string(), "queue": c})
        }
        FailureKind::AccessMode => {
            let mode = opts.access_mode.unwrap_or(2);
            if !(1..=5).contains(&mode) {
                return Err(format!("accessmode {mode}: give a value from 1 to 5 (0 Read-Write is no failure)"));
            }
            let user = regarding.ok_or("the mailbox has no regarding user")?;
            let c = obj(json!({"accessmode": mode}));
            store.update("systemuser", &user, c.clone(), None);
            json!({"systemuser": c})
        }
        _ => json!({}),
    };
    store.health.entries.insert(mailbox, Entry { kind, source });
    Ok(changed)
}

/// Remove the mailbox's entry (its flag) and undo the Dataverse state of its kind. Returns
/// false when the mailbox does not exist.
pub fn clear(store: &mut Store, mailbox: Uuid) -> bool {
    let Some(row) = store.get("mailbox", &mailbox) else {
        return false;
    };
    let regarding = uuid_of(row, "_regardingobjectid_value");
    let queue = regarding_queue(store, row);
    let team = queue.and_then(|q| store.get("queue", &q)).and_then(|q| uuid_of(q, "_ownerid_value"));
    let Some(entry) = store.health.entries.remove(&mailbox) else {
        return true;
    };
    match entry.kind {
        FailureKind::OwnerMismatch => {
            if let Some(user) = regarding {
                let c = obj(json!({"_ownerid_value": user.to_string(), "_owninguser_value": user.to_string()}));
                store.update("mailbox", &mailbox, c, None);
            }
        }
        FailureKind::QueueTeamWithoutRole => {
            if let Some(t) = team.and_then(|t| store.security.teams.get_mut(&t)) {
                t.roles.insert(fixtures::ROLE_READER.to_string());
            }
        }
        FailureKind::AccessMode => {
            if let Some(user) = regarding {
                store.update("systemuser", &user, obj(json!({"accessmode": 0})), None);
            }
        }
        FailureKind::UserDisabled => {
            if let Some(user) = regarding
                && store.get("systemuser", &user).and_then(|u| u.get("isdisabled")).and_then(Value::as_bool) == Some(true)
            {
                store.update("systemuser", &user, obj(json!({"isdisabled": false})), None);
            }
        }
        _ => {}
    }
    true
}

fn mix_hash(seed: u64, id: &Uuid) -> u64 {
    let mut h: u64 = 0x84222325_cbf29ce4 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    crate::seed::Rng::new(h).next_u64()
}

/// Apply [`SimConfig::health_mix`] to the seeded mailboxes (exact counts, deterministic).
pub fn seed_mix(store: &mut Store, config: &SimConfig, ids: &SeedIds) {
    if config.health_mix.is_empty() {
        return;
    }
    for (owners, queue) in [(&ids.users, false), (&ids.queues, true)] {
        let mut mailboxes: Vec<Uuid> = owners.iter().filter_map(|o| store.mailbox_of(o)).collect();
        mailboxes.sort_by_key(|m| (mix_hash(config.seed, m), *m));
        let mut next = mailboxes.into_iter();
        for kind in FailureKind::ALL {
            let Some((_, share)) = config.health_mix.iter().find(|(k, _)| *k == kind) else {
                continue;
            };
            if !kind.population().includes(queue) {
                continue;
            }
            let n = (share * owners.len() as f64).round() as usize;
            for m in next.by_ref().take(n) {
                // Cannot fail: the population matches and the default options are valid.
                let _ = inject(store, m, kind, Source::Seed, &InjectOptions::default());
            }
        }
    }
}

/// Whether the cause of `kind` is present for `mailbox` now.
fn present(store: &Store, kind: FailureKind, f: &Facts) -> bool {
    let flagged = store.health.entries.get(&f.id).is_some_and(|e| e.kind == kind && !kind.in_dataverse());
    match kind {
        FailureKind::OwnerMismatch => !f.is_queue && f.regarding.is_some() && f.owner != f.regarding,
        FailureKind::QueueTeamWithoutRole => f.queue_owner.and_then(|o| store.security.teams.get(&o)).is_some_and(|t| t.roles.is_empty()),
        FailureKind::AccessMode => !f.is_queue && f.user_access_mode.is_some_and(|m| m != 0),
        FailureKind::UserDisabled => flagged || (!f.is_queue && f.user_disabled),
        _ => flagged,
    }
}

/// The `GET /_sim/health` document.
pub fn document(store: &Store, config: &SimConfig) -> Value {
    let mut counts = serde_json::Map::new();
    let mut failures = Vec::new();
    for (id, e) in &store.health.entries {
        *counts.entry(e.kind.name()).or_insert(json!(0)) = json!(counts.get(e.kind.name()).and_then(Value::as_u64).unwrap_or(0) + 1);
        let applies = Facts::read(store, *id).is_some_and(|f| present(store, e.kind, &f));
        failures.push(json!({
            "mailboxid": id.to_string(),
            "kind": e.kind.name(),
            "source": match e.source { Source::Seed => "seed", Source::Route => "route" },
            "applies": applies,
        }));
    }
    json!({
        "sync_interval_ms": config.sync_interval_ms,
        "transient_attempts": config.transient_attempts,
        "cycles": store.health.cycles,
        "in_cycle": store.sync.len(),
        "counts": counts,
        "failures": failures,
    })
}

/// What [`diagnose`] needs of a mailbox and its owner, read without cloning rows.
#[derive(Debug, Clone)]
pub struct Facts {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub active: bool,
    /// Channels set to server-side synchronization (incoming 2, outgoing 2, ACT 1).
    pub tested: Channels,
    pub enabled: Channels,
    pub status: [i64; 3],
    pub profile: Option<Uuid>,
    pub profile_exists: bool,
    pub profile_active: bool,
    pub profile_name: String,
    pub regarding: Option<Uuid>,
    pub is_queue: bool,
    pub owner: Option<Uuid>,
    pub approved: bool,
    pub test_completed: bool,
    pub error_count: i64,
    pub transient_count: i64,
    pub noemail_count: i64,
    pub test_retry_count: i64,
    pub user_access_mode: Option<i64>,
    pub user_disabled: bool,
    pub queue_owner: Option<Uuid>,
}

impl Facts {
    pub fn read(store: &Store, id: Uuid) -> Option<Facts> {
        let r = store.get("mailbox", &id)?;
        let b = |c: &str| r.get(c).and_then(Value::as_bool).unwrap_or(false);
        let profile = uuid_of(r, "_emailserverprofile_value");
        let p = profile.and_then(|p| store.get("emailserverprofile", &p));
        let regarding = uuid_of(r, "_regardingobjectid_value");
        let queue = regarding.and_then(|q| store.get("queue", &q));
        let user = regarding.and_then(|u| store.get("systemuser", &u));
        Some(Facts {
            id,
            name: str_of(r, "name"),
            email: str_of(r, "emailaddress"),
            active: int_of(r, "statecode") == Some(0),
            tested: [
                int_of(r, "incomingemaildeliverymethod") == Some(2),
                int_of(r, "outgoingemaildeliverymethod") == Some(2),
                int_of(r, "actdeliverymethod") == Some(1),
            ],
            enabled: [b("enabledforincomingemail"), b("enabledforoutgoingemail"), b("enabledforact")],
            status: [
                int_of(r, "incomingemailstatus").unwrap_or(0),
                int_of(r, "outgoingemailstatus").unwrap_or(0),
                int_of(r, "actstatus").unwrap_or(0),
            ],
            profile,
            profile_exists: p.is_some(),
            profile_active: p.and_then(|p| int_of(p, "statecode")) == Some(0),
            profile_name: p.map(|p| str_of(p, "name")).unwrap_or_default(),
            regarding,
            is_queue: queue.is_some(),
            owner: uuid_of(r, "_ownerid_value"),
            approved: int_of(r, "emailrouteraccessapproval") == Some(1),
            test_completed: r.get("testmailboxaccesscompletedon").is_some_and(|v| !v.is_null()),
            error_count: int_of(r, "lastsyncerrorcount").unwrap_or(0),
            transient_count: int_of(r, "transientfailurecount").unwrap_or(0),
            noemail_count: int_of(r, "noemailcount").unwrap_or(0),
            test_retry_count: int_of(r, "testemailconfigurationretrycount").unwrap_or(0),
            user_access_mode: user.and_then(|u| int_of(u, "accessmode")),
            user_disabled: user.and_then(|u| u.get("isdisabled")).and_then(Value::as_bool).unwrap_or(false),
            queue_owner: queue.and_then(|q| uuid_of(q, "_ownerid_value")),
        })
    }

    /// Channels the sync cycle processes: tested, enabled and tested before (status 1 or 2).
    pub fn active_channels(&self) -> Channels {
        [0, 1, 2].map(|i| self.tested[i] && self.enabled[i] && self.status[i] != 0)
    }

    pub fn in_cycle(&self) -> bool {
        self.active && self.test_completed && self.active_channels().iter().any(|c| *c)
    }
}

/// Organization settings read once per pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrgFlags {
    pub errors: bool,
    pub warnings: bool,
    pub information: bool,
    pub approve_users: bool,
    pub approve_queues: bool,
}

impl OrgFlags {
    pub fn read(store: &Store) -> OrgFlags {
        let org = fixtures::ORGANIZATION_ID.parse().ok().and_then(|id| store.get("organization", &id));
        let f = |c: &str| org.and_then(|o| o.get(c)).and_then(Value::as_bool).unwrap_or(false);
        OrgFlags {
            errors: f("generatealertsforerrors"),
            warnings: f("generatealertsforwarnings"),
            information: f("generatealertsforinformation"),
            approve_users: f("requireapprovalforuseremail"),
            approve_queues: f("requireapprovalforqueueemail"),
        }
    }

    /// Whether alerts of `level` (1 information, 2 warning, 3 error) are written.
    pub fn writes(&self, level: i64) -> bool {
        match level {
            3 => self.errors,
            2 => self.warnings,
            _ => self.information,
        }
    }
}

/// Why a Test & Enable or a sync cycle fails.
#[derive(Debug, Clone)]
pub struct Failure {
    pub channels: Channels,
    pub transient: bool,
    /// `lastsyncerrorcode`.
    pub code: i64,
    /// The first alert's text becomes `lastsyncerror`.
    pub alerts: Vec<Alert>,
}

pub const TRACE_PROFILE: i64 = 201;
pub const TRACE_PROFILE_INACTIVE: i64 = 202;
pub const TRACE_INCOMING_APPROVAL: i64 = 301;
pub const TRACE_OUTGOING_APPROVAL: i64 = 302;
pub const TRACE_EXCHANGESYNC_APPROVAL: i64 = 303;
pub const TRACE_UNLICENSED: i64 = 401;
/// `lastsyncerrorcode` of the profile and approval failures (the simulator's own values).
pub const CODE_PROFILE: i64 = -2_147_098_111;
pub const CODE_PROFILE_INACTIVE: i64 = -2_147_098_110;
pub const CODE_APPROVAL: i64 = -2_147_098_109;

fn profile_failure(f: &Facts) -> Option<Failure> {
    if f.profile_exists && f.profile_active {
        return None;
    }
    let text = format!(
        "Email cannot be received because the mailbox {} does not have an email server profile associated with it or the email server profile is inactive. Email Server Error Code: InvalidIncomingEmailServerProfile",
        f.name
    );
    if !f.profile_exists {
        let alert = Alert::error(f.id, TRACE_PROFILE, "InvalidIncomingEmailServerProfile", text);
        return Some(Failure { channels: ALL_CHANNELS, transient: false, code: CODE_PROFILE, alerts: vec![alert] });
    }
    let on_profile = format!(
        "The email server profile {} is inactive, so the mailbox {} can't synchronize. Activate the email server profile, and then test and enable the mailbox again.",
        f.profile_name, f.name
    );
    let mut alerts = vec![Alert::error(f.id, TRACE_PROFILE_INACTIVE, "InvalidIncomingEmailServerProfile", text)];
    if let Some(p) = f.profile {
        alerts.push(Alert::error(p, TRACE_PROFILE_INACTIVE, "EmailServerProfileInactive", on_profile));
    }
    Some(Failure { channels: ALL_CHANNELS, transient: false, code: CODE_PROFILE_INACTIVE, alerts })
}

fn approval_failure(f: &Facts, org: &OrgFlags) -> Option<Failure> {
    let required = if f.is_queue { org.approve_queues } else { org.approve_users };
    if !required || f.approved {
        return None;
    }
    let (name, profile) = (&f.name, &f.profile_name);
    let texts = [
        (
            TRACE_INCOMING_APPROVAL,
            "IncomingEmailS2SApprovalNeeded",
            format!(
                "Email cannot be received because the email address of the mailbox {name} requires an approval by an Office 365 administrator. The mailbox didn't synchronize. A notification about this is posted on the alerts wall for the owner of the email server profile {profile}."
            ),
        ),
        (
            TRACE_OUTGOING_APPROVAL,
            "OutgoingEmailS2SApprovalNeeded",
            format!(
                "Email cannot be sent because the email address of the mailbox {name} requires an approval by an Office 365 administrator. The mailbox didn't synchronize. The owner of the email server profile {profile} has been notified."
            ),
        ),
        (
            TRACE_EXCHANGESYNC_APPROVAL,
            "ExchangeSyncEmailS2SApprovalNeeded",
            format!(
                "Appointments, contacts, and tasks can't be synchronized because the email address of the mailbox {name} requires an approval by an Office 365 administrator. A notification about this is posted on the alerts wall for the owner of the email server profile {profile}."
            ),
        ),
    ];
    let alerts =
        f.tested.iter().zip(texts).filter(|(t, _)| **t).map(|(_, (code, kind, text))| Alert::error(f.id, code, kind, text)).collect();
    Some(Failure { channels: ALL_CHANNELS, transient: false, code: CODE_APPROVAL, alerts })
}

fn kind_failure(kind: FailureKind, f: &Facts) -> Failure {
    let mut alert = Alert::error(f.id, kind.trace_code(), kind.type_display(), kind.text(f));
    alert.details = kind.details().map(str::to_string);
    Failure { channels: kind.channels(), transient: kind.transient(), code: kind.error_code(), alerts: vec![alert] }
}

/// Deterministic "no Exchange Online license" share of `--unlicensed-share` (per id and seed).
fn unlicensed(seed: u64, share: f64, id: &Uuid) -> bool {
    share > 0.0 && ((mix_hash(seed, id) >> 11) as f64 / (1u64 << 53) as f64) < share
}

/// Why `f`'s mailbox cannot synchronize now, first match wins: no or inactive profile, approval
/// required and missing, the failure kinds in table order, `--unlicensed-share` (as `license`).
pub fn diagnose(store: &Store, config: &SimConfig, org: &OrgFlags, f: &Facts) -> Option<Failure> {
    if let Some(failure) = profile_failure(f).or_else(|| approval_failure(f, org)) {
        return Some(failure);
    }
    if let Some(kind) = FailureKind::ALL.into_iter().find(|k| present(store, *k, f)) {
        return Some(kind_failure(kind, f));
    }
    unlicensed(config.seed, config.unlicensed_share, &f.id).then(|| {
        let mut failure = kind_failure(FailureKind::License, f);
        failure.alerts[0].code = TRACE_UNLICENSED;
        failure
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_specs() {
        let m = parse_mix("license=0.1, owner-mismatch=0.05,timeout=0").unwrap();
        assert_eq!(m, vec![(FailureKind::License, 0.1), (FailureKind::OwnerMismatch, 0.05), (FailureKind::Timeout, 0.0)]);
        assert!(parse_mix("").unwrap().is_empty());
        assert!(parse_mix("nosuch=0.1").unwrap_err().contains("unknown failure kind"));
        assert!(parse_mix("license").is_err());
        assert!(parse_mix("license=1.5").is_err());
        assert!(parse_mix("license=x").is_err());
        assert!(parse_mix("license=0.1,license=0.2").unwrap_err().contains("twice"));
        assert!(parse_mix("license=0.6,access-mode=0.6").unwrap_err().contains("user mailboxes"));
        // Queue-only and user-only kinds do not add up against each other.
        assert!(parse_mix("queue-team-without-role=0.7,access-mode=0.7").is_ok());
    }

    #[test]
    fn kinds_round_trip_and_codes_are_distinct() {
        let mut codes = std::collections::HashSet::new();
        for k in FailureKind::ALL {
            assert_eq!(FailureKind::parse(k.name()), Some(k));
            assert!(codes.insert(k.error_code()), "{k:?}");
        }
        assert_eq!(FailureKind::OwnerMismatch.error_code(), i64::from(0x8004_8306_u32 as i32));
        assert_eq!(FailureKind::QueueTeamWithoutRole.error_code(), -2_147_209_462);
    }

    #[test]
    fn unlicensed_is_deterministic_and_proportional() {
        let ids: Vec<Uuid> = (0..2000u32).map(|i| crate::auth::name_guid(&format!("m{i}"))).collect();
        let a: Vec<bool> = ids.iter().map(|id| unlicensed(5, 0.25, id)).collect();
        let b: Vec<bool> = ids.iter().map(|id| unlicensed(5, 0.25, id)).collect();
        assert_eq!(a, b);
        let share = a.iter().filter(|x| **x).count() as f64 / ids.len() as f64;
        assert!((0.2..0.3).contains(&share), "{share}");
        assert!(!ids.iter().any(|id| unlicensed(5, 0.0, id)));
        assert!(ids.iter().all(|id| unlicensed(5, 1.0, id)));
    }
}
