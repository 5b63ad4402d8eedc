using System;
using System.Collections.Generic;
using System.Globalization;
using CrmSync.Interop;

namespace CrmServerSideSync
{
    /// <summary>
    /// One mailbox's outcome in one step of the setup, read from the library's <c>item</c>
    /// document (alone, or as an element of an <c>items</c> batch) straight into typed fields:
    /// the setup folds tens of thousands of them, and ConvertFrom-Json plus a PSObject per
    /// item made the PowerShell process, not the service, the bound of a large run.
    /// </summary>
    /// <remarks>
    /// What needs PowerShell's own handling (the error document, for the error record; the
    /// warning and error alerts, for the report's Alerts) is kept as the document's JSON text,
    /// which only the few items that have one pay to convert.
    /// </remarks>
    public sealed class SetupItem
    {
        /// <summary>The mailbox's id (<c>key</c>).</summary>
        public string MailboxId { get; private set; }
        /// <summary>The mailbox's name.</summary>
        public string Name { get; private set; }
        /// <summary>The mailbox's email address.</summary>
        public string EmailAddress { get; private set; }
        /// <summary>systemuser or queue.</summary>
        public string OwnerType { get; private set; }
        /// <summary>The step (MailboxSettings, ApproveEmail, TestAndEnable).</summary>
        public string Step { get; private set; }
        /// <summary>Planned, Unchanged, Changed, Failed, Scheduled, Succeeded or TimedOut.</summary>
        public string Outcome { get; private set; }
        /// <summary>The changes as one line, "Field: from -> to; ..." (see <see cref="FormatChange"/>).</summary>
        public string Changes { get; private set; }
        /// <summary>The error's message and remedy as one text; null when the item did not fail.</summary>
        public string Error { get; private set; }
        /// <summary>The error document's JSON; null when the item did not fail.</summary>
        public string ErrorJson { get; private set; }
        /// <summary>Test and Enable: the incoming email status read back.</summary>
        public string IncomingEmailStatus { get; private set; }
        /// <summary>Test and Enable: the outgoing email status read back.</summary>
        public string OutgoingEmailStatus { get; private set; }
        /// <summary>Test and Enable: the appointments, contacts and tasks status read back.</summary>
        public string ActStatus { get; private set; }
        /// <summary>Test and Enable: the mailbox's overall status read back.</summary>
        public string MailboxStatus { get; private set; }
        /// <summary>Test and Enable: when the test completed (local time).</summary>
        public DateTime? TestCompletedOn { get; private set; }
        /// <summary>Approval: whether the read-back shows the Microsoft 365 administrator's approval.</summary>
        public bool? ApprovedByO365Admin { get; private set; }
        /// <summary>How many alerts the item carried, of every level.</summary>
        public int AlertTotal { get; private set; }
        /// <summary>The JSON of each alert whose level is not Information (the ones a report keeps).</summary>
        public string[] AlertJson { get; private set; }
        /// <summary>The row this item was folded into (set by <see cref="SetupMailbox.Fold"/>).</summary>
        public SetupMailbox Row { get; internal set; }

        private static readonly string[] NoAlerts = new string[0];

        /// <summary>
        /// The items of one event: an <c>items</c> batch (<c>{"type":"items","step":…,"items":[…]}</c>)
        /// or a single <c>item</c>. An element's own <c>step</c> wins over the batch's. Throws
        /// <see cref="FormatException"/> for malformed JSON or another event type.
        /// </summary>
        public static SetupItem[] Parse(string eventJson)
        {
            var cursor = new JsonCursor(eventJson);
            var batch = new List<SetupItem>();
            string type;
            // The event is read once: an item's own fields, or the batch's step and items.
            SetupItem top = Read(cursor, batch, out type);
            cursor.End();
            if (type == "item") return new[] { top };
            if (type != "items") throw new FormatException("Not an item or items event (type '" + (type ?? "") + "').");
            foreach (SetupItem item in batch)
            {
                if (item.Step == null) item.Step = top.Step;
            }
            return batch.ToArray();
        }

        // One item object (unknown fields are skipped: documents may grow); at the top level
        // also the event's type and a batch's items.
        private static SetupItem Read(JsonCursor cursor, List<SetupItem> batch, out string type)
        {
            type = null;
            var item = new SetupItem { AlertJson = NoAlerts, Changes = "" };
            cursor.BeginObject();
            string name;
            while (cursor.NextProperty(out name))
            {
                switch (name)
                {
                    case "key": item.MailboxId = cursor.ReadString(); break;
                    case "name": item.Name = cursor.ReadString(); break;
                    case "email_address": item.EmailAddress = cursor.ReadString(); break;
                    case "owner_type": item.OwnerType = cursor.ReadString(); break;
                    case "step": item.Step = cursor.ReadString(); break;
                    case "outcome": item.Outcome = cursor.ReadString(); break;
                    case "changes": item.Changes = ReadChanges(cursor); break;
                    case "error": ReadError(cursor, item); break;
                    case "incoming_email_status": item.IncomingEmailStatus = cursor.ReadText(); break;
                    case "outgoing_email_status": item.OutgoingEmailStatus = cursor.ReadText(); break;
                    case "act_status": item.ActStatus = cursor.ReadText(); break;
                    case "mailbox_status": item.MailboxStatus = cursor.ReadText(); break;
                    case "test_completed_on": item.TestCompletedOn = LocalTime(cursor.ReadString()); break;
                    case "approved_by_o365_admin": item.ApprovedByO365Admin = cursor.ReadBool(); break;
                    case "alerts": ReadAlerts(cursor, item); break;
                    case "type": type = cursor.ReadString(); break;
                    case "items":
                        if (batch == null) { cursor.SkipValue(); break; }
                        cursor.BeginArray();
                        string ignored;
                        while (cursor.NextElement()) batch.Add(Read(cursor, null, out ignored));
                        break;
                    default: cursor.SkipValue(); break;
                }
            }
            return item;
        }

        private static string ReadChanges(JsonCursor cursor)
        {
            if (cursor.TryNull()) return "";
            string line = "";
            cursor.BeginArray();
            while (cursor.NextElement())
            {
                if (cursor.TryNull()) continue;
                string field = null, from = null, to = null;
                cursor.BeginObject();
                string name;
                while (cursor.NextProperty(out name))
                {
                    if (name == "field") field = cursor.ReadText();
                    else if (name == "from") from = cursor.ReadText();
                    else if (name == "to") to = cursor.ReadText();
                    else cursor.SkipValue();
                }
                line = SetupMailbox.Join(line, "; ", FormatChange(field, from, to));
            }
            return line;
        }

        private static void ReadError(JsonCursor cursor, SetupItem item)
        {
            if (cursor.TryNull()) return;
            string raw = cursor.ReadRaw();
            var inner = new JsonCursor(raw);
            string message = null, remedy = null;
            inner.BeginObject();
            string name;
            while (inner.NextProperty(out name))
            {
                if (name == "message") message = inner.ReadText();
                else if (name == "remedy") remedy = inner.ReadText();
                else inner.SkipValue();
            }
            item.ErrorJson = raw;
            // As ConvertTo-CrmMailboxResult words it: the message, then the remedy.
            string text = message ?? "";
            if (!string.IsNullOrEmpty(remedy)) text = text.TrimEnd() + " " + remedy;
            item.Error = text;
        }

        private static void ReadAlerts(JsonCursor cursor, SetupItem item)
        {
            if (cursor.TryNull()) return;
            List<string> kept = null;
            int total = 0;
            cursor.BeginArray();
            while (cursor.NextElement())
            {
                if (cursor.TryNull()) continue;
                string raw = cursor.ReadRaw();
                total++;
                if (LevelOf(raw) == "Information") continue;
                if (kept == null) kept = new List<string>();
                kept.Add(raw);
            }
            item.AlertTotal = total;
            if (kept != null) item.AlertJson = kept.ToArray();
        }

        private static string LevelOf(string alertJson)
        {
            var cursor = new JsonCursor(alertJson);
            cursor.BeginObject();
            string name;
            while (cursor.NextProperty(out name))
            {
                if (name == "level") return cursor.ReadText();
                cursor.SkipValue();
            }
            return null;
        }

        /// <summary>An ISO 8601 time as local time, as ConvertTo-CrmDateTime reads it; null when absent or unreadable.</summary>
        private static DateTime? LocalTime(string text)
        {
            if (string.IsNullOrEmpty(text)) return null;
            DateTimeOffset parsed;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out parsed)) return parsed.LocalDateTime;
            return null;
        }

        /// <summary>
        /// One change as display text, "Field: from -> to", a missing or empty value shown as
        /// "(none)". The module's Format-CrmChange uses this too: one wording everywhere.
        /// </summary>
        public static string FormatChange(string field, string from, string to)
        {
            return (field ?? "") + ": " + FormatValue(from) + " -> " + FormatValue(to);
        }

        /// <summary>A change's value as display text: null or empty is "(none)".</summary>
        public static string FormatValue(string value)
        {
            return string.IsNullOrEmpty(value) ? "(none)" : value;
        }
    }
}
