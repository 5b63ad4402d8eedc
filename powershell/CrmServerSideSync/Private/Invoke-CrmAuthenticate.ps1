function Invoke-CrmAuthenticate {
    <#
    .SYNOPSIS
    Signs in now with a new client (crmsync_client_authenticate_start) and returns the result document.
    .DESCRIPTION
    Pulls the operation's events every 500 ms on the calling thread. A "device_code" event carries the
    text the user must act on: it is written as a warning (shown by the host, -WarningVariable) and to
    the information stream (runbook job streams, transcripts, -InformationVariable), because the
    library itself never prints. Ctrl+C (StopProcessing) ends the loop: the finally block cancels the
    sign-in and frees the operation. A failure becomes the calling cmdlet's terminating error, built
    from the library's error document (message and remedy).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [CrmSync.Interop.CrmClient] $Client,
        [AllowNull()] [object] $TargetObject
    )
    $operation = $null
    # Set once the events ended (signed in, or failed): only an interrupted sign-in is cancelled.
    $ended = $false
    try {
        try {
            $operation = $Client.StartAuthenticate('{"version":1}')
        }
        catch {
            $Cmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $TargetObject))
        }
        while ($true) {
            $eventJson = $null
            try {
                $status = $operation.NextEvent(500, [ref]$eventJson)
            }
            catch {
                $Cmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $TargetObject))
            }
            if ($status -eq [CrmSync.Interop.CrmSyncStatus]::TimedOut) { continue }
            if ($status -ne [CrmSync.Interop.CrmSyncStatus]::Ok) { break }

            $evt = $eventJson | ConvertFrom-Json
            if ($evt.type -eq 'device_code') {
                $message = [string]$evt.message
                if ([string]::IsNullOrEmpty($message)) { $message = "To sign in, open $($evt.verification_uri) and enter the code $($evt.user_code)." }
                Write-Warning $message
                Write-Information -MessageData $message -Tags 'CrmSync', 'DeviceCode'
                if ($evt.PSObject.Properties['expires_in'] -and $null -ne $evt.expires_in) {
                    Write-Verbose "Waiting for the sign-in in the browser (the code expires in $([int]$evt.expires_in) s; Ctrl+C cancels)."
                }
            }
            elseif ($evt.PSObject.Properties['message'] -and $evt.message) {
                Write-Verbose ([string]$evt.message)
            }
        }

        $ended = $true
        $resultJson = $null
        $errorJson = $null
        $final = $operation.TryResult([ref]$resultJson, [ref]$errorJson)
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ($final -eq [CrmSync.Interop.CrmSyncStatus]::StillRunning -and [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 50
            $final = $operation.TryResult([ref]$resultJson, [ref]$errorJson)
        }
        if ($final -ne [CrmSync.Interop.CrmSyncStatus]::Ok) {
            try { [void]$operation.Result() } catch { $Cmdlet.ThrowTerminatingError((New-CrmErrorRecord -Exception $_.Exception -TargetObject $TargetObject)) }
        }
        $resultJson | ConvertFrom-Json
    }
    finally {
        if ($null -ne $operation) {
            if (-not $ended) { [void]$operation.Cancel() }
            $operation.Dispose()
            if (-not $ended) {
                try { Write-Verbose 'The sign-in was cancelled.' } catch { $null = $_ }
            }
        }
    }
}
