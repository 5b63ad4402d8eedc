//! Deterministic initial data: the organization, three email server profiles, the principals,
//! `mailboxes` users with their mailboxes, `queues` queues with theirs, and a few alerts.
//!
//! User mailboxes get a mix of states by index `i` (0-based, see [`user_state`]); the same
//! `mailboxes` always gives the same mix, whatever the seed:
//! - `i % 12 == 11`, only with [`SimConfig::mixed_states`]: [`SeedState::Done`], Exchange Online profile, 2/2/1, approved (user and
//!   mailbox), Test & Enable completed with success (`mailboxstatus` 1, statuses 1).
//! - other `i % 6 == 5` (all of them without `mixed_states`): [`SeedState::Configured`], profile and 2/2/1 set, approval pending.
//! - `i % 8 == 6`: [`SeedState::Partial`], profile set but incoming/outgoing 1 (Outlook) and
//!   ACT 0 (none) — not server-side synchronization.
//! - `i % 20 == 7`, only with [`SimConfig::mixed_states`]: [`SeedState::Inactive`]
//!   (statecode 1, statuscode 2), otherwise unconfigured.
//!
//! Done and inactive mailboxes are opt-in: crmsync's tests configure and test "every" mailbox
//! of their seeds and expect all of them active and none already working.
//! - the rest: [`SeedState::Unconfigured`], no profile, defaults 0/1/0, approval pending.
//!
//! Queue mailboxes are unconfigured (no profile, ACT 2, outgoing 0) with approval pending.

use std::collections::HashSet;
use std::time::SystemTime;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::SimConfig;
use crate::auth::Security;
use crate::fixtures as fx;
use crate::store::{Row, Store};

/// SplitMix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn uuid(&mut self) -> Uuid {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid()
    }
}

const FIRST: &[&str] = &[
    "Avery", "Liam", "Noah", "Emma", "Olivia", "Mateo", "Sofia", "Aiden", "Chloe", "Ethan", "Grace", "Hiro", "Isla", "Jonas", "Kira",
    "Lucas", "Maya", "Nina", "Omar", "Priya", "Quinn", "Rosa", "Samir", "Tara",
];
const LAST: &[&str] = &[
    "Adams", "O'Brien", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Kowalski", "Lopez", "Müller",
    "Nakamura", "Okafor", "Patel", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Weber", "Young",
];

fn created_on(minutes: u64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2024-01-15T08:00:00Z").expect("valid").to_utc();
    (base + chrono::Duration::minutes(minutes as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn obj(v: Value) -> Row {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("object literal"),
    }
}

fn merge(mut a: Row, b: Row) -> Row {
    a.extend(b);
    a
}

fn email_part(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).map(|c| if c == 'ü' { 'u' } else { c }).collect::<String>().to_lowercase()
}

/// Columns every new mailbox gets from the platform.
pub fn mailbox_defaults(created: &str) -> Row {
    obj(json!({
        "_organizationid_value": fx::ORGANIZATION_ID,
        "_owningbusinessunit_value": fx::BUSINESS_UNIT_ID,
        "_createdby_value": fx::ADMIN_USER_ID,
        "_modifiedby_value": fx::ADMIN_USER_ID,
        "createdon": created,
        "modifiedon": created,
        "incomingemaildeliverymethod": 0,
        "outgoingemaildeliverymethod": 1,
        "actdeliverymethod": 0,
        "incomingemailstatus": 0,
        "outgoingemailstatus": 0,
        "actstatus": 0,
        "mailboxstatus": 0,
        "statecode": 0,
        "statuscode": 1,
        "emailrouteraccessapproval": 0,
        "isemailaddressapprovedbyo365admin": false,
        "testemailconfigurationscheduled": false,
        "testemailconfigurationretrycount": 0,
        "enabledforincomingemail": true,
        "enabledforoutgoingemail": true,
        "enabledforact": true,
        "isforwardmailbox": false,
        "isserviceaccount": false,
        "orgmarkedasprimaryforexchangesync": false,
        "isactsyncorgflagset": false,
        "processanddeleteemails": false,
        "allowemailconnectortousecredentials": false,
        "verboseloggingenabled": 0,
        "processingstatecode": 0,
        "postponemailboxprocessinguntil": created,
        "postponesendinguntil": created,
        "ispasswordset": false,
        "isdataencryptionkeyset": false,
        "transientfailurecount": 0,
        "forcedunlockcount": 0,
        "noemailcount": 0,
        "noactcount": 0,
        "exchangecontactsimportstatus": 0,
        "isexchangecontactsimportscheduled": false,
        "officeappsdeploymentstatus": 0,
        "officeappsdeploymentscheduled": false,
        "acsenabledforoutgoingemail": false,
    }))
}

/// Defaults applied when a PATCH upsert creates a row of `logical`.
pub fn create_defaults(logical: &str, created: &str, by: &Uuid) -> Row {
    let common =
        obj(json!({"createdon": created, "modifiedon": created, "_createdby_value": by.to_string(), "_modifiedby_value": by.to_string()}));
    match logical {
        "mailbox" => merge(mailbox_defaults(created), common),
        "emailserverprofile" | "queue" => merge(
            obj(json!({"statecode": 0, "statuscode": 1, "_ownerid_value": by.to_string(), "_organizationid_value": fx::ORGANIZATION_ID})),
            common,
        ),
        "systemuser" => merge(
            obj(
                json!({"emailrouteraccessapproval": 0, "isemailaddressapprovedbyo365admin": false, "isdisabled": false, "accessmode": 0, "_businessunitid_value": fx::BUSINESS_UNIT_ID, "organizationid": fx::ORGANIZATION_ID}),
            ),
            common,
        ),
        _ => common,
    }
}

fn principal(id: &str, first: &str, last: &str, email: &str, extra: Value) -> Row {
    let full = if last.is_empty() { first.to_string() } else { format!("{first} {last}") };
    merge(
        obj(json!({
            "systemuserid": id,
            "firstname": first,
            "lastname": if last.is_empty() { Value::Null } else { json!(last) },
            "fullname": full,
            "internalemailaddress": email,
            "domainname": email,
            "_businessunitid_value": fx::BUSINESS_UNIT_ID,
            "organizationid": fx::ORGANIZATION_ID,
            "accessmode": 0,
            "isdisabled": false,
            "islicensed": true,
            "setupuser": false,
            "isintegrationuser": false,
            "emailrouteraccessapproval": 1,
            "isemailaddressapprovedbyo365admin": true,
            "incomingemaildeliverymethod": 0,
            "outgoingemaildeliverymethod": 1,
            "createdon": created_on(0),
            "modifiedon": created_on(0),
            "_createdby_value": fx::ADMIN_USER_ID,
            "_modifiedby_value": fx::ADMIN_USER_ID,
            "azureactivedirectoryobjectid": crate::auth::name_guid(&format!("aad:{id}")).to_string(),
        })),
        obj(extra),
    )
}

/// State of a seeded user mailbox (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeedState {
    Unconfigured,
    Partial,
    Configured,
    Done,
    Inactive,
}

/// The state of user mailbox `i` (`mixed`: [`SimConfig::mixed_states`]).
pub fn user_state(i: usize, mixed: bool) -> SeedState {
    if i % 12 == 11 && mixed {
        SeedState::Done
    } else if i % 6 == 5 {
        SeedState::Configured
    } else if i % 8 == 6 {
        SeedState::Partial
    } else if i % 20 == 7 && mixed {
        SeedState::Inactive
    } else {
        SeedState::Unconfigured
    }
}

/// How many user mailboxes of each state `mailboxes` seeds.
pub fn state_counts(mailboxes: usize, mixed: bool) -> std::collections::BTreeMap<SeedState, usize> {
    let mut m = std::collections::BTreeMap::new();
    for i in 0..mailboxes {
        *m.entry(user_state(i, mixed)).or_insert(0) += 1;
    }
    m
}

/// Ids of seeded rows that tests commonly need.
#[derive(Debug, Clone)]
pub struct SeedIds {
    pub exo_profile: Uuid,
    pub pop3_profile: Uuid,
    pub hybrid_profile: Uuid,
    pub users: Vec<Uuid>,
    /// State of each user's mailbox (same order as `users`).
    pub user_states: Vec<SeedState>,
    pub queues: Vec<Uuid>,
}

pub fn seed(store: &mut Store, config: &SimConfig) -> SeedIds {
    let mut rng = Rng::new(config.seed);
    let org = fx::ORGANIZATION_ID;
    let admin: Uuid = fx::ADMIN_USER_ID.parse().expect("valid");

    // Security and tokens.
    let mut security = Security::seeded();
    let sysadmin: Uuid = fx::SYSADMIN_USER_ID.parse().expect("valid");
    let reader: Uuid = fx::READER_USER_ID.parse().expect("valid");
    let app: Uuid = fx::APP_USER_ID.parse().expect("valid");
    for u in [admin, sysadmin, app] {
        security.assign_role(u, fx::ROLE_SYSTEM_ADMINISTRATOR);
    }
    security.assign_role(reader, fx::ROLE_READER);
    security.m365_admins.insert(admin);
    store.security = security;
    store.tokens.insert(fx::ADMIN_TOKEN, admin, None);
    store.tokens.insert(fx::SYSADMIN_TOKEN, sysadmin, None);
    store.tokens.insert(fx::READER_TOKEN, reader, None);
    store.tokens.insert(fx::EXPIRED_TOKEN, admin, Some(SystemTime::UNIX_EPOCH));

    // Principals (no mailboxes).
    store.insert(
        "systemuser",
        admin,
        principal(fx::ADMIN_USER_ID, "Sim", "Administrator", "admin@contoso.example", json!({"title": "Global Administrator"})),
    );
    store.insert("systemuser", sysadmin, principal(fx::SYSADMIN_USER_ID, "Sim", "SystemAdmin", "sysadmin@contoso.example", json!({})));
    store.insert("systemuser", reader, principal(fx::READER_USER_ID, "Sim", "Reader", "reader@contoso.example", json!({})));
    store.insert(
        "systemuser",
        app,
        principal(
            fx::APP_USER_ID,
            fx::APP_USER_NAME,
            "",
            "crmsync-app@contoso.example",
            json!({"applicationid": fx::CLIENT_ID, "accessmode": 4, "islicensed": false, "emailrouteraccessapproval": 0, "isemailaddressapprovedbyo365admin": false, "internalemailaddress": null}),
        ),
    );

    // Email server profiles.
    let exo = rng.uuid();
    let pop3 = rng.uuid();
    let hybrid = rng.uuid();
    let profile = |name: &str, servertype: i64, typename: &str, state: i64, extra: Value| {
        merge(
            obj(json!({
                "name": name,
                "servertype": servertype,
                "emailservertypename": typename,
                "statecode": state,
                "statuscode": if state == 0 { 1 } else { 2 },
                "_ownerid_value": fx::ADMIN_USER_ID,
                "_owninguser_value": fx::ADMIN_USER_ID,
                "_owningbusinessunit_value": fx::BUSINESS_UNIT_ID,
                "_organizationid_value": org,
                "_createdby_value": fx::ADMIN_USER_ID,
                "_modifiedby_value": fx::ADMIN_USER_ID,
                "createdon": created_on(1),
                "modifiedon": created_on(1),
                "incomingauthenticationprotocol": 0,
                "outgoingauthenticationprotocol": 0,
                "incomingusessl": true,
                "outgoingusessl": true,
                "incominguseimpersonation": false,
                "outgoinguseimpersonation": false,
                "usesamesettingsforoutgoingconnections": true,
                "usedefaulttenantid": true,
                "isincomingpasswordset": false,
                "isoutgoingpasswordset": false,
                "moveundeliveredemails": false,
                "sendemailalert": false,
                "timeoutmailboxconnection": false,
                "outgoingautograntdelegateaccess": false,
                "maxconcurrentconnections": 10,
                "minpollingintervalinminutes": 0,
            })),
            obj(extra),
        )
    };
    store.insert(
        "emailserverprofile",
        exo,
        profile(fx::EXO_PROFILE_NAME, 0, "Exchange Online", 0, json!({"incomingcredentialretrieval": 2, "outgoingcredentialretrieval": 2, "useautodiscover": true, "serverauthority": 0, "description": "Default profile for Exchange Online in the same tenant."})),
    );
    store.insert(
        "emailserverprofile",
        pop3,
        profile(fx::POP3_PROFILE_NAME, 1, "Other (POP3/SMTP)", 0, json!({"incomingcredentialretrieval": 0, "outgoingcredentialretrieval": 0, "useautodiscover": false, "incomingauthenticationprotocol": 3, "outgoingauthenticationprotocol": 3, "incomingserverlocation": "pop3.contoso.example", "outgoingserverlocation": "smtp.contoso.example", "incomingportnumber": 995, "outgoingportnumber": 587})),
    );
    store.insert(
        "emailserverprofile",
        hybrid,
        profile(fx::HYBRID_PROFILE_NAME, 2, "Exchange Server (Hybrid)", 1, json!({"incomingcredentialretrieval": 6, "outgoingcredentialretrieval": 6, "useautodiscover": false, "incomingserverlocation": "https://mail.contoso.example/EWS/Exchange.asmx", "outgoingserverlocation": "https://mail.contoso.example/EWS/Exchange.asmx"})),
    );

    // Organization.
    store.insert(
        "organization",
        org.parse().expect("valid"),
        obj(json!({
            "organizationid": org,
            "name": fx::ORG_NAME,
            "defaultemailsettings": fx::DEFAULT_EMAIL_SETTINGS,
            "emailconnectionchannel": 1,
            "_defaultemailserverprofileid_value": null,
            "requireapprovalforuseremail": true,
            "requireapprovalforqueueemail": true,
            "generatealertsforerrors": true,
            "generatealertsforwarnings": true,
            "generatealertsforinformation": true,
            "notifymailboxownerofemailserverlevelalerts": true,
            "ignoreinternalemail": false,
            "emailcorrelationenabled": true,
            "allowunresolvedpartiesonemailsend": false,
            "isdisabled": false,
            "languagecode": 1033,
            "localeid": 1033,
            "maxverboseloggingmailbox": 25,
            "mailboxintermittentissueminrange": 2,
            "mailboxpermanentissueminrange": 5,
            "incomingemailexchangeemailretrievalbatchsize": 10,
            "orgdborgsettings": "<OrgSettings><RequirePrivilegeToSelfApproveEmailAddress>true</RequirePrivilegeToSelfApproveEmailAddress></OrgSettings>",
            "createdon": created_on(0),
            "modifiedon": created_on(0),
            "_createdby_value": fx::ADMIN_USER_ID,
            "_modifiedby_value": fx::ADMIN_USER_ID,
        })),
    );

    // Users with mailboxes.
    let offset = (config.seed % FIRST.len() as u64) as usize;
    let mut names = HashSet::new();
    let mut emails = HashSet::new();
    let mut users = Vec::new();
    let mut user_states = Vec::new();
    let mut first_configured = None;
    for i in 0..config.mailboxes {
        let (first, mut last) = match i {
            0 => ("Avery".to_string(), "Adams".to_string()),
            1 => ("Liam".to_string(), "O'Brien".to_string()),
            _ => (FIRST[(i + offset) % FIRST.len()].to_string(), LAST[(i * 7 + offset + i / LAST.len()) % LAST.len()].to_string()),
        };
        if !names.insert(format!("{first} {last}")) {
            last = format!("{last} {i}");
            names.insert(format!("{first} {last}"));
        }
        let full = format!("{first} {last}");
        let mut email = format!("{}.{}@contoso.example", email_part(&first), email_part(&last));
        if !emails.insert(email.clone()) {
            email = format!("{}.{}{i}@contoso.example", email_part(&first), email_part(&last));
            emails.insert(email.clone());
        }
        let uid = rng.uuid();
        let mid = rng.uuid();
        let created = created_on(10 + i as u64);
        let state = user_state(i, config.mixed_states);
        user_states.push(state);
        let done = state == SeedState::Done;
        let approval = if done { 1 } else { 2 };
        store.insert(
            "systemuser",
            uid,
            principal(
                &uid.to_string(),
                &first,
                &last,
                &email,
                json!({"emailrouteraccessapproval": approval, "isemailaddressapprovedbyo365admin": done, "_defaultmailbox_value": mid.to_string(), "createdon": created, "modifiedon": created, "title": "Sales"}),
            ),
        );
        let mut mbx = mailbox_defaults(&created);
        mbx.extend(obj(json!({
            "mailboxid": mid.to_string(),
            "name": full,
            "emailaddress": email,
            "_regardingobjectid_value": uid.to_string(),
            "_ownerid_value": uid.to_string(),
            "_owninguser_value": uid.to_string(),
            "emailrouteraccessapproval": 2,
        })));
        match state {
            SeedState::Configured | SeedState::Done => {
                if state == SeedState::Configured {
                    first_configured.get_or_insert(mid);
                }
                mbx.extend(obj(json!({
                    "_emailserverprofile_value": exo.to_string(),
                    "incomingemaildeliverymethod": 2,
                    "outgoingemaildeliverymethod": 2,
                    "actdeliverymethod": 1,
                })));
            }
            SeedState::Partial => {
                mbx.extend(obj(json!({
                    "_emailserverprofile_value": exo.to_string(),
                    "incomingemaildeliverymethod": 1,
                    "outgoingemaildeliverymethod": 1,
                    "actdeliverymethod": 0,
                })));
            }
            SeedState::Inactive => {
                mbx.extend(obj(json!({"statecode": 1, "statuscode": 2})));
            }
            SeedState::Unconfigured => {}
        }
        if done {
            let tested = created_on(7000 + i as u64);
            mbx.extend(obj(json!({
                "emailrouteraccessapproval": 1,
                "isemailaddressapprovedbyo365admin": true,
                "incomingemailstatus": 1,
                "outgoingemailstatus": 1,
                "actstatus": 1,
                "mailboxstatus": 1,
                "enabledforincomingemail": true,
                "enabledforoutgoingemail": true,
                "enabledforact": true,
                "testmailboxaccesscompletedon": tested,
                "testandenablelastattemptedon": tested,
                "_testandenablelastattemptedby_value": fx::ADMIN_USER_ID,
                "modifiedon": tested,
            })));
        }
        store.insert("mailbox", mid, mbx);
        users.push(uid);
    }

    // Queues with mailboxes.
    let mut queues = Vec::new();
    for n in 1..=config.queues {
        let qid = rng.uuid();
        let mid = rng.uuid();
        let created = created_on(5000 + n as u64);
        let name = format!("Support Queue {n}");
        let email = format!("support{n}@contoso.example");
        store.insert(
            "queue",
            qid,
            obj(json!({
                "queueid": qid.to_string(),
                "name": name,
                "emailaddress": email,
                "emailrouteraccessapproval": 2,
                "isemailaddressapprovedbyo365admin": false,
                "incomingemaildeliverymethod": 0,
                "outgoingemaildeliverymethod": 0,
                "incomingemailfilteringmethod": 0,
                "queueviewtype": 0,
                "queuetypecode": 1,
                "statecode": 0,
                "statuscode": 1,
                "numberofitems": 0,
                "numberofmembers": 0,
                "_defaultmailbox_value": mid.to_string(),
                "_ownerid_value": fx::ADMIN_USER_ID,
                "_owninguser_value": fx::ADMIN_USER_ID,
                "_owningbusinessunit_value": fx::BUSINESS_UNIT_ID,
                "_organizationid_value": org,
                "_createdby_value": fx::ADMIN_USER_ID,
                "_modifiedby_value": fx::ADMIN_USER_ID,
                "createdon": created,
                "modifiedon": created,
            })),
        );
        let mut mbx = mailbox_defaults(&created);
        mbx.extend(obj(json!({
            "mailboxid": mid.to_string(),
            "name": name,
            "emailaddress": email,
            "_regardingobjectid_value": qid.to_string(),
            "_ownerid_value": fx::ADMIN_USER_ID,
            "_owninguser_value": fx::ADMIN_USER_ID,
            "emailrouteraccessapproval": 2,
            "outgoingemaildeliverymethod": 0,
            "actdeliverymethod": 2,
        })));
        store.insert("mailbox", mid, mbx);
        queues.push(qid);
    }

    // A couple of alerts.
    let trace = |text: &str, level: i64, code: i64, regarding: &Uuid, kind: &str| {
        obj(json!({
            "text": text,
            "level": level,
            "tracecode": code,
            "tracestatus": false,
            "errortypedisplay": kind,
            "errordetails": null,
            "machinename": "SIM-ASYNC-01",
            "canbedeleted": true,
            "isunique": false,
            "collationlevel": 0,
            "_regardingobjectid_value": regarding.to_string(),
            "_organizationid_value": org,
            "createdon": created_on(6000),
            "modifiedon": created_on(6000),
        }))
    };
    let t1 = rng.uuid();
    store.insert(
        "tracelog",
        t1,
        merge(
            trace("The email server profile Microsoft Exchange Online has not been tested yet.", 2, 0, &exo, "EmailServerProfileNotTested"),
            obj(json!({"tracelogid": t1.to_string()})),
        ),
    );
    if let Some(mid) = first_configured {
        let t2 = rng.uuid();
        store.insert(
            "tracelog",
            t2,
            merge(
                trace("Email cannot be received for the mailbox because the email address of the mailbox is not approved. The mailbox has been disabled for receiving email.", 3, 0, &mid, "IncomingEmailS2SApprovalNeeded"),
                obj(json!({"tracelogid": t2.to_string()})),
            ),
        );
    }

    let ids = SeedIds { exo_profile: exo, pop3_profile: pop3, hybrid_profile: hybrid, users, user_states, queues };
    crate::health::seed_mix(store, config, &ids);
    crate::sync::seed(store, config);
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded(seed: u64, mailboxes: usize) -> (Store, SeedIds) {
        let mut store = Store::new();
        let ids = seed_all(&mut store, seed, mailboxes);
        (store, ids)
    }

    fn seed_all(store: &mut Store, seed: u64, mailboxes: usize) -> SeedIds {
        super::seed(store, &SimConfig { seed, mailboxes, queues: 3, mixed_states: true, ..SimConfig::default() })
    }

    #[test]
    fn deterministic_and_complete() {
        let (a, ia) = seeded(42, 40);
        let (b, ib) = seeded(42, 40);
        let (_, ic) = seeded(43, 40);
        assert_eq!(ia.users, ib.users);
        assert_ne!(ia.users, ic.users);
        assert_eq!(a.rows("mailbox").count(), 43);
        assert_eq!(b.rows("systemuser").count(), 44, "40 users + 4 principals");
        let names: HashSet<&str> = a.rows("systemuser").filter_map(|r| r["fullname"].as_str()).collect();
        assert_eq!(names.len(), 44, "full names are unique");
        assert!(names.contains("Liam O'Brien") && names.contains("Avery Adams"));
        let emails: HashSet<&str> = a.rows("mailbox").filter_map(|r| r["emailaddress"].as_str()).collect();
        assert_eq!(emails.len(), 43, "addresses are unique");
        for (uid, state) in ia.users.iter().zip(&ia.user_states) {
            let mbx = a.mailbox_of(uid).expect("every user has a mailbox");
            let m = a.get("mailbox", &mbx).unwrap();
            let approval = if *state == SeedState::Done { 1 } else { 2 };
            assert_eq!(m["emailrouteraccessapproval"], approval);
            assert_eq!(m["statecode"], if *state == SeedState::Inactive { 1 } else { 0 });
        }
        let configured = a.rows("mailbox").filter(|r| r["_emailserverprofile_value"] == json!(ia.exo_profile.to_string())).count();
        assert_eq!(configured, 6 + 5, "6 configured or done + 5 partly configured");
        let counts = state_counts(40, true);
        assert_eq!(counts[&SeedState::Done], 3);
        assert_eq!(counts[&SeedState::Configured], 3);
        assert_eq!(counts[&SeedState::Partial], 5);
        assert_eq!(counts[&SeedState::Inactive], 2);
        assert_eq!(counts[&SeedState::Unconfigured], 27);
        let plain = state_counts(40, false);
        assert!(!plain.contains_key(&SeedState::Inactive) && !plain.contains_key(&SeedState::Done), "only on request");
        assert_eq!((plain[&SeedState::Configured], plain[&SeedState::Partial], plain[&SeedState::Unconfigured]), (6, 5, 29));
    }
}
