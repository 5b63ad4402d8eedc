function Add-CrmSetupEvent {
    <#
    .SYNOPSIS
    Folds one event of the setup operation into its environment's state: readiness checks (a
    warning for a failed one), organization changes ("What if:" lines under -WhatIf), and batches
    of mailbox items (typed, from Receive-CrmOperationEvent -TypedItems: rows; a failed item is a
    non-terminating error whose TargetObject is the row).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [hashtable] $State,
        [Parameter(Mandatory)] [object] $Event
    )
    $prefix = ''
    if (-not [string]::IsNullOrEmpty($State.Environment)) { $prefix = "$($State.Environment): " }
    switch ([string]$Event.type) {
        'refused' {
            # A mailbox left out because another environment of the run owns its address.
            $State.Refused.Add([string]$Event.email_address)
            Write-Warning "${prefix}Test & Enable refused for $($Event.email_address), synchronized by $(@($Event.owned_by) -join ', '); the mailbox is left out of this environment's setup (-Force sets it up anyway)."
        }
        'check' {
            $check = ConvertTo-CrmReadinessCheck -Check $Event
            $State.Checks.Add($check)
            if ($check.Status -eq 'Warning') { Write-Verbose "${prefix}Readiness check $($check.Check) (Warning): $($check.Message)" }
            if ($check.Status -eq 'Fail') { Write-Warning ("${prefix}Readiness check $($check.Check) ($($check.Status)): $($check.Message) $($check.Remedy)".TrimEnd()) }
        }
        'changes' {
            foreach ($c in @($Event.changes | Where-Object { $null -ne $_ })) {
                $change = [pscustomobject][ordered]@{
                    PSTypeName = 'CrmServerSideSync.OrganizationChange'
                    Target     = [string]$c.target
                    Field      = [string]$c.field
                    From       = Format-CrmValue $c.from
                    To         = Format-CrmValue $c.to
                }
                $State.OrgChanges.Add($change)
                $line = Format-CrmChange -Change @($c)
                if ($State.WhatIf) { [void]$Cmdlet.ShouldProcess("$($change.Target) $($State.Connection.OrganizationName)", $line) }
                else { Write-Verbose "${prefix}Organization: $line" }
            }
        }
        'items' {
            # A typed batch (Receive-CrmOperationEvent -TypedItems): the interop folds it into
            # the rows; only failed items and warning or error alerts come back to be handled here.
            $attention = [CrmServerSideSync.SetupMailbox]::Fold($State.Rows, $Event.Items, $State.Environment)
            foreach ($item in $attention) {
                $row = $item.Row
                if ($item.AlertJson.Length -gt 0) {
                    $mine = @($item.AlertJson | ForEach-Object { $_ | ConvertFrom-Json } | ConvertTo-CrmAlert)
                    $row.AlertCount = $row.AlertCount + $mine.Count
                    $row.AlertSummary = [CrmServerSideSync.SetupMailbox]::Join($row.AlertSummary, ' | ', (Format-CrmAlertSummary -Alert $mine))
                    foreach ($a in $mine) { $State.Alerts.Add($a) }
                }
                if ($null -ne $item.ErrorJson) {
                    $Cmdlet.WriteError((New-CrmItemErrorRecord -ErrorDocument ($item.ErrorJson | ConvertFrom-Json) -TargetObject $row -Label "$prefix$(Get-CrmMailboxLabel -Item $item) ($($item.Step))"))
                }
            }
            # One message per mailbox only when someone listens (-Verbose): 150,000 calls cost seconds.
            if (-not $State.WhatIf -and $VerbosePreference -ne [System.Management.Automation.ActionPreference]::SilentlyContinue) {
                foreach ($item in $Event.Items) {
                    if ($null -eq $item.ErrorJson) { Write-Verbose ("$prefix$(Get-CrmMailboxLabel -Item $item) $($item.Step): $($item.Outcome) $($item.Changes)".TrimEnd()) }
                }
            }
        }
        default { Write-Debug "Ignoring event of type '$($Event.type)'." }
    }
}
