function Invoke-CrmAuthenticate {
    <#
    .SYNOPSIS
    Signs in now with a new client (crmsync_client_authenticate_start) and returns the result document.
    .DESCRIPTION
    The sign-in is an operation like any other: Invoke-CrmOperation pulls its events every 500 ms on
    the calling thread, cancels it if interrupted (Ctrl+C) and turns a failure into the calling
    cmdlet's terminating error, built from the library's error document (message and remedy).
    A "device_code" event carries the text the user must act on: it is written as a warning (shown
    by the host, -WarningVariable) and to the information stream (runbook job streams,
    transcripts, -InformationVariable), because the library itself never prints.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [CrmSync.Interop.CrmClient] $Client,
        [AllowNull()] [object] $TargetObject
    )
    $result = $null
    Invoke-CrmOperation -Cmdlet $Cmdlet -Client $Client -Method 'StartAuthenticate' -Request '{"version":1}' -Result ([ref]$result) -PollMilliseconds 500 -TargetObject $TargetObject | ForEach-Object {
        if ($_.type -eq 'device_code') {
            $message = [string]$_.message
            if ([string]::IsNullOrEmpty($message)) { $message = "To sign in, open $($_.verification_uri) and enter the code $($_.user_code)." }
            Write-Warning $message
            Write-Information -MessageData $message -Tags 'CrmSync', 'DeviceCode'
            if ($_.PSObject.Properties['expires_in'] -and $null -ne $_.expires_in) {
                Write-Verbose "Waiting for the sign-in in the browser (the code expires in $([int]$_.expires_in) s; Ctrl+C cancels)."
            }
        }
        elseif ($_.PSObject.Properties['message'] -and $_.message) {
            Write-Verbose ([string]$_.message)
        }
    }
    $result
}
