# Connect-CrmOnline's sign-in kinds against the simulator: certificate, managed identity, device code,
# -Cloud, and secrets across all of them.
#
# What the simulator binary cannot do (crates/dataverse-sim has no command-line option or HTTP route
# for it; only the Rust tests reach it through SimConfig): trust a certificate
# (identity.trusted_certificates), approve or decline a device code, shorten a device code's expiry.
# So a certificate sign-in is tested up to Entra's answer for an untrusted certificate (AADSTS700027
# with the thumbprint), and a device code sign-in up to the code being shown and the sign-in being
# cancelled (the Ctrl+C path).
BeforeDiscovery {
    # -Skip is evaluated at discovery, before BeforeAll runs.
    $IsWindowsHost = [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $sim = Start-TestSimulator
    Import-Module $ModuleManifest -Force -ErrorAction Stop

    $script:IdentityHeader = 'sim-identity-header'
    $script:PfxPassword = 'pfx-pa55word-do-not-leak'

    function New-TestCertificate {
        # A self-signed RSA certificate with its private key (not registered in the simulator).
        param([string] $Subject = 'CN=crmsync-powershell-test')
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $request = New-Object System.Security.Cryptography.X509Certificates.CertificateRequest (
            $Subject, $rsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(2))
    }

    # A loopback port with nothing listening (bound, then released).
    function Get-FreeLoopbackPort {
        $listener = New-Object System.Net.Sockets.TcpListener ([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port
        $listener.Stop()
        $port
    }

    $script:Certificate = New-TestCertificate
    $script:PfxPath = Join-Path $TestDrive 'crmsync-app.pfx'
    [System.IO.File]::WriteAllBytes($script:PfxPath, $script:Certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $script:PfxPassword))
}

AfterAll {
    if (Get-Module CrmServerSideSync) {
        Disconnect-CrmOnline
        Remove-Module CrmServerSideSync -Force
    }
    Stop-DataverseSim -Simulator $sim
}

Describe 'Connect-CrmOnline -ManagedIdentity' {
    AfterEach {
        Disconnect-CrmOnline
    }

    It 'connects through the identity endpoint (Azure Automation / App Service) and Get-CrmOrganization works' {
        $connection = Connect-CrmOnline -Url $sim.Url -ManagedIdentity -IdentityEndpoint "$($sim.Url)/msi/token" -IdentityHeader (ConvertTo-TestSecureString $IdentityHeader)
        $connection.AuthenticationKind | Should -Be 'ManagedIdentity'
        $connection.OrganizationId | Should -Match '^[0-9a-fA-F-]{36}$'
        $organization = Get-CrmOrganization
        $organization.OrganizationId | Should -Be $connection.OrganizationId
        $organization.UserId | Should -Be $connection.UserId
    }

    It 'connects through the instance metadata endpoint (virtual machines)' {
        $connection = Connect-CrmOnline -Url $sim.Url -ManagedIdentity -ImdsEndpoint $sim.Url
        $connection.AuthenticationKind | Should -Be 'ManagedIdentity'
        (Get-CrmOrganization).OrganizationId | Should -Be $connection.OrganizationId
    }

    It 'passes a user-assigned identity''s client id' {
        $connection = Connect-CrmOnline -Url $sim.Url -ManagedIdentity -ManagedIdentityClientId '7d9e1c2b-3a4f-4b5c-8d6e-9f0a1b2c3d4e' -IdentityEndpoint "$($sim.Url)/msi/token" -IdentityHeader (ConvertTo-TestSecureString $IdentityHeader)
        $connection.AuthenticationKind | Should -Be 'ManagedIdentity'
    }

    It 'keeps the test-only endpoint parameters out of the syntax shown by Get-Help' {
        $syntax = (Get-Command Connect-CrmOnline -Module CrmServerSideSync).ParameterSets | Where-Object Name -EQ 'ManagedIdentity'
        $shown = @($syntax.Parameters | Where-Object { -not ($_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow }) } | ForEach-Object Name)
        $shown | Should -Contain 'ManagedIdentityClientId'
        $shown | Should -Not -Contain 'IdentityEndpoint'
        $shown | Should -Not -Contain 'IdentityHeader'
        $shown | Should -Not -Contain 'ImdsEndpoint'
    }

    It 'reports an unreachable identity endpoint as a connection error that says what to check, quickly' {
        $port = Get-FreeLoopbackPort
        $caught = $null
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        try {
            Connect-CrmOnline -Url $sim.Url -ManagedIdentity -IdentityEndpoint "http://127.0.0.1:$port/msi/token" -IdentityHeader (ConvertTo-TestSecureString $IdentityHeader) -MaxRetries 1 -ErrorAction Stop
        }
        catch {
            $caught = $_
        }
        $watch.Stop()
        $caught | Should -Not -BeNullOrEmpty
        @('ConnectionError', 'AuthenticationError') | Should -Contain ([string]$caught.CategoryInfo.Category)
        "$caught" | Should -Match "127\.0\.0\.1:$port"
        "$caught" | Should -Match 'managed identity'
        $caught.ErrorDetails.RecommendedAction | Should -Match 'managed identity is enabled'
        "$caught" | Should -Not -Match ([regex]::Escape($IdentityHeader))
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 60
        InModuleScope CrmServerSideSync { $script:DefaultConnection | Should -BeNullOrEmpty }
    }

    It 'reports a wrong identity header as an authentication error without the header' {
        $wrong = 'wrong-identity-header-5e1b'
        $caught = $null
        try {
            Connect-CrmOnline -Url $sim.Url -ManagedIdentity -IdentityEndpoint "$($sim.Url)/msi/token" -IdentityHeader (ConvertTo-TestSecureString $wrong) -ErrorAction Stop
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.CategoryInfo.Category | Should -Be 'AuthenticationError'
        "$caught" | Should -Match 'refused to issue a token'
        "$caught" | Should -Not -Match $wrong
        $caught.Exception.ToString() | Should -Not -Match $wrong
    }

    It 'rejects an identity client id that is not a GUID at binding' {
        { Connect-CrmOnline -Url $sim.Url -ManagedIdentity -ManagedIdentityClientId 'not-a-guid' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,Connect-CrmOnline'
    }
}

Describe 'Connect-CrmOnline with a certificate' {
    AfterEach {
        Disconnect-CrmOnline
    }

    It 'signs in with a PFX file: an untrusted certificate gives AADSTS700027 and the thumbprint to check' {
        $caught = $null
        try {
            Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -CertificatePath $PfxPath -CertificatePassword (ConvertTo-TestSecureString $PfxPassword) -AuthorityHost $sim.Url -ErrorAction Stop
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $caught.FullyQualifiedErrorId | Should -BeLike 'CrmSync.Authentication*,Connect-CrmOnline'
        "$caught" | Should -Match 'AADSTS700027'
        "$caught" | Should -Match ('thumbprint ' + $Certificate.Thumbprint)
        $caught.ErrorDetails.RecommendedAction | Should -Match 'Certificates & secrets'
        "$caught" | Should -Not -Match ([regex]::Escape($PfxPassword))
        InModuleScope CrmServerSideSync { $script:DefaultConnection | Should -BeNullOrEmpty }
    }

    It 'resolves a relative -CertificatePath against the current location' {
        Push-Location $TestDrive
        try {
            $output = & {
                try {
                    Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -CertificatePath './crmsync-app.pfx' -CertificatePassword (ConvertTo-TestSecureString $PfxPassword) -AuthorityHost $sim.Url -ErrorAction Stop -Verbose
                }
                catch {
                    $_
                }
            } 4>&1
        }
        finally {
            Pop-Location
        }
        $text = @($output | ForEach-Object { [string]$_ }) -join "`n"
        $text | Should -Match 'AADSTS700027' -Because 'the file was found and the certificate was read'
        $text | Should -Match ([regex]::Escape("'$((Resolve-Path -LiteralPath $PfxPath).ProviderPath)'"))
    }

    It 'reports a missing certificate file clearly' {
        { Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -CertificatePath (Join-Path $TestDrive 'missing.pfx') -AuthorityHost $sim.Url -ErrorAction Stop } |
            Should -Throw -ErrorId 'CrmSync.CertificateFileNotFound,Connect-CrmOnline'
    }

    It 'reports a wrong PFX password as an invalid argument without the password' {
        $wrong = 'not-the-pfx-password-9d2c'
        $caught = $null
        try {
            Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -CertificatePath $PfxPath -CertificatePassword (ConvertTo-TestSecureString $wrong) -AuthorityHost $sim.Url -ErrorAction Stop
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
        "$caught" | Should -Match 'certificate'
        "$caught" | Should -Not -Match $wrong
        $caught.Exception.ToString() | Should -Not -Match $wrong
    }

    It 'exports a certificate with its key as base64 PFX under a one-time password the library can read (the -CertificateThumbprint path)' {
        # The store lookup is Windows only; the export and the two-secret configuration are tested here
        # with a certificate loaded from the PFX file.
        $flags = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::Exportable
        $loaded = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 ($PfxPath, $PfxPassword, $flags)
        $oneTime = [CrmSync.Interop.CrmSecrets]::NewRandomPassword(32)
        $oneTime.IsReadOnly() | Should -BeTrue
        $oneTime.Length | Should -Be 32
        $pfx = [CrmSync.Interop.CrmSecrets]::ExportPfxBase64($loaded, $oneTime)
        $template = ConvertTo-Json -Compress -Depth 4 -InputObject ([ordered]@{
                version    = 1
                url        = $sim.Url
                credential = [ordered]@{
                    kind                   = 'client_certificate'
                    tenant_id              = $sim.TenantId
                    client_id              = $SimClientId
                    certificate_pfx_base64 = [CrmSync.Interop.CrmClient]::GetSecretPlaceholder(0)
                    certificate_password   = [CrmSync.Interop.CrmClient]::GetSecretPlaceholder(1)
                    authority_host         = $sim.Url
                }
            })
        $client = [CrmSync.Interop.CrmClient]::Create($template, [System.Security.SecureString[]]@($pfx, $oneTime))
        try {
            $operation = $client.StartAuthenticate('{"version":1}')
            try {
                $eventJson = $null
                $deadline = [DateTime]::UtcNow.AddSeconds(30)
                while ($operation.NextEvent(500, [ref]$eventJson) -ne [CrmSync.Interop.CrmSyncStatus]::EndOfEvents -and [DateTime]::UtcNow -lt $deadline) { }
                $failure = $null
                try { [void]$operation.Result() } catch { $failure = $_.Exception }
                while ($null -ne $failure -and -not ($failure -is [CrmSync.Interop.CrmSyncException])) { $failure = $failure.InnerException }
                $failure | Should -Not -BeNullOrEmpty
                $failure.Message | Should -Match 'AADSTS700027'
                $failure.Remedy | Should -Match ('thumbprint ' + $Certificate.Thumbprint)
            }
            finally {
                $operation.Dispose()
            }
        }
        finally {
            $client.Dispose()
        }
    }

    It 'refuses -CertificateThumbprint off Windows and points to -CertificatePath' -Skip:$IsWindowsHost {
        $caught = $null
        try {
            Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -CertificateThumbprint $Certificate.Thumbprint -AuthorityHost $sim.Url -ErrorAction Stop
        }
        catch {
            $caught = $_
        }
        $caught.FullyQualifiedErrorId | Should -Be 'CrmSync.CertificateStoreNotSupported,Connect-CrmOnline'
        "$caught" | Should -Match '-CertificatePath'
    }

    It 'reports a thumbprint that is in no store (Windows)' -Skip:(-not $IsWindowsHost) {
        { Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -CertificateThumbprint ('0' * 40) -AuthorityHost $sim.Url -ErrorAction Stop } |
            Should -Throw -ErrorId 'CrmSync.CertificateNotFound,Connect-CrmOnline'
    }
}

Describe 'Connect-CrmOnline -DeviceCode' {
    It 'shows the code as a warning and in the information stream, and Ctrl+C (Stop) cancels the sign-in cleanly' {
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        try {
            $shell = [powershell]::Create()
            $shell.Runspace = $runspace
            [void]$shell.AddScript(@'
param($Manifest, $Url, $TenantId)
Import-Module $Manifest -ErrorAction Stop
Connect-CrmOnline -Url $Url -DeviceCode -TenantId $TenantId -AuthorityHost $Url -WarningVariable deviceWarning -InformationVariable deviceInformation
'@).AddArgument($ModuleManifest).AddArgument($sim.Url).AddArgument($sim.TenantId)
            $async = $shell.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ($shell.Streams.Warning.Count -eq 0 -and -not $async.IsCompleted -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            # (Index the stream collections: enumerating an open PSDataCollection blocks.)
            $errorsSoFar = @(for ($i = 0; $i -lt $shell.Streams.Error.Count; $i++) { [string]$shell.Streams.Error[$i] }) -join '; '
            $shell.Streams.Warning.Count | Should -Be 1 -Because "the code must be shown while waiting (errors: $errorsSoFar)"
            $async.IsCompleted | Should -BeFalse -Because 'the cmdlet waits for the sign-in'
            $warning = $shell.Streams.Warning[0].Message
            $warning | Should -Match 'enter the code [A-Z0-9]{6,}'
            $warning | Should -Match ([regex]::Escape("$($sim.Url)/devicelogin"))
            $warning | Should -Not -Match 'sim-device-' -Because 'the device code itself (what the token request uses) is a secret; only the user code is shown'
            $information = @(for ($i = 0; $i -lt $shell.Streams.Information.Count; $i++) {
                    $record = $shell.Streams.Information[$i]
                    if ($record.Tags -contains 'DeviceCode') { [string]$record.MessageData }
                })
            $information | Should -Be @($warning)

            # Ctrl+C: StopProcessing; the sign-in is cancelled and the cmdlet ends within a poll or two.
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $shell.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
            $shell.InvocationStateInfo.State | Should -Be 'Stopped'
            $shell.Dispose()

            # -WarningVariable / -InformationVariable saw the code too; no connection was made.
            $check = [powershell]::Create()
            $check.Runspace = $runspace
            [void]$check.AddScript('[pscustomobject]@{ Warning = @($deviceWarning | ForEach-Object { [string]$_ }); Information = @($deviceInformation | ForEach-Object { [string]$_.MessageData }); Connected = $null -ne (& (Get-Module CrmServerSideSync) { $script:DefaultConnection }) }')
            $state = $check.Invoke()[0]
            $check.Dispose()
            @($state.Warning) | Should -Be @($warning)
            @($state.Information) | Should -Be @($warning)
            $state.Connected | Should -BeFalse
        }
        finally {
            $runspace.Dispose()
        }
    }

    It 'signs a person in once for several environments: one code, one connection each' {
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        try {
            $shell = [powershell]::Create()
            $shell.Runspace = $runspace
            [void]$shell.AddScript(@'
param($Manifest, $Url, $TenantId)
Import-Module $Manifest -ErrorAction Stop
Connect-CrmOnline -Url $Url, $Url -DeviceCode -TenantId $TenantId -AuthorityHost $Url -ErrorAction Stop
'@).AddArgument($ModuleManifest).AddArgument($sim.Url).AddArgument($sim.TenantId)
            $async = $shell.BeginInvoke()
            $approved = 0
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not $async.IsCompleted -and [DateTime]::UtcNow -lt $deadline) {
                # Approve every code shown so far, as the person would in the browser.
                for ($i = $approved; $i -lt $shell.Streams.Warning.Count; $i++) {
                    $code = [regex]::Match($shell.Streams.Warning[$i].Message, 'enter the code ([A-Z0-9]{6,})').Groups[1].Value
                    Invoke-RestMethod -Method Post -Uri "$($sim.Url)/_sim/devicelogin" -ContentType 'application/json' -Body (@{ user_code = $code } | ConvertTo-Json) | Out-Null
                    $approved++
                }
                Start-Sleep -Milliseconds 100
            }
            $connections = @($shell.EndInvoke($async))
            $errors = @(for ($i = 0; $i -lt $shell.Streams.Error.Count; $i++) { [string]$shell.Streams.Error[$i] }) -join '; '
            $errors | Should -BeNullOrEmpty
            $shell.Streams.Warning.Count | Should -Be 1 -Because 'the second environment redeems the same sign-in'
            $connections.Count | Should -Be 2
            $connections | ForEach-Object { $_.AuthenticationKind | Should -Be 'DeviceCode'; $_.UserId | Should -Be $connections[0].UserId }
            [object]::ReferenceEquals($connections[0].Client, $connections[1].Client) | Should -BeFalse
            $shell.Dispose()
        }
        finally {
            $runspace.Dispose()
        }
    }

    It 'reports a client id the directory does not know (the device code request is refused)' {
        $caught = $null
        try {
            Connect-CrmOnline -Url $sim.Url -DeviceCode -TenantId $sim.TenantId -ClientId '00000000-0000-4000-8000-00000000abcd' -AuthorityHost $sim.Url -ErrorAction Stop -WarningVariable deviceWarning
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.CategoryInfo.Category | Should -Be 'AuthenticationError'
        "$caught" | Should -Match 'AADSTS700016'
        @($deviceWarning).Count | Should -Be 0
    }
}

Describe 'Connect-CrmOnline -Cloud' {
    It 'accepts only Public, USGov, USGovDoD and China' {
        { Connect-CrmOnline -Url $sim.Url -DeviceCode -Cloud 'Mars' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,Connect-CrmOnline'
    }

    It 'is not a parameter of the <_> sign-in (its configuration has no authority)' -ForEach @('AccessToken', 'ManagedIdentity') {
        $set = (Get-Command Connect-CrmOnline -Module CrmServerSideSync).ParameterSets | Where-Object Name -EQ $_
        $set.Parameters.Name | Should -Not -Contain 'Cloud'
        $set.Parameters.Name | Should -Not -Contain 'AuthorityHost'
    }

    It 'cannot be combined with -ManagedIdentity or -AccessToken' {
        { Connect-CrmOnline -Url $sim.Url -ManagedIdentity -Cloud USGov -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet,Connect-CrmOnline'
        { Connect-CrmOnline -Url $sim.Url -AccessToken (ConvertTo-TestSecureString 'x') -Cloud USGov -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet,Connect-CrmOnline'
    }

    It 'refuses -Cloud together with -AuthorityHost' {
        { Connect-CrmOnline -Url $sim.Url -DeviceCode -Cloud USGov -AuthorityHost $sim.Url -ErrorAction Stop } |
            Should -Throw -ErrorId 'CrmSync.CloudAndAuthorityHost,Connect-CrmOnline'
    }

    It 'puts "cloud" into the credential of the <Set> sign-in' -ForEach @(
        @{ Set = 'ClientSecret'; Kind = 'client_secret'; Parameters = @{ ClientId = '5c2e8f6a-0d8e-4b51-9a7e-2f1c3b4d5e6f'; TenantId = 'contoso.onmicrosoft.com'; ClientSecret = (ConvertTo-SecureString 'x' -AsPlainText -Force); Cloud = 'USGov' } }
        @{ Set = 'DeviceCode'; Kind = 'device_code'; Parameters = @{ DeviceCode = $true; Cloud = 'China' } }
    ) {
        $credential = InModuleScope CrmServerSideSync -Parameters @{ Set = $Set; Bound = $Parameters } {
            param($Set, $Bound)
            function Get-TestCredential {
                [CmdletBinding()]
                param($Set, $Bound)
                (New-CrmCredential -Cmdlet $PSCmdlet -ParameterSetName $Set -Parameters $Bound).Credential
            }
            Get-TestCredential -Set $Set -Bound $Bound
        }
        $credential['kind'] | Should -Be $Kind
        $credential['cloud'] | Should -Be $Parameters.Cloud
        $credential.Contains('authority_host') | Should -BeFalse
    }
}

Describe 'Secrets across the sign-in kinds' {
    It 'never shows a secret, password, identity header or token in any stream, error or module variable' {
        $Error.Clear()
        $wrongHeader = 'wrong-identity-header-c41d'
        $wrongPfxPassword = 'wrong-pfx-password-77ab'
        $port = Get-FreeLoopbackPort
        $captured = & {
            Connect-CrmOnline -Url $sim.Url -ManagedIdentity -IdentityEndpoint "$($sim.Url)/msi/token" -IdentityHeader (ConvertTo-TestSecureString $IdentityHeader) -Verbose
            Get-CrmOrganization -Verbose
            try { Connect-CrmOnline -Url $sim.Url -ManagedIdentity -IdentityEndpoint "$($sim.Url)/msi/token" -IdentityHeader (ConvertTo-TestSecureString $wrongHeader) -Verbose } catch { $_ }
            try { Connect-CrmOnline -Url $sim.Url -ManagedIdentity -IdentityEndpoint "http://127.0.0.1:$port/msi/token" -IdentityHeader (ConvertTo-TestSecureString $IdentityHeader) -MaxRetries 0 -Verbose } catch { $_ }
            Connect-CrmOnline -Url $sim.Url -ManagedIdentity -ImdsEndpoint $sim.Url -Verbose
            try { Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -CertificatePath $PfxPath -CertificatePassword (ConvertTo-TestSecureString $PfxPassword) -AuthorityHost $sim.Url -Verbose } catch { $_ }
            try { Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -CertificatePath $PfxPath -CertificatePassword (ConvertTo-TestSecureString $wrongPfxPassword) -AuthorityHost $sim.Url -Verbose } catch { $_ }
            try { Connect-CrmOnline -Url $sim.Url -DeviceCode -TenantId $sim.TenantId -ClientId '00000000-0000-4000-8000-00000000abcd' -AuthorityHost $sim.Url -Verbose } catch { $_ }
            Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -ClientSecret (ConvertTo-TestSecureString $SimClientSecret) -AuthorityHost $sim.Url -Verbose
        } *>&1 | Out-String -Width 400

        $errorsText = ($Error | ForEach-Object {
                $_ | Out-String -Width 400
                if ($null -ne $_.Exception) { $_.Exception.ToString() }
                if ($null -ne $_.ErrorDetails) { $_.ErrorDetails.Message; $_.ErrorDetails.RecommendedAction }
                [string]$_.TargetObject
            }) -join "`n"
        $moduleVariables = & (Get-Module CrmServerSideSync) { Get-Variable | Out-String -Width 400 }
        $connectionText = & (Get-Module CrmServerSideSync) { $script:DefaultConnection | Format-List * | Out-String -Width 400 }
        $everything = $captured + "`n" + $errorsText + "`n" + $moduleVariables + "`n" + $connectionText

        # The connects happened (and said so) ...
        $captured | Should -Match 'with the system-assigned managed identity'
        $captured | Should -Match 'with the client certificate in'
        $captured | Should -Match 'AADSTS700027'
        $captured | Should -Match 'refused to issue a token'
        # ... without any secret. The simulator issues tokens that start with "sim-".
        foreach ($secret in @($IdentityHeader, $wrongHeader, $PfxPassword, $wrongPfxPassword, $SimClientSecret)) {
            $everything | Should -Not -Match ([regex]::Escape($secret))
        }
        $everything | Should -Not -Match 'sim-issued-'
        $everything | Should -Not -Match 'sim-refresh-'
        $everything | Should -Not -Match 'sim-device-'
        $everything | Should -Not -Match '@@CRMSYNC_SECRET'
        $everything | Should -Not -Match 'eyJ[0-9A-Za-z_-]{10,}'
        Disconnect-CrmOnline
    }
}
