using System;
using System.Collections.Generic;

namespace CrmServerSideSync
{
    /// <summary>
    /// One mailbox's row of the setup report (Invoke-CrmExchangeOnlineSetup): per-step outcomes,
    /// changes, final statuses, alerts and errors, as flat scalar columns (Export-Csv writes them
    /// in this order).
    /// </summary>
    /// <remarks>
    /// A compiled type rather than a PSCustomObject because a report holds one row per mailbox:
    /// a PSCustomObject with these 18 note properties costs about 3.6 KB, this about 200 bytes,
    /// which is what keeps a 50,000-mailbox run well under 500 MB. The namespace makes the type
    /// name CrmServerSideSync.SetupMailbox, the name the module's format view selects.
    /// </remarks>
    public sealed class SetupMailbox : IComparable<SetupMailbox>
    {
        private static readonly StringComparer Order = StringComparer.CurrentCultureIgnoreCase;

        /// <summary>A row with every step not run yet.</summary>
        public SetupMailbox(string mailboxId, string name, string emailAddress, string ownerType)
        {
            MailboxId = mailboxId;
            Name = name;
            EmailAddress = emailAddress;
            OwnerType = ownerType;
        }

        /// <summary>The mailbox's id.</summary>
        public string MailboxId { get; private set; }
        /// <summary>The mailbox's name.</summary>
        public string Name { get; private set; }
        /// <summary>The mailbox's email address.</summary>
        public string EmailAddress { get; private set; }
        /// <summary>systemuser or queue.</summary>
        public string OwnerType { get; private set; }
        /// <summary>The row's overall result (Working, AlreadyWorking, Scheduled, Failed, ...).</summary>
        public string Result { get; set; }
        /// <summary>Outcome of the mailbox settings step.</summary>
        public string MailboxSettings { get; set; } = "NotRun";
        /// <summary>Outcome of the approval step.</summary>
        public string ApproveEmail { get; set; } = "NotRun";
        /// <summary>Outcome of Test and Enable.</summary>
        public string TestAndEnable { get; set; } = "NotRun";
        /// <summary>The changes made (or planned), "Field: from -> to; ...".</summary>
        public string Changes { get; set; } = "";
        /// <summary>Incoming email status after the test.</summary>
        public string IncomingEmailStatus { get; set; }
        /// <summary>Outgoing email status after the test.</summary>
        public string OutgoingEmailStatus { get; set; }
        /// <summary>Appointments, contacts and tasks status after the test.</summary>
        public string ActStatus { get; set; }
        /// <summary>The mailbox's overall status after the test.</summary>
        public string MailboxStatus { get; set; }
        /// <summary>When the test completed (local time).</summary>
        public DateTime? TestCompletedOn { get; set; }
        /// <summary>How many alerts the test raised.</summary>
        public int AlertCount { get; set; }
        /// <summary>The alerts as one line.</summary>
        public string AlertSummary { get; set; } = "";
        /// <summary>The errors of failed steps as one line.</summary>
        public string Error { get; set; } = "";

        /// <summary>Appends text to a "separator"-joined column value.</summary>
        public static string Join(string existing, string separator, string text)
        {
            if (string.IsNullOrEmpty(text)) return existing ?? "";
            return string.IsNullOrEmpty(existing) ? text : existing + separator + text;
        }

        /// <summary>By name, then id (the report's order).</summary>
        public int CompareTo(SetupMailbox other)
        {
            if (other == null) return 1;
            int byName = Order.Compare(Name ?? "", other.Name ?? "");
            return byName != 0 ? byName : Order.Compare(MailboxId ?? "", other.MailboxId ?? "");
        }

        /// <summary>The name and the result.</summary>
        public override string ToString()
        {
            return Name + ": " + (Result ?? "");
        }

        /// <summary>Rows keyed by mailbox id, ids compared without case.</summary>
        public static Dictionary<string, SetupMailbox> NewIndex()
        {
            return new Dictionary<string, SetupMailbox>(StringComparer.OrdinalIgnoreCase);
        }
    }
}
