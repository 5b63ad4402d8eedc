//! Table and column metadata.
//!
//! The property names and EDM types come from `schema/webapi-properties.json` (a real org's
//! CSDL). On top of that this module adds what the CSDL does not say: option sets, read-only and
//! write-only columns, which navigation properties can be bound, and the few newer columns the
//! reference names. Everything not listed in the JSON or in [`EXTRA_COLUMNS`] is unknown and
//! rejected by the query parser and by writes.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

const PROPERTIES_JSON: &str = include_str!("../schema/webapi-properties.json");

/// Option set: `(value, label)`.
pub type Options = &'static [(i64, &'static str)];

/// What a column holds, as far as reads, writes and `$filter` care.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    String,
    Int,
    BigInt,
    Double,
    Decimal,
    Bool {
        labels: (&'static str, &'static str),
    },
    Picklist(Options),
    DateTime,
    Guid,
    /// `_x_value` property; `targets` are logical names the lookup may point to.
    Lookup {
        targets: Vec<String>,
    },
    Binary,
}

impl Kind {
    /// EDM type name used in OData error messages.
    pub fn edm(&self) -> &'static str {
        match self {
            Kind::String => "Edm.String",
            Kind::Int | Kind::Picklist(_) => "Edm.Int32",
            Kind::BigInt => "Edm.Int64",
            Kind::Double => "Edm.Double",
            Kind::Decimal => "Edm.Decimal",
            Kind::Bool { .. } => "Edm.Boolean",
            Kind::DateTime => "Edm.DateTimeOffset",
            Kind::Guid | Kind::Lookup { .. } => "Edm.Guid",
            Kind::Binary => "Edm.Binary",
        }
    }
}

/// Whether the Web API lets a client read and write the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    /// Set by the platform only; writes are rejected with 400.
    ReadOnly,
    /// IsValidForRead false (passwords, secrets): always reads as null.
    WriteOnly,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    pub access: Access,
}

/// A single-valued navigation property and the `_x_value` column it sets.
#[derive(Debug, Clone)]
pub struct Navigation {
    pub name: String,
    /// Lookup column (`_x_value`) behind the navigation property, when there is one.
    pub column: Option<String>,
    /// Logical name of the target table.
    pub target: String,
    /// Whether `name@odata.bind` is accepted in PATCH bodies.
    pub bindable: bool,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub logical_name: String,
    pub entity_set: String,
    pub primary_id: String,
    pub primary_name: String,
    /// Object type code used in privilege error messages.
    pub otc: i32,
    /// Suffix of the privilege names (`prvRead<suffix>`).
    pub privilege_entity: &'static str,
    pub columns: BTreeMap<String, Column>,
    pub navigations: BTreeMap<String, Navigation>,
    /// `(statecode, default statuscode, allowed statuscodes)` when the table has a state.
    pub states: Option<&'static [(i64, i64, &'static [i64])]>,
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.logical_name == other.logical_name
    }
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.get(name)
    }

    /// OData type name used in messages: `Microsoft.Dynamics.CRM.mailbox`.
    pub fn type_name(&self) -> String {
        format!("Microsoft.Dynamics.CRM.{}", self.logical_name)
    }

    /// The navigation property whose lookup column is `column` and whose target is `target`.
    pub fn navigation_for(&self, column: &str, target: &str) -> Option<&Navigation> {
        self.navigations.values().find(|n| n.column.as_deref() == Some(column) && n.target == target)
    }
}

#[derive(Debug)]
pub struct Schema {
    tables: BTreeMap<String, Table>,
}

impl Schema {
    /// The process-wide schema (parsed once from the embedded JSON).
    pub fn get() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(build)
    }

    pub fn by_entity_set(&self, set: &str) -> Option<&Table> {
        self.tables.values().find(|t| t.entity_set == set)
    }

    pub fn by_logical_name(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.values()
    }
}

// ---------------------------------------------------------------------------------------------
// Option sets (values and labels from dataverse-reference.md)

const APPROVAL: Options = &[(0, "Empty"), (1, "Approved"), (2, "Pending Approval"), (3, "Rejected")];
const MBX_INCOMING: Options =
    &[(0, "None"), (1, "Microsoft Dynamics 365 for Outlook"), (2, "Server-Side Synchronization or Email Router"), (3, "Forward Mailbox")];
const MBX_OUTGOING: Options = &[(0, "None"), (1, "Microsoft Dynamics 365 for Outlook"), (2, "Server-Side Synchronization or Email Router")];
const MBX_ACT: Options = &[(0, "Microsoft Dynamics 365 for Outlook"), (1, "Server-Side Synchronization"), (2, "None")];
const RUN_STATUS: Options = &[(0, "Not Run"), (1, "Success"), (2, "Failure")];
const STATE: Options = &[(0, "Active"), (1, "Inactive")];
const STATUS: Options = &[(1, "Active"), (2, "Inactive")];
const STATES: &[(i64, i64, &[i64])] = &[(0, 1, &[1]), (1, 2, &[2])];
const CONTACTS_IMPORT: Options = &[(0, "NotImported"), (1, "Imported"), (2, "ImportFailed")];
const OFFICE_APPS: Options = &[(0, "NotInstalled"), (1, "Installed"), (2, "InstallFailed"), (3, "UninstallFailed"), (4, "UpgradeRequired")];
const SERVER_TYPE: Options =
    &[(0, "Exchange Server"), (1, "Other (POP3/SMTP)"), (2, "Exchange Server (Hybrid)"), (3, "Exchange Online (Hybrid)"), (4, "IMAP/SMTP")];
const AUTH_PROTOCOL: Options = &[(0, "Auto Detect"), (1, "Negotiate"), (2, "NTLM"), (3, "Basic"), (4, "OAuth")];
const CREDENTIAL_RETRIEVAL: Options = &[
    (0, "Credentials Specified by a User or Queue"),
    (1, "Credentials Specified in Email Server Profile"),
    (2, "Server to Server Authentication"),
    (3, "Windows Integrated Authentication"),
    (4, "Without Credentials (Anonymous)"),
    (5, "Gmail OAuth"),
    (6, "Exchange Hybrid Modern Auth (HMA)"),
    (7, "OAuth with Microsoft Entra ID"),
];
const EXCHANGE_VERSION: Options = &[
    (0, "Exchange 2007"),
    (1, "Exchange 2007 SP1"),
    (2, "Exchange 2010"),
    (3, "Exchange 2010 SP1"),
    (4, "Exchange 2010 SP2"),
    (5, "Exchange 2013"),
];
const SUCCESS_FAILURE: Options = &[(0, "Failure"), (1, "Success")];
const EXECUTION_STATUS: Options = &[(0, "Failure"), (1, "Success"), (2, "Warning")];
const SERVER_AUTHORITY: Options =
    &[(0, "Public (+GCC)"), (1, "US Government (GCC High and DoD)"), (2, "China (21Vianet)"), (3, "Automatic")];
const CONNECTION_CHANNEL: Options = &[(0, "Server-Side Synchronization"), (1, "Microsoft Dynamics 365 Email Router")];
const ACCESS_MODE: Options =
    &[(0, "Read-Write"), (1, "Administrative"), (2, "Read"), (3, "Support User"), (4, "Non-interactive"), (5, "Delegated Admin")];
const QUEUE_INCOMING: Options = &[(0, "None"), (2, "Server-Side Synchronization or Email Router"), (3, "Forward Mailbox")];
const QUEUE_OUTGOING: Options = &[(0, "None"), (2, "Server-Side Synchronization or Email Router")];
const QUEUE_FILTERING: Options = &[
    (0, "All email messages"),
    (1, "Email messages in response to Dynamics 365 email"),
    (2, "Email messages from Dynamics 365 Leads, Contacts and Accounts"),
    (3, "Email messages from Dynamics 365 records that are email enabled"),
    (4, "No email messages"),
];
const QUEUE_VIEW: Options = &[(0, "Public"), (1, "Private")];
const TRACE_LEVEL: Options = &[(1, "Information"), (2, "Warning"), (3, "Error")];

fn picklists(table: &str) -> &'static [(&'static str, Options)] {
    match table {
        "mailbox" => &[
            ("incomingemaildeliverymethod", MBX_INCOMING),
            ("outgoingemaildeliverymethod", MBX_OUTGOING),
            ("actdeliverymethod", MBX_ACT),
            ("emailrouteraccessapproval", APPROVAL),
            ("incomingemailstatus", RUN_STATUS),
            ("outgoingemailstatus", RUN_STATUS),
            ("actstatus", RUN_STATUS),
            ("mailboxstatus", RUN_STATUS),
            ("acsoutgoingemailstatus", RUN_STATUS),
            ("exchangecontactsimportstatus", CONTACTS_IMPORT),
            ("officeappsdeploymentstatus", OFFICE_APPS),
            ("statecode", STATE),
            ("statuscode", STATUS),
        ],
        "emailserverprofile" => &[
            ("servertype", SERVER_TYPE),
            ("incomingauthenticationprotocol", AUTH_PROTOCOL),
            ("outgoingauthenticationprotocol", AUTH_PROTOCOL),
            ("incomingcredentialretrieval", CREDENTIAL_RETRIEVAL),
            ("outgoingcredentialretrieval", CREDENTIAL_RETRIEVAL),
            ("exchangeversion", EXCHANGE_VERSION),
            ("lastauthorizationstatus", SUCCESS_FAILURE),
            ("lasttestvalidationstatus", SUCCESS_FAILURE),
            ("lasttestexecutionstatus", EXECUTION_STATUS),
            ("serverauthority", SERVER_AUTHORITY),
            ("statecode", STATE),
            ("statuscode", STATUS),
        ],
        "organization" => &[("emailconnectionchannel", CONNECTION_CHANNEL)],
        "systemuser" => &[
            ("emailrouteraccessapproval", APPROVAL),
            ("incomingemaildeliverymethod", MBX_INCOMING),
            ("outgoingemaildeliverymethod", MBX_OUTGOING),
            ("accessmode", ACCESS_MODE),
        ],
        "queue" => &[
            ("emailrouteraccessapproval", APPROVAL),
            ("incomingemaildeliverymethod", QUEUE_INCOMING),
            ("outgoingemaildeliverymethod", QUEUE_OUTGOING),
            ("incomingemailfilteringmethod", QUEUE_FILTERING),
            ("queueviewtype", QUEUE_VIEW),
            ("statecode", STATE),
            ("statuscode", STATUS),
        ],
        "tracelog" => &[("level", TRACE_LEVEL)],
        _ => &[],
    }
}

/// Columns the platform maintains (writes → 400), besides lookups, ids and audit columns.
fn read_only(table: &str) -> &'static [&'static str] {
    match table {
        "mailbox" => &[
            "mailboxstatus",
            "isemailaddressapprovedbyo365admin",
            "isforwardmailbox",
            "isserviceaccount",
            "processingstatecode",
            "hostid",
            "transientfailurecount",
            "forcedunlockcount",
            "lastsyncstartedon",
            "lastmailboxforcedunlockoccurredon",
            "receivingpostponeduntil",
            "receivingpostponeduntilforact",
            "noemailcount",
            "noactcount",
            "nextscheduledactsyncinseconds",
            "ispasswordset",
            "isdataencryptionkeyset",
            "emailaddressapprovedon",
            "testandenablelastattemptedon",
            "averagetotalduration",
            "lastduration",
            "processedtimes",
        ],
        "emailserverprofile" => &["emailservertypename", "isincomingpasswordset", "isoutgoingpasswordset", "isdataencryptionkeyset"],
        "systemuser" => {
            &["isemailaddressapprovedbyo365admin", "fullname", "yomifullname", "address1_composite", "address2_composite", "organizationid"]
        }
        "queue" => &["isemailaddressapprovedbyo365admin", "numberofitems", "numberofmembers"],
        "organization" => &["name", "organizationid"],
        _ => &[],
    }
}

fn write_only(table: &str) -> &'static [&'static str] {
    match table {
        "mailbox" => &["password", "dataencryptionkey"],
        "emailserverprofile" => &["incomingpassword", "outgoingpassword", "oauthclientsecret", "dataencryptionkey"],
        _ => &[],
    }
}

/// Single-valued navigation properties accepted in `@odata.bind`.
fn bindable(table: &str) -> &'static [&'static str] {
    match table {
        // `ownerid` is how the Web API assigns a row (Assign message); needs prvAssign….
        "mailbox" => &["emailserverprofile", "ownerid"],
        "organization" => &["defaultemailserverprofileid"],
        _ => &[],
    }
}

/// Newer columns missing from the 2023 CSDL but named in the reference: `(table, name, edm, nav target)`.
const EXTRA_COLUMNS: &[(&str, &str, &str, Option<&str>)] = &[
    ("mailbox", "_emailaddressapprovedby_value", "Edm.Guid", Some("systemuser")),
    ("mailbox", "emailaddressapprovedon", "Edm.DateTimeOffset", None),
    ("mailbox", "_testandenablelastattemptedby_value", "Edm.Guid", Some("systemuser")),
    ("mailbox", "testandenablelastattemptedon", "Edm.DateTimeOffset", None),
    ("mailbox", "acsenabledforoutgoingemail", "Edm.Boolean", None),
    ("mailbox", "acsoutgoingemailstatus", "Edm.Int32", None),
    ("mailbox", "nextscheduledactsyncinseconds", "Edm.Int32", None),
    ("emailserverprofile", "serverauthority", "Edm.Int32", None),
    ("emailserverprofile", "oauthclientid", "Edm.String", None),
    ("emailserverprofile", "oauthclientsecret", "Edm.String", None),
    ("emailserverprofile", "aadresourceid", "Edm.String", None),
    ("emailserverprofile", "acsenabledforoutgoingemail", "Edm.Boolean", None),
];

fn table_info(logical: &str) -> (&'static str, &'static str, i32, &'static str) {
    // (primary id, primary name, object type code, privilege entity name)
    match logical {
        "mailbox" => ("mailboxid", "name", 9606, "Mailbox"),
        "emailserverprofile" => ("emailserverprofileid", "name", 9605, "EmailServerProfile"),
        "organization" => ("organizationid", "name", 1019, "Organization"),
        "systemuser" => ("systemuserid", "fullname", 8, "User"),
        "queue" => ("queueid", "name", 2020, "Queue"),
        "tracelog" => ("tracelogid", "text", 4700, "TraceLog"),
        other => panic!("unexpected table {other} in webapi-properties.json"),
    }
}

fn bool_labels(table: &str, column: &str) -> (&'static str, &'static str) {
    match (table, column) {
        ("tracelog", "tracestatus") => ("Success", "Failure"),
        _ => ("Yes", "No"),
    }
}

fn build() -> Schema {
    let doc: Value = serde_json::from_str(PROPERTIES_JSON).expect("embedded webapi-properties.json is valid JSON");
    let sets = doc["entity_sets"].as_object().expect("entity_sets");
    let mut tables = BTreeMap::new();
    for (set, logical) in sets {
        let logical = logical.as_str().expect("logical name");
        let ty = &doc["types"][logical];
        let (primary_id, primary_name, otc, privilege_entity) = table_info(logical);
        let ro = read_only(logical);
        let wo = write_only(logical);
        let picks = picklists(logical);

        // Single-valued navigation properties, mapped to their `_x_value` column.
        let props = ty["properties"].as_object().expect("properties");
        let mut navigations = BTreeMap::new();
        let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut raw_navs: Vec<(String, String)> = ty["navigation_properties"]
            .as_object()
            .expect("navigation_properties")
            .iter()
            .filter_map(|(n, t)| {
                let t = t.as_str()?;
                (!t.starts_with("Collection(")).then(|| (n.clone(), t.to_string()))
            })
            .collect();
        for (t, name, _, target) in EXTRA_COLUMNS {
            if *t == logical
                && let Some(target) = target
            {
                let nav = name.trim_start_matches('_').trim_end_matches("_value").to_string();
                raw_navs.push((nav, target.to_string()));
            }
        }
        let has_prop = |p: &str| props.contains_key(p) || EXTRA_COLUMNS.iter().any(|(t, n, _, _)| *t == logical && *n == p);
        for (nav, target) in raw_navs {
            // `regardingobjectid_queue` → `_regardingobjectid_value`; `ownerid` → `_ownerid_value`.
            let mut column = None;
            let mut candidate = nav.as_str();
            loop {
                let c = format!("_{candidate}_value");
                if has_prop(&c) {
                    column = Some(c);
                    break;
                }
                match candidate.rfind('_') {
                    Some(i) => candidate = &candidate[..i],
                    None => break,
                }
            }
            let target = if target == "principal" { "systemuser".to_string() } else { target };
            if let Some(c) = &column {
                targets.entry(c.clone()).or_default().push(target.clone());
            }
            navigations.insert(nav.clone(), Navigation { bindable: bindable(logical).contains(&nav.as_str()), name: nav, column, target });
        }

        let mut columns = BTreeMap::new();
        let all_props = props
            .iter()
            .map(|(n, t)| (n.clone(), t.as_str().unwrap_or("Edm.String").to_string()))
            .chain(EXTRA_COLUMNS.iter().filter(|(t, _, _, _)| *t == logical).map(|(_, n, e, _)| (n.to_string(), e.to_string())));
        for (name, edm) in all_props {
            let kind = if let Some((_, opts)) = picks.iter().find(|(c, _)| *c == name) {
                Kind::Picklist(opts)
            } else if name.starts_with('_') && name.ends_with("_value") {
                Kind::Lookup { targets: targets.get(&name).cloned().unwrap_or_default() }
            } else {
                match edm.as_str() {
                    "Edm.Int32" => Kind::Int,
                    "Edm.Int64" => Kind::BigInt,
                    "Edm.Double" => Kind::Double,
                    "Edm.Decimal" => Kind::Decimal,
                    "Edm.Boolean" => Kind::Bool { labels: bool_labels(logical, &name) },
                    "Edm.DateTimeOffset" => Kind::DateTime,
                    "Edm.Guid" => Kind::Guid,
                    "Edm.Binary" => Kind::Binary,
                    _ => Kind::String,
                }
            };
            let access = if wo.contains(&name.as_str()) {
                Access::WriteOnly
            } else if logical == "tracelog"
                || ro.contains(&name.as_str())
                || matches!(kind, Kind::Lookup { .. } | Kind::Binary)
                || name == primary_id
                || matches!(
                    name.as_str(),
                    "versionnumber" | "createdon" | "modifiedon" | "entityimage_url" | "entityimage_timestamp" | "entityimageid"
                )
            {
                Access::ReadOnly
            } else {
                Access::ReadWrite
            };
            columns.insert(name.clone(), Column { name, kind, access });
        }
        let states = columns.contains_key("statecode").then_some(STATES);
        tables.insert(
            logical.to_string(),
            Table {
                logical_name: logical.to_string(),
                entity_set: set.clone(),
                primary_id: primary_id.to_string(),
                primary_name: primary_name.to_string(),
                otc,
                privilege_entity,
                columns,
                navigations,
                states,
            },
        );
    }
    Schema { tables }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_columns_and_navigations() {
        let s = Schema::get();
        let m = s.by_entity_set("mailboxes").unwrap();
        assert_eq!(m.logical_name, "mailbox");
        assert!(matches!(m.column("incomingemaildeliverymethod").unwrap().kind, Kind::Picklist(_)));
        assert_eq!(m.column("mailboxstatus").unwrap().access, Access::ReadOnly);
        assert!(m.column("regardingobjecttypecode").is_none());
        assert!(m.column("emailaddressapprovedon").is_some());
        let nav = &m.navigations["emailserverprofile"];
        assert!(nav.bindable);
        assert_eq!(nav.column.as_deref(), Some("_emailserverprofile_value"));
        let q = &m.navigations["regardingobjectid_queue"];
        assert_eq!(q.column.as_deref(), Some("_regardingobjectid_value"));
        assert_eq!(q.target, "queue");
        match &m.column("_regardingobjectid_value").unwrap().kind {
            Kind::Lookup { targets } => {
                assert!(targets.contains(&"systemuser".to_string()) && targets.contains(&"queue".to_string()))
            }
            k => panic!("unexpected {k:?}"),
        }
    }

    #[test]
    fn all_six_tables() {
        let s = Schema::get();
        for set in ["organizations", "emailserverprofiles", "mailboxes", "systemusers", "queues", "tracelogs"] {
            let t = s.by_entity_set(set).unwrap();
            assert!(t.column(&t.primary_id).is_some(), "{set} primary id");
            assert!(t.column(&t.primary_name).is_some(), "{set} primary name");
        }
        let org = s.by_entity_set("organizations").unwrap();
        assert!(org.navigations["defaultemailserverprofileid"].bindable);
        assert_eq!(s.by_entity_set("systemusers").unwrap().column("isemailaddressapprovedbyo365admin").unwrap().access, Access::ReadOnly);
    }
}
