//! Reading alerts (tracelogs) for mailboxes or a server profile, newest first.

use crate::client::Client;
use crate::documents::AlertQuery;
use crate::error::{Error, Result};
use crate::model::PREFER_ANNOTATIONS;
use crate::model::alert::{Alert, COLUMNS, LEVELS};
use crate::webapi::odata::{Query, any_id};
use chrono::{DateTime, SecondsFormat, Utc};

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
        let mut next = Some(client.api.resolve(&q.to_path("tracelogs"))?);
        while let Some(url) = next {
            let page = client.api.get_page::<Alert>(url, &[PREFER_ANNOTATIONS]).await?;
            alerts.extend(page.rows);
            next = page.next_link;
        }
    }
    alerts.sort_by(|a, b| b.created_on.cmp(&a.created_on));
    alerts.truncate(limit);
    Ok(alerts)
}
