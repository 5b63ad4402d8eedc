function Format-CrmAlertSummary {
    <# .SYNOPSIS Alerts as one line for tables and CSV: "Error IncomingEmailS2SApprovalNeeded: text | …". #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [object[]] $Alert)
    $parts = @(foreach ($a in @($Alert)) {
            if ($null -eq $a) { continue }
            $kind = $a.ErrorType
            if ([string]::IsNullOrEmpty($kind)) { $kind = $a.Code }
            '{0} {1}: {2}' -f $a.Level, $kind, $a.Text
        })
    $parts -join ' | '
}
