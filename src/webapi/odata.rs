//! Building OData query strings safely: literals are escaped here and nowhere else, so a
//! name such as `O'Brien` (or `x' or name ne 'y`) can never change the meaning of a filter.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use uuid::Uuid;

/// Characters left as they are in a query value; everything else is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'(').remove(b')').remove(b',');

/// An OData string literal: single quotes, with `'` doubled (OData ABNF `SQUOTE-in-string`).
pub fn string_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A GUID literal (unquoted in OData v4).
pub fn guid_literal(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// `column eq 'value'`.
pub fn eq_string(column: &str, value: &str) -> String {
    format!("{column} eq {}", string_literal(value))
}

/// Ids per `or` condition of [`any_id`]: a query of 50 GUID conditions stays a short URL, and
/// the service evaluates it as one indexed lookup.
pub const IDS_PER_FILTER: usize = 50;

/// `column eq id1 or column eq id2 …`, as many conditions as [`IDS_PER_FILTER`] allows: one
/// condition per query of a set of ids (`ids` empty: none).
pub fn any_id(column: &str, ids: &[Uuid]) -> Vec<String> {
    ids.chunks(IDS_PER_FILTER)
        .map(|chunk| chunk.iter().map(|id| format!("{column} eq {}", guid_literal(*id))).collect::<Vec<_>>().join(" or "))
        .collect()
}

/// A relative query URL such as `mailboxes?$select=a,b&$filter=…`, every value percent-encoded.
#[derive(Default, Clone)]
pub struct Query {
    select: Vec<&'static str>,
    filters: Vec<String>,
    order_by: Option<String>,
    top: Option<u32>,
}

impl Query {
    pub fn select(mut self, columns: &[&'static str]) -> Self {
        self.select.extend_from_slice(columns);
        self
    }

    /// Adds a condition; all conditions are joined with `and`, each in parentheses.
    pub fn filter(mut self, condition: impl Into<String>) -> Self {
        self.filters.push(condition.into());
        self
    }

    pub fn order_by(mut self, expression: impl Into<String>) -> Self {
        self.order_by = Some(expression.into());
        self
    }

    pub fn top(mut self, n: u32) -> Self {
        self.top = Some(n);
        self
    }

    pub fn to_path(&self, entity_set: &str) -> String {
        let mut parts = Vec::new();
        if !self.select.is_empty() {
            parts.push(format!("$select={}", encode(&self.select.join(","))));
        }
        if !self.filters.is_empty() {
            let joined = if self.filters.len() == 1 {
                self.filters[0].clone()
            } else {
                self.filters.iter().map(|f| format!("({f})")).collect::<Vec<_>>().join(" and ")
            };
            parts.push(format!("$filter={}", encode(&joined)));
        }
        if let Some(order) = &self.order_by {
            parts.push(format!("$orderby={}", encode(order)));
        }
        if let Some(top) = self.top {
            parts.push(format!("$top={top}"));
        }
        if parts.is_empty() { entity_set.to_string() } else { format!("{entity_set}?{}", parts.join("&")) }
    }
}

pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_so_a_name_cannot_break_out_of_its_literal() {
        assert_eq!(eq_string("name", "Liam O'Brien"), "name eq 'Liam O''Brien'");
        assert_eq!(eq_string("name", "x' or name ne 'y"), "name eq 'x'' or name ne ''y'");
    }

    #[test]
    fn the_query_is_percent_encoded_and_conditions_are_parenthesised() {
        let q = Query::default().select(&["name", "mailboxid"]).filter(eq_string("name", "a&b")).filter("statecode eq 0");
        assert_eq!(
            q.to_path("mailboxes"),
            "mailboxes?$select=name,mailboxid&$filter=(name%20eq%20%27a%26b%27)%20and%20(statecode%20eq%200)"
        );
        assert_eq!(Query::default().to_path("mailboxes"), "mailboxes");
    }

    #[test]
    fn ids_become_or_conditions_of_at_most_fifty() {
        let ids: Vec<Uuid> = (0..51u128).map(Uuid::from_u128).collect();
        let conditions = any_id("mailboxid", &ids);
        assert_eq!(conditions.len(), 2);
        assert_eq!(conditions[0].matches(" or ").count(), 49);
        assert_eq!(conditions[1], format!("mailboxid eq {}", ids[50].hyphenated()));
        assert!(any_id("mailboxid", &[]).is_empty());
    }
}
