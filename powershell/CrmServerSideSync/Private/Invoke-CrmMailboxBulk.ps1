# ShouldProcess for bulk operations, and the one bulk flow of Set-CrmMailbox, Approve-CrmMailbox,
# Deny-CrmMailbox and Enable-CrmMailbox.

function Test-CrmConfirmPrompt {
    <#
    .SYNOPSIS
    True when ShouldProcess would ask the user: -Confirm, or $ConfirmPreference at or below the
    command's ConfirmImpact. ($ConfirmPreference is read through the caller's scope, where -Confirm
    sets it.)
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory)] [System.Management.Automation.ConfirmImpact] $ConfirmImpact)
    $preference = [System.Management.Automation.ConfirmImpact]$ConfirmPreference
    if ($preference -eq [System.Management.Automation.ConfirmImpact]::None) { return $false }
    [int]$ConfirmImpact -ge [int]$preference
}

function Get-CrmMailboxLabel {
    <# .SYNOPSIS "Name <address>" of an item event or result (the ShouldProcess target). #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [object] $Item)
    $name = $null; $address = $null; $id = $null
    foreach ($p in @('name', 'Name')) { if ($Item.PSObject.Properties[$p]) { $name = [string]$Item.$p; break } }
    foreach ($p in @('email_address', 'EmailAddress')) { if ($Item.PSObject.Properties[$p]) { $address = [string]$Item.$p; break } }
    foreach ($p in @('key', 'MailboxId')) { if ($Item.PSObject.Properties[$p]) { $id = [string]$Item.$p; break } }
    $label = $name
    if ([string]::IsNullOrEmpty($label)) { $label = $id }
    if (-not [string]::IsNullOrEmpty($address)) { $label = "$label <$address>" }
    $label
}

function Confirm-CrmOperation {
    <#
    .SYNOPSIS
    ShouldProcess for one bulk operation, asked once for the whole batch. Returns $true to go on.
    .DESCRIPTION
    When the user will be asked (-Confirm, or ConfirmImpact at or above $ConfirmPreference), the
    operation is first run with "what_if": true to count the mailboxes and the changes, so the
    question says exactly what will happen ("Configure 12 mailboxes (9 will change)?"). Otherwise
    ShouldProcess is called with the selection's description (it answers $true, and logs with
    -Verbose). Not for -WhatIf: the callers run the plan themselves and report each mailbox.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [object] $Connection,
        [Parameter(Mandatory)] [string] $Method,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Request,
        [Parameter(Mandatory)] [string] $Action,
        [Parameter(Mandatory)] [string] $Target,
        [Parameter(Mandatory)] [System.Management.Automation.ConfirmImpact] $ConfirmImpact,
        [string] $Activity = 'Planning'
    )
    if (-not (Test-CrmConfirmPrompt -ConfirmImpact $ConfirmImpact)) {
        return $Cmdlet.ShouldProcess($Target, $Action)
    }
    $plan = [ordered]@{}
    foreach ($key in $Request.Keys) { $plan[$key] = $Request[$key] }
    $plan['what_if'] = $true
    $summary = $null
    $keys = @{}
    $changing = @{}
    $failing = @{}
    Invoke-CrmOperation -Cmdlet $Cmdlet -Connection $Connection -Method $Method -Request (ConvertTo-CrmRequestJson -Document $plan) -Activity "$Activity (plan)" -Result ([ref]$summary) | ForEach-Object {
        if ($_.type -eq 'item') {
            $keys[[string]$_.key] = $true
            if ($_.outcome -eq 'Planned') { $changing[[string]$_.key] = $true }
            elseif ($_.outcome -eq 'Failed') { $failing[[string]$_.key] = $true }
        }
        elseif ($_.type -eq 'changes') {
            foreach ($c in @($_.changes)) { if ($null -ne $c) { $changing['organization'] = $true } }
        }
    }
    if ($keys.Count -eq 0 -and $changing.Count -eq 0) {
        Write-Verbose "No mailboxes match ($Target): nothing to do."
        return $false
    }
    $what = "$Action $($keys.Count) mailbox(es): $($changing.Count) will change"
    if ($failing.Count -gt 0) { $what += ", $($failing.Count) cannot be changed" }
    $Cmdlet.ShouldProcess("$what ($Target).", "$what. Continue?", 'Confirm')
}

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
