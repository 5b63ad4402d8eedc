function Get-CrmForeignOwnedAddress {
    <#
    .SYNOPSIS
    The addresses (from Get-CrmAddressOwner) that -Environment has a mailbox for and an
    environment other than -Environment owns: Test & Enable for them in -Environment would take
    their synchronization away from the owner.
    #>
    [CmdletBinding()]
    [OutputType([object[]])]
    param(
        [Parameter(Mandatory)] [hashtable] $Owners,
        [Parameter(Mandatory)] [string] $Environment
    )
    @(foreach ($entry in $Owners.Values) {
            if (-not ($entry.Present -contains $Environment)) { continue }
            $others = @($entry.Owners | Where-Object { $_ -ne $Environment } | Select-Object -Unique)
            if ($others.Count -gt 0) { [pscustomobject]@{ EmailAddress = $entry.EmailAddress; OwnedBy = ($others -join ', ') } }
        })
}
