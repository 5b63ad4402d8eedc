//! An alert on the Alerts wall: a `tracelog` row regarding a mailbox or a server profile
//! (dataverse-reference §6.3).

use super::options::OptionSet;
use serde::{Deserialize, Serialize};

pub const LEVELS: OptionSet = OptionSet { column: "level", options: &[(1, "Information"), (2, "Warning"), (3, "Error")] };

pub const COLUMNS: &[&str] = &["tracelogid", "level", "tracecode", "text", "errortypedisplay", "createdon", "_regardingobjectid_value"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "AlertRow")]
pub struct Alert {
    pub alert_id: String,
    pub level: super::options::Name,
    pub code: Option<i64>,
    pub error_type: Option<String>,
    pub text: Option<String>,
    pub created_on: Option<String>,
    pub regarding_id: Option<String>,
    pub regarding_type: Option<String>,
    pub regarding_name: Option<String>,
}

/// A `tracelog` row as the Web API sends it (the columns of [`COLUMNS`] and the lookup's
/// annotations); pages are read straight into it (a test of 50,000 mailboxes leaves 50,000).
#[derive(Deserialize)]
struct AlertRow {
    tracelogid: String,
    level: Option<i64>,
    tracecode: Option<i64>,
    errortypedisplay: Option<String>,
    text: Option<String>,
    createdon: Option<String>,
    #[serde(rename = "_regardingobjectid_value")]
    regarding_id: Option<String>,
    #[serde(rename = "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname")]
    regarding_type: Option<String>,
    #[serde(rename = "_regardingobjectid_value@OData.Community.Display.V1.FormattedValue")]
    regarding_name: Option<String>,
}

impl From<AlertRow> for Alert {
    fn from(row: AlertRow) -> Alert {
        Alert {
            alert_id: row.tracelogid,
            level: LEVELS.name(row.level),
            code: row.tracecode,
            error_type: row.errortypedisplay,
            text: row.text,
            created_on: row.createdon,
            regarding_id: row.regarding_id,
            regarding_type: row.regarding_type,
            regarding_name: row.regarding_name,
        }
    }
}
