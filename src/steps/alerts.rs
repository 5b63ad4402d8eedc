//! Reading alerts (tracelogs) for mailboxes or a server profile, newest first.

use crate::client::Client;
use crate::documents::AlertQuery;
use crate::error::{Error, Result};
use crate::model::PREFER_ANNOTATIONS;
use crate::model::alert::{Alert, COLUMNS, LEVELS};
use crate::webapi::odata::{Query, any_id};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;
use std::ops::Range;

pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::invalid(format!("'{text}' is not an ISO 8601 date and time such as 2026-11-27T18:00:00Z.")))
}

pub fn odata_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub async fn list(client: &Client, query: &AlertQuery) -> Result<Vec<Alert>> {
    let mut regarding = Vec::new();
    for id in query.mailbox_ids.iter().flatten() {
        regarding.push(super::parse_guid(id, "mailbox id")?);
    }
    if let Some(profile) = &query.server_profile {
        regarding.push(super::profiles::resolve_id(client, profile).await?);
    }
    let mut base = Query::default().select(COLUMNS).order_by("createdon desc");
    if let Some(level) = &query.min_level {
        let value =
            LEVELS.value(level).ok_or_else(|| Error::invalid(format!("Level '{level}' is not one of: {}.", LEVELS.names().join(", "))))?;
        base = base.filter(format!("level ge {value}"));
    }
    if let Some(since) = &query.since {
        base = base.filter(format!("createdon ge {}", odata_time(parse_time(since)?)));
    }
    let queries: Vec<Query> = if regarding.is_empty() {
        vec![base]
    } else {
        any_id("_regardingobjectid_value", &regarding).into_iter().map(|condition| base.clone().filter(condition)).collect()
    };
    let limit = query.top.map(|t| t as usize).unwrap_or(usize::MAX);
    let mut alerts = Vec::new();
    for q in queries {
        alerts.extend(client.api.get_all::<Alert>(&q.to_path("tracelogs"), &[PREFER_ANNOTATIONS]).await?);
    }
    alerts.sort_by(|a, b| b.created_on.cmp(&a.created_on));
    alerts.truncate(limit);
    // Pages were appended by doubling: a test of 50,000 mailboxes reads 100,000 alerts, and
    // the unused capacity would be held as long as the alerts are.
    alerts.shrink_to_fit();
    Ok(alerts)
}

/// Alerts grouped by the row they regard (ids compared without case), each group newest
/// first. One vector holds them all, ordered by group: a vector per mailbox would allocate
/// room for four alerts for each of tens of thousands of mailboxes that have one or two.
#[derive(Debug, Default)]
pub struct ByRegarding {
    alerts: Vec<Alert>,
    /// Lowercase regarding id: the group's place in `alerts`.
    groups: HashMap<String, Range<usize>>,
}

impl ByRegarding {
    /// Alerts in [`list`]'s order (newest first); those regarding nothing are left out.
    pub fn new(mut alerts: Vec<Alert>) -> ByRegarding {
        alerts.retain(|a| a.regarding_id.is_some());
        // Stable: each group keeps the order the alerts came in.
        alerts.sort_by(|a, b| lowercase(&a.regarding_id).cmp(lowercase(&b.regarding_id)));
        let mut groups: HashMap<String, Range<usize>> = HashMap::new();
        let mut start = 0;
        for end in 1..=alerts.len() {
            if end == alerts.len() || !lowercase(&alerts[end].regarding_id).eq(lowercase(&alerts[start].regarding_id)) {
                groups.insert(alerts[start].regarding_id.as_deref().unwrap_or_default().to_ascii_lowercase(), start..end);
                start = end;
            }
        }
        ByRegarding { alerts, groups }
    }

    /// The alerts regarding this row, newest first (none: empty).
    pub fn of(&self, regarding_id: &str) -> &[Alert] {
        match self.groups.get(&regarding_id.to_ascii_lowercase()) {
            Some(range) => &self.alerts[range.clone()],
            None => &[],
        }
    }
}

fn lowercase(id: &Option<String>) -> impl Iterator<Item = u8> + '_ {
    id.as_deref().unwrap_or_default().bytes().map(|b| b.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, regarding: Option<&str>, created_on: &str) -> Alert {
        serde_json::from_value(serde_json::json!({
            "tracelogid": id, "level": 1, "createdon": created_on, "_regardingobjectid_value": regarding
        }))
        .unwrap()
    }

    #[test]
    fn alerts_are_grouped_by_regarding_id_without_case_and_keep_their_order() {
        let newest_first = vec![
            alert("a3", Some("M1"), "2026-12-01T10:03:00Z"),
            alert("b2", Some("m2"), "2026-12-01T10:02:00Z"),
            alert("x", None, "2026-12-01T10:02:00Z"),
            alert("a2", Some("m1"), "2026-12-01T10:01:00Z"),
            alert("a1", Some("M1"), "2026-12-01T10:00:00Z"),
        ];
        let grouped = ByRegarding::new(newest_first);
        let ids = |regarding: &str| grouped.of(regarding).iter().map(|a| a.alert_id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids("m1"), ["a3", "a2", "a1"]);
        assert_eq!(ids("M2"), ["b2"]);
        assert!(ids("m3").is_empty());
        assert_eq!(grouped.alerts.len(), 4, "an alert regarding nothing belongs to no group");
        assert!(ByRegarding::new(Vec::new()).of("m1").is_empty());
    }
}
