using System;
using System.Runtime.InteropServices;

namespace CrmSync.Interop
{
    /// <summary>Owns a <c>crmsync_client*</c>; releasing it calls <c>crmsync_client_free</c> of the library that created it.</summary>
    public sealed class CrmClientHandle : SafeHandle
    {
        private readonly NativeApi _api;

        internal CrmClientHandle(NativeApi api) : base(IntPtr.Zero, true)
        {
            _api = api;
        }

        internal void Set(IntPtr p)
        {
            SetHandle(p);
        }

        /// <inheritdoc />
        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        /// <inheritdoc />
        protected override bool ReleaseHandle()
        {
            _api.client_free(handle);
            return true;
        }
    }

    /// <summary>
    /// Owns a <c>crmsync_operation*</c>; releasing it calls <c>crmsync_op_free</c>. It holds a reference on
    /// the client handle so that the client outlives the operation even if it is disposed first.
    /// </summary>
    public sealed class CrmOperationHandle : SafeHandle
    {
        private readonly NativeApi _api;
        private CrmClientHandle _client;

        internal CrmOperationHandle(NativeApi api, CrmClientHandle client) : base(IntPtr.Zero, true)
        {
            _api = api;
            bool added = false;
            client.DangerousAddRef(ref added);
            if (added) _client = client;
        }

        internal void Set(IntPtr p)
        {
            SetHandle(p);
        }

        /// <inheritdoc />
        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            // An operation that never got a native handle still has to give back its client reference.
            if (IsInvalid) ReleaseClient();
        }

        /// <inheritdoc />
        protected override bool ReleaseHandle()
        {
            _api.op_free(handle);
            ReleaseClient();
            return true;
        }

        private void ReleaseClient()
        {
            CrmClientHandle c = System.Threading.Interlocked.Exchange(ref _client, null);
            if (c != null) c.DangerousRelease();
        }
    }
}
