using System;

namespace CrmSync.Interop
{
    /// <summary>
    /// The top-level fields of an operation's event document that decide how it is handled:
    /// its type and step, whether an <c>items</c> event is a listing's page (it has a
    /// <c>page</c>) or a bulk step's batch of items, and a progress event's numbers. Read in one
    /// pass that skips everything else, so that the module neither converts a progress event
    /// nor a batch it hands on typed.
    /// </summary>
    public sealed class EventHeader
    {
        /// <summary>The event's type (item, items, progress, check, changes, device_code, …).</summary>
        public string Type { get; private set; }
        /// <summary>The step that sent it (the whole procedure runs several), or null.</summary>
        public string Step { get; private set; }
        /// <summary>True for a listing's page of mailboxes, false for a bulk step's batch of items.</summary>
        public bool HasPage { get; private set; }
        /// <summary>Progress: how many are done.</summary>
        public long Done { get; private set; }
        /// <summary>Progress: how many in all, when known.</summary>
        public long? Total { get; private set; }
        /// <summary>Progress: the message.</summary>
        public string Message { get; private set; }

        /// <summary>True for the items of a bulk step (an <c>item</c>, or an <c>items</c> batch without a page).</summary>
        public bool IsItemBatch
        {
            get { return Type == "item" || (Type == "items" && !HasPage); }
        }

        /// <summary>Reads the header of one event document; throws <see cref="FormatException"/> for malformed JSON.</summary>
        public static EventHeader Read(string eventJson)
        {
            var header = new EventHeader();
            var cursor = new JsonCursor(eventJson);
            cursor.BeginObject();
            string name;
            while (cursor.NextProperty(out name))
            {
                switch (name)
                {
                    case "type": header.Type = cursor.ReadText(); break;
                    case "step": header.Step = cursor.ReadText(); break;
                    case "page": header.HasPage = true; cursor.SkipValue(); break;
                    case "done": header.Done = Number(cursor) ?? 0; break;
                    case "total": header.Total = Number(cursor); break;
                    case "message": header.Message = cursor.ReadText(); break;
                    default: cursor.SkipValue(); break;
                }
            }
            cursor.End();
            return header;
        }

        // Counts are whole numbers; any other value is left out.
        private static long? Number(JsonCursor cursor)
        {
            char c = cursor.Peek();
            if (c != '-' && !char.IsDigit(c)) { cursor.SkipValue(); return null; }
            return cursor.ReadLong();
        }
    }
}
