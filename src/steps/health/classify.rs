//! One mailbox's health class, reason, remedy and repairs: a pure function of its columns, its
//! latest alerts and the organization's settings, so every class is unit tested here.
//!
//! Inferences (day-two-reference §2, [I]): "disabled for processing" is read as a failure with
//! no synchronized direction still enabled (`enabledfor…` false); a test that never completes
//! is `testemailconfigurationscheduled` still true well past `postponetestemailconfigurationuntil`.
//! The simulator follows the same reading (its Test & Enable sets `enabledfor…` = status is Success).

use super::facts::Facts;
use crate::model::alert::Alert;
use crate::model::diagnosis::{self, Diagnosis, Repair};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::collections::HashSet;

pub use crate::model::health::Health;

/// A test scheduled longer ago than this without a result is reported as overdue.
const TEST_OVERDUE: TimeDelta = TimeDelta::hours(1);

/// What the classification needs besides the mailbox itself.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub stale_after: TimeDelta,
    /// Ids (lowercase) of the organization's inactive email server profiles.
    pub inactive_profiles: &'a HashSet<String>,
    pub approval_required_for_users: bool,
    pub approval_required_for_queues: bool,
    /// The organization has a default profile to apply (ApplyDefaults is possible).
    pub has_default_profile: bool,
}

/// The latest error and warning alert regarding one mailbox.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LatestAlerts {
    pub error: Option<Alert>,
    pub warning: Option<Alert>,
}

#[derive(Debug, Clone)]
pub struct Assessment {
    pub health: Health,
    pub reason: String,
    pub diagnosis: Option<&'static Diagnosis>,
    /// None for a healthy mailbox.
    pub remedy: Option<String>,
    /// The fixes, in order (Test last); empty = not repairable.
    pub repairs: Vec<Repair>,
}

impl Assessment {
    fn new(health: Health, reason: impl Into<String>, remedy: Option<&str>, repairs: Vec<Repair>) -> Assessment {
        Assessment { health, reason: reason.into(), diagnosis: None, remedy: remedy.map(str::to_string), repairs }
    }

    fn diagnosed(mut self, diagnosis: &'static Diagnosis) -> Assessment {
        self.diagnosis = Some(diagnosis);
        self.remedy = Some(diagnosis.remedy.to_string());
        self
    }
}

fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| crate::steps::alerts::parse_time(t).ok())
}

fn diagnosis(id: &str) -> &'static Diagnosis {
    diagnosis::by_id(id).expect("the diagnosis table has this row")
}

pub fn assess(f: &Facts, alerts: &LatestAlerts, ctx: &Context) -> Assessment {
    if f.state != "Active" {
        return Assessment::new(
            Health::Inactive,
            "The mailbox is inactive (deactivated, or its user was disabled).",
            Some("Activate the mailbox (and its user) if it should synchronize; inactive mailboxes are never processed."),
            vec![],
        );
    }
    if let Some(assessment) = configuration(f, ctx) {
        return assessment;
    }
    if let Some(assessment) = approval(f, ctx) {
        return assessment;
    }
    if f.test_scheduled {
        let scheduled = time(f.postpone_test_until.as_deref()).or(time(f.test_last_attempted_on.as_deref()));
        let overdue = scheduled.is_some_and(|t| ctx.now - t > TEST_OVERDUE);
        let reason = if overdue {
            "A test was scheduled more than an hour ago and has not finished."
        } else {
            "A test (Test & Enable) is scheduled and has not finished yet."
        };
        return Assessment::new(
            Health::TestScheduled,
            reason,
            Some("Wait for the test to finish; if it never does, check that the organization's asynchronous processing runs."),
            vec![],
        );
    }
    failure(f, alerts, ctx).unwrap_or_else(|| Assessment::new(Health::Healthy, "Tested successfully and synchronizing.", None, vec![]))
}

/// No profile, an inactive one, or no direction set to server-side synchronization.
fn configuration(f: &Facts, ctx: &Context) -> Option<Assessment> {
    let profile_inactive = f.server_profile_id.as_deref().is_some_and(|p| ctx.inactive_profiles.contains(&p.to_ascii_lowercase()));
    let no_sync = f.synchronized_directions().is_empty();
    if f.server_profile_id.is_some() && !profile_inactive && !no_sync {
        return None;
    }
    let needs_defaults = f.server_profile_id.is_none() || no_sync;
    let mut repairs = Vec::new();
    // Without a default profile there is nothing to apply: not repairable at all.
    if !needs_defaults || ctx.has_default_profile {
        if profile_inactive {
            repairs.push(Repair::ActivateProfile);
        }
        if needs_defaults {
            repairs.push(Repair::ApplyDefaults);
        }
    }
    if !repairs.is_empty() {
        if approval_pending(f, ctx) {
            repairs.push(Repair::Approve);
        }
        repairs.push(Repair::Test);
    }
    let reason = match (f.server_profile_id.is_none(), profile_inactive, no_sync) {
        (true, _, _) => "The mailbox has no email server profile.".to_string(),
        (_, true, _) => format!("The mailbox's email server profile '{}' is inactive.", f.server_profile_name.as_deref().unwrap_or("?")),
        _ => "No delivery method is set to server-side synchronization.".to_string(),
    };
    let mut assessment = Assessment::new(Health::NotConfigured, reason, None, repairs);
    if f.server_profile_id.is_none() || profile_inactive {
        assessment = assessment.diagnosed(diagnosis("InvalidIncomingEmailServerProfile"));
    } else {
        assessment.remedy =
            Some("Set the delivery methods to server-side synchronization (the organization's defaults), then test the mailbox.".into());
    }
    if assessment.repairs.is_empty() && !ctx.has_default_profile {
        assessment.remedy = Some(format!(
            "{} The organization has no default email server profile to apply: set the organization's default profile and delivery methods first.",
            assessment.remedy.unwrap_or_default()
        ));
    }
    Some(assessment)
}

fn approval_required(f: &Facts, ctx: &Context) -> bool {
    if f.is_queue() { ctx.approval_required_for_queues } else { ctx.approval_required_for_users }
}

/// Approval is required and the address is neither approved nor deliberately rejected.
fn approval_pending(f: &Facts, ctx: &Context) -> bool {
    approval_required(f, ctx) && f.approval_status != "Approved" && f.approval_status != "Rejected"
}

fn approval(f: &Facts, ctx: &Context) -> Option<Assessment> {
    if !approval_required(f, ctx) || f.approval_status == "Approved" {
        return None;
    }
    if f.approval_status == "Rejected" {
        return Some(Assessment::new(
            Health::PendingApproval,
            "The mailbox's email address was rejected, and the organization processes email only for approved addresses.",
            Some("A rejection is an administrator's decision: approve the address deliberately if the mailbox should synchronize."),
            vec![],
        ));
    }
    Some(
        Assessment::new(
            Health::PendingApproval,
            format!("The email address is not approved (status {}).", f.approval_status),
            None,
            vec![Repair::Approve, Repair::Test],
        )
        .diagnosed(diagnosis("S2SApprovalNeeded")),
    )
}

/// Never tested, failing, disabled or stale; `None` when healthy.
fn failure(f: &Facts, alerts: &LatestAlerts, ctx: &Context) -> Option<Assessment> {
    let directions = f.synchronized_directions();
    let tested = time(f.test_completed_on.as_deref());
    let last_success = time(f.last_successful_sync_completed_on.as_deref());
    let failed: Vec<&str> = directions.iter().filter(|(_, status, _)| *status == "Failure").map(|(name, _, _)| *name).collect();
    let test_failed = f.mailbox_status == "Failure" || !failed.is_empty();
    if tested.is_none() && !test_failed && f.mailbox_status != "Success" {
        return Some(Assessment::new(
            Health::NotTested,
            "The mailbox has never been tested (Test & Enable).",
            Some("Test the mailbox (Test & Enable)."),
            vec![Repair::Test],
        ));
    }
    let since_good = [tested, last_success].into_iter().flatten().max();
    let error_at = time(f.last_sync_error_occurred_on.as_deref());
    let sync_error = f.last_sync_error.is_some() && error_at.is_some_and(|e| since_good.is_none_or(|good| e > good));
    // power-platform issue #848: the test may report Success while alerts show the failure.
    let alert_error =
        alerts.error.as_ref().is_some_and(|a| time(a.created_on.as_deref()).is_some_and(|at| since_good.is_none_or(|good| at > good)));
    let enabled = directions.iter().any(|(_, _, enabled)| *enabled);
    if test_failed || sync_error || alert_error {
        return Some(explain_failure(f, alerts, &failed, enabled, sync_error || alert_error));
    }
    if f.mailbox_status == "NotRun" && directions.iter().all(|(_, status, _)| *status == "NotRun") {
        return Some(Assessment::new(
            Health::NotTested,
            "The mailbox's statuses were reset (its settings changed since the last test).",
            Some("Test the mailbox (Test & Enable)."),
            vec![Repair::Test],
        ));
    }
    if !enabled {
        return Some(Assessment::new(
            Health::Disabled,
            "The mailbox passed its last test but is not enabled for processing.",
            Some("Test the mailbox again (Test & Enable) to enable it for processing."),
            vec![Repair::Test],
        ));
    }
    let reference = last_success.or(tested)?;
    if ctx.now - reference > ctx.stale_after {
        let hours = (ctx.now - reference).num_hours();
        let postponed =
            f.postpone_mailbox_processing_until.as_deref().map(|t| format!(" Processing is postponed until {t}.")).unwrap_or_default();
        return Some(Assessment::new(
            Health::Stale,
            format!("Enabled and tested, but no successful synchronization for {hours} hours.{postponed}"),
            Some(
                "Check the mailbox's alerts and that the organization's asynchronous processing runs; test the mailbox again if it stays stale.",
            ),
            vec![],
        ));
    }
    None
}

fn explain_failure(f: &Facts, alerts: &LatestAlerts, failed: &[&str], enabled: bool, after_success: bool) -> Assessment {
    let error = alerts.error.as_ref();
    let texts = [f.last_sync_error.as_deref(), error.and_then(|a| a.text.as_deref()), error.and_then(|a| a.error_type.as_deref())];
    let texts: Vec<&str> = texts.into_iter().flatten().collect();
    let found = diagnosis::find(f.last_sync_error_code, texts.iter().copied());
    let health = if enabled { Health::Failing } else { Health::Disabled };
    let what = if failed.is_empty() {
        if after_success { "Synchronization failed after the last successful test".to_string() } else { "The last test failed".to_string() }
    } else {
        format!("The last test failed for {}", failed.join(", "))
    };
    let Some(found) = found else {
        let raw = texts.first().map(|t| format!(": {t}")).unwrap_or_else(|| " and no alert explains why.".into());
        let code = f.last_sync_error_code.map(|c| format!(" (error code {c})")).unwrap_or_default();
        return Assessment::new(health, format!("{what}{code}{raw}"), Some(diagnosis::UNKNOWN_REMEDY), vec![]);
    };
    let repairs = match found.repair {
        Some(Repair::AssignOwner) if !f.is_queue() && owner_differs(f) => vec![Repair::AssignOwner, Repair::Test],
        Some(Repair::SetAccessMode) if !f.is_queue() => vec![Repair::SetAccessMode, Repair::Test],
        // The profile and approval were checked above and are right now: the cause is gone.
        Some(Repair::ApplyDefaults | Repair::ActivateProfile | Repair::Approve | Repair::Test) => vec![Repair::Test],
        _ => vec![],
    };
    Assessment::new(health, format!("{what}: {}", found.cause), None, repairs).diagnosed(found)
}

fn owner_differs(f: &Facts) -> bool {
    match (&f.owner_id, &f.regarding_id) {
        (Some(owner), Some(user)) => !owner.eq_ignore_ascii_case(user),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::facts::sample;
    use super::*;
    use crate::model::options::Name;

    fn now() -> DateTime<Utc> {
        "2026-12-01T12:00:00Z".parse().unwrap()
    }

    fn with<R>(inactive: &[&str], f: impl FnOnce(&Context) -> R) -> R {
        let inactive: HashSet<String> = inactive.iter().map(|s| s.to_string()).collect();
        let ctx = Context {
            now: now(),
            stale_after: TimeDelta::hours(24),
            inactive_profiles: &inactive,
            approval_required_for_users: true,
            approval_required_for_queues: true,
            has_default_profile: true,
        };
        f(&ctx)
    }

    fn assess_one(facts: &Facts, alerts: &LatestAlerts) -> Assessment {
        with(&[], |ctx| assess(facts, alerts, ctx))
    }

    fn failed_test(f: &mut Facts, text: &str) {
        f.incoming_email_status = Name::Borrowed("Failure");
        f.mailbox_status = Name::Borrowed("Failure");
        f.enabled_for_incoming_email = false;
        f.last_sync_error = Some(text.into());
        f.last_sync_error_occurred_on = Some("2026-12-01T08:00:01Z".into());
    }

    #[test]
    fn healthy() {
        let a = assess_one(&sample(), &LatestAlerts::default());
        assert_eq!(a.health, Health::Healthy);
        assert!(a.remedy.is_none() && a.repairs.is_empty());
    }

    #[test]
    fn inactive_comes_first() {
        let mut f = sample();
        f.state = Name::Borrowed("Inactive");
        f.server_profile_id = None;
        assert_eq!(assess_one(&f, &LatestAlerts::default()).health, Health::Inactive);
    }

    #[test]
    fn not_configured_without_profile_or_sync_and_with_an_inactive_profile() {
        let mut f = sample();
        f.server_profile_id = None;
        f.approval_status = Name::Borrowed("PendingApproval");
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!((a.health, a.diagnosis.unwrap().id), (Health::NotConfigured, "InvalidIncomingEmailServerProfile"));
        assert_eq!(a.repairs, [Repair::ApplyDefaults, Repair::Approve, Repair::Test]);

        let mut f = sample();
        f.incoming_email = Name::Borrowed("Outlook");
        f.outgoing_email = Name::Borrowed("None");
        f.appointments_contacts_tasks = Name::Borrowed("Outlook");
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!((a.health, a.repairs.as_slice()), (Health::NotConfigured, [Repair::ApplyDefaults, Repair::Test].as_slice()));

        let f = sample();
        let profile = f.server_profile_id.clone().unwrap();
        let a = with(&[profile.as_str()], |ctx| assess(&f, &LatestAlerts::default(), ctx));
        assert_eq!((a.health, a.repairs.as_slice()), (Health::NotConfigured, [Repair::ActivateProfile, Repair::Test].as_slice()));
    }

    #[test]
    fn not_configured_is_not_repairable_without_a_default_profile() {
        let mut f = sample();
        f.server_profile_id = None;
        let inactive = HashSet::new();
        let ctx = Context {
            now: now(),
            stale_after: TimeDelta::hours(24),
            inactive_profiles: &inactive,
            approval_required_for_users: true,
            approval_required_for_queues: true,
            has_default_profile: false,
        };
        let a = assess(&f, &LatestAlerts::default(), &ctx);
        assert!(a.repairs.is_empty());
        assert!(a.remedy.unwrap().contains("no default email server profile"));
    }

    #[test]
    fn pending_approval_is_repaired_but_a_rejection_is_not() {
        let mut f = sample();
        f.approval_status = Name::Borrowed("PendingApproval");
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!((a.health, a.repairs.as_slice()), (Health::PendingApproval, [Repair::Approve, Repair::Test].as_slice()));
        f.approval_status = Name::Borrowed("Rejected");
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!(a.health, Health::PendingApproval);
        assert!(a.repairs.is_empty());
        // Not required by the organization: a pending address does not matter.
        f.approval_status = Name::Borrowed("PendingApproval");
        let inactive = HashSet::new();
        let ctx = Context {
            now: now(),
            stale_after: TimeDelta::hours(24),
            inactive_profiles: &inactive,
            approval_required_for_users: false,
            approval_required_for_queues: true,
            has_default_profile: true,
        };
        assert_eq!(assess(&f, &LatestAlerts::default(), &ctx).health, Health::Healthy);
    }

    #[test]
    fn not_tested_and_test_scheduled() {
        let mut f = sample();
        for status in [&mut f.incoming_email_status, &mut f.outgoing_email_status, &mut f.act_status, &mut f.mailbox_status] {
            *status = Name::Borrowed("NotRun");
        }
        f.test_completed_on = None;
        f.last_successful_sync_completed_on = None;
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!((a.health, a.repairs.as_slice()), (Health::NotTested, [Repair::Test].as_slice()));
        f.test_scheduled = true;
        f.postpone_test_until = Some("2026-12-01T11:59:00Z".into());
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!(a.health, Health::TestScheduled);
        assert!(!a.reason.contains("more than an hour"));
        f.postpone_test_until = Some("2026-12-01T09:00:00Z".into());
        assert!(assess_one(&f, &LatestAlerts::default()).reason.contains("more than an hour"));
    }

    #[test]
    fn failing_while_still_enabled_and_disabled_when_nothing_is_enabled() {
        let mut f = sample();
        failed_test(&mut f, "Email Server Error Code: ErrorInvalidLicense");
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!((a.health, a.diagnosis.unwrap().id), (Health::Failing, "ErrorInvalidLicense"));
        assert!(a.repairs.is_empty());
        f.enabled_for_outgoing_email = false;
        f.enabled_for_act = false;
        assert_eq!(assess_one(&f, &LatestAlerts::default()).health, Health::Disabled);
    }

    #[test]
    fn a_sync_error_after_the_last_success_is_failing_and_an_older_one_is_not() {
        let mut f = sample();
        f.last_sync_error = Some("Exchange server returned UnknownIncomingEmailIntegrationError -2147209462 exception.".into());
        f.last_sync_error_occurred_on = Some("2026-12-01T11:58:00Z".into());
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!((a.health, a.diagnosis.unwrap().id), (Health::Failing, "QueueTeamWithoutRole"));
        f.last_sync_error_occurred_on = Some("2026-12-01T07:00:00Z".into());
        assert_eq!(assess_one(&f, &LatestAlerts::default()).health, Health::Healthy);
    }

    #[test]
    fn an_error_alert_after_a_successful_test_is_failing() {
        let f = sample();
        let alert: Alert = serde_json::from_value(serde_json::json!({
            "tracelogid": "t1", "level": 3, "text": "Email Server Error Code: Http server returned Forbidden exception.",
            "createdon": "2026-12-01T11:59:00Z"
        }))
        .unwrap();
        let a = assess_one(&f, &LatestAlerts { error: Some(alert), warning: None });
        assert_eq!((a.health, a.diagnosis.unwrap().id), (Health::Failing, "EwsForbidden403"));
        assert!(a.diagnosis.unwrap().note.unwrap().contains("MC1176266"));
    }

    #[test]
    fn an_unknown_error_is_shown_raw_with_the_generic_remedy() {
        let mut f = sample();
        failed_test(&mut f, "Something nobody documented happened.");
        f.last_sync_error_code = Some(-1234);
        let a = assess_one(&f, &LatestAlerts::default());
        assert!(a.diagnosis.is_none());
        assert!(a.reason.contains("Something nobody documented happened.") && a.reason.contains("-1234"), "{}", a.reason);
        assert_eq!(a.remedy.as_deref(), Some(diagnosis::UNKNOWN_REMEDY));
        assert!(a.repairs.is_empty());
    }

    #[test]
    fn owner_mismatch_is_repaired_by_assigning_the_owner_only_when_it_differs() {
        let mut f = sample();
        failed_test(&mut f, "Email Server Error Code: Crm.80048306.Not enough privilege");
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!(a.diagnosis.unwrap().id, "UserPrivilegeError");
        assert!(a.repairs.is_empty(), "owner is the user: a role decision");
        f.owner_id = Some("0b7c0e52-0000-0000-0000-0000000000ff".into());
        assert_eq!(assess_one(&f, &LatestAlerts::default()).repairs, [Repair::AssignOwner, Repair::Test]);
        f.last_sync_error = None;
        f.last_sync_error_code = Some(-2147187962);
        assert_eq!(assess_one(&f, &LatestAlerts::default()).diagnosis.unwrap().id, "UserPrivilegeError");
    }

    #[test]
    fn access_mode_is_repaired_for_users_only() {
        let mut f = sample();
        failed_test(&mut f, "Test failed with error code 8005E276.");
        assert_eq!(assess_one(&f, &LatestAlerts::default()).repairs, [Repair::SetAccessMode, Repair::Test]);
        f.owner_type = Some("queue".into());
        assert!(assess_one(&f, &LatestAlerts::default()).repairs.is_empty());
    }

    #[test]
    fn stale_after_the_limit_without_a_successful_synchronization() {
        let mut f = sample();
        f.last_successful_sync_completed_on = Some("2026-11-30T10:00:00Z".into());
        let a = assess_one(&f, &LatestAlerts::default());
        assert_eq!(a.health, Health::Stale);
        assert!(a.reason.contains("26 hours"), "{}", a.reason);
        f.last_successful_sync_completed_on = Some("2026-11-30T13:00:00Z".into());
        assert_eq!(assess_one(&f, &LatestAlerts::default()).health, Health::Healthy);
    }
}
