function New-CrmItemErrorRecord {
    <#
    .SYNOPSIS
    The non-terminating error for a failed item: the library's error document as a CrmSyncException
    (message verbatim, remedy as RecommendedAction), ErrorId CrmSync.<Status>[.<code>], TargetObject
    the item's result object; the displayed text names the mailbox first.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)] [object] $ErrorDocument,
        [AllowNull()] [object] $TargetObject,
        [string] $Label
    )
    # An item's error names its kind in `status` (the same names as CrmSyncStatus); the numeric
    # status_code is only on the error of a failed call.
    $status = [CrmSync.Interop.CrmSyncStatus]::Service
    if ($ErrorDocument.PSObject.Properties['status'] -and $ErrorDocument.status) {
        $name = [string]$ErrorDocument.status
        if ([System.Enum]::IsDefined([CrmSync.Interop.CrmSyncStatus], $name)) { $status = [CrmSync.Interop.CrmSyncStatus]$name }
    }
    $message = [string]$ErrorDocument.message
    if ([string]::IsNullOrEmpty($message)) { $message = 'The operation failed for this mailbox.' }
    $json = ConvertTo-Json -InputObject $ErrorDocument -Compress -Depth 4
    $exception = New-Object CrmSync.Interop.CrmSyncException ($status, $json, $message)
    $record = New-CrmErrorRecord -Exception $exception -TargetObject $TargetObject
    if (-not [string]::IsNullOrEmpty($Label) -and $null -ne $record.ErrorDetails) {
        $details = New-Object System.Management.Automation.ErrorDetails ($Label + ': ' + $record.ErrorDetails.Message)
        $details.RecommendedAction = $record.ErrorDetails.RecommendedAction
        $record.ErrorDetails = $details
    }
    $record
}
