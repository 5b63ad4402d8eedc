# Non-production guard (Disable-CrmServerSideSync), the change journal (-JournalPath) and
# Undo-CrmChange, against the simulator. Rows are compared over HTTP (raw Web API rows), and
# "writes nothing" is checked with the simulator's /_sim/stats counters.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force -ErrorAction Stop

    $script:RowColumns = 'mailboxid,_emailserverprofile_value,incomingemaildeliverymethod,outgoingemaildeliverymethod,actdeliverymethod,orgmarkedasprimaryforexchangesync,testemailconfigurationscheduled,emailrouteraccessapproval'

    function Invoke-SimGet([object] $Simulator, [string] $Path) {
        Invoke-RestMethod -Uri "$($Simulator.Url)/api/data/v9.2/$Path" -Headers @{ Authorization = 'Bearer sim-token-admin' }
    }

    # The rows crmsync writes, one comparable line per row (without the test schedule, which the
    # simulated Test & Enable consumes on its own).
    function Get-RowSnapshot([object] $Simulator) {
        $lines = New-Object 'System.Collections.Generic.List[string]'
        foreach ($m in @((Invoke-SimGet $Simulator "mailboxes?`$select=$script:RowColumns").value)) {
            $lines.Add(('mailbox|{0}|{1}|{2}|{3}|{4}|{5}|{6}' -f $m.mailboxid, $m._emailserverprofile_value, $m.incomingemaildeliverymethod, $m.outgoingemaildeliverymethod, $m.actdeliverymethod, $m.orgmarkedasprimaryforexchangesync, $m.emailrouteraccessapproval))
        }
        foreach ($u in @((Invoke-SimGet $Simulator 'systemusers?$select=systemuserid,emailrouteraccessapproval').value)) { $lines.Add("user|$($u.systemuserid)|$($u.emailrouteraccessapproval)") }
        foreach ($q in @((Invoke-SimGet $Simulator 'queues?$select=queueid,emailrouteraccessapproval').value)) { $lines.Add("queue|$($q.queueid)|$($q.emailrouteraccessapproval)") }
        foreach ($o in @((Invoke-SimGet $Simulator 'organizations?$select=_defaultemailserverprofileid_value,defaultemailsettings,emailconnectionchannel').value)) {
            $lines.Add("org|$($o._defaultemailserverprofileid_value)|$($o.defaultemailsettings)|$($o.emailconnectionchannel)")
        }
        foreach ($p in @((Invoke-SimGet $Simulator 'emailserverprofiles?$select=emailserverprofileid,statecode').value)) { $lines.Add("profile|$($p.emailserverprofileid)|$($p.statecode)") }
        @($lines | Sort-Object)
    }

    function Get-SimWrites([object] $Simulator) {
        [int](Invoke-RestMethod -Uri "$($Simulator.Url)/_sim/stats").write_operations
    }

    function New-JournalPath([string] $Name) {
        $folder = Join-Path ([System.IO.Path]::GetTempPath()) ('crmsync-journal-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Path $folder
        Join-Path $folder $Name
    }
}

AfterAll {
    if (Get-Module CrmServerSideSync) {
        Disconnect-CrmOnline
        Remove-Module CrmServerSideSync -Force
    }
}

Describe 'Disable-CrmServerSideSync' {
    BeforeAll {
        $sim = Start-DataverseSim -Mailboxes 15 -Queues 3 -TestDelayMs 60000 -Path (Get-DataverseSimPath -Configuration $BuildConfiguration)
        $null = Connect-TestSimulator -Simulator $sim
        # Server-side synchronization everywhere, every test still scheduled (the simulated test waits a minute).
        $null = Invoke-CrmExchangeOnlineSetup -Confirm:$false
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'is a High-impact ShouldProcess command and refuses an empty selection' {
        $command = Get-Command Disable-CrmServerSideSync
        $command.Parameters.Keys | Should -Contain 'WhatIf'
        $command.Parameters.Keys | Should -Contain 'JournalPath'
        $command.ScriptBlock.Attributes | Where-Object { $_ -is [System.Management.Automation.CmdletBindingAttribute] } | ForEach-Object { $_.ConfirmImpact | Should -Be 'High' }
        { Disable-CrmServerSideSync -Confirm:$false -ErrorAction Stop } | Should -Throw
    }

    It '-WhatIf writes nothing and lists the changes' {
        $writes = Get-SimWrites $sim
        $before = Get-RowSnapshot $sim
        $plan = @(Disable-CrmServerSideSync -All -WhatIf -PassThru)
        @($plan | Where-Object Outcome -eq 'Planned').Count | Should -Be 18
        $plan[0].Changes | Should -Match 'TestEmailConfigurationScheduled: True -> False'
        # What if lines go to the host: read them from a child PowerShell.
        $script = @"
Import-Module '$($ModuleManifest -replace "'", "''")' -ErrorAction Stop
`$null = Connect-CrmOnline -Url '$($sim.Url)' -AccessToken (ConvertTo-SecureString 'sim-token-admin' -AsPlainText -Force)
Disable-CrmServerSideSync -All -WhatIf
"@
        $child = Invoke-ChildPowerShell -Script $script
        $child.Output | Should -Match 'What if: .*IncomingEmail: ServerSideSync -> None" on target "organization Contoso Simulated'
        $child.Output | Should -Match 'What if: .*OutgoingEmail: ServerSideSync -> None; AppointmentsContactsTasks: ServerSideSync -> None; TestEmailConfigurationScheduled: True -> False'
        Get-SimWrites $sim | Should -Be $writes
        Get-RowSnapshot $sim | Should -Be $before
    }

    It 'leaves no mailbox with a server-side-sync delivery method and no scheduled test' {
        $results = Disable-CrmServerSideSync -All -Confirm:$false -PassThru
        @($results | Where-Object Outcome -eq 'Changed').Count | Should -Be 18
        $rows = @((Invoke-SimGet $sim "mailboxes?`$select=$script:RowColumns").value)
        $rows.Count | Should -Be 18
        foreach ($m in $rows) {
            $m.incomingemaildeliverymethod | Should -Be 0
            $m.outgoingemaildeliverymethod | Should -Be 0
            $m.actdeliverymethod | Should -Be 2
            $m.testemailconfigurationscheduled | Should -BeFalse
        }
        @(Get-CrmMailbox | Where-Object { $_.IncomingEmail -eq 'ServerSideSync' -or $_.OutgoingEmail -eq 'ServerSideSync' -or $_.AppointmentsContactsTasks -eq 'ServerSideSync' }).Count | Should -Be 0
        $defaults = Get-CrmMailboxDefaults
        @($defaults.IncomingEmail, $defaults.OutgoingEmail, $defaults.AppointmentsContactsTasks) | Should -Be @('None', 'None', 'None')
    }
}

Describe 'Non-production guard' {
    BeforeAll {
        $sim = Start-DataverseSim -Mailboxes 5 -Queues 1 -Path (Get-DataverseSimPath -Configuration $BuildConfiguration)
        $null = Connect-TestSimulator -Simulator $sim
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'refuses to mark mailboxes organization-primary in a sandbox unless -Force, writing nothing' {
        $writes = Get-SimWrites $sim
        { Invoke-CrmExchangeOnlineSetup -Environment Sandbox -SyncWithThisOrgOnly -Confirm:$false -ErrorAction Stop } | Should -Throw '*non-production*'
        Get-SimWrites $sim | Should -Be $writes
        $report = Invoke-CrmExchangeOnlineSetup -Environment Sandbox -SyncWithThisOrgOnly -Force -Confirm:$false
        $report.Failed | Should -Be 0
        @((Invoke-SimGet $sim 'mailboxes?$select=orgmarkedasprimaryforexchangesync').value | Where-Object { -not $_.orgmarkedasprimaryforexchangesync }).Count | Should -Be 0
    }
}

Describe 'Change journal and Undo-CrmChange' {
    BeforeAll {
        $sim = Start-DataverseSim -Mailboxes 20 -Queues 3 -TestDelayMs 200 -Path (Get-DataverseSimPath -Configuration $BuildConfiguration)
        # The access token is what the test looks for in the journal.
        $null = Connect-TestSimulator -Simulator $sim
    }
    AfterAll {
        Disconnect-CrmOnline
        Stop-DataverseSim -Simulator $sim
    }

    It 'setup with a journal, then undo, gives every column crmsync wrote its value before the run' {
        $before = Get-RowSnapshot $sim
        $journal = New-JournalPath 'setup.jsonl'
        $report = Invoke-CrmExchangeOnlineSetup -JournalPath $journal -Confirm:$false
        $report.Failed | Should -Be 0
        $text = [System.IO.File]::ReadAllText($journal)
        $text | Should -Not -Match 'sim-token-admin'
        $text | Should -Not -Match '(?i)bearer'
        $lines = @([System.IO.File]::ReadAllLines($journal) | ForEach-Object { $_ | ConvertFrom-Json })
        @($lines | Where-Object step -eq 'MailboxSettings').Count | Should -BeGreaterThan 10
        @($lines | Where-Object step -eq 'ApproveEmail').Count | Should -Be 23
        (@($lines.environment.name | Sort-Object -Unique)) | Should -Be @('Contoso Simulated')

        $writes = Get-SimWrites $sim
        $plan = @(Undo-CrmChange -JournalPath $journal -WhatIf)
        Get-SimWrites $sim | Should -Be $writes
        @($plan | Where-Object Outcome -eq 'Planned').Count | Should -Be @($lines | Where-Object undoable).Count

        $undo = @(Undo-CrmChange -JournalPath $journal -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue)
        $undo[0].PSTypeNames | Should -Contain 'CrmServerSideSync.UndoResult'
        @($undo | Where-Object Outcome -eq 'Failed').Count | Should -Be 0
        @($undo | Where-Object Outcome -eq 'Restored').Count | Should -Be @($lines | Where-Object undoable).Count
        @($undo | Where-Object Outcome -eq 'NotUndoable').Count | Should -Be @($lines | Where-Object step -eq 'TestAndEnable').Count
        ($warnings -join "`n") | Should -Match 'TestAndEnable not undone: a Test & Enable cannot be undone'
        Get-RowSnapshot $sim | Should -Be $before
    }

    It 'undo after a concurrent edit skips that row and says so' {
        $journal = New-JournalPath 'settings.jsonl'
        Set-CrmMailbox -All -IncomingEmail Outlook -JournalPath $journal -Confirm:$false -ErrorAction SilentlyContinue
        $first = [System.IO.File]::ReadAllLines($journal)[0] | ConvertFrom-Json
        $null = Invoke-RestMethod -Method Patch -Uri "$($sim.Url)/api/data/v9.2/mailboxes($($first.row_id))" -Headers @{ Authorization = 'Bearer sim-token-admin'; 'If-Match' = '*' } -ContentType 'application/json' -Body '{"incomingemaildeliverymethod":3}'
        $undo = @(Undo-CrmChange -JournalPath $journal -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue)
        $skipped = @($undo | Where-Object Outcome -eq 'Skipped')
        $skipped.Count | Should -Be 1
        $skipped[0].RowId | Should -Be $first.row_id
        $skipped[0].Reason | Should -Match 'incomingemaildeliverymethod is now 3'
        ($warnings -join "`n") | Should -Match 'was not undone: changed since'
        (Invoke-SimGet $sim "mailboxes($($first.row_id))?`$select=incomingemaildeliverymethod").incomingemaildeliverymethod | Should -Be 3
    }

    It 'lines of an environment without a connection are reported, not undone' {
        $journal = New-JournalPath 'other.jsonl'
        $line = '{"version":1,"time":"2026-01-01T00:00:00.000Z","environment":{"name":"Elsewhere","url":"https://elsewhere.crm.dynamics.com"},"table":"mailboxes","row_id":"0b7c0e52-0000-0000-0000-000000000001","row_name":"x","step":"MailboxSettings","columns":[{"column":"actdeliverymethod","before":2,"after":1}],"outcome":"Written","undoable":true}'
        [System.IO.File]::WriteAllText($journal, $line + "`n")
        $writes = Get-SimWrites $sim
        $null = Undo-CrmChange -JournalPath $journal -Confirm:$false -ErrorVariable problems -ErrorAction SilentlyContinue
        ($problems | ForEach-Object { $_.Exception.Message }) -join "`n" | Should -Match 'no connection to that environment'
        Get-SimWrites $sim | Should -Be $writes
    }
}

Describe 'Undo-CrmChange over several environments' {
    BeforeAll {
        $envSims = @(
            Start-DataverseSim -Mailboxes 12 -Queues 2 -TestDelayMs 200 -Path (Get-DataverseSimPath -Configuration $BuildConfiguration)
            Start-DataverseSim -Mailboxes 12 -Queues 2 -TestDelayMs 200 -Path (Get-DataverseSimPath -Configuration $BuildConfiguration)
        )
        $envToken = ConvertTo-TestSecureString 'sim-token-admin'
    }
    AfterAll {
        Stop-DataverseSim -Simulator $envSims[0]
        if (-not $script:secondStopped) { Stop-DataverseSim -Simulator $envSims[1] }
    }

    It 'undoes every environment of one journal at once, and an unreachable one fails alone' {
        $connections = @(Connect-CrmOnline -Url @($envSims | ForEach-Object { $_.Url }) -AccessToken $envToken -MaxRetries 0 -TimeoutSeconds 5)
        $before = @($envSims | ForEach-Object { , @(Get-RowSnapshot $_) })
        $journal = New-JournalPath 'two.jsonl'
        $report = Invoke-CrmExchangeOnlineSetup -Connection $connections -JournalPath $journal -Force -Confirm:$false
        $report.FailedEnvironments | Should -Be 0
        $lines = @([System.IO.File]::ReadAllLines($journal) | ForEach-Object { $_ | ConvertFrom-Json })
        @($lines | ForEach-Object { $_.environment.url.TrimEnd('/') } | Sort-Object -Unique) | Should -Be @($connections | ForEach-Object { $_.Url } | Sort-Object)

        $undo = @(Undo-CrmChange -JournalPath $journal -Connection $connections -Confirm:$false -WarningAction SilentlyContinue)
        @($undo | Where-Object Outcome -eq 'Failed').Count | Should -Be 0
        @($undo | Where-Object Outcome -eq 'Restored').Count | Should -Be @($lines | Where-Object undoable).Count
        for ($i = 0; $i -lt 2; $i++) { Get-RowSnapshot $envSims[$i] | Should -Be $before[$i] }
        # Within each environment the lines went newest first.
        foreach ($c in $connections) {
            $mine = @($undo | Where-Object { $_.Outcome -eq 'Restored' -and $_.Url.TrimEnd('/') -eq $c.Url })
            $mine.Count | Should -BeGreaterThan 1
            [int]$mine[0].Line | Should -BeGreaterThan ([int]$mine[-1].Line)
        }

        # Again, with the second environment gone: the first is already as before, the second fails alone.
        Stop-DataverseSim -Simulator $envSims[1]
        $again = @(Undo-CrmChange -JournalPath $journal -Connection $connections -Confirm:$false -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        @($again | Where-Object Outcome -eq 'Restored').Count | Should -Be 0
        @($again | Where-Object Outcome -eq 'Unchanged').Count | Should -BeGreaterThan 0
        $mine = @($problems | Where-Object { $_.FullyQualifiedErrorId -like 'CrmSync.*' })
        $mine.Count | Should -BeGreaterThan 0
        @($mine | Where-Object { ([string]$_.TargetObject.Url).TrimEnd('/') -ne $connections[1].Url }).Count | Should -Be 0 -Because 'only the unreachable environment failed'
        $script:secondStopped = $true
    }
}

Describe 'A run killed mid-way leaves a journal of real writes' {
    BeforeAll {
        # Slow enough (latency per request, small batches first) to be killed in the middle.
        $sim = Start-DataverseSim -Mailboxes 1500 -Queues 0 -ArgumentList '--latency-ms', '100' -Path (Get-DataverseSimPath -Configuration $BuildConfiguration)
    }
    AfterAll {
        Stop-DataverseSim -Simulator $sim
    }

    It 'every line of the journal of a SIGKILLed setup describes a write the rows show' {
        $journal = New-JournalPath 'killed.jsonl'
        $script = @"
Import-Module '$ModuleManifest' -ErrorAction Stop
`$null = Connect-CrmOnline -Url '$($sim.Url)' -AccessToken (ConvertTo-SecureString 'sim-token-admin' -AsPlainText -Force)
Invoke-CrmExchangeOnlineSetup -JournalPath '$journal' -Confirm:`$false | Out-Null
"@
        $file = Join-Path ([System.IO.Path]::GetTempPath()) ('crmsync-killed-' + [guid]::NewGuid().ToString('N') + '.ps1')
        [System.IO.File]::WriteAllText($file, $script)
        $startInfo = New-Object System.Diagnostics.ProcessStartInfo
        $startInfo.FileName = Get-PowerShellExe
        $startInfo.Arguments = "-NoProfile -NonInteractive -File `"$file`""
        $startInfo.UseShellExecute = $false
        $child = [System.Diagnostics.Process]::Start($startInfo)
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while ([DateTime]::UtcNow -lt $deadline -and -not $child.HasExited) {
                if ((Test-Path -LiteralPath $journal) -and @([System.IO.File]::ReadAllLines($journal) | Where-Object { $_ -match '"step":"MailboxSettings"' }).Count -ge 10) { break }
                Start-Sleep -Milliseconds 20
            }
            $child.HasExited | Should -BeFalse -Because 'the run is killed in the middle, not after it finished'
            $child.Kill()   # SIGKILL on Linux and macOS, TerminateProcess on Windows: no cleanup runs
            $child.WaitForExit()
        }
        finally {
            if (-not $child.HasExited) { $child.Kill() }
            Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
        }
        $lines = @([System.IO.File]::ReadAllLines($journal) | Where-Object { -not [string]::IsNullOrWhiteSpace($_) })
        $settingsLines = @($lines | Where-Object { $_ -match '"step":"MailboxSettings"' }).Count
        $settingsLines | Should -BeGreaterThan 9
        # Batches in flight when the process died may still complete on the service: they are
        # missing from the journal, never the other way round.
        $settingsLines | Should -BeLessThan 1500 -Because 'the journal stops where the process was killed'
        $rows = @{}
        foreach ($m in @((Invoke-SimGet $sim "mailboxes?`$select=$script:RowColumns").value)) { $rows[$m.mailboxid] = $m }
        $users = @{}
        foreach ($u in @((Invoke-SimGet $sim 'systemusers?$select=systemuserid,emailrouteraccessapproval').value)) { $users[$u.systemuserid] = $u }
        foreach ($text in $lines) {
            $line = $text | ConvertFrom-Json   # every line is complete JSON
            $line.outcome | Should -Be 'Written'
            if ($line.step -eq 'TestAndEnable') { continue }  # the simulated test consumes the schedule flag
            $row = $null
            switch ($line.table) {
                'mailboxes' { $row = $rows[$line.row_id] }
                'systemusers' { $row = $users[$line.row_id] }
                default { $row = (Invoke-SimGet $sim "$($line.table)($($line.row_id))") }
            }
            $row | Should -Not -BeNullOrEmpty
            foreach ($c in @($line.columns)) {
                [string]$row.($c.column) | Should -Be ([string]$c.after) -Because "line $($line.table) $($line.row_id) $($c.column) was written"
            }
        }
    }
}
