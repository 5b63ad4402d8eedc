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
    $statusCode = [int]$crm.Status
    $statusName = $crm.Status.ToString()
    $message = $crm.Message
    $remedy = $crm.Remedy
    $code = $crm.Code
    $httpStatus = $crm.HttpStatus
    if ($null -ne $info) {
        if ($info.PSObject.Properties['status'] -and $info.status) { $statusName = [string]$info.status }
        if ($info.PSObject.Properties['message'] -and $info.message) { $message = [string]$info.message }
        if ($info.PSObject.Properties['remedy'] -and $info.remedy) { $remedy = [string]$info.remedy }
        if ($info.PSObject.Properties['code'] -and $info.code) { $code = [string]$info.code }
        if ($info.PSObject.Properties['http_status'] -and $null -ne $info.http_status) { $httpStatus = [int]$info.http_status }
    }

    $category = switch ($statusCode) {
        1 { 'InvalidArgument' }
        2 { 'InvalidData' }
        3 { 'InvalidArgument' }
        4 { 'InvalidArgument' }
        6 { 'ConnectionError' }
        7 { 'AuthenticationError' }
        9 { 'ObjectNotFound' }
        10 { 'OperationTimeout' }
        11 { 'OperationStopped' }
        12 { 'ResourceBusy' }
        14 { 'LimitsExceeded' }
        16 { 'PermissionDenied' }
        default { 'NotSpecified' }
    }
    if ($statusCode -eq 8) {
        $category = switch ($httpStatus) {
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

    if ($statusCode -eq 7 -and ([string]$remedy) -notmatch 'Connect-CrmOnline') {
        $remedy = (([string]$remedy + ' Reconnect with Connect-CrmOnline using valid credentials.').Trim())
    }

    $errorId = 'CrmSync.' + $statusName
    if (-not [string]::IsNullOrEmpty($code)) { $errorId = $errorId + '.' + $code }

    $record = New-Object System.Management.Automation.ErrorRecord ($crm, $errorId, [System.Management.Automation.ErrorCategory]$category, $TargetObject)
    $text = [string]$message
    if (-not [string]::IsNullOrEmpty($remedy)) { $text = $text.TrimEnd() + ' ' + $remedy }
    $record.ErrorDetails = New-Object System.Management.Automation.ErrorDetails ($text)
    if (-not [string]::IsNullOrEmpty($remedy)) { $record.ErrorDetails.RecommendedAction = $remedy }
    $record
}
