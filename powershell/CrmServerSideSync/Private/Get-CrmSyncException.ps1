function Get-CrmSyncException {
    <# .SYNOPSIS Finds the CrmSyncException inside an exception chain (PowerShell wraps .NET exceptions). #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [System.Exception] $Exception)
    $ex = $Exception
    while ($null -ne $ex) {
        if ($ex -is [CrmSync.Interop.CrmSyncException]) { return $ex }
        $ex = $ex.InnerException
    }
    $null
}
