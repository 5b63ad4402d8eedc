//! Typed rows and option sets: integers on the wire, names in the API.

pub mod alert;
pub mod diagnosis;
pub mod health;
pub mod mailbox;
pub mod options;
pub mod organization;
pub mod profile;

use serde_json::Value;

/// Reads a string column (None when absent or null).
pub fn text(row: &Value, column: &str) -> Option<String> {
    row.get(column).and_then(Value::as_str).map(str::to_owned)
}

pub fn int(row: &Value, column: &str) -> Option<i64> {
    row.get(column).and_then(Value::as_i64)
}

pub fn flag(row: &Value, column: &str) -> bool {
    row.get(column).and_then(Value::as_bool).unwrap_or(false)
}

/// The annotation that a lookup's `_x_value` carries, e.g. its target table or display name.
pub fn annotation(row: &Value, column: &str, annotation: &str) -> Option<String> {
    text(row, &format!("{column}@{annotation}"))
}

pub const FORMATTED: &str = "OData.Community.Display.V1.FormattedValue";
/// Asks for exactly the annotations the models read.
pub const PREFER_ANNOTATIONS: &str =
    "odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname,OData.Community.Display.V1.FormattedValue\"";
