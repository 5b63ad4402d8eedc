using System;

namespace CrmSync.Interop
{
    /// <summary>
    /// Which native library a process loads: the .NET runtime identifier (RID) chosen from the operating
    /// system, the architecture of the process and the architecture of the operating system. A pure
    /// function of its arguments, so that every platform's choice is unit-tested on any machine.
    /// </summary>
    public static class RuntimeIdentifier
    {
        /// <summary>Operating system names accepted by <see cref="Select"/>.</summary>
        public const string Windows = "windows", Linux = "linux", MacOS = "osx";

        /// <summary>The RIDs the module ships a native library for.</summary>
        public static readonly string[] Shipped = { "win-x64", "win-arm64", "linux-x64", "linux-arm64", "osx-x64", "osx-arm64" };

        /// <summary>
        /// The RID of a process: <paramref name="os"/> is windows, linux or osx; the architectures are
        /// x64, arm64, x86 or arm (case-insensitive; AMD64 is x64, as Windows spells it).
        /// The process architecture decides: a library must match the process that loads it, so an x64
        /// process emulated on arm64 Windows (or under Rosetta on an arm64 Mac) loads the x64 library.
        /// </summary>
        public static string Select(string os, string processArchitecture, string osArchitecture)
        {
            string prefix = OsPrefix(os);
            string process = Architecture(processArchitecture, "process");
            Architecture(osArchitecture, "operating system");
            return prefix + "-" + process;
        }

        /// <summary>The file name of the native library for a RID (crmsync.dll, libcrmsync.so, libcrmsync.dylib).</summary>
        public static string NativeFileName(string rid)
        {
            if (rid == null) throw new ArgumentNullException("rid");
            if (rid.StartsWith("win-", StringComparison.Ordinal)) return "crmsync.dll";
            if (rid.StartsWith("osx-", StringComparison.Ordinal)) return "libcrmsync.dylib";
            if (rid.StartsWith("linux-", StringComparison.Ordinal)) return "libcrmsync.so";
            throw new PlatformNotSupportedException("Unknown runtime identifier '" + rid + "' (expected win-, linux- or osx-<architecture>).");
        }

        /// <summary>A sentence naming the platform, for messages: "Windows, x64 process on an arm64 operating system (emulated)".</summary>
        public static string Describe(string os, string processArchitecture, string osArchitecture)
        {
            string prefix = OsPrefix(os);
            string process = Architecture(processArchitecture, "process");
            string system = Architecture(osArchitecture, "operating system");
            string name = prefix == "win" ? "Windows" : prefix == "osx" ? "macOS" : "Linux";
            if (process == system) return name + " " + process;
            return name + ", " + process + " process on an " + system + " operating system" + (process == "x64" && system == "arm64" ? " (emulated)" : "");
        }

        private static string OsPrefix(string os)
        {
            switch ((os ?? "").ToLowerInvariant())
            {
                case Windows: return "win";
                case Linux: return "linux";
                case MacOS: return "osx";
                default: throw new PlatformNotSupportedException("Unsupported operating system '" + os + "' (crmsync runs on windows, linux and osx).");
            }
        }

        private static string Architecture(string architecture, string of)
        {
            switch ((architecture ?? "").ToLowerInvariant())
            {
                case "x64":
                case "amd64": return "x64";
                case "arm64": return "arm64";
                case "x86": return "x86";
                case "arm": return "arm";
                default: throw new PlatformNotSupportedException("Unsupported " + of + " architecture '" + architecture + "' (expected x64, arm64, x86 or arm).");
            }
        }
    }
}
