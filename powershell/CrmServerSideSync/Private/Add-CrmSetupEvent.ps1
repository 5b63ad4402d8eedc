function Add-CrmSetupEvent {
    <#
    .SYNOPSIS
    Folds one event of the setup operation into its environment's state: readiness checks (a
    warning for a failed one), organization changes ("What if:" lines under -WhatIf), and mailbox
    items (rows; a failed item is a non-terminating error whose TargetObject is the row).
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
        'item' {
            $result = ConvertTo-CrmMailboxResult -ItemEvent $Event
            $row = Add-CrmSetupItem -Rows $State.Rows -Result $result -Alerts $State.Alerts
            if (-not [string]::IsNullOrEmpty($State.Environment)) { $row.Environment = $State.Environment }
            $label = Get-CrmMailboxLabel -Item $result
            if ($Event.PSObject.Properties['error'] -and $null -ne $Event.error) {
                $Cmdlet.WriteError((New-CrmItemErrorRecord -ErrorDocument $Event.error -TargetObject $row -Label "$prefix$label ($($result.Step))"))
            }
            elseif (-not $State.WhatIf) { Write-Verbose ("$prefix$label $($result.Step): $($result.Outcome) $($result.Changes)".TrimEnd()) }
        }
        default { Write-Debug "Ignoring event of type '$($Event.type)'." }
    }
}
