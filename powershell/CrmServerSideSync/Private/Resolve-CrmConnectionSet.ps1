function Resolve-CrmConnectionSet {
    <#
    .SYNOPSIS
    The connections of a -Connection that accepts several (one per environment): each one checked
    with Resolve-CrmConnection, or the default connection when none is given.
    .DESCRIPTION
    A closed connection, or no connection at all, is a terminating error of -Cmdlet (as
    Resolve-CrmConnection says); the connections come back in the order given.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [AllowNull()] [object[]] $Connection
    )
    $given = @($Connection | Where-Object { $null -ne $_ })
    if ($given.Count -eq 0) { return (Resolve-CrmConnection -Cmdlet $Cmdlet -Connection $null) }
    foreach ($c in $given) { Resolve-CrmConnection -Cmdlet $Cmdlet -Connection $c }
}
