//! An alert on the Alerts wall: a `tracelog` row regarding a mailbox or a server profile
//! (dataverse-reference §6.3).

use super::options::OptionSet;
use super::{FORMATTED, LOOKUP_TABLE, annotation, int, text};
use serde::Serialize;
use serde_json::Value;

pub const LEVELS: OptionSet = OptionSet { column: "level", options: &[(1, "Information"), (2, "Warning"), (3, "Error")] };

pub const COLUMNS: &[&str] = &["tracelogid", "level", "tracecode", "text", "errortypedisplay", "createdon", "_regardingobjectid_value"];

#[derive(Debug, Clone, Serialize)]
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

impl Alert {
    pub fn from_row(row: &Value) -> Option<Alert> {
        Some(Alert {
            alert_id: text(row, "tracelogid")?,
            level: LEVELS.name(int(row, "level")),
            code: int(row, "tracecode"),
            error_type: text(row, "errortypedisplay"),
            text: text(row, "text"),
            created_on: text(row, "createdon"),
            regarding_id: text(row, "_regardingobjectid_value"),
            regarding_type: annotation(row, "_regardingobjectid_value", LOOKUP_TABLE),
            regarding_name: annotation(row, "_regardingobjectid_value", FORMATTED),
        })
    }
}
