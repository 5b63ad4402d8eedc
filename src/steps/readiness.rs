//! Get Exchange ready: one check per prerequisite of the procedure, each Pass, Warning or
//! Fail with a message and the remedy. Reads only.

use super::context::Context;
use super::mailboxes::AsyncPageFn;
use crate::client::Client;
use crate::documents::{Check, CheckStatus, MailboxSelection};
use crate::error::Result;
use crate::model::mailbox::Mailbox;
use crate::model::profile::EmailServerProfile;
use serde_json::Value;

fn check(name: &str, status: CheckStatus, message: String, remedy: Option<&str>) -> Check {
    Check { check: name.to_string(), status, message, remedy: remedy.map(str::to_string), hint: None }
}

fn check_with_hint(name: &str, status: CheckStatus, message: String, remedy: &str, hint: &'static str) -> Check {
    Check { hint: Some(hint.into()), ..check(name, status, message, Some(remedy)) }
}

/// The privileges each later step needs (dataverse-reference §9), with the step named.
const PRIVILEGES: &[(&str, &str)] = &[
    ("prvReadMailbox", "read mailboxes"),
    ("prvWriteMailbox", "configure mailboxes and run Test & Enable"),
    ("prvReadEmailServerProfile", "read email server profiles"),
    ("prvWriteEmailServerProfile", "activate the email server profile"),
    ("prvReadOrganization", "read the organization's email settings"),
    ("prvWriteOrganization", "set the organization's default email settings"),
    ("prvReadTraceLog", "read mailbox alerts"),
    ("prvApproveRejectEmailAddress", "approve email addresses"),
];

/// Every check; the prerequisites and the mailbox summary are read at once.
pub async fn run(client: &Client) -> Result<Vec<Check>> {
    let ((_, mut checks), summary) = tokio::try_join!(prerequisites(client), mailbox_summary(client))?;
    checks.push(summary);
    Ok(checks)
}

/// Every check except the mailbox summary, which reads all mailboxes: the whole procedure
/// reads them anyway and summarizes them with [`summarize`]. Returned with what the checks
/// read (the identity, the organization row, the profiles), which the procedure's later
/// steps use instead of reading it again. After `WhoAmI`, the reads go at once.
pub async fn prerequisites(client: &Client) -> Result<(Context, Vec<Check>)> {
    let who = client.api.who_am_i(false).await?;
    let user_id = crate::model::text(&who, "UserId")
        .ok_or_else(|| crate::error::Error::new(crate::error::ErrorKind::Service, "WhoAmI answered without UserId."))?;
    let (context, held) = tokio::try_join!(Context::read(client), held_privileges(client, &user_id))?;
    let identity = &context.identity;
    let mut checks = vec![check(
        "Connection",
        CheckStatus::Pass,
        format!(
            "Signed in as user {} to organization {} ({}).",
            identity.user_id,
            identity.organization_name.as_deref().unwrap_or("?"),
            identity.url
        ),
        None,
    )];
    checks.push(profile_check(&context.profiles));
    for (privilege, purpose) in PRIVILEGES {
        let holds = match &held {
            Some(names) => names.contains(*privilege),
            None => holds_privilege(client, &identity.user_id, privilege).await?,
        };
        checks.push(privilege_check(holds, privilege, purpose));
    }
    let defaults = &context.defaults;
    checks.push(check(
        "ApprovalRequired",
        CheckStatus::Pass,
        format!(
            "Email approval is {} for users and {} for queues (the organization's 'Process emails only for approved users/queues').",
            if defaults.require_approval_for_user_email { "required" } else { "not required" },
            if defaults.require_approval_for_queue_email { "required" } else { "not required" }
        ),
        None,
    ));
    Ok((context, checks))
}

fn profile_check(profiles: &[EmailServerProfile]) -> Check {
    let name = "ExchangeOnlineProfile";
    let candidates: Vec<&EmailServerProfile> = profiles.iter().filter(|p| p.is_exchange_online).collect();
    let Some(profile) =
        candidates.iter().find(|p| p.name.as_deref() == Some(crate::model::profile::EXCHANGE_ONLINE_NAME)).or(candidates.first())
    else {
        return check(
            name,
            CheckStatus::Fail,
            "No 'Microsoft Exchange Online' email server profile exists (none by name, none of server type Exchange with server-to-server authentication).".into(),
            Some("Check that Exchange Online is in the same Microsoft 365 tenant; the profile is created automatically then. Otherwise create it in Settings > Email configuration > Email server profiles."),
        );
    };
    let label = profile.name.clone().unwrap_or_default();
    match (profile.state.as_ref(), profile.is_default) {
        ("Active", true) => check(name, CheckStatus::Pass, format!("'{label}' exists, is active and is the organization's default."), None),
        ("Active", false) => check_with_hint(
            name,
            CheckStatus::Warning,
            format!("'{label}' exists and is active but is not the default."),
            "Make it the organization's default email server profile (the whole setup does so too).",
            "set_default_profile",
        ),
        _ => check_with_hint(
            name,
            CheckStatus::Warning,
            format!("'{label}' exists but is inactive."),
            "Activate it and make it the organization's default email server profile.",
            "set_default_profile",
        ),
    }
}

/// Whether the user holds `privilege` through any role (RetrieveUserPrivilegeByPrivilegeName).
pub async fn holds_privilege(client: &Client, user_id: &str, privilege: &str) -> Result<bool> {
    let user = super::parse_guid(user_id, "UserId")?;
    let path = format!("systemusers({user})/Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName='{privilege}')");
    let answer = client.api.get(&path, &[]).await?;
    Ok(answer.get("RolePrivileges").and_then(Value::as_array).is_some_and(|a| !a.is_empty()))
}

/// The names of every privilege the user holds through its roles, in one request
/// (RetrieveUserPrivileges), instead of one RetrieveUserPrivilegeByPrivilegeName per privilege.
/// `None` when the service's answer does not name the privileges: `PrivilegeName` is in
/// today's RolePrivilege type but not in older versions' (ids only), and the caller then
/// asks by name. The simulator names them.
async fn held_privileges(client: &Client, user_id: &str) -> Result<Option<std::collections::HashSet<String>>> {
    let user = super::parse_guid(user_id, "UserId")?;
    let answer = client.api.get(&format!("systemusers({user})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"), &[]).await?;
    let Some(privileges) = answer.get("RolePrivileges").and_then(Value::as_array) else { return Ok(None) };
    let names: Option<std::collections::HashSet<String>> =
        privileges.iter().map(|p| p.get("PrivilegeName").and_then(Value::as_str).map(str::to_string)).collect();
    // An empty answer names nothing either way: ask by name, which cannot be misread.
    Ok(names.filter(|n| !n.is_empty()))
}

fn privilege_check(held: bool, privilege: &str, purpose: &str) -> Check {
    let name = format!("Privilege:{privilege}");
    match (held, privilege == "prvApproveRejectEmailAddress") {
        (true, true) => check(
            &name,
            CheckStatus::Warning,
            format!(
                "Holds {privilege} (needed to {purpose}). Approval for Exchange Online also needs the Microsoft 365 Global or Exchange Administrator role, or the Delegated Mailbox Approver role, which Dataverse cannot report."
            ),
            Some(
                "Approve as a Global or Exchange administrator, or assign the Delegated Mailbox Approver role to this user or application user.",
            ),
        ),
        (true, false) => check(&name, CheckStatus::Pass, format!("Holds {privilege} (needed to {purpose})."), None),
        (false, _) => check(
            &name,
            CheckStatus::Fail,
            format!("Lacks {privilege}: cannot {purpose}."),
            Some("Assign a security role that holds this privilege (System Administrator has all of them)."),
        ),
    }
}

#[derive(Default)]
struct Tally {
    total: usize,
    configured: usize,
    approved: usize,
    succeeded: usize,
    failed: usize,
}

impl Tally {
    fn add(&mut self, m: &Mailbox) {
        self.total += 1;
        self.configured +=
            usize::from(m.incoming_email == "ServerSideSync" && m.outgoing_email == "ServerSideSync" && m.server_profile_id.is_some());
        self.approved += usize::from(m.approval_status == "Approved");
        self.succeeded += usize::from(m.mailbox_status == "Success");
        self.failed += usize::from(m.mailbox_status == "Failure");
    }

    fn check(self) -> Check {
        let message = format!(
            "{} active mailboxes: {} use server-side synchronization with a profile, {} approved, {} tested successfully, {} failed their last test.",
            self.total, self.configured, self.approved, self.succeeded, self.failed
        );
        let status = if self.total > 0 && self.succeeded == self.total { CheckStatus::Pass } else { CheckStatus::Warning };
        match status {
            CheckStatus::Warning => {
                check_with_hint("Mailboxes", status, message, "Run the whole setup to configure, approve and test them.", "run_setup")
            }
            _ => check("Mailboxes", status, message, None),
        }
    }
}

impl AsyncPageFn for &mut Tally {
    fn call(&mut self, page: Vec<Mailbox>) -> impl std::future::Future<Output = Result<()>> + Send {
        page.iter().for_each(|m| self.add(m));
        std::future::ready(Ok(()))
    }
}

async fn mailbox_summary(client: &Client) -> Result<Check> {
    let mut tally = Tally::default();
    let selection = MailboxSelection { active_only: true, ..MailboxSelection::default() };
    selection.for_each_page(client, 5000, &mut tally).await?;
    Ok(tally.check())
}

/// The "Mailboxes" check over mailboxes already read.
pub fn summarize(mailboxes: &[Mailbox]) -> Check {
    let mut tally = Tally::default();
    mailboxes.iter().for_each(|m| tally.add(m));
    tally.check()
}
