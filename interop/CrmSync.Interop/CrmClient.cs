using System;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;

namespace CrmSync.Interop
{
    /// <summary>A connection to one Dataverse organization (wraps <c>crmsync_client</c>).</summary>
    public sealed class CrmClient : IDisposable
    {
        /// <summary>
        /// Placeholder that <see cref="Create(string, SecureString)"/> replaces, in the UTF-8 bytes of the
        /// configuration, with the JSON-escaped secret. Put it where the secret belongs, as a JSON string:
        /// <c>"client_secret":"@@CRMSYNC_SECRET@@"</c>.
        /// </summary>
        public const string SecretPlaceholder = "@@CRMSYNC_SECRET@@";

        private readonly NativeApi _api;
        private readonly CrmClientHandle _handle;

        private CrmClient(NativeApi api, CrmClientHandle handle)
        {
            _api = api;
            _handle = handle;
        }

        /// <summary>The native handle (disposing it frees the client).</summary>
        public CrmClientHandle Handle
        {
            get { return _handle; }
        }

        /// <summary>True once the client has been disposed.</summary>
        public bool IsDisposed
        {
            get { return _handle.IsClosed; }
        }

        /// <summary>
        /// Creates a client from a configuration JSON document. The document can carry secrets: it is
        /// never logged, and the UTF-8 copy passed to the library is cleared after the call.
        /// </summary>
        public static CrmClient Create(string configJson)
        {
            if (configJson == null) throw new ArgumentNullException("configJson");
            byte[] bytes = Utf8.GetBytes(configJson);
            try
            {
                return CreateFromBytes(bytes);
            }
            finally
            {
                Array.Clear(bytes, 0, bytes.Length);
            }
        }

        /// <summary>
        /// Creates a client from a configuration JSON document in which the JSON string
        /// <c>"@@CRMSYNC_SECRET@@"</c> (see <see cref="SecretPlaceholder"/>) stands for a secret. The secret
        /// is decoded from the <see cref="SecureString"/> straight into the UTF-8 bytes given to the library
        /// (never into a managed string), and every buffer that held it is cleared after the call.
        /// </summary>
        public static CrmClient Create(string configJsonTemplate, SecureString secret)
        {
            if (secret == null) throw new ArgumentNullException("secret");
            return Create(configJsonTemplate, new SecureString[] { secret });
        }

        /// <summary>
        /// The placeholder of the secret at <paramref name="index"/> for <see cref="Create(string, SecureString[])"/>:
        /// <see cref="SecretPlaceholder"/> for 0, <c>@@CRMSYNC_SECRET_1@@</c>, <c>@@CRMSYNC_SECRET_2@@</c>… after it.
        /// </summary>
        public static string GetSecretPlaceholder(int index)
        {
            if (index < 0) throw new ArgumentOutOfRangeException("index");
            if (index == 0) return SecretPlaceholder;
            return "@@CRMSYNC_SECRET_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "@@";
        }

        /// <summary>
        /// Creates a client from a configuration JSON document in which the JSON strings
        /// <c>"@@CRMSYNC_SECRET@@"</c>, <c>"@@CRMSYNC_SECRET_1@@"</c>… (see <see cref="GetSecretPlaceholder"/>) stand
        /// for the secrets, in order (for example a certificate and its password). Each secret is decoded
        /// from its <see cref="SecureString"/> straight into the UTF-8 bytes given to the library (never
        /// into a managed string), and every buffer that held one is cleared after the call.
        /// </summary>
        public static CrmClient Create(string configJsonTemplate, SecureString[] secrets)
        {
            if (configJsonTemplate == null) throw new ArgumentNullException("configJsonTemplate");
            if (secrets == null) throw new ArgumentNullException("secrets");
            if (secrets.Length == 0) return Create(configJsonTemplate);

            // Where each placeholder sits in the template (each exactly once).
            int[] starts = new int[secrets.Length];
            int[] lengths = new int[secrets.Length];
            for (int i = 0; i < secrets.Length; i++)
            {
                if (secrets[i] == null) throw new ArgumentNullException("secrets", "Secret " + i + " is null.");
                string marker = "\"" + GetSecretPlaceholder(i) + "\"";
                int at = configJsonTemplate.IndexOf(marker, StringComparison.Ordinal);
                if (at < 0 || configJsonTemplate.IndexOf(marker, at + 1, StringComparison.Ordinal) >= 0)
                {
                    throw new ArgumentException("The configuration must contain the placeholder " + GetSecretPlaceholder(i) + " exactly once.", "configJsonTemplate");
                }
                starts[i] = at;
                lengths[i] = marker.Length;
            }
            int[] order = new int[secrets.Length];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort((int[])starts.Clone(), order);

            var pieces = new System.Collections.Generic.List<byte[]>();
            int total = 0;
            byte[] all = null;
            try
            {
                int position = 0;
                foreach (int i in order)
                {
                    byte[] text = Utf8.GetBytes(configJsonTemplate.Substring(position, starts[i] - position));
                    pieces.Add(text);
                    total += text.Length;
                    byte[] secretBytes = EncodeSecret(secrets[i]);
                    pieces.Add(secretBytes);
                    total += secretBytes.Length;
                    position = starts[i] + lengths[i];
                }
                byte[] tail = Utf8.GetBytes(configJsonTemplate.Substring(position));
                pieces.Add(tail);
                total += tail.Length;

                all = new byte[total];
                int offset = 0;
                foreach (byte[] piece in pieces)
                {
                    Buffer.BlockCopy(piece, 0, all, offset, piece.Length);
                    offset += piece.Length;
                }
                return CreateFromBytes(all);
            }
            finally
            {
                foreach (byte[] piece in pieces) Array.Clear(piece, 0, piece.Length);
                if (all != null) Array.Clear(all, 0, all.Length);
            }
        }

        /// <summary>A secret as a quoted, JSON-escaped UTF-8 string; every intermediate buffer is cleared.</summary>
        private static byte[] EncodeSecret(SecureString secret)
        {
            char[] chars = null;
            char[] escaped = null;
            byte[] utf8 = null;
            IntPtr unmanaged = IntPtr.Zero;
            try
            {
                unmanaged = Marshal.SecureStringToGlobalAllocUnicode(secret);
                chars = new char[secret.Length];
                Marshal.Copy(unmanaged, chars, 0, chars.Length);
                int escapedLength;
                escaped = JsonEscape(chars, out escapedLength);
                utf8 = new byte[Encoding.UTF8.GetMaxByteCount(escapedLength)];
                int n = Encoding.UTF8.GetBytes(escaped, 0, escapedLength, utf8, 0);
                byte[] quoted = new byte[n + 2];
                quoted[0] = (byte)'"';
                Buffer.BlockCopy(utf8, 0, quoted, 1, n);
                quoted[n + 1] = (byte)'"';
                return quoted;
            }
            finally
            {
                if (unmanaged != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(unmanaged);
                if (chars != null) Array.Clear(chars, 0, chars.Length);
                if (escaped != null) Array.Clear(escaped, 0, escaped.Length);
                if (utf8 != null) Array.Clear(utf8, 0, utf8.Length);
            }
        }

        private static char[] JsonEscape(char[] chars, out int length)
        {
            char[] buffer = new char[chars.Length * 6];
            int j = 0;
            const string hex = "0123456789abcdef";
            for (int i = 0; i < chars.Length; i++)
            {
                char c = chars[i];
                if (c == '"' || c == '\\')
                {
                    buffer[j++] = '\\';
                    buffer[j++] = c;
                }
                else if (c < 0x20)
                {
                    buffer[j++] = '\\';
                    buffer[j++] = 'u';
                    buffer[j++] = '0';
                    buffer[j++] = '0';
                    buffer[j++] = hex[(c >> 4) & 0xF];
                    buffer[j++] = hex[c & 0xF];
                }
                else
                {
                    buffer[j++] = c;
                }
            }
            length = j;
            return buffer;
        }

        private static CrmClient CreateFromBytes(byte[] bytes)
        {
            NativeApi api = Native.Api;
            var handle = new CrmClientHandle(api);
            IntPtr client;
            IntPtr error;
            int status = api.client_new(bytes, (UIntPtr)(uint)bytes.Length, out client, out error);
            if (client != IntPtr.Zero) handle.Set(client);
            string errorJson = api.TakeString(error);
            if (status != 0 || client == IntPtr.Zero)
            {
                handle.Dispose();
                throw CrmSyncException.FromNative("crmsync_client_new", status == 0 ? CrmSyncStatus.Internal : (CrmSyncStatus)status, errorJson);
            }
            return new CrmClient(api, handle);
        }

        /// <summary>Calls WhoAmI; returns the result JSON.</summary>
        public string WhoAmI()
        {
            return Call("crmsync_who_am_i", delegate(IntPtr c, out IntPtr r, out IntPtr e)
            {
                return _api.who_am_i(c, out r, out e);
            });
        }

        /// <summary>Reads the email server profiles matching the query JSON; returns the result JSON.</summary>
        public string GetEmailServerProfiles(string queryJson)
        {
            byte[] q = Utf8.GetBytes(queryJson ?? "{\"version\":1}");
            return Call("crmsync_email_server_profiles_get", delegate(IntPtr c, out IntPtr r, out IntPtr e)
            {
                return _api.email_server_profiles_get(c, q, (UIntPtr)(uint)q.Length, out r, out e);
            });
        }

        /// <summary>Lists the environments the signed-in user can reach through the Global Discovery
        /// Service (<c>crmsync_environments_get</c>); returns the result JSON.</summary>
        public string GetEnvironments(string queryJson)
        {
            byte[] q = Utf8.GetBytes(queryJson ?? "{\"version\":1}");
            return Call("crmsync_environments_get", delegate(IntPtr c, out IntPtr r, out IntPtr e)
            {
                return _api.environments_get(c, q, (UIntPtr)(uint)q.Length, out r, out e);
            });
        }

        /// <summary>Starts listing the mailboxes matching the query JSON; read its pages with <see cref="CrmOperation.NextEvent"/>.</summary>
        public CrmOperation StartMailboxList(string queryJson)
        {
            byte[] q = Utf8.GetBytes(queryJson ?? "{\"version\":1}");
            return StartOperation("crmsync_mailboxes_list_start", _api.mailboxes_list_start, q);
        }

        /// <summary>Reads the organization's default email settings (<c>crmsync_mailbox_defaults_get</c>); returns the result JSON.</summary>
        public string GetMailboxDefaults()
        {
            return Call("crmsync_mailbox_defaults_get", delegate(IntPtr c, out IntPtr r, out IntPtr e)
            {
                return _api.mailbox_defaults_get(c, out r, out e);
            });
        }

        /// <summary>Sets the organization's default email settings, or plans it with <c>"what_if": true</c> (<c>crmsync_mailbox_defaults_set</c>).</summary>
        public string SetMailboxDefaults(string requestJson)
        {
            return Query("crmsync_mailbox_defaults_set", _api.mailbox_defaults_set, requestJson);
        }

        /// <summary>Runs the readiness checks (<c>crmsync_readiness_get</c>); returns <c>{"checks":[…]}</c>.</summary>
        public string GetReadiness()
        {
            return Call("crmsync_readiness_get", delegate(IntPtr c, out IntPtr r, out IntPtr e)
            {
                return _api.readiness_get(c, out r, out e);
            });
        }

        /// <summary>Reads mailbox and profile alerts (tracelogs) matching the query JSON (<c>crmsync_alerts_get</c>).</summary>
        public string GetAlerts(string queryJson)
        {
            return Query("crmsync_alerts_get", _api.alerts_get, queryJson);
        }

        /// <summary>Starts configuring the selected mailboxes (<c>crmsync_mailboxes_configure_start</c>).</summary>
        public CrmOperation StartMailboxConfigure(string requestJson)
        {
            return StartOperation("crmsync_mailboxes_configure_start", _api.mailboxes_configure_start, Request(requestJson));
        }

        /// <summary>Starts approving or rejecting the selected mailboxes' email (<c>crmsync_mailboxes_approve_start</c>).</summary>
        public CrmOperation StartMailboxApproval(string requestJson)
        {
            return StartOperation("crmsync_mailboxes_approve_start", _api.mailboxes_approve_start, Request(requestJson));
        }

        /// <summary>Starts Test &amp; Enable of the selected mailboxes (<c>crmsync_mailboxes_test_enable_start</c>).</summary>
        public CrmOperation StartMailboxTestEnable(string requestJson)
        {
            return StartOperation("crmsync_mailboxes_test_enable_start", _api.mailboxes_test_enable_start, Request(requestJson));
        }

        /// <summary>Starts the health report of the selected mailboxes (<c>crmsync_mailboxes_health_start</c>).</summary>
        public CrmOperation StartMailboxHealth(string requestJson)
        {
            return StartOperation("crmsync_mailboxes_health_start", _api.mailboxes_health_start, Request(requestJson));
        }

        /// <summary>Starts the repair of the selected mailboxes (<c>crmsync_mailboxes_repair_start</c>).</summary>
        public CrmOperation StartMailboxRepair(string requestJson)
        {
            return StartOperation("crmsync_mailboxes_repair_start", _api.mailboxes_repair_start, Request(requestJson));
        }

        /// <summary>Starts the whole Exchange Online setup procedure (<c>crmsync_setup_start</c>).</summary>
        public CrmOperation StartSetup(string requestJson)
        {
            return StartOperation("crmsync_setup_start", _api.setup_start, Request(requestJson));
        }

        /// <summary>Starts turning server-side synchronization off for the organization and the selected mailboxes (<c>crmsync_sync_disable_start</c>).</summary>
        public CrmOperation StartSyncDisable(string requestJson)
        {
            return StartOperation("crmsync_sync_disable_start", _api.sync_disable_start, Request(requestJson));
        }

        /// <summary>Starts undoing the changes of a change journal in this connection's environment (<c>crmsync_changes_undo_start</c>).</summary>
        public CrmOperation StartChangesUndo(string requestJson)
        {
            return StartOperation("crmsync_changes_undo_start", _api.changes_undo_start, Request(requestJson));
        }

        /// <summary>
        /// Starts signing in now (<c>crmsync_client_authenticate_start</c>, request <c>{"version":1}</c>), so that a
        /// wrong credential fails at connect time. For a device code sign-in the operation first emits a
        /// <c>device_code</c> event whose <c>message</c> must be shown to the user; it ends when the user has
        /// signed in, declined or the code expired. Cancel with <see cref="CrmOperation.Cancel"/>.
        /// </summary>
        public CrmOperation StartAuthenticate(string requestJson)
        {
            return StartOperation("crmsync_client_authenticate_start", _api.client_authenticate_start, Request(requestJson));
        }

        private static byte[] Request(string json)
        {
            return Utf8.GetBytes(json ?? "{\"version\":1}");
        }

        private string Query(string function, NativeApi.ClientQueryFn fn, string json)
        {
            byte[] q = Request(json);
            return Call(function, delegate(IntPtr c, out IntPtr r, out IntPtr e)
            {
                return fn(c, q, (UIntPtr)(uint)q.Length, out r, out e);
            });
        }

        private delegate int ResultCall(IntPtr client, out IntPtr result, out IntPtr error);

        private string Call(string function, ResultCall call)
        {
            bool added = false;
            _handle.DangerousAddRef(ref added);
            try
            {
                IntPtr result;
                IntPtr error;
                int status = call(_handle.DangerousGetHandle(), out result, out error);
                string resultJson = _api.TakeString(result);
                string errorJson = _api.TakeString(error);
                if (status != 0)
                {
                    throw CrmSyncException.FromNative(function, (CrmSyncStatus)status, errorJson);
                }
                return resultJson;
            }
            finally
            {
                if (added) _handle.DangerousRelease();
            }
        }

        private CrmOperation StartOperation(string function, NativeApi.ClientQueryFn start, byte[] query)
        {
            bool added = false;
            _handle.DangerousAddRef(ref added);
            try
            {
                var opHandle = new CrmOperationHandle(_api, _handle);
                IntPtr op;
                IntPtr error;
                int status = start(_handle.DangerousGetHandle(), query, (UIntPtr)(uint)query.Length, out op, out error);
                if (op != IntPtr.Zero) opHandle.Set(op);
                string errorJson = _api.TakeString(error);
                if (status != 0 || op == IntPtr.Zero)
                {
                    opHandle.Dispose();
                    throw CrmSyncException.FromNative(function, status == 0 ? CrmSyncStatus.Internal : (CrmSyncStatus)status, errorJson);
                }
                return new CrmOperation(_api, opHandle);
            }
            finally
            {
                if (added) _handle.DangerousRelease();
            }
        }

        /// <summary>Frees the native client (deferred while operations started from it are alive).</summary>
        public void Dispose()
        {
            _handle.Dispose();
        }
    }
}
