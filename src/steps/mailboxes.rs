//! Listing mailboxes page by page, as an operation that streams each page as an event.

use crate::client::Client;
use crate::error::Result;
use crate::model::PREFER_ANNOTATIONS;
use crate::model::mailbox::{COLUMNS, Mailbox};
use crate::operation::EventSink;
use crate::webapi::odata::{Query, eq_string, guid_literal};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxQuery {
    pub version: u32,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email_address: Option<String>,
    /// A profile id or exact profile name.
    #[serde(default)]
    pub server_profile: Option<String>,
    #[serde(default)]
    pub page_size: Option<u32>,
}

async fn build_query(client: &Client, query: &MailboxQuery) -> Result<Query> {
    let mut q = Query::default().select(COLUMNS).order_by("name");
    if let Some(name) = &query.name {
        q = q.filter(eq_string("name", name));
    }
    if let Some(address) = &query.email_address {
        q = q.filter(eq_string("emailaddress", address));
    }
    if let Some(profile) = &query.server_profile {
        let id = super::profiles::resolve_id(client, profile).await?;
        q = q.filter(format!("_emailserverprofile_value eq {}", guid_literal(id)));
    }
    Ok(q)
}

/// Streams `{"type":"items"}` events (one per page) and `{"type":"progress"}` events; the
/// result is the count. Pages are never all held in memory at once.
pub async fn list(client: Arc<Client>, query: MailboxQuery, sink: EventSink) -> Result<Value> {
    let page_size = query.page_size.unwrap_or(client.config.page_size).clamp(1, 5000);
    let prefer_page = format!("odata.maxpagesize={page_size}");
    let prefer = [PREFER_ANNOTATIONS, prefer_page.as_str()];
    let q = build_query(&client, &query).await?;
    let mut next = Some(client.api.resolve(&q.to_path("mailboxes"))?);
    let (mut count, mut pages) = (0usize, 0usize);
    while let Some(url) = next {
        let page = client.api.get_page(url, &prefer).await?;
        let items: Vec<Mailbox> = page.rows.iter().filter_map(Mailbox::from_row).collect();
        pages += 1;
        count += items.len();
        sink.send(json!({"version": 1, "type": "items", "page": pages, "items": items})).await?;
        sink.send(json!({"version": 1, "type": "progress", "done": count, "message": format!("Read {count} mailboxes ({pages} pages)")}))
            .await?;
        next = page.next_link;
    }
    Ok(json!({"version": 1, "count": count, "pages": pages}))
}
