using System;

namespace CrmServerSideSync
{
    /// <summary>
    /// One mailbox's synchronization health (Get-CrmMailboxHealth): its class, the reason and
    /// remedy, whether crmsync can repair it, and the mailbox columns and latest alerts behind
    /// them, as flat scalar columns (Export-Csv writes them in this order).
    /// </summary>
    /// <remarks>
    /// A compiled type, like <see cref="SetupMailbox"/>, so that a nightly report of tens of
    /// thousands of mailboxes stays small and its format view is selected by the type name
    /// CrmServerSideSync.MailboxHealth. The module fills it from the library's health event.
    /// </remarks>
    public sealed class MailboxHealth
    {
        /// <summary>The mailbox's id (binds MailboxId of Repair-CrmMailbox).</summary>
        public string MailboxId { get; set; }
        /// <summary>The organization's name and URL when several environments were read at once.</summary>
        public string Environment { get; set; }
        /// <summary>The mailbox's name.</summary>
        public string Name { get; set; }
        /// <summary>The mailbox's email address.</summary>
        public string EmailAddress { get; set; }
        /// <summary>systemuser or queue.</summary>
        public string OwnerType { get; set; }
        /// <summary>Healthy, NotConfigured, PendingApproval, NotTested, TestScheduled, Failing, Disabled, Stale or Inactive.</summary>
        public string Health { get; set; }
        /// <summary>Why the mailbox is in its class.</summary>
        public string Reason { get; set; }
        /// <summary>What to do (empty when healthy).</summary>
        public string Remedy { get; set; }
        /// <summary>Whether Repair-CrmMailbox can repair it.</summary>
        public bool Repairable { get; set; }
        /// <summary>The fixes Repair-CrmMailbox would apply, in order ("AssignOwner, Test").</summary>
        public string Repairs { get; set; }
        /// <summary>The documented failure (the diagnosis table's row), when one matches.</summary>
        public string Diagnosis { get; set; }
        /// <summary>Where the diagnosis is documented.</summary>
        public string DiagnosisSource { get; set; }
        /// <summary>Where sources disagree or a point is open.</summary>
        public string DiagnosisNote { get; set; }
        /// <summary>The email server profile's name (not "ServerProfile": a piped row must not bind the cmdlets' -ServerProfile).</summary>
        public string ServerProfileName { get; set; }
        /// <summary>The email server profile's id.</summary>
        public string ServerProfileId { get; set; }
        /// <summary>Incoming email delivery method.</summary>
        public string IncomingEmail { get; set; }
        /// <summary>Outgoing email delivery method.</summary>
        public string OutgoingEmail { get; set; }
        /// <summary>Appointments, contacts and tasks delivery method.</summary>
        public string AppointmentsContactsTasks { get; set; }
        /// <summary>Email address approval status.</summary>
        public string ApprovalStatus { get; set; }
        /// <summary>Incoming email test status.</summary>
        public string IncomingEmailStatus { get; set; }
        /// <summary>Outgoing email test status.</summary>
        public string OutgoingEmailStatus { get; set; }
        /// <summary>Appointments, contacts and tasks test status.</summary>
        public string ActStatus { get; set; }
        /// <summary>Overall test status.</summary>
        public string MailboxStatus { get; set; }
        /// <summary>enabledforincomingemail.</summary>
        public bool EnabledForIncomingEmail { get; set; }
        /// <summary>enabledforoutgoingemail.</summary>
        public bool EnabledForOutgoingEmail { get; set; }
        /// <summary>enabledforact.</summary>
        public bool EnabledForAct { get; set; }
        /// <summary>The service's last synchronization error text.</summary>
        public string LastSyncError { get; set; }
        /// <summary>The service's last error code (undocumented integers).</summary>
        public long? LastSyncErrorCode { get; set; }
        /// <summary>Consecutive errors.</summary>
        public long? LastSyncErrorCount { get; set; }
        /// <summary>When the last error occurred.</summary>
        public DateTime? LastSyncErrorOccurredOn { get; set; }
        /// <summary>When the last synchronization succeeded.</summary>
        public DateTime? LastSuccessfulSyncCompletedOn { get; set; }
        /// <summary>When processing was last attempted.</summary>
        public DateTime? ProcessingLastAttemptedOn { get; set; }
        /// <summary>processingstatecode.</summary>
        public long? ProcessingStateCode { get; set; }
        /// <summary>Processing is postponed until then.</summary>
        public DateTime? PostponeMailboxProcessingUntil { get; set; }
        /// <summary>A test is scheduled.</summary>
        public bool TestScheduled { get; set; }
        /// <summary>Test retries so far.</summary>
        public long? TestRetryCount { get; set; }
        /// <summary>The test is postponed until then.</summary>
        public DateTime? PostponeTestUntil { get; set; }
        /// <summary>When the last test completed.</summary>
        public DateTime? TestCompletedOn { get; set; }
        /// <summary>Who approved the address (newer organizations only).</summary>
        public string ApprovedBy { get; set; }
        /// <summary>When it was approved (newer organizations only).</summary>
        public DateTime? ApprovedOn { get; set; }
        /// <summary>Who last ran Test and Enable (newer organizations only).</summary>
        public string TestLastAttemptedBy { get; set; }
        /// <summary>When Test and Enable last ran (newer organizations only).</summary>
        public DateTime? TestLastAttemptedOn { get; set; }
        /// <summary>Email received before this is not processed.</summary>
        public DateTime? ProcessEmailReceivedAfter { get; set; }
        /// <summary>Active or Inactive.</summary>
        public string State { get; set; }
        /// <summary>The mailbox row's owner.</summary>
        public string OwnerId { get; set; }
        /// <summary>The user or queue the mailbox belongs to.</summary>
        public string RegardingId { get; set; }
        /// <summary>The latest error alert's text.</summary>
        public string LatestError { get; set; }
        /// <summary>When the latest error alert was raised.</summary>
        public DateTime? LatestErrorOn { get; set; }
        /// <summary>The latest warning alert's text.</summary>
        public string LatestWarning { get; set; }
        /// <summary>When the latest warning alert was raised.</summary>
        public DateTime? LatestWarningOn { get; set; }

        /// <summary>"Name (Health)".</summary>
        public override string ToString()
        {
            return (Name ?? MailboxId) + " (" + Health + ")";
        }
    }
}
