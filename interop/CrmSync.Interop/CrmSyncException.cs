using System;

namespace CrmSync.Interop
{
    /// <summary>A crmsync native call failed. <see cref="ErrorJson"/> carries the library's error document.</summary>
    public class CrmSyncException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public CrmSyncException(CrmSyncStatus status, string errorJson, string message)
            : base(message)
        {
            Status = status;
            ErrorJson = errorJson;
            Remedy = JsonFields.GetString(errorJson, "remedy");
            Code = JsonFields.GetString(errorJson, "code");
            HttpStatus = JsonFields.GetInt(errorJson, "http_status");
        }

        /// <summary>The native status code.</summary>
        public CrmSyncStatus Status { get; private set; }

        /// <summary>The native status as an integer.</summary>
        public int StatusCode { get { return (int)Status; } }

        /// <summary>The error JSON document from the library (may be null when the library gave none).</summary>
        public string ErrorJson { get; private set; }

        /// <summary>The "remedy" field of the error document, if any.</summary>
        public string Remedy { get; private set; }

        /// <summary>The service error code (for example 0x80040220), if any.</summary>
        public string Code { get; private set; }

        /// <summary>The HTTP status of the failing response, if any.</summary>
        public int? HttpStatus { get; private set; }

        internal static CrmSyncException FromNative(string function, CrmSyncStatus status, string errorJson)
        {
            string message = JsonFields.GetString(errorJson, "message");
            if (string.IsNullOrEmpty(message))
            {
                message = string.Format("{0} failed with status {1} ({2}).", function, status, (int)status);
            }
            return new CrmSyncException(status, errorJson, message);
        }
    }

    /// <summary>The native library could not be loaded or is not the expected one.</summary>
    public class CrmSyncNativeLoadException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public CrmSyncNativeLoadException(string path, string reason, uint? foundAbiVersion, uint expectedAbiVersion, Exception inner)
            : base(BuildMessage(path, reason, foundAbiVersion, expectedAbiVersion), inner)
        {
            LibraryPath = path;
            Reason = reason;
            FoundAbiVersion = foundAbiVersion;
            ExpectedAbiVersion = expectedAbiVersion;
        }

        /// <summary>The path that was loaded.</summary>
        public string LibraryPath { get; private set; }

        /// <summary>Why the load failed.</summary>
        public string Reason { get; private set; }

        /// <summary>ABI version reported by the library, when it could be asked.</summary>
        public uint? FoundAbiVersion { get; private set; }

        /// <summary>ABI version the caller expected.</summary>
        public uint ExpectedAbiVersion { get; private set; }

        private static string BuildMessage(string path, string reason, uint? found, uint expected)
        {
            return string.Format("Cannot use native library '{0}': {1} (expected crmsync ABI version {2}, found {3}).",
                path, reason, expected, found.HasValue ? found.Value.ToString() : "none");
        }
    }
}
