function Receive-CrmOperationEvent {
    <#
    .SYNOPSIS
    The one place that pulls an event from a native operation handle: waits up to
    -WaitMilliseconds, shows a progress event (Write-CrmOperationProgress, when -Activity is
    given) and returns any other event as objects.
    .DESCRIPTION
    Invoke-CrmOperation (one operation) and Invoke-CrmOperationSet (one per environment, pulled in
    turn) both read events through this function, so an event is parsed and progress is shown the
    same way everywhere. -Status receives the pull's status (Ok, TimedOut, EndOfEvents, …);
    nothing is returned for a timeout, the end of the events or a progress event. An exception of
    the handle (a failed pull) reaches the caller, which turns it into its own error.

    The library sends a bulk step's per-mailbox items in batches (an "items" event without a
    page). With -TypedItems a batch is returned as ONE object (type "items", step, Items: typed
    CrmServerSideSync.SetupItem objects read by the interop, no ConvertFrom-Json); otherwise
    each of its items is returned as its own "item" event object, as the step sent it.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [object] $Operation,
        [Parameter(Mandatory)] [int] $WaitMilliseconds,
        [Parameter(Mandatory)] [ref] $Status,
        [string] $Activity,
        [int] $ProgressId = 41,
        [switch] $TypedItems
    )
    $eventJson = $null
    $Status.Value = $Operation.NextEvent($WaitMilliseconds, [ref]$eventJson)
    if ($Status.Value -ne [CrmSync.Interop.CrmSyncStatus]::Ok) { return }
    $header = [CrmSync.Interop.EventHeader]::Read($eventJson)
    if ($header.Type -eq 'progress') {
        if (-not [string]::IsNullOrEmpty($Activity)) { Write-CrmOperationProgress -Header $header -Activity $Activity -ProgressId $ProgressId }
        return
    }
    if (-not $header.IsItemBatch) { return ($eventJson | ConvertFrom-Json) }
    if ($TypedItems) {
        return [pscustomobject]@{ PSTypeName = 'CrmServerSideSync.SetupItemBatch'; type = 'items'; step = $header.Step; Items = [CrmServerSideSync.SetupItem]::Parse($eventJson) }
    }
    $evt = $eventJson | ConvertFrom-Json
    if ($header.Type -eq 'item') { return $evt }
    foreach ($item in @($evt.items)) {
        $item | Add-Member -NotePropertyName type -NotePropertyValue 'item' -Force
        if ($null -ne $header.Step -and -not $item.PSObject.Properties['step']) { $item | Add-Member -NotePropertyName step -NotePropertyValue $header.Step }
        $item
    }
}
