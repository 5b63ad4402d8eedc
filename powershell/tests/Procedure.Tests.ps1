# The configuration procedure through the module, against the simulator: organization defaults,
# mailbox settings, approval, Test & Enable, alerts, and the whole setup with its report.
# Each Describe starts its own simulator (the steps change its state). Test & Enable is
# asynchronous in the simulator: the tests use -Wait with a short -PollInterval, and a short test
# delay when the simulator supports --test-delay-ms.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force -ErrorAction Stop
    $exoName = 'Microsoft Exchange Online'
    $approvalDenied = 'This email address can only be approved by a user with the Global Administrator or Exchange Administrator role in Office 365 or the Delegated Mailbox Approver role in Dynamics 365.'
    # Test & Enable: results in well under a second, polled every 200 ms, never more than a minute.
    $wait = @{ Wait = $true; PollInterval = 200; Timeout = 60 }

    function Start-ProcedureSimulator {
        Start-DataverseSim -Mailboxes 20 -Queues 3 -TestDelayMs 300 -Path (Get-DataverseSimPath -Configuration $BuildConfiguration)
    }

    function Set-ExchangeOnlineDefaults {
        Set-CrmMailboxDefaults -ServerProfile $exoName -IncomingEmail ServerSideSync -OutgoingEmail ServerSideSync -AppointmentsContactsTasks ServerSideSync -ProcessEmailUsing ServerSideSync -Confirm:$false
    }

    # The columns the procedure writes, as one comparable line per mailbox.
    function Get-MailboxState {
        @(Get-CrmMailbox | Sort-Object MailboxId | ForEach-Object {
                '{0}|{1}|{2}|{3}|{4}|{5}|{6}|{7}' -f $_.MailboxId, $_.ServerProfileId, $_.IncomingEmail, $_.OutgoingEmail, $_.AppointmentsContactsTasks, $_.ApprovalStatus, $_.MailboxStatus, $_.SyncWithThisOrgOnly
            })
    }

    # Verbose lines saying a native operation was started (Invoke-CrmOperation logs one per start).
    function Get-OperationStart([object[]] $Records, [string] $Method) {
        @($Records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like "$Method on *" })
    }
}

AfterAll {
    if (Get-Module CrmServerSideSync) {
        Disconnect-CrmOnline
        Remove-Module CrmServerSideSync -Force
    }
}

Describe 'Organization defaults (Get-/Set-CrmMailboxDefaults, Set-CrmDefaultEmailServerProfile)' {
    BeforeAll {
        $sim = Start-ProcedureSimulator
        $null = Connect-TestSimulator -Simulator $sim
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'starts from the seeded defaults' {
        $d = Get-CrmMailboxDefaults
        $d.PSTypeNames | Should -Contain 'CrmServerSideSync.MailboxDefaults'
        $d.IncomingEmail | Should -Be 'None'
        $d.ServerProfileName | Should -BeNullOrEmpty
    }

    It '-WhatIf changes nothing and prints each change as a What if line' {
        $before = Get-CrmMailboxDefaults | ConvertTo-Json -Compress
        Set-CrmMailboxDefaults -ServerProfile $exoName -IncomingEmail ServerSideSync -OutgoingEmail ServerSideSync -AppointmentsContactsTasks ServerSideSync -WhatIf
        (Get-CrmMailboxDefaults | ConvertTo-Json -Compress) | Should -Be $before

        # What if lines go to the host: read them from a child PowerShell.
        $script = @"
Import-Module '$($ModuleManifest -replace "'", "''")' -ErrorAction Stop
`$null = Connect-CrmOnline -Url '$($sim.Url)' -AccessToken (ConvertTo-SecureString 'sim-token-admin' -AsPlainText -Force)
Set-CrmMailboxDefaults -ServerProfile 'Microsoft Exchange Online' -IncomingEmail ServerSideSync -OutgoingEmail ServerSideSync -WhatIf
"@
        $child = Invoke-ChildPowerShell -Script $script
        $child.Output | Should -Match 'What if: .*IncomingEmail: None -> ServerSideSync'
        $child.Output | Should -Match 'What if: .*OutgoingEmail: Outlook -> ServerSideSync'
        $child.Output | Should -Match 'What if: .*ServerProfile: \(none\) -> Microsoft Exchange Online'
        (Get-CrmMailboxDefaults | ConvertTo-Json -Compress) | Should -Be $before
    }

    It 'applies the changes and returns the defaults with -PassThru' {
        $d = Set-CrmMailboxDefaults -ServerProfile $exoName -IncomingEmail ServerSideSync -OutgoingEmail ServerSideSync -AppointmentsContactsTasks ServerSideSync -ProcessEmailUsing ServerSideSync -PassThru
        $d.IncomingEmail | Should -Be 'ServerSideSync'
        $read = Get-CrmMailboxDefaults
        $read.ServerProfileName | Should -Be $exoName
        $read.ServerProfileId | Should -Be (Get-CrmEmailServerProfile -Name $exoName).ProfileId
        $read.IncomingEmail | Should -Be 'ServerSideSync'
        $read.OutgoingEmail | Should -Be 'ServerSideSync'
        $read.AppointmentsContactsTasks | Should -Be 'ServerSideSync'
        $read.ProcessEmailUsing | Should -Be 'ServerSideSync'
        (Get-CrmEmailServerProfile -Name $exoName).IsDefault | Should -BeTrue
    }

    It 'reports no change on a second run' {
        $verbose = Set-CrmMailboxDefaults -ServerProfile $exoName -IncomingEmail ServerSideSync -OutgoingEmail ServerSideSync -AppointmentsContactsTasks ServerSideSync -Verbose 4>&1
        (@($verbose | ForEach-Object { [string]$_ }) -join "`n") | Should -Match 'already as requested'
        (@($verbose | ForEach-Object { [string]$_ }) -join "`n") | Should -Not -Match 'Changed '
    }

    It 'refuses a call with nothing to set' {
        { Set-CrmMailboxDefaults -ErrorAction Stop } | Should -Throw -ErrorId 'CrmSync.NothingToSet*'
    }

    It 'validates delivery methods with ValidateSet' {
        { Set-CrmMailboxDefaults -OutgoingEmail ForwardMailbox } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }

    It 'Set-CrmDefaultEmailServerProfile: -WhatIf leaves the retired profile inactive, then activates it and makes it the default' {
        $retired = Get-CrmEmailServerProfile -Name 'Exchange Hybrid (retired)'
        $retired | Set-CrmDefaultEmailServerProfile -WhatIf
        (Get-CrmEmailServerProfile -Name 'Exchange Hybrid (retired)').State | Should -Be 'Inactive'
        (Get-CrmMailboxDefaults).ServerProfileName | Should -Be $exoName

        $d = $retired | Set-CrmDefaultEmailServerProfile -PassThru
        $d.ServerProfileName | Should -Be 'Exchange Hybrid (retired)'
        (Get-CrmEmailServerProfile -Name 'Exchange Hybrid (retired)').State | Should -Be 'Active'

        # The default argument is the Exchange Online profile.
        (Set-CrmDefaultEmailServerProfile -PassThru).ServerProfileName | Should -Be $exoName
        (Get-CrmMailboxDefaults).ServerProfileName | Should -Be $exoName
    }
}

Describe 'Set-CrmMailbox' {
    BeforeAll {
        $sim = Start-ProcedureSimulator
        $null = Connect-TestSimulator -Simulator $sim
        Set-ExchangeOnlineDefaults
        $users = @(Get-CrmMailbox | Where-Object { $_.OwnerType -eq 'systemuser' -and $_.State -eq 'Active' })
        $queues = @(Get-CrmMailbox | Where-Object { $_.OwnerType -eq 'queue' })
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'refuses an empty selection without -All' {
        $failure = $null
        try { Set-CrmMailbox -ApplyDefaults -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -Match '^CrmSync\.EmptySelection'
        $failure.Exception.Message | Should -Match '-All'
    }

    It 'does nothing for an empty pipeline' {
        $before = Get-MailboxState
        $out = @(@() | Set-CrmMailbox -ApplyDefaults -PassThru -ErrorAction Stop)
        $out.Count | Should -Be 0
        Get-MailboxState | Should -Be $before
    }

    It '-WhatIf writes nothing and (with -PassThru) returns the plan per mailbox' {
        $picked = $users | Select-Object -First 3
        $before = Get-MailboxState
        $plan = @($picked | Set-CrmMailbox -ApplyDefaults -WhatIf -PassThru)
        Get-MailboxState | Should -Be $before
        $plan.Count | Should -Be 3
        $plan | ForEach-Object {
            $_.PSTypeNames | Should -Contain 'CrmServerSideSync.MailboxResult'
            $_.Outcome | Should -Be 'Planned'
            $_.Changes | Should -Match 'IncomingEmail: (None|Outlook) -> ServerSideSync'
        }
    }

    It 'configures exactly the piped mailboxes in one native operation' {
        $picked = @($users | Select-Object -First 4)
        $others = @($users | Select-Object -Skip 4 | Where-Object { $_.IncomingEmail -ne 'ServerSideSync' })
        $records = @($picked | Set-CrmMailbox -ApplyDefaults -PassThru -Verbose 4>&1)
        $results = @($records | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        @(Get-OperationStart -Records $records -Method 'StartMailboxConfigure').Count | Should -Be 1
        $results.Count | Should -Be 4
        @($results | ForEach-Object { $_.MailboxId } | Sort-Object) | Should -Be @($picked | ForEach-Object { $_.MailboxId } | Sort-Object)
        $results | ForEach-Object { $_.Outcome | Should -Be 'Changed'; $_.Step | Should -Be 'MailboxSettings' }
        foreach ($m in $picked) {
            $read = Get-CrmMailbox -EmailAddress $m.EmailAddress
            $read.ServerProfileName | Should -Be $exoName
            $read.IncomingEmail | Should -Be 'ServerSideSync'
            $read.OutgoingEmail | Should -Be 'ServerSideSync'
            $read.AppointmentsContactsTasks | Should -Be 'ServerSideSync'
        }
        foreach ($m in $others) {
            (Get-CrmMailbox -EmailAddress $m.EmailAddress).IncomingEmail | Should -Be $m.IncomingEmail -Because 'mailboxes not piped in are left alone'
        }
        # Again: nothing to change.
        $again = @($picked | Set-CrmMailbox -ApplyDefaults -PassThru)
        $again | ForEach-Object { $_.Outcome | Should -Be 'Unchanged' }
    }

    It 'fails a queue set to Outlook as a non-terminating error whose TargetObject is the item, and configures the others' {
        $queue = $queues[0]
        $two = @(Get-CrmMailbox | Where-Object { $_.OwnerType -eq 'systemuser' -and $_.State -eq 'Active' -and $_.OutgoingEmail -ne 'Outlook' } | Select-Object -First 2)
        $two.Count | Should -Be 2
        $err = $null
        $results = @(@($two) + @($queue) | Set-CrmMailbox -OutgoingEmail Outlook -PassThru -ErrorVariable err -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 3
        @($err).Count | Should -Be 1
        $err[0].TargetObject.MailboxId | Should -Be $queue.MailboxId
        $err[0].TargetObject.Outcome | Should -Be 'Failed'
        $err[0].FullyQualifiedErrorId | Should -Match '^CrmSync\.InvalidArgument'
        $err[0].Exception.Message | Should -Match 'queue'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'ServerSideSync or None'
        @($results | Where-Object { $_.Outcome -eq 'Changed' }).Count | Should -Be 2
        foreach ($m in $two) { (Get-CrmMailbox -EmailAddress $m.EmailAddress).OutgoingEmail | Should -Be 'Outlook' }
        (Get-CrmMailbox -EmailAddress $queue.EmailAddress).OutgoingEmail | Should -Be $queue.OutgoingEmail
    }

    It '-ErrorAction Stop makes an item failure terminating' {
        { $queues[1] | Set-CrmMailbox -OutgoingEmail Outlook -ErrorAction Stop } | Should -Throw '*queue*'
    }

    It 'selects several names (quotes escaped) and sets SyncWithThisOrgOnly' {
        $results = @(Set-CrmMailbox -Name "Liam O'Brien", 'Avery Adams' -SyncWithThisOrgOnly -PassThru)
        @($results | ForEach-Object { $_.Name } | Sort-Object) | Should -Be @('Avery Adams', "Liam O'Brien")
        (Get-CrmMailbox -Name "Liam O'Brien").SyncWithThisOrgOnly | Should -BeTrue
        $results | ForEach-Object { $_.Changes | Should -Match 'SyncWithThisOrgOnly: False -> True' }
    }

    It 'formats results as a table' {
        ($users | Select-Object -First 2 | Set-CrmMailbox -ApplyDefaults -PassThru | Format-Table | Out-String) | Should -Match 'Outcome'
    }
}

Describe 'Approve-CrmMailbox and Deny-CrmMailbox' {
    BeforeAll {
        $sim = Start-ProcedureSimulator
        $null = Connect-TestSimulator -Simulator $sim
        $users = @(Get-CrmMailbox | Where-Object { $_.OwnerType -eq 'systemuser' -and $_.State -eq 'Active' })
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'approves the piped mailboxes as an administrator (read back Approved)' {
        $picked = @($users | Select-Object -First 3)
        $results = @($picked | Approve-CrmMailbox -PassThru)
        $results.Count | Should -Be 3
        $results | ForEach-Object { $_.Outcome | Should -Be 'Changed'; $_.Changes | Should -Match 'ApprovalStatus: .* -> Approved' }
        foreach ($m in $picked) { (Get-CrmMailbox -EmailAddress $m.EmailAddress).ApprovalStatus | Should -Be 'Approved' }
        @($picked | Approve-CrmMailbox -PassThru) | ForEach-Object { $_.Outcome | Should -Be 'Unchanged' }
    }

    It '-WhatIf approves nothing' {
        $m = $users[5]
        $plan = @($m | Approve-CrmMailbox -WhatIf -PassThru)
        $plan[0].Outcome | Should -Be 'Planned'
        (Get-CrmMailbox -EmailAddress $m.EmailAddress).ApprovalStatus | Should -Not -Be 'Approved'
    }

    It 'rejects with Deny-CrmMailbox (read back Rejected)' {
        $m = $users[6]
        $r = @($m | Deny-CrmMailbox -Confirm:$false -PassThru)
        $r[0].Outcome | Should -Be 'Changed'
        $r[0].Step | Should -Be 'RejectEmail'
        (Get-CrmMailbox -EmailAddress $m.EmailAddress).ApprovalStatus | Should -Be 'Rejected'
    }

    It 'as a System Administrator without the Microsoft 365 role: each mailbox fails with the platform message and the role remedy; nothing is approved' {
        $picked = @($users | Select-Object -Skip 8 -First 3)
        $sys = Connect-CrmOnline -Url $sim.Url -AccessToken (ConvertTo-TestSecureString 'sim-token-sysadmin')
        try {
            $err = $null
            $results = @($picked | Approve-CrmMailbox -Connection $sys -PassThru -ErrorVariable err -ErrorAction SilentlyContinue)
            @($err).Count | Should -Be 3
            foreach ($e in $err) {
                $e.Exception.Message | Should -BeExactly $approvalDenied
                $e.ErrorDetails.Message | Should -Match ([regex]::Escape($approvalDenied))
                $e.ErrorDetails.RecommendedAction | Should -Match 'Delegated Mailbox Approver'
                $e.FullyQualifiedErrorId | Should -Match '^CrmSync\.'
                $e.TargetObject.MailboxId | Should -BeIn @($picked | ForEach-Object { $_.MailboxId })
            }
            $results | ForEach-Object { $_.Outcome | Should -Be 'Failed' }
            foreach ($m in $picked) { (Get-CrmMailbox -Connection $sys -EmailAddress $m.EmailAddress).ApprovalStatus | Should -Not -Be 'Approved' }

            $failure = $null
            try { $picked | Approve-CrmMailbox -Connection $sys -ErrorAction Stop } catch { $failure = $_ }
            $failure | Should -Not -BeNullOrEmpty
            $failure.Exception.Message | Should -Match ([regex]::Escape($approvalDenied))
        }
        finally {
            Disconnect-CrmOnline -Connection $sys
            $null = Connect-TestSimulator -Simulator $sim
        }
    }
}

Describe 'Enable-CrmMailbox and Get-CrmMailboxAlert' {
    BeforeAll {
        $sim = Start-ProcedureSimulator
        $null = Connect-TestSimulator -Simulator $sim
        Set-ExchangeOnlineDefaults
        $users = @(Get-CrmMailbox | Where-Object { $_.OwnerType -eq 'systemuser' -and $_.State -eq 'Active' })
        $approved = @($users | Select-Object -First 2)
        $unapproved = $users[2]
        @($approved) + @($unapproved) | Set-CrmMailbox -ApplyDefaults
        $approved | Approve-CrmMailbox
        $started = [DateTime]::Now.AddMinutes(-1)
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'succeeds for approved, configured mailboxes and fails an unapproved one with the S2SApprovalNeeded alerts' {
        $err = $null
        $results = @(@($approved) + @($unapproved) | Enable-CrmMailbox @wait -ErrorVariable err -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 3
        $results | ForEach-Object { $_.PSTypeNames | Should -Contain 'CrmServerSideSync.MailboxTestResult' }
        foreach ($m in $approved) {
            $r = $results | Where-Object { $_.MailboxId -eq $m.MailboxId }
            $r.Outcome | Should -Be 'Succeeded'
            $r.IncomingEmailStatus | Should -Be 'Success'
            $r.OutgoingEmailStatus | Should -Be 'Success'
            $r.ActStatus | Should -Be 'Success'
            $r.MailboxStatus | Should -Be 'Success'
            $r.Error | Should -BeNullOrEmpty
        }
        $bad = $results | Where-Object { $_.MailboxId -eq $unapproved.MailboxId }
        $bad.Outcome | Should -Be 'Failed'
        $bad.MailboxStatus | Should -Be 'Failure'
        @($bad.Alerts | ForEach-Object { $_.ErrorType }) | Should -Contain 'IncomingEmailS2SApprovalNeeded'
        $bad.Alerts | ForEach-Object { $_.PSTypeNames | Should -Contain 'CrmServerSideSync.Alert' }
        $bad.AlertSummary | Should -Match 'S2SApprovalNeeded'
        @($err).Count | Should -Be 1
        $err[0].TargetObject.MailboxId | Should -Be $unapproved.MailboxId
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'Approve-CrmMailbox'
        (Get-CrmMailbox -EmailAddress $approved[0].EmailAddress).MailboxStatus | Should -Be 'Success'
    }

    It 'schedules without -Wait' {
        $r = @($approved[0] | Enable-CrmMailbox)
        $r[0].Outcome | Should -Be 'Scheduled'
    }

    It 'runs every mailbox of a profile with -ServerProfile, and with the profile piped in' {
        $ofProfile = @(Get-CrmMailbox -ServerProfile $exoName | Where-Object { $_.State -eq 'Active' })
        $ofProfile.Count | Should -BeGreaterThan 3
        $results = @(Enable-CrmMailbox -ServerProfile $exoName @wait -ErrorAction SilentlyContinue)
        @($results | ForEach-Object { $_.MailboxId } | Sort-Object) | Should -Be @($ofProfile | ForEach-Object { $_.MailboxId } | Sort-Object)
        $plan = @(Get-CrmEmailServerProfile -Name $exoName | Enable-CrmMailbox -WhatIf)
        @($plan | ForEach-Object { $_.MailboxId } | Sort-Object) | Should -Be @($ofProfile | ForEach-Object { $_.MailboxId } | Sort-Object)
        $plan | ForEach-Object { $_.Outcome | Should -Be 'Planned' }
    }

    It 'rejects a bad -Timeout' {
        { Enable-CrmMailbox -All -Timeout 'soon' -ErrorAction Stop } | Should -Throw -ErrorId 'CrmSync.InvalidTimeout*'
    }

    It 'Get-CrmMailboxAlert returns the alerts of piped mailboxes, by level, since, first' {
        $alerts = @($unapproved | Get-CrmMailboxAlert)
        $alerts.Count | Should -BeGreaterThan 0
        $alerts | ForEach-Object {
            $_.PSTypeNames | Should -Contain 'CrmServerSideSync.Alert'
            $_.RegardingId | Should -Be $unapproved.MailboxId
            $_.CreatedOn | Should -BeOfType [DateTime]
        }
        @($alerts | ForEach-Object { $_.ErrorType }) | Should -Contain 'IncomingEmailS2SApprovalNeeded'
        $errors = @(Get-CrmMailboxAlert -Level Error -First 2)
        $errors.Count | Should -BeGreaterThan 0
        $errors.Count | Should -BeLessOrEqual 2
        $errors | ForEach-Object { $_.Level | Should -Be 'Error' }
        @(Get-CrmMailboxAlert -MailboxId $unapproved.MailboxId -Since $started) | ForEach-Object { $_.CreatedOn | Should -BeGreaterOrEqual $started }
        @(Get-CrmMailboxAlert -MailboxId $unapproved.MailboxId -Since ([DateTime]::Now.AddDays(1))).Count | Should -Be 0
        (Get-CrmMailboxAlert -First 3 | Format-Table | Out-String) | Should -Match 'ErrorType'
    }
}

Describe 'Invoke-CrmExchangeOnlineSetup' {
    BeforeAll {
        $sim = Start-ProcedureSimulator
        $null = Connect-TestSimulator -Simulator $sim
        $active = @(Get-CrmMailbox | Where-Object { $_.State -eq 'Active' })
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It '-WhatIf writes nothing and its report lists the planned changes' {
        $before = Get-MailboxState
        $defaultsBefore = Get-CrmMailboxDefaults | ConvertTo-Json -Compress
        $plan = Invoke-CrmExchangeOnlineSetup -WhatIf
        Get-MailboxState | Should -Be $before
        (Get-CrmMailboxDefaults | ConvertTo-Json -Compress) | Should -Be $defaultsBefore
        @($plan).Count | Should -Be 1
        $plan.PSTypeNames | Should -Contain 'CrmServerSideSync.SetupReport'
        $plan.WhatIf | Should -BeTrue
        $plan.Mailboxes.Count | Should -Be $active.Count
        @($plan.OrganizationChanges | ForEach-Object { $_.Field }) | Should -Contain 'IncomingEmail'
        $plan.Summary | Should -Match 'Nothing was written'
        $row = $plan.Mailboxes | Where-Object { $_.Name -eq 'Avery Adams' }
        $row.Result | Should -Be 'WillChange'
        $row.MailboxSettings | Should -Be 'Planned'
        $row.Changes | Should -Match 'IncomingEmail: None -> ServerSideSync'
        $row.Changes | Should -Match 'ApprovalStatus: .* -> Approved'
        ($plan.Steps | Where-Object { $_.Step -eq 'MailboxSettings' }).Planned | Should -BeGreaterThan 0
    }

    It 'selects mailboxes by name, address or id with -Mailbox' {
        $plan = Invoke-CrmExchangeOnlineSetup -Mailbox 'Avery Adams', $active[3].EmailAddress, $active[4].MailboxId -WhatIf
        @($plan.Mailboxes | ForEach-Object { $_.MailboxId } | Sort-Object) | Should -Be @(@(($active | Where-Object { $_.Name -eq 'Avery Adams' }).MailboxId, $active[3].MailboxId, $active[4].MailboxId) | Sort-Object -Unique)
    }

    It 'configures, approves and tests every selected mailbox; the report is consistent' {
        $script:report = Invoke-CrmExchangeOnlineSetup @wait -ErrorVariable err -ErrorAction SilentlyContinue
        @($err).Count | Should -Be 0
        $report.WhatIf | Should -BeFalse
        $report.Failed | Should -Be 0
        $report.Mailboxes.Count | Should -Be $active.Count
        $report.Checks.Count | Should -BeGreaterThan 0
        $report.Checks | ForEach-Object { $_.PSTypeNames | Should -Contain 'CrmServerSideSync.ReadinessCheck' }
        $defaults = Get-CrmMailboxDefaults
        $defaults.ServerProfileName | Should -Be $exoName
        $defaults.IncomingEmail | Should -Be 'ServerSideSync'
        foreach ($m in @(Get-CrmMailbox | Where-Object { $_.State -eq 'Active' })) {
            $m.ServerProfileName | Should -Be $exoName -Because $m.Name
            $m.IncomingEmail | Should -Be 'ServerSideSync'
            $m.OutgoingEmail | Should -Be 'ServerSideSync'
            $m.AppointmentsContactsTasks | Should -Be 'ServerSideSync'
            $m.ApprovalStatus | Should -Be 'Approved'
            $m.MailboxStatus | Should -Be 'Success'
        }
        $report.Mailboxes | ForEach-Object { $_.Result | Should -Be 'Working'; $_.MailboxStatus | Should -Be 'Success' }
        # Step counts agree with the rows.
        foreach ($stepName in 'MailboxSettings', 'ApproveEmail', 'TestAndEnable') {
            $step = $report.Steps | Where-Object { $_.Step -eq $stepName }
            $step | Should -Not -BeNullOrEmpty
            foreach ($outcome in 'Planned', 'Changed', 'Unchanged', 'Failed', 'Scheduled', 'Succeeded', 'TimedOut') {
                $step.$outcome | Should -Be @($report.Mailboxes | Where-Object { $_.$stepName -eq $outcome }).Count -Because "$stepName $outcome"
            }
        }
        ($report.Steps | Where-Object { $_.Step -eq 'TestAndEnable' }).Succeeded | Should -Be $active.Count
        ($report.Steps | Where-Object { $_.Step -eq 'Defaults' }).Changed | Should -BeGreaterThan 0
        "$report" | Should -Be $report.Summary
        ($report | Out-String) | Should -Match ([regex]::Escape($report.Summary.Substring(0, 20)))
    }

    It 'changes nothing and tests nothing when run again' {
        $again = Invoke-CrmExchangeOnlineSetup @wait -ErrorAction Stop
        foreach ($step in $again.Steps) {
            $step.Changed | Should -Be 0 -Because $step.Step
            $step.Failed | Should -Be 0 -Because $step.Step
            $step.Scheduled | Should -Be 0 -Because $step.Step
            $step.Succeeded | Should -Be 0 -Because $step.Step
        }
        $again.AlreadyWorking | Should -Be $active.Count
        $again.Mailboxes | ForEach-Object { $_.Result | Should -Be 'AlreadyWorking' }
        @($again.OrganizationChanges).Count | Should -Be 0
    }

    It 'exports the mailbox rows to CSV and the report to JSON' {
        $csv = Join-Path $TestDrive 'setup.csv'
        $report.Mailboxes | Export-Csv -LiteralPath $csv -NoTypeInformation
        $text = Get-Content -LiteralPath $csv -Raw
        $text | Should -Not -Match 'System\.Object\[\]'
        $text | Should -Not -Match '@\{'
        $rows = @(Import-Csv -LiteralPath $csv)
        $rows.Count | Should -Be $report.Mailboxes.Count
        foreach ($column in 'MailboxId', 'Name', 'EmailAddress', 'OwnerType', 'Result', 'MailboxSettings', 'ApproveEmail', 'TestAndEnable', 'MailboxStatus', 'AlertSummary', 'Error') {
            $rows[0].PSObject.Properties.Name | Should -Contain $column
        }
        foreach ($row in $report.Mailboxes) {
            foreach ($p in $row.PSObject.Properties) {
                if ($null -ne $p.Value) { ($p.Value -is [string] -or $p.Value.GetType().IsValueType) | Should -BeTrue -Because "$($p.Name) is a scalar" }
            }
        }
        $json = $report | ConvertTo-Json -Depth 5
        $back = $json | ConvertFrom-Json
        $back.Summary | Should -Be $report.Summary
        @($back.Steps).Count | Should -Be @($report.Steps).Count
        @($back.Mailboxes).Count | Should -Be $report.Mailboxes.Count
        @($back.Checks).Count | Should -Be @($report.Checks).Count
    }
}

Describe '-Mailbox: a name, an email address or an id, like Exchange''s -Identity' {
    BeforeAll {
        $sim = Start-ProcedureSimulator
        $null = Connect-TestSimulator -Simulator $sim
        $everyone = @(Get-CrmMailbox)
        $avery = $everyone | Where-Object { $_.Name -eq 'Avery Adams' }
        $queue = $everyone | Where-Object { $_.EmailAddress -eq 'support1@contoso.example' }
        $third = $everyone | Where-Object { $_.OwnerType -eq 'systemuser' -and $_.State -eq 'Active' -and $_.MailboxId -ne $avery.MailboxId } | Select-Object -First 1
        function Get-ApprovedIds { @(Get-CrmMailbox | Where-Object { $_.ApprovalStatus -eq 'Approved' } | ForEach-Object { $_.MailboxId } | Sort-Object) }
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'Approve-CrmMailbox ''Avery Adams'' approves exactly that mailbox (by name, positionally)' {
        $avery | Should -Not -BeNullOrEmpty
        $before = Get-ApprovedIds
        $results = @(Approve-CrmMailbox 'Avery Adams' -PassThru -ErrorAction Stop)
        $results.Count | Should -Be 1
        $results[0].MailboxId | Should -Be $avery.MailboxId
        $results[0].Outcome | Should -Be 'Changed'
        $after = Get-ApprovedIds
        @($after | Where-Object { $before -notcontains $_ }) | Should -Be @($avery.MailboxId)
    }

    It 'Enable-CrmMailbox ''support1@contoso.example'' tests exactly that queue''s mailbox (by address)' {
        $queue | Should -Not -BeNullOrEmpty
        $results = @(Enable-CrmMailbox 'support1@contoso.example' -ErrorAction Stop)
        $results.Count | Should -Be 1
        $results[0].MailboxId | Should -Be $queue.MailboxId
        $results[0].Outcome | Should -Be 'Scheduled'
    }

    It 'Deny-CrmMailbox <id> rejects exactly the mailbox with that id' {
        $results = @(Deny-CrmMailbox $third.MailboxId -PassThru -Confirm:$false -ErrorAction Stop)
        $results.Count | Should -Be 1
        $results[0].MailboxId | Should -Be $third.MailboxId
        (Get-CrmMailbox $third.MailboxId).ApprovalStatus | Should -Be 'Rejected'
    }

    It 'Get-CrmMailbox takes names, addresses and ids together (quotes escaped)' {
        $found = @(Get-CrmMailbox 'Avery Adams', 'support1@contoso.example', $third.MailboxId, "Liam O'Brien")
        @($found | ForEach-Object { $_.Name } | Sort-Object) | Should -Be @(@('Avery Adams', $queue.Name, $third.Name, "Liam O'Brien") | Sort-Object)
    }

    It 'refuses a 100,000-character name with a clear message and changes nothing' {
        $before = Get-ApprovedIds
        $failure = $null
        try { Approve-CrmMailbox ('n' * 100000) -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -Match '^CrmSync\.InvalidArgument'
        $failure.Exception.Message | Should -Match 'mailboxes'
        $failure.Exception.Message | Should -Match '100000 characters long'
        $failure.Exception.Message | Should -Match 'at most 200 characters'
        $failure.Exception.Message.Length | Should -BeLessThan 400
        Get-ApprovedIds | Should -Be $before
    }

    It 'refuses a 100,000-character filter with a clear message' {
        $failure = $null
        try { Set-CrmMailbox -Filter ('x' * 100000) -SyncWithThisOrgOnly -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.Exception.Message | Should -Match 'filter is 100000 characters long'
        $failure.Exception.Message | Should -Match 'at most 8000 characters'
    }
}
