# The configuration procedure at scale and at its edges, through the module, against the simulator:
# the whole setup on 320 mailboxes (and its idempotent second run), -WhatIf against the real run,
# the -Wait timeout of Test & Enable, an unknown email server profile, and cancelling a bulk
# operation from the pipeline (Select-Object -First). Each Describe starts its own simulator.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force -ErrorAction Stop
    $exoName = 'Microsoft Exchange Online'
    $simPath = Get-DataverseSimPath -Configuration $BuildConfiguration

    # The columns the procedure writes, as one comparable line per mailbox.
    function Get-MailboxState {
        @(Get-CrmMailbox | Sort-Object MailboxId | ForEach-Object {
                '{0}|{1}|{2}|{3}|{4}|{5}|{6}|{7}|{8}' -f $_.MailboxId, $_.ServerProfileId, $_.IncomingEmail, $_.OutgoingEmail, $_.AppointmentsContactsTasks, $_.ApprovalStatus, $_.MailboxStatus, $_.SyncWithThisOrgOnly, $_.State
            })
    }
}

AfterAll {
    if (Get-Module CrmServerSideSync) {
        Disconnect-CrmOnline
        Remove-Module CrmServerSideSync -Force
    }
}

Describe 'Invoke-CrmExchangeOnlineSetup on 300 users and 20 queues' {
    BeforeAll {
        $sim = Start-DataverseSim -Mailboxes 300 -Queues 20 -TestDelayMs 300 -Path $simPath
        $null = Connect-TestSimulator -Simulator $sim
        $before = @(Get-CrmMailbox)
        $active = @($before | Where-Object { $_.State -eq 'Active' })
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'configures, approves and tests every active mailbox; the report matches what is read back' {
        $active.Count | Should -BeGreaterThan 300
        $err = $null
        $script:report = Invoke-CrmExchangeOnlineSetup -Wait -Timeout 120 -PollInterval 200 -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        @($err).Count | Should -Be 0
        $report.WhatIf | Should -BeFalse
        $report.Failed | Should -Be 0
        $report.MailboxCount | Should -Be $active.Count
        $report.Mailboxes.Count | Should -Be $active.Count
        @($report.Mailboxes | ForEach-Object { $_.MailboxId } | Sort-Object) | Should -Be @($active | ForEach-Object { $_.MailboxId } | Sort-Object)

        $defaults = Get-CrmMailboxDefaults
        $defaults.ServerProfileName | Should -Be $exoName
        $defaults.IncomingEmail | Should -Be 'ServerSideSync'
        $defaults.OutgoingEmail | Should -Be 'ServerSideSync'
        $defaults.AppointmentsContactsTasks | Should -Be 'ServerSideSync'

        $after = @(Get-CrmMailbox)
        $afterActive = @($after | Where-Object { $_.State -eq 'Active' })
        $afterActive.Count | Should -Be $active.Count
        foreach ($m in $afterActive) {
            $m.ServerProfileName | Should -Be $exoName -Because $m.Name
            $m.IncomingEmail | Should -Be 'ServerSideSync' -Because $m.Name
            $m.OutgoingEmail | Should -Be 'ServerSideSync' -Because $m.Name
            $m.AppointmentsContactsTasks | Should -Be 'ServerSideSync' -Because $m.Name
            $m.ApprovalStatus | Should -Be 'Approved' -Because $m.Name
            $m.MailboxStatus | Should -Be 'Success' -Because $m.Name
        }
        # Inactive mailboxes are not touched.
        foreach ($m in @($before | Where-Object { $_.State -ne 'Active' })) {
            $read = $after | Where-Object { $_.MailboxId -eq $m.MailboxId }
            $read.IncomingEmail | Should -Be $m.IncomingEmail -Because "$($m.Name) is inactive"
            $read.ServerProfileId | Should -Be $m.ServerProfileId -Because "$($m.Name) is inactive"
        }

        # Step counts agree with the rows and with what was read before and after.
        foreach ($stepName in 'MailboxSettings', 'ApproveEmail', 'TestAndEnable') {
            $step = $report.Steps | Where-Object { $_.Step -eq $stepName }
            $step | Should -Not -BeNullOrEmpty
            foreach ($outcome in 'Planned', 'Changed', 'Unchanged', 'Failed', 'Scheduled', 'Succeeded', 'TimedOut') {
                $step.$outcome | Should -Be @($report.Mailboxes | Where-Object { $_.$stepName -eq $outcome }).Count -Because "$stepName $outcome"
            }
        }
        $settings = $report.Steps | Where-Object { $_.Step -eq 'MailboxSettings' }
        $needSettings = @($active | Where-Object { $_.ServerProfileName -ne $exoName -or $_.IncomingEmail -ne 'ServerSideSync' -or $_.OutgoingEmail -ne 'ServerSideSync' -or $_.AppointmentsContactsTasks -ne 'ServerSideSync' })
        $settings.Changed | Should -Be $needSettings.Count
        $settings.Changed + $settings.Unchanged | Should -Be $active.Count
        $approve = $report.Steps | Where-Object { $_.Step -eq 'ApproveEmail' }
        $approve.Changed | Should -Be @($active | Where-Object { $_.ApprovalStatus -ne 'Approved' }).Count
        $test = $report.Steps | Where-Object { $_.Step -eq 'TestAndEnable' }
        $report.AlreadyWorking | Should -Not -BeNullOrEmpty
        $test.Succeeded | Should -Be ($active.Count - $report.AlreadyWorking)
        $test.Succeeded + $test.Unchanged | Should -Be $active.Count
        # A mailbox already working before the run needed no change and was Success already.
        foreach ($row in @($report.Mailboxes | Where-Object { $_.TestAndEnable -eq 'Unchanged' })) {
            $was = $active | Where-Object { $_.MailboxId -eq $row.MailboxId }
            $was.MailboxStatus | Should -Be 'Success' -Because "$($row.Name) was already working"
            $row.MailboxSettings | Should -Be 'Unchanged' -Because "$($row.Name) was already working"
        }
        # A mailbox not Success before the run was tested.
        foreach ($m in @($active | Where-Object { $_.MailboxStatus -ne 'Success' })) {
            ($report.Mailboxes | Where-Object { $_.MailboxId -eq $m.MailboxId }).TestAndEnable | Should -Be 'Succeeded' -Because $m.Name
        }
        $report.Mailboxes | ForEach-Object { $_.Result | Should -BeIn @('Working', 'AlreadyWorking') -Because $_.Name }
        # Tested rows carry the statuses the test produced.
        $report.Mailboxes | Where-Object { $_.Result -eq 'Working' } | ForEach-Object {
            $_.MailboxStatus | Should -Be 'Success' -Because $_.Name
            $_.IncomingEmailStatus | Should -Be 'Success' -Because $_.Name
            $_.OutgoingEmailStatus | Should -Be 'Success' -Because $_.Name
            $_.ActStatus | Should -Be 'Success' -Because $_.Name
        }
    }

    It 'a second run changes nothing, plans nothing and fails nothing' {
        $before2 = Get-MailboxState
        $again = Invoke-CrmExchangeOnlineSetup -Wait -Timeout 120 -PollInterval 200 -Confirm:$false -ErrorAction Stop
        foreach ($step in $again.Steps) {
            $step.Changed | Should -Be 0 -Because $step.Step
            $step.Planned | Should -Be 0 -Because $step.Step
            $step.Failed | Should -Be 0 -Because $step.Step
            $step.Scheduled | Should -Be 0 -Because $step.Step
            $step.Succeeded | Should -Be 0 -Because $step.Step
            $step.TimedOut | Should -Be 0 -Because $step.Step
        }
        $again.Failed | Should -Be 0
        $again.AlreadyWorking | Should -Be $active.Count
        @($again.OrganizationChanges).Count | Should -Be 0
        $again.Mailboxes | ForEach-Object { $_.Result | Should -Be 'AlreadyWorking' }
        Get-MailboxState | Should -Be $before2
    }
}

Describe 'Invoke-CrmExchangeOnlineSetup -WhatIf against the real run' {
    BeforeAll {
        $sim = Start-DataverseSim -Mailboxes 40 -Queues 5 -TestDelayMs 300 -Path $simPath
        $null = Connect-TestSimulator -Simulator $sim
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'writes nothing, and plans exactly the mailbox changes the real run makes' {
        $before = Get-MailboxState
        $defaultsBefore = Get-CrmMailboxDefaults | ConvertTo-Json -Compress
        $plan = Invoke-CrmExchangeOnlineSetup -WhatIf
        Get-MailboxState | Should -Be $before
        (Get-CrmMailboxDefaults | ConvertTo-Json -Compress) | Should -Be $defaultsBefore
        $plan.WhatIf | Should -BeTrue
        $plan.Failed | Should -Be 0

        $plannedSettings = @($plan.Mailboxes | Where-Object { $_.MailboxSettings -eq 'Planned' } | ForEach-Object { $_.MailboxId } | Sort-Object)
        $plannedApproval = @($plan.Mailboxes | Where-Object { $_.ApproveEmail -eq 'Planned' } | ForEach-Object { $_.MailboxId } | Sort-Object)
        $plannedSettings.Count | Should -BeGreaterThan 0
        ($plan.Steps | Where-Object { $_.Step -eq 'MailboxSettings' }).Planned | Should -Be $plannedSettings.Count

        $real = Invoke-CrmExchangeOnlineSetup -Wait -Timeout 60 -PollInterval 200 -Confirm:$false -ErrorAction Stop
        $changedSettings = @($real.Mailboxes | Where-Object { $_.MailboxSettings -eq 'Changed' } | ForEach-Object { $_.MailboxId } | Sort-Object)
        $changedApproval = @($real.Mailboxes | Where-Object { $_.ApproveEmail -eq 'Changed' } | ForEach-Object { $_.MailboxId } | Sort-Object)
        $changedSettings | Should -Be $plannedSettings
        $changedApproval | Should -Be $plannedApproval
        # Test & Enable: planned for exactly the mailboxes the real run tested.
        $plannedTests = @($plan.Mailboxes | Where-Object { $_.TestAndEnable -eq 'Planned' } | ForEach-Object { $_.MailboxId } | Sort-Object)
        @($real.Mailboxes | Where-Object { $_.TestAndEnable -eq 'Succeeded' } | ForEach-Object { $_.MailboxId } | Sort-Object) | Should -Be $plannedTests
        # The planned column changes are the changes made, mailbox by mailbox (the plan also names
        # the scheduling of the test, which the real run reports as its TestAndEnable outcome).
        foreach ($row in @($plan.Mailboxes | Where-Object { $_.Result -eq 'WillChange' })) {
            $planned = @($row.Changes -split '; ' | Where-Object { $_ -notmatch '^TestEmailConfigurationScheduled:' }) -join '; '
            ($real.Mailboxes | Where-Object { $_.MailboxId -eq $row.MailboxId }).Changes | Should -Be $planned -Because $row.Name
        }
        # And what was read back before differs from what is read back after exactly on the planned mailboxes.
        $after = Get-MailboxState
        $differ = @(for ($i = 0; $i -lt $before.Count; $i++) {
                $b = $before[$i].Split('|'); $a = $after[$i].Split('|')
                $a[0] | Should -Be $b[0]
                # Profile, delivery methods and approval (not the test status).
                if (($b[1..5] -join '|') -ne ($a[1..5] -join '|')) { $b[0] }
            })
        @($differ | Sort-Object) | Should -Be @(@($plannedSettings) + @($plannedApproval) | Sort-Object -Unique)
        ($plan.OrganizationChanges | ForEach-Object { "$($_.Field)" } | Sort-Object) | Should -Not -BeNullOrEmpty
        (Get-CrmMailboxDefaults).IncomingEmail | Should -Be 'ServerSideSync'
    }
}

Describe 'Enable-CrmMailbox -Wait reaching its -Timeout' {
    BeforeAll {
        $sim = Start-DataverseSim -Mailboxes 6 -Queues 1 -TestDelayMs 20000 -Path $simPath
        $null = Connect-TestSimulator -Simulator $sim
        $active = @(Get-CrmMailbox | Where-Object { $_.State -eq 'Active' })
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'reports TimedOut per mailbox, says the test goes on in the service, and returns within seconds' {
        $err = $null
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $results = @(Enable-CrmMailbox -All -Wait -Timeout 1 -PollInterval 200 -ErrorVariable err -ErrorAction SilentlyContinue)
        $watch.Stop()
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 8
        $results.Count | Should -Be $active.Count
        $results | ForEach-Object {
            $_.Outcome | Should -Be 'TimedOut' -Because $_.Name
        }
        $text = (@($results | ForEach-Object { "$($_.Error)" }) + @($err | ForEach-Object { "$($_.Exception.Message) $($_.ErrorDetails.RecommendedAction)" })) -join "`n"
        $text | Should -Match 'continu|still running|goes on|in the service'
    }
}

Describe 'An unknown email server profile' {
    BeforeAll {
        $sim = Start-DataverseSim -Mailboxes 10 -Queues 2 -TestDelayMs 300 -Path $simPath
        $null = Connect-TestSimulator -Simulator $sim
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'Set-CrmMailbox -All -ServerProfile <unknown>: a clear error naming the profile; nothing written' {
        $before = Get-MailboxState
        $failure = $null
        try { Set-CrmMailbox -All -ServerProfile 'No such profile' -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        "$($failure.CategoryInfo.Category) $($failure.FullyQualifiedErrorId)" | Should -Match 'ObjectNotFound|NotFound'
        $failure.Exception.Message | Should -Match 'No such profile'
        "$($failure.Exception.Message) $($failure.ErrorDetails.RecommendedAction)" | Should -Match 'Get-CrmEmailServerProfile'
        Get-MailboxState | Should -Be $before
    }

    It 'Enable-CrmMailbox -ServerProfile with a quote: a clear error naming the profile (no OData injection); nothing tested' {
        $before = Get-MailboxState
        $name = "x' or name ne 'y"
        $failure = $null
        $out = New-Object System.Collections.ArrayList
        try { Enable-CrmMailbox -ServerProfile $name -ErrorAction Stop | ForEach-Object { [void]$out.Add($_) } } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $out.Count | Should -Be 0
        "$($failure.CategoryInfo.Category) $($failure.FullyQualifiedErrorId)" | Should -Match 'ObjectNotFound|NotFound'
        $failure.Exception.Message | Should -Match ([regex]::Escape($name))
        "$($failure.Exception.Message) $($failure.ErrorDetails.RecommendedAction)" | Should -Match 'Get-CrmEmailServerProfile'
        Get-MailboxState | Should -Be $before
    }
}

Describe 'Cancelling a bulk operation from the pipeline (Select-Object -First)' {
    BeforeAll {
        $extra = @()
        if (Test-DataverseSimOption -Name '--latency-ms' -Path $simPath) { $extra = @('--latency-ms', '250') }
        $sim = Start-DataverseSim -Mailboxes 300 -Queues 20 -TestDelayMs 300 -ArgumentList $extra -Path $simPath
        $null = Connect-TestSimulator -Simulator $sim
        # Every active mailbox starts as ServerSideSync, so the cancelled run has a change for each
        # (mailboxes already as requested would be reported first, as Unchanged). This full run
        # is the reference time.
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $null = Set-CrmMailbox -All -OutgoingEmail ServerSideSync -ErrorAction Stop
        $watch.Stop()
        $fullSeconds = $watch.Elapsed.TotalSeconds
        $active = @(Get-CrmMailbox | Where-Object { $_.State -eq 'Active' })
        $toChange = @($active | Where-Object { $_.OutgoingEmail -ne 'None' })
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'Set-CrmMailbox -All -OutgoingEmail None -PassThru | Select-Object -First 5 stops early; a rerun converges' {
        $toChange.Count | Should -Be $active.Count
        # A fresh connection, like the reference run's: a connection carries the batch size it
        # learned over to its next run, and 320 mailboxes fit in one learned batch, which no
        # cancellation can call back once sent. Starting small is what this test cancels into.
        $null = Connect-TestSimulator -Simulator $sim
        $err = $null
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $first = @(Set-CrmMailbox -All -OutgoingEmail None -PassThru -ErrorVariable err | Select-Object -First 5)
        $watch.Stop()
        $partialSeconds = $watch.Elapsed.TotalSeconds
        @($err).Count | Should -Be 0
        $first.Count | Should -Be 5
        $first | ForEach-Object { $_.Outcome | Should -Be 'Changed' -Because $_.Name }
        # Let any write the service had already accepted land before reading back.
        Start-Sleep -Milliseconds 500
        $read = @{}
        Get-CrmMailbox | Where-Object { $_.State -eq 'Active' } | ForEach-Object { $read[$_.MailboxId] = $_ }
        foreach ($r in $first) {
            $read[$r.MailboxId].OutgoingEmail | Should -Be 'None' -Because "$($r.Name) was reported $($r.Outcome)"
        }
        $changedNow = @($toChange | Where-Object { $read[$_.MailboxId].OutgoingEmail -eq 'None' })
        Write-Host "Full run: $([math]::Round($fullSeconds, 2)) s; cancelled run (first 5): $([math]::Round($partialSeconds, 2)) s; changed when cancelled: $($changedNow.Count) of $($toChange.Count)"
        $changedNow.Count | Should -BeGreaterOrEqual 5
        $changedNow.Count | Should -BeLessThan $toChange.Count -Because 'the operation was cancelled'
        $partialSeconds | Should -BeLessThan ($fullSeconds * 0.9) -Because "a full run took $fullSeconds s"

        # The same command again finishes the job: it changes exactly the rest.
        $rest = @(Set-CrmMailbox -All -OutgoingEmail None -PassThru -ErrorAction Stop)
        $rest.Count | Should -Be $active.Count
        @($rest | Where-Object { $_.Outcome -eq 'Changed' }).Count | Should -Be ($toChange.Count - $changedNow.Count)
        @($rest | Where-Object { $_.Outcome -eq 'Failed' }).Count | Should -Be 0
        @(Get-CrmMailbox | Where-Object { $_.State -eq 'Active' -and $_.OutgoingEmail -ne 'None' }).Count | Should -Be 0
    }
}
