# Day two through the cmdlets against the simulator: Get-CrmMailboxHealth (classes, filter,
# summary, baseline, -FailOnUnhealthy) and Repair-CrmMailbox (-WhatIf, pipeline, -Wait, errors
# with the remedy, a second run, a reader).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $sim = Start-DataverseSim -Mailboxes 8 -Queues 1 -TestDelayMs 100 -SyncIntervalMs 3600000 -Path (Get-DataverseSimPath -Configuration $BuildConfiguration)
    Import-Module $ModuleManifest -Force -ErrorAction Stop
    $null = Connect-TestSimulator -Simulator $sim
    $wait = @{ Wait = $true; PollInterval = 100; Timeout = 60 }

    function Invoke-Sim([string] $Method, [string] $Path, [object] $Body) {
        $json = $null
        if ($null -ne $Body) { $json = $Body | ConvertTo-Json -Depth 5 -Compress }
        Invoke-RestMethod -Method $Method -Uri ($sim.Url.TrimEnd('/') + $Path) -Body $json -ContentType 'application/json'
    }
    function Get-Writes { [int](Invoke-Sim GET '/_sim/stats' $null).write_operations }
    function Set-SimMailbox([string] $Id, [hashtable] $Values) { $null = Invoke-Sim PATCH "/_sim/rows/mailboxes/$Id" $Values }
    function Add-SimFailure([string] $Id, [string] $Kind) { $null = Invoke-Sim POST "/_sim/mailboxes/$Id/failure" @{ kind = $Kind } }
    function Reset-Org {
        $null = Invoke-Sim POST '/_sim/reset' $null
        $null = Invoke-CrmExchangeOnlineSetup @wait -Confirm:$false -ErrorAction Stop
    }
    function Get-Users { @(Get-CrmMailbox | Where-Object OwnerType -eq 'systemuser' | Sort-Object Name) }
    function Hours([int] $h) { [DateTime]::UtcNow.AddHours($h).ToString('yyyy-MM-ddTHH:mm:ssZ') }
}

AfterAll {
    if (Get-Module CrmServerSideSync) {
        Disconnect-CrmOnline
        Remove-Module CrmServerSideSync -Force
    }
    Stop-DataverseSim -Simulator $sim
}

Describe 'Get-CrmMailboxHealth' {
    BeforeAll { Reset-Org }

    It 'reports every mailbox Healthy after the setup, as typed rows with a format view' {
        $rows = @(Get-CrmMailboxHealth)
        $rows.Count | Should -Be 9
        $rows | ForEach-Object { $_.Health | Should -Be 'Healthy' }
        $rows[0].GetType().FullName | Should -Be 'CrmServerSideSync.MailboxHealth'
        $rows[0].MailboxStatus | Should -Be 'Success'
        $rows[0].TestCompletedOn | Should -BeOfType [datetime]
        ($rows | Format-Table | Out-String) | Should -Match 'Healthy'
    }

    It 'classifies each seeded state, filters by -Health and counts in the summary' {
        $u = Get-Users
        Set-SimMailbox $u[1].MailboxId @{ _emailserverprofile_value = $null }
        Set-SimMailbox $u[2].MailboxId @{ emailrouteraccessapproval = 2 }
        Set-SimMailbox $u[3].MailboxId @{ incomingemailstatus = 0; outgoingemailstatus = 0; actstatus = 0; mailboxstatus = 0; testmailboxaccesscompletedon = $null }
        Set-SimMailbox $u[4].MailboxId @{ testemailconfigurationscheduled = $true; postponetestemailconfigurationuntil = (Hours 2) }
        Add-SimFailure $u[5].MailboxId 'owner-mismatch'
        Add-SimFailure $u[6].MailboxId 'license'
        Set-SimMailbox $u[7].MailboxId @{ lastsuccessfulsynccompletedon = (Hours -30); testmailboxaccesscompletedon = (Hours -31) }
        $null = Invoke-Sim PATCH "/_sim/rows/mailboxes/$($u[0].MailboxId)" @{ statecode = 1; statuscode = 2 }
        $byId = @{}
        Get-CrmMailboxHealth | ForEach-Object { $byId[$_.MailboxId] = $_ }
        $expected = 'Inactive', 'NotConfigured', 'PendingApproval', 'NotTested', 'TestScheduled', 'Failing', 'Disabled', 'Stale'
        for ($i = 0; $i -lt 8; $i++) { $byId[$u[$i].MailboxId].Health | Should -Be $expected[$i] }
        $byId[$u[5].MailboxId].Diagnosis | Should -Be 'UserPrivilegeError'
        $byId[$u[5].MailboxId].Remedy | Should -Match 'Repair-CrmMailbox applies: AssignOwner, Test'
        $byId[$u[6].MailboxId].Repairable | Should -BeFalse

        $failing = @(Get-CrmMailboxHealth -Health Failing, Disabled)
        $failing.Count | Should -Be 2
        $summary = Get-CrmMailboxHealth -Summary
        $summary.PSTypeNames | Should -Contain 'CrmServerSideSync.MailboxHealthSummary'
        $summary.Mailboxes | Should -Be 9
        $summary.Healthy | Should -Be 1
        $summary.Unhealthy | Should -Be 8
        foreach ($class in $expected) { $summary.$class | Should -Be 1 }
        @(Get-CrmMailboxHealth -StaleAfter (New-TimeSpan -Hours 48) -Health Stale).Count | Should -Be 0
    }

    It 'reports the mailboxes that changed class since a baseline given as rows, JSON or CSV' {
        $before = @(Get-CrmMailboxHealth)
        $json = Join-Path $TestDrive 'baseline.json'
        $csv = Join-Path $TestDrive 'baseline.csv'
        $before | ConvertTo-Json -Depth 3 | Set-Content -LiteralPath $json
        $before | Export-Csv -LiteralPath $csv -NoTypeInformation
        $healthy = $before | Where-Object Health -eq 'Healthy' | Select-Object -First 1
        Add-SimFailure $healthy.MailboxId 'ews-disabled'
        $cases = New-Object System.Collections.ArrayList
        [void]$cases.Add($before); [void]$cases.Add($json); [void]$cases.Add($csv)
        foreach ($baseline in $cases) {
            $null = Get-CrmMailboxHealth -Baseline $baseline -SummaryVariable s
            @($s.Changed).Count | Should -Be 1
            $s.Changed[0].MailboxId | Should -Be $healthy.MailboxId
            $s.Changed[0].From | Should -Be 'Healthy'
            $s.Changed[0].To | Should -Be 'Disabled'
        }
        $bad = Join-Path $TestDrive 'bad.csv'
        "Name,Other`nx,y" | Set-Content -LiteralPath $bad
        { Get-CrmMailboxHealth -Baseline $bad -ErrorAction Stop } | Should -Throw -ErrorId 'CrmSync.BaselineRow,Get-CrmMailboxHealth'
    }

    It '-FailOnUnhealthy fails the command after writing the rows, and passes when all are healthy' {
        { $script:rows = @(Get-CrmMailboxHealth -FailOnUnhealthy -ErrorAction Stop) } | Should -Throw -ErrorId 'CrmSync.UnhealthyMailboxes,Get-CrmMailboxHealth'
        $healthy = Get-CrmMailboxHealth -Health Healthy | Select-Object -First 1
        { $healthy | Get-CrmMailboxHealth -FailOnUnhealthy -ErrorAction Stop } | Should -Not -Throw
    }
}

Describe 'Repair-CrmMailbox' {
    BeforeAll {
        Reset-Org
        $u = Get-Users
        Add-SimFailure $u[1].MailboxId 'owner-mismatch'
        Add-SimFailure $u[2].MailboxId 'access-mode'
        Add-SimFailure $u[3].MailboxId 'license'
        Add-SimFailure $u[4].MailboxId 'ews-disabled'
        Set-SimMailbox $u[5].MailboxId @{ _emailserverprofile_value = $null }
        $repairable = @($u[1].MailboxId, $u[2].MailboxId, $u[5].MailboxId)
        $notRepairable = @($u[3].MailboxId, $u[4].MailboxId)
    }

    It '-WhatIf lists the fixes and writes nothing' {
        $writes = Get-Writes
        $plan = @(Get-CrmMailboxHealth | Where-Object Health -ne 'Healthy' | Repair-CrmMailbox -WhatIf -ErrorAction SilentlyContinue)
        Get-Writes | Should -Be $writes
        @($plan | ForEach-Object MailboxId | Sort-Object) | Should -Be @($repairable | Sort-Object)
        $plan | ForEach-Object { $_.Outcome | Should -Be 'Planned' }
        ($plan | Where-Object MailboxId -eq $repairable[0]).Fixes | Should -Match 'AssignOwner'
        ($plan | Where-Object MailboxId -eq $repairable[1]).Fixes | Should -Match 'SetAccessMode'
    }

    It 'repairs exactly the repairable piped mailboxes in one operation and reports the others with their remedy' {
        $results = @(Get-CrmMailboxHealth | Where-Object Health -ne 'Healthy' | Repair-CrmMailbox @wait -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue)
        @($results | ForEach-Object MailboxId | Sort-Object) | Should -Be @($repairable | Sort-Object)
        $results | ForEach-Object { $_.Health | Should -Be 'Healthy'; $_.Outcome | Should -Be 'Repaired' }
        $errs.Count | Should -Be 2
        foreach ($e in $errs) {
            $e.FullyQualifiedErrorId | Should -Be 'CrmSync.NotRepairable,Repair-CrmMailbox'
            $e.TargetObject.GetType().FullName | Should -Be 'CrmServerSideSync.MailboxHealth'
            $notRepairable | Should -Contain $e.TargetObject.MailboxId
            $e.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
            $e.Exception.Message | Should -Match 'Remedy:'
        }
        ($results | Format-Table | Out-String) | Should -Match 'Repaired'
        foreach ($id in $repairable) { (Get-CrmMailboxHealth -MailboxId $id).Health | Should -Be 'Healthy' }
    }

    It 'writes nothing the second time' {
        $writes = Get-Writes
        $again = @(Repair-CrmMailbox -All @wait -Confirm:$false -ErrorAction SilentlyContinue)
        $again.Count | Should -Be 0
        Get-Writes | Should -Be $writes
    }

    It 'gives a reader the health report and a clear error from the repair' {
        Add-SimFailure $u[6].MailboxId 'owner-mismatch'
        $reader = Connect-CrmOnline -Url $sim.Url -AccessToken (ConvertTo-TestSecureString 'sim-token-reader')
        try {
            @(Get-CrmMailboxHealth -Connection $reader).Count | Should -Be 9
            $writes = Get-Writes
            { Repair-CrmMailbox -All -Connection $reader -Confirm:$false -ErrorAction Stop } | Should -Throw '*prvWriteMailbox*'
            Get-Writes | Should -Be $writes
        }
        finally { $null = Connect-TestSimulator -Simulator $sim }
    }
}
