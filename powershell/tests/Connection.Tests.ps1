# Connect / Disconnect / Get-CrmOrganization against the simulator, errors and secrets.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $sim = Start-TestSimulator
    Import-Module $ModuleManifest -Force -ErrorAction Stop
}

AfterAll {
    if (Get-Module CrmServerSideSync) {
        Disconnect-CrmOnline
        Remove-Module CrmServerSideSync -Force
    }
    Stop-DataverseSim -Simulator $sim
}

Describe 'Connect-CrmOnline' {
    AfterEach {
        Disconnect-CrmOnline
    }

    It 'connects with an access token and returns the organization' {
        $connection = Connect-TestSimulator -Simulator $sim
        $connection.PSTypeNames | Should -Contain 'CrmServerSideSync.Connection'
        $connection.Url | Should -Be $sim.Url
        $connection.OrganizationId | Should -Match '^[0-9a-fA-F-]{36}$'
        if ($sim.OrganizationId) { $connection.OrganizationId | Should -Be $sim.OrganizationId }
        $connection.OrganizationName | Should -Not -BeNullOrEmpty
        $connection.UserId | Should -Match '^[0-9a-fA-F-]{36}$'
        $connection.AuthenticationKind | Should -Be 'AccessToken'
        $connection.ConnectedAt | Should -BeOfType [datetime]
    }

    It 'connects with a client secret and returns the organization' {
        $connection = Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -ClientSecret (ConvertTo-TestSecureString $SimClientSecret) -AuthorityHost $sim.Url
        $connection.AuthenticationKind | Should -Be 'ClientSecret'
        $connection.OrganizationId | Should -Match '^[0-9a-fA-F-]{36}$'
        if ($sim.OrganizationId) { $connection.OrganizationId | Should -Be $sim.OrganizationId }
        (Get-CrmOrganization).OrganizationId | Should -Be $connection.OrganizationId
    }

    It 'makes the connection the default one' {
        $connection = Connect-TestSimulator -Simulator $sim
        $organization = Get-CrmOrganization
        $organization.PSTypeNames | Should -Contain 'CrmServerSideSync.Organization'
        $organization.OrganizationId | Should -Be $connection.OrganizationId
        $organization.UserId | Should -Be $connection.UserId
        $organization.PSObject.Properties.Name | Should -Contain 'DefaultEmailServerProfileId'
    }

    It 'keeps the native handle out of the default display' {
        $connection = Connect-TestSimulator -Simulator $sim
        $text = $connection | Format-Table | Out-String
        $text | Should -Match 'OrganizationName'
        $text | Should -Not -Match 'Client'
        ($connection | Format-List | Out-String) | Should -Not -Match 'CrmSync\.Interop'
    }

    It 'reports an expired token as an authentication error that says to reconnect, without the token' {
        $caught = $null
        try {
            Connect-CrmOnline -Url $sim.Url -AccessToken (ConvertTo-TestSecureString 'sim-token-expired') -ErrorAction Stop
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $caught.FullyQualifiedErrorId | Should -BeLike 'CrmSync.Authentication*'
        "$caught" | Should -Match 'Connect-CrmOnline'
        "$caught" | Should -Not -Match 'sim-token-expired'
        $caught.Exception.ToString() | Should -Not -Match 'sim-token-expired'
    }

    It 'rejects plain http for a non-loopback URL' {
        { Connect-CrmOnline -Url 'http://contoso.crm.dynamics.com' -AccessToken (ConvertTo-TestSecureString 'x') -ErrorAction Stop } |
            Should -Throw -ErrorId 'CrmSync.InsecureUrl,Connect-CrmOnline'
    }

    It 'rejects a URL that is not absolute' {
        { Connect-CrmOnline -Url 'contoso' -AccessToken (ConvertTo-TestSecureString 'x') -ErrorAction Stop } |
            Should -Throw -ErrorId 'CrmSync.InvalidUrl,Connect-CrmOnline'
    }
}

Describe 'Secrets' {
    It 'never shows the client secret or the token in any stream, error, or module variable' {
        $Error.Clear()
        $wrongSecret = 'wrong-secret-7f3a9c'
        $captured = & {
            Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -ClientSecret (ConvertTo-TestSecureString $SimClientSecret) -AuthorityHost $sim.Url -Verbose
            Get-CrmOrganization -Verbose
            Get-CrmEmailServerProfile -Verbose
            # Failures: the error records themselves go to the captured output too.
            try { Connect-CrmOnline -Url $sim.Url -ClientId $SimClientId -TenantId $sim.TenantId -ClientSecret (ConvertTo-TestSecureString $wrongSecret) -AuthorityHost $sim.Url -Verbose } catch { $_ }
            try { Connect-CrmOnline -Url $sim.Url -AccessToken (ConvertTo-TestSecureString 'sim-token-expired') -Verbose } catch { $_ }
            Connect-CrmOnline -Url $sim.Url -AccessToken (ConvertTo-TestSecureString 'sim-token-admin') -Verbose
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

        $captured | Should -Match 'Connecting to .* with client credentials'
        $everything | Should -Not -Match ([regex]::Escape($SimClientSecret))
        $everything | Should -Not -Match ([regex]::Escape($wrongSecret))
        $everything | Should -Not -Match 'sim-token-admin'
        $everything | Should -Not -Match 'sim-token-expired'
        $captured | Should -Match 'Invalid client secret'
        $Error.Count | Should -BeGreaterThan 0 -Because 'the wrong secret must have failed'
        Disconnect-CrmOnline
    }
}

Describe 'Without a connection' {
    BeforeEach {
        Disconnect-CrmOnline
    }

    It '<_> says to run Connect-CrmOnline first' -ForEach @('Get-CrmOrganization', 'Get-CrmEmailServerProfile', 'Get-CrmMailbox') {
        $command = $_
        { & $command -ErrorAction Stop } | Should -Throw -ExpectedMessage 'Not connected: run Connect-CrmOnline first.' -ErrorId "CrmSync.NotConnected,$command"
    }
}

Describe 'Disconnect-CrmOnline' {
    It 'clears the default connection and closes the handle' {
        $connection = Connect-TestSimulator -Simulator $sim
        InModuleScope CrmServerSideSync { $script:DefaultConnection | Should -Not -BeNullOrEmpty }
        Disconnect-CrmOnline
        InModuleScope CrmServerSideSync { $script:DefaultConnection | Should -BeNullOrEmpty }
        $connection.Client.IsDisposed | Should -BeTrue
        { Get-CrmOrganization -ErrorAction Stop } | Should -Throw -ExpectedMessage 'Not connected*'
        { Get-CrmOrganization -Connection $connection -ErrorAction Stop } | Should -Throw -ErrorId 'CrmSync.ConnectionClosed,Get-CrmOrganization'
    }

    It 'closes an explicit connection without touching the default one' {
        $first = Connect-TestSimulator -Simulator $sim
        $second = Connect-TestSimulator -Simulator $sim -Token 'sim-token-sysadmin'
        Disconnect-CrmOnline -Connection $first
        $first.Client.IsDisposed | Should -BeTrue
        (Get-CrmOrganization).UserId | Should -Be $second.UserId
        Disconnect-CrmOnline
        $second.Client.IsDisposed | Should -BeTrue
    }

    It 'does nothing when not connected' {
        Disconnect-CrmOnline
        { Disconnect-CrmOnline -ErrorAction Stop } | Should -Not -Throw
    }
}
