function Invoke-CrmDefaultsChange {
    <#
    .SYNOPSIS
    Changes the organization's email defaults for Set-CrmMailboxDefaults and
    Set-CrmDefaultEmailServerProfile: plan first ("what_if": true), then ShouldProcess, then apply.
    .DESCRIPTION
    The plan is always computed first (one read), so that:
    - with -WhatIf (the caller's $WhatIfPreference) each change is shown as a "What if:" line
      ("IncomingEmail: None -> ServerSideSync") and nothing is written;
    - with -Confirm the question lists every change;
    - when nothing differs, nothing is written and no question is asked.
    Returns the defaults after the change (or the current ones with -WhatIf / when declined).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [object] $Connection,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Request
    )
    $target = "organization $(Get-CrmEnvironmentName -Connection $Connection)"
    $plan = [ordered]@{}
    foreach ($key in $Request.Keys) { $plan[$key] = $Request[$key] }
    $plan['what_if'] = $true
    $planned = Invoke-CrmNativeCall -Cmdlet $Cmdlet -Connection $Connection -Method 'SetMailboxDefaults' -Request (ConvertTo-CrmRequestJson -Document $plan) -TargetObject $target
    $changes = @($planned.changes | Where-Object { $null -ne $_ })
    if ($changes.Count -eq 0) {
        Write-Verbose "The organization's defaults are already as requested: nothing to change."
        return $planned.defaults
    }
    $lines = @(foreach ($c in $changes) {
            $where = $target
            if ($c.target -eq 'emailserverprofile') { $where = "email server profile" }
            [pscustomobject]@{ Target = $where; Text = (Format-CrmChange -Change @($c)) }
        })
    if ([bool]$WhatIfPreference) {
        foreach ($line in $lines) { [void]$Cmdlet.ShouldProcess($line.Target, $line.Text) }
        return $planned.defaults
    }
    $all = ($lines | ForEach-Object { $_.Text }) -join '; '
    if (-not $Cmdlet.ShouldProcess("Change the defaults of $target`: $all.", "Change the defaults of $target`: $all. Continue?", 'Confirm')) {
        return $planned.defaults
    }
    $apply = [ordered]@{}
    foreach ($key in $Request.Keys) { $apply[$key] = $Request[$key] }
    $apply['what_if'] = $false
    $done = Invoke-CrmNativeCall -Cmdlet $Cmdlet -Connection $Connection -Method 'SetMailboxDefaults' -Request (ConvertTo-CrmRequestJson -Document $apply) -TargetObject $target
    foreach ($c in @($done.changes | Where-Object { $null -ne $_ })) { Write-Verbose ("Changed " + (Format-CrmChange -Change @($c)) + " ($($c.target)).") }
    $done.defaults
}
