function Receive-CrmOperationEvent {
    <#
    .SYNOPSIS
    The one place that pulls an event from a native operation handle: waits up to
    -WaitMilliseconds, shows a progress event with Write-Progress (when -Activity is given) and
    returns any other event as an object.
    .DESCRIPTION
    Invoke-CrmOperation (one operation) and Invoke-CrmOperationSet (one per environment, pulled in
    turn) both read events through this function, so an event is parsed and progress is shown the
    same way everywhere. -Status receives the pull's status (Ok, TimedOut, EndOfEvents, …);
    nothing is returned for a timeout, the end of the events or a progress event. An exception of
    the handle (a failed pull) reaches the caller, which turns it into its own error.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [object] $Operation,
        [Parameter(Mandatory)] [int] $WaitMilliseconds,
        [Parameter(Mandatory)] [ref] $Status,
        [string] $Activity,
        [int] $ProgressId = 41
    )
    $eventJson = $null
    $Status.Value = $Operation.NextEvent($WaitMilliseconds, [ref]$eventJson)
    if ($Status.Value -ne [CrmSync.Interop.CrmSyncStatus]::Ok) { return }
    $evt = $eventJson | ConvertFrom-Json
    if ($evt.type -ne 'progress') { return $evt }
    if ([string]::IsNullOrEmpty($Activity)) { return }
    $message = [string]$evt.message
    if ([string]::IsNullOrEmpty($message)) { $message = "$($evt.done) done" }
    if ($evt.PSObject.Properties['step'] -and $evt.step) { $message = "$($evt.step): $message" }
    $percent = -1
    if ($evt.PSObject.Properties['total'] -and $evt.total -gt 0) {
        $percent = [int][math]::Min(100, [math]::Floor(100 * [double]$evt.done / [double]$evt.total))
    }
    Write-Progress -Id $ProgressId -Activity $Activity -Status $message -PercentComplete $percent
}
