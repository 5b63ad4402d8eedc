using System;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CrmSync.Interop
{
    /// <summary>
    /// Secret material built for <see cref="CrmClient.Create(string, SecureString[])"/> without ever holding it
    /// in a managed string: a random one-time password and a certificate exported as base64 PFX.
    /// </summary>
    public static class CrmSecrets
    {
        private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

        /// <summary>A random password of <paramref name="length"/> letters and digits (cryptographic RNG), read-only.</summary>
        public static SecureString NewRandomPassword(int length)
        {
            if (length < 8 || length > 256) throw new ArgumentOutOfRangeException("length");
            var password = new SecureString();
            byte[] random = new byte[length * 2];
            try
            {
                using (RandomNumberGenerator rng = RandomNumberGenerator.Create())
                {
                    int added = 0;
                    while (added < length)
                    {
                        rng.GetBytes(random);
                        for (int i = 0; i < random.Length && added < length; i++)
                        {
                            // Rejection sampling: no modulo bias.
                            int limit = 256 - (256 % PasswordAlphabet.Length);
                            if (random[i] >= limit) continue;
                            password.AppendChar(PasswordAlphabet[random[i] % PasswordAlphabet.Length]);
                            added++;
                        }
                    }
                }
                password.MakeReadOnly();
                return password;
            }
            finally
            {
                Array.Clear(random, 0, random.Length);
            }
        }

        /// <summary>
        /// Bytes as base64 text in a read-only <see cref="SecureString"/>; the intermediate characters are
        /// cleared, and so are <paramref name="bytes"/> when <paramref name="clearBytes"/> is true.
        /// </summary>
        public static SecureString ToBase64(byte[] bytes, bool clearBytes)
        {
            if (bytes == null) throw new ArgumentNullException("bytes");
            char[] chars = new char[((bytes.Length + 2) / 3) * 4];
            try
            {
                int n = Convert.ToBase64CharArray(bytes, 0, bytes.Length, chars, 0);
                var text = new SecureString();
                for (int i = 0; i < n; i++) text.AppendChar(chars[i]);
                text.MakeReadOnly();
                return text;
            }
            finally
            {
                Array.Clear(chars, 0, chars.Length);
                if (clearBytes) Array.Clear(bytes, 0, bytes.Length);
            }
        }

        /// <summary>
        /// Exports a certificate with its private key as a PFX protected by <paramref name="password"/>, returned
        /// as base64 in a <see cref="SecureString"/> (for <c>certificate_pfx_base64</c>). The PFX bytes are cleared.
        /// Throws <see cref="InvalidOperationException"/> when the certificate has no private key and
        /// <see cref="CryptographicException"/> when the key cannot be exported (marked non-exportable).
        /// </summary>
        public static SecureString ExportPfxBase64(X509Certificate2 certificate, SecureString password)
        {
            if (certificate == null) throw new ArgumentNullException("certificate");
            if (password == null) throw new ArgumentNullException("password");
            if (!certificate.HasPrivateKey)
            {
                throw new InvalidOperationException("The certificate with thumbprint " + certificate.Thumbprint + " has no private key.");
            }
            byte[] pfx = certificate.Export(X509ContentType.Pfx, password);
            return ToBase64(pfx, true);
        }
    }
}
