function Complete-CrmSetupReport {
    <#
    .SYNOPSIS
    Builds the CrmServerSideSync.SetupReport from the aggregated rows and the operation's result document.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Collections.Generic.Dictionary[string, CrmServerSideSync.SetupMailbox]] $Rows,
        [AllowNull()] [object] $Result,
        [Parameter(Mandatory)] [bool] $WhatIf,
        [object[]] $Checks = @(),
        [object[]] $OrganizationChanges = @(),
        [object[]] $Alerts = @(),
        [object] $Connection,
        [DateTime] $StartedAt
    )
    # One pass over the rows (a report may hold 50,000): final outcomes, then the counts.
    $mailboxes = New-Object 'System.Collections.Generic.List[CrmServerSideSync.SetupMailbox]' (, $Rows.Values)
    $mailboxes.Sort()
    $count = @{}
    foreach ($row in $mailboxes) {
        # Test & Enable runs only for mailboxes that are not already working: the others are unchanged.
        if ($row.TestAndEnable -eq 'NotRun') { $row.TestAndEnable = 'Unchanged' } else { $count['Tested']++ }
        if ($row.ApproveEmail -eq 'NotRun') { $row.ApproveEmail = 'Skipped' }
        if ($row.MailboxSettings -eq 'NotRun') { $row.MailboxSettings = 'Skipped' }
        $outcomes = @($row.MailboxSettings, $row.ApproveEmail, $row.TestAndEnable)
        if ($outcomes -contains 'Failed') { $row.Result = 'Failed' }
        elseif ($outcomes -contains 'TimedOut') { $row.Result = 'TimedOut' }
        elseif ($WhatIf) { if ($outcomes -contains 'Planned') { $row.Result = 'WillChange' } else { $row.Result = 'NoChange' } }
        elseif ($row.TestAndEnable -eq 'Succeeded') { $row.Result = 'Working' }
        elseif ($row.TestAndEnable -eq 'Scheduled') { $row.Result = 'Scheduled' }
        elseif ($row.TestAndEnable -eq 'Unchanged') { $row.Result = 'AlreadyWorking' }
        else { $row.Result = $row.TestAndEnable }
        $count[$row.Result]++
        if ($row.TestAndEnable -eq 'Unchanged') { $count['TestUnchanged']++ }
        if ($row.MailboxSettings -eq 'Changed' -or $row.ApproveEmail -eq 'Changed') { $count['ChangedRows']++ }
    }
    $counted = { param($name) if ($count.ContainsKey($name)) { [int]$count[$name] } else { 0 } }

    $steps = @(foreach ($s in @($Result.steps | Where-Object { $null -ne $_ })) {
            $field = { param($name) if ($s.PSObject.Properties[$name] -and $null -ne $s.$name) { [int]$s.$name } else { 0 } }
            $unchanged = & $field 'unchanged'
            if ($s.step -eq 'TestAndEnable' -and (& $counted 'Tested') -gt 0) { $unchanged += & $counted 'TestUnchanged' }
            [pscustomobject][ordered]@{
                PSTypeName = 'CrmServerSideSync.SetupStep'
                Step       = [string]$s.step
                Planned    = & $field 'planned'
                Changed    = & $field 'changed'
                Unchanged  = $unchanged
                Failed     = & $field 'failed'
                Scheduled  = & $field 'scheduled'
                Succeeded  = & $field 'succeeded'
                TimedOut   = & $field 'timed_out'
            }
        })

    $total = $mailboxes.Count
    if ($null -ne $Result -and $Result.PSObject.Properties['mailboxes']) { $total = [int]$Result.mailboxes }
    $failed = & $counted 'Failed'
    $timedOut = & $counted 'TimedOut'
    $orgChanges = @($OrganizationChanges).Count
    if ($WhatIf) {
        $summary = "What if: $total mailbox(es) selected, $(& $counted 'WillChange') would change"
        if ($failed -gt 0) { $summary += ", $failed would fail" }
        $summary += "; organization defaults: $orgChanges change(s). Nothing was written."
    }
    else {
        $already = & $counted 'AlreadyWorking'
        $working = (& $counted 'Working') + $already
        $scheduled = & $counted 'Scheduled'
        $summary = "$total mailbox(es): $working working ($already already), $(& $counted 'ChangedRows') changed"
        if ($scheduled -gt 0) { $summary += ", $scheduled tests scheduled" }
        if ($failed -gt 0) { $summary += ", $failed failed" }
        if ($timedOut -gt 0) { $summary += ", $timedOut timed out" }
        $summary += "; organization defaults: $orgChanges change(s)."
    }
    $notPassing = @($Checks | Where-Object { $_.Status -ne 'Pass' })
    if ($notPassing.Count -gt 0) { $summary += " Readiness: " + (@($notPassing | ForEach-Object { "$($_.Check) $($_.Status)" }) -join ', ') + '.' }

    $report = [pscustomobject][ordered]@{
        PSTypeName          = 'CrmServerSideSync.SetupReport'
        Summary             = $summary
        WhatIf              = $WhatIf
        Organization        = $(if ($Connection) { $Connection.OrganizationName } else { $null })
        Url                 = $(if ($Connection) { $Connection.Url } else { $null })
        StartedAt           = $StartedAt
        DurationSeconds     = [math]::Round(([DateTime]::Now - $StartedAt).TotalSeconds, 1)
        MailboxCount        = $total
        AlreadyWorking      = $(if ($null -ne $Result -and $Result.PSObject.Properties['already_working']) { [int]$Result.already_working } else { $null })
        Failed              = $failed
        Checks              = @($Checks)
        OrganizationChanges = @($OrganizationChanges)
        Steps               = $steps
        Mailboxes           = $mailboxes.ToArray()
        Alerts              = @($Alerts)
    }
    Add-Member -InputObject $report -MemberType ScriptMethod -Name ToString -Value { $this.Summary } -Force
    $report
}
