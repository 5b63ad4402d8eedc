function Format-CrmValue {
    <# .SYNOPSIS A value from a change ("from"/"to") as display text: null -> (none). #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [object] $Value)
    # One wording with the interop's typed items (SetupItem.FormatValue).
    [CrmServerSideSync.SetupItem]::FormatValue([string]$Value)
}
