# Aggregating the events of the setup operation (crmsync_setup_start) into the report of
# Invoke-CrmExchangeOnlineSetup: one row per mailbox with flat, scalar columns (Export-Csv), the
# readiness checks, the organization's changes, the step counts and a one-line summary.

$script:SetupMailboxSteps = @('MailboxSettings', 'ApproveEmail', 'TestAndEnable')

function New-CrmSetupRow {
    <# .SYNOPSIS A new, empty mailbox row of the setup report (every column present, scalars only). #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Result)
    [pscustomobject][ordered]@{
        PSTypeName          = 'CrmServerSideSync.SetupMailbox'
        MailboxId           = $Result.MailboxId
        Name                = $Result.Name
        EmailAddress        = $Result.EmailAddress
        OwnerType           = $Result.OwnerType
        Result              = $null
        MailboxSettings     = 'NotRun'
        ApproveEmail        = 'NotRun'
        TestAndEnable       = 'NotRun'
        Changes             = ''
        IncomingEmailStatus = $null
        OutgoingEmailStatus = $null
        ActStatus           = $null
        MailboxStatus       = $null
        TestCompletedOn     = $null
        AlertCount          = 0
        AlertSummary        = ''
        Error               = ''
    }
}

function Add-CrmSetupItem {
    <#
    .SYNOPSIS
    Folds one item result (from ConvertTo-CrmMailboxResult) into its mailbox row; returns the row.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Rows,
        [Parameter(Mandatory)] [object] $Result,
        [System.Collections.Generic.List[object]] $Alerts
    )
    $row = $Rows[$Result.MailboxId]
    if ($null -eq $row) {
        $row = New-CrmSetupRow -Result $Result
        $Rows[$Result.MailboxId] = $row
    }
    if ($script:SetupMailboxSteps -contains $Result.Step) { $row.($Result.Step) = $Result.Outcome }
    if (-not [string]::IsNullOrEmpty($Result.Changes)) {
        if ([string]::IsNullOrEmpty($row.Changes)) { $row.Changes = $Result.Changes } else { $row.Changes = $row.Changes + '; ' + $Result.Changes }
    }
    if (-not [string]::IsNullOrEmpty($Result.Error)) {
        $text = "$($Result.Step): $($Result.Error)"
        if ([string]::IsNullOrEmpty($row.Error)) { $row.Error = $text } else { $row.Error = $row.Error + ' | ' + $text }
    }
    if ($Result.Step -eq 'TestAndEnable') {
        foreach ($column in @('IncomingEmailStatus', 'OutgoingEmailStatus', 'ActStatus', 'MailboxStatus', 'TestCompletedOn')) {
            if ($null -ne $Result.$column) { $row.$column = $Result.$column }
        }
        $mine = @($Result.Alerts | Where-Object { $null -ne $_ })
        if ($mine.Count -gt 0) {
            $row.AlertCount = $row.AlertCount + $mine.Count
            $summary = Format-CrmAlertSummary -Alert $mine
            if ([string]::IsNullOrEmpty($row.AlertSummary)) { $row.AlertSummary = $summary } else { $row.AlertSummary = $row.AlertSummary + ' | ' + $summary }
            if ($null -ne $Alerts) { foreach ($a in $mine) { $Alerts.Add($a) } }
        }
    }
    $row
}

function Complete-CrmSetupReport {
    <#
    .SYNOPSIS
    Builds the CrmServerSideSync.SetupReport from the aggregated rows and the operation's result document.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Rows,
        [AllowNull()] [object] $Result,
        [Parameter(Mandatory)] [bool] $WhatIf,
        [object[]] $Checks = @(),
        [object[]] $OrganizationChanges = @(),
        [object[]] $Alerts = @(),
        [object] $Connection,
        [DateTime] $StartedAt
    )
    $mailboxes = @($Rows.Values | Sort-Object -Property Name, MailboxId)
    $tested = @($mailboxes | Where-Object { $_.TestAndEnable -ne 'NotRun' }).Count
    foreach ($row in $mailboxes) {
        # Test & Enable runs only for mailboxes that are not already working: the others are unchanged.
        if ($row.TestAndEnable -eq 'NotRun') { $row.TestAndEnable = 'Unchanged' }
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
    }

    $steps = @(foreach ($s in @($Result.steps | Where-Object { $null -ne $_ })) {
            $count = { param($name) if ($s.PSObject.Properties[$name] -and $null -ne $s.$name) { [int]$s.$name } else { 0 } }
            $unchanged = & $count 'unchanged'
            if ($s.step -eq 'TestAndEnable' -and $tested -gt 0) { $unchanged += @($mailboxes | Where-Object { $_.TestAndEnable -eq 'Unchanged' }).Count }
            [pscustomobject][ordered]@{
                PSTypeName = 'CrmServerSideSync.SetupStep'
                Step       = [string]$s.step
                Planned    = & $count 'planned'
                Changed    = & $count 'changed'
                Unchanged  = $unchanged
                Failed     = & $count 'failed'
                Scheduled  = & $count 'scheduled'
                Succeeded  = & $count 'succeeded'
                TimedOut   = & $count 'timed_out'
            }
        })

    $total = $mailboxes.Count
    if ($null -ne $Result -and $Result.PSObject.Properties['mailboxes']) { $total = [int]$Result.mailboxes }
    $failed = @($mailboxes | Where-Object { $_.Result -eq 'Failed' }).Count
    $timedOut = @($mailboxes | Where-Object { $_.Result -eq 'TimedOut' }).Count
    $orgChanges = @($OrganizationChanges).Count
    if ($WhatIf) {
        $willChange = @($mailboxes | Where-Object { $_.Result -eq 'WillChange' }).Count
        $summary = "What if: $total mailbox(es) selected, $willChange would change"
        if ($failed -gt 0) { $summary += ", $failed would fail" }
        $summary += "; organization defaults: $orgChanges change(s). Nothing was written."
    }
    else {
        $working = @($mailboxes | Where-Object { $_.Result -eq 'Working' -or $_.Result -eq 'AlreadyWorking' }).Count
        $already = @($mailboxes | Where-Object { $_.Result -eq 'AlreadyWorking' }).Count
        $scheduled = @($mailboxes | Where-Object { $_.Result -eq 'Scheduled' }).Count
        $changedRows = @($mailboxes | Where-Object { $_.MailboxSettings -eq 'Changed' -or $_.ApproveEmail -eq 'Changed' }).Count
        $summary = "$total mailbox(es): $working working ($already already), $changedRows changed"
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
        Mailboxes           = $mailboxes
        Alerts              = @($Alerts)
    }
    Add-Member -InputObject $report -MemberType ScriptMethod -Name ToString -Value { $this.Summary } -Force
    $report
}
