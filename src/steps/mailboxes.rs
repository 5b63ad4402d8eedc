//! Which mailboxes a step works on (the selection), and reading them page by page.

use crate::client::Client;
use crate::documents::{Event, ItemsEvent, ListResult, ListedMailbox, MailboxQuery, MailboxSelection, ProgressEvent};
use crate::error::{Error, Result};
use crate::model::PREFER_ANNOTATIONS;
use crate::model::mailbox::{COLUMNS, Mailbox};
use crate::operation::EventSink;
use crate::webapi::odata::{Query, any_id, eq_string, guid_literal, string_literal};
use std::sync::Arc;

/// Above this many ids, re-reading the whole selection (5,000 rows a page) costs fewer
/// requests than asking for the ids 50 at a time.
pub(crate) const IDS_BY_SELECTION: usize = 500;
/// The longest value each column holds (dataverse-reference §3, mailbox: `name` String(200),
/// `emailaddress` String(100)): a longer value cannot match a row, so it is refused as a
/// mistake rather than sent.
const NAME_MAX: usize = 200;
const EMAIL_ADDRESS_MAX: usize = 100;
/// A caller's `$filter`. Dataverse limits a GET URL (the reference gives 64 KB for one inside a
/// `$batch`, a direct GET has less); percent-encoding can triple the text, and the selection's
/// own conditions share the URL, so 8,000 characters keep every query well inside the limit.
const FILTER_MAX: usize = 8_000;
/// Identity conditions (`name eq '…' or emailaddress eq '…' or …`) per query, in characters:
/// many identities are read in several queries, each URL far below the service's limit.
const IDENTITY_TERMS_PER_QUERY: usize = 4_000;

/// One mailbox as a user names it.
#[derive(Debug, PartialEq)]
enum Identity {
    Id(uuid::Uuid),
    EmailAddress(String),
    Name(String),
}

impl Identity {
    /// A GUID is an id; text with `@` an email address; anything else a name.
    fn parse(text: &str) -> Result<Identity> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::invalid("An empty mailbox identity was given in mailboxes: give a name, an email address or an id."));
        }
        if let Ok(id) = uuid::Uuid::parse_str(trimmed) {
            return Ok(Identity::Id(id));
        }
        if trimmed.contains('@') {
            check_length(trimmed, EMAIL_ADDRESS_MAX, "mailboxes", "an email address", "emailaddress")?;
            return Ok(Identity::EmailAddress(trimmed.to_string()));
        }
        // A name is matched exactly as given (names may carry meaningful spaces).
        check_length(text, NAME_MAX, "mailboxes", "a mailbox name", "name")?;
        Ok(Identity::Name(text.to_string()))
    }

    fn condition(&self) -> String {
        match self {
            Identity::Id(id) => format!("mailboxid eq {}", guid_literal(*id)),
            Identity::EmailAddress(address) => eq_string("emailaddress", address),
            Identity::Name(name) => eq_string("name", name),
        }
    }
}

/// Refuses a value longer than its column (counted in characters, as Dataverse counts).
fn check_length(value: &str, max: usize, field: &str, what: &str, column: &str) -> Result<()> {
    let length = value.chars().count();
    if length <= max {
        return Ok(());
    }
    let start: String = value.chars().take(24).collect();
    Err(Error::invalid(format!(
        "The value of {field} ('{start}…') is {length} characters long: {what} has at most {max} characters (the length of the mailbox {column} column)."
    )))
}

/// Condition groups of at most `budget` characters each, joined with `or`.
fn or_groups(conditions: Vec<String>, budget: usize) -> Vec<String> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut used = 0;
    for condition in conditions {
        if groups.is_empty() || used + condition.len() > budget {
            groups.push(Vec::new());
            used = 0;
        }
        used += condition.len() + " or ".len();
        groups.last_mut().expect("a group was pushed").push(condition);
    }
    groups.into_iter().map(|g| g.join(" or ")).collect()
}

impl MailboxSelection {
    /// The same conditions with `mailbox_ids` for the id list and no identities, cloning
    /// neither list (a 50,000-mailbox selection's ids are about 2 MB).
    pub(crate) fn with_ids(&self, mailbox_ids: Option<Vec<String>>) -> MailboxSelection {
        MailboxSelection {
            name: self.name.clone(),
            email_address: self.email_address.clone(),
            server_profile: self.server_profile.clone(),
            mailbox_ids,
            mailboxes: None,
            filter: self.filter.clone(),
            active_only: self.active_only,
        }
    }

    /// The same selection (without ids or identities, see [`Self::with_ids`]) narrowed by one
    /// more condition, kept apart from the caller's own filter by parentheses.
    pub(crate) fn and_filter(&self, condition: impl Into<String>) -> MailboxSelection {
        let condition = condition.into();
        let mut narrowed = self.with_ids(None);
        narrowed.filter = Some(match narrowed.filter.take().filter(|f| !f.trim().is_empty()) {
            Some(filter) => format!("({filter}) and {condition}"),
            None => condition,
        });
        narrowed
    }

    /// No condition narrows it: every mailbox (every active one with `active_only`).
    pub fn is_every_mailbox(&self) -> bool {
        self.name.is_none()
            && self.email_address.is_none()
            && self.server_profile.is_none()
            && self.mailbox_ids.is_none()
            && self.mailboxes.is_none()
            && self.filter.as_deref().is_none_or(|f| f.trim().is_empty())
    }

    /// Checks the values against the columns' lengths before any request is built.
    fn check(&self) -> Result<()> {
        if let Some(name) = &self.name {
            check_length(name, NAME_MAX, "name", "a mailbox name", "name")?;
        }
        if let Some(address) = &self.email_address {
            check_length(address, EMAIL_ADDRESS_MAX, "email_address", "an email address", "emailaddress")?;
        }
        if let Some(filter) = &self.filter {
            let length = filter.chars().count();
            if length > FILTER_MAX {
                return Err(Error::invalid(format!(
                    "filter is {length} characters long: a filter has at most {FILTER_MAX} characters (it travels in the request URL, which Dataverse limits)."
                )));
            }
        }
        Ok(())
    }

    /// The selection's queries, selecting `columns` (a step that needs other columns than
    /// [`COLUMNS`], such as the health report, pages through these itself).
    pub async fn queries_selecting(&self, client: &Client, columns: &[&'static str]) -> Result<Vec<Query>> {
        self.check()?;
        let identities = match &self.mailboxes {
            Some(given) => Some(given.iter().map(|text| Identity::parse(text)).collect::<Result<Vec<_>>>()?),
            None => None,
        };
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
        let ids = match &self.mailbox_ids {
            Some(ids) => Some(ids.iter().map(|id| super::parse_guid(id, "mailbox id")).collect::<Result<Vec<_>>>()?),
            None => None,
        };
        if let Some(identities) = identities {
            // Identities and ids add up: every one becomes a condition of one `or`.
            let conditions =
                ids.unwrap_or_default().into_iter().map(Identity::Id).chain(identities).map(|identity| identity.condition()).collect();
            return Ok(or_groups(conditions, IDENTITY_TERMS_PER_QUERY).into_iter().map(|group| q.clone().filter(group)).collect());
        }
        let Some(ids) = ids else { return Ok(vec![q]) };
        Ok(any_id("mailboxid", &ids).into_iter().map(|condition| q.clone().filter(condition)).collect())
    }

    /// Calls `on_page` with each page of matching mailboxes, in order, until it is done.
    pub async fn for_each_page(&self, client: &Client, page_size: u32, on_page: impl AsyncPageFn) -> Result<usize> {
        self.for_each_page_selecting(client, page_size, COLUMNS, BY_NAME, on_page).await
    }

    /// [`Self::for_each_page`] reading only `columns` (the rest of each row is left empty), in
    /// `order` (`$orderby`): a reader that wants the rows that changed last reads them first,
    /// and stops there.
    pub(crate) async fn for_each_page_selecting(
        &self,
        client: &Client,
        page_size: u32,
        columns: &[&'static str],
        order: &str,
        mut on_page: impl AsyncPageFn,
    ) -> Result<usize> {
        let prefer_page = format!("odata.maxpagesize={}", page_size.clamp(1, 5000));
        let prefer = [PREFER_ANNOTATIONS, prefer_page.as_str()];
        let mut count = 0;
        for q in self.queries_selecting(client, columns).await? {
            let mut next = Some(client.api.resolve(&q.order_by(order).to_path("mailboxes"))?);
            while let Some(url) = next {
                let page = client.api.get_page::<Mailbox>(url, &prefer).await?;
                count += page.rows.len();
                on_page.call(page.rows).await?;
                if on_page.done() {
                    return Ok(count);
                }
                next = page.next_link;
            }
        }
        Ok(count)
    }

    /// Every matching mailbox in memory (the bulk steps need the whole set to plan).
    /// Many explicit ids are matched here against one read of the rest of the selection:
    /// a few requests of 5,000 rows instead of one per 50 ids.
    pub async fn collect(&self, client: &Client) -> Result<Vec<Mailbox>> {
        self.collect_selecting(client, COLUMNS).await
    }

    /// [`Self::collect`] reading only `columns`: a re-read that checks a few columns of
    /// thousands of rows reads a fifth of the bytes (and the service formats a fifth).
    async fn collect_selecting(&self, client: &Client, columns: &[&'static str]) -> Result<Vec<Mailbox>> {
        let mut all = Vec::new();
        match &self.mailbox_ids {
            Some(ids) if ids.len() > IDS_BY_SELECTION && self.mailboxes.is_none() => {
                let wanted = wanted_ids(ids)?;
                let rest = self.with_ids(None);
                // Kept page by page: a chunk of a 50,000-mailbox setup holds its own rows, not all.
                rest.for_each_page_selecting(client, 5000, columns, BY_NAME, Keep(&mut all, &wanted)).await?;
            }
            _ => {
                self.for_each_page_selecting(client, client.config.page_size, columns, BY_NAME, Collect(&mut all)).await?;
            }
        }
        if let Some(ids) = &self.mailbox_ids {
            let found: std::collections::HashSet<String> = all.iter().map(|m| m.mailbox_id.to_ascii_lowercase()).collect();
            let missing: Vec<&String> = ids.iter().filter(|id| !found.contains(&id.to_ascii_lowercase())).collect();
            if !missing.is_empty()
                && self.mailboxes.is_none()
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
        // Pages were appended by doubling: up to half the buffer is unused, and a 50,000-mailbox
        // setup holds its rows until their chunks are written.
        all.shrink_to_fit();
        Ok(all)
    }
}

impl MailboxSelection {
    /// Reads these mailboxes again (after a write), with as few requests as possible.
    pub async fn read_back(&self, client: &Client, ids: &[String]) -> Result<Vec<Mailbox>> {
        self.read_back_selecting(client, ids, COLUMNS, None).await
    }

    /// [`Self::read_back`] of only `columns` (with `mailboxid`; the rest of each row is
    /// left empty): for a step that verifies a few columns and reports the rows it holds.
    /// Rows that were read as one `run` of the selection (consecutive in its name order, as
    /// the procedure's chunks are) are read from the run's first name on, until all are
    /// found: a chunk of a 50,000-mailbox selection is one or a few pages, not all eleven.
    pub async fn read_back_selecting(
        &self,
        client: &Client,
        ids: &[String],
        columns: &[&'static str],
        run: Option<Run<'_>>,
    ) -> Result<Vec<Mailbox>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Runs are of a selection read in one name order (not of ids asked 50 at a time).
        let in_order = self.mailboxes.is_none() && self.mailbox_ids.as_ref().is_none_or(|given| given.len() > IDS_BY_SELECTION);
        let by_run = ids.len() > IDS_BY_SELECTION && in_order;
        let Some(run) = run.filter(|_| by_run) else {
            return self.with_ids(Some(ids.to_vec())).collect_selecting(client, columns).await;
        };
        let wanted = wanted_ids(ids)?;
        let mut all = Vec::new();
        // The service compares names as it orders them (its collation), so every row from
        // the run's first one on matches: a page a little larger than the run holds it.
        let from = self.and_filter(format!("name ge {}", string_literal(run.first_name)));
        let page = u32::try_from(run.rows + run.rows / 8).unwrap_or(5000);
        from.for_each_page_selecting(client, page, columns, BY_NAME, Keep(&mut all, &wanted)).await?;
        // A row renamed since the run was read is not from there on: read as before.
        let found: std::collections::HashSet<String> = all.iter().map(|m| m.mailbox_id.to_ascii_lowercase()).collect();
        let missing: Vec<String> = wanted.into_iter().filter(|id| !found.contains(id)).collect();
        if !missing.is_empty() {
            all.extend(self.with_ids(Some(missing)).collect_selecting(client, columns).await?);
        }
        Ok(all)
    }
}

/// `ids` as [`Keep`] matches them (lowercase, hyphenated); a malformed one is refused.
fn wanted_ids(ids: &[String]) -> Result<std::collections::HashSet<String>> {
    ids.iter().map(|id| super::parse_guid(id, "mailbox id").map(|g| g.to_string())).collect()
}

/// The order in which a selection is read (and a run of it is consecutive).
const BY_NAME: &str = "name";

/// Rows read as consecutive rows of a selection: the name of the first, and how many.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    pub first_name: &'a str,
    pub rows: usize,
}

/// A page consumer that may await (sending events) — a named trait keeps the signatures short.
pub trait AsyncPageFn {
    fn call(&mut self, page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send;

    /// Whether it has every row it wants (no more pages are read).
    fn done(&self) -> bool {
        false
    }
}

struct Collect<'a>(&'a mut Vec<Mailbox>);

impl AsyncPageFn for Collect<'_> {
    fn call(&mut self, page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send {
        self.0.extend(page);
        std::future::ready(Ok(()))
    }
}

/// Collects the rows whose (lowercase) id is wanted.
struct Keep<'a>(&'a mut Vec<Mailbox>, &'a std::collections::HashSet<String>);

impl AsyncPageFn for Keep<'_> {
    fn call(&mut self, page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send {
        let wanted = self.1;
        self.0.extend(page.into_iter().filter(|m| wanted.contains(&m.mailbox_id.to_ascii_lowercase())));
        std::future::ready(Ok(()))
    }

    fn done(&self) -> bool {
        self.0.len() >= self.1.len()
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
            let items = items.into_iter().map(|m| ListedMailbox { ownership: super::ownership::ownership(&m), mailbox: m }).collect();
            sink.send(Event::Items(ItemsEvent { page: pages, items })).await?;
            let progress = ProgressEvent { done: count, total: None, message: format!("Read {count} mailboxes ({pages} pages)") };
            sink.send(Event::Progress(progress)).await
        }
    }
}

/// Streams `{"type":"items"}` events (one per page) and `{"type":"progress"}` events; the
/// result is the count. Pages are never all held in memory at once.
pub async fn list(client: Arc<Client>, query: MailboxQuery, sink: EventSink) -> Result<ListResult> {
    let page_size = query.page_size.unwrap_or(client.config.page_size);
    let mut stream = Stream { sink: &sink, pages: 0, count: 0 };
    let count = query.selection.for_each_page(&client, page_size, &mut stream).await?;
    Ok(ListResult { count, pages: stream.pages })
}

impl<T: AsyncPageFn + Send> AsyncPageFn for &mut T {
    fn call(&mut self, page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send {
        (**self).call(page)
    }

    fn done(&self) -> bool {
        (**self).done()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_is_an_id_an_address_or_a_name_by_its_shape() {
        let id = "5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f";
        assert_eq!(Identity::parse(id).unwrap(), Identity::Id(id.parse().unwrap()));
        assert_eq!(Identity::parse(" support1@contoso.example ").unwrap(), Identity::EmailAddress("support1@contoso.example".into()));
        assert_eq!(Identity::parse("Avery Adams").unwrap(), Identity::Name("Avery Adams".into()));
        assert!(Identity::parse("  ").is_err());
    }

    #[test]
    fn quotes_in_identities_are_escaped_for_odata() {
        assert_eq!(Identity::parse("Liam O'Brien").unwrap().condition(), "name eq 'Liam O''Brien'");
        assert_eq!(Identity::parse("x' or name ne 'y").unwrap().condition(), "name eq 'x'' or name ne ''y'");
        assert_eq!(Identity::parse("o'neil@contoso.example").unwrap().condition(), "emailaddress eq 'o''neil@contoso.example'");
    }

    #[test]
    fn over_long_values_are_refused_naming_the_field_and_the_limit() {
        let long = "a".repeat(100_000);
        let err = Identity::parse(&long).unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::InvalidArgument);
        assert!(err.message.contains("mailboxes") && err.message.contains("100000") && err.message.contains("200"), "{}", err.message);
        assert!(err.message.len() < 300, "the value is not echoed whole: {}", err.message);
        assert!(Identity::parse(&format!("{}@contoso.example", "a".repeat(90))).unwrap_err().message.contains("100 characters"));
        assert!(Identity::parse(&"a".repeat(200)).is_ok(), "200 characters fit the name column");
        let selection = MailboxSelection { filter: Some("x".repeat(8_001)), ..Default::default() };
        assert!(selection.check().unwrap_err().message.contains("8000"));
        let selection = MailboxSelection { name: Some("n".repeat(201)), ..Default::default() };
        assert!(selection.check().unwrap_err().message.starts_with("The value of name"));
    }

    #[test]
    fn many_identities_are_split_into_queries_of_bounded_length() {
        let conditions: Vec<String> = (0..500).map(|i| format!("name eq 'Mailbox number {i:04}'")).collect();
        let groups = or_groups(conditions.clone(), IDENTITY_TERMS_PER_QUERY);
        assert!(groups.len() > 1);
        assert!(groups.iter().all(|g| g.len() <= IDENTITY_TERMS_PER_QUERY), "every group fits the budget");
        let rejoined: Vec<String> = groups.iter().flat_map(|g| g.split(" or ").map(str::to_string)).collect();
        assert_eq!(rejoined, conditions, "no condition is lost or reordered");
    }
}
