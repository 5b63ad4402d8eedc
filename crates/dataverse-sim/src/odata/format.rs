//! Turning a stored row into the JSON the Web API returns: `$select` projection, the primary id,
//! `@odata.etag`, and (on request) FormattedValue / lookuplogicalname annotations.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::prefer::Annotations;
use crate::schema::{Access, Kind, Table};

pub const FORMATTED: &str = "OData.Community.Display.V1.FormattedValue";
pub const LOOKUP_LOGICAL_NAME: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";
pub const ASSOCIATED_NAV: &str = "Microsoft.Dynamics.CRM.associatednavigationproperty";

/// Resolves a lookup target id to `(logical name, primary name)`.
pub trait LookupResolver {
    fn resolve(&self, targets: &[String], id: &Uuid) -> Option<(String, String)>;
}

/// `W/"<versionnumber>"`.
pub fn etag(row: &Map<String, Value>) -> String {
    format!("W/\"{}\"", row.get("versionnumber").and_then(Value::as_i64).unwrap_or(0))
}

/// `#mailboxes(col1,col2)` (the fragment of `@odata.context`).
pub fn context_fragment(table: &Table, select: Option<&[String]>, single: bool) -> String {
    let mut s = table.entity_set.clone();
    if let Some(cols) = select {
        s.push('(');
        s.push_str(&cols.join(","));
        s.push(')');
    }
    if single {
        s.push_str("/$entity");
    }
    s
}

/// Project and annotate one row.
pub fn format_row(
    table: &Table,
    row: &Map<String, Value>,
    select: Option<&[String]>,
    annotations: Option<&Annotations>,
    resolver: &dyn LookupResolver,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("@odata.etag".into(), json!(etag(row)));
    let mut cols: Vec<&str> = match select {
        Some(s) => s.iter().map(String::as_str).collect(),
        None => table.columns.keys().map(String::as_str).collect(),
    };
    if !cols.contains(&table.primary_id.as_str()) {
        cols.push(&table.primary_id);
    }
    let wants = |name: &str| annotations.is_some_and(|a| a.wants(name));
    for col in cols {
        let Some(meta) = table.column(col) else {
            continue;
        };
        let value = if meta.access == Access::WriteOnly { Value::Null } else { row.get(col).cloned().unwrap_or(Value::Null) };
        if !value.is_null() {
            match &meta.kind {
                Kind::Picklist(opts) if wants(FORMATTED) => {
                    if let Some((_, label)) = opts.iter().find(|(v, _)| Some(*v) == value.as_i64()) {
                        out.insert(format!("{col}@{FORMATTED}"), json!(label));
                    }
                }
                Kind::Bool { labels } if wants(FORMATTED) => {
                    let label = if value.as_bool() == Some(true) { labels.0 } else { labels.1 };
                    out.insert(format!("{col}@{FORMATTED}"), json!(label));
                }
                Kind::Lookup { targets } if annotations.is_some() => {
                    let id = value.as_str().and_then(|s| Uuid::parse_str(s).ok());
                    if let Some((logical, name)) = id.and_then(|id| resolver.resolve(targets, &id)) {
                        if wants(FORMATTED) {
                            out.insert(format!("{col}@{FORMATTED}"), json!(name));
                        }
                        if wants(ASSOCIATED_NAV)
                            && let Some(nav) = table.navigation_for(col, &logical)
                        {
                            out.insert(format!("{col}@{ASSOCIATED_NAV}"), json!(nav.name));
                        }
                        if wants(LOOKUP_LOGICAL_NAME) {
                            out.insert(format!("{col}@{LOOKUP_LOGICAL_NAME}"), json!(logical));
                        }
                    }
                }
                _ => {}
            }
        }
        out.insert(col.to_string(), value);
    }
    out
}
