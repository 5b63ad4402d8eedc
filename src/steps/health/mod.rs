//! Day two: the synchronization health of every selected mailbox.
//! Reads only: the organization's approval settings and default profile, the profiles'
//! states, one paged read of the mailboxes (only the health columns) and one alerts query;
//! each mailbox is classified by [`classify::assess`] and diagnosed from
//! [`crate::model::diagnosis`]. A summary counts the classes and, given a baseline (a
//! previous report's rows), lists the mailboxes that changed class.

pub mod classify;
/// The health columns and classes, typed rows of `model`.
pub use crate::model::health as facts;

use super::alerts::{self, odata_time};
use super::mailboxes::IDS_BY_SELECTION;
use crate::client::Client;
pub use crate::documents::HealthRow;
use crate::documents::{AlertQuery, ClassChange, Event, HealthRequest, HealthSummary, MailboxSelection, ProgressEvent};
use crate::error::{Error, Result};
use crate::model::PREFER_ANNOTATIONS;
use crate::operation::EventSink;
use chrono::{TimeDelta, Utc};
use classify::{Assessment, Context, Health, LatestAlerts};

/// The diagnosis table (a model of documented failures), public for callers and tests that
/// read a row's remedy or source.
pub use crate::model::diagnosis;
use facts::{AUDIT_COLUMNS, COLUMNS, Facts, FactsRow};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use url::Url;

/// Default `stale_after`: no successful synchronization for a day.
pub const DEFAULT_STALE_AFTER_SECS: u64 = 24 * 3600;
/// Alerts older than this are not read: the latest ones are what explains today's state.
const ALERT_WINDOW: TimeDelta = TimeDelta::days(7);
/// Up to this many explicit ids, the alerts query names them (one query of 50 ids at most).
const ALERT_IDS: usize = 50;

/// One mailbox's row of the report, from its facts, its latest alerts and its assessment.
fn health_row(facts: Facts, alerts: LatestAlerts, assessment: Assessment) -> HealthRow {
    HealthRow {
        health: assessment.health,
        reason: assessment.reason,
        remedy: assessment.remedy,
        repairable: !assessment.repairs.is_empty(),
        repairs: assessment.repairs,
        diagnosis: assessment.diagnosis.map(|d| d.id.into()),
        diagnosis_source: assessment.diagnosis.map(|d| d.source.into()),
        diagnosis_note: assessment.diagnosis.and_then(|d| d.note).map(Into::into),
        facts,
        latest_error: alerts.error,
        latest_warning: alerts.warning,
    }
}

/// What the classification needs from the organization, read once per report.
pub struct Organization {
    inactive_profiles: HashSet<String>,
    approval_required_for_users: bool,
    approval_required_for_queues: bool,
    has_default_profile: bool,
}

#[derive(Deserialize)]
struct ProfileState {
    emailserverprofileid: String,
    statecode: Option<i64>,
}

impl Organization {
    pub async fn read(client: &Client) -> Result<Organization> {
        let defaults = super::org_defaults::get(client).await?;
        let profiles: Vec<ProfileState> = client.api.get_all("emailserverprofiles?$select=emailserverprofileid,statecode", &[]).await?;
        let inactive_profiles: HashSet<String> =
            profiles.into_iter().filter(|p| p.statecode != Some(0)).map(|p| p.emailserverprofileid.to_ascii_lowercase()).collect();
        Ok(Organization {
            inactive_profiles,
            approval_required_for_users: defaults.require_approval_for_user_email,
            approval_required_for_queues: defaults.require_approval_for_queue_email,
            has_default_profile: defaults.server_profile_id.is_some(),
        })
    }

    fn context(&self, stale_after: TimeDelta) -> Context<'_> {
        Context {
            now: Utc::now(),
            stale_after,
            inactive_profiles: &self.inactive_profiles,
            approval_required_for_users: self.approval_required_for_users,
            approval_required_for_queues: self.approval_required_for_queues,
            has_default_profile: self.has_default_profile,
        }
    }
}

pub async fn run(client: Arc<Client>, request: HealthRequest, sink: EventSink) -> Result<HealthSummary> {
    let stale_after_secs = request.stale_after_secs.unwrap_or(DEFAULT_STALE_AFTER_SECS);
    if stale_after_secs == 0 {
        return Err(Error::invalid("StaleAfter must be longer than zero."));
    }
    let stale_after = TimeDelta::seconds(i64::try_from(stale_after_secs).map_err(|_| Error::invalid("StaleAfter is too long."))?);
    let wanted: Option<HashSet<Health>> = request.health.as_ref().map(|h| h.iter().copied().collect());
    let baseline: Option<HashMap<String, Health>> =
        request.baseline.as_ref().map(|rows| rows.iter().map(|r| (r.mailbox_id.to_ascii_lowercase(), r.health)).collect());
    let page_size = request.page_size.unwrap_or(client.config.page_size);

    let mut counts: BTreeMap<Health, usize> = Health::ALL.iter().map(|h| (*h, 0)).collect();
    let mut summary = HealthSummary {
        mailboxes: 0,
        reported: 0,
        counts: BTreeMap::new(),
        unhealthy: 0,
        repairable: 0,
        changed: baseline.as_ref().map(|_| Vec::new()),
        stale_after_secs,
        audit_columns: true,
        alerts_since: String::new(),
    };
    let mut alerts_since = String::new();
    let audit_columns = assess_selection(
        &client,
        &request.selection,
        stale_after,
        page_size,
        &mut alerts_since,
        |row| {
            *counts.entry(row.health).or_default() += 1;
            summary.mailboxes += 1;
            summary.unhealthy += usize::from(row.health != Health::Healthy);
            summary.repairable += usize::from(row.repairable);
            if let (Some(baseline), Some(changed)) = (&baseline, summary.changed.as_mut()) {
                let before = baseline.get(&row.facts.mailbox_id.to_ascii_lowercase()).copied();
                if before != Some(row.health) {
                    changed.push(ClassChange {
                        mailbox_id: row.facts.mailbox_id.clone(),
                        name: row.facts.name.clone(),
                        from: before,
                        to: row.health,
                    });
                }
            }
            let report = wanted.as_ref().is_none_or(|w| w.contains(&row.health));
            summary.reported += usize::from(report);
            report.then(|| event(row))
        },
        &sink,
    )
    .await?;
    summary.audit_columns = audit_columns;
    summary.alerts_since = alerts_since;
    summary.counts = counts;
    Ok(summary)
}

fn event(row: HealthRow) -> Event {
    Event::Health(Box::new(row))
}

/// Reads and classifies the selection page by page, calling `on_row` for each mailbox; the
/// events it returns are sent (with a progress event per page). Returns whether the audit
/// columns were read.
async fn assess_selection(
    client: &Client,
    selection: &MailboxSelection,
    stale_after: TimeDelta,
    page_size: u32,
    alerts_since: &mut String,
    mut on_row: impl FnMut(HealthRow) -> Option<Event>,
    sink: &EventSink,
) -> Result<bool> {
    let organization = Organization::read(client).await?;
    *alerts_since = odata_time(Utc::now() - ALERT_WINDOW);
    let mut latest = latest_alerts(client, selection, alerts_since).await?;
    let ctx = organization.context(stale_after);
    let mut reader = Reader::open(client, selection, page_size).await?;
    let mut done = 0usize;
    while let Some(page) = reader.next(client).await? {
        for facts in page {
            let alerts = latest.remove(&facts.mailbox_id.to_ascii_lowercase()).unwrap_or_default();
            let assessment = classify::assess(&facts, &alerts, &ctx);
            done += 1;
            if let Some(event) = on_row(health_row(facts, alerts, assessment)) {
                sink.send(event).await?;
            }
        }
        let message = format!("Assessed {done} mailboxes");
        sink.send(Event::Progress(ProgressEvent { done, total: None, message })).await?;
    }
    Ok(reader.audit)
}

/// Every selected mailbox's row, in memory (repair plans from the whole set).
pub async fn assess_all(client: &Client, selection: &MailboxSelection, stale_after: TimeDelta) -> Result<Vec<HealthRow>> {
    let organization = Organization::read(client).await?;
    let mut latest = latest_alerts(client, selection, &odata_time(Utc::now() - ALERT_WINDOW)).await?;
    let ctx = organization.context(stale_after);
    let mut reader = Reader::open(client, selection, 5000).await?;
    let mut rows = Vec::new();
    while let Some(page) = reader.next(client).await? {
        for facts in page {
            let alerts = latest.remove(&facts.mailbox_id.to_ascii_lowercase()).unwrap_or_default();
            let assessment = classify::assess(&facts, &alerts, &ctx);
            rows.push(health_row(facts, alerts, assessment));
        }
    }
    Ok(rows)
}

/// The latest error and warning alert per mailbox (lowercase id), from one alerts query.
async fn latest_alerts(client: &Client, selection: &MailboxSelection, since: &str) -> Result<HashMap<String, LatestAlerts>> {
    let ids = selection.mailbox_ids.as_ref().filter(|ids| ids.len() <= ALERT_IDS).cloned();
    let query =
        AlertQuery { version: 1, mailbox_ids: ids, min_level: Some("Warning".into()), since: Some(since.into()), ..AlertQuery::default() };
    let mut latest: HashMap<String, LatestAlerts> = HashMap::new();
    // Newest first: the first alert of each level per mailbox is its latest.
    for alert in alerts::list(client, &query).await? {
        let Some(id) = alert.regarding_id.as_deref().map(str::to_ascii_lowercase) else { continue };
        let entry = latest.entry(id).or_default();
        let slot = if alert.level == "Error" { &mut entry.error } else { &mut entry.warning };
        if slot.is_none() {
            *slot = Some(alert);
        }
    }
    Ok(latest)
}

/// Pages through the selection with the health columns. The audit columns are asked for
/// first; an organization older than 9.2.2412.2 answers that they do not exist (400, "Could
/// not find a property named …"), and the read starts again without them. The simulator has
/// them, so its answers take the first path; the fallback is unit tested on the error.
struct Reader {
    selection: MailboxSelection,
    /// Many explicit ids: one read of the rest of the selection, matched here (as `collect`).
    wanted: Option<HashSet<String>>,
    queue: VecDeque<Url>,
    next: Option<Url>,
    prefer_page: String,
    audit: bool,
    started: bool,
}

impl Reader {
    async fn open(client: &Client, selection: &MailboxSelection, page_size: u32) -> Result<Reader> {
        let wanted = match &selection.mailbox_ids {
            // Identities (`mailboxes`) add up with the ids: then the queries read both.
            Some(ids) if ids.len() > IDS_BY_SELECTION && selection.mailboxes.is_none() => {
                Some(ids.iter().map(|id| super::parse_guid(id, "mailbox id").map(|g| g.to_string())).collect::<Result<_>>()?)
            }
            _ => None,
        };
        let selection = match &wanted {
            Some(_) => selection.with_ids(None),
            None => selection.clone(),
        };
        let mut reader = Reader {
            selection,
            wanted,
            queue: VecDeque::new(),
            next: None,
            prefer_page: format!("odata.maxpagesize={}", page_size.clamp(1, 5000)),
            audit: true,
            started: false,
        };
        reader.plan(client).await?;
        Ok(reader)
    }

    async fn plan(&mut self, client: &Client) -> Result<()> {
        let mut columns: Vec<&'static str> = COLUMNS.to_vec();
        if self.audit {
            columns.extend_from_slice(AUDIT_COLUMNS);
        }
        self.queue.clear();
        for q in self.selection.queries_selecting(client, &columns).await? {
            self.queue.push_back(client.api.resolve(&q.to_path("mailboxes"))?);
        }
        Ok(())
    }

    async fn next(&mut self, client: &Client) -> Result<Option<Vec<Facts>>> {
        loop {
            let Some(url) = self.next.take().or_else(|| self.queue.pop_front()) else { return Ok(None) };
            let prefer = [PREFER_ANNOTATIONS, self.prefer_page.as_str()];
            match client.api.get_page::<FactsRow>(url, &prefer).await {
                Err(error) if !self.started && self.audit && lacks_audit_columns(&error) => {
                    self.audit = false;
                    self.plan(client).await?;
                }
                Err(error) => return Err(error),
                Ok(page) => {
                    self.started = true;
                    self.next = page.next_link;
                    let mut rows: Vec<Facts> = page.rows.into_iter().map(Facts::from).collect();
                    if let Some(wanted) = &self.wanted {
                        rows.retain(|f| wanted.contains(&f.mailbox_id.to_ascii_lowercase()));
                    }
                    return Ok(Some(rows));
                }
            }
        }
    }
}

fn lacks_audit_columns(error: &Error) -> bool {
    error.http_status == Some(400)
        && error.message.contains("Could not find a property named")
        && AUDIT_COLUMNS.iter().any(|c| error.message.contains(&format!("'{c}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_audit_column_falls_back() {
        let mut error = Error::new(
            crate::error::ErrorKind::Service,
            "Could not find a property named 'testandenablelastattemptedon' on type 'Microsoft.Dynamics.CRM.mailbox'.",
        );
        error.http_status = Some(400);
        assert!(lacks_audit_columns(&error));
        error.message = "Could not find a property named 'lastsyncerror' on type 'Microsoft.Dynamics.CRM.mailbox'.".into();
        assert!(!lacks_audit_columns(&error), "a missing health column is a real error");
        error.http_status = Some(500);
        error.message = "Could not find a property named 'emailaddressapprovedon'".into();
        assert!(!lacks_audit_columns(&error));
    }

    #[test]
    fn a_row_serializes_flat_with_its_facts() {
        let facts = facts::sample();
        let ctx_profiles = HashSet::new();
        let ctx = Context {
            now: Utc::now(),
            stale_after: TimeDelta::days(3650),
            inactive_profiles: &ctx_profiles,
            approval_required_for_users: true,
            approval_required_for_queues: true,
            has_default_profile: true,
        };
        let assessment = classify::assess(&facts, &LatestAlerts::default(), &ctx);
        let value = crate::documents::to_value(event(health_row(facts, LatestAlerts::default(), assessment)));
        assert_eq!(value["type"], "health");
        assert_eq!(value["health"], "Healthy");
        assert_eq!(value["mailbox_id"], "0b7c0e52-0000-0000-0000-000000000001");
        assert_eq!(value["enabled_for_act"], true);
    }
}
