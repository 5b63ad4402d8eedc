using System;

namespace CrmSync.Interop
{
    /// <summary>A long-running native operation: read events, cancel, get the result, dispose.</summary>
    public sealed class CrmOperation : IDisposable
    {
        private readonly NativeApi _api;
        private readonly CrmOperationHandle _handle;
        private readonly object _gate = new object();

        internal CrmOperation(NativeApi api, CrmOperationHandle handle)
        {
            _api = api;
            _handle = handle;
        }

        /// <summary>The native handle.</summary>
        public CrmOperationHandle Handle
        {
            get { return _handle; }
        }

        /// <summary>
        /// Waits up to <paramref name="timeoutMs"/> for the next event. Returns <see cref="CrmSyncStatus.Ok"/>
        /// with the event JSON, <see cref="CrmSyncStatus.TimedOut"/> when none arrived yet,
        /// <see cref="CrmSyncStatus.EndOfEvents"/> when the operation is finished, or
        /// <see cref="CrmSyncStatus.Cancelled"/>. Other statuses throw <see cref="CrmSyncException"/>.
        /// </summary>
        public CrmSyncStatus NextEvent(int timeoutMs, out string eventJson)
        {
            eventJson = null;
            if (timeoutMs < 0) timeoutMs = 0;
            lock (_gate)
            {
                bool added = false;
                _handle.DangerousAddRef(ref added);
                try
                {
                    IntPtr ev;
                    IntPtr error;
                    int status = _api.op_next_event(_handle.DangerousGetHandle(), (uint)timeoutMs, out ev, out error);
                    eventJson = _api.TakeString(ev);
                    string errorJson = _api.TakeString(error);
                    var s = (CrmSyncStatus)status;
                    switch (s)
                    {
                        case CrmSyncStatus.Ok:
                        case CrmSyncStatus.TimedOut:
                        case CrmSyncStatus.EndOfEvents:
                        case CrmSyncStatus.Cancelled:
                            return s;
                        default:
                            throw CrmSyncException.FromNative("crmsync_op_next_event", s, errorJson);
                    }
                }
                finally
                {
                    if (added) _handle.DangerousRelease();
                }
            }
        }

        /// <summary>Asks the operation to stop (idempotent; does nothing once disposed).</summary>
        public CrmSyncStatus Cancel()
        {
            if (_handle.IsClosed) return CrmSyncStatus.Ok;
            lock (_gate)
            {
                bool added = false;
                try
                {
                    _handle.DangerousAddRef(ref added);
                    return (CrmSyncStatus)_api.op_cancel(_handle.DangerousGetHandle());
                }
                catch (ObjectDisposedException)
                {
                    return CrmSyncStatus.Ok;
                }
                finally
                {
                    if (added) _handle.DangerousRelease();
                }
            }
        }

        /// <summary>
        /// Returns the operation's status without throwing: <see cref="CrmSyncStatus.StillRunning"/>
        /// while it runs, else its final status with <paramref name="resultJson"/> or <paramref name="errorJson"/>.
        /// </summary>
        public CrmSyncStatus TryResult(out string resultJson, out string errorJson)
        {
            lock (_gate)
            {
                bool added = false;
                _handle.DangerousAddRef(ref added);
                try
                {
                    IntPtr result;
                    IntPtr error;
                    int status = _api.op_result(_handle.DangerousGetHandle(), out result, out error);
                    resultJson = _api.TakeString(result);
                    errorJson = _api.TakeString(error);
                    return (CrmSyncStatus)status;
                }
                finally
                {
                    if (added) _handle.DangerousRelease();
                }
            }
        }

        /// <summary>Returns the result JSON of a finished operation; throws <see cref="CrmSyncException"/> on any other status.</summary>
        public string Result()
        {
            string resultJson;
            string errorJson;
            CrmSyncStatus s = TryResult(out resultJson, out errorJson);
            if (s != CrmSyncStatus.Ok)
            {
                throw CrmSyncException.FromNative("crmsync_op_result", s, errorJson);
            }
            return resultJson;
        }

        /// <summary>Frees the native operation.</summary>
        public void Dispose()
        {
            _handle.Dispose();
        }
    }
}
