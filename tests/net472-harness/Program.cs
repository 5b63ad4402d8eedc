using System;
using System.Collections.Generic;
using System.Security;
using System.Text.RegularExpressions;
using CrmServerSideSync;
using CrmSync.Interop;

namespace CrmSync.Net472Harness
{
    /// <summary>
    /// Drives CrmSync.Interop.dll from a .NET Framework 4.7.2 process against the simulator: connect,
    /// a paged mailbox listing, a bulk approval and bad input. Prints "PASS name" or "FAIL name: why"
    /// per check (read by powershell/tests/Net472Harness.Tests.ps1); the exit code is the failure count.
    /// Usage: Net472Harness.exe <native library> <simulator url> <organization id> <mailboxes expected>
    /// </summary>
    internal static class Program
    {
        private static int _failures;

        private static int Main(string[] args)
        {
            if (args.Length != 4)
            {
                Console.Error.WriteLine("usage: Net472Harness.exe <native library> <simulator url> <organization id> <mailboxes expected>");
                return 64;
            }
            string library = args[0], url = args[1], organizationId = args[2];
            int expected = int.Parse(args[3]);
            Console.WriteLine("runtime: " + Environment.Version + " (" + (Type.GetType("Mono.Runtime") != null ? "Mono" : ".NET Framework") + "), rid " + Native.CurrentRid);

            Check("load", () =>
            {
                Native.Load(library);
                Expect(Native.AbiVersion == Native.ExpectedAbiVersion, "ABI version " + Native.AbiVersion);
            });
            CrmClient client = null;
            Check("connect", () =>
            {
                client = Connect(url);
                string whoAmI = client.WhoAmI();
                Expect(whoAmI.IndexOf(organizationId, StringComparison.OrdinalIgnoreCase) >= 0, "WhoAmI has no organization " + organizationId + ": " + whoAmI);
            });
            Check("paged listing", () =>
            {
                var pages = new List<int>();
                var ids = new HashSet<string>();
                using (CrmOperation op = client.StartMailboxList("{\"version\":1,\"page_size\":7}"))
                {
                    foreach (string evt in Events(op))
                    {
                        if (!evt.Contains("\"type\":\"items\"")) continue;
                        int count = 0;
                        foreach (Match m in Regex.Matches(evt, "\"mailbox_id\":\"([0-9a-fA-F-]{36})\""))
                        {
                            ids.Add(m.Groups[1].Value);
                            count++;
                        }
                        pages.Add(count);
                    }
                    string result = op.Result();
                    Expect(Regex.IsMatch(result, "\"count\":" + expected + "\\b"), "result " + result);
                }
                Expect(ids.Count == expected, ids.Count + " distinct mailboxes, expected " + expected);
                Expect(pages.Count == (expected + 6) / 7, pages.Count + " pages of at most 7, expected " + ((expected + 6) / 7));
                foreach (int size in pages) Expect(size <= 7, "a page of " + size);
            });
            Check("bulk approval", () =>
            {
                int items = 0, failed = 0;
                var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                string request = "{\"version\":1,\"selection\":{\"filter\":\"statecode eq 0\"},\"decision\":\"Approve\"}";
                using (CrmOperation op = client.StartMailboxApproval(request))
                {
                    // The items arrive in batches, read into typed objects by the interop's own JSON reader.
                    foreach (string evt in Events(op))
                    {
                        if (!EventHeader.Read(evt).IsItemBatch) continue;
                        foreach (SetupItem item in SetupItem.Parse(evt))
                        {
                            items++;
                            ids.Add(item.MailboxId);
                            if (item.Outcome == "Failed") failed++;
                        }
                    }
                    op.Result();
                }
                Expect(items == expected, items + " item results, expected " + expected);
                Expect(ids.Count == expected, ids.Count + " distinct mailboxes, expected " + expected);
                Expect(failed == 0, failed + " failed approvals");
            });
            Check("invalid configuration", () =>
            {
                try
                {
                    CrmClient.Create("{\"url\": 12").Dispose();
                    Expect(false, "an invalid configuration was accepted");
                }
                catch (CrmSyncException e)
                {
                    Expect(e.Status == CrmSyncStatus.InvalidJson, "status " + e.Status + ": " + e.Message);
                    Expect(!string.IsNullOrEmpty(e.Message), "no message");
                }
            });
            if (client != null) client.Dispose();
            Console.WriteLine(_failures == 0 ? "net472 harness: all checks passed" : "net472 harness: " + _failures + " check(s) failed");
            return _failures;
        }

        private static CrmClient Connect(string url)
        {
            var token = new SecureString();
            foreach (char c in "sim-token-admin") token.AppendChar(c);
            token.MakeReadOnly();
            string config = "{\"version\":1,\"url\":\"" + url + "\",\"credential\":{\"kind\":\"access_token\",\"access_token\":\"" + CrmClient.SecretPlaceholder + "\"}}";
            return CrmClient.Create(config, token);
        }

        private static IEnumerable<string> Events(CrmOperation op)
        {
            DateTime deadline = DateTime.UtcNow.AddSeconds(120);
            while (DateTime.UtcNow < deadline)
            {
                string evt;
                CrmSyncStatus status = op.NextEvent(250, out evt);
                if (status == CrmSyncStatus.TimedOut) continue;
                if (status != CrmSyncStatus.Ok) yield break;
                yield return evt;
            }
            throw new TimeoutException("the operation sent no final event within 120 s");
        }

        private static void Check(string name, Action body)
        {
            try
            {
                body();
                Console.WriteLine("PASS " + name);
            }
            catch (Exception e)
            {
                _failures++;
                Console.WriteLine("FAIL " + name + ": " + e.GetType().Name + ": " + e.Message.Replace('\n', ' '));
            }
        }

        private static void Expect(bool condition, string why)
        {
            if (!condition) throw new InvalidOperationException(why);
        }
    }
}
