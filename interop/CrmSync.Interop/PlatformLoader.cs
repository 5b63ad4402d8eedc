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

        /// <summary>The operating system of this process: windows, linux or osx (see <see cref="RuntimeIdentifier"/>).</summary>
        internal static string CurrentOs()
        {
            if (IsWindows) return RuntimeIdentifier.Windows;
            return IsMac() ? RuntimeIdentifier.MacOS : RuntimeIdentifier.Linux;
        }

        /// <summary>The architecture of this process (x64, arm64, x86, arm).</summary>
        internal static string ProcessArchitecture()
        {
            if (IsWindows)
            {
                // Windows sets PROCESSOR_ARCHITECTURE per process: AMD64 for an x64 process even when it
                // is emulated on arm64; .NET Framework never has to resolve RuntimeInformation this way.
                string arch = Environment.GetEnvironmentVariable("PROCESSOR_ARCHITECTURE");
                if (!string.IsNullOrEmpty(arch)) return arch;
                return Environment.Is64BitProcess ? "x64" : "x86";
            }
            return UnixArchitecture(false);
        }

        /// <summary>The architecture of the operating system (arm64 for an emulated x64 process on arm64 Windows).</summary>
        internal static string OsArchitecture()
        {
            if (IsWindows)
            {
                ushort processMachine, nativeMachine;
                try
                {
                    // IsWow64Process2 (Windows 10 1709+) names the native machine even under x64 emulation.
                    if (Kernel32.IsWow64Process2(Kernel32.GetCurrentProcess(), out processMachine, out nativeMachine))
                    {
                        switch (nativeMachine)
                        {
                            case 0xAA64: return "arm64";
                            case 0x8664: return "x64";
                            case 0x014C: return "x86";
                        }
                    }
                }
                catch (EntryPointNotFoundException)
                {
                    // Older Windows: PROCESSOR_ARCHITEW6432 is set only inside WOW64.
                }
                string wow = Environment.GetEnvironmentVariable("PROCESSOR_ARCHITEW6432");
                return string.IsNullOrEmpty(wow) ? ProcessArchitecture() : wow;
            }
            return UnixArchitecture(true);
        }

        // Kept in its own method so that .NET Framework never has to resolve RuntimeInformation.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string UnixArchitecture(bool ofOs)
        {
            Architecture arch = ofOs ? RuntimeInformation.OSArchitecture : RuntimeInformation.ProcessArchitecture;
            return arch.ToString().ToLowerInvariant();
        }

        /// <summary>The .NET runtime identifier of the current process (win-x64, linux-arm64, osx-arm64, ...).</summary>
        internal static string CurrentRid()
        {
            return RuntimeIdentifier.Select(CurrentOs(), ProcessArchitecture(), OsArchitecture());
        }

        /// <summary>The platform of this process, for messages.</summary>
        internal static string CurrentPlatform()
        {
            return RuntimeIdentifier.Describe(CurrentOs(), ProcessArchitecture(), OsArchitecture());
        }

        internal static string NativeFileName()
        {
            return RuntimeIdentifier.NativeFileName(CurrentRid());
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

            [DllImport("kernel32.dll", ExactSpelling = true)]
            internal static extern IntPtr GetCurrentProcess();

            [DllImport("kernel32.dll", SetLastError = true, ExactSpelling = true)]
            [return: MarshalAs(UnmanagedType.Bool)]
            internal static extern bool IsWow64Process2(IntPtr process, out ushort processMachine, out ushort nativeMachine);
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
