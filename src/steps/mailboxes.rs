//! Which mailboxes a step works on (the selection), and reading them page by page.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::PREFER_ANNOTATIONS;
use crate::model::mailbox::{COLUMNS, Mailbox};
use crate::operation::EventSink;
use crate::webapi::odata::{Query, eq_string, guid_literal};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Ids per `mailboxid eq … or …` query: keeps the URL far below the service's limits.
const IDS_PER_QUERY: usize = 50;
/// Above this many ids, re-reading the whole selection (5,000 rows a page) costs fewer
/// requests than asking for the ids 50 at a time.
pub(crate) const IDS_BY_SELECTION: usize = 500;

/// The mailboxes a step applies to. All conditions combine with `and`; an empty selection
/// means every mailbox of the organization.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSelection {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email_address: Option<String>,
    /// A profile id or exact profile name.
    #[serde(default)]
    pub server_profile: Option<String>,
    /// Explicit mailbox ids (e.g. piped in).
    #[serde(default)]
    pub mailbox_ids: Option<Vec<String>>,
    /// An OData `$filter` expression written by the caller, added as is (in parentheses).
    #[serde(default)]
    pub filter: Option<String>,
    /// Only active mailboxes (statecode 0). Default true for the configuration steps.
    #[serde(default)]
    pub active_only: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxQuery {
    pub version: u32,
    #[serde(flatten)]
    pub selection: MailboxSelection,
    #[serde(default)]
    pub page_size: Option<u32>,
}

impl MailboxSelection {
    async fn queries(&self, client: &Client) -> Result<Vec<Query>> {
        self.queries_selecting(client, COLUMNS).await
    }

    /// The selection's queries, selecting `columns` (a step that needs other columns than
    /// [`COLUMNS`], such as the health report, pages through these itself).
    pub async fn queries_selecting(&self, client: &Client, columns: &[&'static str]) -> Result<Vec<Query>> {
        let mut q = Query::default().select(columns).order_by("name");
        if let Some(name) = &self.name {
            q = q.filter(eq_string("name", name));
        }
        if let Some(address) = &self.email_address {
            q = q.filter(eq_string("emailaddress", address));
        }
        if let Some(profile) = &self.server_profile {
            let id = super::profiles::resolve_id(client, profile).await?;
            q = q.filter(format!("_emailserverprofile_value eq {}", guid_literal(id)));
        }
        if let Some(filter) = self.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            q = q.filter(filter.to_string());
        }
        if self.active_only {
            q = q.filter("statecode eq 0");
        }
        let Some(ids) = &self.mailbox_ids else { return Ok(vec![q]) };
        let ids = ids.iter().map(|id| super::parse_guid(id, "mailbox id")).collect::<Result<Vec<_>>>()?;
        Ok(ids
            .chunks(IDS_PER_QUERY)
            .map(|chunk| {
                q.clone().filter(chunk.iter().map(|id| format!("mailboxid eq {}", guid_literal(*id))).collect::<Vec<_>>().join(" or "))
            })
            .collect())
    }

    /// Calls `on_page` with each page of matching mailboxes, in order.
    pub async fn for_each_page(&self, client: &Client, page_size: u32, mut on_page: impl AsyncPageFn) -> Result<usize> {
        let prefer_page = format!("odata.maxpagesize={}", page_size.clamp(1, 5000));
        let prefer = [PREFER_ANNOTATIONS, prefer_page.as_str()];
        let mut count = 0;
        for q in self.queries(client).await? {
            let mut next = Some(client.api.resolve(&q.to_path("mailboxes"))?);
            while let Some(url) = next {
                let page = client.api.get_page::<Mailbox>(url, &prefer).await?;
                count += page.rows.len();
                on_page.call(page.rows).await?;
                next = page.next_link;
            }
        }
        Ok(count)
    }

    /// Every matching mailbox in memory (the bulk steps need the whole set to plan).
    /// Many explicit ids are matched here against one read of the rest of the selection:
    /// a few requests of 5,000 rows instead of one per 50 ids.
    pub async fn collect(&self, client: &Client) -> Result<Vec<Mailbox>> {
        let mut all = Vec::new();
        match &self.mailbox_ids {
            Some(ids) if ids.len() > IDS_BY_SELECTION => {
                let wanted = ids
                    .iter()
                    .map(|id| super::parse_guid(id, "mailbox id").map(|g| g.to_string()))
                    .collect::<Result<std::collections::HashSet<_>>>()?;
                let rest = MailboxSelection { mailbox_ids: None, ..self.clone() };
                rest.for_each_page(client, 5000, Collect(&mut all)).await?;
                all.retain(|m| wanted.contains(&m.mailbox_id.to_ascii_lowercase()));
            }
            _ => {
                self.for_each_page(client, client.config.page_size, Collect(&mut all)).await?;
            }
        }
        if let Some(ids) = &self.mailbox_ids {
            let found: std::collections::HashSet<String> = all.iter().map(|m| m.mailbox_id.to_ascii_lowercase()).collect();
            let missing: Vec<&String> = ids.iter().filter(|id| !found.contains(&id.to_ascii_lowercase())).collect();
            if !missing.is_empty()
                && self.filter.is_none()
                && self.name.is_none()
                && self.email_address.is_none()
                && self.server_profile.is_none()
            {
                let state = if self.active_only { " or are inactive" } else { "" };
                return Err(Error::not_found(format!("{} mailbox id(s) do not exist{state} (first: {}).", missing.len(), missing[0]))
                    .with_remedy("List the mailboxes to check the ids; nothing was changed.")
                    .with_hint("list_mailboxes"));
            }
        }
        Ok(all)
    }
}

impl MailboxSelection {
    /// Reads these mailboxes again (after a write), with as few requests as possible.
    pub async fn read_back(&self, client: &Client, ids: &[String]) -> Result<Vec<Mailbox>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        MailboxSelection { mailbox_ids: Some(ids.to_vec()), ..self.clone() }.collect(client).await
    }
}

/// A page consumer that may await (sending events) — a named trait keeps the signatures short.
pub trait AsyncPageFn {
    fn call(&mut self, page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send;
}

struct Collect<'a>(&'a mut Vec<Mailbox>);

impl AsyncPageFn for Collect<'_> {
    fn call(&mut self, page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send {
        self.0.extend(page);
        std::future::ready(Ok(()))
    }
}

struct Stream<'a> {
    sink: &'a EventSink,
    pages: usize,
    count: usize,
}

impl AsyncPageFn for Stream<'_> {
    fn call(&mut self, items: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send {
        self.pages += 1;
        self.count += items.len();
        let (pages, count, sink) = (self.pages, self.count, self.sink);
        async move {
            sink.send(json!({"version": 1, "type": "items", "page": pages, "items": items})).await?;
            sink.send(
                json!({"version": 1, "type": "progress", "done": count, "message": format!("Read {count} mailboxes ({pages} pages)")}),
            )
            .await
        }
    }
}

/// Streams `{"type":"items"}` events (one per page) and `{"type":"progress"}` events; the
/// result is the count. Pages are never all held in memory at once.
pub async fn list(client: Arc<Client>, query: MailboxQuery, sink: EventSink) -> Result<Value> {
    let page_size = query.page_size.unwrap_or(client.config.page_size);
    let mut stream = Stream { sink: &sink, pages: 0, count: 0 };
    let count = query.selection.for_each_page(&client, page_size, &mut stream).await?;
    Ok(json!({"version": 1, "count": count, "pages": stream.pages}))
}

impl<T: AsyncPageFn + Send> AsyncPageFn for &mut T {
    fn call(&mut self, page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send {
        (**self).call(page)
    }
}
