# Get-CrmEnvironment against the simulator's Global Discovery Service route: the simulator lists
# itself (OrganizationType 0, Customer: production), then the environments of its
# --discovery-instances file (here: a second simulator, OrganizationType 5, CustomerTest: a sandbox).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force -ErrorAction Stop
    $simPath = Get-DataverseSimPath -Configuration $BuildConfiguration
    $other = Start-DataverseSim -Mailboxes 2 -Queues 0 -Path $simPath
    $instancesFile = Join-Path ([System.IO.Path]::GetTempPath()) ("crmsync-discovery-{0}.json" -f [guid]::NewGuid())
    $instances = @(
        [ordered]@{ Id = '11111111-2222-4333-8444-555555555555'; UniqueName = 'unqsecond'; UrlName = 'second'; FriendlyName = 'Second Simulated'
            State = 0; Version = '9.2.24101.00123'; Url = $other.Url; ApiUrl = $other.Url; Region = 'EMEA'; OrganizationType = 5
            EnvironmentId = '66666666-7777-4888-9999-000000000000'; TenantId = '8f3c2a1e-4b5d-4c6e-9f70-1a2b3c4d5e6f' }
    )
    Set-Content -Path $instancesFile -Value (ConvertTo-Json -InputObject $instances -Depth 3) -Encoding UTF8
    $discovery = Start-DataverseSim -Mailboxes 2 -Queues 0 -Path $simPath -ArgumentList '--discovery-instances', $instancesFile
    $token = ConvertTo-TestSecureString 'sim-token-admin'
}

AfterAll {
    foreach ($s in @($discovery, $other)) { if ($null -ne $s) { Stop-DataverseSim -Simulator $s } }
    if ($instancesFile) { Remove-Item -Path $instancesFile -ErrorAction SilentlyContinue }
    if (Get-Module CrmServerSideSync) {
        Disconnect-CrmOnline
        Remove-Module CrmServerSideSync -Force
    }
}

Describe 'Get-CrmEnvironment' {
    It 'returns the environments the discovery service lists, as typed objects' {
        Connect-CrmOnline -Url $discovery.Url -AccessToken $token | Out-Null
        $environments = @(Get-CrmEnvironment -DiscoveryUrl $discovery.Url)
        $environments.Count | Should -Be 2
        $environments[0].PSObject.TypeNames[0] | Should -Be 'CrmServerSideSync.Environment'
        $environments[0].Url | Should -Be $discovery.Url.TrimEnd('/')
        $environments[0].State | Should -Be 'Enabled'
        $environments[1].Url | Should -Be $other.Url.TrimEnd('/')
        $environments[1].UniqueName | Should -Be 'unqsecond'
        $environments[1].FriendlyName | Should -Be 'Second Simulated'
        $environments[1].Region | Should -Be 'EMEA'
        $environments[1].EnvironmentId | Should -Be '66666666-7777-4888-9999-000000000000'
        @($environments | ForEach-Object { $_.EnvironmentType }) | Should -Be @('Production', 'Sandbox')
        ($environments | Format-Table | Out-String) | Should -Match 'Second Simulated'
    }

    It 'its URLs connect with Connect-CrmOnline -Url' {
        $urls = @((Get-CrmEnvironment -DiscoveryUrl $discovery.Url).Url)
        $connections = @(Connect-CrmOnline -Url $urls -AccessToken $token)
        $connections.Count | Should -Be 2
        @($connections | ForEach-Object { (Get-CrmOrganization -Connection $_).Url }) | Should -Be $urls
    }
}

Describe 'Get-CrmEnvironment piped into Connect-CrmOnline' {
    BeforeAll {
        Connect-CrmOnline -Url $discovery.Url -AccessToken $token | Out-Null
        $script:piped = @(Get-CrmEnvironment -DiscoveryUrl $discovery.Url | Connect-CrmOnline -AccessToken $token)
        function Get-PrimaryCount([object] $Simulator) {
            $rows = (Invoke-RestMethod -Uri "$($Simulator.Url)/api/data/v9.2/mailboxes?`$select=orgmarkedasprimaryforexchangesync" -Headers @{ Authorization = 'Bearer sim-token-admin' }).value
            @($rows | Where-Object { $_.orgmarkedasprimaryforexchangesync }).Count
        }
    }

    It 'connects every piped environment once the input has ended, each with its discovered type' {
        $piped.Count | Should -Be 2
        @($piped | ForEach-Object { $_.Url }) | Should -Be @($discovery.Url.TrimEnd('/'), $other.Url.TrimEnd('/'))
        @($piped | ForEach-Object { $_.EnvironmentType }) | Should -Be @('Production', 'Sandbox')
        @($piped | ForEach-Object { $_.OrganizationType }) | Should -Be @(0, 5)
        (Get-CrmOrganization -Connection $piped[1]).Url | Should -Be $other.Url.TrimEnd('/')
        # Plain strings pipe too, and a bad type is refused before any sign-in.
        @($other.Url | Connect-CrmOnline -AccessToken $token -EnvironmentType Trial)[0].EnvironmentType | Should -Be 'Trial'
        { Connect-CrmOnline -Url $other.Url -AccessToken $token -EnvironmentType Staging -ErrorAction Stop } | Should -Throw '*not an environment type*'
    }

    It 'the discovered sandbox gets the non-production guard without -Environment; -Environment overrides it' {
        { Invoke-CrmExchangeOnlineSetup -Connection $piped -SyncWithThisOrgOnly -Confirm:$false -ErrorAction Stop } | Should -Throw "*($($piped[1].Url)) (Sandbox)*"
        Get-PrimaryCount $other | Should -Be 0 -Because 'nothing was written'
        Get-PrimaryCount $discovery | Should -Be 0 -Because 'the guard runs before any environment is set up'
        $report = Invoke-CrmExchangeOnlineSetup -Connection $piped[1] -Environment Production -SyncWithThisOrgOnly -Confirm:$false
        $report.Failed | Should -Be 0
        Get-PrimaryCount $other | Should -Be 2
    }

    It 'a discovered type that names no environment type gets a warning asking for -Environment' {
        $teams = Connect-CrmOnline -Url $other.Url -AccessToken $token -OrganizationType 15
        $teams.EnvironmentType | Should -BeNullOrEmpty
        $null = Invoke-CrmExchangeOnlineSetup -Connection $teams -SyncWithThisOrgOnly -WhatIf -WarningVariable warned -WarningAction SilentlyContinue
        ($warned -join ' ') | Should -Match 'OrganizationType 15.*Pass -Environment'
    }
}
