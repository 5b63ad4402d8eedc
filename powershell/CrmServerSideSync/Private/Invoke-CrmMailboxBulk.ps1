# ShouldProcess for bulk operations, and the one bulk flow of Set-CrmMailbox, Approve-CrmMailbox,
# Deny-CrmMailbox and Enable-CrmMailbox.

function Invoke-CrmMailboxBulk {
    <#
    .SYNOPSIS
    Runs one bulk mailbox operation for a cmdlet: -WhatIf plan, batch confirmation, progress,
    cancellation, per-mailbox results and non-terminating errors.
    .DESCRIPTION
    With -WhatIf (read through the caller's $WhatIfPreference) the operation runs with
    "what_if": true: nothing is written, each mailbox that would change is reported with a
    "What if:" line naming its changes ("IncomingEmail: None -> ServerSideSync; …").
    Otherwise the batch is confirmed once (Confirm-CrmOperation) and run. Each failed mailbox is
    a non-terminating error of the calling cmdlet (TargetObject: its result; -ErrorAction Stop
    makes the first one terminating and cancels the operation). Result objects are written when
    -PassThru (or -AlwaysOutput, for Test & Enable whose results are the point).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [object] $Connection,
        [Parameter(Mandatory)] [string] $Method,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Request,
        [Parameter(Mandatory)] [string] $Step,
        [Parameter(Mandatory)] [string] $Action,
        [Parameter(Mandatory)] [string] $Activity,
        [System.Management.Automation.ConfirmImpact] $ConfirmImpact = 'Medium',
        [switch] $PassThru
    )
    $whatIf = [bool]$WhatIfPreference
    $target = Format-CrmSelection -Selection $Request['selection']
    if (-not $whatIf) {
        $go = Confirm-CrmOperation -Cmdlet $Cmdlet -Connection $Connection -Method $Method -Request $Request -Action $Action -Target $target -ConfirmImpact $ConfirmImpact -Activity $Activity
        if (-not $go) { return }
    }
    $document = [ordered]@{}
    foreach ($key in $Request.Keys) { $document[$key] = $Request[$key] }
    $document['what_if'] = $whatIf
    $summary = $null
    Invoke-CrmOperation -Cmdlet $Cmdlet -Connection $Connection -Method $Method -Request (ConvertTo-CrmRequestJson -Document $document) -Activity $Activity -Result ([ref]$summary) -TargetObject $target | ForEach-Object {
        if ($_.type -eq 'changes') {
            # Organization changes of an operation that also changes the defaults (Disable-CrmServerSideSync).
            foreach ($c in @($_.changes | Where-Object { $null -ne $_ })) {
                $line = Format-CrmChange -Change @($c)
                if ($whatIf) { [void]$Cmdlet.ShouldProcess("organization $($Connection.OrganizationName)", $line) } else { Write-Verbose "Organization: $line" }
            }
            return
        }
        if ($_.type -ne 'item') {
            Write-Debug "Ignoring event of type '$($_.type)'."
            return
        }
        $record = $null
        $result = ConvertTo-CrmMailboxResult -ItemEvent $_ -Step $Step -ErrorRecord ([ref]$record)
        $label = Get-CrmMailboxLabel -Item $result
        switch ($result.Outcome) {
            'Planned' {
                $what = $result.Changes
                if ([string]::IsNullOrEmpty($what)) { $what = $Action }
                [void]$Cmdlet.ShouldProcess($label, $what)
            }
            'Unchanged' { Write-Verbose "${label}: already as requested." }
            'Changed' { Write-Verbose "${label}: $($result.Changes)" }
            default { Write-Verbose "${label}: $($result.Outcome)" }
        }
        if ($null -ne $record) { $Cmdlet.WriteError($record) }
        if ($PassThru) { $result }
    }
    if ($null -ne $summary) {
        $counts = @(foreach ($name in @('planned', 'unchanged', 'changed', 'failed', 'scheduled', 'succeeded', 'timed_out')) {
                if ($summary.PSObject.Properties[$name] -and [int]$summary.$name -gt 0) { "$($summary.$name) $name" }
            })
        if ($counts.Count -eq 0) { $counts = @('no mailboxes matched') }
        Write-Verbose "${Action}: $($counts -join ', ')."
    }
}
