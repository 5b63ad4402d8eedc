function Invoke-CrmOperation {
    <#
    .SYNOPSIS
    Runs one long native operation: starts it, writes its events to the pipeline as they arrive
    (progress events become Write-Progress instead), and stores its result document in -Result.
    .DESCRIPTION
    Runs one operation to its end, pulling its events with Receive-CrmOperationEvent (the bulk cmdlets, the
    setup, Get-CrmMailbox and the sign-in of Connect-CrmOnline all go through it). Consumers pipe
    it into ForEach-Object (in their own scope) and handle "item", "items", "check", "changes" and
    "device_code" events; "progress" events are shown with Write-Progress (prefixed by the event's
    step, if any) when an -Activity is given.

    Cancellation: the finally block cancels the native operation whenever it did not finish:
    Ctrl+C (StopProcessing), a downstream Select-Object -First, or a terminating error in a
    consumer (for example an item error under -ErrorAction Stop). The handle is always freed.

    Failures to start, to read events or of the operation itself are terminating errors of the
    calling cmdlet (-Cmdlet), built from the library's error document.
    .PARAMETER Connection
    The connection (Connect-CrmOnline's object) whose client starts the operation.
    .PARAMETER Client
    A client that is not a connection yet (Connect-CrmOnline signing in).
    .PARAMETER Method
    The CrmClient method that starts the operation, for example StartMailboxConfigure.
    .PARAMETER Activity
    The Write-Progress activity; without it no progress is shown.
    .PARAMETER PollMilliseconds
    How long one wait for the next event lasts (Ctrl+C is noticed between waits).
    .PARAMETER TypedItems
    Hands a bulk step's items on as typed batches (one object per batch) instead of one "item" object each.
    .PARAMETER Result
    Receives the operation's result document (as an object) when it finished.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Connection')]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory, ParameterSetName = 'Connection')] [object] $Connection,
        [Parameter(Mandatory, ParameterSetName = 'Client')] [CrmSync.Interop.CrmClient] $Client,
        [Parameter(Mandatory)] [string] $Method,
        [Parameter(Mandatory)] [string] $Request,
        [string] $Activity,
        [Parameter(Mandatory)] [ref] $Result,
        [int] $ProgressId = 41,
        [ValidateRange(10, 10000)] [int] $PollMilliseconds = 250,
        [AllowNull()] [object] $TargetObject,
        # Bulk items as typed batches (see Receive-CrmOperationEvent): the setup folds them in the interop.
        [switch] $TypedItems
    )

    $where = $TargetObject
    if ($PSCmdlet.ParameterSetName -eq 'Connection') {
        $Client = $Connection.Client
        $where = $Connection.Url
        if ($null -eq $TargetObject) { $TargetObject = $Connection.Url }
    }
    $showProgress = -not [string]::IsNullOrEmpty($Activity)
    Write-Verbose "$Method on $($where): $Request"
    $operation = $null
    $finished = $false
    try {
        try {
            $operation = $Client.$Method($Request)
        }
        catch {
            $Cmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $TargetObject))
        }
        if ($showProgress) { Write-Progress -Id $ProgressId -Activity $Activity -Status 'Starting' }
        while ($true) {
            $status = $null
            try {
                $evt = Receive-CrmOperationEvent -Operation $operation -WaitMilliseconds $PollMilliseconds -Status ([ref]$status) -Activity $Activity -ProgressId $ProgressId -TypedItems:$TypedItems
            }
            catch {
                $Cmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $TargetObject))
            }
            if ($status -eq [CrmSync.Interop.CrmSyncStatus]::TimedOut) { continue }
            if ($status -ne [CrmSync.Interop.CrmSyncStatus]::Ok) { break }
            if ($null -eq $evt) { continue }
            # Events stream out one by one: a stopped pipeline stops (and cancels) here.
            $evt
        }

        try { $resultDocument = Receive-CrmOperationResult -Operation $operation }
        catch { $Cmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $TargetObject)) }
        $finished = $true
        $Result.Value = $resultDocument
    }
    finally {
        if ($null -ne $operation) {
            if (-not $finished) { [void]$operation.Cancel() }
            $operation.Dispose()
            if (-not $finished) {
                try { Write-Verbose "Cancelled $Method (the command did not run to completion)." } catch { $null = $_ }
            }
        }
        if ($showProgress) {
            try { Write-Progress -Id $ProgressId -Activity $Activity -Completed } catch { Write-Debug 'Progress could not be completed (pipeline stopped).' }
        }
    }
}
