function New-CrmErrorRecord {
    <#
    .SYNOPSIS
    Converts a failure of the native library (its error JSON) into an ErrorRecord: category from the
    status (and HTTP status), message plus remedy, ErrorId CrmSync.<Status>[.<code>], TargetObject.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)] [System.Exception] $Exception,
        [AllowNull()] [object] $TargetObject
    )

    $crm = Get-CrmSyncException -Exception $Exception
    if ($null -eq $crm) {
        return New-Object System.Management.Automation.ErrorRecord ($Exception, 'CrmSync.Unexpected', [System.Management.Automation.ErrorCategory]::NotSpecified, $TargetObject)
    }

    $info = $null
    if (-not [string]::IsNullOrEmpty($crm.ErrorJson)) {
        try { $info = $crm.ErrorJson | ConvertFrom-Json } catch { $info = $null }
    }
    $statusName = $crm.Status.ToString()
    $message = $crm.Message
    $remedy = $crm.Remedy
    $code = $crm.Code
    $httpStatus = $crm.HttpStatus
    $hint = $null
    if ($null -ne $info) {
        if ($info.PSObject.Properties['status'] -and $info.status) { $statusName = [string]$info.status }
        if ($info.PSObject.Properties['message'] -and $info.message) { $message = [string]$info.message }
        if ($info.PSObject.Properties['remedy'] -and $info.remedy) { $remedy = [string]$info.remedy }
        if ($info.PSObject.Properties['code'] -and $info.code) { $code = [string]$info.code }
        if ($info.PSObject.Properties['http_status'] -and $null -ne $info.http_status) { $httpStatus = [int]$info.http_status }
        if ($info.PSObject.Properties['hint'] -and $info.hint) { $hint = [string]$info.hint }
    }

    # By the status's name: the numbers live in the native library (and CrmSyncStatus, tested against the header).
    $category = switch ($crm.Status.ToString()) {
        'NullArgument' { 'InvalidArgument' }
        'InvalidUtf8' { 'InvalidData' }
        'InvalidJson' { 'InvalidArgument' }
        'InvalidArgument' { 'InvalidArgument' }
        'Transport' { 'ConnectionError' }
        'Authentication' { 'AuthenticationError' }
        'NotFound' { 'ObjectNotFound' }
        'TimedOut' { 'OperationTimeout' }
        'Cancelled' { 'OperationStopped' }
        'StillRunning' { 'ResourceBusy' }
        'Throttled' { 'LimitsExceeded' }
        'PermissionDenied' { 'PermissionDenied' }
        'Service' {
            switch ($httpStatus) {
                400 { 'InvalidArgument' }
                401 { 'AuthenticationError' }
                403 { 'PermissionDenied' }
                404 { 'ObjectNotFound' }
                409 { 'ResourceExists' }
                412 { 'WriteError' }
                429 { 'LimitsExceeded' }
                default { 'InvalidOperation' }
            }
        }
        default { 'NotSpecified' }
    }

    # The library's remedy is neutral; the advice in this module's terms is added here.
    $advice = Get-CrmPowerShellAdvice -Hint $hint -Status $crm.Status.ToString()
    if (-not [string]::IsNullOrEmpty($advice)) { $remedy = (([string]$remedy + ' ' + $advice).Trim()) }

    $errorId = 'CrmSync.' + $statusName
    if (-not [string]::IsNullOrEmpty($code)) { $errorId = $errorId + '.' + $code }

    $record = New-Object System.Management.Automation.ErrorRecord ($crm, $errorId, [System.Management.Automation.ErrorCategory]$category, $TargetObject)
    $text = [string]$message
    if (-not [string]::IsNullOrEmpty($remedy)) { $text = $text.TrimEnd() + ' ' + $remedy }
    $record.ErrorDetails = New-Object System.Management.Automation.ErrorDetails ($text)
    if (-not [string]::IsNullOrEmpty($remedy)) { $record.ErrorDetails.RecommendedAction = $remedy }
    $record
}
