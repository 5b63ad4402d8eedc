using System;
using System.Runtime.InteropServices;
using System.Text;

namespace CrmSync.Interop
{
    /// <summary>UTF-8 conversions by bytes (no reliance on the runtime's string marshalling).</summary>
    internal static class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        internal static byte[] GetBytes(string s)
        {
            return Strict.GetBytes(s ?? string.Empty);
        }

        /// <summary>Reads a NUL-terminated UTF-8 string without freeing it.</summary>
        internal static string FromNativeNoFree(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0) len++;
            if (len == 0) return string.Empty;
            byte[] buffer = new byte[len];
            Marshal.Copy(p, buffer, 0, len);
            return Encoding.UTF8.GetString(buffer);
        }
    }
}
