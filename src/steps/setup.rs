//! The whole procedure in one idempotent run: readiness, the Exchange Online profile as the
//! active default, the organization's defaults, every selected mailbox's settings, approval,
//! then Test & Enable of the mailboxes that are not already working. Each step skips what is
//! already right; with `what_if` nothing is written and every step reports its plan.

use super::mailboxes::MailboxSelection;
use super::readiness;
use super::{approval, mailbox_settings, org_defaults, test_enable};
use crate::client::Client;
use crate::documents::{self, Check, CheckStatus, Event};
use crate::error::{Error, Result};
use crate::model::mailbox::Mailbox;
use crate::model::profile::EXCHANGE_ONLINE_NAME;
use crate::operation::EventSink;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    pub version: u32,
    #[serde(default)]
    pub selection: MailboxSelection,
    /// Defaults to the profile named "Microsoft Exchange Online".
    #[serde(default)]
    pub server_profile: Option<String>,
    #[serde(default)]
    pub sync_with_this_org_only: bool,
    #[serde(default)]
    pub skip_approval: bool,
    #[serde(default)]
    pub wait: bool,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub poll_interval_ms: Option<u64>,
    #[serde(default)]
    pub what_if: bool,
    /// Appends one line per written row, of every step, to this change journal (`crate::journal`).
    #[serde(default)]
    pub journal_path: Option<String>,
}

const SSS: &str = "ServerSideSync";

pub async fn run(client: Arc<Client>, request: SetupRequest, sink: EventSink) -> Result<Value> {
    let mut steps = Vec::new();
    let journal = if request.what_if { None } else { super::journaling::open(&client, request.journal_path.as_deref()).await? };
    let journal = journal.as_ref();

    let checks = readiness::prerequisites(&client).await?;
    for c in &checks {
        send_check(&sink, c).await?;
    }
    let blocking: Vec<&Check> = checks.iter().filter(|c| c.status == CheckStatus::Fail && c.check == "ExchangeOnlineProfile").collect();
    if let Some(block) = blocking.first() {
        // This check fails without a hint (its remedy is outside the product).
        return Err(
            Error::invalid(format!("Readiness check failed: {}", block.message)).with_remedy(block.remedy.clone().unwrap_or_default())
        );
    }
    let profile_name = request.server_profile.clone().unwrap_or_else(|| EXCHANGE_ONLINE_NAME.to_string());

    // One read of the selection serves every step; the state before any change also decides
    // which mailboxes need Test & Enable afterwards.
    let selection = MailboxSelection { active_only: true, ..request.selection.clone() };
    let profile = super::profiles::find(&client, &profile_name).await?;
    let before = selection.collect(&client).await?;
    let total = before.len();
    send_check(&sink, &readiness::summarize(&before)).await?;

    let defaults = org_defaults::DefaultsRequest {
        version: 1,
        server_profile: Some(profile.profile_id.clone()),
        incoming_email: Some(SSS.into()),
        outgoing_email: Some(SSS.into()),
        appointments_contacts_tasks: Some(SSS.into()),
        process_email_using: Some(SSS.into()),
        what_if: request.what_if,
        journal_path: None,
    };
    let outcome = org_defaults::apply(&client, &defaults, journal).await?;
    steps.push(org_defaults::report_step(&outcome, request.what_if, &sink).await?);

    let settings = mailbox_settings::SettingsRequest {
        version: 1,
        server_profile: Some(profile.profile_id.clone()),
        incoming_email: Some(SSS.into()),
        outgoing_email: Some(SSS.into()),
        appointments_contacts_tasks: Some(SSS.into()),
        sync_with_this_org_only: request.sync_with_this_org_only.then_some(true),
        ..Default::default()
    };
    let target = mailbox_settings::desired(&client, &settings).await?;
    // Settings write mailbox rows, approval writes their owners' rows: the two are independent,
    // so their writes share one stream under the caller's limits instead of two ramps and tails.
    let settings_sink = sink.for_step("MailboxSettings");
    let approval_sink = sink.for_step("ApproveEmail");
    let (settings_summary, approval_summary) =
        tokio::try_join!(mailbox_settings::apply(&client, &before, &target, request.what_if, journal, &settings_sink), async {
            if request.skip_approval {
                return Ok(None);
            }
            approval::apply(&client, &before, &selection, approval::Decision::Approve, request.what_if, journal, &approval_sink)
                .await
                .map(Some)
        })?;
    steps.push(settings_summary);
    steps.extend(approval_summary);

    let to_test: Vec<Mailbox> = before.into_iter().filter(|m| !is_working(m, &profile.profile_id)).collect();
    let already_working = total - to_test.len();
    let test = test_enable::TestEnableRequest {
        version: 1,
        selection: MailboxSelection {
            mailbox_ids: Some(to_test.iter().map(|m| m.mailbox_id.clone()).collect()),
            active_only: true,
            ..MailboxSelection::default()
        },
        sync_with_this_org_only: request.sync_with_this_org_only,
        wait: request.wait,
        timeout_secs: request.timeout_secs,
        poll_interval_ms: request.poll_interval_ms,
        what_if: request.what_if,
        journal_path: None,
    };
    let test_summary = if to_test.is_empty() {
        json!({"version": 1, "step": "TestAndEnable", "what_if": request.what_if, "unchanged": total})
    } else {
        test_enable::run_for(&client, to_test, &test, journal, &sink.for_step("TestAndEnable")).await?
    };
    steps.push(test_summary);
    Ok(json!({"version": 1, "what_if": request.what_if, "mailboxes": total, "already_working": already_working, "steps": steps}))
}

async fn send_check(sink: &EventSink, check: &Check) -> Result<()> {
    sink.for_step("Readiness").send(documents::to_value(Event::<Mailbox>::Check(check.clone()))).await
}

/// Configured for the target profile with server-side synchronization, approved, and
/// successfully tested: nothing to do for this mailbox.
fn is_working(m: &Mailbox, profile_id: &str) -> bool {
    m.server_profile_id.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(profile_id))
        && m.incoming_email == SSS
        && m.outgoing_email == SSS
        && m.appointments_contacts_tasks == SSS
        && m.approval_status == "Approved"
        && m.mailbox_status == "Success"
}
