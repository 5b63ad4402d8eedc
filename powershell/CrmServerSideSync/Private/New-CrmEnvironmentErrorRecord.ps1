function New-CrmEnvironmentErrorRecord {
    <#
    .SYNOPSIS
    The non-terminating error of one environment in a multi-environment command: the library's
    error record, its text prefixed with the environment, the given TargetObject.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.ErrorRecord] $Record,
        [Parameter(Mandatory)] [string] $Environment,
        [AllowNull()] [object] $TargetObject
    )
    $failure = New-Object System.Management.Automation.ErrorRecord ($Record.Exception, $Record.FullyQualifiedErrorId, $Record.CategoryInfo.Category, $TargetObject)
    $failure.ErrorDetails = New-Object System.Management.Automation.ErrorDetails ("${Environment}: $(Get-CrmErrorText -Record $Record)")
    if ($null -ne $Record.ErrorDetails) { $failure.ErrorDetails.RecommendedAction = $Record.ErrorDetails.RecommendedAction }
    $failure
}
