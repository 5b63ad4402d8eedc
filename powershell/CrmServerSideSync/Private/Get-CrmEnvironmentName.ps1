function Get-CrmEnvironmentName {
    <#
    .SYNOPSIS
    How an environment is named on result rows, reports and errors: "<organization> (<URL>)".
    One definition, so that the Environment of a row, of a summary and of an error always match.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [object] $Connection)
    "$($Connection.OrganizationName) ($($Connection.Url))"
}
