function Invoke-CrmOperationSet {
    <#
    .SYNOPSIS
    Runs one native operation per environment concurrently: at most -ThrottleLimit at once, their
    events pulled in turn on this thread and handed to -OnEvent; one failing does not stop the others.
    .DESCRIPTION
    Each entry of -Operations is a hashtable with Connection, Method, Request (JSON) and State; this
    function adds Result (the result document) or Error (an ErrorRecord: the operation could not
    start, or failed). The operations run on the native library's own threads, each through its
    own connection (its own client, limits and pacer); this thread only pulls events (a short wait
    on each in turn), so nothing calls back into PowerShell from another thread, which keeps
    Windows PowerShell 5.1 working. Progress is shown per environment. Ctrl+C or a terminating
    error in -OnEvent cancels every operation still running; every handle is freed.
    Used by Invoke-CrmExchangeOnlineSetup and Get-CrmMailbox with several connections; any other
    per-environment read (for example a mailbox health listing) runs the same way.
    .PARAMETER OnEvent
    Called as & $OnEvent $entry $event for each non-progress event.
    .PARAMETER TypedItems
    Hands a bulk step's items to -OnEvent as typed batches (one call per batch).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [hashtable[]] $Operations,
        [Parameter(Mandatory)] [scriptblock] $OnEvent,
        [Parameter(Mandatory)] [string] $Activity,
        [ValidateRange(1, 64)] [int] $ThrottleLimit = 4,
        # Bulk items as typed batches (see Receive-CrmOperationEvent).
        [switch] $TypedItems
    )
    $pending = New-Object 'System.Collections.Generic.Queue[hashtable]'
    foreach ($entry in $Operations) { $pending.Enqueue($entry) }
    $running = New-Object 'System.Collections.Generic.List[hashtable]'
    $index = 0
    try {
        while ($pending.Count -gt 0 -or $running.Count -gt 0) {
            while ($running.Count -lt $ThrottleLimit -and $pending.Count -gt 0) {
                $entry = $pending.Dequeue()
                $entry['ProgressId'] = 60 + ($index++)
                Write-Verbose "$($entry.Method) on $($entry.Connection.Url): $($entry.Request)"
                try {
                    $entry['Handle'] = $entry.Connection.Client.($entry.Method)($entry.Request)
                    $running.Add($entry)
                }
                catch { $entry['Error'] = New-CrmErrorRecord -Exception $_.Exception -TargetObject $entry.Connection.Url }
            }
            foreach ($entry in @($running)) {
                $finished = $false
                # A few events per turn, then the next environment: none starves the others.
                for ($n = 0; $n -lt 50; $n++) {
                    $status = $null
                    try { $evt = Receive-CrmOperationEvent -Operation $entry.Handle -WaitMilliseconds 10 -Status ([ref]$status) -Activity "$Activity $($entry.Connection.Url)" -ProgressId $entry.ProgressId -TypedItems:$TypedItems }
                    catch { $entry['Error'] = New-CrmErrorRecord -Exception $_.Exception -TargetObject $entry.Connection.Url; $finished = $true; break }
                    if ($status -eq [CrmSync.Interop.CrmSyncStatus]::TimedOut) { break }
                    if ($status -ne [CrmSync.Interop.CrmSyncStatus]::Ok) { $finished = $true; break }
                    # One pull may give several events (the items of a batch).
                    foreach ($one in @($evt)) { if ($null -ne $one) { & $OnEvent $entry $one } }
                }
                if (-not $finished) { continue }
                if ($null -eq $entry['Error']) {
                    try { $entry['Result'] = Receive-CrmOperationResult -Operation $entry.Handle }
                    catch { $entry['Error'] = New-CrmErrorRecord -Exception $_.Exception -TargetObject $entry.Connection.Url }
                }
                $entry.Handle.Dispose()
                $entry.Remove('Handle')
                $running.Remove($entry) | Out-Null
                try { Write-Progress -Id $entry.ProgressId -Activity "$Activity $($entry.Connection.Url)" -Completed } catch { Write-Debug 'Progress could not be completed.' }
            }
        }
    }
    finally {
        foreach ($entry in $running) {
            if ($entry.ContainsKey('Handle')) {
                [void]$entry.Handle.Cancel()
                $entry.Handle.Dispose()
                $entry.Remove('Handle')
            }
        }
    }
}
