using System;
using System.Collections.Concurrent;
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
    /// a PSCustomObject with these 18 note properties costs about 3.6 KB, this about 200 bytes
    /// plus its own strings (name, address, id). The namespace makes the type
    /// name CrmServerSideSync.SetupMailbox, the name the module's format view selects.
    /// </remarks>
    public sealed class SetupMailbox : IComparable<SetupMailbox>
    {
        private static readonly StringComparer Order = StringComparer.CurrentCultureIgnoreCase;

        // Outcomes, statuses and changes repeat across rows: 50,000 rows hold a few distinct
        // values, each arriving as a new string from its event. Equal values share one string;
        // the pool is bounded, so unusual values are simply not shared.
        private static readonly ConcurrentDictionary<string, string> Pool = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private const int PoolLimit = 4096;
        private const int PooledLength = 1024;

        private static string Shared(string value)
        {
            if (value == null) return null;
            string pooled;
            if (Pool.TryGetValue(value, out pooled)) return pooled;
            return Pool.Count < PoolLimit && value.Length <= PooledLength ? Pool.GetOrAdd(value, value) : value;
        }

        private string result;
        private string mailboxSettings = "NotRun";
        private string approveEmail = "NotRun";
        private string testAndEnable = "NotRun";
        private static readonly string[] StepOrder = { "MailboxSettings", "ApproveEmail", "TestAndEnable" };
        // One slot per step, and a last one for any other step.
        private readonly string[] stepChanges = new string[StepOrder.Length + 1];
        private string incomingEmailStatus;
        private string outgoingEmailStatus;
        private string actStatus;
        private string mailboxStatus;

        /// <summary>A row with every step not run yet.</summary>
        public SetupMailbox(string mailboxId, string name, string emailAddress, string ownerType)
        {
            MailboxId = mailboxId;
            Name = name;
            EmailAddress = emailAddress;
            OwnerType = Shared(ownerType);
        }

        /// <summary>The mailbox's id.</summary>
        public string MailboxId { get; private set; }
        private string environment;
        /// <summary>The environment of the row ("Organization (URL)"), set by a multi-environment run.</summary>
        public string Environment { get { return environment; } set { environment = Shared(value); } }
        /// <summary>The mailbox's name.</summary>
        public string Name { get; private set; }
        /// <summary>The mailbox's email address.</summary>
        public string EmailAddress { get; private set; }
        /// <summary>systemuser or queue.</summary>
        public string OwnerType { get; private set; }
        /// <summary>The row's overall result (Working, AlreadyWorking, Scheduled, Failed, ...).</summary>
        public string Result { get { return result; } set { result = Shared(value); } }
        /// <summary>Outcome of the mailbox settings step.</summary>
        public string MailboxSettings { get { return mailboxSettings; } set { mailboxSettings = Shared(value); } }
        /// <summary>Outcome of the approval step.</summary>
        public string ApproveEmail { get { return approveEmail; } set { approveEmail = Shared(value); } }
        /// <summary>Outcome of Test and Enable.</summary>
        public string TestAndEnable { get { return testAndEnable; } set { testAndEnable = Shared(value); } }
        /// <summary>The changes made (or planned), "Field: from -> to; ...", in the procedure's step order.</summary>
        public string Changes
        {
            get
            {
                string joined = "";
                foreach (string text in stepChanges) joined = Join(joined, "; ", text);
                return joined;
            }
        }

        /// <summary>
        /// Records one step's changes. Settings and approval run at the same time, so their
        /// results arrive in either order; Changes still lists them in the steps' order.
        /// </summary>
        public void AddChanges(string step, string text)
        {
            if (string.IsNullOrEmpty(text)) return;
            int slot = Array.IndexOf(StepOrder, step);
            if (slot < 0) slot = StepOrder.Length;
            stepChanges[slot] = Shared(Join(stepChanges[slot], "; ", text));
        }
        /// <summary>Incoming email status after the test.</summary>
        public string IncomingEmailStatus { get { return incomingEmailStatus; } set { incomingEmailStatus = Shared(value); } }
        /// <summary>Outgoing email status after the test.</summary>
        public string OutgoingEmailStatus { get { return outgoingEmailStatus; } set { outgoingEmailStatus = Shared(value); } }
        /// <summary>Appointments, contacts and tasks status after the test.</summary>
        public string ActStatus { get { return actStatus; } set { actStatus = Shared(value); } }
        /// <summary>The mailbox's overall status after the test.</summary>
        public string MailboxStatus { get { return mailboxStatus; } set { mailboxStatus = Shared(value); } }
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

        /// <summary>
        /// Folds a batch of items into their rows (created on first sight): each step's outcome,
        /// its changes, a failed step's error, and after Test and Enable the statuses read back.
        /// Returns the items that need the caller's handling, each with its <see cref="SetupItem.Row"/>:
        /// those that failed (an error record) or carry warning or error alerts (the row's
        /// AlertCount and AlertSummary, the report's Alerts). <paramref name="environment"/>,
        /// when given, tags the rows (a multi-environment run).
        /// </summary>
        public static SetupItem[] Fold(Dictionary<string, SetupMailbox> rows, SetupItem[] items, string environment)
        {
            if (rows == null) throw new ArgumentNullException("rows");
            if (items == null) throw new ArgumentNullException("items");
            var attention = new List<SetupItem>();
            foreach (SetupItem item in items)
            {
                string id = item.MailboxId ?? "";
                SetupMailbox row;
                if (!rows.TryGetValue(id, out row))
                {
                    row = new SetupMailbox(id, item.Name, item.EmailAddress, item.OwnerType);
                    rows[id] = row;
                }
                if (!string.IsNullOrEmpty(environment)) row.Environment = environment;
                item.Row = row;
                string outcome = item.Outcome ?? "";
                switch (item.Step)
                {
                    case "MailboxSettings": row.MailboxSettings = outcome; break;
                    case "ApproveEmail": row.ApproveEmail = outcome; break;
                    case "TestAndEnable": row.TestAndEnable = outcome; break;
                }
                row.AddChanges(item.Step, item.Changes);
                if (!string.IsNullOrEmpty(item.Error)) row.Error = Join(row.Error, " | ", item.Step + ": " + item.Error);
                if (item.Step == "TestAndEnable")
                {
                    if (item.IncomingEmailStatus != null) row.IncomingEmailStatus = item.IncomingEmailStatus;
                    if (item.OutgoingEmailStatus != null) row.OutgoingEmailStatus = item.OutgoingEmailStatus;
                    if (item.ActStatus != null) row.ActStatus = item.ActStatus;
                    if (item.MailboxStatus != null) row.MailboxStatus = item.MailboxStatus;
                    if (item.TestCompletedOn != null) row.TestCompletedOn = item.TestCompletedOn;
                }
                // Every successful test leaves an Information alert: only warnings and errors
                // go to the caller, so 50,000 successes add nothing.
                bool alerts = item.Step == "TestAndEnable" && item.AlertJson.Length > 0;
                if (item.ErrorJson != null || alerts) attention.Add(item);
            }
            return attention.ToArray();
        }

        /// <summary>Rows keyed by mailbox id, ids compared without case.</summary>
        public static Dictionary<string, SetupMailbox> NewIndex()
        {
            return new Dictionary<string, SetupMailbox>(StringComparer.OrdinalIgnoreCase);
        }
    }
}
