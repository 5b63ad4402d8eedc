# Connect-CrmOnline -Proxy / -ProxyCredential / -CertificateAuthorityFile against the simulator,
# through a small proxy run by this test (C#, compiled with Add-Type: Windows PowerShell 5.1 and
# PowerShell 7). It tunnels CONNECT and forwards absolute-form requests (the simulator is plain
# http here; the HTTPS cases are in tests/transport_tls.rs), logs each request with whether its
# Proxy-Authorization was right, and answers 407 without it when it has a credential.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    if (-not ('CrmSyncTestProxy' -as [type])) {
        Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

public sealed class CrmSyncTestProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly string _expected;
    private readonly List<string> _log = new List<string>();

    public CrmSyncTestProxy(string user, string password)
    {
        // PowerShell passes $null to a string parameter as "": no user name means no authentication.
        if (!string.IsNullOrEmpty(user)) _expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Thread accept = new Thread(Accept);
        accept.IsBackground = true;
        accept.Start();
    }

    public int Port { get { return ((IPEndPoint)_listener.LocalEndpoint).Port; } }

    public string[] Entries { get { lock (_log) { return _log.ToArray(); } } }

    public void Dispose() { _listener.Stop(); }

    private void Accept()
    {
        while (true)
        {
            TcpClient client;
            try { client = _listener.AcceptTcpClient(); } catch (Exception) { return; }
            Thread handler = new Thread(() => Handle(client));
            handler.IsBackground = true;
            handler.Start();
        }
    }

    private static string ReadHead(Stream stream)
    {
        StringBuilder head = new StringBuilder();
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            int b = stream.ReadByte();
            if (b < 0) return null;
            head.Append((char)b);
        }
        return head.ToString();
    }

    private static void Write(Stream stream, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        stream.Write(bytes, 0, bytes.Length);
    }

    private void Handle(TcpClient client)
    {
        try
        {
            using (client)
            {
                NetworkStream stream = client.GetStream();
                string head = ReadHead(stream);
                if (head == null) return;
                string[] lines = head.Split(new string[] { "\r\n" }, StringSplitOptions.None);
                string[] parts = lines[0].Split(' ');
                string auth = null;
                foreach (string line in lines)
                {
                    int colon = line.IndexOf(':');
                    if (colon > 0 && line.Substring(0, colon).Trim().Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)) auth = line.Substring(colon + 1).Trim();
                }
                string verdict = auth == null ? "none" : (auth == _expected ? "ok" : "wrong");
                lock (_log) { _log.Add(parts[0] + " " + parts[1] + " auth=" + verdict); }
                if (_expected != null && auth != _expected)
                {
                    Write(stream, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"crmsync\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }
                string host;
                int port;
                byte[] forward = null;
                if (parts[0] == "CONNECT")
                {
                    int colon = parts[1].LastIndexOf(':');
                    host = parts[1].Substring(0, colon);
                    port = int.Parse(parts[1].Substring(colon + 1));
                }
                else
                {
                    Uri target = new Uri(parts[1]);
                    host = target.Host;
                    port = target.Port;
                    forward = Encoding.ASCII.GetBytes(head);
                }
                using (TcpClient upstream = new TcpClient(host, port))
                {
                    NetworkStream up = upstream.GetStream();
                    if (forward == null) Write(stream, "HTTP/1.1 200 Connection Established\r\n\r\n");
                    else up.Write(forward, 0, forward.Length);
                    Thread back = new Thread(() => { try { up.CopyTo(stream); } catch (Exception) { } try { client.Close(); } catch (Exception) { } });
                    back.IsBackground = true;
                    back.Start();
                    try { stream.CopyTo(up); } catch (Exception) { }
                    back.Join(5000);
                }
            }
        }
        catch (Exception) { }
    }
}
'@
    }
    $script:Token = ConvertTo-TestSecureString 'sim-token-admin'
    $script:Password = 'Pr0xy-P@ss-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $script:ProxyCredential = New-Object System.Management.Automation.PSCredential ('runbook', (ConvertTo-TestSecureString $Password))
    Import-Module $ModuleManifest -Force -ErrorAction Stop
    $script:Sim = Start-TestSimulator
    $script:SimAuthority = $Sim.Url.Substring($Sim.Url.IndexOf('//') + 2)
}
AfterAll {
    Disconnect-CrmOnline -ErrorAction SilentlyContinue
    Stop-DataverseSim -Simulator $Sim
    Remove-Module CrmServerSideSync -Force -ErrorAction SilentlyContinue
}

Describe 'Connect-CrmOnline -Proxy' {
    It 'sends the requests through the given proxy' {
        $proxy = New-Object CrmSyncTestProxy ($null, $null)
        try {
            $connection = Connect-CrmOnline -Url $Sim.Url -AccessToken $Token -Proxy "http://127.0.0.1:$($proxy.Port)"
            $connection.OrganizationId | Should -Be $Sim.OrganizationId
            @($proxy.Entries) | Should -Contain "GET http://$SimAuthority/api/data/v9.2/WhoAmI auth=none"
            # Later requests reuse the forwarded connection (keep-alive), so the proxy logs the first only.
            @(Get-CrmMailbox -Connection $connection).Count | Should -Be ($SimMailboxes + $SimQueues)
            @($proxy.Entries | Where-Object { $_ -notlike "* http://$SimAuthority/*" }) | Should -BeNullOrEmpty
        }
        finally { $proxy.Dispose() }
    }

    It 'fails clearly when the proxy demands authentication and no -ProxyCredential is given' {
        $proxy = New-Object CrmSyncTestProxy ('runbook', $Password)
        try {
            $thrown = $null
            try { Connect-CrmOnline -Url $Sim.Url -AccessToken $Token -Proxy "http://127.0.0.1:$($proxy.Port)" -MaxRetries 0 } catch { $thrown = $_ }
            $thrown | Should -Not -BeNullOrEmpty
            $thrown.Exception.Message | Should -Match 'demands authentication \(HTTP 407'
            ($thrown.Exception.Message + ' ' + [string]$thrown.ErrorDetails) | Should -Match 'ProxyCredential'
            @($proxy.Entries) | Should -Contain "GET http://$SimAuthority/api/data/v9.2/WhoAmI auth=none"
        }
        finally { $proxy.Dispose() }
    }

    It 'passes -ProxyCredential to the proxy and never shows the password' {
        $proxy = New-Object CrmSyncTestProxy ('runbook', $Password)
        try {
            $output = Connect-CrmOnline -Url $Sim.Url -AccessToken $Token -Proxy "http://127.0.0.1:$($proxy.Port)" -ProxyCredential $ProxyCredential -Verbose 4>&1 5>&1 6>&1 | Out-String
            @($proxy.Entries) | Should -Contain "GET http://$SimAuthority/api/data/v9.2/WhoAmI auth=ok"
            @($proxy.Entries | Where-Object { $_ -notlike '* auth=ok' }) | Should -BeNullOrEmpty
            $output | Should -Not -Match ([regex]::Escape($Password))
            $output | Should -Not -Match ([regex]::Escape([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("runbook:$Password"))))
        }
        finally { $proxy.Dispose() }
    }

    It 'refuses a wrong password with the 407 error, without echoing it' {
        $proxy = New-Object CrmSyncTestProxy ('runbook', $Password)
        try {
            $wrong = New-Object System.Management.Automation.PSCredential ('runbook', (ConvertTo-TestSecureString 'Wr0ng-Secret-Value'))
            $thrown = $null
            try { Connect-CrmOnline -Url $Sim.Url -AccessToken $Token -Proxy "http://127.0.0.1:$($proxy.Port)" -ProxyCredential $wrong -MaxRetries 0 } catch { $thrown = $_ }
            $thrown.Exception.Message | Should -Match '407'
            ($thrown | Out-String) | Should -Not -Match 'Wr0ng-Secret-Value'
            @($proxy.Entries) | Should -Contain "GET http://$SimAuthority/api/data/v9.2/WhoAmI auth=wrong"
        }
        finally { $proxy.Dispose() }
    }

    It 'refuses -ProxyCredential without -Proxy, and a proxy URL carrying a password' {
        { Connect-CrmOnline -Url $Sim.Url -AccessToken $Token -ProxyCredential $ProxyCredential } | Should -Throw -ErrorId 'CrmSync.ProxyCredentialWithoutProxy,Connect-CrmOnline'
        $thrown = $null
        try { Connect-CrmOnline -Url $Sim.Url -AccessToken $Token -Proxy 'http://runbook:UrlS3cret@127.0.0.1:3128' } catch { $thrown = $_ }
        $thrown.Exception.Message | Should -Match 'ProxyCredential'
        ($thrown | Out-String) | Should -Not -Match 'UrlS3cret'
    }
}

Describe 'Connect-CrmOnline -CertificateAuthorityFile' {
    It 'names a CA file that cannot be read' {
        $missing = Join-Path $TestDrive 'no-such-ca.pem'
        { Connect-CrmOnline -Url $Sim.Url -AccessToken $Token -CertificateAuthorityFile $missing } | Should -Throw -ExpectedMessage "*no-such-ca.pem' cannot be read*"
    }

    It 'names a file that holds no certificate' {
        $file = Join-Path $TestDrive 'empty.pem'
        Set-Content -LiteralPath $file -Value 'not a certificate'
        { Connect-CrmOnline -Url $Sim.Url -AccessToken $Token -CertificateAuthorityFile $file } | Should -Throw -ExpectedMessage '*holds no PEM certificate*'
    }
}
