//! The whole procedure in one idempotent run: readiness, the Exchange Online profile as the
//! active default, the organization's defaults, every selected mailbox's settings, approval,
//! then Test & Enable of the mailboxes that are not already working. Each step skips what is
//! already right; with `what_if` nothing is written and every step reports its plan.

use super::mailboxes::MailboxSelection;
use super::readiness::{self, Status as CheckStatus};
use super::{approval, mailbox_settings, org_defaults, test_enable};
use crate::client::Client;
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
}

const SSS: &str = "ServerSideSync";

pub async fn run(client: Arc<Client>, request: SetupRequest, sink: EventSink) -> Result<Value> {
    let mut steps = Vec::new();

    let checks = readiness::run(&client).await?;
    for c in &checks {
        let mut event = serde_json::to_value(c).unwrap_or_default();
        event["type"] = json!("check");
        event["version"] = json!(1);
        sink.for_step("Readiness").send(event).await?;
    }
    let blocking: Vec<&readiness::Check> =
        checks.iter().filter(|c| c.status == CheckStatus::Fail && c.check == "ExchangeOnlineProfile").collect();
    if let Some(block) = blocking.first() {
        return Err(
            Error::invalid(format!("Readiness check failed: {}", block.message)).with_remedy(block.remedy.clone().unwrap_or_default())
        );
    }
    let profile_name = request.server_profile.clone().unwrap_or_else(|| EXCHANGE_ONLINE_NAME.to_string());

    // Mailbox state before any change decides which ones need Test & Enable afterwards.
    let selection = MailboxSelection { active_only: true, ..request.selection.clone() };
    let profile = super::profiles::find(&client, &profile_name).await?;
    // Only the count and the ids are kept: the rows themselves would be held through every step.
    // (Copied out rather than collected in place, which would keep the rows' whole allocation.)
    let (total, needs_test): (usize, Vec<String>) = {
        let before = selection.collect(&client).await?;
        (before.len(), before.iter().filter(|m| !is_working(m, &profile.profile_id)).map(|m| m.mailbox_id.clone()).collect())
    };

    let defaults = org_defaults::DefaultsRequest {
        version: 1,
        server_profile: Some(profile.profile_id.clone()),
        incoming_email: Some(SSS.into()),
        outgoing_email: Some(SSS.into()),
        appointments_contacts_tasks: Some(SSS.into()),
        process_email_using: Some(SSS.into()),
        what_if: request.what_if,
    };
    let outcome = org_defaults::set(&client, &defaults).await?;
    let changes = outcome["changes"].as_array().cloned().unwrap_or_default();
    let (planned, changed) = if request.what_if { (changes.len(), 0) } else { (0, changes.len()) };
    sink.for_step("Defaults").send(json!({"version": 1, "type": "changes", "changes": changes})).await?;
    steps.push(json!({"version": 1, "step": "Defaults", "what_if": request.what_if, "planned": planned, "changed": changed, "unchanged": usize::from(changes.is_empty()), "failed": 0}));

    let settings = mailbox_settings::SettingsRequest {
        version: 1,
        selection: selection.clone(),
        server_profile: Some(profile.profile_id.clone()),
        incoming_email: Some(SSS.into()),
        outgoing_email: Some(SSS.into()),
        appointments_contacts_tasks: Some(SSS.into()),
        sync_with_this_org_only: request.sync_with_this_org_only.then_some(true),
        what_if: request.what_if,
        ..Default::default()
    };
    steps.push(mailbox_settings::set(client.clone(), settings, sink.for_step("MailboxSettings")).await?);

    if !request.skip_approval {
        let approve = approval::ApprovalRequest {
            version: 1,
            selection: selection.clone(),
            decision: approval::Decision::Approve,
            what_if: request.what_if,
        };
        steps.push(approval::decide(client.clone(), approve, sink.for_step("ApproveEmail")).await?);
    }

    let test = test_enable::TestEnableRequest {
        version: 1,
        selection: MailboxSelection { mailbox_ids: Some(needs_test.clone()), ..MailboxSelection::default() },
        sync_with_this_org_only: request.sync_with_this_org_only,
        wait: request.wait,
        timeout_secs: request.timeout_secs,
        poll_interval_ms: request.poll_interval_ms,
        what_if: request.what_if,
    };
    let test_summary = if needs_test.is_empty() {
        json!({"version": 1, "step": "TestAndEnable", "what_if": request.what_if, "unchanged": total})
    } else {
        test_enable::run(client.clone(), test, sink.for_step("TestAndEnable")).await?
    };
    steps.push(test_summary);
    Ok(
        json!({"version": 1, "what_if": request.what_if, "mailboxes": total, "already_working": total - needs_test.len(), "steps": steps}),
    )
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
