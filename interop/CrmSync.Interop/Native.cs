using System;
using System.IO;

namespace CrmSync.Interop
{
    /// <summary>Entry point: loads the crmsync native library by absolute path.</summary>
    public static class Native
    {
        /// <summary>The ABI version this assembly was written against.</summary>
        public const uint ExpectedAbiVersion = 1;

        private static readonly object Gate = new object();
        private static volatile NativeApi _current;

        /// <summary>Loads the library at <paramref name="path"/> and checks its ABI version against <see cref="ExpectedAbiVersion"/>.</summary>
        public static void Load(string path)
        {
            Load(path, ExpectedAbiVersion);
        }

        /// <summary>
        /// Loads the library at <paramref name="path"/> (must be absolute) and checks that
        /// <c>crmsync_abi_version()</c> equals <paramref name="expectedAbiVersion"/>. Throws
        /// <see cref="CrmSyncNativeLoadException"/> otherwise; the previously loaded library, if any, stays current.
        /// Loading the same path again is a no-op.
        /// </summary>
        public static void Load(string path, uint expectedAbiVersion)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentNullException("path");
            if (!Path.IsPathRooted(path))
            {
                throw new CrmSyncNativeLoadException(path, "the path is not absolute", null, expectedAbiVersion, null);
            }
            string full = Path.GetFullPath(path);
            if (!File.Exists(full))
            {
                throw new CrmSyncNativeLoadException(full, "the file does not exist", null, expectedAbiVersion, null);
            }
            lock (Gate)
            {
                NativeApi current = _current;
                if (current != null && string.Equals(current.Path, full, StringComparison.Ordinal) && current.AbiVersion == expectedAbiVersion)
                {
                    return;
                }
                _current = NativeApi.Load(full, expectedAbiVersion);
            }
        }

        /// <summary>True once a library has been loaded.</summary>
        public static bool IsLoaded
        {
            get { return _current != null; }
        }

        /// <summary>The absolute path of the loaded library (null when none).</summary>
        public static string LoadedPath
        {
            get { NativeApi api = _current; return api == null ? null : api.Path; }
        }

        /// <summary>The value of <c>crmsync_abi_version()</c> of the loaded library.</summary>
        public static uint AbiVersion
        {
            get { return Api.abi_version(); }
        }

        /// <summary>The runtime identifier of this process (for example linux-x64 or win-arm64).</summary>
        public static string CurrentRid
        {
            get { return PlatformLoader.CurrentRid(); }
        }

        /// <summary>The platform of this process in words (for example "Windows, x64 process on an arm64 operating system (emulated)").</summary>
        public static string Platform
        {
            get { return PlatformLoader.CurrentPlatform(); }
        }

        /// <summary>The native library file name on this platform (crmsync.dll, libcrmsync.so, libcrmsync.dylib).</summary>
        public static string NativeFileName
        {
            get { return PlatformLoader.NativeFileName(); }
        }

        internal static NativeApi Api
        {
            get
            {
                NativeApi api = _current;
                if (api == null)
                {
                    throw new InvalidOperationException("The crmsync native library is not loaded: call CrmSync.Interop.Native.Load(path) first.");
                }
                return api;
            }
        }
    }
}
