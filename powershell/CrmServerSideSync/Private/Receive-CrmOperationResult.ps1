function Receive-CrmOperationResult {
    <#
    .SYNOPSIS
    The result document (as an object) of a native operation whose events have ended.
    .DESCRIPTION
    The operation may still be finishing when its last event has been read: its result is asked
    for again for up to 60 seconds. A failed operation throws its error (a CrmSyncException from
    the handle); the caller turns it into its own error record. Invoke-CrmOperation and
    Invoke-CrmOperationSet both end an operation through this function.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Operation)
    $resultJson = $null
    $errorJson = $null
    $final = $Operation.TryResult([ref]$resultJson, [ref]$errorJson)
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while ($final -eq [CrmSync.Interop.CrmSyncStatus]::StillRunning -and [DateTime]::UtcNow -lt $deadline) {
        Start-Sleep -Milliseconds 20
        $final = $Operation.TryResult([ref]$resultJson, [ref]$errorJson)
    }
    if ($final -ne [CrmSync.Interop.CrmSyncStatus]::Ok) { $resultJson = $Operation.Result() }
    $resultJson | ConvertFrom-Json
}
