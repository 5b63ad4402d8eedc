function Resolve-CrmJournalPath {
    <#
    .SYNOPSIS
    The absolute file-system path of a -JournalPath (relative to the current PowerShell location,
    which the native library does not know), or $null when none was given.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [AllowNull()] [AllowEmptyString()] [string] $Path
    )
    if ([string]::IsNullOrWhiteSpace($Path)) { return $null }
    $Cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}
