function Resolve-CrmOwnershipRefusal {
    <#
    .SYNOPSIS
    The readiness check of Enable-CrmMailbox -OtherEnvironment: the selection (as the ids it lists)
    without the mailboxes whose address another given environment owns (a non-terminating error for each), or, with
    -Force, the selection unchanged (a warning for each).
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.IDictionary])]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [object] $Connection,
        [Parameter(Mandatory)] [object[]] $Others,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Selection,
        [switch] $Force
    )
    $environment = Get-CrmEnvironmentName -Connection $Connection
    $owners = Get-CrmAddressOwner -Cmdlet $Cmdlet -Connections (@($Connection) + @($Others))
    $foreign = @(Get-CrmForeignOwnedAddress -Owners $owners -Environment $environment)
    if ($foreign.Count -eq 0) { return $Selection }
    # Only the selected mailboxes matter: list the selection once.
    $query = [ordered]@{}
    foreach ($key in $Selection.Keys) { $query[$key] = $Selection[$key] }
    $query['active_only'] = $true
    $selected = @{}
    $summary = $null
    Invoke-CrmOperation -Cmdlet $Cmdlet -Connection $Connection -Method 'StartMailboxList' -Request (ConvertTo-CrmRequestJson -Document $query) -Activity 'Checking mailbox ownership' -Result ([ref]$summary) | ForEach-Object {
        if ($_.type -eq 'items') { foreach ($m in @($_.items)) { $selected[[string]$m.mailbox_id] = ([string]$m.email_address).ToLowerInvariant() } }
    }
    $foreignAddresses = @{}
    foreach ($f in $foreign) { $foreignAddresses[$f.EmailAddress.ToLowerInvariant()] = $true }
    $refused = @($foreign | Where-Object { $selected.Values -contains $_.EmailAddress.ToLowerInvariant() })
    foreach ($r in $refused) {
        $text = "$($r.EmailAddress) is synchronized by $($r.OwnedBy): Test & Enable in $environment would turn its synchronization off there."
        if ($Force) { Write-Warning "$text Going on (-Force)." ; continue }
        $record = New-Object System.Management.Automation.ErrorRecord (
            (New-Object System.InvalidOperationException ("Test & Enable refused: $text")), 'CrmSync.OwnedByAnotherEnvironment', [System.Management.Automation.ErrorCategory]::ResourceExists, $r)
        $record.ErrorDetails = New-Object System.Management.Automation.ErrorDetails ("Test & Enable refused: $text")
        $record.ErrorDetails.RecommendedAction = 'Set the mailbox to None in the environment that should not synchronize it (Disable-CrmServerSideSync), or run again with -Force.'
        $Cmdlet.WriteError($record)
    }
    if ($Force -or $refused.Count -eq 0) { return $Selection }
    # The selection becomes the ids listed above without the refused ones: no address list in
    # the URL (the native side reads ids 50 to a query, or matches many against one read).
    $kept = @($selected.Keys | Where-Object { -not $foreignAddresses.ContainsKey($selected[$_]) })
    [ordered]@{ mailbox_ids = $kept; active_only = $true }
}
