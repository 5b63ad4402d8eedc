namespace CrmSync.Interop
{
    /// <summary>Status codes returned by every crmsync C ABI function (stable numbers: never renumbered).</summary>
    public enum CrmSyncStatus
    {
        /// <summary>Success.</summary>
        Ok = 0,
        /// <summary>A required pointer argument was NULL.</summary>
        NullArgument = 1,
        /// <summary>A string argument was not valid UTF-8.</summary>
        InvalidUtf8 = 2,
        /// <summary>A JSON argument could not be parsed.</summary>
        InvalidJson = 3,
        /// <summary>An argument had an invalid value.</summary>
        InvalidArgument = 4,
        /// <summary>The library caught a panic.</summary>
        Panic = 5,
        /// <summary>Network or transport failure.</summary>
        Transport = 6,
        /// <summary>Authentication failed (token rejected or could not be acquired).</summary>
        Authentication = 7,
        /// <summary>Dataverse returned an error.</summary>
        Service = 8,
        /// <summary>The requested row does not exist.</summary>
        NotFound = 9,
        /// <summary>No event arrived within the timeout.</summary>
        TimedOut = 10,
        /// <summary>The operation was cancelled.</summary>
        Cancelled = 11,
        /// <summary>The operation has not finished yet.</summary>
        StillRunning = 12,
        /// <summary>The operation has no more events.</summary>
        EndOfEvents = 13,
        /// <summary>The service-protection limits were hit and retries were exhausted.</summary>
        Throttled = 14,
        /// <summary>Internal library error.</summary>
        Internal = 15,
        /// <summary>The caller lacks the privilege for the request.</summary>
        PermissionDenied = 16,
    }
}
