using System;
using System.Runtime.InteropServices;

namespace CrmSync.Interop
{
    /// <summary>The delegate table of one loaded crmsync library. Handles keep the table that created them.</summary>
    internal sealed class NativeApi
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate uint AbiVersionFn();

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void StringFreeFn(IntPtr s);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int ClientNewFn(byte[] configJson, UIntPtr len, out IntPtr clientOut, out IntPtr errorOut);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ClientFreeFn(IntPtr client);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int WhoAmIFn(IntPtr client, out IntPtr resultOut, out IntPtr errorOut);

        /// <summary>A synchronous call without a request: (client, result_out, error_out).</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int ClientResultFn(IntPtr client, out IntPtr resultOut, out IntPtr errorOut);

        /// <summary>(client, request bytes, length, result or operation out, error out): synchronous queries and operation starts.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int ClientQueryFn(IntPtr client, byte[] queryJson, UIntPtr len, out IntPtr resultOut, out IntPtr errorOut);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int OpNextEventFn(IntPtr op, uint timeoutMs, out IntPtr eventOut, out IntPtr errorOut);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int OpCancelFn(IntPtr op);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int OpResultFn(IntPtr op, out IntPtr resultOut, out IntPtr errorOut);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void OpFreeFn(IntPtr op);

        internal string Path;
        internal uint AbiVersion;
        internal AbiVersionFn abi_version;
        internal StringFreeFn string_free;
        internal ClientNewFn client_new;
        internal ClientFreeFn client_free;
        internal WhoAmIFn who_am_i;
        internal ClientQueryFn email_server_profiles_get;
        internal ClientResultFn mailbox_defaults_get;
        internal ClientQueryFn mailbox_defaults_set;
        internal ClientResultFn readiness_get;
        internal ClientQueryFn alerts_get;
        internal ClientQueryFn environments_get;
        internal ClientQueryFn mailboxes_list_start;
        internal ClientQueryFn mailboxes_configure_start;
        internal ClientQueryFn mailboxes_approve_start;
        internal ClientQueryFn mailboxes_test_enable_start;
        internal ClientQueryFn setup_start;
        internal ClientQueryFn mailboxes_health_start;
        internal ClientQueryFn mailboxes_repair_start;
        internal ClientQueryFn sync_disable_start;
        internal ClientQueryFn changes_undo_start;
        internal ClientQueryFn client_authenticate_start;
        internal OpNextEventFn op_next_event;
        internal OpCancelFn op_cancel;
        internal OpResultFn op_result;
        internal OpFreeFn op_free;

        /// <summary>Reads and frees a string allocated by the library.</summary>
        internal string TakeString(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            try
            {
                return Utf8.FromNativeNoFree(p);
            }
            finally
            {
                string_free(p);
            }
        }

        internal static NativeApi Load(string path, uint expectedAbiVersion)
        {
            IntPtr lib;
            try
            {
                lib = PlatformLoader.Load(path);
            }
            catch (Exception ex)
            {
                throw new CrmSyncNativeLoadException(path, "the file could not be loaded as a native library: " + ex.Message, null, expectedAbiVersion, ex);
            }

            var api = new NativeApi { Path = path };
            IntPtr abiPtr = PlatformLoader.GetSymbol(lib, "crmsync_abi_version");
            if (abiPtr == IntPtr.Zero)
            {
                throw new CrmSyncNativeLoadException(path, "the library does not export crmsync_abi_version (it is not a crmsync library)", null, expectedAbiVersion, null);
            }
            api.abi_version = Marshal.GetDelegateForFunctionPointer<AbiVersionFn>(abiPtr);
            uint found = api.abi_version();
            api.AbiVersion = found;
            if (found != expectedAbiVersion)
            {
                // The library stays mapped (unloading code that may have started threads is unsafe);
                // it is simply never used.
                throw new CrmSyncNativeLoadException(path, "the library speaks a different ABI version", found, expectedAbiVersion, null);
            }

            api.string_free = Get<StringFreeFn>(lib, path, "crmsync_string_free", found, expectedAbiVersion);
            api.client_new = Get<ClientNewFn>(lib, path, "crmsync_client_new", found, expectedAbiVersion);
            api.client_free = Get<ClientFreeFn>(lib, path, "crmsync_client_free", found, expectedAbiVersion);
            api.who_am_i = Get<WhoAmIFn>(lib, path, "crmsync_who_am_i", found, expectedAbiVersion);
            api.email_server_profiles_get = Get<ClientQueryFn>(lib, path, "crmsync_email_server_profiles_get", found, expectedAbiVersion);
            api.mailbox_defaults_get = Get<ClientResultFn>(lib, path, "crmsync_mailbox_defaults_get", found, expectedAbiVersion);
            api.mailbox_defaults_set = Get<ClientQueryFn>(lib, path, "crmsync_mailbox_defaults_set", found, expectedAbiVersion);
            api.readiness_get = Get<ClientResultFn>(lib, path, "crmsync_readiness_get", found, expectedAbiVersion);
            api.alerts_get = Get<ClientQueryFn>(lib, path, "crmsync_alerts_get", found, expectedAbiVersion);
            api.environments_get = Get<ClientQueryFn>(lib, path, "crmsync_environments_get", found, expectedAbiVersion);
            api.mailboxes_list_start = Get<ClientQueryFn>(lib, path, "crmsync_mailboxes_list_start", found, expectedAbiVersion);
            api.mailboxes_configure_start = Get<ClientQueryFn>(lib, path, "crmsync_mailboxes_configure_start", found, expectedAbiVersion);
            api.mailboxes_approve_start = Get<ClientQueryFn>(lib, path, "crmsync_mailboxes_approve_start", found, expectedAbiVersion);
            api.mailboxes_test_enable_start = Get<ClientQueryFn>(lib, path, "crmsync_mailboxes_test_enable_start", found, expectedAbiVersion);
            api.setup_start = Get<ClientQueryFn>(lib, path, "crmsync_setup_start", found, expectedAbiVersion);
            api.mailboxes_health_start = Get<ClientQueryFn>(lib, path, "crmsync_mailboxes_health_start", found, expectedAbiVersion);
            api.mailboxes_repair_start = Get<ClientQueryFn>(lib, path, "crmsync_mailboxes_repair_start", found, expectedAbiVersion);
            api.sync_disable_start = Get<ClientQueryFn>(lib, path, "crmsync_sync_disable_start", found, expectedAbiVersion);
            api.changes_undo_start = Get<ClientQueryFn>(lib, path, "crmsync_changes_undo_start", found, expectedAbiVersion);
            api.client_authenticate_start = Get<ClientQueryFn>(lib, path, "crmsync_client_authenticate_start", found, expectedAbiVersion);
            api.op_next_event = Get<OpNextEventFn>(lib, path, "crmsync_op_next_event", found, expectedAbiVersion);
            api.op_cancel = Get<OpCancelFn>(lib, path, "crmsync_op_cancel", found, expectedAbiVersion);
            api.op_result = Get<OpResultFn>(lib, path, "crmsync_op_result", found, expectedAbiVersion);
            api.op_free = Get<OpFreeFn>(lib, path, "crmsync_op_free", found, expectedAbiVersion);
            return api;
        }

        private static T Get<T>(IntPtr lib, string path, string name, uint found, uint expected) where T : class
        {
            IntPtr p = PlatformLoader.GetSymbol(lib, name);
            if (p == IntPtr.Zero)
            {
                throw new CrmSyncNativeLoadException(path, "the library does not export " + name, found, expected, null);
            }
            return Marshal.GetDelegateForFunctionPointer<T>(p);
        }
    }
}
