# Aggregating the events of the setup operation (crmsync_setup_start) into the report of
# Invoke-CrmExchangeOnlineSetup: one row per mailbox with flat, scalar columns (Export-Csv), the
# readiness checks, the organization's changes, the step counts and a one-line summary.

$script:SetupMailboxSteps = @('MailboxSettings', 'ApproveEmail', 'TestAndEnable')

function Add-CrmSetupItem {
    <#
    .SYNOPSIS
    Folds one item result (from ConvertTo-CrmMailboxResult) into its mailbox row; returns the row.
    .DESCRIPTION
    Rows are CrmServerSideSync.SetupMailbox objects (a compiled type: a report holds one per
    mailbox, and 50,000 PSCustomObject rows would cost the process about 180 MB).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Collections.Generic.Dictionary[string, CrmServerSideSync.SetupMailbox]] $Rows,
        [Parameter(Mandatory)] [object] $Result,
        [System.Collections.Generic.List[object]] $Alerts
    )
    $row = $null
    if (-not $Rows.TryGetValue([string]$Result.MailboxId, [ref]$row)) {
        $row = New-Object CrmServerSideSync.SetupMailbox ([string]$Result.MailboxId, [string]$Result.Name, [string]$Result.EmailAddress, [string]$Result.OwnerType)
        $Rows[[string]$Result.MailboxId] = $row
    }
    if ($script:SetupMailboxSteps -contains $Result.Step) { $row.($Result.Step) = $Result.Outcome }
    $row.AddChanges([string]$Result.Step, [string]$Result.Changes)
    if (-not [string]::IsNullOrEmpty($Result.Error)) { $row.Error = [CrmServerSideSync.SetupMailbox]::Join($row.Error, ' | ', "$($Result.Step): $($Result.Error)") }
    if ($Result.Step -eq 'TestAndEnable') {
        foreach ($column in @('IncomingEmailStatus', 'OutgoingEmailStatus', 'ActStatus', 'MailboxStatus', 'TestCompletedOn')) {
            if ($null -ne $Result.$column) { $row.$column = $Result.$column }
        }
        # Every successful test leaves an Information alert: the row and the report keep what needs
        # attention (warnings and errors), so 50,000 successes add nothing; Get-CrmMailboxAlert has all.
        $mine = @($Result.Alerts | Where-Object { $null -ne $_ -and $_.Level -ne 'Information' })
        if ($mine.Count -gt 0) {
            $row.AlertCount = $row.AlertCount + $mine.Count
            $row.AlertSummary = [CrmServerSideSync.SetupMailbox]::Join($row.AlertSummary, ' | ', (Format-CrmAlertSummary -Alert $mine))
            if ($null -ne $Alerts) { foreach ($a in $mine) { $Alerts.Add($a) } }
        }
    }
    $row
}
