//! Turning a stored row into the JSON the Web API returns: `$select` projection, the primary id,
//! `@odata.etag`, and (on request) FormattedValue / lookuplogicalname annotations.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::prefer::Annotations;
use crate::schema::{Access, Column, Kind, Table};

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
    let format = Format { table, select, annotations, resolver };
    match serde_json::to_value(FormattedRow { format, columns: &format.columns(), row }) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// How a query's rows are shown: its table, `$select` and annotations.
#[derive(Clone, Copy)]
pub struct Format<'a> {
    pub table: &'a Table,
    pub select: Option<&'a [String]>,
    pub annotations: Option<&'a Annotations>,
    pub resolver: &'a dyn LookupResolver,
}

impl<'a> Format<'a> {
    /// The columns it shows, with their schema: those selected (once each) or all, and the
    /// primary id always. Found once for a page, not for each of its rows.
    fn columns(&self) -> Vec<Shown<'a>> {
        let table = self.table;
        let mut cols: Vec<Shown<'a>> = Vec::new();
        let mut add = |name: &'a str| {
            if let Some(meta) = table.column(name)
                && !cols.iter().any(|c| c.name == name)
            {
                cols.push(Shown { name, meta, annotated: [FORMATTED, ASSOCIATED_NAV, LOOKUP_LOGICAL_NAME].map(|a| format!("{name}@{a}")) });
            }
        };
        match self.select {
            Some(s) => s.iter().for_each(|c| add(c)),
            None => table.columns.keys().for_each(|c| add(c)),
        }
        add(&table.primary_id);
        cols
    }
}

/// A column a query shows, with the names of its annotations (`col@annotation`, for
/// FORMATTED, ASSOCIATED_NAV and LOOKUP_LOGICAL_NAME): made once for a page, not for each
/// annotated value of its rows.
struct Shown<'a> {
    name: &'a str,
    meta: &'a Column,
    annotated: [String; 3],
}

/// One row as the Web API returns it, serialized straight from the stored row: a page of
/// 5,000 rows is written without building (and dropping) a map per row, which made the
/// simulator's reads a larger part of a run's time than the client.
struct FormattedRow<'a, 'c> {
    format: Format<'a>,
    columns: &'c [Shown<'a>],
    row: &'a Map<String, Value>,
}

impl Serialize for FormattedRow<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Format { table, annotations, resolver, .. } = self.format;
        let mut out = serializer.serialize_map(None)?;
        out.serialize_entry("@odata.etag", &etag(self.row))?;
        let wants = |name: &str| annotations.is_some_and(|a| a.wants(name));
        for shown in self.columns {
            let (col, meta, [formatted, nav_key, logical_key]) = (shown.name, shown.meta, &shown.annotated);
            let value = if meta.access == Access::WriteOnly { &Value::Null } else { self.row.get(col).unwrap_or(&Value::Null) };
            // Annotations before their property, as the service writes them.
            if !value.is_null() {
                match &meta.kind {
                    Kind::Picklist(opts) if wants(FORMATTED) => {
                        if let Some((_, label)) = opts.iter().find(|(v, _)| Some(*v) == value.as_i64()) {
                            out.serialize_entry(formatted, label)?;
                        }
                    }
                    Kind::Bool { labels } if wants(FORMATTED) => {
                        let label = if value.as_bool() == Some(true) { labels.0 } else { labels.1 };
                        out.serialize_entry(formatted, label)?;
                    }
                    Kind::Lookup { targets } if annotations.is_some() => {
                        let id = value.as_str().and_then(|s| Uuid::parse_str(s).ok());
                        if let Some((logical, name)) = id.and_then(|id| resolver.resolve(targets, &id)) {
                            if wants(FORMATTED) {
                                out.serialize_entry(formatted, &name)?;
                            }
                            if wants(ASSOCIATED_NAV)
                                && let Some(nav) = table.navigation_for(col, &logical)
                            {
                                out.serialize_entry(nav_key, &nav.name)?;
                            }
                            if wants(LOOKUP_LOGICAL_NAME) {
                                out.serialize_entry(logical_key, &logical)?;
                            }
                        }
                    }
                    _ => {}
                }
            }
            out.serialize_entry(col, value)?;
        }
        out.end()
    }
}

/// A page of rows, each serialized as it is formatted.
pub struct FormattedRows<'a> {
    pub format: Format<'a>,
    pub rows: &'a [&'a Map<String, Value>],
}

impl Serialize for FormattedRows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let columns = self.format.columns();
        serializer.collect_seq(self.rows.iter().map(|row| FormattedRow { format: self.format, columns: &columns, row }))
    }
}
