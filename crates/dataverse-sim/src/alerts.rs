//! Alerts (tracelog rows, reference §6.3) written by Test & Enable and the sync cycle.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures;
use crate::health::OrgFlags;
use crate::store::Store;

/// Machine name the simulated asynchronous service writes into alerts and mailboxes.
pub const MACHINE_NAME: &str = "SIM-ASYNC-01";

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The mailbox or email server profile the alert is about.
    pub regarding: Uuid,
    /// 1 Information, 2 Warning, 3 Error.
    pub level: i64,
    /// `tracecode` (the simulator's own numbers).
    pub code: i64,
    /// `errortypedisplay`.
    pub kind: &'static str,
    pub text: String,
    pub details: Option<String>,
}

impl Alert {
    pub fn new(regarding: Uuid, level: i64, code: i64, kind: &'static str, text: String) -> Alert {
        Alert { regarding, level, code, kind, text, details: None }
    }

    pub fn error(regarding: Uuid, code: i64, kind: &'static str, text: String) -> Alert {
        Self::new(regarding, 3, code, kind, text)
    }
}

/// Insert the alerts whose level the organization generates; `now` in the Web API format
/// (whole seconds, like the service's `createdon`).
pub fn write(store: &mut Store, org: &OrgFlags, alerts: &[Alert], now: &str) {
    for a in alerts.iter().filter(|a| org.writes(a.level)) {
        let id = Uuid::new_v4();
        let row = json!({
            "tracelogid": id.to_string(),
            "level": a.level,
            "tracecode": a.code,
            "text": a.text,
            "errortypedisplay": a.kind,
            "tracestatus": a.level == 1,
            "errordetails": a.details,
            "machinename": MACHINE_NAME,
            "canbedeleted": true,
            "isunique": false,
            "collationlevel": 0,
            "_regardingobjectid_value": a.regarding.to_string(),
            "_organizationid_value": fixtures::ORGANIZATION_ID,
            "createdon": now,
            "modifiedon": now,
        });
        let Value::Object(row) = row else { unreachable!("object literal") };
        store.insert("tracelog", id, row);
    }
}
