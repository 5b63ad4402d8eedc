# Several environments in one run: Connect-CrmOnline -Url a,b,c and Invoke-CrmExchangeOnlineSetup
# -Connection a,b,c against separate simulator processes (one per environment), compared with a
# single-environment run on a fourth simulator with the same seed (requests from /_sim/stats).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force -ErrorAction Stop

    function Start-EnvironmentSimulator {
        Start-DataverseSim -Mailboxes 40 -Queues 4 -ArgumentList '--latency-ms', '5' -Path (Get-DataverseSimPath -Configuration $BuildConfiguration)
    }
    function Get-SimRequests([object] $Simulator) {
        [int](Invoke-RestMethod -Uri "$($Simulator.Url)/_sim/stats").requests
    }
    function Get-SyncedMailboxes([object] $Simulator) {
        $rows = (Invoke-RestMethod -Uri "$($Simulator.Url)/api/data/v9.2/mailboxes?`$select=incomingemaildeliverymethod,outgoingemaildeliverymethod,actdeliverymethod,emailrouteraccessapproval" -Headers @{ Authorization = 'Bearer sim-token-admin' }).value
        @($rows | Where-Object { $_.incomingemaildeliverymethod -eq 2 -and $_.outgoingemaildeliverymethod -eq 2 -and $_.actdeliverymethod -eq 1 -and $_.emailrouteraccessapproval -eq 1 }).Count
    }
    $token = ConvertTo-TestSecureString 'sim-token-admin'
}

AfterAll {
    if (Get-Module CrmServerSideSync) {
        Disconnect-CrmOnline
        Remove-Module CrmServerSideSync -Force
    }
}

Describe 'Three environments in one run' {
    BeforeAll {
        $sims = @(Start-EnvironmentSimulator; Start-EnvironmentSimulator; Start-EnvironmentSimulator)
        $single = Start-EnvironmentSimulator
    }
    AfterAll {
        foreach ($s in @($sims) + @($single)) { if ($null -ne $s) { Stop-DataverseSim -Simulator $s } }
    }

    It 'Connect-CrmOnline -Url a,b,c returns one connection per environment; an unreachable one fails alone' {
        $urls = @($sims | ForEach-Object { $_.Url })
        $connections = @(Connect-CrmOnline -Url ($urls + 'http://127.0.0.1:1') -AccessToken $token -TimeoutSeconds 5 -MaxRetries 0 -ErrorVariable problems -ErrorAction SilentlyContinue)
        $connections.Count | Should -Be 3
        @($connections | ForEach-Object { $_.Url }) | Should -Be $urls
        # -ErrorVariable also collects the inner connect's records: the module's own records name the URL.
        $records = @($problems | Where-Object { $_.FullyQualifiedErrorId -like 'CrmSync.*' })
        $records.Count | Should -BeGreaterThan 0
        @($records | Where-Object { [string]$_.TargetObject -ne 'http://127.0.0.1:1' }).Count | Should -Be 0 -Because 'only the unreachable environment failed'
        $records[0].Exception.Message | Should -Match 'Connection refused|failed'
    }

    It 'sets up all three concurrently, with per-environment summaries and the requests of a single run each' {
        $connections = @(Connect-CrmOnline -Url @($sims | ForEach-Object { $_.Url }) -AccessToken $token)
        $singleConnection = Connect-CrmOnline -Url $single.Url -AccessToken $token

        # The single run first: the one-time costs of the first setup in this session fall on it.
        $singleBefore = Get-SimRequests $single
        $singleTime = Measure-Command { $script:one = Invoke-CrmExchangeOnlineSetup -Connection $singleConnection -Confirm:$false }
        $singleRequests = (Get-SimRequests $single) - $singleBefore

        $before = @($sims | ForEach-Object { Get-SimRequests $_ })
        $multiTime = Measure-Command { $script:multi = Invoke-CrmExchangeOnlineSetup -Connection $connections -Confirm:$false }
        $perEnvironment = @(for ($i = 0; $i -lt 3; $i++) { (Get-SimRequests $sims[$i]) - $before[$i] })

        Write-Host ("Three environments: {0} requests each ({1} in all), {2:N2} s wall time; one environment: {3} requests, {4:N2} s." -f ($perEnvironment -join '/'), ($perEnvironment | Measure-Object -Sum).Sum, $multiTime.TotalSeconds, $singleRequests, $singleTime.TotalSeconds)

        $multi.PSTypeNames | Should -Contain 'CrmServerSideSync.MultiEnvironmentSetupReport'
        $multi.EnvironmentCount | Should -Be 3
        $multi.FailedEnvironments | Should -Be 0
        @($multi.Environments | ForEach-Object { $_.Status }) | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
        @($multi.Environments | ForEach-Object { $_.MailboxCount }) | Should -Be @(44, 44, 44)
        @($multi.Environments | ForEach-Object { $_.Report.Environment }) | Should -Be @($connections | ForEach-Object { "$($_.OrganizationName) ($($_.Url))" })
        $multi.Mailboxes.Count | Should -Be 132
        @($multi.Mailboxes | Where-Object { [string]::IsNullOrEmpty($_.Environment) }).Count | Should -Be 0
        @($multi.Mailboxes | Group-Object Environment).Count | Should -Be 3
        $multi.Summary | Should -Match '3 environment\(s\): 3 completed, 0 failed; 132 mailbox'
        foreach ($s in $sims) { Get-SyncedMailboxes $s | Should -Be 44 }
        $one.MailboxCount | Should -Be 44
        # The same requests as a single run: the ownership check compares the rows each
        # environment's selection read returned anyway.
        # (A run that did its work: readiness reads, the defaults, the writes and the polls,
        # ten requests for 44 mailboxes since their writes share batches.)
        $singleRequests | Should -BeGreaterThan 5
        foreach ($n in $perEnvironment) { $n | Should -Be $singleRequests }
    }

    It 'Get-CrmMailbox -Connection a,b,c reads every environment, each mailbox with its Environment' {
        $connections = @(Connect-CrmOnline -Url @($sims | ForEach-Object { $_.Url }) -AccessToken $token)
        $all = @(Get-CrmMailbox -Connection $connections)
        $all.Count | Should -Be 132
        $groups = @($all | Group-Object Environment | Sort-Object Name)
        @($groups | ForEach-Object { $_.Count }) | Should -Be @(44, 44, 44)
        @($groups | ForEach-Object { $_.Name }) | Should -Be @($connections | ForEach-Object { "$($_.OrganizationName) ($($_.Url))" } | Sort-Object)
        @($all | Where-Object IncomingEmail -ne 'ServerSideSync').Count | Should -Be 0
    }
}

Describe 'One environment failing does not stop the others' {
    BeforeAll {
        $sims = @(Start-EnvironmentSimulator; Start-EnvironmentSimulator; Start-EnvironmentSimulator)
    }
    AfterAll {
        foreach ($s in $sims) { Stop-DataverseSim -Simulator $s }
    }

    It 'an environment where the caller lacks the privileges fails alone, with its reason' {
        $admin = @(Connect-CrmOnline -Url $sims[0].Url, $sims[2].Url -AccessToken $token)
        $reader = Connect-CrmOnline -Url $sims[1].Url -AccessToken (ConvertTo-TestSecureString 'sim-token-reader')
        $report = Invoke-CrmExchangeOnlineSetup -Connection $admin[0], $reader, $admin[1] -Confirm:$false -ErrorVariable problems -ErrorAction SilentlyContinue
        @($report.Environments | ForEach-Object { $_.Status }) | Should -Be @('Succeeded', 'Failed', 'Succeeded')
        $failed = $report.Environments[1]
        $failed.Url | Should -Be $sims[1].Url
        $failed.Error | Should -Match '(?i)privilege|permission|access'
        $report.FailedEnvironments | Should -Be 1
        $report.Summary | Should -Match '3 environment\(s\): 2 completed, 1 failed; 88 mailbox'
        $environmentErrors = @($problems | Where-Object { $_.TargetObject -and $_.TargetObject.PSObject.TypeNames -contains 'CrmServerSideSync.EnvironmentSetupResult' })
        $environmentErrors.Count | Should -Be 1
        $environmentErrors[0].ErrorDetails.Message | Should -Match ([regex]::Escape($sims[1].Url))
        Get-SyncedMailboxes $sims[0] | Should -Be 44
        Get-SyncedMailboxes $sims[2] | Should -Be 44
        Get-SyncedMailboxes $sims[1] | Should -Be 0
    }
}

Describe 'The same address configured in two environments' {
    BeforeAll {
        $sims = @(Start-EnvironmentSimulator; Start-EnvironmentSimulator)
        $a = Connect-CrmOnline -Url $sims[0].Url -AccessToken $token
        $b = Connect-CrmOnline -Url $sims[1].Url -AccessToken $token
        # Production (a) synchronizes everything and holds the organization-primary flag.
        $null = Invoke-CrmExchangeOnlineSetup -Connection $a -SyncWithThisOrgOnly -Wait -PollInterval 200 -Timeout 60 -Confirm:$false
        # The copy (b) has two mailboxes configured for server-side sync too.
        $script:shared = @(Get-CrmMailbox -Connection $b | Sort-Object Name | Select-Object -First 2)
        $shared | Set-CrmMailbox -Connection $b -ServerProfile 'Microsoft Exchange Online' -IncomingEmail ServerSideSync -OutgoingEmail ServerSideSync -AppointmentsContactsTasks ServerSideSync -Confirm:$false
    }
    AfterAll {
        foreach ($s in $sims) { Stop-DataverseSim -Simulator $s }
    }

    It 'Test-CrmMailboxOwnership reports the addresses both synchronize and which holds the primary flag' {
        $report = @(Test-CrmMailboxOwnership -Connection $a, $b)
        # The two configured above, and those the seed already configured in both.
        $bothSynchronize = @(Get-CrmMailbox -Connection $b | Where-Object { $_.IncomingEmail -eq 'ServerSideSync' -or $_.OutgoingEmail -eq 'ServerSideSync' -or $_.AppointmentsContactsTasks -eq 'ServerSideSync' })
        $bothSynchronize.Count | Should -BeGreaterThan 2
        @($report | ForEach-Object { $_.EmailAddress } | Sort-Object) | Should -Be @($bothSynchronize | ForEach-Object { $_.EmailAddress } | Sort-Object)
        foreach ($m in $shared) { @($report | ForEach-Object { $_.EmailAddress }) | Should -Contain $m.EmailAddress }
        $envA = "$($a.OrganizationName) ($($a.Url))"
        foreach ($r in $report) {
            $r.PSTypeNames | Should -Contain 'CrmServerSideSync.MailboxOwnership'
            $r.Environments.Count | Should -Be 2
            $r.Primary | Should -Be @($envA)
            $r.Owners | Should -Be @($envA)
        }
        { Test-CrmMailboxOwnership -Connection $a -ErrorAction Stop } | Should -Throw '*at least two*'
    }

    It 'Enable-CrmMailbox refuses an address another environment owns unless -Force' {
        $id = $shared[0].MailboxId
        $results = @(Enable-CrmMailbox -MailboxId $id -Connection $b -OtherEnvironment $a -Confirm:$false -ErrorVariable refused -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 0
        $mine = @($refused | Where-Object { $_.FullyQualifiedErrorId -like 'CrmSync.OwnedByAnotherEnvironment*' })
        $mine.Count | Should -Be 1
        $mine[0].Exception.Message | Should -Match ([regex]::Escape($shared[0].EmailAddress))
        $row = Invoke-RestMethod -Uri "$($sims[1].Url)/api/data/v9.2/mailboxes($id)?`$select=testemailconfigurationscheduled,mailboxstatus" -Headers @{ Authorization = 'Bearer sim-token-admin' }
        $row.testemailconfigurationscheduled | Should -BeFalse
        $row.mailboxstatus | Should -Be 0

        $forced = @(Enable-CrmMailbox -MailboxId $id -Connection $b -OtherEnvironment $a -Force -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue)
        $forced.Count | Should -Be 1
        $forced[0].Outcome | Should -Be 'Scheduled'
        ($warned -join ' ') | Should -Match 'Going on \(-Force\)'
    }

    It 'with a narrower selection, an environment reads the addresses the others selected to find their owner' {
        # Production has tested every mailbox, so this filter selects none there, and in the copy
        # only its untested mailboxes: production learns the copy's addresses in the first round
        # and reads them by address, and the copy leaves out the ones production owns.
        $untested = @(Get-CrmMailbox -Connection $b | Where-Object { $_.MailboxStatus -ne 'Success' })
        $untested.Count | Should -BeGreaterThan 0
        $before = Get-SimRequests $sims[0]
        $report = Invoke-CrmExchangeOnlineSetup -Connection $a, $b -Filter 'mailboxstatus ne 1' -WhatIf -WarningAction SilentlyContinue
        $report.Environments[0].MailboxCount | Should -Be 0
        @($report.Environments[1].Refused | Sort-Object) | Should -Be @($untested | ForEach-Object { $_.EmailAddress } | Sort-Object)
        $report.Environments[1].MailboxCount | Should -Be 0
        # Production's run: its own selection read plus the read of the copy's addresses.
        $single = Get-SimRequests $sims[0]
        $null = Invoke-CrmExchangeOnlineSetup -Connection $a -Filter 'mailboxstatus ne 1' -WhatIf
        ((Get-SimRequests $sims[0]) - $single) | Should -Be (($single - $before) - 1)
    }

    It 'the multi-environment setup leaves an owned address out of the other environment' {
        $report = Invoke-CrmExchangeOnlineSetup -Connection $a, $b -Confirm:$false -WarningAction SilentlyContinue
        # Production owns every address (same seed): the copy sets up none of them.
        $copy = $report.Environments[1]
        $copy.Refused.Count | Should -Be 44
        $copy.Refused | Should -Contain $shared[1].EmailAddress
        $copy.MailboxCount | Should -Be 0
        $report.Environments[0].Refused.Count | Should -Be 0
        $report.Environments[0].Report.AlreadyWorking | Should -Be 44
        $row = Invoke-RestMethod -Uri "$($sims[1].Url)/api/data/v9.2/mailboxes($($shared[1].MailboxId))?`$select=testemailconfigurationscheduled,mailboxstatus" -Headers @{ Authorization = 'Bearer sim-token-admin' }
        $row.mailboxstatus | Should -Be 0 -Because 'the copy did not test the address production owns'
    }
}

Describe 'Get-CrmMailboxHealth over several environments' {
    BeforeAll {
        $healthSims = @(Start-EnvironmentSimulator; Start-EnvironmentSimulator)
        $healthConnections = @(Connect-CrmOnline -Url @($healthSims | ForEach-Object { $_.Url }) -AccessToken $token)
    }
    AfterAll {
        foreach ($s in @($healthSims)) { if ($null -ne $s) { Stop-DataverseSim -Simulator $s } }
    }

    It 'reports every mailbox of each environment with its Environment, and one summary per environment' {
        $rows = @(Get-CrmMailboxHealth -Connection $healthConnections)
        $summaries = @(Get-CrmMailboxHealth -Connection $healthConnections -Summary)
        $summaries.Count | Should -Be 2
        foreach ($i in 0, 1) {
            $url = $healthConnections[$i].Url
            $mine = @($rows | Where-Object { $_.Environment -like "*($url)" })
            $expected = @((Invoke-RestMethod -Uri "$($healthSims[$i].Url)/api/data/v9.2/mailboxes?`$select=mailboxid" -Headers @{ Authorization = 'Bearer sim-token-admin' }).value).Count
            $mine.Count | Should -Be $expected
            $summary = @($summaries | Where-Object { $_.Url -eq $url })
            $summary.Count | Should -Be 1
            $summary[0].Mailboxes | Should -Be $expected
            $summary[0].Environment | Should -BeLike "*($url)"
        }
        # The same mailbox ids in both environments' seeds would be a coincidence: each row is its own environment's.
        @($rows | Where-Object { [string]::IsNullOrEmpty($_.Environment) }).Count | Should -Be 0
    }

    It '-FailOnUnhealthy counts the unhealthy mailboxes of every environment' {
        $thrown = $null
        try { Get-CrmMailboxHealth -Connection $healthConnections -FailOnUnhealthy | Out-Null } catch { $thrown = $_ }
        $thrown | Should -Not -BeNullOrEmpty
        $thrown.FullyQualifiedErrorId | Should -BeLike 'CrmSync.UnhealthyMailboxes*'
        @($thrown.TargetObject).Count | Should -Be 2
    }
}
