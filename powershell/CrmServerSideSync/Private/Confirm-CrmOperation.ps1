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
