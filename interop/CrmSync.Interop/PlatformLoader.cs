using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CrmSync.Interop
{
    /// <summary>
    /// Loads a native library by absolute path and resolves its exports, with the platform loader
    /// (kernel32 on Windows, dlopen/dlsym elsewhere). Works the same on .NET Framework 4.x and .NET 6+.
    /// </summary>
    internal static class PlatformLoader
    {
        internal static bool IsWindows
        {
            get { return Environment.OSVersion.Platform == PlatformID.Win32NT; }
        }

        internal static IntPtr Load(string path)
        {
            if (IsWindows)
            {
                // LOAD_WITH_ALTERED_SEARCH_PATH: the library's own folder is searched for its dependencies.
                IntPtr h = Kernel32.LoadLibraryExW(path, IntPtr.Zero, 0x00000008);
                if (h == IntPtr.Zero)
                {
                    int err = Marshal.GetLastWin32Error();
                    throw new DllNotFoundException(new Win32Exception(err).Message + " (Win32 error " + err + ")");
                }
                return h;
            }
            return Posix.Open(path);
        }

        internal static IntPtr GetSymbol(IntPtr library, string name)
        {
            if (IsWindows)
            {
                return Kernel32.GetProcAddress(library, name);
            }
            return Posix.Symbol(library, name);
        }

        /// <summary>The .NET runtime identifier of the current process (win-x64, linux-arm64, osx-arm64, ...).</summary>
        internal static string CurrentRid()
        {
            if (IsWindows)
            {
                // The process architecture (an x64 process on an arm64 machine loads x64 libraries).
                string arch = (Environment.GetEnvironmentVariable("PROCESSOR_ARCHITECTURE") ?? "").ToUpperInvariant();
                switch (arch)
                {
                    case "AMD64": return "win-x64";
                    case "ARM64": return "win-arm64";
                    case "X86": return "win-x86";
                    default: return Environment.Is64BitProcess ? "win-x64" : "win-x86";
                }
            }
            return UnixRid();
        }

        // Kept in its own method so that .NET Framework never has to resolve RuntimeInformation.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string UnixRid()
        {
            string os = RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "osx" : "linux";
            string arch;
            switch (RuntimeInformation.ProcessArchitecture)
            {
                case Architecture.X64: arch = "x64"; break;
                case Architecture.Arm64: arch = "arm64"; break;
                case Architecture.X86: arch = "x86"; break;
                case Architecture.Arm: arch = "arm"; break;
                default: arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(); break;
            }
            return os + "-" + arch;
        }

        internal static string NativeFileName()
        {
            if (IsWindows) return "crmsync.dll";
            return IsMac() ? "libcrmsync.dylib" : "libcrmsync.so";
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool IsMac()
        {
            return RuntimeInformation.IsOSPlatform(OSPlatform.OSX);
        }

        private static class Kernel32
        {
            [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true, ExactSpelling = true)]
            internal static extern IntPtr LoadLibraryExW(string lpLibFileName, IntPtr hFile, uint dwFlags);

            [DllImport("kernel32.dll", CharSet = CharSet.Ansi, SetLastError = true, ExactSpelling = true, BestFitMapping = false)]
            internal static extern IntPtr GetProcAddress(IntPtr hModule, string procName);
        }

        private static class Posix
        {
            private const int RTLD_NOW = 2;

            private enum Provider { Unknown, LibDl, LibC, LibSystem }

            private static Provider _provider = Provider.Unknown;

            internal static IntPtr Open(string path)
            {
                ClearError();
                IntPtr h = DlOpen(path, RTLD_NOW);
                if (h == IntPtr.Zero)
                {
                    throw new DllNotFoundException(LastError() ?? "dlopen failed");
                }
                return h;
            }

            internal static IntPtr Symbol(IntPtr library, string name)
            {
                ClearError();
                return DlSym(library, name);
            }

            private static Provider Resolve()
            {
                if (_provider != Provider.Unknown) return _provider;
                if (IsMac())
                {
                    _provider = Provider.LibSystem;
                    return _provider;
                }
                try
                {
                    LibDl.dlerror();
                    _provider = Provider.LibDl;
                }
                catch (DllNotFoundException)
                {
                    _provider = Provider.LibC;
                }
                catch (EntryPointNotFoundException)
                {
                    _provider = Provider.LibC;
                }
                return _provider;
            }

            private static IntPtr DlOpen(string path, int flags)
            {
                switch (Resolve())
                {
                    case Provider.LibSystem: return LibSystem.dlopen(path, flags);
                    case Provider.LibDl: return LibDl.dlopen(path, flags);
                    default: return LibC.dlopen(path, flags);
                }
            }

            private static IntPtr DlSym(IntPtr h, string name)
            {
                switch (Resolve())
                {
                    case Provider.LibSystem: return LibSystem.dlsym(h, name);
                    case Provider.LibDl: return LibDl.dlsym(h, name);
                    default: return LibC.dlsym(h, name);
                }
            }

            private static void ClearError()
            {
                LastError();
            }

            private static string LastError()
            {
                IntPtr p;
                switch (Resolve())
                {
                    case Provider.LibSystem: p = LibSystem.dlerror(); break;
                    case Provider.LibDl: p = LibDl.dlerror(); break;
                    default: p = LibC.dlerror(); break;
                }
                return p == IntPtr.Zero ? null : Utf8.FromNativeNoFree(p);
            }
        }

        private static class LibDl
        {
            [DllImport("libdl.so.2", CharSet = CharSet.Ansi, BestFitMapping = false)]
            internal static extern IntPtr dlopen(string fileName, int flags);

            [DllImport("libdl.so.2", CharSet = CharSet.Ansi, BestFitMapping = false)]
            internal static extern IntPtr dlsym(IntPtr handle, string symbol);

            [DllImport("libdl.so.2")]
            internal static extern IntPtr dlerror();
        }

        private static class LibC
        {
            [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false)]
            internal static extern IntPtr dlopen(string fileName, int flags);

            [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false)]
            internal static extern IntPtr dlsym(IntPtr handle, string symbol);

            [DllImport("libc.so.6")]
            internal static extern IntPtr dlerror();
        }

        private static class LibSystem
        {
            [DllImport("/usr/lib/libSystem.dylib", CharSet = CharSet.Ansi, BestFitMapping = false)]
            internal static extern IntPtr dlopen(string fileName, int flags);

            [DllImport("/usr/lib/libSystem.dylib", CharSet = CharSet.Ansi, BestFitMapping = false)]
            internal static extern IntPtr dlsym(IntPtr handle, string symbol);

            [DllImport("/usr/lib/libSystem.dylib")]
            internal static extern IntPtr dlerror();
        }

        internal static string FullPath(string path)
        {
            return Path.GetFullPath(path);
        }
    }
}
